"""Hostile text planted in the sample organisation's exports and programme file, shared by the
tests of every output (terminal, CSV, JSON, HTML reports and the web app's pages)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

TEMPLATE_USER = "temp.admin@acme.example"
HOSTILE_LOGINS = (
    "temp.admin[/bold]@acme.example",
    "[link=javascript:alert(1)]click.me[/link]@acme.example",
    "[bold red]:thumbs_up:[/]@acme.example",
    "\x1b[2J\x1b[31mscreen.cleared@acme.example",
    "\x1b]8;;https://evil.example/\x1b\\phish@acme.example\x1b]8;;\x1b\\",
    "innocent@acme.example\rEVIL",
    "bell\x07back\x08\x08space@acme.example",
    "c1.csi\x9b2J@acme.example",
    "admin\u202egpj.exe@acme.example",
    '=HYPERLINK("https://evil.example","click")',
    "@SUM(1+1)",
    "-1+1",
    "+1-1",
    "<script>alert(1)</script>@acme.example",
    "Zoë \U0001d518\U0001d52b\U0001d526 zero\u200bwidth line\u2028sep \U0001f600\ufeff@x.example",
    "x" * 10_000,
)
LEAVER_EMAIL = "selin.yilmaz@acme.example"
LEAVER_EMPLOYEE_ID = "E1046"
LEAVER_ACCOUNT = "selin[/bold]\x1b[2J@acme.example"  # linked to the leaver by employee id
LEAVER_NAME = '=HYPERLINK("https://evil.example","Selin") \x1b[2J[/red]'
ORGANISATION = "Acme [/bold] \x1b[2J Cloud"
VENDOR = "Ticket[/bold]desk\x1b]8;;https://evil.example\x07"


def add_hostile_okta_users(exports: Path) -> None:
    users_path = exports / "okta" / "users.json"
    users = json.loads(users_path.read_text(encoding="utf-8"))
    template = next(u for u in users if u["profile"]["login"] == TEMPLATE_USER)
    factors = (exports / "okta" / "factors" / f"{template['id']}.json").read_text("utf-8")
    for number, login in enumerate((*HOSTILE_LOGINS, LEAVER_ACCOUNT)):
        user = json.loads(json.dumps(template))
        user["id"] = f"00uhostile{number:010d}"
        user["profile"].update(login=login, email=login, firstName=login[:40])
        if login == LEAVER_ACCOUNT:
            user["profile"]["employeeNumber"] = LEAVER_EMPLOYEE_ID
        users.append(user)
        (exports / "okta" / "factors" / f"{user['id']}.json").write_text(factors, "utf-8")
    users_path.write_text(json.dumps(users, indent=1), encoding="utf-8")


def rename_leaver(roster: Path) -> None:
    with roster.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if row["email"] == LEAVER_EMAIL:
            row["name"] = LEAVER_NAME
    with roster.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
