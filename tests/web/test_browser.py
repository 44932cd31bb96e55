"""The web app as a person uses it, in Debian's Chromium: sign in with a password and TOTP,
the dashboard, sign out, sign in by SSO, and the auditor's read-only walk.

The owner also follows a failing control to the evidence its latest result read and fetches that
statement's inclusion proof. Screenshots: test-artifacts/screenshots/.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, Response, expect
from tests.web.browser import (
    SIGN_OUT,
    TOTP_PERIOD,
    changing_forms,
    enter_totp,
    navigation,
    path_of,
    set_up_totp,
    shot,
    sign_in_by_sso,
    sign_in_with_password,
    sign_out,
    totp,
    walk,
)
from tests.web.live import AUDITOR, OWNER, PASSWORD
from tests.web.oidc import Provider

pytestmark = [pytest.mark.live, pytest.mark.browser]

PROGRAMME_NAVIGATION = [
    ("Dashboard", "/"),
    ("Controls", "/controls/"),
    ("Scope", "/scope/"),
    ("Evidence", "/evidence/"),
    ("Identities", "/identities/"),
    ("Findings", "/findings/"),
    ("Evidence requests", "/evidence-requests/"),
    ("Registers", "/registers/"),
    ("Policies", "/policies/"),
]


def who(page: Page) -> str:
    return page.locator("header .who").inner_text()


def test_a_new_programme_owner_sets_up_totp_then_signs_in_with_it(tab: Page) -> None:
    sign_in_with_password(tab, OWNER.email, PASSWORD)
    # The role needs a second factor: nothing else opens until there is one.
    assert path_of(tab) == "/accounts/2fa/"
    shot(tab, "owner-asked-for-a-second-factor")
    tab.goto("/controls/")
    assert path_of(tab) == "/accounts/2fa/"
    secret = set_up_totp(tab, PASSWORD)
    assert path_of(tab) == "/accounts/2fa/recovery-codes/"
    shot(tab, "owner-recovery-codes")
    sign_out(tab)
    assert path_of(tab) == "/accounts/login/"

    sign_in_with_password(tab, OWNER.email, PASSWORD)
    assert path_of(tab) == "/accounts/2fa/authenticate/"
    step = int(time.time()) // TOTP_PERIOD
    valid = {totp(secret, near) for near in range(step - 2, step + 3)}
    tab.locator('input[name="code"]').fill(next(c for c in ("000000", "111111") if c not in valid))
    tab.get_by_role("button", name="Sign In", exact=True).click()
    assert path_of(tab) == "/accounts/2fa/authenticate/"  # a wrong code: still asked
    expect(tab.locator("main")).to_contain_text("Incorrect code")
    enter_totp(tab, secret, "Sign In")
    assert path_of(tab) == "/"
    expect(tab.locator("main h1")).to_have_count(1)
    assert navigation(tab) == PROGRAMME_NAVIGATION
    assert OWNER.email in who(tab) and "Programme owner" in who(tab)
    # The chart is drawn (an inline SVG) and its numbers are in the table beside it.
    expect(tab.locator("figure.chart svg")).to_be_visible()
    expect(tab.locator("#status-table tbody tr")).to_have_count(1)
    shot(tab, "owner-dashboard")

    follow_a_failing_control_to_its_proof(tab)
    sign_out(tab)
    tab.goto("/")
    assert path_of(tab) == "/accounts/login/"


def follow_a_failing_control_to_its_proof(tab: Page) -> None:
    tab.get_by_role("navigation", name="Main").get_by_role("link", name="Controls").click()
    tab.locator("select[name=status]").select_option("failing")
    tab.locator("select[name=automated]").select_option("yes")  # one a check found failing
    tab.get_by_role("button", name="Show").click()
    assert "status=failing" in tab.url
    tab.locator("main table tbody tr td a").first.click()
    assert path_of(tab).startswith("/controls/")
    latest = tab.locator("section.run").first
    expect(latest.locator("h3")).to_contain_text("failing")
    shot(tab, "owner-failing-control")
    latest.locator("a", has_text="snapshot").first.click()
    assert path_of(tab).startswith("/evidence/")
    expect(tab.locator("main")).to_contain_text("sha-256")
    shot(tab, "owner-evidence-of-the-latest-result")
    tab.get_by_role("link", name="inclusion proof").first.click()
    assert path_of(tab).endswith("/proof")
    expect(tab.locator("main")).to_contain_text("checked before this page was shown")
    shot(tab, "owner-inclusion-proof")


def test_sign_in_by_sso_in_the_browser(tab: Page, provider: Provider) -> None:
    sub = "lin.browser@sso.acme.example"
    provider.set_claims(sub, {"email": sub, "name": "Lin", "assay_role": "control_owner"})
    sign_in_by_sso(tab, sub)
    assert path_of(tab) == "/"
    assert sub in who(tab) and "Control owner" in who(tab)
    assert navigation(tab) == PROGRAMME_NAVIGATION
    shot(tab, "sso-signed-in")
    sign_out(tab)
    assert path_of(tab) == "/accounts/login/"


def test_the_auditor_can_reach_no_form_that_changes_anything(tab: Page) -> None:
    sign_in_with_password(tab, AUDITOR.email, PASSWORD)
    assert path_of(tab) == "/"
    assert navigation(tab) == PROGRAMME_NAVIGATION  # no Users
    nav_paths = {href for _, href in PROGRAMME_NAVIGATION}

    def visit(page: Page, response: Response) -> None:
        assert response.status == 200, page.url
        expect(page.locator("main h1")).to_have_count(1)
        assert navigation(page) == PROGRAMME_NAVIGATION
        assert changing_forms(page) == [SIGN_OUT], page.url
        if (path := path_of(page)) in nav_paths:
            shot(page, "auditor-" + (path.strip("/").replace("/", "-") or "dashboard"))

    seen = walk(tab, visit)
    assert nav_paths <= set(seen)
    assert not any(path.startswith("/users/") for path in seen)
