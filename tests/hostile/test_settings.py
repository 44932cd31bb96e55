"""Hostile connector settings: credentials in URLs or in settings, secrets sent in clear, keys
no connector reads, and list settings that must work from a real programme file.

The programme-level cases run the ``assay`` command as a user would, in a subprocess, on a
copy of the sample organisation whose systems are pointed at local vendor servers.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.connectors.okta_server import TOKEN, OktaServer

from assay.cli import main
from assay.connectors._http import ApiClient
from assay.connectors.aws_iam import AwsIamConnector
from assay.connectors.base import ConnectorConfig
from assay.connectors.git import GitConnector
from assay.connectors.hr_csv import HrCsvConnector
from assay.connectors.ldap import LdapConnector
from assay.connectors.okta import OktaConnector
from assay.errors import InputError
from assay.evidence.models import EvidenceItem
from assay.evidence.service import open_locker
from assay.programme import load

PASSWORD = "hunter2-in-the-url"
LITERAL = "sk_live_literal_secret_0123"
OKTA_EXPORT = "connector: {type: okta, mode: export, settings: {path: exports/okta}}"
HR_EXPORT = "connector: {type: hr_csv, mode: export, settings: {path: exports/hr/roster.csv}}"
GITHUB_EXPORT = (
    "connector: {type: github, mode: export, settings: {path: exports/github, org: acme}}"
)


@pytest.fixture
def okta() -> Iterator[OktaServer]:
    with OktaServer([], {}, [], {}) as running:
        yield running


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: connections to it are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _programme(sample: Path, old: str, new: str) -> tuple[Path, int]:
    """The sample's programme file with one connector line replaced, and that line's number."""
    path = sample / "assay.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return path, text[: text.index(old)].count("\n") + 1


def _assay(sample: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in {"ASSAY_DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    environment |= {"ASSAY_SQLITE_PATH": str(sample / ".assay" / "assay.sqlite3"), **env}
    code = "import sys; from assay.cli import main; sys.exit(main())"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _nothing_holds(sample: Path, secret: str) -> None:
    """No file Assay wrote (database, locker, reports) holds ``secret``."""
    for file in (sample / ".assay").rglob("*"):
        if file.is_file():
            assert secret.encode() not in file.read_bytes(), file


def _refused_by_both(
    sample: Path, path: Path, line: int, field: str, secret: str, **env: str
) -> str:
    """``scope check`` and ``run`` both exit 2 with one line naming the file, line and field,
    without the secret; nothing is collected or kept. Returns the problem."""
    for command in ("scope", "run"):
        args = (
            ("scope", "check", "--file", str(path))
            if command == "scope"
            else ("run", "--file", str(path))
        )
        result = _assay(sample, *args, **env)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert result.stderr.startswith(f"assay: {path}:{line}: {field}: "), result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert secret not in result.stdout + result.stderr
    assert not (sample / ".assay" / "locker").exists()
    _nothing_holds(sample, secret)
    return result.stderr


# --- credentials in URLs -------------------------------------------------------------------


def test_a_base_url_holding_a_password_is_refused_before_any_request(
    sample: Path, okta: OktaServer
) -> None:
    host = okta.url.removeprefix("http://")
    path, line = _programme(
        sample,
        OKTA_EXPORT,
        "connector: {type: okta, mode: live, settings: "
        f"{{base_url: 'http://admin:{PASSWORD}@{host}'}}, secrets: {{token: OKTA_TOKEN}}}}",
    )
    problem = _refused_by_both(
        sample, path, line, "systems[1].connector.settings.base_url", PASSWORD, OKTA_TOKEN=TOKEN
    )
    assert "must not hold a user name or password" in problem and "secrets:" in problem
    assert okta.requests == []  # neither Basic authentication nor the token was sent


def test_an_unreachable_hr_url_with_credentials_never_shows_or_keeps_them(sample: Path) -> None:
    url = f"https://reports:{PASSWORD}@127.0.0.1:{_closed_port()}/roster.csv"
    path, line = _programme(
        sample,
        HR_EXPORT,
        f"connector: {{type: hr_csv, mode: live, settings: {{url: '{url}'}}, "
        "secrets: {token: HR_TOKEN}}",
    )
    _refused_by_both(
        sample, path, line, "systems[0].connector.settings.url", PASSWORD, HR_TOKEN="t"
    )


def test_a_token_is_not_sent_over_cleartext_http_to_another_machine(sample: Path) -> None:
    path, line = _programme(
        sample,
        OKTA_EXPORT,
        "connector: {type: okta, mode: live, settings: {base_url: 'http://okta.example.invalid'}, "
        "secrets: {token: OKTA_TOKEN}}",
    )
    problem = _refused_by_both(
        sample, path, line, "systems[1].connector.settings.base_url", TOKEN, OKTA_TOKEN=TOKEN
    )
    assert "use https://" in problem and "loopback" in problem


def _live(settings: dict[str, Any], secrets: dict[str, str], tmp_path: Path) -> ConnectorConfig:
    return ConnectorConfig("sys", "live", settings, secrets, tmp_path)


@pytest.mark.parametrize(
    "url",
    [
        "http://okta.example.invalid",
        "http://localhost.example.invalid",
        "http://127.0.0.1.example.invalid",
        "http://10.0.0.1",
        "http://[::2]",
    ],
)
def test_cleartext_to_anything_but_loopback_is_refused_naming_the_field(
    url: str, tmp_path: Path
) -> None:
    config = _live({"base_url": url}, {"token": TOKEN}, tmp_path)
    with pytest.raises(InputError) as caught:
        OktaConnector(sleep=lambda _: None).collect(config)
    assert caught.value.where == "system sys"
    assert caught.value.problem.startswith("connector setting 'base_url' is http://")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_cleartext_to_loopback_still_works(host: str, okta: OktaServer, tmp_path: Path) -> None:
    url = okta.url.replace("127.0.0.1", host)
    collected = OktaConnector(sleep=lambda _: None).collect(
        _live({"base_url": url}, {"token": TOKEN}, tmp_path)
    )
    assert collected.records.accounts == ()
    assert okta.requests and okta.requests[0].headers["authorization"] == f"SSWS {TOKEN}"


@pytest.mark.parametrize(
    "url",
    [
        f"http://admin:{PASSWORD}@127.0.0.1:1",
        f"http://{PASSWORD}@127.0.0.1:1",
        f"http://{PASSWORD}\\@127.0.0.1:1",  # a backslash some parsers read as a slash
    ],
)
def test_the_http_client_refuses_a_url_with_user_information(url: str) -> None:
    with pytest.raises(InputError) as caught:
        ApiClient(url, {})
    assert PASSWORD not in str(caught.value)
    assert "must not hold a user name or password" in caught.value.problem


@pytest.mark.parametrize(
    ("connector", "settings", "secrets", "field"),
    [
        pytest.param(
            HrCsvConnector(),
            {"url": f"https://u:{PASSWORD}@127.0.0.1:1/roster.csv"},
            {},
            "url",
            id="hr-report",
        ),
        pytest.param(
            GitConnector(),
            {"url": f"https://reader:{PASSWORD}@127.0.0.1:1/acme/app.git"},
            {},
            "url",
            id="git-https",
        ),
        pytest.param(
            GitConnector(),
            {"url": f"ssh://git:{PASSWORD}@127.0.0.1:1/acme/app.git"},
            {},
            "url",
            id="git-ssh-password",
        ),
        pytest.param(
            LdapConnector(),
            {
                "url": f"ldap://admin:{PASSWORD}@127.0.0.1:1",
                "base_dn": "dc=acme",
                "bind_dn": "cn=reader,dc=acme",
            },
            {"password": "bind-password"},
            "url",
            id="ldap",
        ),
        pytest.param(
            AwsIamConnector(),
            {"endpoint_url": f"http://key:{PASSWORD}@127.0.0.1:1"},
            {},
            "endpoint_url",
            id="aws-endpoint",
        ),
    ],
)
def test_every_connector_that_takes_a_url_refuses_credentials_in_it(
    connector: Any, settings: dict[str, Any], secrets: dict[str, str], field: str, tmp_path: Path
) -> None:
    with pytest.raises(InputError) as caught:
        connector.collect(_live(settings, secrets, tmp_path))
    assert caught.value.where == "system sys"
    assert caught.value.problem.startswith(
        f"connector setting '{field}' must not hold a user name or password"
    )
    assert PASSWORD not in str(caught.value)


@pytest.mark.parametrize(
    ("connector", "settings", "secrets"),
    [
        pytest.param(
            HrCsvConnector(),
            {"url": "http://hr.example.invalid/roster.csv"},
            {"token": "t"},
            id="hr-report",
        ),
        pytest.param(
            LdapConnector(),
            {"url": "ldap://ldap.example.invalid", "base_dn": "dc=a", "bind_dn": "cn=r,dc=a"},
            {"password": "p"},
            id="ldap",
        ),
    ],
)
def test_every_connector_refuses_to_send_its_secret_in_clear_to_another_machine(
    connector: Any, settings: dict[str, Any], secrets: dict[str, str], tmp_path: Path
) -> None:
    with pytest.raises(InputError) as caught:
        connector.collect(_live(settings, secrets, tmp_path))
    assert caught.value.problem.startswith("connector setting 'url' is ")
    assert "unencrypted" in caught.value.problem


def test_an_ssh_login_name_is_not_a_credential(tmp_path: Path) -> None:
    """``ssh://git@host/…`` names the account to log in as; the fetch itself is what fails."""
    port = _closed_port()
    url = f"ssh://git@127.0.0.1:{port}/acme/app.git"
    with pytest.raises(InputError) as caught:
        GitConnector().collect(_live({"url": url}, {}, tmp_path))
    assert "cannot fetch branch 'main'" in caught.value.problem
    assert caught.value.where == f"ssh://127.0.0.1:{port}/acme/app.git"


