"""The audit log of people's actions: kept in the database at once, appended to the locker.

Each action becomes an ``action/<actor>`` statement (``evidence.ledger.user_action``). The row is
written first, in the request; the append and a signed checkpoint follow under the locker's lock.
If the locker cannot be written at that moment the row waits, and the next flush (any later
action, or ``assay run``) appends it: an action is never lost and never appended twice.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import signals as auth_signals
from django.db import transaction
from django.http import HttpRequest

from assay.errors import AssayError
from assay.evidence import ledger
from assay.programme.model import Programme
from assay.web.models import AuditEvent

log = logging.getLogger("assay.web.audit")
FLUSH_BATCH = 500


def client_address(request: HttpRequest | None) -> str:
    """The peer's address as the server saw it (forwarded headers are not trusted)."""
    if request is None:
        return ""
    return str(request.META.get("REMOTE_ADDR", ""))[:64]


def actor_of(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return str(user.email or user.get_username())
    return "anonymous"


def record(
    actor: str,
    action: str,
    target: str = "",
    *,
    outcome: str = "ok",
    address: str = "",
    programme: Programme | None = None,
) -> AuditEvent:
    """Keep one action, then append what is waiting to the locker of ``programme`` (the web
    app's own programme when not given)."""
    event = AuditEvent.objects.create(
        at=datetime.now(UTC),
        actor=actor,
        action=action,
        target=target,
        outcome=outcome,
        address=address,
    )
    chosen = programme or _serving()
    if chosen is not None:
        try:
            flush(chosen)
        except (AssayError, OSError) as error:
            log.warning("audit log: %d action(s) wait for the locker: %s", _pending(), error)
    return event


def record_request(
    request: HttpRequest, action: str, target: str = "", outcome: str = "ok"
) -> None:
    record(actor_of(request), action, target, outcome=outcome, address=client_address(request))


def flush(programme: Programme) -> int:
    """Append every waiting action to the locker, oldest first; return how many."""
    from assay.evidence import service

    done = 0
    while True:
        with transaction.atomic():
            waiting = list(
                AuditEvent.objects.select_for_update()
                .filter(statement_id__isnull=True)
                .order_by("at", "id")[:FLUSH_BATCH]
            )
            if not waiting:
                return done
            items = [
                ledger.user_action(e.actor, e.action, e.target, e.outcome, e.address, e.at)
                for e in waiting
            ]
            appended = service.append_now(programme, items)
            for event, made in zip(waiting, appended, strict=True):
                event.statement_id = made.id
            AuditEvent.objects.bulk_update(waiting, ["statement_id"])
            done += len(waiting)


def _pending() -> int:
    return AuditEvent.objects.filter(statement_id__isnull=True).count()


def _serving() -> Programme | None:
    from assay.web import context

    return context.programme_or_none()


def _signed_in(sender: Any, request: HttpRequest, user: Any, **_: Any) -> None:
    record(str(user.email or user.get_username()), "sign-in", address=client_address(request))


def _signed_out(sender: Any, request: HttpRequest, user: Any, **_: Any) -> None:
    if user is not None:
        record(str(user.email or user.get_username()), "sign-out", address=client_address(request))


def _sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **_: Any
) -> None:
    tried = str(credentials.get("email") or credentials.get("username") or "unknown")
    record(tried, "sign-in", outcome="failed", address=client_address(request))


def connect_signals() -> None:
    auth_signals.user_logged_in.connect(_signed_in, dispatch_uid="assay-audit-in")
    auth_signals.user_logged_out.connect(_signed_out, dispatch_uid="assay-audit-out")
    auth_signals.user_login_failed.connect(_sign_in_failed, dispatch_uid="assay-audit-failed")
