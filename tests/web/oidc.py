"""A real OpenID Connect provider on loopback for the SSO tests.

oidc-provider-mock (authlib under Flask) serves discovery, the authorization code flow, signed ID
tokens (RS256, its own key, published at its jwks_uri) and userinfo; only to clients registered
with it, each with its own secret and redirect URI. Version 0.3.4 registers no
PKCE extension, so ``Pkce`` in front of it holds the provider to RFC 7636: an authorization
request without an S256 ``code_challenge`` is refused, and a code is exchanged only with the
``code_verifier`` whose hash is that challenge. ``Provider.spoiling`` makes it hand out a bad ID
token on purpose, to show the client refuses it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from enum import Enum
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import oidc_provider_mock
import orjson
import werkzeug.serving

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
Wsgi = Callable[[Environ, StartResponse], Iterable[bytes]]


class Spoil(Enum):
    """A bad ID token the provider can be made to issue."""

    ISSUER = "issuer"
    """Signed by the provider's own key, but naming another issuer (``iss``): the same server
    called ``localhost`` instead of ``127.0.0.1``, a different issuer to the client."""
    AUDIENCE = "audience"
    """The provider's token with ``aud`` rewritten to another client (its signature broken)."""


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class Pkce:
    """WSGI middleware: PKCE (S256) required at the authorization and token endpoints; and the
    ID token spoiled on request."""

    def __init__(self, app: Wsgi) -> None:
        self.app = app
        self.challenges: dict[str, str] = {}
        self.spoil: Spoil | None = None
        self.refused: list[str] = []
        """Why the provider refused requests (a test asserts on what it expected)."""

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == "/oauth2/authorize" and method == "POST":
            return self._authorize(environ, start_response)
        if path == "/oauth2/token" and method == "POST":
            return self._token(environ, start_response)
        return self.app(environ, start_response)

    def _authorize(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        challenge = query.get("code_challenge", [""])[0]
        if not challenge or query.get("code_challenge_method", [""])[0] != "S256":
            return self._refuse(start_response, "invalid_request", "PKCE with S256 is required")

        def remember(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            location = dict(headers).get("Location", "")
            for code in parse_qs(urlsplit(location).query).get("code", []):
                self.challenges[code] = challenge
            return start_response(status, headers, *rest)

        return self.app(environ, remember)

    def _token(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        form = parse_qs(body.decode("ascii", "replace"))
        if form.get("grant_type") == ["authorization_code"]:
            challenge = self.challenges.pop(form.get("code", [""])[0], None)
            verifier = form.get("code_verifier", [""])[0]
            if challenge is None or not verifier or s256(verifier) != challenge:
                return self._refuse(start_response, "invalid_grant", "wrong PKCE code_verifier")
        if self.spoil is Spoil.ISSUER:  # the mock names its issuer after the Host header
            environ["HTTP_HOST"] = f"localhost:{environ['SERVER_PORT']}"
        if self.spoil is not Spoil.AUDIENCE:
            return self.app(environ, start_response)
        captured: dict[str, Any] = {}

        def hold(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            captured.update(status=status, headers=headers)
            return lambda _data: None

        answer = orjson.loads(b"".join(self.app(environ, hold)))
        header, payload, signature = answer["id_token"].split(".")
        claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims["aud"] = "another-client"
        spoiled = base64.urlsafe_b64encode(orjson.dumps(claims)).rstrip(b"=").decode()
        answer["id_token"] = f"{header}.{spoiled}.{signature}"
        out = orjson.dumps(answer)
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], [*headers, ("Content-Length", str(len(out)))])
        return [out]

    def _refuse(self, start_response: StartResponse, error: str, why: str) -> Iterable[bytes]:
        self.refused.append(why)
        body = orjson.dumps({"error": error, "error_description": why})
        start_response(
            "400 Bad Request",
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]


class Provider:
    """The running provider: its issuer URL, and the claims it will vouch for."""

    def __init__(self, url: str, guard: Pkce) -> None:
        self.url = url
        self.guard = guard

    def register(self, redirect_uri: str) -> tuple[str, str]:
        """A new client (dynamic registration, RFC 7591) that may be sent back only to
        ``redirect_uri`` and must present its secret in the token request: (id, secret)."""
        response = httpx.post(
            f"{self.url}/oauth2/clients",
            json={
                "redirect_uris": [redirect_uri],
                "token_endpoint_auth_method": "client_secret_post",
            },
        )
        assert response.status_code == 201, response.text
        answer = response.json()
        return answer["client_id"], answer["client_secret"]

    def set_claims(self, sub: str, claims: dict[str, object]) -> None:
        """What the provider says about ``sub`` at their next sign-in (ID token and userinfo)."""
        response = httpx.put(f"{self.url}/users/{quote(sub, safe='')}", json=claims)
        assert response.status_code == 204, response.text

    @contextmanager
    def spoiling(self, how: Spoil) -> Iterator[None]:
        self.guard.spoil = how
        try:
            yield
        finally:
            self.guard.spoil = None


@contextmanager
def provider() -> Iterator[Provider]:
    """The provider on a free loopback port, in a thread of this process, until the block ends."""
    guard = Pkce(oidc_provider_mock.app(require_client_registration=True))
    server = werkzeug.serving.make_server("127.0.0.1", 0, guard, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="oidc-provider", daemon=True)
    thread.start()
    try:
        yield Provider(f"http://127.0.0.1:{server.server_port}", guard)
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
