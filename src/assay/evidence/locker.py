"""The evidence locker: content-addressed blobs, an append-only Merkle log, signed checkpoints.

Layout, the same on every backend and in an auditor's package:

- ``packs/<sha-256>.pack``: the evidence bytes of one append, blob after blob, addressed by
  content; each statement names its blob's pack, offset, size and sha-256;
- ``log/<batch>.jsonl``: statements, one canonical JSON per line, one object per append;
- ``checkpoints/<seq>.json``: signed tree heads {size, root, time, previous checkpoint's hash,
  the sha-256 of the subject heads}; ``checkpoints/<seq>.tsr``: an optional RFC 3161 timestamp;
- ``heads/<sha-256>.json``: what a writer resumes from, signed by digest: either every subject's
  latest statement at a checkpoint (the full map) or only the subjects whose latest statement
  changed since the previous checkpoint. A checkpoint signs the full map once the changes since
  the last one add up to its size (or after ``CHANGES_BETWEEN_MAPS`` checkpoints), so writing and
  verifying the heads costs time in proportion to the log, not to checkpoints times subjects.
  Version 1 checkpoints held the map itself, version 2 the full map's digest; all are read.
  Writers refuse a newer format than their own; but an Assay from before format 3 does not, and
  would take a change set for the full map: upgrade every writer of a shared locker together;
- ``keys/<key id>.json``: published public keys, each after the first endorsed by its predecessor;
- ``tombstones/<sha-256>.json``: signed records of packs deleted by the retention policy, written
  by Assay before tombstones were statements in the log (``evidence.ledger``); kept, not trusted;
- ``authority/<sha-256>.pem``: the time-stamp authority's CA certificate, when one is used.

Writers hold the backend's lock from reading the log's head to writing the new checkpoint, so two
runs at once append one after the other and can never fork the log.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from assay.errors import AssayError, VerificationError
from assay.evidence.backends import Backend
from assay.evidence.canonical import canonical_json
from assay.evidence.merkle import Frontier
from assay.evidence.signing import SigningKey, key_record, trusted_keys, verify_signature
from assay.evidence.statements import (
    DEFAULT_TTL,
    TTL,
    NewEvidence,
    Retention,
    Statement,
    statement_id,
)

CHECKPOINT_VERSION = 3

CHANGES_BETWEEN_MAPS = 32
"""At most this many checkpoints in a row sign only the changes, so a writer resuming reads
a bounded number of them even when hourly checkpoints change nothing."""


def batch_name(number: int) -> str:
    return f"log/{number:012d}.jsonl"


def checkpoint_name(seq: int) -> str:
    return f"checkpoints/{seq:012d}.json"


def timestamp_name(seq: int) -> str:
    return f"checkpoints/{seq:012d}.tsr"


def heads_name(sha256: str) -> str:
    return f"heads/{sha256}.json"


def pack_name(sha256: str) -> str:
    return f"packs/{sha256}.pack"


def tombstone_name(sha256: str) -> str:
    return f"tombstones/{sha256}.json"


def numbered(backend: Backend, prefix: str, suffix: str) -> list[int]:
    """The sequence numbers of the objects under ``prefix`` ending in ``suffix``, sorted."""
    numbers = []
    for name in backend.names(prefix):
        stem = name.removeprefix(prefix)
        if stem.endswith(suffix) and stem[: -len(suffix)].isdigit():
            numbers.append(int(stem[: -len(suffix)]))
    return sorted(numbers)


def split_statements(data: bytes) -> list[bytes]:
    """The statements of one batch object: canonical JSON, one per line."""
    if data and not data.endswith(b"\n"):
        raise VerificationError("batch does not end with a newline: truncated")
    return data.splitlines()


@dataclass(frozen=True)
class Appended:
    """A statement as written: its id (the leaf hash) and its index in the log."""

    id: str
    index: int
    statement: Statement


@dataclass
class LogHead:
    """What a writer needs to extend the log: the frontier, the chain heads, the counts."""

    frontier: Frontier = field(default_factory=Frontier)
    heads: dict[str, str] = field(default_factory=dict)
    changed: dict[str, str] = field(default_factory=dict)
    """The heads that changed since the last checkpoint."""
    batches: int = 0
    checkpoint_seq: int = 0
    checkpoint_sha256: str | None = None
    checkpoint_time: datetime | None = None
    map_size: int = 0
    """Subjects in the last full map a checkpoint signed."""
    changes_since_map: int = 0
    """Heads signed as changes since that map, and by how many checkpoints."""
    checkpoints_since_map: int = 0

    def add(self, data: bytes, statement: Statement) -> str:
        identifier = statement_id(data)
        self.frontier.append(bytes.fromhex(identifier))
        self.heads[statement.chain] = identifier
        self.changed[statement.chain] = identifier
        return identifier

    def signs_full_map(self) -> bool:
        """Whether the next checkpoint signs every head rather than the changes: the first one,
        and whenever the changes since the last full map would outgrow it."""
        return (
            self.checkpoint_seq == 0
            or self.checkpoints_since_map >= CHANGES_BETWEEN_MAPS
            or self.changes_since_map + len(self.changed) > self.map_size
        )

    def signed(self, full_map: bool) -> None:
        """Count a checkpoint's heads: the next checkpoint's changes start from here."""
        if full_map:
            self.map_size = len(self.heads)
            self.changes_since_map = self.checkpoints_since_map = 0
        else:
            self.changes_since_map += len(self.changed)
            self.checkpoints_since_map += 1
        self.changed = {}


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    size: int
    root: str
    time: datetime
    sha256: str
    key_id: str


class Locker:
    """Reads and extends one locker on one backend."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def get(self, sha256: str) -> bytes:
        """A blob's bytes, found through the first statement that names it."""
        return self.blobs({sha256})[sha256]

    def blobs(self, wanted: set[str]) -> dict[str, bytes]:
        """Several blobs' bytes in one pass over the log, each pack read once."""
        found: dict[str, bytes] = {}
        packs: dict[str, bytes] = {}
        for _, statement in self.statements():
            if statement.sha256 in wanted and statement.sha256 not in found:
                if statement.pack not in packs:
                    packs[statement.pack] = self.backend.get(pack_name(statement.pack))
                pack = packs[statement.pack]
                found[statement.sha256] = pack[statement.offset : statement.offset + statement.size]
        if missing := wanted - set(found):
            raise AssayError(
                f"blob {sorted(missing)[0]} is named by no statement in {self.backend.location}"
            )
        return found

    def statement(self, identifier: str, index: int) -> Statement:
        """The statement with this id at this leaf index (as the database indexes it), reading
        only the batches after the last checkpoint below it: each checkpoint says how many
        batches and leaves it covers. The bytes read must hash to ``identifier``."""
        seqs = numbered(self.backend, "checkpoints/", ".json")
        batches, first = 0, 0
        lo, hi = 0, len(seqs)
        while lo < hi:
            mid = (lo + hi) // 2
            body = self.checkpoint(seqs[mid])
            if body["size"] <= index:
                batches, first = body["batches"], body["size"]
                lo = mid + 1
            else:
                hi = mid
        for number in numbered(self.backend, "log/", ".jsonl"):
            if number <= batches:
                continue
            name = batch_name(number)
            lines = split_statements(self.backend.get(name))
            if index < first + len(lines):
                data = lines[index - first]
                if statement_id(data) != identifier:
                    raise VerificationError(
                        f"{name}:{index - first + 1}: leaf {index} is not statement {identifier}"
                    )
                return Statement.from_bytes(data, f"{name}:{index - first + 1}")
            first += len(lines)
        raise AssayError(f"{self.backend.location}: the log holds no leaf {index}")

    def blob(self, statement: Statement) -> bytes:
        """The bytes a statement names, read from its pack and checked against its sha-256.
        A pack deleted by retention raises ``backends.MissingObject``."""
        pack = self.backend.get(pack_name(statement.pack))
        data = pack[statement.offset : statement.offset + statement.size]
        if len(data) != statement.size or hashlib.sha256(data).hexdigest() != statement.sha256:
            raise VerificationError(
                f"{pack_name(statement.pack)}: bytes at {statement.offset} are not "
                f"blob {statement.sha256}"
            )
        return data

    def statements(self) -> Iterator[tuple[str, Statement]]:
        """Every statement in log order, with its id."""
        for _, statements in self.batches():
            yield from statements

    def batches(self) -> Iterator[tuple[int, list[tuple[str, Statement]]]]:
        """Each batch's number and its statements with their ids, in log order."""
        for number in numbered(self.backend, "log/", ".jsonl"):
            name = batch_name(number)
            yield (
                number,
                [
                    (statement_id(data), Statement.from_bytes(data, f"{name}:{line}"))
                    for line, data in enumerate(split_statements(self.backend.get(name)), 1)
                ],
            )

    def checkpoint(self, seq: int) -> dict[str, Any]:
        """A checkpoint's fields, as written (verify the locker to trust them)."""
        body: dict[str, Any] = json.loads(self.backend.get(checkpoint_name(seq)))
        return body

    def latest_checkpoint(self) -> int:
        seqs = numbered(self.backend, "checkpoints/", ".json")
        if not seqs:
            raise AssayError(f"{self.backend.location}: no checkpoint yet; run 'assay run' first")
        return seqs[-1]

    def key_records(self) -> list[dict[str, Any]]:
        return [
            json.loads(self.backend.get(name))
            for name in self.backend.names("keys/")
            if name.endswith(".json")
        ]

    @contextmanager
    def writer(
        self, key: SigningKey, *, timestamper: Timestamper | None = None
    ) -> Iterator[Writer]:
        """Hold the lock and read the head of the log; the block appends and checkpoints."""
        with self.backend.lock():
            self._publish_key(key)
            yield Writer(self.backend, key, self._read_head(), timestamper)

    def publish_rotation(self, old: SigningKey, new: SigningKey) -> None:
        """Publish ``new`` endorsed by ``old``, which must already be published."""
        with self.backend.lock():
            if not self.backend.exists(f"keys/{old.id}.json"):
                raise AssayError(f"key {old.id} is not published in this locker; cannot endorse")
            self.backend.put(f"keys/{new.id}.json", canonical_json(key_record(new, old)))

    def _publish_key(self, key: SigningKey) -> None:
        name = f"keys/{key.id}.json"
        if self.backend.exists(name):
            return
        if self.key_records():
            raise AssayError(
                f"signing key {key.id} is not published in {self.backend.location}; "
                "a new key must be endorsed by the old one ('assay evidence rotate-key')"
            )
        self.backend.put(name, canonical_json(key_record(key, None)))

    def _heads(self, body: dict[str, Any], name: str) -> dict[str, str]:
        """The subject heads a checkpoint signs: inline (version 1) or by digest."""
        if "heads" in body:
            return dict(body["heads"])
        data = self.backend.get(heads_name(body["heads_sha256"]))
        if hashlib.sha256(data).hexdigest() != body["heads_sha256"]:
            raise VerificationError(f"{heads_name(body['heads_sha256'])}: does not match {name}")
        heads: dict[str, str] = json.loads(data)
        return heads

    def _resume_heads(self, head: LogHead, seq: int, body: dict[str, Any]) -> None:
        """Every subject's head at checkpoint ``seq``: the last full map signed at or before it,
        with the changes each later checkpoint signed applied in order (the first checkpoint's
        changes are every head)."""
        changes: list[dict[str, str]] = []
        while seq > 1 and body.get("heads_changes") is True:
            changes.append(self._heads(body, checkpoint_name(seq)))
            seq -= 1
            body = json.loads(self.backend.get(checkpoint_name(seq)))
        head.heads = self._heads(body, checkpoint_name(seq))
        head.map_size = len(head.heads)
        for changed in reversed(changes):
            head.heads.update(changed)
            head.changes_since_map += len(changed)
        head.checkpoints_since_map = len(changes)

    def _read_head(self) -> LogHead:
        """Resume from the latest checkpoint, then fold in any batches written after it."""
        head = LogHead()
        seqs = numbered(self.backend, "checkpoints/", ".json")
        if seqs:
            data = self.backend.get(checkpoint_name(seqs[-1]))
            body = json.loads(data)
            check_format(body, checkpoint_name(seqs[-1]))
            head.frontier = Frontier.from_nodes(
                body["size"], [bytes.fromhex(node) for node in body["frontier"]]
            )
            if head.frontier.root().hex() != body["root"]:
                raise VerificationError(
                    f"{checkpoint_name(seqs[-1])}: frontier does not match root"
                )
            self._resume_heads(head, seqs[-1], body)
            head.batches = body["batches"]
            head.checkpoint_seq = body["seq"]
            head.checkpoint_sha256 = hashlib.sha256(data).hexdigest()
            head.checkpoint_time = datetime.fromisoformat(body["time"])
        for number in numbered(self.backend, "log/", ".jsonl"):
            if number <= head.batches:
                continue
            if number != head.batches + 1:
                raise VerificationError(f"{batch_name(head.batches + 1)}: missing from the log")
            for line, data in enumerate(split_statements(self.backend.get(batch_name(number))), 1):
                head.add(data, Statement.from_bytes(data, f"{batch_name(number)}:{line}"))
            head.batches = number
        return head


