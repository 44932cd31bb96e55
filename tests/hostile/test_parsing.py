"""Hostile input to the parsers: a YAML bomb, nested and duplicated JSON, odd bytes, symbolic
links out of an export. Each is one clear error (exit 2 naming the file) and never a crash, a
hang or memory without bound."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tests.connectors.test_hr_xlsx import GOOD, HEADER, write_book
from tests.programme.conftest import VALID

from assay._internal.strict_json import MAX_DEPTH as MAX_JSON_DEPTH
from assay._internal.strict_json import ParseProblem, parse_json
from assay.catalog import load_catalog
from assay.connectors import entra, registry
from assay.connectors._export import OUTSIDE_EXPORT
from assay.connectors.base import Collected, ConnectorConfig
from assay.connectors.okta import OktaConnector
from assay.errors import InputError
from assay.programme import load
from assay.programme.loader import MAX_DEPTH, MAX_VALUES

MEMORY_LIMIT = 768 * 1024 * 1024
"""Address space for a CLI run: ample for Assay, far too little for an expanded bomb."""


def assay(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The ``assay`` command in a process whose address space is capped at ``MEMORY_LIMIT``."""

    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    command = [sys.executable, "-c", "import sys; from assay.cli import main; sys.exit(main())"]
    # The programme's own SQLite database, as a user's command has, not the test run's.
    unset = ("DJANGO_SETTINGS_MODULE", "ASSAY_SQLITE_PATH", "ASSAY_DATABASE_URL")
    return subprocess.run(
        [*command, *args],
        cwd=cwd,
        env={name: value for name, value in os.environ.items() if name not in unset},
        capture_output=True,
        text=True,
        preexec_fn=cap_memory,
        timeout=300,
        check=False,
    )


def billion_laughs(levels: int = 9) -> str:
    """A programme file whose ``bomb`` key expands to 10 ** levels strings."""
    lines = ["organisation: Acme", 'l0: &l0 "lol"']
    for level in range(1, levels + 1):
        aliases = ", ".join([f"*l{level - 1}"] * 10)
        lines.append(f"l{level}: &l{level} [{aliases}]")
    lines.append(f"bomb: *l{levels}")
    return "\n".join(lines) + "\n"


def test_a_yaml_bomb_is_refused_by_the_cli_within_bounded_memory(tmp_path: Path) -> None:
    (tmp_path / "assay.yaml").write_text(billion_laughs(), encoding="utf-8")

    result = assay("scope", "check", cwd=tmp_path)

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    # l5 stands for 10**5 strings plus its lists: the first collection past the bound.
    assert result.stderr.strip() == (
        f"assay: assay.yaml:7: expands to more than {MAX_VALUES} values with its aliases resolved"
    )


def test_aliases_within_the_bound_still_load(tmp_path: Path) -> None:
    text = VALID.replace("CONTROL_ID", load_catalog().controls[0].id)
    first, *rest = text.split("owner: sam@acme.example")
    assert len(rest) > 2
    aliased = first + "owner: &sam sam@acme.example" + "owner: *sam".join(rest)
    path = tmp_path / "assay.yaml"
    path.write_text(aliased, encoding="utf-8")
    assert {system.owner for system in load(path).systems} == {"sam@acme.example"}


