"""A real ``assay serve`` on a free loopback port, for the sample organisation after one run,
with a person and an API token made by the CLI: what a script calling the API would face.

Everything runs as subprocesses of the installed ``assay`` command, on the organisation's own
SQLite database (not the test database), so the server reads what the commands wrote.
"""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ASSAY = str(Path(sys.executable).with_name("assay"))
READY = "Assay is serving at "
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class LiveApi:
    url: str
    """The server's root, e.g. ``http://127.0.0.1:41234/``."""
    token: str
    email: str
    log: Path
    """What the server wrote to its standard output and error."""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _environment() -> dict[str, str]:
    """This process's environment without the test run's Django and Assay settings (database,
    programme), so the commands open the sample's own SQLite database as a user's would."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("ASSAY_", "DJANGO_"))}


def assay(*arguments: str, stdin: str | None = None) -> str:
    """Run one ``assay`` command to completion and return what it printed on standard output."""
    done = subprocess.run(
        [ASSAY, *arguments],
        input=stdin,
        capture_output=True,
        text=True,
        env=_environment(),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"assay {' '.join(arguments)}: {done.stderr}"
    return done.stdout


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_ready(server: subprocess.Popen[bytes], log: Path) -> str:
    """Read the server's output as it comes until the line announcing it serves (an event, not
    a guess at how long start-up takes); every line read is kept in ``log``."""
    assert server.stdout is not None
    watch = selectors.DefaultSelector()
    watch.register(server.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + START_TIMEOUT
    seen = b""
    with log.open("ab") as kept:
        while (left := deadline - time.monotonic()) > 0:
            if not watch.select(left):
                continue
            chunk = os.read(server.stdout.fileno(), 65536)
            if not chunk:
                break
            kept.write(chunk)
            seen += chunk
            for line in seen.decode(errors="replace").split("\n")[:-1]:  # whole lines only
                if line.startswith(READY):
                    return line.removeprefix(READY).split()[0]
    raise AssertionError(f"assay serve did not start: {seen.decode(errors='replace')[-2000:]}")


def _drain(server: subprocess.Popen[bytes], log: Path) -> None:
    """Keep what the server still writes, until it exits."""
    assert server.stdout is not None
    with log.open("ab") as kept:
        while chunk := server.stdout.read(65536):
            kept.write(chunk)


@contextmanager
def live_api(directory: Path, role: str = "admin") -> Iterator[LiveApi]:
    """Prepare the sample organisation in ``directory``, add ``role``@acme.example with a
    30-day token, serve it, and stop the server afterwards."""
    organisation = directory / "acme"
    programme = str(organisation / "assay.yaml")
    assay("init", "--sample", str(organisation))
    assay("run", "--file", programme)
    email = f"{role}@acme.example"
    assay("users", "add", email, "--role", role, "--file", programme)
    token = assay("tokens", "create", email, "--expires", "30d", "--file", programme).strip()
    log = directory / "serve.log"
    server = subprocess.Popen(
        [ASSAY, "serve", "--file", programme, "--port", str(free_port()), "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=_environment(),
        start_new_session=True,
    )
    try:
        url = _wait_for_ready(server, log)
        yield LiveApi(url, token, email, log)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        _drain(server, log)
        server.wait(timeout=30)