class Timestamper:
    """Asks a time-stamp authority (RFC 3161) to attest each checkpoint's hash.

    The authority's CA certificate is published in the locker (``authority/<sha-256>.pem``) so an
    auditor's package carries what its tokens are checked against.
    """

    def __init__(self, url: str, authority_pem: bytes) -> None:
        self.url = url
        self.authority_pem = authority_pem

    def token(self, digest: bytes) -> bytes:
        from assay.evidence.timestamp import request_timestamp

        return request_timestamp(digest, self.url)


class Writer:
    """Appends batches of evidence and writes checkpoints, under the locker's lock."""

    def __init__(
        self, backend: Backend, key: SigningKey, head: LogHead, timestamper: Timestamper | None
    ) -> None:
        self.backend = backend
        self.key = key
        self.head = head
        self.timestamper = timestamper

    def append(self, items: Sequence[NewEvidence], retention: Retention) -> list[Appended]:
        """Store the blobs as packs (one per retention date), then one batch of statements naming
        them. Packs go first, so a statement never names bytes that are not there; a pack left by
        a crash is named by no statement and harms nothing."""
        if not items:
            return []
        recorded_at = datetime.now(UTC)
        digests = [hashlib.sha256(item.data).hexdigest() for item in items]
        keep = [max(retention.until(item.kind), recorded_at) for item in items]
        places: dict[tuple[datetime, str], tuple[str, int]] = {}
        for until in sorted(set(keep)):
            offsets: dict[str, int] = {}
            chunks: list[bytes] = []
            position = 0
            for item, sha256, kept in zip(items, digests, keep, strict=True):
                if kept == until and sha256 not in offsets:
                    offsets[sha256] = position
                    chunks.append(item.data)
                    position += len(item.data)
            pack = b"".join(chunks)
            pack_sha256 = hashlib.sha256(pack).hexdigest()
            self.backend.put(pack_name(pack_sha256), pack, retain_until=until)
            for sha256, offset in offsets.items():
                places[(until, sha256)] = (pack_sha256, offset)
        lines: list[bytes] = []
        appended: list[Appended] = []
        for item, sha256, until in zip(items, digests, keep, strict=True):
            pack_sha256, offset = places[(until, sha256)]
            effective = item.effective_at or item.collected_at
            statement = Statement(
                kind=item.kind,
                subject=item.subject,
                sha256=sha256,
                size=len(item.data),
                pack=pack_sha256,
                offset=offset,
                collected_at=item.collected_at,
                effective_at=effective,
                expires_at=effective + TTL.get(item.kind, DEFAULT_TTL),
                retain_until=until,
                recorded_at=recorded_at,
                source=item.source,
                connector_version=item.connector_version,
                parameters=item.parameters,
                previous=self.head.heads.get(f"{item.kind}/{item.subject}"),
            )
            data = statement.to_bytes()
            index = self.head.frontier.size
            appended.append(Appended(self.head.add(data, statement), index, statement))
            lines.append(data)
        self.backend.flush()
        self.head.batches += 1
        self.backend.put(batch_name(self.head.batches), b"\n".join(lines) + b"\n")
        return appended

    def checkpoint(self) -> Checkpoint:
        """Sign the current tree head, chained to the previous checkpoint."""
        now = datetime.now(UTC)
        if self.head.checkpoint_time and now < self.head.checkpoint_time:
            raise AssayError("the clock is behind the last checkpoint; refusing to checkpoint")
        seq = self.head.checkpoint_seq + 1
        full_map = self.head.signs_full_map()
        heads = canonical_json(self.head.heads if full_map else self.head.changed)
        heads_sha256 = hashlib.sha256(heads).hexdigest()
        self.backend.put(heads_name(heads_sha256), heads)
        body: dict[str, Any] = {
            "v": CHECKPOINT_VERSION,
            "seq": seq,
            "size": self.head.frontier.size,
            "root": self.head.frontier.root().hex(),
            "time": now.isoformat(),
            "batches": self.head.batches,
            "previous": self.head.checkpoint_sha256,
            "key_id": self.key.id,
            "frontier": [node.hex() for node in self.head.frontier.nodes],
            "heads_sha256": heads_sha256,
            "heads_changes": not full_map,
        }
        data = canonical_json({**body, "signature": self.key.sign(body)})
        digest = hashlib.sha256(data).digest()
        if self.timestamper is not None:
            pem = self.timestamper.authority_pem
            self.backend.put(f"authority/{hashlib.sha256(pem).hexdigest()}.pem", pem)
            self.backend.put(timestamp_name(seq), self.timestamper.token(digest))
        self.backend.flush()
        self.backend.put(checkpoint_name(seq), data)
        self.backend.flush()
        self.head.signed(full_map)
        self.head.checkpoint_seq = seq
        self.head.checkpoint_sha256 = digest.hex()
        self.head.checkpoint_time = now
        return Checkpoint(seq, body["size"], body["root"], now, digest.hex(), self.key.id)


