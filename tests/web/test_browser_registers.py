"""Policies, owner evidence and the registers in Debian's Chromium against the live server: an
employee acknowledges a policy; a control owner uploads evidence for a window and a programme
owner, signed in with TOTP, accepts it, then looks through the registers and the form's errors.

Screenshots of every new kind of page: test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from tests.web import registers
from tests.web.browser import (
    navigation,
    path_of,
    set_up_totp,
    shot,
    sign_in_with_password,
    sign_out,
)
from tests.web.live import PASSWORD, LiveServer

from assay.catalog import Control
from assay.checks.controls import named_owner
from assay.programme import load
from assay.registers.windows import Window, evidenced_controls
from assay.sample.organisation import PEOPLE
from assay.sample.registers import NEVER_ACKNOWLEDGED

pytestmark = [pytest.mark.live, pytest.mark.browser]

EMPLOYEE = PEOPLE[NEVER_ACKNOWLEDGED[0]].email
"""On the sample's roster: one of the two who never acknowledged POL-01 (a planted problem)."""
ACCEPTING_OWNER = "accepting.owner@acme.example"
"""A second programme owner, who decides on what the control owner submits."""
EVIDENCE = b"account,manager,confirmed\nyara.salem,dana.reyes,yes\n"


def main_link(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()


def test_an_employee_acknowledges_a_policy(tab: Page, server: LiveServer) -> None:
    server.add_account(EMPLOYEE, "employee")
    sign_in_with_password(tab, EMPLOYEE, PASSWORD)
    tab.wait_for_url("**/policies/")
    assert navigation(tab) == [("Policies", "/policies/")]
    row = tab.locator("main tr", has=tab.get_by_role("link", name="POL-01", exact=True))
    expect(row).to_contain_text("not acknowledged")
    shot(tab, "employee-policies")

    row.get_by_role("link", name="POL-01", exact=True).click()
    tab.wait_for_url("**/policies/POL-01/")
    expect(tab.locator("main h1")).to_contain_text("POL-01")
    expect(tab.locator("article.policy-body h1, article.policy-body h2").first).to_be_visible()
    shot(tab, "employee-policy")
    tab.get_by_role("button", name="I have read and accept version 1.0", exact=True).click()
    expect(tab.locator("#acknowledgement")).to_contain_text("acknowledged version 1.0 on ")
    expect(tab.locator(".messages")).to_contain_text("You acknowledged POL-01 version 1.0.")
    expect(tab.get_by_role("button", name=re.compile("I have read and accept"))).to_have_count(0)
    shot(tab, "employee-policy-acknowledged")

    main_link(tab, "Policies")
    tab.wait_for_url("**/policies/")
    expect(row).to_contain_text(re.compile(r"acknowledged \d{4}-\d{2}-\d{2}"))
    other = tab.locator("main tr", has=tab.get_by_role("link", name="POL-02", exact=True))
    expect(other).to_contain_text(re.compile(r"acknowledged \d{4}-\d{2}-\d{2}"))
    shot(tab, "employee-policies-after")
    tab.goto("/registers/")
    expect(tab.locator("main h1")).to_have_text("Not allowed")
    sign_out(tab)


def _asked(server: LiveServer) -> tuple[Control, str, Window]:
    """An owner-evidenced control with a named owner, and the window a submission today answers."""
    programme = load(server.programme)
    for control in evidenced_controls(programme):
        owner = named_owner(programme, control)
        if owner is not None:
            return control, owner, registers.window_now(programme, control)
    raise AssertionError("no owner-evidenced control has a named owner")


def test_a_control_owner_uploads_evidence_and_a_programme_owner_accepts_it(
    tab: Page, server: LiveServer
) -> None:
    control, owner, window = _asked(server)
    request = f"/evidence-requests/{control.id}/{window.label}/"
    server.add_account(owner, "control_owner")
    sign_in_with_password(tab, owner, PASSWORD)
    tab.wait_for_url(re.compile(r"/$"))
    main_link(tab, "Evidence requests")
    tab.wait_for_url("**/evidence-requests/")
    expect(tab.locator("main h2").first).to_contain_text("Asked of you")
    shot(tab, "owner-evidence-requests")
    tab.locator(f'main a[href="{request}"]').first.click()
    tab.wait_for_url(f"**{request}")
    expect(tab.locator("#window-state")).not_to_contain_text("accepted")
    tab.locator("#files").set_input_files(
        [{"name": "access-review.csv", "mimeType": "text/csv", "buffer": EVIDENCE}]
    )
    tab.get_by_label("What the evidence shows").fill("Every admin account confirmed by a manager.")
    shot(tab, "owner-evidence-request-upload")
    tab.get_by_role("button", name="Submit for review", exact=True).click()
    expect(tab.locator("#window-state")).to_have_text("awaiting review")
    expect(tab.get_by_role("link", name="access-review.csv", exact=True)).to_be_visible()
    expect(tab.get_by_role("button", name="Accept", exact=True)).to_have_count(0)
    shot(tab, "owner-evidence-submitted")
    with tab.expect_download() as fetched:
        tab.get_by_role("link", name="access-review.csv", exact=True).click()
    assert fetched.value.suggested_filename == "access-review.csv"
    assert Path(fetched.value.path()).read_bytes() == EVIDENCE
    tab.goto(f"/controls/{control.id}/")
    expect(tab.locator("main h2", has_text="Owner evidence")).to_be_visible()
    shot(tab, "owner-control-owner-evidence")
    sign_out(tab)

    server.add_account(ACCEPTING_OWNER, "programme_owner")
    sign_in_with_password(tab, ACCEPTING_OWNER, PASSWORD)
    set_up_totp(tab, PASSWORD)
    main_link(tab, "Evidence requests")
    tab.wait_for_url("**/evidence-requests/")
    waiting = tab.locator("main table").first
    expect(tab.locator("main h2").first).to_have_text("Awaiting your review (1)")
    shot(tab, "programme-owner-evidence-requests")
    waiting.locator(f'a[href="{request}"]').click()
    tab.wait_for_url(f"**{request}")
    shot(tab, "programme-owner-evidence-request")
    tab.get_by_role("button", name="Accept", exact=True).click()
    expect(tab.locator("#window-state")).to_have_text("accepted")
    expect(tab.locator(".submission h3")).to_contain_text("accepted")
    expect(tab.locator(".submission")).to_contain_text(f"Accepted by {ACCEPTING_OWNER}")
    shot(tab, "programme-owner-evidence-accepted")

    look_through_the_registers(tab)
    sign_out(tab)


def look_through_the_registers(tab: Page) -> None:
    """The registers, a register, a record with its history, and the form's errors."""
    main_link(tab, "Registers")
    tab.wait_for_url("**/registers/")
    expect(tab.locator("main tbody tr")).to_have_count(8)
    shot(tab, "registers")
    tab.locator("main").get_by_role("link", name="Policies", exact=True).click()
    tab.wait_for_url("**/registers/policies/")
    expect(tab.locator("main tbody tr")).to_have_count(12)
    shot(tab, "register-policies")
    tab.get_by_role("link", name="POL-01", exact=True).click()
    tab.wait_for_url("**/registers/policies/POL-01/")
    expect(tab.locator("main h2", has_text="History")).to_be_visible()
    shot(tab, "register-record")
    tab.goto("/registers/risks/new")
    tab.locator("#id_id").fill("R-77")
    tab.locator("#id_title").fill("Backups restore too slowly")
    tab.locator("#id_likelihood").fill("3")
    tab.locator("#id_impact").fill("9")
    tab.locator("#id_owner").fill("nobody@acme.example")
    tab.get_by_role("button", name="Add", exact=True).click()
    expect(tab.locator(".problem")).to_have_count(2)
    expect(tab.locator("#id_owner")).to_have_value("nobody@acme.example")
    shot(tab, "register-form-problems")
    tab.locator("#id_impact").fill("4")
    tab.locator("#id_owner").fill("")
    tab.get_by_role("button", name="Add", exact=True).click()
    tab.wait_for_url("**/registers/risks/R-77/")
    expect(tab.locator(".messages")).to_contain_text("R-77 added to risks.")
    assert path_of(tab) == "/registers/risks/R-77/"
    shot(tab, "register-record-added")
