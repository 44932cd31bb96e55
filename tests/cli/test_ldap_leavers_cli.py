"""A leaver's OpenLDAP account, judged end to end: ``assay run`` on the sample organisation with
an OpenLDAP directory added (an ``ldapsearch`` export), then ``assay findings``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay.cli import main

Capture = pytest.CaptureFixture[str]
pytestmark = [pytest.mark.db, pytest.mark.django_db]

SYSTEM = """\
  - id: directory
    name: Staff directory
    kind: idp
    owner: yara.salem@acme.example
    in_scope: true
    reason: Engineers sign in to internal tools with their directory password
    customer_data: false
    connector: {type: ldap, mode: export, settings: {path: exports/ldap}}
"""


def person(uid: str, *extra: str) -> str:
    first, last = uid.split(".")
    lines = [
        f"dn: uid={uid},ou=people,dc=acme,dc=example",
        "objectClass: inetOrgPerson",
        f"uid: {uid}",
        f"cn: {first.title()} {last.title()}",
        f"sn: {last.title()}",
        f"mail: {uid}@acme.example",
        *extra,
    ]
    return "\n".join(lines) + "\n"


def test_a_leaver_who_can_still_bind_to_openldap_is_a_finding(
    sample: Path, capsys: Capture
) -> None:
    """HR has Noah, Selin, Arjun and Tariq gone. Noah holds a password (on the password-holders
    list) and Selin one in her entry: both can still bind, so both are findings. Arjun's hash is
    locked, and Tariq holds no password at all (he may bind by SASL): neither is a finding."""
    programme = sample / "assay.yaml"
    text = programme.read_text()
    programme.write_text(text.replace("systems:\n", "systems:\n" + SYSTEM, 1))
    export = sample / "exports" / "ldap"
    export.mkdir()
    entries = [
        person("dana.reyes", "userPassword: {SSHA}ZGFuYS1oYXNoLWRhbmEtaGFzaA=="),
        person("noah.mensah"),
        person("selin.yilmaz", "userPassword: {SSHA}c2VsaW4taGFzaC1zZWxpbi1oYXNo"),
        person("arjun.iyer", "userPassword: {CRYPT}!$6$salt$arjunlockedhash"),
        person("tariq.aziz"),
    ]
    (export / "directory.ldif").write_text("\n".join(entries))
    (export / "password-holders.ldif").write_text(
        "dn: uid=dana.reyes,ou=people,dc=acme,dc=example\n\n"
        "dn: uid=noah.mensah,ou=people,dc=acme,dc=example\n"
    )
    assert main(["run", "--file", str(programme)]) == 0
    capsys.readouterr()
    assert main(["findings", "--file", str(programme), "--format", "json"]) == 0
    findings = json.loads(capsys.readouterr().out)["findings"]
    leavers = {
        f["subject"]
        for f in findings
        if f["system"] == "directory"
        and (f["check"], f["rule"]) == ("leaver_access", "leaver_active_account")
    }
    assert leavers == {"noah.mensah", "selin.yilmaz"}
