"""Hostile input to the parsers: a YAML bomb, nested and duplicated JSON, odd bytes, symbolic
links out of an export. Each is one clear error (exit 2 naming the file) and never a crash, a
hang or memory without bound."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from tests.programme.conftest import VALID

from assay._internal.strict_json import MAX_DEPTH as MAX_JSON_DEPTH
from assay._internal.strict_json import ParseProblem, parse_json
from assay.catalog import load_catalog
from assay.connectors.base import ConnectorConfig
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
    return subprocess.run(
        [*command, *args],
        cwd=cwd,
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
