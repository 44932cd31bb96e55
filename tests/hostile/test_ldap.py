"""Password values in an LDIF export, however they are spelled, never reach a stored payload.

The ldap connector keeps each file as evidence; a file that holds ``userPassword`` (or
``authPassword``) values is kept with each value replaced by a marker saying only whether it
can match (``{REDACTED}`` or ``{REDACTED}!``), so the status judged from it replays alike.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest

from assay.connectors import ldap
from assay.connectors.base import Collected, ConnectorConfig
from assay.connectors.ldap import LdapConnector
from assay.errors import InputError
from assay.inventory.records import AccountStatus

HASH = "{SSHA}aGFzaC1vZi1hLXNlY3JldC1wYXNzd29yZA=="
LOCKED = "{CRYPT}!$6$salt$locked-hash-value"
SECRETS = (
    b"aGFzaC1vZi1h",
    b"locked-hash-value",
    b"cleartext-secret",
    b"auth-secret",
    b"oid-secret",
)


def entry(uid: str, *lines: str) -> str:
    return "\n".join(
        [
            f"dn: uid={uid},ou=people,dc=example,dc=org",
            "objectClass: inetOrgPerson",
            f"uid: {uid}",
            f"cn: {uid}",
            f"sn: {uid}",
            *lines,
        ]
    )


AWKWARD = "\n\n".join(
    [
        "version: 1",
        "# userPassword: a comment that only looks like a value\n  and folds",
        entry("folded", f"userPassword: {HASH[:20]}\n {HASH[20:]}"),
        entry("encoded", f"userPassword:: {base64.b64encode(LOCKED.encode()).decode()}"),
        entry("optioned", "userPassword;x-tag: cleartext-secret", "authPassword: SHA$auth-secret"),
        entry("by-oid", "2.5.4.35: oid-secret"),
        entry("split-name", "userPass\n word: cleartext-secret"),
    ]
)


def collect(tmp_path: Path, data: bytes) -> tuple[ConnectorConfig, Collected]:
    (tmp_path / "directory.ldif").write_bytes(data)
    config = ConnectorConfig("dir", "export", {"path": "directory.ldif"}, {}, tmp_path)
    return config, LdapConnector().collect(config)


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode(),
        lambda text: text.replace("\n", "\r\n").encode(),
        lambda text: text.replace("\n", "\r\n").encode("utf-16"),  # ldifde -u
    ],
    ids=["lf", "crlf", "utf-16"],
)
def test_password_values_are_replaced_however_they_are_written(
    tmp_path: Path, encode: Callable[[str], bytes]
) -> None:
    config, collected = collect(tmp_path, encode(AWKWARD))
    stored = collected.payloads[0].data
    assert not [secret for secret in SECRETS if secret in stored]
    assert collected.parameters["password_values_redacted"] == 6
    assert b"a comment that only looks like a value" in stored  # comments are left alone
    statuses = {a.username: a.status for a in collected.records.accounts}
    assert statuses == {
        "folded": AccountStatus.ACTIVE,
        "encoded": AccountStatus.INACTIVE,  # the lock inside the base64 is seen, then dropped
        "optioned": AccountStatus.ACTIVE,
        "by-oid": AccountStatus.UNKNOWN,  # userPassword named by its OID is not read, only hidden
        "split-name": AccountStatus.ACTIVE,
    }
    assert ldap.parse(collected.payloads, config) == collected.records


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("userPassword:: not*base64", "userPassword: invalid base64 value"),
        ("userPassword:< file:///etc/shadow", "values given by URL"),
    ],
)
def test_a_malformed_password_value_is_refused_without_echoing_it(
    tmp_path: Path, line: str, problem: str
) -> None:
    with pytest.raises(InputError) as caught:
        collect(tmp_path, entry("bad", line).encode())
    assert caught.value.where == f"{tmp_path / 'directory.ldif'}:6"
    assert problem in caught.value.problem
    assert "not*base64" not in str(caught.value) and "shadow" not in str(caught.value)
