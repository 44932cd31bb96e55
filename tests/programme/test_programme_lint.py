"""Scope lint: each rule fires on the gap it names and stays quiet on a clean programme."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from assay.catalog import Category, load_catalog
from assay.programme import Programme
from assay.programme.lint import ScopeProblem, lint

TODAY = date(2026, 6, 15)


def _system(system_id: str, **overrides: Any) -> dict[str, Any]:
    system: dict[str, Any] = {
        "id": system_id,
        "name": system_id.title(),
        "kind": "saas",
        "owner": "owner@example.com",
        "in_scope": True,
        "reason": "Needed for the service",
        "customer_data": False,
        "connector": {"type": "git", "settings": {"path": f"exports/{system_id}"}},
    }
    return system | overrides


def _programme(**overrides: Any) -> Programme:
    data: dict[str, Any] = {
        "path": Path("/srv/acme/assay.yaml"),
        "organisation": "Acme",
        "owner": {"name": "Dana", "email": "dana@example.com"},
        "audit": {"type": 2, "period": {"start": "2026-01-01", "end": "2026-12-31"}},
        "categories": ["security", "availability"],
        "owners": {role: "dana@example.com" for role in ROLES},
        "systems": [_system("app")],
        "vendors": [
            {
                "name": "Cloud Co",
                "customer_data": True,
                "criticality": "high",
            }
        ],
    }
    return Programme.model_validate(data | overrides)


ROLES = sorted({control.owner_role for control in load_catalog().controls})


def _rules(problems: tuple[ScopeProblem, ...]) -> list[tuple[str, str]]:
    return [(p.rule, p.subject) for p in problems]


def test_clean_programme_has_no_problems() -> None:
    assert lint(_programme(), load_catalog(), TODAY) == ()


def test_in_scope_system_without_owner_or_connector() -> None:
    systems = [_system("app", owner=None), _system("db", connector=None)]
    problems = lint(_programme(systems=systems), load_catalog(), TODAY)
    assert _rules(problems) == [
        ("system_without_owner", "app"),
        ("system_without_connector", "db"),
    ]


def test_out_of_scope_systems_need_neither_owner_nor_connector() -> None:
    systems = [_system("app"), _system("blog", in_scope=False, owner=None, connector=None)]
    assert lint(_programme(systems=systems), load_catalog(), TODAY) == ()


def test_a_control_in_scope_with_nobody_named() -> None:
    owners = {role: "dana@example.com" for role in ROLES if role != "Legal counsel"}
    programme = _programme(owners=owners)
    catalog = load_catalog()
    unowned = [
        c.id
        for c in catalog.controls
        if c.owner_role == "Legal counsel" and any(m.target.startswith(("CC", "A")) for m in c.tsc)
    ]
    rules = _rules(lint(programme, catalog, TODAY))
    assert unowned and rules == [("control_without_owner", control) for control in unowned]
    # A control named for a person directly needs no role holder.
    named = _programme(owners=owners, controls={c: {"owner": "lee@example.com"} for c in unowned})
    assert lint(named, catalog, TODAY) == ()


def test_customer_data_out_of_scope() -> None:
    systems = [_system("app"), _system("crm", in_scope=False, customer_data=True)]
    problems = lint(_programme(systems=systems), load_catalog(), TODAY)
    assert _rules(problems) == [("customer_data_out_of_scope", "crm")]


def _exclude_all_controls_of_first_criterion(expires: date) -> tuple[str, dict[str, Any]]:
    row = next(r for r in load_catalog().coverage([Category.AVAILABILITY]) if r.controls)
    exclusion = {"justification": "Not applicable", "expires": expires}
    return row.criterion.id, {control: {"exclude": exclusion} for control in row.controls}


def test_criterion_without_control_once_excluded() -> None:
    criterion, controls = _exclude_all_controls_of_first_criterion(expires=TODAY)
    problems = lint(_programme(controls=controls), load_catalog(), TODAY)
    assert ("criterion_without_control", criterion) in _rules(problems)
    assert {p.rule for p in problems} == {"criterion_without_control"}


def test_expired_exclusion_no_longer_excludes() -> None:
    _, controls = _exclude_all_controls_of_first_criterion(expires=TODAY - timedelta(days=1))
    assert lint(_programme(controls=controls), load_catalog(), TODAY) == ()


def test_order_is_deterministic() -> None:
    systems = [
        _system("b", owner=None, connector=None),
        _system("a", owner=None),
        _system("c", in_scope=False, customer_data=True),
    ]
    vendors = [{"name": "V", "customer_data": True, "criticality": "low"}]
    programme = _programme(systems=systems, vendors=vendors)
    first = lint(programme, load_catalog(), TODAY)
    assert first == lint(programme, load_catalog(), TODAY)
    assert _rules(first) == [
        ("system_without_owner", "b"),
        ("system_without_connector", "b"),
        ("system_without_owner", "a"),
        ("customer_data_out_of_scope", "c"),
    ]