# --- settings each connector declares --------------------------------------------------------


def test_a_misspelt_setting_is_refused_with_its_line_before_anything_is_collected(
    sample: Path,
) -> None:
    path, line = _programme(
        sample,
        GITHUB_EXPORT,
        "connector: {type: github, mode: export, settings: "
        "{path: exports/github, org: acme, repositoires: [app]}}",
    )
    problem = _refused_by_both(
        sample, path, line, "systems[3].connector.settings.repositoires", LITERAL
    )
    assert "unknown setting" in problem and "repositories" in problem


@pytest.mark.parametrize(
    "name", ["apiKey", "credentials", "client_secret", "private_key", "Password", "bearerToken"]
)
def test_a_literal_credential_under_any_name_never_reaches_the_locker(
    sample: Path, name: str
) -> None:
    path, line = _programme(
        sample,
        OKTA_EXPORT,
        "connector: {type: okta, mode: export, settings: "
        f"{{path: exports/okta, {name}: {LITERAL}}}}}",
    )
    problem = _refused_by_both(sample, path, line, f"systems[1].connector.settings.{name}", LITERAL)
    assert "looks like a credential" in problem and "'secrets:'" in problem


@pytest.mark.parametrize(
    ("old", "new", "field", "problem"),
    [
        pytest.param(
            "settings: {path: exports/hosts/bastion}",
            "settings: {path: exports/hosts/bastion, port: '22'}",
            "systems[4].connector.settings.port",
            "Input should be a valid integer",
            id="quoted-number",
        ),
        pytest.param(
            "settings: {path: exports/github, org: acme}",
            "settings: {path: exports/github, org: acme, populations: [changes, tokens]}",
            "systems[3].connector.settings.populations",
            "unknown tokens; use any of:",
            id="unknown-population",
        ),
        pytest.param(
            "settings: {path: exports/github, org: acme}",
            "settings: {path: exports/github, org: acme, repositories: [app, 7]}",
            "systems[3].connector.settings.repositories[1]",
            "Input should be a valid string",
            id="list-item",
        ),
        pytest.param(
            "settings: {path: repos/app, branch: main}",
            "settings: {path: repos/app, branch: [main]}",
            "systems[5].connector.settings.branch",
            "Input should be a valid string",
            id="list-for-a-name",
        ),
    ],
)
def test_a_mistyped_setting_names_its_field_and_line(
    sample: Path, old: str, new: str, field: str, problem: str
) -> None:
    path, line = _programme(sample, old, new)
    with pytest.raises(InputError) as caught:
        load(path)
    assert str(caught.value).startswith(f"{path}:{line}: {field}: {problem}")


