"""``assay serve`` for real: the sample organisation prepared with the ``assay`` command as an
engineer would, served by gunicorn in a subprocess on a free loopback port, with its own SQLite
file beside the programme (not pytest-django's test database). Tests talk to it over HTTP.
"""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookiejar import Cookie, CookieJar, DefaultCookiePolicy
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit
from urllib.request import Request

import httpx

from assay.connectors._urls import is_loopback

ASSAY = Path(sys.executable).with_name("assay")
PASSWORD = "correct-horse-battery-staple-9"
OIDC_SECRET_VARIABLE = "ASSAY_TEST_OIDC_SECRET"
READY = "Assay is serving at "
SSO_CALLBACK = "/accounts/oidc/sso/login/callback/"
STARTUP_SECONDS = 120


@dataclass(frozen=True)
class Account:
    email: str
    role: str


OWNER = Account("owner@acme.example", "programme_owner")
"""A programme owner with a password and no second factor yet: sets one up at first sign-in."""
AUDITOR = Account("auditor@acme.example", "auditor")
ACCOUNTS = (OWNER, AUDITOR)


def environment(programme: Path, **extra: str) -> dict[str, str]:
    """The environment of an ``assay`` command for ``programme``: its own SQLite file, whatever
    the test run uses; no debug pages."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"ASSAY_DATABASE_URL", "ASSAY_PROGRAMME", "ASSAY_SECRET_KEY", "ASSAY_DEBUG"}
    }
    env.update(
        ASSAY_SQLITE_PATH=str(programme.parent / ".assay" / "assay.sqlite3"),
        PYTHONUNBUFFERED="1",
        COLUMNS="200",
        **extra,
    )
    return env


def assay(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """Run one ``assay`` command; its standard output, or a failure that shows what it said."""
    done = subprocess.run(
        [str(ASSAY), *args], env=env, input=stdin, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"assay {' '.join(args)}: {done.stdout}{done.stderr}"
    return done.stdout


def prepare_sample(programme: Path, env: dict[str, str], web: str) -> None:
    """``assay init --sample`` into ``programme``'s folder (its registers loaded), the ``web:``
    section added to its assay.yaml, one ``assay run``, and the accounts in ``ACCOUNTS`` added
    with a password."""
    written = subprocess.run(
        [str(ASSAY), "init", "--sample", str(programme.parent)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert written.returncode == 0, f"assay init --sample: {written.stdout}{written.stderr}"
    with programme.open("a") as handle:
        handle.write(web)
    assay(env, "run", "--file", str(programme))
    for account in ACCOUNTS:
        assay(
            env,
            *("users", "add", account.email, "--role", account.role, "--password-stdin"),
            *("--file", str(programme)),
            stdin=PASSWORD + "\n",
        )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class LiveServer:
    """A running ``assay serve``: its base URL, the programme file and the environment it has."""

    url: str
    programme: Path
    env: dict[str, str] = field(repr=False)
    log: Path
    """What the server wrote to its standard error (its log)."""

    def assay(self, *args: str) -> str:
        """An ``assay`` command on the served programme (same database), e.g. ``users list``."""
        return assay(self.env, *args, "--file", str(self.programme))

    def add_account(self, email: str, role: str) -> None:
        """A person with ``role`` and the test password (``assay users add``)."""
        assay(
            self.env,
            *("users", "add", email, "--role", role, "--password-stdin"),
            *("--file", str(self.programme)),
            stdin=PASSWORD + "\n",
        )

    def client(self) -> httpx.Client:
        """An HTTP client that keeps cookies as a browser does on loopback (``LoopbackPolicy``).

        httpx copies its cookies into a jar of the default policy for every request, so the
        cookie header is set from this jar by event hooks instead."""
        jar = httpx.Cookies(CookieJar(policy=LoopbackPolicy()))

        def send(request: httpx.Request) -> None:
            request.headers.pop("Cookie", None)
            jar.set_cookie_header(request)

        def keep(response: httpx.Response) -> None:
            jar.extract_cookies(response)

        hooks: dict[str, list[Callable[..., None]]] = {"request": [send], "response": [keep]}
        return httpx.Client(base_url=self.url, event_hooks=hooks, timeout=60)


@contextmanager
def serving(programme: Path, env: dict[str, str], log: Path, port: int) -> Iterator[LiveServer]:
    """``assay serve`` on ``port`` (see ``free_port``) until the block ends; ready when it
    prints its URL."""
    with log.open("w") as errors:
        process = subprocess.Popen(
            [
                *(str(ASSAY), "serve", "--file", str(programme)),
                *("--host", "127.0.0.1", "--port", str(port), "--workers", "2"),
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()

        def read() -> None:
            assert process.stdout is not None
            for line in process.stdout:  # drained to the end, so the server never blocks on it
                lines.put(line)
            lines.put("")

        threading.Thread(target=read, name="assay-serve-stdout", daemon=True).start()
        try:
            url = _wait_until_serving(lines, log)
            assert url == f"http://127.0.0.1:{port}/", url
            yield LiveServer(url.rstrip("/"), programme, env, log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_serving(lines: queue.Queue[str], log: Path) -> str:
    while True:
        try:
            line = lines.get(timeout=STARTUP_SECONDS)
        except queue.Empty:
            raise AssertionError(f"assay serve printed nothing for {STARTUP_SECONDS} s") from None
        if not line:
            raise AssertionError(f"assay serve stopped before serving:\n{log.read_text()}")
        if line.startswith(READY):
            return line[len(READY) :].split()[0]


class LoopbackPolicy(DefaultCookiePolicy):
    """Browsers count http://127.0.0.1 as a secure context and send it ``Secure`` cookies (the
    session cookie is one); Python's cookie jar only sends them over https. This one does what
    the browser does, and nothing more: loopback only."""

    def return_ok_secure(self, cookie: Cookie, request: Request) -> bool:
        if cookie.secure and is_loopback(urlsplit(request.get_full_url()).hostname or ""):
            return True
        return bool(super().return_ok_secure(cookie, request))


@dataclass
class Form:
    """An HTML form as a person sees it: where it goes, how, and its fields' values."""

    action: str
    method: str
    fields: dict[str, str]

    def submit(self, client: httpx.Client, page_url: str, **values: str) -> httpx.Response:
        """Send the form with ``values`` filled in, as the browser would from ``page_url``."""
        target = urljoin(page_url, self.action or page_url)
        data = {**self.fields, **values}
        if self.method == "post":
            return client.post(target, data=data, headers={"Origin": _origin(page_url)})
        return client.get(target, params=data)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.open: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            method = attributes.get("method", "get").lower()
            self.open = Form(attributes.get("action", ""), method, {})
            self.forms.append(self.open)
        elif self.open is not None and tag == "input" and attributes.get("name"):
            kind = attributes.get("type", "text")
            if "disabled" in attributes or kind == "submit":
                return
            if kind not in ("checkbox", "radio") or "checked" in attributes:
                self.open.fields[attributes["name"]] = attributes.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.open = None


def forms(html: str) -> list[Form]:
    """Every form in ``html`` with the values of its ``input`` fields (enough for sign-in)."""
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def only_form(response: httpx.Response, **match: Any) -> Form:
    """The one form on the page whose attributes equal ``match`` (e.g. ``method="post"``)."""
    found = [
        form
        for form in forms(response.text)
        if all(getattr(form, key) == value for key, value in match.items())
    ]
    assert len(found) == 1, f"{len(found)} forms matching {match} at {response.url}"
    return found[0]
