"""Changing the registers: every change is checked, appended to the locker, then kept as current.

Each change — create, edit, approve, acknowledge, import — becomes a ``register/<kind>/<key>``
statement whose blob is the whole record after the change, with who made it and why; statements
about one record chain through ``previous``, so a record's history verifies like any evidence.
The database keeps the current version (``Record``) and the list of changes (``Change``), each
naming its statement. A change that fails validation writes nothing; a batch (an import) is
appended as one batch, or not at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from pydantic import ValidationError

from assay.catalog import load_catalog
from assay.errors import InputError
from assay.evidence import service
from assay.evidence.canonical import canonical_json
from assay.evidence.locker import Appended
from assay.evidence.statements import NewEvidence
from assay.programme.model import Programme
from assay.registers.kinds import (
    KINDS,
    Acknowledgement,
    Kind,
    RefKind,
    Resolver,
    _Record,
    unresolved,
)
from assay.registers.models import Change, Record

STATEMENT_KIND = "register"
ATTACHMENT_KIND = "attachment"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a proposed record: where (file row, or a form), which field, what."""

    where: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.field}: {self.message}" if self.field else self.message


class RecordsRejected(InputError):
    """Every problem with a change or an import, listed; nothing was written."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        shown = "; ".join(str(p) for p in self.problems[:20])
        more = len(self.problems) - 20
        super().__init__(
            source,
            f"{len(self.problems)} problem(s), nothing written: {shown}"
            + (f"; and {more} more" if more > 0 else ""),
        )


def known_people(programme: Programme) -> frozenset[str]:
    """Everyone a register may name: the roster as the latest run collected it, and every person
    the programme file names."""
    from assay.inventory.models import InventoryPerson

    named = {programme.owner.email, *programme.owners.values()}
    named |= {s.owner for s in programme.systems if s.owner}
    named |= {v.owner for v in programme.vendors if v.owner}
    named |= {o.owner for o in programme.controls.values() if o.owner}
    roster = InventoryPerson.objects.values_list("email", flat=True)
    return frozenset(email.lower() for email in (*named, *roster))


def resolver(programme: Programme) -> Resolver:
    """What each kind of reference may name, for this programme as it stands."""
    catalog = load_catalog()
    people = known_people(programme)
    controls = {control.id for control in catalog.controls}
    vendors = {vendor.name for vendor in programme.vendors}
    systems = {system.id for system in programme.systems}
    policies = set(Record.objects.filter(kind="policies").values_list("key", flat=True))

    def exists(ref: RefKind, value: str) -> bool:
        if ref is RefKind.PERSON:
            return value.lower() in people
        if ref is RefKind.CONTROL:
            return value.strip().upper() in controls
        if ref is RefKind.VENDOR:
            return value in vendors
        if ref is RefKind.SYSTEM:
            return value in systems
        return value in policies

    return exists


def parse(
    kind: Kind, data: Mapping[str, Any], where: str, exists: Resolver
) -> tuple[_Record | None, list[Problem]]:
    """The record ``data`` describes, or every problem with it (by field)."""
    try:
        record = kind.parse(data)
    except ValidationError as error:
        problems = [
            Problem(where, ".".join(str(p) for p in e["loc"]) or "record", _message(e["msg"]))
            for e in error.errors()
        ]
        wrong = {problem.field.split(".")[0] for problem in problems}
        return None, problems + [
            Problem(where, field, f"unknown {ref.value} '{value}'")
            for field, ref in kind.references.items()
            if field not in wrong
            for value in _given(data.get(field))
            if not exists(ref, value)
        ]
    return record, [Problem(where, f, m) for f, m in unresolved(kind, record, exists)]


def _given(value: object) -> list[str]:
    """The values a raw field names, before the record is valid."""
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return []


def _message(text: str) -> str:
    return text.removeprefix("Value error, ")


@dataclass(frozen=True)
class Proposed:
    """One change to make: the record as it should be, and what the change is."""

    record: _Record
    action: str
    reason: str = ""


def add(
    programme: Programme, kind: Kind, data: Mapping[str, Any], actor: str, where: str = "record"
) -> Record:
    record = _valid(programme, kind, data, where)
    if Record.objects.filter(kind=kind.name, key=record.key).exists():
        raise RecordsRejected(where, [Problem(where, kind.record.key_field, _exists(kind, record))])
    return apply(programme, kind, [Proposed(record, "created")], actor)[0]


def edit(
    programme: Programme,
    kind: Kind,
    key: str,
    changes: Mapping[str, Any],
    actor: str,
    action: str = "edited",
    where: str = "record",
) -> Record:
    """Change some fields of an existing record (its key stays)."""
    current = current_record(kind, key)
    merged = {**current.document, **changes, kind.record.key_field: current.key}
    if kind.name == "acknowledgements":
        raise InputError(where, "an acknowledgement is never edited; record a new one")
    record = _valid(programme, kind, merged, where)
    return apply(programme, kind, [Proposed(record, action)], actor)[0]


def _valid(programme: Programme, kind: Kind, data: Mapping[str, Any], where: str) -> _Record:
    record, problems = parse(kind, data, where, resolver(programme))
    if problems or record is None:
        raise RecordsRejected(where, problems)
    return record


def _exists(kind: Kind, record: _Record) -> str:
    return f"{kind.label.lower()} already has '{record.key}'"


def apply(
    programme: Programme,
    kind: Kind,
    proposed: Sequence[Proposed],
    actor: str,
    files: Sequence[NewEvidence] = (),
) -> list[Record]:
    """Append one statement per change in one batch (after ``files``, the attachments the
    changes cite), then keep the records as current; a record's version goes up by one with
    each change."""
    if not proposed:
        return []
    now = datetime.now(UTC)
    with transaction.atomic():
        existing = {
            row.key: row
            for row in Record.objects.select_for_update().filter(
                kind=kind.name, key__in=[p.record.key for p in proposed]
            )
        }
        versions: dict[str, int] = {}
        items = []
        for change in proposed:
            key = change.record.key
            versions[key] = versions.get(key, existing[key].version if key in existing else 0) + 1
            items.append(_statement(kind, change, versions[key], actor, now))
        appended = service.append_now(programme, [*files, *items])[len(files) :]
        rows: dict[str, Record] = {}
        for change, made in zip(proposed, appended, strict=True):
            key = change.record.key
            document = change.record.model_dump(mode="json")
            row = rows.get(key) or existing.get(key) or Record(kind=kind.name, key=key)
            row.document = document
            row.version = made.statement.parameters["version"]
            row.statement_id = made.id
            row.changed_at = now
            row.changed_by = actor
            row.save()
            rows[key] = row
            Change.objects.create(
                kind=kind.name,
                key=key,
                version=row.version,
                action=change.action,
                reason=change.reason,
                author=actor,
                at=now,
                statement_id=made.id,
                document=document,
            )
    return [rows[p.record.key] for p in proposed]


def _statement(kind: Kind, change: Proposed, version: int, actor: str, at: datetime) -> NewEvidence:
    facts = {
        "register": kind.name,
        "key": change.record.key,
        "action": change.action,
        "version": version,
        "author": actor,
    }
    if change.reason:
        facts["reason"] = change.reason
    document = {
        "kind": STATEMENT_KIND,
        **facts,
        "at": at.isoformat(),
        "record": change.record.model_dump(mode="json"),
    }
    return NewEvidence(
        STATEMENT_KIND,
        f"{kind.name}/{change.record.key}",
        canonical_json(document),
        at,
        parameters=facts,
    )


def attachments(files: Iterable[tuple[str, bytes]], about: str, at: datetime) -> list[NewEvidence]:
    """Files a person gave, as evidence to append in the same batch as the statement citing
    them (by ``cited``): the files and what they answer are signed together, or not at all."""
    return [
        NewEvidence(
            ATTACHMENT_KIND, f"{about}/{name}", data, at, parameters={"name": name, "about": about}
        )
        for name, data in files
    ]


def cited(files: Iterable[tuple[str, bytes]]) -> list[dict[str, Any]]:
    """How a statement names the files appended with it: name, sha-256 and size."""
    return [
        {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        for name, data in files
    ]


def stored(
    files: Sequence[tuple[str, bytes]], appended: Sequence[Appended]
) -> list[dict[str, Any]]:
    """How a record keeps the files once appended (``appended`` in file order): as ``cited``
    names them, with each one's statement id and leaf index (so it is read back through the
    checkpoints, not by searching the log); the hash is the one the locker computed."""
    return [
        {
            "name": name,
            "sha256": made.statement.sha256,
            "size": made.statement.size,
            "statement_id": made.id,
            "index": made.index,
        }
        for (name, _), made in zip(files, appended, strict=True)
    ]


def current_record(kind: Kind, key: str) -> Record:
    found = Record.objects.filter(kind=kind.name, key=key.strip()).first()
    if found is None:
        raise InputError(kind.name, f"no record '{key}' in {kind.label.lower()}")
    return found


def records_of(kind: Kind) -> list[_Record]:
    """Every current record of a register, in key order, as typed records."""
    return [
        kind.record.model_validate(document)
        for document in Record.objects.filter(kind=kind.name).values_list("document", flat=True)
    ]


def counts() -> dict[str, int]:
    """How many current records each register holds (one query)."""
    from django.db.models import Count

    found = dict(
        Record.objects.values_list("kind").annotate(n=Count("id")).values_list("kind", "n")
    )
    return {name: found.get(name, 0) for name in KINDS}


def acknowledgements_of(person: str) -> list[Acknowledgement]:
    """One person's acknowledgements, found by their keys (``policy@version:person``)."""
    rows = Record.objects.filter(kind="acknowledgements", key__endswith=f":{person.lower()}")
    return [Acknowledgement.model_validate(row.document) for row in rows]


