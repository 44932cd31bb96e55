"""Benchmark: the web app's pages under load, against the real ``assay serve``.

Usage: ``.venv/bin/python bench/web.py [--people 10000] [--keep DIR] [--requests 200]
[--clients 10] [--workers 2]``

Generates the synthetic organisation (``assay.sample.synthetic``, as ``bench/scale.py`` does) and
runs the real ``assay run`` once on a fresh SQLite database — or, with ``--keep DIR`` naming a
directory this script filled before, reuses it as it stands. Adds an auditor for this invocation
(disabled again at the end), starts ``assay serve``, signs in once through the login form, opens
each page once, then a few times from every client so that each worker has loaded and drawn
everything, then drives ``--clients`` threads, each with its own HTTP connection, over the
dashboard, the control list, a failing automated control's page, the page of the person with the
most accounts and the findings list, ``--requests`` requests per page, interleaved. Per page
it prints p50/p95/max of the server's own time and of its thread's CPU time (the ``Server-Timing``
header), and of the time the client saw (request sent to body read), and every status other than
200. Exits 1 if a page's p95 server time is at or over the target, or if any response was not a
200.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import secrets
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
from scale import assay

from assay.catalog import load_catalog
from assay.sample.synthetic import generate

TARGET_P95_MS = 200.0
PLACEHOLDER = "This page is being built."
"""What a page not yet written says (web/placeholder.html): its figures measure only the frame."""


@dataclass
class Page:
    name: str
    path: str
    server_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    client_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    placeholder: bool = False


def prepare(directory: Path, people: int, seed: int) -> None:
    """Generate the organisation and run it once, unless ``directory`` already holds a run."""
    if (directory / ".assay" / "assay.sqlite3").exists():
        print(f"reusing {directory} (generated and run before)")
        return
    started = time.perf_counter()
    generate(directory, people=people, seed=seed)
    print(f"generated {people:,} people in {time.perf_counter() - started:.1f} s")
    assay("init", "--key", "--file", "assay.yaml", cwd=directory)
    started = time.perf_counter()
    assay("run", "--file", "assay.yaml", cwd=directory)
    print(f"assay run: {time.perf_counter() - started:.1f} s")


def targets(directory: Path) -> tuple[str, str, int]:
    """A failing automated control of the latest completed run whose checks read the most
    evidence, and the person with the most accounts (and how many)."""
    catalog = load_catalog()
    with sqlite3.connect(directory / ".assay" / "assay.sqlite3") as db:
        (run,) = db.execute("SELECT max(id) FROM monitor_run WHERE status = 'completed'").fetchone()
        evidence = {
            check: len(json.loads(shas))
            for check, shas in db.execute(
                "SELECT check_id, evidence FROM checks_checkresult WHERE run_id = ?", (run,)
            )
        }
        failing = [
            catalog.control(control_id)
            for (control_id,) in db.execute(
                "SELECT control_id FROM checks_controlresult WHERE run_id = ? AND status = ?",
                (run, "failing"),
            )
        ]
        person, accounts = db.execute(
            "SELECT person_email, count(*) FROM inventory_inventoryaccount"
            " WHERE person_email IS NOT NULL GROUP BY person_email"
            " ORDER BY count(*) DESC, person_email LIMIT 1"
        ).fetchone()
    automated = [c for c in failing if not c.manual and c.checks]
    if not automated:
        raise SystemExit("the run has no failing automated control to open")
    control = max(automated, key=lambda c: (sum(evidence.get(k, 0) for k in c.checks), c.id))
    return control.id, person, accounts


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_server(directory: Path, port: int, workers: int) -> subprocess.Popen[str]:
    """``assay serve``, returned once it prints that it is serving."""
    command = [str(Path(sys.executable).with_name("assay")), "serve", "--file", "assay.yaml"]
    command += ["--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(
        command, cwd=directory, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert server.stdout is not None
    for line in server.stdout:
        if "Assay is serving at" in line:
            threading.Thread(target=server.stdout.read, daemon=True).start()  # keep it drained
            return server
        print(f"  serve: {line.rstrip()}")
    raise SystemExit(f"assay serve stopped ({server.wait()}) before serving")


def _cookie(response: httpx.Response, name: str) -> str:
    """A cookie the server set. They are Secure, so httpx would not send them back over plain
    HTTP: the benchmark sends them itself."""
    for header in response.headers.get_list("set-cookie"):
        parsed = SimpleCookie(header)
        if name in parsed:
            return parsed[name].value
    raise SystemExit(f"{response.request.url} set no {name} cookie ({response.status_code})")


def sign_in(base: str, email: str, password: str) -> str:
    """Through the real login form; returns the session cookie."""
    with httpx.Client(base_url=base) as client:
        form = client.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        if form.status_code != 200 or token is None:
            raise SystemExit(f"the login form did not load ({form.status_code})")
        done = client.post(
            "/accounts/login/",
            data={"login": email, "password": password, "csrfmiddlewaretoken": token[1]},
            headers={"Cookie": f"csrftoken={_cookie(form, 'csrftoken')}"},
        )
        if done.status_code != 302:
            raise SystemExit(f"signing in failed ({done.status_code})")
        return f"sessionid={_cookie(done, 'sessionid')}"


def server_timing(response: httpx.Response) -> dict[str, float]:
    """``app`` (the app's time) and ``cpu`` (its thread's CPU time), in ms."""
    metrics = response.headers["server-timing"].split(", ")
    return {name: float(ms) for name, ms in (metric.split(";dur=") for metric in metrics)}


def drive(base: str, cookie: str, pages: list[Page], requests: int, clients: int) -> float:
    """Every page ``requests`` times, interleaved, from ``clients`` threads; the wall time."""
    work: queue.SimpleQueue[Page | None] = queue.SimpleQueue()
    for _ in range(requests):
        for page in pages:
            work.put(page)
    for _ in range(clients):
        work.put(None)
    lock = threading.Lock()

    def client() -> None:
        with httpx.Client(base_url=base, headers={"Cookie": cookie}, timeout=60) as http:
            while (page := work.get()) is not None:
                started = time.perf_counter()
                response = http.get(page.path)
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    page.statuses[response.status_code] += 1
                    page.client_ms.append(elapsed)
                    timing = server_timing(response)
                    page.server_ms.append(timing["app"])
                    page.cpu_ms.append(timing["cpu"])

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[94]


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):6.1f} {p95(values):6.1f} {max(values):6.1f}"


def report(pages: list[Page]) -> bool:
    """The table; whether every page met the target with only 200s."""
    heading = f"{'page':<10} {'n':>4}  {'server ms p50 p95 max':>20}  {'cpu ms p50 p95 max':>20}"
    print(f"\n{heading}  {'client ms p50 p95 max':>20}")
    met = True
    for page in pages:
        slowest = p95(page.server_ms)
        errors = {status: n for status, n in page.statuses.items() if status != 200}
        notes = [f"{page.path}"]
        if errors:
            notes.append(f"non-200: {errors}")
        if page.placeholder:
            notes.append("placeholder page")
        if slowest >= TARGET_P95_MS:
            notes.append(f"p95 over the {TARGET_P95_MS:.0f} ms target")
        met = met and not errors and slowest < TARGET_P95_MS
        print(
            f"{page.name:<10} {len(page.server_ms):>4}  {_spread(page.server_ms)}  "
            f"{_spread(page.cpu_ms)}  {_spread(page.client_ms)}  {'; '.join(notes)}"
        )
    return met


def bench(directory: Path, args: argparse.Namespace) -> bool:
    prepare(directory, args.people, args.seed)
    control, person, accounts = targets(directory)
    print(f"control {control}; person {person} ({accounts} accounts)")
    pages = [
        Page("dashboard", "/"),
        Page("controls", "/controls/"),
        Page("control", f"/controls/{control}/"),
        Page("person", f"/identities/people/{person}/"),
        Page("findings", "/findings/"),
    ]
    email, password = f"bench-{secrets.token_hex(4)}@bench.invalid", secrets.token_urlsafe(16)
    assay(
        "users",
        "add",
        email,
        "--role",
        "auditor",
        "--password-stdin",
        "--file",
        "assay.yaml",
        cwd=directory,
        stdin=password,
    )
    port = free_port()
    server = start_server(directory, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        cookie = sign_in(base, email, password)
        with httpx.Client(base_url=base, headers={"Cookie": cookie}, timeout=120) as http:
            for page in pages:
                response = http.get(page.path)
                if response.status_code != 200:
                    raise SystemExit(f"{page.path}: {response.status_code} while warming up")
                page.placeholder = PLACEHOLDER in response.text
        # Each worker process loads the pages' code and draws the chart on its first requests.
        warming = [Page(page.name, page.path) for page in pages]
        drive(base, cookie, warming, 4 * args.workers, args.clients)
        before = os.getloadavg()[0]
        wall = drive(base, cookie, pages, args.requests, args.clients)
        after = os.getloadavg()[0]
    finally:
        server.terminate()
        server.wait(timeout=60)
        assay("users", "disable", email, "--file", "assay.yaml", cwd=directory)
    total = args.requests * len(pages)
    print(
        f"{total:,} requests from {args.clients} clients against {args.workers} workers "
        f"in {wall:.1f} s ({total / wall:.1f} requests/s); {os.cpu_count()} CPUs, load average "
        f"{before:.1f} before and {after:.1f} after (other work on the machine slows every figure)"
    )
    return report(pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--requests", type=int, default=200, help="per page")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="generate and run here once, then reuse it")
    args = parser.parse_args()
    if args.keep is not None:
        met = bench(args.keep, args)
    else:
        with tempfile.TemporaryDirectory(prefix="assay-web-") as temporary:
            met = bench(Path(temporary) / "org", args)
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    os.environ.pop("ASSAY_DATABASE_URL", None)  # SQLite, as bench/scale.py measures
    main()
