"""``assay serve``, ``assay users …`` and ``assay tokens …``: the web app and who may use it."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from assay.cli._output import add_row, show, table
from assay.errors import InputError

if TYPE_CHECKING:
    from assay.programme.model import Programme
    from assay.web.accounts import Actor

users_app = typer.Typer(help="People who may sign in to the web app, and their roles.")
tokens_app = typer.Typer(help="API tokens: printed once, stored hashed, expiring, revocable.")
FileOption = Annotated[Path, typer.Option("--file", "-f", help="The programme file.")]


def _open(file: Path) -> Programme:
    from assay.evidence import service
    from assay.programme import load
    from assay.web import server

    programme = load(file)
    server.prepare(programme)
    service.open_database(programme)
    return programme


def _admin(programme: Programme) -> Actor:
    from assay.web.accounts import Actor

    return Actor(f"cli:{getpass.getuser()}", programme=programme)


def serve(
    file: FileOption = Path("assay.yaml"),
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64)] = 2,
) -> None:
    """Serve the web app for this programme (its database and locker) under gunicorn."""
    from assay.web import server

    _open(file)
    shown = f"[{host}]" if ":" in host else host

    def ready(_server: object) -> None:
        typer.echo(f"Assay is serving at http://{shown}:{port}/ (Ctrl-C stops it)")
        sys.stdout.flush()

    server.serve(host, port, workers, ready=ready)


@users_app.command("add")
def users_add(
    email: Annotated[str, typer.Argument(help="The person's e-mail address.")],
    role: Annotated[
        str,
        typer.Option(
            "--role", help="admin, programme_owner, control_owner, reviewer, employee or auditor."
        ),
    ],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read a password from standard input.")
    ] = False,
    file: FileOption = Path("assay.yaml"),
) -> None:
    """Add a person. Without --password-stdin they sign in only by SSO."""
    from assay.web.roles import parse_role

    chosen = parse_role(role)
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise InputError("--password-stdin", "standard input held no password")
    programme = _open(file)
    from assay.web import accounts

    person = accounts.add_user(email, chosen, password, _admin(programme))
    how = "a password" if person.has_password else "SSO only"
    mfa = " (a second factor is asked at first sign-in)" if chosen.needs_mfa else ""
    typer.echo(f"added {person.email} as {chosen.value}, {how}{mfa}")


@users_app.command("list")
def users_list(file: FileOption = Path("assay.yaml")) -> None:
    """Everyone who may sign in, with role and second factor."""
    _open(file)
    from assay.web import accounts

    shown = table("users", "e-mail", "role", "active", "password", "second factor", "last sign-in")
    for person in accounts.people():
        add_row(
            shown,
            person.email,
            person.role.value if person.role else "none",
            "yes" if person.active else "no",
            "yes" if person.has_password else "SSO only",
            "yes" if person.second_factor else "no",
            person.last_login.isoformat(timespec="minutes") if person.last_login else "never",
        )
    show(shown)


@users_app.command("set-role")
def users_set_role(
    email: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Argument()],
    file: FileOption = Path("assay.yaml"),
) -> None:
    """Give a person another role."""
    from assay.web.roles import parse_role

    chosen = parse_role(role)
    programme = _open(file)
    from assay.web import accounts

    person = accounts.set_role(email, chosen, _admin(programme))
    typer.echo(f"{person.email} is now {chosen.value}")


@users_app.command("disable")
def users_disable(
    email: Annotated[str, typer.Argument()], file: FileOption = Path("assay.yaml")
) -> None:
    """Stop a person signing in and revoke their API tokens."""
    programme = _open(file)
    from assay.web import accounts

    person = accounts.disable(email, _admin(programme))
    typer.echo(f"disabled {person.email}; their tokens are revoked")


@tokens_app.command("create")
def tokens_create(
    email: Annotated[str, typer.Argument(help="Whose token: it acts with their role.")],
    expires: Annotated[str, typer.Option("--expires", help="Lifetime: 30d, 12h, 90m.")] = "30d",
    read_only: Annotated[bool, typer.Option("--read-only", help="Only reads.")] = False,
    file: FileOption = Path("assay.yaml"),
) -> None:
    """Create an API token and print it once (only its hash is kept)."""
    from assay.monitor.schedule import parse_duration

    lifetime = parse_duration(expires, "--expires")
    programme = _open(file)
    from assay.web import accounts

    issued = accounts.create_token(email, lifetime, read_only, _admin(programme))
    typer.echo(issued.token)
    typer.echo(
        f"token {issued.prefix}… expires {issued.expires_at.isoformat(timespec='minutes')}; "
        "it is not shown again",
        err=True,
    )


@tokens_app.command("list")
def tokens_list(file: FileOption = Path("assay.yaml")) -> None:
    """Every token: whose, when it expires, whether revoked (never the token itself)."""
    _open(file)
    from assay.web import accounts

    shown = table("API tokens", "token", "owner", "read-only", "expires", "last used", "state")
    for token in accounts.tokens():
        add_row(
            shown,
            f"{token.prefix}…",
            token.user.email,
            "yes" if token.read_only else "no",
            token.expires_at.isoformat(timespec="minutes"),
            token.last_used_at.isoformat(timespec="minutes") if token.last_used_at else "never",
            "revoked" if token.revoked_at else "live",
        )
    show(shown)


@tokens_app.command("revoke")
def tokens_revoke(
    prefix: Annotated[
        str, typer.Argument(help="The token's prefix, as 'assay tokens list' shows.")
    ],
    file: FileOption = Path("assay.yaml"),
) -> None:
    """Revoke a token at once."""
    programme = _open(file)
    from assay.web import accounts

    accounts.revoke_token(prefix.rstrip("…"), _admin(programme))
    typer.echo(f"revoked {prefix}")
