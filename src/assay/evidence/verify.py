"""``assay verify``: prove the locker is what was written, and that nothing was removed.

Checked, in one pass over the log: every key's endorsement; every checkpoint's signature, its chain
to the previous checkpoint and its time order; that the log is complete (no missing batch, not
truncated below a checkpoint); every statement's form, its link to the previous statement of its
subject and its times; every blob's sha-256 and size inside its pack, and that a pack holds nothing
else — or, for a pack that is gone, a tombstone statement in the log, signed by a checkpoint,
dated after every retention date naming the pack and not after this verifier's clock; that each
checkpoint's root is the root of the log at its size, and its subject heads (or the changes to them
since the previous checkpoint) those of the log; and each run's outcome as the log records it.
The first failure raises ``VerificationError`` naming the item and the broken property.

Each checkpoint's signature, and each batch on its own — its statements' form, blobs, packs, leaf
hashes and the links between its own statements — are checked by ``_Reader``: the checkpoints in
this process, the batches here too or, for a large local locker, in worker processes. What depends
on what came before — the chain of checkpoints, links into earlier batches, the checkpoints' time
bounds, the tree and the subject heads — is settled here in log order, so the first failure is the
same wherever the batches were checked.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import operator
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import islice
from typing import Any, TypeVar

import orjson

from assay.errors import AssayError, VerificationError
from assay.evidence import ledger
from assay.evidence.backends import Backend, LocalBackend, MissingObject
from assay.evidence.canonical import canonical_json
from assay.evidence.locker import (
    batch_name,
    checkpoint_body,
    checkpoint_name,
    heads_name,
    numbered,
    pack_name,
    split_statements,
    timestamp_name,
    tombstone_name,
)
from assay.evidence.merkle import Frontier, leaf_hashes
from assay.evidence.signing import trusted_keys
from assay.evidence.statements import FORMAT_VERSION, Statement

_sha256 = hashlib.sha256

PARALLEL_FROM = 4
"""Batches in a local locker from which worker processes pay for their start (a few ms each)."""


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
    latest: ExpectedCheckpoint | None = None
    """The last checkpoint, to record now and expect in the locker (or a package) later."""
    runs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Run numbers by outcome: completed, failed, and no outcome recorded (interrupted)."""

    def summary(self) -> str:
        """The one line that says what was checked."""
        return (
            f"verified: {self.statements} statements, {self.checkpoints} checkpoints, "
            f"{self.blobs_verified} blobs ({self.bytes_verified} bytes), "
            f"{self.tombstoned} deleted by retention policy"
        )


@dataclass(frozen=True)
class ExpectedCheckpoint:
    """A checkpoint recorded elsewhere — by the database, or by an auditor at an earlier
    look — that the locker must still hold, unchanged: so the log was not cut back before it."""

    seq: int
    sha256: str
    recorded_by: str = "the database"


