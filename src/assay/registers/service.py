"""Changing the registers: every change is checked, appended to the locker, then kept as current.

Each change — create, edit, approve, acknowledge, import — becomes a ``register/<kind>/<key>``
statement whose blob is the whole record after the change, with who made it and why; statements
about one record chain through ``previous``, so a record's history verifies like any evidence.
The database keeps the current version (``Record``) and the list of changes (``Change``), each
naming its statement. A change that fails validation writes nothing; a batch (an import) is
appended as one batch, or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from django.db import transaction
from pydantic import TypeAdapter, ValidationError

from assay.catalog import load_catalog
from assay.errors import InputError
from assay.evidence import service
from assay.evidence.canonical import canonical_json
from assay.evidence.statements import NewEvidence
from assay.programme.model import Programme
from assay.registers.kinds import KINDS, Kind, RefKind, Resolver, _Record, unresolved
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
            return value in controls
        if ref is RefKind.VENDOR:
            return value in vendors
        if ref is RefKind.SYSTEM:
            return value in systems
        return value in policies

    return exists


def parse(
    kind: Kind, data: Mapping[str, Any], where: str, exists: Resolver
) -> tuple[_Record | None, list[Problem]]:
    """The record ``data`` describes, or every problem with it (by field): also the references
    that name nothing when another field does not parse, so one pass lists them all."""
    try:
        record = kind.parse(data)
    except ValidationError as error:
        errors = error.errors()
        problems = [
            Problem(where, ".".join(str(p) for p in e["loc"]) or "record", _message(e["msg"]))
            for e in errors
        ]
        failed = {str(e["loc"][0]) for e in errors if e["loc"]}
        unknown = _unresolved_fields(kind, data, exists, failed)
        return None, problems + [Problem(where, f, m) for f, m in unknown]
    return record, [Problem(where, f, m) for f, m in unresolved(kind, record, exists)]


def _unresolved_fields(
    kind: Kind, data: Mapping[str, Any], exists: Resolver, failed: set[str]
) -> Iterator[tuple[str, str]]:
    """(field, problem) for each reference of a record that did not parse, among the fields that
    did, each read as the record reads it."""
    for field, ref in kind.references.items():
        if field in failed or data.get(field) is None:
            continue
        info = kind.record.model_fields[field]
        shape: Any = (
            Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
        )
        try:
            value = TypeAdapter(shape).validate_python(data[field])
        except ValidationError:
            continue
        for item in value if isinstance(value, tuple) else (value,):
            if item is not None and not exists(ref, str(item)):
                yield field, f"unknown {ref.value} '{item}'"


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
    programme: Programme, kind: Kind, proposed: Sequence[Proposed], actor: str
) -> list[Record]:
    """Append one statement per change in one batch, then keep the records as current; a
    record's version goes up by one with each change."""
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
        appended = service.append_now(programme, items)
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


def attach(
    programme: Programme, files: Iterable[tuple[str, bytes]], about: str
) -> list[dict[str, Any]]:
    """Put files a person gave into the locker (one batch, signed at once); return, per file,
    its name, sha-256, size and statement id, for the record that cites them."""
    now = datetime.now(UTC)
    given = list(files)
    items = [
        NewEvidence(
            ATTACHMENT_KIND,
            f"{about}/{name}",
            data,
            now,
            parameters={"name": name, "about": about},
        )
        for name, data in given
    ]
    appended = service.append_now(programme, items)
    return [
        {"name": name, "sha256": made.statement.sha256, "size": len(data), "statement_id": made.id}
        for (name, data), made in zip(given, appended, strict=True)
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
    from assay.registers.kinds import Acknowledgement, Policy, PolicyStatus

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
