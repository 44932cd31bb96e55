"""The roster in live mode: an HR system's report URL, served here by a local HTTP server the way
report services answer (basic or bearer authentication, a 503 while the report is built)."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from dataclasses import replace

import pytest
from openpyxl import Workbook
from tests.connectors.conftest import MakeConfig
from tests.connectors.json_api_server import Headers, JsonApiServer, Request

from assay.connectors.hr_csv import COLUMNS, HrCsvConnector
from assay.connectors.hr_xlsx import HrXlsxConnector
from assay.connectors.registry import parser_for
from assay.errors import InputError

ROWS = [
    [
        "E1",
        "Jane@Acme.example",
        "Jane Doe",
        "",
        "Eng",
        "Engineer",
        "employee",
        "active",
        "2024-01-01",
        "",
    ],
    [
        "E2",
        "gone@acme.example",
        "Gone Person",
        "jane@acme.example",
        "Eng",
        "Engineer",
        "contractor",
        "terminated",
        "2024-02-01",
        "2026-10-01",
    ],
]
CSV = ("\n".join(",".join(row) for row in [list(COLUMNS), *ROWS]) + "\n").encode()
USER, PASSWORD = "raas-reader", "s3cret-report"


def workbook() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [list(COLUMNS), *ROWS]:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class ReportServer(JsonApiServer):
    """One report at ``/ccx/service/customreport2/acme/roster``; the first GET is a 503."""

    content_type = "text/csv; charset=utf-8"

    def __init__(self, body: bytes) -> None:
        super().__init__()
        self.body = body
        self.busy = 1

    def answer(self, path: str, headers: Mapping[str, str]) -> tuple[int, Headers, object]:
        self.requests.append(Request(path, headers))
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if headers.get("authorization") not in (expected, "Bearer report-token"):
            return 401, {"WWW-Authenticate": 'Basic realm="reports"'}, b"unauthorised"
        if not path.startswith("/ccx/service/customreport2/acme/roster?"):
            return 404, {}, b"no such report"
        if self.busy:
            self.busy -= 1
            return 503, {"Retry-After": "0"}, b"report is being generated"
        return 200, {}, self.body


def test_the_csv_report_reads_like_the_exported_file(make_config: MakeConfig) -> None:
    with ReportServer(CSV) as server:
        url = f"{server.url}/ccx/service/customreport2/acme/roster?format=csv"
        config = replace(
            make_config(mode="live", url=url), secrets={"username": USER, "password": PASSWORD}
        )
        collected = HrCsvConnector().collect(config)
    assert [p.email for p in collected.records.people] == ["jane@acme.example", "gone@acme.example"]
    (payload,) = collected.payloads
    assert (payload.name, payload.source, payload.data) == ("roster.csv", url, CSV)
    assert collected.parameters["url"] == url and collected.parameters["rows"] == 2
    assert PASSWORD not in repr(collected.parameters)
    assert parser_for("hr_csv")(collected.payloads, config) == collected.records
    assert len(server.requests) == 2  # the 503 was retried


def test_the_workbook_report_with_a_bearer_token(make_config: MakeConfig) -> None:
    with ReportServer(workbook()) as server:
        url = f"{server.url}/ccx/service/customreport2/acme/roster?format=xlsx"
        config = replace(make_config(mode="live", url=url), secrets={"token": "report-token"})
        collected = HrXlsxConnector().collect(config)
    assert [p.employee_id for p in collected.records.people] == ["E1", "E2"]
    assert collected.payloads[0].name == "roster.xlsx"


def test_refused_credentials_and_a_bad_url_are_clear_errors(make_config: MakeConfig) -> None:
    with ReportServer(CSV) as server:
        url = f"{server.url}/ccx/service/customreport2/acme/roster?format=csv"
        config = replace(make_config(mode="live", url=url), secrets={"token": "wrong"})
        with pytest.raises(InputError) as caught:
            HrCsvConnector().collect(config)
    assert "401" in str(caught.value) and "wrong" not in str(caught.value)
    with pytest.raises(InputError, match="'url' must be"):
        HrCsvConnector().collect(make_config(mode="live", url="ftp://example.com/roster.csv"))