# --- list settings from a real programme file ----------------------------------------------


@pytest.mark.db
@pytest.mark.django_db
def test_github_repositories_and_populations_narrow_a_real_run(sample: Path) -> None:
    path, _ = _programme(
        sample,
        GITHUB_EXPORT,
        "connector: {type: github, mode: export, settings: {path: exports/github, org: acme, "
        "repositories: [app], populations: [changes, deploy_keys]}}",
    )
    assert main(["run", "--file", str(path)]) == 0
    item = EvidenceItem.objects.get(kind="snapshot", subject="github")
    manifest = json.loads(open_locker(load(path)).get(item.sha256))
    assert manifest["parameters"]["repositories"] == ["app"]
    populations = manifest["parameters"]["populations"]
    assert populations["outside_collaborators"] == "skipped"
    assert populations["changes"] == "read"
    names = {payload["name"] for payload in manifest["payloads"]}
    assert "branch-protection/app.json" in names
    assert not any(name.endswith("/infra.json") for name in names)


@pytest.mark.parametrize(
    ("section", "field"),
    [
        pytest.param(
            f"evidence:\n  endpoint_url: 'https://key:{PASSWORD}@s3.example'\n",
            "evidence.endpoint_url",
            id="s3-endpoint",
        ),
        pytest.param(
            f"evidence:\n  timestamp_authority: {{url: 'https://u:{PASSWORD}@tsa.example', "
            "ca_file: tsa.pem}\n",
            "evidence.timestamp_authority.url",
            id="time-stamp-authority",
        ),
    ],
)
def test_the_programmes_own_urls_hold_no_credentials(
    sample: Path, section: str, field: str
) -> None:
    path = sample / "assay.yaml"
    text = path.read_text()
    path.write_text(text + section)
    with pytest.raises(InputError) as caught:
        load(path)
    line = text.count("\n") + 2
    assert str(caught.value).startswith(f"{path}:{line}: {field}: must not hold a user name")
    assert PASSWORD not in str(caught.value)


@pytest.mark.parametrize(
    ("new", "field", "problem"),
    [
        pytest.param(
            "connector: {type: okta, mode: export, settings: {path: exports/okta}, "
            "secrets: {tokne: OKTA_TOKEN}}",
            "systems[1].connector.secrets.tokne",
            "unknown secret; this connector's secrets are: token",
            id="misspelt",
        ),
        pytest.param(
            "connector: {type: okta, mode: export, settings: {path: exports/okta}, "
            "secrets: {password: OKTA_PASSWORD}}",
            "systems[1].connector.secrets.password",
            "unknown secret; this connector's secrets are: token",
            id="not-read",
        ),
    ],
)
def test_a_secret_the_connector_does_not_read_is_refused_with_its_line(
    sample: Path, new: str, field: str, problem: str
) -> None:
    path, line = _programme(sample, OKTA_EXPORT, new)
    with pytest.raises(InputError) as caught:
        load(path)
    assert str(caught.value) == f"{path}:{line}: {field}: {problem}"