def checkpoint_body(data: bytes, name: str, keys: dict[str, bytes]) -> dict[str, Any]:
    """A checkpoint's fields once its signature has been checked against the trusted keys."""
    try:
        raw = json.loads(data)
        body = {k: v for k, v in raw.items() if k != "signature"}
        signature = raw["signature"]
        key = keys.get(raw["key_id"])
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise VerificationError(f"{name}: malformed checkpoint ({error})") from None
    if key is None:
        raise VerificationError(f"{name}: signed by key {raw.get('key_id')}, which is not trusted")
    verify_signature(key, signature, body, name)
    check_format(body, name)
    return body


def check_format(body: dict[str, Any], name: str) -> None:
    """Refuse a checkpoint written in a format newer than this Assay knows: reading it by older
    rules could pass what should fail, and a writer resuming from it could fork the log."""
    version = body.get("v")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise VerificationError(f"{name}: malformed checkpoint (format {version!r})")
    if version > CHECKPOINT_VERSION:
        raise AssayError(
            f"{name}: checkpoint format {version}, newer than this Assay reads "
            f"({CHECKPOINT_VERSION}); upgrade Assay"
        )


__all__ = [
    "Appended",
    "Checkpoint",
    "Locker",
    "Timestamper",
    "Writer",
    "checkpoint_body",
    "trusted_keys",
]
