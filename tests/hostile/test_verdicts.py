"""A source that does not answer, or answers only in part, never turns into a pass, and hides
nothing the other sources show: the sample organisation with its Okta org unreachable."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from tests.connectors.json_api_server import Headers, JsonApiServer
from tests.connectors.okta_server import okta_error

from assay.checks.base import Status
from assay.checks.models import CheckResult
from assay.cli import main
from assay.connectors.base import ConnectorConfig
from assay.connectors.okta import OktaConnector
from assay.sample import PlantedFinding

Capture = pytest.CaptureFixture[str]
pytestmark = [pytest.mark.db, pytest.mark.django_db]
TOKEN_VARIABLE = "ASSAY_TEST_OKTA_TOKEN"
OKTA_CHECKS = ("mfa_enforced", "leaver_access", "orphan_accounts", "scope_drift")


class OktaAwayForAnHour(JsonApiServer):
    """Okta throttling every request and asking to be called back in an hour."""

    answered = 0

    def answer(self, path: str, headers: Mapping[str, str]) -> tuple[int, Headers, Any]:
        self.answered += 1
        return 429, {"Retry-After": "3600"}, okta_error("E0000047", "API call exceeded rate limit")


def _okta_live(programme: Path, url: str) -> None:
    text = programme.read_text()
    line = "    connector: {type: okta, mode: export, settings: {path: exports/okta}}"
    assert line in text
    live = (
        f"    connector: {{type: okta, mode: live, settings: {{base_url: '{url}'}}, "
        f"secrets: {{token: {TOKEN_VARIABLE}}}}}"
    )
    programme.write_text(text.replace(line, live))


def test_an_unanswering_okta_leaves_its_checks_not_tested_and_the_rest_standing(
    sample: Path,
    planted: tuple[PlantedFinding, ...],
    capsys: Capture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(TOKEN_VARIABLE, "00NotARealToken")
    programme = sample / "assay.yaml"
    with OktaAwayForAnHour() as okta:
        _okta_live(programme, okta.url)
        assert main(["run", "--file", str(programme)]) == 0
        assert okta.answered
    summary = " ".join(capsys.readouterr().out.split())  # as read, whatever the terminal width
    assert "and systems not judged at all: okta (assay findings --unjudged)" in summary

    results = {r.check_id: r for r in CheckResult.objects.all()}
    for check_id in OKTA_CHECKS:
        result = results[check_id]
        assert result.status != Status.PASSING, check_id
        assert "not tested on okta: incomplete population" in result.summary, check_id

    assert main(["findings", "--file", str(programme), "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    found = {
        PlantedFinding(f["check"], f["rule"], f["system"], f["subject"]) for f in listed["findings"]
    }
    # Everything planted on the other systems still stands; nothing on okta could be judged.
    assert {p for p in planted if p.system != "okta"} <= found
    assert not any(f.system == "okta" for f in found)
    # A leaver whose slowest account was on okta is now judged by the slowest of the others.
    late_on_okta = {p.subject for p in planted if p.rule == "late_deprovisioning"}
    assert all(
        f.rule == "late_deprovisioning" and f.subject in late_on_okta for f in found - set(planted)
    )
    whole = {(u["check"], u["system"]) for u in listed["unjudged"] if u["subject"] is None}
    assert {(c, "okta") for c in OKTA_CHECKS} <= whole

    assert main(["findings", "--file", str(programme), "--unjudged", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    drift = [r for r in rows if r["check"] == "scope_drift"]
    assert [(r["system"], r["subject"]) for r in drift] == [("okta", "(whole system)")]
    assert drift[0]["reason"].startswith("incomplete population (")

    html = (sample / ".assay" / "reports" / "readiness.html").read_text()
    assert "Could not be judged" in html and "the whole system" in html


def test_a_refused_connection_leaves_an_empty_incomplete_snapshot(tmp_path: Path) -> None:
    """The shape the checks must not read as 'nothing wrong': no records, complete false."""
    with OktaAwayForAnHour() as server:
        url = server.url
    config = ConnectorConfig(
        system_id="okta",
        mode="live",
        settings={"base_url": url},  # nobody listens there any more
        secrets={"token": "00NotARealToken"},
        base_dir=tmp_path,
    )
    collected = OktaConnector(sleep=lambda _seconds: None).collect(config)
    assert not collected.complete
    assert collected.records.count() == 0
    assert "connection failed" in (collected.incomplete_reason or "")
