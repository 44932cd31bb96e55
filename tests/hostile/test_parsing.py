"""Hostile input to the parsers: a YAML bomb, nested and duplicated JSON, odd bytes, symbolic
links out of an export. Each is one clear error (exit 2 naming the file) and never a crash, a
hang or memory without bound."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest
from tests.programme.conftest import VALID

from assay.catalog import load_catalog
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
