"""Single sign-on end to end over real HTTP, with no browser: the live ``assay serve`` and a real
OpenID Connect provider on loopback (discovery, authorization code flow with PKCE, ID tokens it
signs itself). Nothing in Assay or allauth is patched; the client follows the redirects and
submits the provider's form as a browser would."""

from __future__ import annotations

import itertools
import re
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from tests.web.live import SSO_CALLBACK, LiveServer, only_form
from tests.web.oidc import Provider, Spoil, s256

pytestmark = pytest.mark.live
_numbers = itertools.count(1)


def new_sub(stem: str) -> str:
    """An address nobody has signed in with yet (the session's server is shared)."""
    return f"{stem}.{next(_numbers)}@sso.acme.example"


def sso_sign_in(server: LiveServer, client: httpx.Client, sub: str) -> httpx.Response:
    """Assay's SSO page, its Continue button, the provider's form for ``sub``, back to Assay's
    callback. Returns the callback's answer."""
    start = client.get("/accounts/oidc/sso/login/")
    assert start.status_code == 200
    to_provider = only_form(start, method="post").submit(client, str(start.url))
    assert to_provider.status_code == 302, to_provider.text
    authorize = to_provider.headers["Location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
    assert query["redirect_uri"] == [f"{server.url}{SSO_CALLBACK}"] and query["state"]
    assert client.get(authorize).status_code == 200  # the provider's sign-in form
    back = client.post(authorize, data={"sub": sub})
    assert back.status_code == 302, back.text
    callback = back.headers["Location"]
    assert callback.startswith(f"{server.url}{SSO_CALLBACK}?")
    return client.get(callback)


def signed_in_as(client: httpx.Client) -> tuple[str, str | None] | None:
    """(e-mail, role label or None) as the page header shows them; None: not signed in."""
    page = client.get("/profile/")
    if page.status_code == 302:
        assert page.headers["Location"].startswith("/accounts/login/")
        return None
    found = re.search(
        r'<div class="who">\s*<a href="/profile/">([^<]+)</a>'
        r'(?: <span class="role">([^<]+)</span>)?',
        page.text,
    )
    assert found is not None, page.text
    return found[1], found[2]


def roles_listed(server: LiveServer) -> dict[str, str]:
    """E-mail → role as ``assay users list`` prints them."""
    rows = (line.split("│") for line in server.assay("users", "list").splitlines())
    return {cells[1].strip(): cells[2].strip() for cells in rows if len(cells) > 3}


def sign_out(client: httpx.Client) -> None:
    page = client.get("/profile/")
    only_form(page, action="/accounts/logout/").submit(client, str(page.url))
    assert signed_in_as(client) is None


def test_sso_creates_the_person_with_the_role_from_the_claim(
    server: LiveServer, provider: Provider
) -> None:
    sub = new_sub("ada")
    provider.set_claims(sub, {"email": sub, "name": "Ada", "assay_role": "auditor"})
    refused_before = len(provider.guard.refused)
    with server.client() as client:
        answer = sso_sign_in(server, client, sub)
        assert answer.status_code == 302 and answer.headers["Location"] == "/"
        assert signed_in_as(client) == (sub, "Auditor")
        assert client.get("/").status_code == 200
    assert roles_listed(server)[sub] == "auditor"
    # The code was exchanged with the verifier of its challenge (the provider checks).
    assert provider.guard.refused[refused_before:] == []
    assert provider.guard.challenges == {}


def test_the_role_follows_the_claim_at_every_sign_in(
    server: LiveServer, provider: Provider
) -> None:
    sub = new_sub("grace")
    with server.client() as client:
        for claimed, shown in (
            ("auditor", "Auditor"),
            ("control_owner", "Control owner"),
            ("superuser", None),  # not a role: no role at all, rather than a guess
        ):
            provider.set_claims(sub, {"email": sub, "assay_role": claimed})
            assert sso_sign_in(server, client, sub).status_code == 302
            assert signed_in_as(client) == (sub, shown)
            sign_out(client)
    assert roles_listed(server)[sub] == "none"


def test_a_new_person_whose_claim_is_no_role_gets_none(
    server: LiveServer, provider: Provider
) -> None:
    sub = new_sub("mallory")
    provider.set_claims(sub, {"email": sub, "assay_role": "root"})
    with server.client() as client:
        assert sso_sign_in(server, client, sub).status_code == 302
        assert signed_in_as(client) == (sub, None)
        assert client.get("/").status_code == 403
        assert client.get("/findings/").status_code == 403


@pytest.mark.parametrize("spoil", list(Spoil), ids=lambda spoil: spoil.value)
def test_an_id_token_for_another_issuer_or_client_is_refused(
    server: LiveServer, provider: Provider, spoil: Spoil
) -> None:
    sub = new_sub(f"eve-{spoil.value}")
    provider.set_claims(sub, {"email": sub, "assay_role": "admin"})
    with server.client() as client, provider.spoiling(spoil):
        answer = sso_sign_in(server, client, sub)
        assert answer.status_code == 401
        assert "Third-Party Login Failure" in answer.text
        assert signed_in_as(client) is None
    assert sub not in roles_listed(server)


def test_the_provider_holds_every_client_to_pkce_and_its_secret(provider: Provider) -> None:
    """What makes the sign-ins above evidence of PKCE and of the secret read from the
    environment: without a challenge there is no code, and a code is exchanged only with the
    verifier of its challenge and the client's own secret."""
    callback = "http://127.0.0.1:9/callback"
    client_id, secret = provider.register(callback)
    request = {"client_id": client_id, "response_type": "code", "scope": "openid email"}
    request |= {"redirect_uri": callback, "state": "s"}

    def authorize(client: httpx.Client, **pkce: str) -> httpx.Response:
        query = urlencode({**request, **pkce})
        return client.post(f"/oauth2/authorize?{query}", data={"sub": "p@x.example"})

    def exchange(client: httpx.Client, verifier: str, **sent: str) -> httpx.Response:
        granted = authorize(client, code_challenge=s256(verifier), code_challenge_method="S256")
        code = parse_qs(urlsplit(granted.headers["Location"]).query)["code"][0]
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": callback}
        form |= {"client_id": client_id, "client_secret": secret, "code_verifier": verifier}
        return client.post("/oauth2/token", data=form | sent)

    verifier = secrets.token_urlsafe(48)
    with httpx.Client(base_url=provider.url) as client:
        assert authorize(client).status_code == 400
        wrong_verifier = exchange(client, verifier, code_verifier=verifier + "x")
        assert wrong_verifier.status_code == 400
        assert wrong_verifier.json()["error"] == "invalid_grant"
        wrong_secret = exchange(client, verifier, client_secret=secret + "x")
        assert wrong_secret.status_code == 401
        assert wrong_secret.json()["error"] == "invalid_client"
        right = exchange(client, verifier)
        assert right.status_code == 200 and right.json()["id_token"]


def test_a_role_an_admin_gave_stands_whatever_the_claim_says(
    server: LiveServer, provider: Provider
) -> None:
    sub = new_sub("kept")
    server.assay("users", "add", sub, "--role", "control_owner")
    provider.set_claims(sub, {"email": sub, "email_verified": True, "assay_role": "admin"})
    with server.client() as client:
        answer = sso_sign_in(server, client, sub)
        assert answer.status_code == 302
        assert signed_in_as(client) == (sub, "Control owner")
    assert roles_listed(server)[sub] == "control_owner"
