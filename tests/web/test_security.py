"""The web app's defences, from outside: headers, cookies, CSRF, sign-in throttling and lock-out,
no debug pages, and every sign-in (and failed one) kept in the evidence locker."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from tests.web.conftest import PASSWORD, Person, make_person

from assay.evidence import service
from assay.evidence.verify import verify
from assay.programme import load
from assay.web.models import AuditEvent
from assay.web.roles import Role

pytestmark = [pytest.mark.db, pytest.mark.django_db]


def _sign_in(client: Client, email: str, password: str) -> int:
    response = client.post("/accounts/login/", {"login": email, "password": password})
    return response.status_code


def test_every_page_carries_a_policy_that_forbids_inline_script_and_framing(
    clients: dict[Role | None, Client],
) -> None:
    for url in ("/accounts/login/", "/", "/profile/"):
        response = clients[Role.AUDITOR].get(url)
        policy = response["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["script-src"] == "'self'"
        assert "unsafe-inline" not in directives["script-src"]
        assert directives["frame-ancestors"] == "'none'"
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"


def test_every_response_names_the_apps_own_time_and_nothing_else(
    clients: dict[Role | None, Client],
) -> None:
    for client, url in (
        (clients[Role.AUDITOR], "/"),
        (clients[None], "/"),  # refused: a redirect to sign in
        (clients[None], "/no/such/page/"),
        (clients[Role.AUDITOR], "/api/v1/openapi.json"),
    ):
        metrics = dict(m.split(";dur=") for m in client.get(url)["Server-Timing"].split(", "))
        assert set(metrics) == {"app", "cpu"}
        assert 0 <= float(metrics["cpu"]) <= float(metrics["app"]) + 1  # two clocks, each rounded


def test_the_session_cookie_is_secure_http_only_and_same_site(served: Path) -> None:
    person = make_person("reader@acme.example", Role.AUDITOR)
    client = Client()
    assert _sign_in(client, person.user.email, PASSWORD) == 302
    cookie = client.cookies["sessionid"]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"
    assert client.cookies["csrftoken"]["httponly"]


def test_a_form_posted_without_its_csrf_token_is_refused(
    served: Path, people: dict[Role, Person]
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(
        people[Role.AUDITOR].user, backend="django.contrib.auth.backends.ModelBackend"
    )
    response = client.post("/profile/tokens/", {"days": 30})
    assert response.status_code == 403
    assert not people[Role.AUDITOR].user.api_tokens.exists()


def test_five_failed_sign_ins_lock_the_address_out_even_with_the_right_password(
    served: Path,
) -> None:
    person = make_person("target@acme.example", Role.AUDITOR)
    client = Client()
    for _ in range(5):
        assert _sign_in(client, person.user.email, "wrong-password-guess") == 200
    response = client.post("/accounts/login/", {"login": person.user.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    failed = AuditEvent.objects.filter(actor=person.user.email, action="sign-in", outcome="failed")
    assert failed.count() >= 5


def test_no_page_ever_shows_debug_information(clients: dict[Role | None, Client]) -> None:
    response = clients[Role.ADMIN].get("/controls/NO-SUCH-CONTROL/../../etc/passwd")
    body = response.content.decode()
    assert response.status_code == 404
    assert "Traceback" not in body and "DEBUG = True" not in body and "URLconf" not in body


def test_sign_ins_and_failures_become_statements_in_the_locker(served: Path) -> None:
    person = make_person("watched@acme.example", Role.AUDITOR)
    client = Client(REMOTE_ADDR="192.0.2.7")
    assert _sign_in(client, person.user.email, "not-the-password") == 200
    assert _sign_in(client, person.user.email, PASSWORD) == 302
    events = list(AuditEvent.objects.filter(actor=person.user.email).order_by("id"))
    assert [(e.action, e.outcome) for e in events] == [("sign-in", "failed"), ("sign-in", "ok")]
    assert all(e.statement_id for e in events), "every action reaches the locker at once"
    programme = load(served)
    kept = {
        sid: statement
        for sid, statement in service.open_locker(programme).statements()
        if statement.kind == "action"
    }
    for event in events:
        statement = kept[event.statement_id or ""]
        assert statement.subject == person.user.email
        assert statement.parameters["action"] == "sign-in"
        assert statement.parameters["outcome"] == event.outcome
        assert statement.parameters["address"] == "192.0.2.7"
    assert verify(service.backend_for(programme)).unchecked_tail == 0, "and is signed at once"
