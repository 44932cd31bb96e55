"""Loading ``assay.yaml``: every field arrives typed, every error names file, line and field."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from assay.catalog import Category, Frequency
from assay.errors import InputError
from assay.programme import Programme, load, resolve_secrets
from assay.programme.model import ConnectorType, Criticality, Mode, SystemKind

Write = Callable[[str], Path]


def _error(path: Path) -> str:
    with pytest.raises(InputError) as caught:
        load(path)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_valid_file_loads_with_all_fields(write: Write, valid: str, control_id: str) -> None:
    path = write(valid)
    programme = load(path)

    assert isinstance(programme, Programme)
    assert programme.path == path.absolute()
    assert programme.base_dir == path.parent.absolute()
    assert programme.data_dir == path.parent.absolute() / ".assay"
    assert programme.organisation == "Acme Cloud Ltd"
    assert programme.owner.name == "Dana Reyes"
    assert programme.owner.email == "dana@acme.example"
    assert programme.audit.type == 2
    assert programme.audit.period.start == date(2026, 1, 1)
    assert programme.audit.period.end == date(2026, 12, 31)

    okta = programme.system("okta")
    assert okta.kind is SystemKind.IDP
    assert okta.owner == "sam@acme.example"
    assert okta.in_scope is True
    assert okta.reason == "Workforce sign-in for every employee"
    assert okta.customer_data is False
    assert okta.connector is not None
    assert okta.connector.type is ConnectorType.OKTA
    assert okta.connector.mode is Mode.EXPORT
    assert okta.connector.settings == {"path": "exports/okta", "base_url": "https://acme.okta.com"}
    assert okta.connector.secrets == {"token": "OKTA_API_TOKEN"}
    github = programme.system("github").connector
    assert github is not None and github.settings["repositories"] == ("a", "b")
    hr = programme.system("hr")
    assert hr.connector is not None and hr.connector.mode is Mode.EXPORT  # the default
    assert hr.customer_data is False  # the default
    assert [s.id for s in programme.in_scope_systems()] == ["okta", "hr", "github", "aws"]

    (vendor,) = programme.vendors
    assert vendor.name == "Amazon Web Services"
    assert vendor.services == ("hosting",)
    assert vendor.customer_data is True
    assert vendor.criticality is Criticality.HIGH
    assert vendor.owner == "sam@acme.example"
    assert vendor.system == "aws"

    people = programme.people
    assert people is not None
    assert people.source == "hr"
    assert people.username_rules == ("{email_local}", "{first}{last}")
    (alias,) = people.aliases
    assert (alias.system, alias.account, alias.person) == (
        "github",
        "octo-d",
        "dana@acme.example",
    )
    assert (alias.by, alias.reason) == ("it@acme.example", "own")
    (service,) = people.service_accounts
    assert (service.system, service.account, service.owner) == (
        "aws",
        "ci-deploy",
        "sam@acme.example",
    )
    assert service.purpose == "CI deploys"

    override = programme.controls[control_id]
    assert override.owner == "sam@acme.example"
    assert override.frequency is Frequency.QUARTERLY
    assert override.exclude is not None
    assert override.exclude.justification == "Not applicable to us"
    assert override.exclude.expires == date(2027, 6, 30)


def test_security_is_always_added(write: Write, valid: str) -> None:
    assert load(write(valid)).categories == (Category.SECURITY, Category.AVAILABILITY)
    without = valid.replace("categories: [availability]\n", "")
    assert load(write(without)).categories == (Category.SECURITY,)
    repeated = valid.replace("[availability]", "[availability, security, availability]")
    assert load(write(repeated)).categories == (Category.SECURITY, Category.AVAILABILITY)


def test_type_1_may_be_a_point_in_time(write: Write, valid: str) -> None:
    text = valid.replace("type: 2", "type: 1").replace("end: 2026-12-31", "end: 2026-01-01")
    audit = load(write(text)).audit
    assert audit.type == 1
    assert audit.period.start == audit.period.end


def test_unknown_system_id_is_an_input_error(write: Write, valid: str) -> None:
    with pytest.raises(InputError, match="no system with id 'nope'"):
        load(write(valid)).system("nope")


KINDS = "idp, cloud, code, database, host, saas, hr, ticketing, logging"
CATEGORIES = "security, availability, confidentiality, processing_integrity, privacy"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "organisation: Acme Cloud Ltd\n",
            "organisation: Acme Cloud Ltd\ncolour: blue\n",
            "2: unknown key 'colour'",
            id="unknown-key-top-level",
        ),
        pytest.param(
            "in_scope: true\n    reason: Workforce",
            "in_scop: true\n    reason: Workforce",
            "12: systems[0]: unknown key 'in_scop'",
            id="unknown-key-nested",
        ),
        pytest.param(
            "settings: {path: exports/okta,",
            "settings: {path: exports/okta, extra: {a: 1},",
            "18: systems[0].connector.settings.extra: must be a plain value or a list of plain "
            "values",
            id="setting-not-scalar",
        ),
        pytest.param(
            "customer_data: false",
            "customer_data: maybe",
            "14: systems[0].customer_data: Input should be a valid boolean, "
            "unable to interpret input",
            id="wrong-type",
        ),
        pytest.param(
            "organisation: Acme Cloud Ltd",
            "organisation: [Acme]",
            "1: organisation: Input should be a valid string",
            id="wrong-type-list",
        ),
        pytest.param(
            "kind: code",
            "kind: crm",
            f"29: systems[2].kind: 'crm' is not one of {KINDS}",
            id="bad-enum",
        ),
        pytest.param(
            "  type: 2\n",
            "  type: 3\n",
            "4: audit.type: 3 is not one of 1, 2",
            id="bad-audit-type",
        ),
        pytest.param(
            "end: 2026-12-31}",
            "end: 2026-02-30}",
            "5: audit.period.end: Input should be a valid date",
            id="impossible-date",
        ),
        pytest.param(
            "end: 2026-12-31}",
            "end: last winter}",
            "5: audit.period.end: Input should be a valid date",
            id="bad-date",
        ),
        pytest.param(
            "system: aws\n",
            "system: nowhere\n",
            "48: vendors[0].system: no system with id 'nowhere'",
            id="vendor-system-unknown",
        ),
        pytest.param(
            "end: 2026-12-31",
            "end: 2025-12-31",
            "5: audit.period.end: a Type 2 period must end after it starts",
            id="period-backwards",
        ),
        pytest.param(
            "    reason: Roster of employees\n",
            "",
            "20: systems[1]: missing required key 'reason'",
            id="missing-reason",
        ),
        pytest.param(
            "reason: Roster of employees",
            "reason: '  '",
            "25: systems[1].reason: must not be empty",
            id="empty-reason",
        ),
        pytest.param(
            "organisation: Acme Cloud Ltd\n",
            "",
            "1: missing required key 'organisation'",
            id="missing-top-level",
        ),
        pytest.param(
            "- id: okta",
            "- id: Okta",
            "8: systems[0].id: 'Okta' must start with a lower-case letter and contain only "
            "a-z, 0-9, '-' or '_'",
            id="bad-system-id",
        ),
        pytest.param(
            "    owner: sam@acme.example\n    in_scope: true\n    reason: Workforce",
            "    owner: sam\n    in_scope: true\n    reason: Workforce",
            "11: systems[0].owner: 'sam' is not an email address",
            id="bad-email",
        ),
        pytest.param(
            "secrets: {token: OKTA_API_TOKEN}",
            "secrets: {token: 00aBcD-s3cr3t-value}",
            "19: systems[0].connector.secrets.token: secrets must be references to environment "
            "variables, e.g. OKTA_API_TOKEN, not the secret value",
            id="inline-secret",
        ),
        pytest.param(
            "settings: {path: exports/okta,",
            "settings: {api_token: abc, path: exports/okta,",
            "18: systems[0].connector.settings.api_token: looks like a credential; credentials "
            "are never settings: put it under 'secrets:' as the name of the environment variable "
            "that holds it",
            id="secret-looking-setting",
        ),
        pytest.param(
            "connector: {type: hr_csv, settings:",
            "connector: {type: hr_csv, mode: api, settings:",
            "26: systems[1].connector.mode: 'api' is not one of live, export",
            id="unknown-mode",
        ),
        pytest.param(
            "- id: github",
            "- id: okta",
            "27: systems[2].id: duplicate system id 'okta'",
            id="duplicate-system-id",
        ),
        pytest.param(
            "    name: Okta\n",
            "    name: Okta\n    name: Okta again\n",
            "10: systems[0]: duplicate key 'name'",
            id="duplicate-yaml-key",
        ),
        pytest.param(
            "vendors:\n",
            "vendors:\nvendors:\n",
            "43: duplicate key 'vendors'",
            id="duplicate-yaml-key-top-level",
        ),
        pytest.param(
            "system: aws\n",
            "system: aws\n  - {name: Amazon Web Services, customer_data: false, "
            "criticality: low}\n",
            "49: vendors[1].name: duplicate vendor 'Amazon Web Services'",
            id="duplicate-vendor",
        ),
        pytest.param(
            "{system: aws, account: ci-deploy",
            "{system: github, account: octo-d",
            "55: people.service_accounts[0].account: account 'octo-d' on 'github' is already "
            "linked",
            id="account-linked-twice",
        ),
        pytest.param(
            "categories: [availability]",
            "categories: [availability, speed]",
            f"6: categories[1]: 'speed' is not one of {CATEGORIES}",
            id="unknown-category",
        ),
        pytest.param(
            "  source: hr",
            "  source: okta",
            "50: people.source: system 'okta' is of kind 'idp', not 'hr'",
            id="people-source-not-hr",
        ),
        pytest.param(
            "  source: hr",
            "  source: workday",
            "50: people.source: no system with id 'workday'",
            id="people-source-undeclared",
        ),
        pytest.param(
            '"{first}{last}"',
            '"{first}{surname}"',
            "51: people.username_rules[1]: unknown placeholder '{surname}' in '{first}{surname}'; "
            "use email_local, employee_id, first, first_initial, last",
            id="unknown-placeholder",
        ),
        pytest.param(
            "{system: github, account: octo-d",
            "{system: gitlab, account: octo-d",
            "53: people.aliases[0].system: no system with id 'gitlab'",
            id="alias-undeclared-system",
        ),
        pytest.param(
            "{system: aws, account: ci-deploy",
            "{system: azure, account: ci-deploy",
            "55: people.service_accounts[0].system: no system with id 'azure'",
            id="service-account-undeclared-system",
        ),
        pytest.param(
            "  CONTROL_ID:",
            "  ZZ-99:",
            "57: controls.ZZ-99: unknown control id 'ZZ-99'",
            id="unknown-control-id",
        ),
        pytest.param(
            "    frequency: quarterly",
            "    frequency: hourly",
            "59: controls.CONTROL_ID.frequency: 'hourly' is not one of continuous, daily, weekly, "
            "monthly, quarterly, annual, per-event",
            id="bad-frequency",
        ),
        pytest.param(
            "organisation: Acme Cloud Ltd\n",
            "organisation: Acme Cloud Ltd\npath: elsewhere.yaml\n",
            "2: unknown key 'path'",
            id="path-is-not-a-key",
        ),
        pytest.param(
            "audit:\n  type: 2\n",
            "audit:\n  type: [2\n",
            "5: invalid YAML:",
            id="malformed-yaml",
        ),
        pytest.param(
            "owner: {name: Dana Reyes,",
            "owner: {name: Dana: Reyes,",
            "2: invalid YAML:",
            id="malformed-yaml-flow",
        ),
    ],
)
def test_errors_name_line_and_field(
    write: Write, valid: str, control_id: str, old: str, new: str, expected: str
) -> None:
    assert old.replace("CONTROL_ID", control_id) in valid
    text = valid.replace(old.replace("CONTROL_ID", control_id), new, 1)
    path = write(text)
    message = _error(path)
    assert message.startswith(f"{path}:{expected.replace('CONTROL_ID', control_id)}")


def test_inline_secret_is_not_echoed(write: Write, valid: str) -> None:
    text = valid.replace("OKTA_API_TOKEN", "00aBcD-s3cr3t-value")
    assert "s3cr3t" not in _error(write(text))


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(InputError) as caught:
        load(path)
    assert caught.value.where == str(path)
    assert caught.value.problem == "file not found"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "file is empty"),
        ("# only a comment\n", "file is empty"),
        ("- a\n- b\n", ":1: expected a mapping of settings"),
        ("just words\n", ":1: expected a mapping of settings"),
        ("a: 1\n---\nb: 2\n", ":2: invalid YAML:"),
        ("a: !custom 1\n", ":1: a: could not determine a constructor"),
        ("a:\n\tb: 1\n", ":2: invalid YAML:"),
        ("a: \x07\n", "invalid YAML:"),
    ],
)
def test_unreadable_files(write: Write, text: str, expected: str) -> None:
    path = write(text)
    message = _error(path)
    assert message.startswith(str(path))
    assert expected in message


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "assay.yaml"
    path.write_bytes(b"organisation: \xff\xfe\n")
    assert _error(path) == f"{path}: is not UTF-8 text"


def test_directory(tmp_path: Path) -> None:
    assert _error(tmp_path).startswith(f"{tmp_path}: ")


def test_resolve_secrets(write: Write, valid: str, monkeypatch: pytest.MonkeyPatch) -> None:
    connector = load(write(valid)).system("okta").connector
    assert connector is not None
    monkeypatch.setenv("OKTA_API_TOKEN", "t0ken")
    assert resolve_secrets(connector, "okta") == {"token": "t0ken"}
    monkeypatch.delenv("OKTA_API_TOKEN")
    with pytest.raises(InputError) as caught:
        resolve_secrets(connector, "okta")
    assert str(caught.value) == (
        "system okta: environment variable OKTA_API_TOKEN (secret 'token') is not set"
    )


def test_control_ids_are_canonical(write: Write, valid: str, control_id: str) -> None:
    lower = valid.replace(f"  {control_id}:", f"  {control_id.lower()}:")
    assert list(load(write(lower)).controls) == [control_id]
    twice = valid.replace(
        "controls:\n", f"controls:\n  {control_id.lower()}: {{frequency: daily}}\n"
    )
    assert _error(write(twice)).endswith(
        f":58: controls.{control_id}: control {control_id} is listed twice"
    )
