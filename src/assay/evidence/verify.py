"""``assay verify``: prove the locker is what was written, and that nothing was removed.

Checked, in one pass over the log: every key's endorsement; every checkpoint's signature, its chain
to the previous checkpoint and its time order; that the log is complete (no missing batch, not
truncated below a checkpoint); every statement's form, its link to the previous statement of its
subject and its times; every blob's sha-256 and size inside its pack, and that a pack holds nothing
else — or a signed tombstone whose deletion the retention policy allowed; and that each checkpoint's
root is the root of the log at its size. The first failure raises ``VerificationError`` naming the
item and the broken property.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson

from assay.errors import AssayError, VerificationError
from assay.evidence.backends import Backend, MissingObject
from assay.evidence.locker import (
    batch_name,
    checkpoint_body,
    checkpoint_name,
    numbered,
    pack_name,
    split_statements,
    timestamp_name,
    tombstone_name,
)
from assay.evidence.merkle import Frontier, leaf_hash
from assay.evidence.signing import trusted_keys, verify_signature
from assay.evidence.statements import FORMAT_VERSION, Statement


@dataclass(frozen=True)
class Window:
    """An auditor's package holds only the blobs of statements effective in this window."""

    start: date
    end: date

    def holds(self, statement: Statement) -> bool:
        return self.start <= statement.effective_at.date() <= self.end


@dataclass(frozen=True)
class Report:
    statements: int
    checkpoints: int
    blobs_verified: int
    bytes_verified: int
    tombstoned: int
    outside_window: int
    unchecked_tail: int
    """Statements appended after the last checkpoint (an interrupted run); not yet signed."""
    anchor: str


@dataclass(frozen=True)
class ExpectedCheckpoint:
    """A checkpoint the database recorded; the locker must still hold it, unchanged."""

    seq: int
    sha256: str


def verify(
    backend: Backend,
    *,
    anchor: str | None = None,
    expected: Iterable[ExpectedCheckpoint] = (),
    window: Window | None = None,
    tsa_ca: bytes | None = None,
) -> Report:
    records = _records(backend)
    if not records and not backend.names("log/") and not backend.names("checkpoints/"):
        if any(True for _ in expected):
            raise VerificationError(
                f"{backend.location}: empty, but the database knows checkpoints"
            )
        return Report(0, 0, 0, 0, 0, 0, 0, anchor or "none yet")
    keys = trusted_keys(records, anchor)
    checkpoints = _checkpoints(backend, keys, tsa_ca)
    for known in expected:
        found = next((c for c in checkpoints if c[0]["seq"] == known.seq), None)
        if found is None:
            raise VerificationError(
                f"{checkpoint_name(known.seq)}: recorded in the database but missing"
            )
        if found[1] != known.sha256:
            raise VerificationError(
                f"{checkpoint_name(known.seq)}: differs from the one recorded in the database"
            )

    batches = numbered(backend, "log/", ".jsonl")
    if batches != list(range(1, len(batches) + 1)):
        gap = next(n for n, got in enumerate(batches, 1) if got != n)
        raise VerificationError(f"{batch_name(gap)}: missing from the log")
    last = checkpoints[-1][0] if checkpoints else None
    if last is not None and last["batches"] > len(batches):
        raise VerificationError(
            f"{batch_name(len(batches) + 1)}: missing; the log is truncated below "
            f"{checkpoint_name(last['seq'])}"
        )

    frontier = Frontier()
    heads: dict[str, str] = {}
    pending = list(checkpoints)
    packs = _Packs(backend, window, keys)
    previous_time: datetime | None = None

    def settle(batches_done: int) -> None:
        nonlocal previous_time
        while pending and pending[0][0]["batches"] == batches_done:
            body, _ = pending.pop(0)
            name = checkpoint_name(body["seq"])
            if body["size"] != frontier.size or body["root"] != frontier.root().hex():
                raise VerificationError(
                    f"{name}: root does not match the log at size {body['size']}"
                )
            if body["heads"] != dict(sorted(heads.items())):
                raise VerificationError(f"{name}: subject heads do not match the log")
            previous_time = datetime.fromisoformat(body["time"])

    settle(0)
    for number in batches:
        name = batch_name(number)
        try:
            lines = split_statements(backend.get(name))
        except VerificationError as error:
            raise VerificationError(f"{name}: {error}") from None
        covering = pending[0][0] if pending else None
        times: dict[str, datetime] = {}
        latest = datetime.fromisoformat(covering["time"]) if covering else None
        for line, data in enumerate(lines, 1):
            # The hot loop: fields are read straight from the parsed line, and the few distinct
            # times of a batch are parsed once; a full Statement is built only when needed.
            try:
                raw = orjson.loads(data)
                chain = f"{raw['kind']}/{raw['subject']}"
                recorded = _time(raw["recorded_at"], times)
                collected = _time(raw["collected_at"], times)
                previous = raw["previous"]
                if raw["v"] != FORMAT_VERSION:
                    raise ValueError(f"unknown format version {raw['v']!r}")
            except (ValueError, KeyError, TypeError) as error:
                raise VerificationError(f"{name}:{line}: malformed statement ({error})") from None
            if previous != heads.get(chain):
                raise VerificationError(
                    f"{name}:{line}: previous-statement link of {chain} is broken"
                )
            if collected > recorded:
                raise VerificationError(f"{name}:{line}: collected after it was recorded")
            if previous_time is not None and recorded < previous_time:
                raise VerificationError(
                    f"{name}:{line}: recorded before the checkpoint that precedes it"
                )
            if latest is not None and recorded > latest:
                raise VerificationError(
                    f"{name}:{line}: recorded after the checkpoint that covers it"
                )
            packs.check(raw, data, name, line)
            leaf = leaf_hash(data)
            frontier.append(leaf)
            heads[chain] = leaf.hex()
        packs.finish()
        settle(number)
    if pending:
        raise VerificationError(
            f"{checkpoint_name(pending[0][0]['seq'])}: covers batches the log does not hold"
        )
    signed = last["size"] if last else 0
    return Report(
        statements=frontier.size,
        checkpoints=len(checkpoints),
        blobs_verified=packs.counts["blobs"],
        bytes_verified=packs.counts["bytes"],
        tombstoned=packs.counts["tombstoned"],
        outside_window=packs.counts["outside"],
        unchecked_tail=frontier.size - signed,
        anchor=next(iter(keys)),
    )


