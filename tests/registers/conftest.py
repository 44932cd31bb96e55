"""A small programme with its own locker and signing key, for the registers' database tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.evidence.service import create_signing_key, open_locker
from assay.evidence.statements import Statement
from assay.programme import load
from assay.programme.model import Programme

OWNER = "dana@acme.example"
"""The programme owner, and the Chief executive."""
SECURITY = "sam@acme.example"
PEOPLE_OPS = "lee@acme.example"
IT = "kim@acme.example"
ENGINEERING = "pat@acme.example"

PROGRAMME = f"""\
organisation: Registers Test Ltd
owner: {{name: Dana Reyes, email: {OWNER}}}
audit:
  type: 2
  period: {{start: 2026-01-01, end: 2026-12-31}}
categories: [security]
systems:
  - id: aws
    name: AWS production account
    kind: cloud
    owner: {ENGINEERING}
    in_scope: true
    reason: Hosts the product
    customer_data: true
  - id: github
    name: GitHub
    kind: code
    owner: {ENGINEERING}
    in_scope: true
    reason: Source code
owners:
  Chief executive: {OWNER}
  Security lead: {SECURITY}
  People operations: {PEOPLE_OPS}
  IT administrator: {IT}
  Engineering manager: {ENGINEERING}
  Infrastructure lead: {ENGINEERING}
vendors:
  - name: Amazon Web Services
    services: [hosting]
    customer_data: true
    criticality: high
    owner: {SECURITY}
    system: aws
  - name: Ticketdesk
    services: [support tickets]
    customer_data: true
    criticality: medium
    owner: {SECURITY}
"""


@pytest.fixture
def programme(tmp_path: Path) -> Programme:
    """The programme above, loaded from its own directory, with a signing key."""
    path = tmp_path / "org" / "assay.yaml"
    path.parent.mkdir()
    path.write_text(PROGRAMME, encoding="utf-8")
    loaded = load(path)
    create_signing_key(loaded)
    return loaded


def statements(programme: Programme) -> list[tuple[str, Statement]]:
    """Every statement in the programme's locker, in log order, with its id."""
    return list(open_locker(programme).statements())


def log_files(programme: Programme) -> dict[str, bytes]:
    """The locker's files by path: what a change that writes nothing must leave as it was."""
    root = programme.resolve(programme.evidence.path)
    if not root.exists():
        return {}
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }
