"""Hostile strings from sources, the programme file and people, through every page of the web app.

The sample's Okta export gains accounts whose logins are script tags, quotes, ``javascript:`` links,
markup, escape sequences and a 10,000-character name; the roster gives a leaver a formula for a
name; the programme file names a system, its reason and a vendor with HTML. Every page must render
(200) and show them as text: no element or attribute that the data brought, no script at all, no
``javascript:`` link; the strings themselves appear escaped.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from tests.hostile.sources import HOSTILE_LOGINS, add_hostile_okta_users, rename_leaver
from tests.web import registers
from tests.web.conftest import make_person

from assay.cli import main
from assay.evidence.models import EvidenceItem
from assay.registers import service
from assay.registers.kinds import KINDS
from assay.web.context import PROGRAMME_VARIABLE
from assay.web.roles import Role

pytestmark = [pytest.mark.db, pytest.mark.django_db]

SCRIPT = "<script>alert('system')</script>"
BREAKOUT = "\"'><img src=x onerror=alert(1)>"
JAVASCRIPT = "javascript:alert(document.cookie)"
SYSTEM_NAME = f"Okta {SCRIPT}"
SYSTEM_REASON = f"{BREAKOUT} {JAVASCRIPT} " + "Ω" * 10_000
VENDOR = f"Ticket{SCRIPT}desk"


class Elements(HTMLParser):
    """Every element and attribute a page holds, as a browser's tokenizer would find them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend((name, value or "") for name, value in attrs)


def _assert_inert(url: str, html: str) -> None:
    parsed = Elements()
    parsed.feed(html)
    assert "script" not in parsed.tags, f"{url}: a script element"
    assert "img" not in parsed.tags, f"{url}: an element the data brought"
    handlers = [name for name, _ in parsed.attributes if name.startswith("on")]
    assert not handlers, f"{url}: event handler attributes {handlers}"
    links = [v for n, v in parsed.attributes if n in ("href", "src", "action", "formaction")]
    assert not [v for v in links if v.strip().lower().startswith("javascript:")], url


