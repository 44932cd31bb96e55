"""``assay scope check``: exit 0 when clean, 1 for scope problems, 2 for a bad file."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.catalog import load_catalog
from assay.cli import main

CLEAN = """\
organisation: Acme
owner: {name: Dana, email: dana@example.com}
audit: {type: 1, period: {start: 2026-03-01, end: 2026-03-01}}
systems:
  - id: app
    name: App
    kind: saas
    owner: sam@example.com
    in_scope: true
    reason: The product
    connector: {type: git, settings: {path: exports/app}}
owners:
""" + "".join(
    f"  {role}: dana@example.com\n"
    for role in sorted({control.owner_role for control in load_catalog().controls})
)


def _run(path: Path) -> int:
    return main(["scope", "check", "--file", str(path)])


def test_clean_programme_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "assay.yaml"
    path.write_text(CLEAN, encoding="utf-8")
    assert _run(path) == 0
    assert capsys.readouterr().out.strip() == "scope: no problems"


def test_scope_problems_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "assay.yaml"
    path.write_text(CLEAN.replace("    owner: sam@example.com\n", ""), encoding="utf-8")
    assert _run(path) == 1
    out = capsys.readouterr().out
    assert "system_without_owner" in out
    assert "app" in out


def test_bad_file_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "assay.yaml"
    path.write_text(CLEAN.replace("kind: saas", "kind: crm"), encoding="utf-8")
    assert _run(path) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"assay: {path}:7: systems[0].kind: 'crm' is not one of")
    assert captured.err.count("\n") == 1
    assert "Traceback" not in captured.err + captured.out


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "absent.yaml"
    assert _run(path) == 2
    assert capsys.readouterr().err == f"assay: {path}: file not found\n"


def test_default_file_is_assay_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "assay.yaml").write_text(CLEAN, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["scope", "check"]) == 0
    assert "scope: no problems" in capsys.readouterr().out