def test_deep_nesting_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "assay.yaml"
    path.write_text("organisation: Acme\ndeep: " + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(InputError) as caught:
        load(path)
    assert caught.value.where == f"{path}:2"
    assert f"deeper than {MAX_DEPTH}" in caught.value.problem


def test_an_oversized_programme_file_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "assay.yaml"
    path.write_text("organisation: Acme\n" + "# padding\n" * 200_000, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load(path)
    assert caught.value.where == str(path)
    assert "larger than" in caught.value.problem


# --- JSON exports: every vendor file is read by one strict reader ----------------------------


def okta_export(tmp_path: Path, users: bytes) -> InputError:
    """The error collecting an Okta export whose ``users.json`` holds ``users``."""
    directory = tmp_path / "okta"
    directory.mkdir()
    (directory / "users.json").write_bytes(users)
    config = ConnectorConfig("okta", "export", {"path": str(directory)}, {}, tmp_path)
    with pytest.raises(InputError) as caught:
        OktaConnector().collect(config)
    return caught.value


def user_lines(sample: Path) -> list[str]:
    """The sample's Okta users, one JSON object a line."""
    users = json.loads((sample / "exports/okta/users.json").read_bytes())
    return [json.dumps(user) for user in users]


def test_deeply_nested_json_is_bad_input_naming_line_and_column(tmp_path: Path) -> None:
    error = okta_export(tmp_path, b'\n  {"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    assert error.where == f"{tmp_path}/okta/users.json:2"
    assert (
        error.problem
        == f"nested deeper than {MAX_JSON_DEPTH} levels at column {MAX_JSON_DEPTH + 8}"
    )


def test_brackets_inside_strings_are_not_nesting() -> None:
    text = json.dumps({"note": "[" * 1000 + '\\"{' * 1000})
    assert parse_json(text) == json.loads(text)
    assert parse_json("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH) == json.loads(
        "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    )


@pytest.mark.parametrize("second", ['"status"', '"st\\u0061tus"'])
def test_a_duplicate_key_is_bad_input_naming_the_key_and_where(
    sample: Path, tmp_path: Path, second: str
) -> None:
    lines = user_lines(sample)
    lines[2] = lines[2].replace('{"id"', f'{{{second}: "SUSPENDED", "id"', 1)
    error = okta_export(tmp_path, ("[\n" + ",\n".join(lines) + "\n]").encode())
    assert error.where == f"{tmp_path}/okta/users.json:4"
    column = lines[2].index('"status"', 10) + 1
    assert error.problem == f"duplicate key 'status' at column {column}"


def test_a_duplicate_key_in_a_nested_object_is_found_in_document_order(tmp_path: Path) -> None:
    text = '[{"a": {"x": 1, "x": 2}},\n {"b": {"y": {"z": 1, "z": 2}}, "b": 3}]'
    with pytest.raises(ParseProblem) as caught:
        parse_json(text)
    assert (caught.value.line, caught.value.problem) == (1, "duplicate key 'x' at column 17")


def test_a_non_utf8_byte_names_its_line_and_column(sample: Path, tmp_path: Path) -> None:
    lines = user_lines(sample)
    data = ("[\n" + ",\n".join(lines) + "\n]").encode()
    target = data.index(b"Reyes")
    error = okta_export(tmp_path, data[:target] + b"R\xe9yes" + data[target + 5 :])
    line = data[:target].count(b"\n") + 1
    column = target - data.rfind(b"\n", 0, target)
    assert error.where == f"{tmp_path}/okta/users.json:{line}"
    assert error.problem == f"not valid UTF-8 text: byte 0xe9 at column {column + 1}"


def test_a_number_too_long_to_convert_is_bad_input(tmp_path: Path) -> None:
    error = okta_export(tmp_path, b"[" + b"9" * 5000 + b"]")
    assert error.where == f"{tmp_path}/okta/users.json"
    assert error.problem.startswith("invalid JSON: ")


def test_a_deeply_nested_export_is_exit_2_from_the_cli(sample: Path) -> None:
    (sample / "exports/okta/users.json").write_bytes(b"[" * 100_000 + b"]" * 100_000)

    result = assay("run", cwd=sample)

    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        f"assay: {sample}/exports/okta/users.json:1: "
        f"nested deeper than {MAX_JSON_DEPTH} levels at column {MAX_JSON_DEPTH + 1}"
    )


def test_a_lone_surrogate_in_an_export_is_exit_2_not_a_crash_when_it_is_written(
    sample: Path,
) -> None:
    """Half a character parses, then cannot be written as UTF-8 (canonical JSON, the database)."""
    users = sample / "exports/okta/users.json"
    text = users.read_text()
    assert '"login": "temp.admin@acme.example"' in text
    users.write_text(text.replace('"temp.admin@acme.example"', '"temp.\\ud800admin@acme.example"'))

    result = assay("run", cwd=sample)

    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"assay: {users}:")
    assert "a lone surrogate \\ud800 is not a character at column" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_surrogate_pair_and_an_escaped_backslash_are_fine() -> None:
    assert parse_json('["\\ud83d\\ude00", "\\\\ud800"]') == ["\U0001f600", "\\ud800"]


# --- symbolic links out of an export: one rule for every export reader ------------------------


@dataclass(frozen=True)
class Export:
    """A valid export of one connector type: its ``path`` setting, other settings, and the file
    (relative to the export's directory) a hostile copy links outside."""

    path: str
    link: str
    settings: Mapping[str, Any] = field(default_factory=dict)


def write_files(directory: Path, files: Mapping[str, bytes]) -> None:
    for name, data in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_bytes(data)


def json_bytes(body: Any) -> bytes:
    return json.dumps(body).encode()


def sample_export(sample: Path, tmp_path: Path, source: str) -> Path:
    target = tmp_path / "export"
    shutil.copytree(sample / source, target, symlinks=True)
    return target


def hr_xlsx_export(tmp_path: Path) -> Path:
    (tmp_path / "export").mkdir()
    write_book(tmp_path / "export", {"Staff": [HEADER, GOOD]})
    return tmp_path / "export"


LDIF = b"dn: uid=ada,ou=people,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: ada\ncn: Ada\n"


def build_export(kind: str, sample: Path, tmp_path: Path) -> tuple[Path, Export]:
    """A valid export of connector type ``kind`` under ``tmp_path``."""
    directory = tmp_path / "export"
    if kind == "hr_csv":
        return sample_export(sample, tmp_path, "exports/hr"), Export("roster.csv", "roster.csv")
    if kind == "hr_xlsx":
        return hr_xlsx_export(tmp_path), Export("roster.xlsx", "roster.xlsx")
    if kind == "aws_iam":
        return sample_export(sample, tmp_path, "exports/aws"), Export(".", "credential-report.csv")
    if kind == "okta":
        export = sample_export(sample, tmp_path, "exports/okta")
        factors = sorted((export / "factors").iterdir())[0].name
        return export, Export(".", f"factors/{factors}")
    if kind == "github":
        export = sample_export(sample, tmp_path, "exports/github")
        return export, Export(".", "members.json", {"org": "acme"})
    if kind == "linux":
        return sample_export(sample, tmp_path, "exports/hosts/bastion"), Export(".", "etc/group")
    directory.mkdir()
    if kind == "entra":
        write_files(directory, {f"{name}.json": json_bytes({"value": []}) for name in entra.PATHS})
        return directory, Export(".", "users.json", {"tenant_id": "tenant"})
    if kind == "google_workspace":
        write_files(directory, {"users.json": json_bytes({"users": []})})
        return directory, Export(".", "users.json")
    if kind == "jumpcloud":
        write_files(directory, {"systemusers.json": json_bytes({"totalCount": 0, "results": []})})
        return directory, Export(".", "systemusers.json")
    if kind == "ldap":
        write_files(directory, {"directory.ldif": LDIF})
        return directory, Export(".", "directory.ldif")
    if kind == "postgres":
        write_files(directory, {"roles.json": b"[]", "memberships.json": b"[]"})
        return directory, Export(".", "memberships.json")
    raise AssertionError(f"no export for connector type {kind}")


NOT_EXPORT_READERS = {"git": "reads a repository through git, which follows its own layout"}
EXPORT_READERS = sorted(set(registry.CONNECTOR_TYPES) - set(NOT_EXPORT_READERS))


def test_every_connector_type_is_covered_or_named_as_no_export_reader() -> None:
    assert set(NOT_EXPORT_READERS) <= set(registry.CONNECTOR_TYPES)
    assert len(EXPORT_READERS) == len(registry.CONNECTOR_TYPES) - len(NOT_EXPORT_READERS)


def collect(kind: str, directory: Path, export: Export) -> Collected:
    settings = {"path": str(directory / export.path), **export.settings}
    config = ConnectorConfig(kind, "export", settings, {}, directory)
    return registry.connector_for(kind).collect(config)


@pytest.mark.parametrize("kind", EXPORT_READERS)
def test_a_link_out_of_the_export_is_refused_unread(
    kind: str, sample: Path, tmp_path: Path
) -> None:
    directory, export = build_export(kind, sample, tmp_path)
    collect(kind, directory, export)  # the export as built is valid
    link = directory / export.link
    outside = tmp_path / "outside" / link.name
    outside.parent.mkdir()
    link.rename(outside)
    link.symlink_to(outside)

    with pytest.raises(InputError) as caught:
        collect(kind, directory, export)

    assert (caught.value.where, caught.value.problem) == (str(link), OUTSIDE_EXPORT)
    assert caught.value.exit_code == 2


def test_a_link_inside_the_export_is_read(sample: Path, tmp_path: Path) -> None:
    directory, export = build_export("okta", sample, tmp_path)
    (directory / "users-2026.json").write_bytes((directory / "users.json").read_bytes())
    (directory / "users.json").unlink()
    (directory / "users.json").symlink_to("users-2026.json")
    assert collect("okta", directory, export).payloads[0].name == "users.json"


def test_a_linked_directory_out_of_the_export_is_refused(sample: Path, tmp_path: Path) -> None:
    directory, export = build_export("okta", sample, tmp_path)
    (directory / "factors").rename(tmp_path / "factors")
    (directory / "factors").symlink_to(tmp_path / "factors")
    with pytest.raises(InputError) as caught:
        collect("okta", directory, export)
    assert caught.value.problem == OUTSIDE_EXPORT
    assert Path(caught.value.where).parent == directory / "factors"


def test_a_pipe_in_an_export_is_refused_without_waiting(sample: Path, tmp_path: Path) -> None:
    directory, export = build_export("okta", sample, tmp_path)
    (directory / "apps.json").unlink()
    os.mkfifo(directory / "apps.json")
    with pytest.raises(InputError) as caught:
        collect("okta", directory, export)
    assert (caught.value.where, caught.value.problem) == (
        str(directory / "apps.json"),
        "not a regular file",
    )


def test_the_cli_refuses_a_factors_file_linked_to_a_file_outside(sample: Path) -> None:
    factors = sorted((sample / "exports/okta/factors").iterdir())[0]
    secret = sample.parent / "shadow.json"
    factors.rename(secret)
    factors.symlink_to(secret)

    result = assay("run", cwd=sample)

    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == f"assay: {factors}: {OUTSIDE_EXPORT}"


# --- a garbled database ---------------------------------------------------------------------


@pytest.mark.parametrize("command", ["run", "findings", "verify"])
def test_a_garbled_sqlite_database_is_exit_2_naming_it_and_left_untouched(
    sample: Path, command: str
) -> None:
    database = sample / ".assay" / "assay.sqlite3"
    garbage = b"not a database, " * 512
    database.write_bytes(garbage)

    result = assay(command, cwd=sample)

    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"assay: {database}: not an SQLite database Assay can open")
    assert "restore it from a backup" in result.stderr and result.stderr.count("\n") == 1
    assert database.read_bytes() == garbage
