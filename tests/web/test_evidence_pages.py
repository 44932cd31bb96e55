"""The evidence pages: browse, a statement read back from the locker, its blob, its proof, the
checkpoints and verify's last result; the auditor kept to the audit period."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import orjson
import pytest
from django.test import Client
from django.utils.html import escape

from assay.cli import main
from assay.evidence import merkle
from assay.evidence.models import Checkpoint, EvidenceItem, Verification
from assay.evidence.service import open_locker
from assay.monitor.models import Run
from assay.programme import load
from assay.web import audit
from assay.web.models import AuditEvent
from assay.web.roles import Role

pytestmark = [pytest.mark.db, pytest.mark.django_db]


def _snapshot(system: str = "okta") -> EvidenceItem:
    return EvidenceItem.objects.get(kind="snapshot", subject=system)


def test_browse_filters_by_system_kind_and_time_newest_first(
    served: Path, clients: dict[Role | None, Client]
) -> None:
    client = clients[Role.CONTROL_OWNER]
    everything = client.get("/evidence/")
    assert everything.status_code == 200
    total = EvidenceItem.objects.count()
    assert f"{total} statements" in everything.content.decode()

    okta = client.get("/evidence/", {"system": "okta"}).content.decode()
    wanted = EvidenceItem.objects.filter(subject__in=["okta"]) | EvidenceItem.objects.filter(
        kind="payload", subject__startswith="okta/"
    )
    assert f"{wanted.count()} statement" in okta
    for item in wanted.order_by("-collected_at", "-leaf_index")[:50]:
        assert f'href="/evidence/{item.statement_id}/"' in okta
    github = _snapshot("github")
    assert github.statement_id not in okta

    snapshots = client.get("/evidence/", {"kind": "snapshot"}).content.decode()
    for item in EvidenceItem.objects.filter(kind="snapshot"):
        assert item.statement_id in snapshots
    payload = EvidenceItem.objects.filter(kind="payload").first()
    assert payload is not None and payload.statement_id not in snapshots

    later = client.get("/evidence/", {"start": "2999-01-01"}).content.decode()
    assert "0 statements" in later and "No statements match." in later
    bad = client.get("/evidence/", {"start": "yesterday"}).content.decode()
    assert "Enter a valid date." in bad and "0 statements" in bad


def test_browse_pages_by_fifty_keeping_the_filters(
    served: Path, clients: dict[Role | None, Client]
) -> None:
    run = Run.objects.get().pk
    items = list(EvidenceItem.objects.order_by("-collected_at", "-leaf_index"))
    assert len(items) > 50, "the sample run stores more than a page"
    client = clients[Role.PROGRAMME_OWNER]
    first = client.get("/evidence/", {"run": run}).content.decode()
    assert f'href="/evidence/{items[0].statement_id}/"' in first
    assert f'href="/evidence/{items[50].statement_id}/"' not in first
    assert f'href="?run={run}&amp;page=2" rel="next"' in first
    second = client.get("/evidence/", {"run": run, "page": 2}).content.decode()
    assert f'href="/evidence/{items[50].statement_id}/"' in second
    assert f'href="/evidence/{items[0].statement_id}/"' not in second


def test_a_snapshot_shows_its_statement_and_manifest_from_the_locker(
    served: Path, clients: dict[Role | None, Client]
) -> None:
    item = _snapshot()
    locker = open_locker(load(served))
    statement = locker.statement(item.statement_id, item.leaf_index)
    manifest = orjson.loads(locker.get(item.sha256))
    response = clients[Role.AUDITOR].get(f"/evidence/{item.statement_id}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"<dt>sha-256</dt><dd><code>{item.sha256}</code></dd>" in html
    assert f"<dt>Size</dt><dd>{item.size} bytes</dd>" in html
    assert f"<dt>Row count</dt><dd>{manifest['row_count']}</dd>" in html
    assert f"<dt>Pages</dt><dd>{len(manifest['payloads'])}</dd>" in html
    assert escape(str(statement.connector_version)) in html
    assert statement.recorded_at.strftime("%Y-%m-%d %H:%M:%S") in html
    for payload in manifest["payloads"]:
        stored = EvidenceItem.objects.get(
            run=item.run, kind="payload", subject=f"okta/{payload['name']}"
        )
        assert f'<a href="/evidence/{stored.statement_id}/">{escape(payload["name"])}</a>' in html
    assert f'href="/evidence/{item.statement_id}/blob"' in html
    assert f'href="/evidence/{item.statement_id}/proof"' in html
    assert f"run {item.run_id}</a>" in html


def test_the_blob_downloads_with_its_hash_and_the_download_is_logged(
    served: Path, clients: dict[Role | None, Client]
) -> None:
    item = EvidenceItem.objects.filter(kind="payload", subject__startswith="okta/").first()
    assert item is not None
    response = clients[Role.AUDITOR].get(f"/evidence/{item.statement_id}/blob")
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == item.sha256
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert disposition.endswith(f'"{item.sha256[:12]}-{item.subject.replace("/", "_")}"')
    audit.flush(load(served))
    event = AuditEvent.objects.get(action="evidence downloaded")
    assert event.target == item.statement_id and event.actor == "auditor@acme.example"
    assert event.statement_id is not None


def test_the_inclusion_proof_verifies_against_the_checkpoint_root(
    served: Path, clients: dict[Role | None, Client]
) -> None:
    item = _snapshot()
    latest = Checkpoint.objects.order_by("-seq").first()
    assert latest is not None
    client = clients[Role.AUDITOR]
    shown = client.get(f"/evidence/{item.statement_id}/proof")
    assert shown.status_code == 200
    html = shown.content.decode()
    assert f"<dt>Leaf index</dt><dd>{item.leaf_index}</dd>" in html
    assert f"<code>{latest.root}</code>" in html and latest.sha256 in html
    download = client.get(f"/evidence/{item.statement_id}/proof", {"format": "json"})
    assert download["Content-Disposition"].startswith("attachment;")
    proof = json.loads(download.content)
    assert proof["statement"] == item.statement_id and proof["index"] == item.leaf_index
    assert proof["root"] == latest.root and proof["tree_size"] == latest.size
    assert proof["checkpoint"] == latest.seq and proof["checkpoint_sha256"] == latest.sha256
    for node in proof["proof"]:
        assert f"<code>{node}</code>" in html
    assert merkle.verify_inclusion(
        proof["index"],
        proof["tree_size"],
        bytes.fromhex(item.statement_id),
        [bytes.fromhex(node) for node in proof["proof"]],
        bytes.fromhex(latest.root),
    )


def test_checkpoints_and_the_last_verification(
    served: Path, clients: dict[Role | None, Client]
) -> None:
    client = clients[Role.PROGRAMME_OWNER]
    before = client.get("/evidence/checkpoints/").content.decode()
    assert "Not verified yet" in before
    for checkpoint in Checkpoint.objects.all():
        assert f"<code>{checkpoint.root}</code>" in before
    assert main(["verify", "--file", str(served)]) == 0
    passed = Verification.objects.get()
    logged = sum(1 for _ in open_locker(load(served)).statements())
    assert passed.passed and passed.statements == logged
    assert passed.checkpoints == Checkpoint.objects.count()
    html = client.get("/evidence/checkpoints/").content.decode()
    assert 'class="status-passing">passed' in html and escape(passed.summary) in html

    (served.parent / ".assay/locker/checkpoints/000000000001.json").unlink()
    assert main(["verify", "--file", str(served)]) == 3
    failed = Verification.objects.first()
    assert failed is not None and not failed.passed and failed.statements is None
    assert "missing" in failed.summary
    html = client.get("/evidence/checkpoints/").content.decode()
    assert 'class="status-failing">failed' in html and escape(failed.summary) in html
    assert "Earlier verifications" in html and escape(passed.summary) in html


def test_the_auditor_gets_404_for_evidence_outside_the_audit_period(
    served: Path, clients: dict[Role | None, Client]
) -> None:
    item = _snapshot()
    period = load(served).audit.period
    assert period.start <= item.collected_at.date() <= period.end
    text = served.read_text()
    served.write_text(
        text.replace(
            f"period: {{start: {period.start}, end: {period.end}}}",
            "period: {start: 2020-01-01, end: 2020-12-31}",
        )
    )
    assert load(served).audit.period.end == date(2020, 12, 31)
    auditor, owner = clients[Role.AUDITOR], clients[Role.PROGRAMME_OWNER]
    for suffix in ("", "blob", "proof", "proof?format=json"):
        url = f"/evidence/{item.statement_id}/{suffix}"
        assert auditor.get(url).status_code == 404, url
        assert owner.get(url).status_code == 200, url
    listed = auditor.get("/evidence/").content.decode()
    assert "0 statements" in listed and item.statement_id not in listed
    assert "No checkpoints in view." in auditor.get("/evidence/checkpoints/").content.decode()
    downloads = AuditEvent.objects.filter(action="evidence downloaded")
    assert [event.actor for event in downloads] == ["programme_owner@acme.example"]


def test_a_statement_no_checkpoint_signs_has_no_proof_and_says_so(
    served: Path, clients: dict[Role | None, Client]
) -> None:
    assert main(["run", "--file", str(served)]) == 0
    latest = Checkpoint.objects.order_by("-seq").first()
    assert latest is not None and latest.run is not None
    item = EvidenceItem.objects.filter(run=latest.run, kind="snapshot").first()
    assert item is not None
    (served.parent / f".assay/locker/checkpoints/{latest.seq:012d}.json").unlink()
    response = clients[Role.AUDITOR].get(f"/evidence/{item.statement_id}/proof")
    assert response.status_code == 409
    assert "no checkpoint in the locker signs it yet" in response.content.decode()