def verify(
    backend: Backend,
    *,
    anchor: str | None = None,
    expected: Iterable[ExpectedCheckpoint] = (),
    window: Window | None = None,
    tsa_ca: bytes | None = None,
    now: datetime | None = None,
) -> Report:
    """``now`` is the verifier's clock, which no deletion may be dated after."""
    now = now or datetime.now(UTC)
    records = _records(backend)
    expected = list(expected)
    if not records and not backend.names("log/") and not backend.names("checkpoints/"):
        if expected:
            first = expected[0]
            raise VerificationError(
                f"{backend.location}: empty, but {first.recorded_by} records checkpoint {first.seq}"
            )
        return Report(0, 0, 0, 0, 0, 0, 0, anchor or "none yet")
    keys = trusted_keys(records, anchor)
    # Checkpoints are listed before batches, so a writer appending meanwhile only adds a tail.
    seqs = numbered(backend, "checkpoints/", ".json")
    batches = numbered(backend, "log/", ".jsonl")
    reader = _Reader(backend, window, keys)
    with _runner(backend, len(batches)) as run:
        # The batches start now in the workers, if any, while this process checks the
        # checkpoints (small: a signature and a digest each); both are settled in order.
        results = run(reader.batch, batches)
        checkpoints = _checkpoints(backend, seqs, map(reader.checkpoint, seqs), tsa_ca)
        for known in expected:
            found = next((c for c in checkpoints if c.body["seq"] == known.seq), None)
            if found is None:
                raise VerificationError(
                    f"{checkpoint_name(known.seq)}: recorded by {known.recorded_by} but missing"
                )
            if found.sha256 != known.sha256:
                raise VerificationError(
                    f"{checkpoint_name(known.seq)}: differs from the one recorded by "
                    f"{known.recorded_by}"
                )
        if batches != list(range(1, len(batches) + 1)):
            gap = next(n for n, got in enumerate(batches, 1) if got != n)
            raise VerificationError(f"{batch_name(gap)}: missing from the log")
        last = checkpoints[-1].body if checkpoints else None
        if last is not None and last["batches"] > len(batches):
            raise VerificationError(
                f"{batch_name(len(batches) + 1)}: missing; the log is truncated below "
                f"{checkpoint_name(last['seq'])}"
            )
        log = _Log(checkpoints)
        for number, batch in zip(batches, results, strict=True):
            log.add(number, batch)
    if log.pending:
        raise VerificationError(
            f"{checkpoint_name(log.pending[0].body['seq'])}: covers batches the log does not hold"
        )
    signed = last["size"] if last else 0
    tombstoned = _deletions(backend, log, last["batches"] if last else 0, now)
    return Report(
        statements=log.frontier.size,
        checkpoints=len(checkpoints),
        blobs_verified=log.counts["blobs"],
        bytes_verified=log.counts["bytes"],
        tombstoned=tombstoned,
        outside_window=log.counts["outside"],
        unchecked_tail=log.frontier.size - signed,
        anchor=next(iter(keys)),
        latest=ExpectedCheckpoint(last["seq"], checkpoints[-1].sha256) if last else None,
        runs=log.runs.by_outcome(),
    )


def _what(batch: _Batch, line: int) -> str:
    """``tombstone of packs/….pack, `` when the line is a tombstone, so a failure names the pack."""
    for at, kind, subject, _, _ in batch.records:
        if at == line and kind == ledger.TOMBSTONE:
            return f"tombstone of {pack_name(subject)}, "
    return ""


def _deletions(backend: Backend, log: _Log, signed_batches: int, now: datetime) -> int:
    """Every pack that is gone must have a tombstone in the log, in a batch a checkpoint signs,
    dated after every retention date naming the pack and not after ``now``; return how many
    statements those tombstones account for."""
    accounted = 0
    for pack, absent in log.absent.items():
        name = pack_name(pack)
        found = log.tombstones.get(pack)
        if found is None:
            older = tombstone_name(pack)
            note = (
                f"; {older} is a file-only tombstone from an older Assay, which proves nothing "
                "('assay evidence prune' records it in the log if its retention has ended)"
                if backend.exists(older)
                else ""
            )
            raise VerificationError(
                f"{absent.where}: {name} is missing and no tombstone in the log accounts for it"
                f"{note}"
            )
        deleted = found.recorded.isoformat(timespec="seconds")
        if found.batch > signed_batches:
            raise VerificationError(
                f"{absent.where}: {name} is missing and its tombstone ({found.where}) is not yet "
                "signed by a checkpoint"
            )
        if found.recorded < absent.retain_until:
            raise VerificationError(
                f"{absent.where}: {name} deleted at {deleted} ({found.where}), before its "
                f"retention ended ({absent.retain_until.isoformat(timespec='seconds')})"
            )
        if found.recorded > now:
            raise VerificationError(
                f"{absent.where}: {name} deleted at {deleted} ({found.where}), after this "
                f"verifier's clock ({now.isoformat(timespec='seconds')})"
            )
        accounted += absent.statements
    return accounted


@dataclass
class _Absent:
    """A pack that is not there: where a statement first names it, the latest retention date
    of the statements naming it, and how many do."""

    where: str
    retain_until: datetime
    statements: int = 1

    def merge(self, other: _Absent) -> None:
        self.retain_until = max(self.retain_until, other.retain_until)
        self.statements += other.statements


@dataclass(frozen=True)
class _Tombstone:
    where: str
    recorded: datetime
    batch: int


@dataclass(frozen=True)
class _Signed:
    """A checkpoint whose signature holds. Its subject heads — every subject's, in every
    checkpoint — are kept only as the sha-256 of their canonical JSON, so holding all checkpoints
    until the log reaches them costs 32 bytes each, not a dict of every subject."""

    failure: str | None = None
    body: dict[str, Any] = field(default_factory=dict)
    """The signed fields but the heads."""
    heads: bytes | None = None
    changes: bool = False
    """Whether ``heads`` is the digest of the heads changed since the previous checkpoint,
    rather than of every subject's."""
    sha256: str = ""


