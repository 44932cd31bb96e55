"""The findings page: the run's findings filtered as ``assay findings`` filters them, each linked
to its subject, rule, controls and evidence; and what could not be judged, grouped."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.test import Client
from tests.web.conftest import CROWD

from assay.catalog import load_catalog
from assay.checks.models import RecordedFinding, UnjudgedItem
from assay.evidence.models import EvidenceItem
from assay.monitor.models import Run
from assay.sample import PlantedFinding
from assay.web.roles import Role

pytestmark = [pytest.mark.db, pytest.mark.django_db]
Clients = dict[Role | None, Client]
ROW = re.compile(r"<tr><td><a href=\"/findings/\?run=\d+&amp;rule=.*?</tr>", re.S)


def _rows(client: Client, query: str = "") -> list[str]:
    response = client.get(f"/findings/{query}")
    assert response.status_code == 200
    return ROW.findall(response.content.decode())


def _row_of(rows: list[str], planted: PlantedFinding) -> str:
    found = [r for r in rows if f">{planted.subject}<" in r and f">{planted.check}<" in r]
    assert len(found) == 1, planted
    return found[0]


def test_a_planted_finding_links_to_its_subject_rule_control_and_evidence(
    served: Path, planted: tuple[PlantedFinding, ...], clients: Clients
) -> None:
    rows = _rows(clients[Role.AUDITOR])
    assert len(rows) == len(planted)
    orphan = next(p for p in planted if p.subject == "zed-builds")
    row = _row_of(rows, orphan)
    recorded = RecordedFinding.objects.get(check_id=orphan.check, subject=orphan.subject)
    statement = EvidenceItem.objects.filter(
        run_id=recorded.run_id, sha256=recorded.evidence_sha256
    ).values_list("statement_id", flat=True)
    assert f'<a href="/evidence/{statement[0]}/">statement</a>' in row
    controls = [c.id for c in load_catalog().controls if orphan.check in c.checks]
    assert controls
    for control in controls:
        assert f'<a href="/controls/{control}/">{control}</a>' in row
    assert "rule=orphan_account" in row
    assert '<a href="/identities/systems/github/">zed-builds</a>' in row
    leaver = next(p for p in planted if p.rule == "leaver_active_account" and p.system == "github")
    assert re.search(r'href="/identities/people/[^"]+@acme\.example/">', _row_of(rows, leaver))


def test_filters_narrow_the_list(
    served: Path, planted: tuple[PlantedFinding, ...], clients: Clients
) -> None:
    client = clients[Role.AUDITOR]
    by_check = _rows(client, "?check=mfa_enforced")
    assert len(by_check) == sum(1 for p in planted if p.check == "mfa_enforced")
    by_system = _rows(client, "?system=github")
    assert len(by_system) == sum(1 for p in planted if p.system == "github")
    assert len(_rows(client, "?rule=orphan_account&system=aws")) == 1
    control = next(c for c in load_catalog().controls if "orphan_accounts" in c.checks)
    by_control = _rows(client, f"?control={control.id}")
    assert len(by_control) == sum(1 for p in planted if p.check in control.checks)
    run = Run.objects.filter(status=Run.Status.COMPLETED).values_list("pk", flat=True)[0]
    assert len(_rows(client, f"?run={run}")) == len(planted)


def test_a_bad_filter_is_a_message_not_an_error(served: Path, clients: Clients) -> None:
    client = clients[Role.AUDITOR]
    unknown = client.get("/findings/?control=ZZ-99")
    assert unknown.status_code == 200 and "ZZ-99" in unknown.content.decode()
    assert 'class="error"' in unknown.content.decode()
    missing = client.get("/findings/?run=99999")
    assert missing.status_code == 200
    assert "Run 99999 is not a completed run you may see." in missing.content.decode()
    assert not ROW.findall(missing.content.decode())


def test_what_could_not_be_judged_is_grouped_by_check_and_system(
    served: Path, clients: Clients
) -> None:
    body = clients[Role.AUDITOR].get("/findings/?show=unjudged").content.decode()
    total = UnjudgedItem.objects.count()
    assert total == 111
    assert f"{total} items in run" in body
    pairs = set(UnjudgedItem.objects.values_list("check_id", "system_id"))
    assert body.count("<details>") == len(pairs)
    for check, system in pairs:
        assert f'<th scope="row">{check}</th><td>{system}</td>' in body
    narrowed = clients[Role.AUDITOR].get("/findings/?show=unjudged&system=okta").content.decode()
    okta = UnjudgedItem.objects.filter(system_id="okta").count()
    assert f"{okta} item{'s' if okta != 1 else ''} in run" in narrowed


def test_a_long_list_is_paged(crowded: Path, clients: Clients) -> None:
    client = clients[Role.AUDITOR]
    run = Run.objects.filter(status=Run.Status.COMPLETED).values_list("pk", flat=True)[0]
    total = RecordedFinding.objects.filter(run_id=run, system_id="github").count()
    assert total > CROWD
    pages = [_rows(client, f"?system=github&page={n}") for n in range(1, -(-total // 50) + 1)]
    assert [len(p) for p in pages[:-1]] == [50] * (len(pages) - 1)
    assert sum(len(p) for p in pages) == total
    assert len({row for p in pages for row in p}) == total  # no row on two pages
    first = _rows(client, "?system=github")
    assert first == pages[0]
    page = client.get("/findings/?system=github").content.decode()
    assert 'href="?system=github&amp;page=2" rel="next"' in page


def test_the_auditor_sees_no_findings_from_a_run_outside_the_period(
    served: Path, clients: Clients
) -> None:
    run = Run.objects.values_list("pk", flat=True)[0]
    Run.objects.update(started_at=datetime(2000, 1, 1, tzinfo=UTC))
    body = clients[Role.AUDITOR].get("/findings/").content.decode()
    assert "No completed run falls inside the audit period" in body
    assert not ROW.findall(body)
    assert "not a completed run you may see" in (
        clients[Role.AUDITOR].get(f"/findings/?run={run}").content.decode()
    )
    assert _rows(clients[Role.PROGRAMME_OWNER])
