"""The starter file must load: it is the first thing a new user runs."""

from __future__ import annotations

from pathlib import Path

from assay.programme import load
from assay.programme.starter import starter_text


def test_starter_loads(tmp_path: Path) -> None:
    path = tmp_path / "assay.yaml"
    path.write_text(starter_text(), encoding="utf-8")
    programme = load(path)
    assert programme.in_scope_systems()
    assert programme.people is not None


def test_starter_uses_placeholder_addresses() -> None:
    text = starter_text()
    assert "@example.com" in text
    assert "acme" not in text.lower()