@dataclass(frozen=True)
class _Links:
    """Where a subject first appears in a batch its link points before the batch: the lines,
    subjects and links, as three lists so they can be checked against the log in one pass."""

    lines: list[int]
    chains: list[str]
    previous: list[str | None]

    def first_broken(self, heads: dict[str, str]) -> tuple[int, str] | None:
        """The first (line, subject) whose link is not the subject's head in ``heads``."""
        if all(map(operator.eq, self.previous, map(heads.get, self.chains))):
            return None
        held = map(operator.eq, self.previous, map(heads.get, self.chains))
        index = next(n for n, holds in enumerate(held) if not holds)
        return self.lines[index], self.chains[index]


@dataclass(frozen=True)
class _Batch:
    """One batch checked on its own; what depends on earlier batches is left to ``_Log``."""

    failure: str | None = None
    """The batch's own first failure; any failure ``links`` or ``recorded`` show comes first."""
    links: _Links = field(default_factory=lambda: _Links([], [], []))
    recorded: list[tuple[int, datetime]] = field(default_factory=list)
    """The first line of each distinct recording time, to hold against the checkpoints' times."""
    leaves: list[bytes] = field(default_factory=list)
    heads: dict[str, str] = field(default_factory=dict)
    """Each subject's last statement in the batch."""
    heads_digest: bytes = b""
    """The digest of ``heads``: what a checkpoint that adds only this batch signs."""
    counts: dict[str, int] = field(default_factory=dict)
    absent: dict[str, _Absent] = field(default_factory=dict)
    """Packs the batch's statements name that are not there (and not outside the window)."""
    records: list[tuple[int, str, str, Any, datetime]] = field(default_factory=list)
    """The ledger statements (run outcomes, tombstones): line, kind, subject, parameters and
    recording time."""


class _Log:
    """Settles the batches in log order: links into earlier batches, the checkpoints' time bounds,
    the tree and the subject heads each checkpoint signs."""

    def __init__(self, checkpoints: list[_Signed]) -> None:
        self.frontier = Frontier()
        self.heads: dict[str, str] = {}
        self.heads_digest: bytes | None = None
        """The digest of ``heads``, once computed, until a batch changes them."""
        self.changed: dict[str, str] = {}
        """The heads changed since the last checkpoint, and each of those batches' digest."""
        self.changed_digests: list[bytes] = []
        self.pending = list(checkpoints)
        self.counts = dict.fromkeys(("blobs", "bytes", "outside"), 0)
        self.previous_time: datetime | None = None
        self.absent: dict[str, _Absent] = {}
        self.tombstones: dict[str, _Tombstone] = {}
        """Each pack's latest tombstone in the log."""
        self.runs = ledger.Runs()
        self.settle(0)

    def add(self, number: int, batch: _Batch) -> None:
        name = batch_name(number)
        covering = self.pending[0].body if self.pending else None
        latest = datetime.fromisoformat(covering["time"]) if covering else None
        broken = batch.links.first_broken(self.heads)
        # A failing link and a failing time on the same line: the link is checked first.
        for line, recorded in batch.recorded:
            if broken is not None and broken[0] <= line:
                break
            if self.previous_time is not None and recorded < self.previous_time:
                raise VerificationError(
                    f"{name}:{line}: {_what(batch, line)}recorded before the checkpoint that "
                    "precedes it"
                )
            if latest is not None and recorded > latest:
                raise VerificationError(
                    f"{name}:{line}: {_what(batch, line)}recorded after the checkpoint that "
                    "covers it"
                )
        if broken is not None:
            raise VerificationError(
                f"{name}:{broken[0]}: previous-statement link of {broken[1]} is broken"
            )
        if batch.failure is not None:
            raise VerificationError(batch.failure)
        self.heads.update(batch.heads)
        self.heads_digest = None
        self.changed.update(batch.heads)
        self.changed_digests.append(batch.heads_digest)
        self.frontier.extend(batch.leaves)
        for key, value in batch.counts.items():
            self.counts[key] += value
        for pack, absent in batch.absent.items():
            if (known := self.absent.get(pack)) is None:
                self.absent[pack] = absent
            else:
                known.merge(absent)
        for line, kind, subject, parameters, recorded in batch.records:
            where = f"{name}:{line}"
            if kind == ledger.TOMBSTONE:
                self.tombstones[subject] = _Tombstone(where, recorded, number)
                continue
            try:
                self.runs.add(ledger.RunState.of(subject, parameters), where)
            except ledger.MalformedRecord as error:
                raise VerificationError(f"{where}: {error}") from None
        self.settle(number)

    def settle(self, batches_done: int) -> None:
        """Check each checkpoint that covers exactly the batches done against the log so far."""
        while self.pending and self.pending[0].body["batches"] == batches_done:
            checkpoint = self.pending.pop(0)
            body = checkpoint.body
            name = checkpoint_name(body["seq"])
            frontier = self.frontier
            if body["size"] != frontier.size or body["root"] != frontier.root().hex():
                raise VerificationError(
                    f"{name}: root does not match the log at size {body['size']}"
                )
            if checkpoint.heads != self._heads_digest(checkpoint.changes):
                raise VerificationError(f"{name}: subject heads do not match the log")
            self.changed, self.changed_digests = {}, []
            self.previous_time = datetime.fromisoformat(body["time"])

    def _heads_digest(self, changes: bool) -> bytes:
        """What a checkpoint's heads must hash to: every head, or the changes since the previous
        checkpoint — when those are one batch's, the worker that checked it has hashed them."""
        if changes:
            if len(self.changed_digests) == 1:
                return self.changed_digests[0]
            return _digest(self.changed)
        if self.heads_digest is None:
            self.heads_digest = _digest(self.heads)
        return self.heads_digest