def _records(backend: Backend) -> list[dict[str, Any]]:
    records = []
    for name in backend.names("keys/"):
        if not name.endswith(".json"):
            continue
        try:
            records.append(json.loads(backend.get(name)))
        except ValueError:
            raise VerificationError(f"{name}: malformed key record") from None
    return records


def _checkpoints(
    backend: Backend, keys: dict[str, bytes], tsa_ca: bytes | None
) -> list[tuple[dict[str, Any], str]]:
    """Every checkpoint, signature-checked, chained and in time order, with its sha-256."""
    seqs = numbered(backend, "checkpoints/", ".json")
    result: list[tuple[dict[str, Any], str]] = []
    previous: tuple[dict[str, Any], str] | None = None
    for expected_seq, seq in enumerate(seqs, 1):
        name = checkpoint_name(expected_seq)
        if seq != expected_seq:
            raise VerificationError(f"{name}: missing from the chain of checkpoints")
        data = backend.get(name)
        body = checkpoint_body(data, name, keys)
        sha256 = hashlib.sha256(data).hexdigest()
        try:
            if body["seq"] != seq:
                raise VerificationError(f"{name}: says it is checkpoint {body['seq']}")
            if body["previous"] != (previous[1] if previous else None):
                raise VerificationError(f"{name}: does not chain to the previous checkpoint")
            time = datetime.fromisoformat(body["time"])
            if previous is not None:
                before = previous[0]
                if time < datetime.fromisoformat(before["time"]):
                    raise VerificationError(f"{name}: dated before the previous checkpoint")
                if body["size"] < before["size"] or body["batches"] < before["batches"]:
                    raise VerificationError(f"{name}: smaller than the previous checkpoint")
            frontier = Frontier.from_nodes(
                body["size"], [bytes.fromhex(n) for n in body["frontier"]]
            )
            if frontier.root().hex() != body["root"]:
                raise VerificationError(f"{name}: frontier does not match its root")
        except (KeyError, TypeError, ValueError) as error:
            raise VerificationError(f"{name}: malformed checkpoint ({error})") from None
        _check_timestamp(backend, seq, sha256, tsa_ca)
        previous = (body, sha256)
        result.append(previous)
    return result


