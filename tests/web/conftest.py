"""The web app's fixtures: the sample organisation after one run, served to one person per role
(Django's test client on pytest-django's database); and for the end-to-end tests a live
``assay serve`` of its own, an OpenID Connect provider, and Chromium."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import Browser, Page
from tests.web import browser, live, oidc

from assay.cli import main
from assay.web.context import PROGRAMME_VARIABLE
from assay.web.models import Profile
from assay.web.roles import Role

PASSWORD = live.PASSWORD


@pytest.fixture
def served(sample: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Path:
    """The sample organisation after one completed run, as the web app serves it. Its registers
    and owner-evidence history are loaded first only for a test that compares the run with the
    planted problems (``planted``); the others start from empty registers of their own."""
    if "planted" in request.fixturenames:
        request.getfixturevalue("registered")
    programme = sample / "assay.yaml"
    assert main(["run", "--file", str(programme)]) == 0
    monkeypatch.setenv(PROGRAMME_VARIABLE, str(programme))
    return programme


@dataclass(frozen=True)
class Person:
    user: User
    role: Role | None
    totp_secret: str | None


def make_person(email: str, role: Role | None, *, second_factor: bool | None = None) -> Person:
    """A person with a password; a TOTP authenticator when their role needs one (or asked)."""
    user = User.objects.create_user(username=email, email=email, password=PASSWORD)
    if role is not None:
        Profile.objects.create(user=user, role=role.value)
    wanted = role is not None and role.needs_mfa if second_factor is None else second_factor
    secret = None
    if wanted:
        secret = generate_totp_secret()
        TOTP.activate(user, secret)
    return Person(user, role, secret)


@pytest.fixture
def people(served: Path) -> dict[Role, Person]:
    return {role: make_person(f"{role.value}@acme.example", role) for role in Role}


@pytest.fixture
def clients(people: dict[Role, Person]) -> Iterator[dict[Role | None, Client]]:
    """A signed-in test client per role, and ``None``: an anonymous visitor."""
    made: dict[Role | None, Client] = {None: Client()}
    for role, person in people.items():
        client = Client()
        client.force_login(person.user, backend="django.contrib.auth.backends.ModelBackend")
        made[role] = client
    yield made


CROWD = 150
"""GitHub members added by ``crowded``: more than a page of accounts and of findings."""


@pytest.fixture
def crowded(served: Path) -> Path:
    """The sample after a second run in which GitHub has ``CROWD`` members nobody on the roster
    is: as many orphan accounts, and as many findings."""
    members = served.parent / "exports/github/members.json"
    listed = json.loads(members.read_text())
    listed += [{**listed[0], "login": f"bulk-{n:04d}", "id": 10_000_000 + n} for n in range(CROWD)]
    members.write_text(json.dumps(listed))
    assert main(["run", "--file", str(served)]) == 0
    return served


@pytest.fixture(scope="session")
def provider() -> Iterator[oidc.Provider]:
    """One OpenID Connect provider for the session, on loopback."""
    with oidc.provider() as running:
        yield running


@pytest.fixture(scope="session")
def server(
    provider: oidc.Provider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[live.LiveServer]:
    """``assay serve`` of the sample organisation (one run, ``live.ACCOUNTS`` added, SSO by
    ``provider`` with the role from the ``assay_role`` claim), once for the session. Assay is
    registered with the provider as a client; its secret reaches it only by the environment."""
    directory = tmp_path_factory.mktemp("live")
    programme = directory / "acme" / "assay.yaml"
    port = live.free_port()
    client_id, secret = provider.register(f"http://127.0.0.1:{port}{live.SSO_CALLBACK}")
    env = live.environment(programme, **{live.OIDC_SECRET_VARIABLE: secret})
    web = (
        f"web:\n  oidc: {{issuer: '{provider.url}', client_id: '{client_id}', "
        f"client_secret_env: {live.OIDC_SECRET_VARIABLE}, role_claim: assay_role}}\n"
    )
    live.prepare_sample(programme, env, web)
    with live.serving(programme, env, directory / "serve.log", port) as running:
        yield running


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    with browser.chromium() as launched:
        yield launched


@pytest.fixture
def tab(
    chromium: Browser, server: live.LiveServer, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A fresh browser context (no cookies) on the live server; its last screen is kept."""
    context = chromium.new_context(base_url=server.url)
    page = context.new_page()
    try:
        yield page
    finally:
        browser.shot(page, f"{request.node.name}-last")
        context.close()
