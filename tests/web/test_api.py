"""The API's reads, per role, with the sample organisation's real values after one run."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from tests.web import registers

from assay.catalog import load_catalog
from assay.checks.models import CheckResult, ControlResult, RecordedFinding, UnjudgedItem
from assay.cli import main
from assay.evidence import merkle
from assay.evidence.models import Checkpoint, EvidenceItem
from assay.monitor.models import Run
from assay.programme import load
from assay.sample import PlantedFinding
from assay.web.api import api
from assay.web.roles import POLICY, PROGRAMME, Role

pytestmark = [pytest.mark.db, pytest.mark.django_db]
Clients = dict[Role | None, Client]


def get(client: Client, path: str, status: int = 200) -> Any:
    response = client.get(f"/api/v1{path}")
    assert response.status_code == status, (path, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def all_findings(client: Client, query: str = "") -> list[dict[str, Any]]:
    """Every finding, page by page."""
    found: list[dict[str, Any]] = []
    while True:
        page = get(client, f"/findings?limit=7&offset={len(found)}{query}")
        found += page["items"]
        if len(found) >= page["total"]:
            return found


def test_each_role_may_call_exactly_what_the_policy_says(clients: Clients, served: Path) -> None:
    statement = EvidenceItem.objects.first()
    assert statement is not None
    registers.add_starter_policies(load(served))
    paths = {
        "health": "/health",
        "me": "/me",
        "runs": "/runs",
        "controls": "/controls",
        "control": "/controls/AC-03",
        "findings": "/findings",
        "unjudged": "/unjudged",
        "scope": "/scope",
        "statements": "/evidence",
        "statement": f"/evidence/{statement.statement_id}",
        "person": "/people/grace.lindqvist@acme.example",
        "register": "/registers/policies",
        "register_record": "/registers/policies/POL-01",
        "evidence_requests": "/evidence-requests",
        "openapi-json": "/openapi.json",
    }
    assert api.urls_namespace == "api"  # the operations below are registered, under that name
    assert {f"api:{name}" for name in paths} == {name for name in POLICY if name[:4] == "api:"}
    for role, client in clients.items():
        for name, path in paths.items():
            allowed = POLICY[f"api:{name}"]
            expected = 200 if role in allowed else 401 if role is None else 403
            get(client, path, expected)
    assert POLICY["api:runs"] == PROGRAMME and POLICY["api:me"] == frozenset(Role)
    assert get(clients[Role.EMPLOYEE], "/me") == {
        "email": "employee@acme.example",
        "role": "employee",
        "token": None,
    }


def test_runs_controls_and_a_control_as_the_sample_run_left_them(clients: Clients) -> None:
    client = clients[Role.CONTROL_OWNER]
    run = Run.objects.get()
    runs = get(client, "/runs")
    assert runs["total"] == 1 and runs["items"][0]["id"] == run.pk
    assert runs["items"][0]["status"] == "completed" and runs["items"][0]["error"] == ""
    controls = get(client, "/controls")
    assert controls["run"] == run.pk
    stored = {r.control_id: r for r in ControlResult.objects.filter(run=run)}
    assert {row["id"]: row["status"] for row in controls["items"]} == {
        control_id: result.status for control_id, result in stored.items()
    }
    mfa = next(row for row in controls["items"] if row["id"] == "AC-03")
    assert mfa["status"] == "failing" and mfa["automated"] is True
    assert mfa["owner"] == stored["AC-03"].owner and mfa["categories"] == ["security"]
    failing = get(client, "/controls?status=failing&automated=true&category=security")
    catalog = load_catalog()
    assert {row["id"] for row in failing["items"]} == {
        control_id
        for control_id, r in stored.items()
        if r.status == "failing" and not catalog.control(control_id).manual
    }
    manual = get(client, "/controls?automated=false")["items"]
    # A control no check tests is judged by its owner's evidence, window by window.
    assert manual and all(row["reason"].startswith("owner evidence") for row in manual)
    privacy = get(client, "/controls?category=privacy")["items"]
    assert privacy and all("privacy" in row["categories"] for row in privacy)
    assert len(privacy) < len(controls["items"])

    control = get(client, "/controls/ac-03")
    catalogued = load_catalog().control("AC-03")
    assert control["id"] == "AC-03" and control["checks"] == list(catalogued.checks)
    assert [(m["target"], m["rationale"]) for m in control["csf"]] == [
        (m.target, m.rationale) for m in catalogued.csf
    ]
    assert [m["relationship"] for m in control["tsc"]] == [
        m.relationship.value for m in catalogued.tsc
    ]
    assert all(m["title"] for m in control["tsc"] + control["csf"])
    (result,) = control["results"]
    assert result["run"] == run.pk and result["status"] == "failing"
    checked = CheckResult.objects.get(run=run, check_id="mfa_enforced")
    assert result["checks"] == [
        {
            "check": "mfa_enforced",
            "status": checked.status,
            "summary": checked.summary,
            "evidence": checked.evidence,
        }
    ]


def test_findings_are_the_planted_ones_with_filters_and_paging(
    clients: Clients, planted: tuple[PlantedFinding, ...]
) -> None:
    client = clients[Role.AUDITOR]
    found = all_findings(client)
    assert {(f["check"], f["rule"], f["system"], f["subject"]) for f in found} == {
        (p.check, p.rule, p.system, p.subject) for p in planted
    }
    assert len(found) == RecordedFinding.objects.count()
    assert len({f["id"] for f in found}) == len(found)
    grace = next(f for f in found if f["subject"] == "grace.lindqvist@acme.example")
    assert "AC-05" in grace["controls"]
    only = all_findings(client, "&check=leaver_access&system=okta")
    assert only and all(f["check"] == "leaver_access" and f["system"] == "okta" for f in only)
    assert len(only) == sum(1 for p in planted if (p.check, p.system) == ("leaver_access", "okta"))
    rule = all_findings(client, "&rule=orphan_account")
    assert {f["subject"] for f in rule} == {
        p.subject for p in planted if p.rule == "orphan_account"
    }
    offset = len(found) - 3
    page = get(client, f"/findings?limit=5&offset={offset}")
    assert page["limit"] == 5 and page["offset"] == offset and len(page["items"]) == 3
    assert get(client, "/findings?system=nowhere")["items"] == []
    assert get(client, "/findings?run=99", 404) == {"detail": "completed run 99: not found"}
    for bad in ("limit=0", "limit=501", "offset=-1", "run=x", "system=%3Cscript%3E", "sytem=okta"):
        assert get(client, f"/findings?{bad}", 422)["detail"], bad
    # Of two values for one parameter, neither is silently dropped: the request is refused.
    (twice,) = get(client, "/findings?system=okta&system=aws", 422)["detail"]
    assert twice["loc"] == ["query", "system"] and twice["msg"] == "given more than once"
    unjudged = get(client, "/unjudged?limit=500")
    assert unjudged["total"] == UnjudgedItem.objects.count() > 0
    assert all(item["reason"] for item in unjudged["items"])
    assert {item["subject"] is None for item in unjudged["items"]} == {
        not item.subject for item in UnjudgedItem.objects.all()
    }


def test_scope_shows_systems_and_vendors_but_no_connector_settings(
    clients: Clients, served: Path
) -> None:
    programme = load(served)
    answer = get(clients[Role.AUDITOR], "/scope")
    assert [s["id"] for s in answer["systems"]] == [s.id for s in programme.systems]
    assert [v["name"] for v in answer["vendors"]] == [v.name for v in programme.vendors]
    okta = next(s for s in answer["systems"] if s["id"] == "okta")
    assert okta["connector"] == {"type": "okta", "mode": "export"}
    snapshot = EvidenceItem.objects.get(kind="snapshot", subject="okta")
    assert okta["last_collection"]["manifest_sha256"] == snapshot.sha256
    assert okta["last_collection"]["complete"] is True
    assert {"rule": "customer_data_out_of_scope", "subject": "warehouse"} in [
        {"rule": note["rule"], "subject": note["subject"]} for note in answer["notes"]
    ]
    text = json.dumps(answer)
    assert '"settings"' not in text and '"secrets"' not in text
    for system in programme.systems:
        for value in (system.connector.settings if system.connector else {}).values():
            assert "/" not in str(value) or str(value) not in text, value  # paths of exports


def test_a_statement_with_the_proof_assay_evidence_prove_prints(
    clients: Clients, served: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = clients[Role.AUDITOR]
    snapshots = get(client, "/evidence?kind=snapshot&limit=50")
    assert snapshots["total"] == EvidenceItem.objects.filter(kind="snapshot").count()
    assert {item["subject"] for item in snapshots["items"]} >= {"hr", "okta", "aws", "github"}
    chosen = snapshots["items"][1]
    detail = get(client, f"/evidence/{chosen['id']}")
    assert detail["sha256"] == chosen["sha256"] and detail["proof_problem"] is None
    proof = detail["proof"]
    signed = Checkpoint.objects.get(seq=proof["checkpoint"])
    assert proof["root"] == signed.root and proof["tree_size"] == signed.size
    assert merkle.verify_inclusion(
        proof["index"],
        proof["tree_size"],
        bytes.fromhex(chosen["id"]),
        [bytes.fromhex(node) for node in proof["proof"]],
        bytes.fromhex(signed.root),
    )
    capsys.readouterr()
    assert main(["evidence", "prove", chosen["id"], "--file", str(served)]) == 0
    assert json.loads(capsys.readouterr().out) == proof
    first = get(client, "/evidence?limit=1")["items"][0]["leaf_index"]
    page = get(client, "/evidence?limit=3&offset=2")
    assert [item["leaf_index"] for item in page["items"]] == [first + 2, first + 3, first + 4]
    assert get(client, f"/evidence/{'0' * 64}", 404)["detail"].endswith("not found")
    assert get(client, "/evidence/not-a-statement", 422)["detail"]


def test_a_persons_reach_is_what_assay_identities_person_answers(
    clients: Clients, served: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = get(clients[Role.PROGRAMME_OWNER], "/people/grace.lindqvist@acme.example")
    assert answer["run"] == Run.objects.get().pk
    capsys.readouterr()
    person = ["identities", "person", "grace.lindqvist@acme.example", "--format", "json"]
    assert main([*person, "--file", str(served)]) == 0
    assert answer["accounts"] == json.loads(capsys.readouterr().out)
    assert {a["system"] for a in answer["accounts"]} >= {"okta", "aws", "github"}
    assert get(clients[Role.AUDITOR], "/people/nobody@acme.example", 404) == {
        "detail": "person nobody@acme.example: not found"
    }
    assert get(clients[Role.AUDITOR], "/controls/XX-99", 404)["detail"]
    assert get(clients[Role.AUDITOR], "/no/such/path", 404) == {"detail": "not found"}


def test_the_auditor_sees_only_runs_inside_the_audit_period(clients: Clients, served: Path) -> None:
    period = load(served).audit.period
    before = datetime.combine(period.start - timedelta(days=3), time(9), tzinfo=UTC)
    old = Run.objects.create(
        started_at=before,
        finished_at=before + timedelta(minutes=2),
        status=Run.Status.COMPLETED,
        programme_sha256="0" * 64,
        organisation="Acme Cloud Ltd",
    )
    ControlResult.objects.create(
        run=old, control_id="AC-03", owner="IT administrator", status="passing", reason="old"
    )
    RecordedFinding.objects.create(
        run=old,
        check_id="mfa_enforced",
        rule="mfa_not_registered",
        system_id="okta",
        subject="before.the.period@acme.example",
        detail="",
        evidence_sha256="0" * 64,
    )
    auditor, owner = clients[Role.AUDITOR], clients[Role.PROGRAMME_OWNER]
    assert [r["id"] for r in get(owner, "/runs")["items"]][-1] == old.pk
    assert old.pk not in [r["id"] for r in get(auditor, "/runs")["items"]]
    assert get(owner, f"/findings?run={old.pk}")["total"] == 1
    get(auditor, f"/findings?run={old.pk}", 404)
    get(auditor, f"/controls?run={old.pk}", 404)
    get(auditor, f"/people/grace.lindqvist@acme.example?run={old.pk}", 404)
    assert [r["run"] for r in get(owner, "/controls/AC-03")["results"]][-1] == old.pk
    assert old.pk not in [r["run"] for r in get(auditor, "/controls/AC-03")["results"]]