_R = TypeVar("_R")


class _Runner:
    """Runs a check over numbered objects and yields the results in order: here, one at a time as
    they are asked for, or in worker processes a bounded number ahead, so memory stays flat."""

    def __init__(self, pool: ProcessPoolExecutor | None, ahead: int) -> None:
        self.pool = pool
        self.ahead = ahead

    def __call__(self, check: Callable[[int], _R], numbers: list[int]) -> Iterator[_R]:
        pool = self.pool
        if pool is None:
            return map(check, numbers)
        waiting = iter(numbers)
        running = deque(pool.submit(check, number) for number in islice(waiting, self.ahead))

        def results() -> Iterator[_R]:
            while running:
                done = running.popleft()
                if (number := next(waiting, None)) is not None:
                    running.append(pool.submit(check, number))
                yield done.result()

        return results()


@contextmanager
def _runner(backend: Backend, batches: int) -> Iterator[_Runner]:
    """Worker processes for a large local locker, none otherwise.

    Workers are forked, which starts them in milliseconds, so only from a process with no other
    thread (a thread holding a lock at the fork would leave it locked in the child forever), and
    only for a local directory: each worker opens the files itself, while an object store's client
    holds connections that a forked process must not share.
    """
    workers = min(len(os.sched_getaffinity(0)), batches)
    alone = threading.active_count() == 1
    if not alone or not isinstance(backend, LocalBackend) or batches < PARALLEL_FROM or workers < 2:
        yield _Runner(None, 0)
        return
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    try:
        yield _Runner(pool, 2 * workers)
    finally:
        pool.shutdown(cancel_futures=True)


