"""Shared fixtures: a complete, valid programme file and a way to write variants of it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from assay.catalog import load_catalog

VALID = """\
organisation: Acme Cloud Ltd
owner: {name: Dana Reyes, email: Dana@Acme.example}
audit:
  type: 2
  period: {start: 2026-01-01, end: 2026-12-31}
categories: [availability]
systems:
  - id: okta
    name: Okta
    kind: idp
    owner: sam@acme.example
    in_scope: true
    reason: Workforce sign-in for every employee
    customer_data: false
    connector:
      type: okta
      mode: export
      settings: {path: exports/okta, base_url: 'https://acme.okta.com'}
      secrets: {token: OKTA_API_TOKEN}
  - id: hr
    name: BambooHR
    kind: hr
    owner: sam@acme.example
    in_scope: true
    reason: Roster of employees
    connector: {type: hr_csv, settings: {path: exports/hr.csv}}
  - id: github
    name: GitHub
    kind: code
    owner: sam@acme.example
    in_scope: true
    reason: Source code
    connector: {type: github, settings: {path: exports/github, repositories: [a, b]}}
  - id: aws
    name: AWS
    kind: cloud
    owner: sam@acme.example
    in_scope: true
    reason: Production hosting
    customer_data: true
    connector: {type: aws_iam, mode: export, settings: {path: exports/aws}}
vendors:
  - name: Amazon Web Services
    services: [hosting]
    customer_data: true
    criticality: high
    owner: sam@acme.example
    system: aws
people:
  source: hr
  username_rules: ["{email_local}", "{first}{last}"]
  aliases:
    - {system: github, account: octo-d, person: dana@acme.example, by: it@acme.example, reason: own}
  service_accounts:
    - {system: aws, account: ci-deploy, owner: sam@acme.example, purpose: CI deploys}
controls:
  CONTROL_ID:
    owner: sam@acme.example
    frequency: quarterly
    exclude: {justification: Not applicable to us, expires: 2027-06-30}
"""

Write = Callable[[str], Path]


@pytest.fixture(scope="session")
def control_id() -> str:
    """A real control id from the catalog, so the valid file survives catalog edits."""
    return load_catalog().controls[0].id


@pytest.fixture
def valid(control_id: str) -> str:
    """The text of a complete, valid programme file (line numbers are asserted in tests)."""
    return VALID.replace("CONTROL_ID", control_id)


@pytest.fixture
def write(tmp_path: Path) -> Write:
    """Write text to ``assay.yaml`` in a fresh directory and return its path."""

    def _write(text: str) -> Path:
        path = tmp_path / "assay.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return _write