def history(kind: Kind, key: str) -> list[Change]:
    return list(Change.objects.filter(kind=kind.name, key=key).order_by("version"))


def state() -> dict[str, list[dict[str, Any]]]:
    """Every register's current records as documents, by kind: what a run records and checks."""
    documents: dict[str, list[dict[str, Any]]] = {name: [] for name in KINDS}
    for kind, document in Record.objects.order_by("kind", "key").values_list("kind", "document"):
        if kind in documents:
            documents[kind].append(document)
    return documents


def acknowledge(programme: Programme, policy_id: str, person: str, actor: str) -> Record:
    """``person`` acknowledges the current version of an active policy (once per version)."""
    from assay.registers.kinds import Policy, PolicyStatus

    policies = KINDS["policies"]
    policy = Policy.model_validate(current_record(policies, policy_id).document)
    if policy.status is not PolicyStatus.ACTIVE:
        raise InputError(policy_id, f"policy {policy.id} is {policy.status.value}, not active")
    made = Acknowledgement(
        policy=policy.id, version=policy.version, person=person, acknowledged_at=datetime.now(UTC)
    )
    kind = KINDS["acknowledgements"]
    if Record.objects.filter(kind=kind.name, key=made.key).exists():
        return current_record(kind, made.key)
    problems = [Problem(policy_id, f, m) for f, m in unresolved(kind, made, resolver(programme))]
    if problems:
        raise RecordsRejected(policy_id, problems)
    return apply(programme, kind, [Proposed(made, "acknowledged")], actor)[0]