@dataclass(frozen=True)
class _Reader:
    """Checks one checkpoint or one batch without knowing the others, so a batch can be checked
    in a worker.

    A worker sends exceptions back pickled, which MissingObject's would not survive: an object
    listed a moment ago and gone is raised as a plain AssayError with the same message.
    """

    backend: Backend
    window: Window | None
    keys: dict[str, bytes]

    def checkpoint(self, seq: int) -> _Signed:
        name = checkpoint_name(seq)
        try:
            data = self.backend.get(name)
        except MissingObject as error:
            raise AssayError(str(error)) from None
        try:
            body = checkpoint_body(data, name, self.keys)
        except VerificationError as error:
            return _Signed(str(error))
        changes = body.get("heads_changes", False)
        if not isinstance(changes, bool):
            return _Signed(f"{name}: malformed checkpoint (heads_changes is not true or false)")
        if "heads" in body:  # version 1: the map itself is signed
            heads = _digest(body.pop("heads"))
        elif isinstance(digest := body.get("heads_sha256"), str):
            if failure := self._heads_failure(digest, name):
                return _Signed(failure)
            heads = bytes.fromhex(digest)
        else:
            heads = None
        return _Signed(None, body, heads, changes, hashlib.sha256(data).hexdigest())

    def _heads_failure(self, digest: str, name: str) -> str | None:
        """The subject heads a checkpoint signs by digest must be there, byte for byte: the next
        writer resumes from them."""
        try:
            data = self.backend.get(heads_name(digest))
        except MissingObject:
            return f"{heads_name(digest)}: missing (signed by {name})"
        if hashlib.sha256(data).hexdigest() != digest:
            return f"{heads_name(digest)}: does not match the digest {name} signs"
        return None

    def batch(self, number: int) -> _Batch:
        name = batch_name(number)
        try:
            try:
                lines = split_statements(self.backend.get(name))
            except VerificationError as error:
                return _Batch(f"{name}: {error}")
            return self._statements(name, lines)
        except MissingObject as error:
            raise AssayError(str(error)) from None

    def _statements(self, name: str, lines: list[bytes]) -> _Batch:
        """The hot loop: fields are read straight from the parsed line, times are parsed and
        compared only when they change (one append shares one recording time), blobs are hashed
        in place in their pack, and a full Statement is built only for a blob that is not there."""
        leaves = leaf_hashes(lines)
        links = _Links([], [], [])
        recorded_lines: dict[str, tuple[int, datetime]] = {}
        heads: dict[str, str] = {}
        times: dict[str, datetime] = {}
        packs = _Packs(self)
        loads = orjson.loads
        sha256 = _sha256
        recorded_at = collected_at = pack = _UNSET
        content: memoryview | None = None
        spans: list[tuple[int, int]] = []
        records: list[tuple[int, str, str, Any, datetime]] = []
        failure = None
        try:
            for line, data in enumerate(lines, 1):
                try:
                    raw = loads(data)
                    kind = raw["kind"]
                    chain = f"{kind}/{raw['subject']}"
                    previous = raw["previous"]
                    if raw["v"] != FORMAT_VERSION:
                        raise ValueError(f"unknown format version {raw['v']!r}")
                    at = raw["recorded_at"], raw["collected_at"]
                    changed = at[0] != recorded_at or at[1] != collected_at
                    if changed:
                        recorded_at, collected_at = at
                        recorded = _time(recorded_at, times)
                        collected = _time(collected_at, times)
                except (ValueError, KeyError, TypeError) as error:
                    raise VerificationError(
                        f"{name}:{line}: malformed statement ({error})"
                    ) from None
                known = heads.get(chain)
                if known is None:
                    links.lines.append(line)
                    links.chains.append(chain)
                    links.previous.append(previous)
                elif previous != known:
                    raise VerificationError(
                        f"{name}:{line}: previous-statement link of {chain} is broken"
                    )
                if changed:
                    if collected > recorded:
                        raise VerificationError(f"{name}:{line}: collected after it was recorded")
                    if recorded_at not in recorded_lines:
                        recorded_lines[recorded_at] = (line, recorded)
                if kind in _LEDGER:
                    subject = str(raw["subject"])
                    records.append((line, kind, subject, raw.get("parameters"), recorded))
                try:
                    offset, size, digest = raw["offset"], raw["size"], raw["sha256"]
                    if type(offset) is not int or type(size) is not int:
                        raise TypeError("pack, offset and size must be a string and integers")
                    if raw["pack"] != pack:
                        pack = raw["pack"]
                        if type(pack) is not str:
                            raise TypeError("pack, offset and size must be a string and integers")
                        content, spans = packs.open_pack(pack, f"{name}:{line}")
                except (KeyError, TypeError) as error:
                    raise VerificationError(
                        f"{name}:{line}: malformed statement ({error})"
                    ) from None
                if content is None:
                    packs.absent(data, f"{name}:{line}")
                else:
                    end = offset + size
                    blob = content[offset:end]
                    if offset < 0 or len(blob) != size:
                        raise VerificationError(
                            f"{name}:{line}: blob lies outside {pack_name(pack)}"
                        )
                    if sha256(blob).hexdigest() != digest:
                        raise VerificationError(
                            f"{pack_name(pack)}: blob {digest} (at {offset}) "
                            "does not match its hash"
                        )
                    spans.append((offset, end))
                heads[chain] = leaves[line - 1].hex()
            packs.finish()
        except VerificationError as error:
            failure = str(error)
        first_recorded = list(recorded_lines.values())
        return _Batch(
            failure,
            links,
            first_recorded,
            leaves,
            heads,
            _digest(heads),
            packs.counts,
            packs.absent_packs,
            records,
        )