def _check_timestamp(backend: Backend, seq: int, sha256: str, tsa_ca: bytes | None) -> None:
    """A checkpoint's RFC 3161 token must attest its hash. Checked against the authority the
    caller trusts, or else against the certificates the locker (or package) carries."""
    name = timestamp_name(seq)
    if not backend.exists(name):
        return
    authorities = [tsa_ca] if tsa_ca else [backend.get(pem) for pem in backend.names("authority/")]
    if not authorities:
        raise VerificationError(f"{name}: timestamped, but no authority certificate to check it")
    from assay.evidence.timestamp import verify_timestamp

    token = backend.get(name)
    failure = ""
    for authority in authorities:
        try:
            verify_timestamp(token, bytes.fromhex(sha256), authority)
            return
        except VerificationError as error:
            failure = str(error)
    raise VerificationError(f"{name}: {failure}")


def _time(value: Any, seen: dict[str, datetime]) -> datetime:
    """An ISO 8601 time, parsed once however many statements of a batch repeat it."""
    parsed = seen.get(value)
    if parsed is None:
        if not isinstance(value, str):
            raise TypeError(f"time {value!r} is not a string")
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError(f"time {value} has no time zone")
        seen[value] = parsed
    return parsed


class _Packs:
    """Checks each statement's blob inside its pack, reading each pack of a batch once, and that
    a pack holds nothing but the blobs its statements name."""

    def __init__(self, backend: Backend, window: Window | None, keys: dict[str, bytes]) -> None:
        self.backend = backend
        self.window = window
        self.keys = keys
        self.tombstones = set(backend.names("tombstones/"))
        self.counts = {"blobs": 0, "bytes": 0, "tombstoned": 0, "outside": 0}
        self.open: dict[str, bytes | None] = {}
        self.spans: dict[str, set[tuple[int, int]]] = {}

    def check(self, raw: dict[str, Any], data: bytes, batch: str, line: int) -> None:
        try:
            pack, offset, size, sha256 = raw["pack"], raw["offset"], raw["size"], raw["sha256"]
            if type(offset) is not int or type(size) is not int or type(pack) is not str:
                raise TypeError("pack, offset and size must be a string and integers")
            name = pack_name(pack)
            end = offset + size
        except (KeyError, TypeError) as error:
            raise VerificationError(f"{batch}:{line}: malformed statement ({error})") from None
        if name not in self.open:
            try:
                self.open[name] = self.backend.get(name)
            except MissingObject:
                self.open[name] = None
            except AssayError as error:
                raise VerificationError(f"{batch}:{line}: {error}") from None
            self.spans[name] = set()
        content = self.open[name]
        if content is None:
            where = f"{batch}:{line}"
            self._absent(Statement.from_bytes(data, where), where)
            return
        blob = content[offset:end]
        if offset < 0 or len(blob) != size:
            raise VerificationError(f"{batch}:{line}: blob lies outside {name}")
        if hashlib.sha256(blob).hexdigest() != sha256:
            raise VerificationError(f"{name}: blob {sha256} (at {offset}) does not match its hash")
        self.spans[name].add((offset, end))
        self.counts["blobs"] += 1
        self.counts["bytes"] += size

    def finish(self) -> None:
        """At the end of a batch, each pack it read must be exactly its blobs, end to end."""
        for name, data in self.open.items():
            if data is None:
                continue
            position = 0
            for start, end in sorted(self.spans[name]):
                if start != position:
                    break
                position = end
            if position != len(data):
                raise VerificationError(f"{name}: holds bytes no statement names")
        self.open.clear()
        self.spans.clear()

    def _absent(self, statement: Statement, where: str) -> None:
        if self.window is not None and not self.window.holds(statement):
            self.counts["outside"] += 1
            return
        tombstone = tombstone_name(statement.pack)
        if tombstone not in self.tombstones:
            raise VerificationError(
                f"{where}: {pack_name(statement.pack)} is missing and no tombstone accounts for it"
            )
        _check_tombstone(self.backend.get(tombstone), tombstone, statement, where, self.keys)
        self.counts["tombstoned"] += 1


def _check_tombstone(
    data: bytes, name: str, statement: Statement, where: str, keys: dict[str, bytes]
) -> None:
    try:
        raw = json.loads(data)
        body = {k: v for k, v in raw.items() if k != "signature"}
        key = keys[raw["key_id"]]
        deleted = datetime.fromisoformat(raw["deleted_at"])
        if raw["pack"] != statement.pack:
            raise VerificationError(f"{name}: names another pack")
    except (ValueError, KeyError, TypeError) as error:
        raise VerificationError(f"{name}: malformed or untrusted tombstone ({error})") from None
    verify_signature(key, raw["signature"], body, name)
    if deleted < statement.retain_until:
        raise VerificationError(
            f"{where}: pack deleted on {deleted.date()} before its retention ended "
            f"({statement.retain_until.date()})"
        )
