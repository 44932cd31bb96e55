"""API tokens end to end: made by ``assay tokens create``, sent as ``Authorization: Bearer``,
kept only as a hash, refused once expired, revoked or its owner disabled, read-only when asked,
acting with the owner's role, and never written anywhere but as its prefix."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from tests.web.conftest import make_person

from assay.cli import main
from assay.web.accounts import digest
from assay.web.models import ApiToken, AuditEvent
from assay.web.roles import Role

pytestmark = [pytest.mark.db, pytest.mark.django_db]


def create(programme: Path, email: str, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    """``assay tokens create`` as an admin types it; the token is what it prints."""
    capsys.readouterr()
    assert main(["tokens", "create", email, "--file", str(programme), *extra]) == 0
    printed = capsys.readouterr()
    token = printed.out.strip()
    assert token.startswith("assay_") and token not in printed.err
    return token


def bearer(token: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {token}"})


def test_a_token_reads_the_api_as_its_owner(
    served: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_person("po@acme.example", Role.PROGRAMME_OWNER)
    token = create(served, "po@acme.example", capsys, "--expires", "12h")
    client = bearer(token)
    me = client.get("/api/v1/me").json()
    assert me["email"] == "po@acme.example" and me["role"] == "programme_owner"
    kept = ApiToken.objects.get()
    assert me["token"]["prefix"] == kept.prefix and token.startswith(kept.prefix)
    assert me["token"]["read_only"] is False
    expires = datetime.fromisoformat(me["token"]["expires_at"])
    assert timedelta(hours=11) < expires - datetime.now(UTC) <= timedelta(hours=12)
    # No second factor is asked of a token (an admin issued it), unlike a session.
    runs = client.get("/api/v1/runs")
    assert runs.status_code == 200 and runs.json()["items"][0]["status"] == "completed"
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_the_database_holds_only_the_hash(served: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_person("auditor@acme.example", Role.AUDITOR)
    token = create(served, "auditor@acme.example", capsys)
    assert bearer(token).get("/api/v1/runs").status_code == 200
    kept = ApiToken.objects.get()
    assert kept.sha256 == digest(token)
    everything = io.StringIO()
    call_command("dumpdata", stdout=everything)
    assert kept.prefix in everything.getvalue()
    assert token not in everything.getvalue()
    assert token.removeprefix(kept.prefix) not in everything.getvalue()


def test_an_unknown_token_is_refused(served: Path) -> None:
    for header in ("Bearer", "Bearer assay_", "Bearer assay_not-a-token", "Token assay_x", ""):
        response = Client(headers={"Authorization": header}).get("/api/v1/me")
        assert response.status_code == 401, header
        assert response.json() == {"detail": "the bearer token is unknown, expired or revoked"}


def test_an_expired_token_is_refused(served: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_person("co@acme.example", Role.CONTROL_OWNER)
    token = create(served, "co@acme.example", capsys, "--expires", "90m")
    assert bearer(token).get("/api/v1/me").status_code == 200
    # Time passes: the token's 90 minutes are over.
    ApiToken.objects.update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert bearer(token).get("/api/v1/me").status_code == 401


def test_a_revoked_token_is_refused(served: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_person("co@acme.example", Role.CONTROL_OWNER)
    token = create(served, "co@acme.example", capsys)
    prefix = ApiToken.objects.get().prefix
    assert main(["tokens", "revoke", f"{prefix}…", "--file", str(served)]) == 0
    assert bearer(token).get("/api/v1/me").status_code == 401
    assert ApiToken.objects.get().revoked_at is not None


def test_a_disabled_persons_token_is_refused(
    served: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    owner = make_person("co@acme.example", Role.CONTROL_OWNER).user
    token = create(served, "co@acme.example", capsys)
    # Deactivated some other way than 'assay users disable' (which also revokes): still refused.
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    assert ApiToken.objects.get().revoked_at is None
    assert bearer(token).get("/api/v1/me").status_code == 401
    owner.is_active = True
    owner.save(update_fields=["is_active"])
    assert bearer(token).get("/api/v1/me").status_code == 200
    assert main(["users", "disable", "co@acme.example", "--file", str(served)]) == 0
    assert bearer(token).get("/api/v1/me").status_code == 401


def test_a_read_only_token_is_refused_any_write_before_the_method_is_looked_at(
    served: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The API has no write operation: a full token is told the method is not allowed (405),
    a read-only one is refused first, for being read-only (403)."""
    make_person("admin@acme.example", Role.ADMIN)
    read_only = bearer(create(served, "admin@acme.example", capsys, "--read-only"))
    full = bearer(create(served, "admin@acme.example", capsys))
    assert read_only.get("/api/v1/runs").status_code == 200
    for method in ("post", "put", "patch", "delete"):
        refused = getattr(read_only, method)("/api/v1/runs")
        assert refused.status_code == 403, method
        assert refused.json() == {"detail": "this token is read-only"}
        assert getattr(full, method)("/api/v1/runs").status_code == 405, method
    assert read_only.get("/api/v1/me").json()["token"]["read_only"] is True


def test_a_token_acts_with_its_owners_role(
    served: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_person("employee@acme.example", Role.EMPLOYEE)
    client = bearer(create(served, "employee@acme.example", capsys))
    assert client.get("/api/v1/me").json()["role"] == "employee"
    for path in ("/api/v1/runs", "/api/v1/controls", "/api/v1/findings", "/api/v1/scope"):
        refused = client.get(path)
        assert refused.status_code == 403, path
        assert refused.json() == {"detail": "your role may not open this"}


def test_a_token_is_never_logged_nor_in_the_audit_log(
    served: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    make_person("admin@acme.example", Role.ADMIN)
    token = create(served, "admin@acme.example", capsys)
    prefix = ApiToken.objects.get().prefix
    client = bearer(token)
    assert client.get("/api/v1/runs").status_code == 200
    assert client.get("/api/v1/no-such-thing").status_code == 404
    assert bearer(token + "x").get("/api/v1/runs").status_code == 401
    assert main(["tokens", "list", "--file", str(served)]) == 0
    assert main(["tokens", "revoke", prefix, "--file", str(served)]) == 0
    assert client.get("/api/v1/runs").status_code == 401
    printed = capsys.readouterr()
    assert prefix in printed.out and token not in printed.out + printed.err
    assert token not in caplog.text
    actions = {(event.action, event.target) for event in AuditEvent.objects.all()}
    assert ("token created", f"{prefix} for admin@acme.example") in actions
    assert ("token revoked", f"{prefix} of admin@acme.example") in actions
    assert not any(token in target for _, target in actions)
    # The audit log reaches the locker: no file of it (nor of the database beside it) holds it.
    for path in (served.parent / ".assay").rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path