_LEDGER = frozenset((ledger.RUN, ledger.TOMBSTONE))
"""The statement kinds whose records ``_Log`` settles: run outcomes and tombstones."""

_UNSET: Any = object()
"""Differs from every field read from a statement."""


def _digest(heads: Any) -> bytes:
    return _sha256(canonical_json(heads)).digest()


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
    backend: Backend, seqs: list[int], signed: Iterator[_Signed], tsa_ca: bytes | None
) -> list[_Signed]:
    """Every checkpoint, signature-checked, chained and in time order, with its sha-256."""
    result: list[_Signed] = []
    previous: _Signed | None = None
    for expected_seq, seq in enumerate(seqs, 1):
        name = checkpoint_name(expected_seq)
        if seq != expected_seq:
            raise VerificationError(f"{name}: missing from the chain of checkpoints")
        checkpoint = next(signed)
        if checkpoint.failure is not None:
            raise VerificationError(checkpoint.failure)
        body, sha256 = checkpoint.body, checkpoint.sha256
        try:
            if body["seq"] != seq:
                raise VerificationError(f"{name}: says it is checkpoint {body['seq']}")
            if body["previous"] != (previous.sha256 if previous else None):
                raise VerificationError(f"{name}: does not chain to the previous checkpoint")
            time = datetime.fromisoformat(body["time"])
            if previous is not None:
                before = previous.body
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
        previous = checkpoint
        result.append(checkpoint)
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
    """The packs one batch's statements name, each read once: at the end, each must hold
    exactly the blobs its statements name, end to end."""

    def __init__(self, batch: _Reader) -> None:
        self.batch = batch
        self.counts = dict.fromkeys(("blobs", "bytes", "outside"), 0)
        self.absent_packs: dict[str, _Absent] = {}
        self.open: dict[str, tuple[memoryview | None, list[tuple[int, int]]]] = {}
        """By the pack's sha-256: its bytes (None when absent) and the spans statements name."""

    def open_pack(self, pack: str, where: str) -> tuple[memoryview | None, list[tuple[int, int]]]:
        opened = self.open.get(pack)
        if opened is None:
            opened = self.open[pack] = (self._read(pack_name(pack), where), [])
        return opened

    def _read(self, name: str, where: str) -> memoryview | None:
        try:
            return memoryview(self.batch.backend.get(name))
        except MissingObject:
            return None
        except AssayError as error:
            raise VerificationError(f"{where}: {error}") from None

    def finish(self) -> None:
        for pack, (content, spans) in self.open.items():
            if content is None:
                continue
            self.counts["blobs"] += len(spans)
            self.counts["bytes"] += sum(end - start for start, end in spans)
            size = len(content)
            if _end_to_end(spans) != size:
                raise VerificationError(f"{pack_name(pack)}: holds bytes no statement names")

    def absent(self, data: bytes, where: str) -> None:
        """A statement whose pack is gone: outside the package's window, or to be accounted for
        by a tombstone in the log (settled once the whole log is read)."""
        statement = Statement.from_bytes(data, where)
        window = self.batch.window
        if window is not None and not window.holds(statement):
            self.counts["outside"] += 1
            return
        absent = _Absent(where, statement.retain_until)
        if (known := self.absent_packs.get(statement.pack)) is None:
            self.absent_packs[statement.pack] = absent
        else:
            known.merge(absent)


def _end_to_end(spans: list[tuple[int, int]]) -> int:
    """Where the distinct spans, laid end to end from 0 in order, stop. Writers name blobs in
    pack order, so most packs chain as listed; any other (the same blob named twice, say) is
    sorted first, so the answer never depends on the statements' order."""
    position, whole = _chain(spans)
    return position if whole else _chain(sorted(set(spans)))[0]


def _chain(spans: Iterable[tuple[int, int]]) -> tuple[int, bool]:
    """How far the spans reach from 0, each starting where the one before ended; and whether
    every span did."""
    position = 0
    for start, end in spans:
        if start != position:
            return position, False
        position = end
    return position, True