@pytest.fixture
def hostile(sample: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    add_hostile_okta_users(sample / "exports")
    rename_leaver(sample / "exports" / "hr" / "roster.csv")
    programme = sample / "assay.yaml"
    text = programme.read_text(encoding="utf-8")
    text = text.replace("    name: Okta\n", f"    name: {json.dumps(SYSTEM_NAME)}\n", 1)
    text = text.replace(
        "reason: Every employee signs in to company systems through Okta",
        f"reason: {json.dumps(SYSTEM_REASON)}",
    )
    text = text.replace("- name: Ticketdesk", f"- name: {json.dumps(VENDOR)}")
    programme.write_text(text, encoding="utf-8")
    assert main(["run", "--file", str(programme)]) == 0
    monkeypatch.setenv(PROGRAMME_VARIABLE, str(programme))
    return programme


def _pages() -> list[str]:
    okta = EvidenceItem.objects.filter(kind="snapshot", subject__contains="okta").first()
    assert okta is not None
    pages = [
        "/",
        "/controls/",
        "/controls/AC-03/",
        "/controls/AC-05/",
        "/scope/",
        "/evidence/",
        "/evidence/?kind=payload",
        f"/evidence/{okta.statement_id}/",
        "/evidence/checkpoints/",
        "/findings/",
        "/findings/?system=okta",
        "/findings/?show=unjudged",
        "/identities/",
        "/identities/systems/okta/",
        "/identities/privileged/",
        "/identities/non-human/",
        "/identities/leavers/",
        "/identities/people/selin.yilmaz@acme.example/",
        "/users/",
        "/profile/",
    ]
    return pages


def test_every_page_shows_hostile_text_as_text(hostile: Path) -> None:
    admin = make_person("<u>admin</u>@acme.example", Role.ADMIN)
    client = Client()
    client.force_login(admin.user, backend="django.contrib.auth.backends.ModelBackend")
    seen = ""
    for url in _pages():
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        _assert_inert(url, html)
        seen += html
    assert "&lt;script&gt;alert(&#x27;system&#x27;)&lt;/script&gt;" in seen
    assert "&quot;&#x27;&gt;&lt;img src=x onerror=alert(1)&gt;" in seen
    assert "Ω" * 10_000 in seen
    assert "&lt;script&gt;alert(1)&lt;/script&gt;@acme.example" in seen
    assert "x" * 10_000 in seen
    assert "&lt;u&gt;admin&lt;/u&gt;@acme.example" in seen  # a person's own name, too
    # Control, bidi and zero-width characters show as escapes, as in the HTML report.
    assert "admin\\u202egpj.exe@acme.example" in seen
    assert not [c for c in "\u202e\u200b\x1b\x07\u2028" if c in seen]
    assert "bell\\x07back\\x08\\x08space@acme.example" in seen
    assert "admin\u202egpj.exe@acme.example" in HOSTILE_LOGINS


def test_a_hostile_person_name_never_reaches_the_page_as_markup(hostile: Path) -> None:
    reader = make_person("reader@acme.example", Role.AUDITOR)
    client = Client()
    client.force_login(reader.user, backend="django.contrib.auth.backends.ModelBackend")
    for url in ("/identities/systems/okta/", "/findings/?system=okta"):
        html = client.get(url).content.decode()
        _assert_inert(url, html)
        assert "[link=javascript:alert(1)]click.me[/link]@acme.example" in html


def test_register_and_evidence_request_pages_show_hostile_text_as_text(hostile: Path) -> None:
    """A vendor review keyed by the hostile vendor's name (a slash in its key), a risk and an
    owner's note and file name full of markup: every register, policy and request page inert."""
    programme = registers.name_owners(hostile)
    registers.add_starter_policies(programme)
    service.add(programme, KINDS["vendors"], {"vendor": VENDOR, "data_processed": SCRIPT}, "x@y")
    risk = {**registers.RISK, "title": SCRIPT, "plan": BREAKOUT, "description": JAVASCRIPT}
    service.add(programme, KINDS["risks"], risk, registers.AUTHOR)
    policy = {"body": f"{SCRIPT}\n\n[x]({JAVASCRIPT}) {BREAKOUT}", "title": SCRIPT}
    service.edit(programme, KINDS["policies"], "POL-01", policy, registers.AUTHOR)
    control = registers.owned_control(programme, registers.SECURITY)
    window = registers.window_now(programme, control)
    owner = Client()
    owner.force_login(
        make_person(registers.SECURITY, Role.CONTROL_OWNER).user,
        backend="django.contrib.auth.backends.ModelBackend",
    )
    request = f"/evidence-requests/{control.id}/{window.label}/"
    files = [SimpleUploadedFile(BREAKOUT.replace("/", ""), b"x")]
    assert owner.post(f"{request}submit", {"note": SCRIPT, "files": files}).status_code == 302

    admin = make_person("<u>admin</u>@acme.example", Role.ADMIN)
    client = Client()
    client.force_login(admin.user, backend="django.contrib.auth.backends.ModelBackend")
    vendor_url = "/registers/vendors/" + VENDOR.replace("<", "%3C").replace(">", "%3E") + "/"
    seen = ""
    for url in (
        "/registers/",
        "/registers/vendors/",
        vendor_url,
        vendor_url + "edit",
        "/registers/risks/",
        "/registers/risks/R-01/",
        "/registers/risks/R-01/edit",
        "/registers/policies/POL-01/",
        "/policies/",
        "/policies/POL-01/",
        "/evidence-requests/",
        request,
        f"/controls/{control.id}/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        _assert_inert(url, html)
        seen += html
    assert "Ticket&lt;script&gt;alert(&#x27;system&#x27;)&lt;/script&gt;desk" in seen
    assert "&quot;&#x27;&gt;&lt;img src=x onerror=alert(1)&gt;" in seen