APPROVABLE = frozenset({"policies", "exceptions"})
"""Registers whose records carry an approver and an approval date."""


def approve(programme: Programme, kind: Kind, key: str, actor: str) -> Record:
    """``actor`` approves the record as it stands, today: a change of its own in the history."""
    if kind.name not in APPROVABLE:
        raise InputError(kind.name, f"{kind.label.lower()} are not approved")
    today = datetime.now(UTC).date().isoformat()
    return edit(
        programme, kind, key, {"approver": actor, "approved_on": today}, actor, action="approved"
    )


FILE_FIELDS = {"incidents": "postmortem_file"}
"""Fields that hold a file kept in the locker, by register: their value is its sha-256."""


def attach_file(
    programme: Programme, kind: Kind, key: str, name: str, data: bytes, actor: str
) -> Record:
    """Keep a file for a record (an incident's postmortem) in the locker and name it there."""
    field = FILE_FIELDS.get(kind.name)
    if field is None:
        raise InputError(kind.name, f"{kind.label.lower()} hold no files")
    current = current_record(kind, key)
    changed = {**current.document, field: hashlib.sha256(data).hexdigest()}
    record = _valid(programme, kind, changed, name)
    kept = attachments([(name, data)], f"{kind.name}/{key}", datetime.now(UTC))
    return apply(programme, kind, [Proposed(record, "file attached")], actor, kept)[0]
