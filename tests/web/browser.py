"""Debian's Chromium driven by Playwright, and what a person does in it: sign in (password, TOTP,
SSO), sign out, look around. Playwright never fetches a browser of its own here.

Helpers for page tests: ``sign_in_with_password``, ``set_up_totp``, ``enter_totp``,
``sign_in_by_sso``, ``sign_out``, ``navigation``, ``changing_forms``, ``walk`` and ``shot``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from playwright.sync_api import Browser, Page, Response, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
ARGUMENTS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
SIGN_OUT = "/accounts/logout/"
TOTP_PERIOD = 30


@contextmanager
def chromium() -> Iterator[Browser]:
    """Chromium from /usr/bin (scripts/ensure-chromium installs it), headless, with a fresh
    profile of its own; each test opens a new context (no cookies or storage shared)."""
    assert CHROMIUM.exists(), "no /usr/bin/chromium: run scripts/ensure-chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=ARGUMENTS
        )
        try:
            yield browser
        finally:
            browser.close()


def shot(page: Page, name: str) -> Path:
    """A full-page screenshot kept as a test artefact under test-artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


def totp(secret: str, step: int) -> str:
    """RFC 6238 with the defaults every authenticator app uses (SHA-1, 6 digits, 30 s): what
    the person's phone would show, computed independently of the server's code."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def enter_totp(page: Page, secret: str, button: str) -> None:
    """Type the current code into the page's ``code`` field and press ``button``. A code that
    went stale on its way (its 30 s step ended) is typed again fresh, as a person would."""
    for _ in range(2):
        step = int(time.time()) // TOTP_PERIOD
        page.locator('input[name="code"]').fill(totp(secret, step))
        page.get_by_role("button", name=button, exact=True).click()
        page.wait_for_load_state()
        stale = int(time.time()) // TOTP_PERIOD != step
        if not (stale and page.locator('input[name="code"]').count()):
            return


def sign_in_with_password(page: Page, email: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.locator('input[name="login"]').fill(email)
    page.locator('input[name="password"]').fill(password)
    page.get_by_role("button", name="Sign In", exact=True).click()
    page.wait_for_load_state()


def set_up_totp(page: Page, password: str) -> str:
    """On the second-factor page a new admin or programme owner is sent to, activate an
    authenticator app. "Scanning" the QR code is reading the secret shown beside it. Returns
    the secret; the page is then the recovery codes allauth generates."""
    assert path_of(page) == "/accounts/2fa/", page.url
    page.get_by_role("link", name="Activate", exact=True).click()
    page.wait_for_load_state()
    if path_of(page).startswith("/accounts/reauthenticate/"):
        page.locator('input[name="password"]').fill(password)
        page.get_by_role("button", name="Confirm", exact=True).click()
        page.wait_for_load_state()
    assert path_of(page) == "/accounts/2fa/totp/activate/", page.url
    secret = page.locator("#authenticator_secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{16,}=*", secret), secret
    shot(page, "totp-activate")
    enter_totp(page, secret, "Activate")
    return secret


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_load_state()


def sign_in_by_sso(page: Page, sub: str) -> None:
    """From the sign-in page's SSO link, through the provider's own form, back to Assay."""
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Single sign-on", exact=True).click()
    page.get_by_role("button", name="Continue", exact=True).click()
    page.locator('input[name="sub"]').fill(sub)
    page.get_by_role("button", name="Authorize", exact=True).click()
    page.wait_for_load_state()


def navigation(page: Page) -> list[tuple[str, str]]:
    """The main navigation's links as (label, path)."""
    links = page.locator('nav[aria-label="Main"] a')
    return [
        (links.nth(i).inner_text().strip(), links.nth(i).get_attribute("href") or "")
        for i in range(links.count())
    ]


def changing_forms(page: Page) -> list[str]:
    """Where each form on the page that could change something would send it: every form not
    sent by GET, and every button that overrides its form's method."""
    found: list[str] = page.locator("form").evaluate_all(
        """forms => forms
            .filter(f => f.method !== "get" || f.querySelector("[formmethod=post]"))
            .map(f => new URL(f.action, location.href).pathname)"""
    )
    return found


def walk(page: Page, visit: Callable[[Page, Response], None], *, limit: int = 60) -> list[str]:
    """Open every page linked from the navigation, then the links inside those pages (same
    site, HTML only), breadth first, at most ``limit`` pages, and call ``visit`` on each.
    Returns the paths visited, in order (a link answered by a redirect or a download is not
    visited: assert on the result to catch a navigation link that is)."""
    base = urlsplit(page.url)
    queue = [href for _, href in navigation(page)]
    tried: set[str] = set()
    visited: list[str] = []
    while queue and len(visited) < limit:
        target = urlsplit(urljoin(page.url, queue.pop(0)))
        if target.path in tried or target.netloc != base.netloc:
            continue
        tried.add(target.path)
        probe = page.request.get(target.geturl(), max_redirects=0)
        if "text/html" not in probe.headers.get("content-type", ""):
            continue
        response = page.goto(target.geturl())
        assert response is not None
        visited.append(target.path)
        visit(page, response)
        queue.extend(page.locator("main a[href]").evaluate_all("links => links.map(a => a.href)"))
    return visited
