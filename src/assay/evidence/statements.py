"""Statements: what the log records about each piece of evidence.

A statement binds a blob's sha-256, size and place in a pack to how and when it was collected, when
it takes effect and goes stale, how long it must be kept, and the previous statement about the same
subject. Its canonical JSON bytes are the Merkle leaf, so changing any of it — back-dating included
— changes the log's root.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson

from assay.errors import VerificationError
from assay.evidence.canonical import canonical_json
from assay.evidence.merkle import leaf_hash

FORMAT_VERSION = 1

TTL: Mapping[str, timedelta] = {
    "programme": timedelta(days=30),
    "snapshot": timedelta(days=7),
    "payload": timedelta(days=7),
    "check_result": timedelta(days=7),
    "report": timedelta(days=365),
}
"""How long each kind of evidence stays current; after that, checks that need it are not tested."""
DEFAULT_TTL = timedelta(days=30)


@dataclass(frozen=True)
class Retention:
    """How long each kind of evidence must be kept: a default date, and dates for some kinds."""

    default: datetime
    by_kind: Mapping[str, datetime] = field(default_factory=dict)

    def until(self, kind: str) -> datetime:
        return self.by_kind.get(kind, self.default)


@dataclass(frozen=True)
class NewEvidence:
    """An item to put in the locker: its bytes and how they came to be."""

    kind: str
    subject: str
    data: bytes
    collected_at: datetime
    effective_at: datetime | None = None
    source: str | None = None
    connector_version: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Statement:
    kind: str
    subject: str
    sha256: str
    size: int
    pack: str
    """sha-256 of the pack holding the blob: one pack per append, so a run's evidence is one
    object to store, lock, retain and verify."""
    offset: int
    collected_at: datetime
    effective_at: datetime
    expires_at: datetime
    retain_until: datetime
    recorded_at: datetime
    source: str | None
    connector_version: str | None
    parameters: Mapping[str, Any]
    previous: str | None
    """Id of the previous statement about the same kind and subject; None for the first."""

    @property
    def chain(self) -> str:
        return f"{self.kind}/{self.subject}"

    def to_bytes(self) -> bytes:
        """Canonical JSON; times are written as ISO 8601 (RFC 3339) by the encoder itself."""
        return canonical_json(
            {
                "v": FORMAT_VERSION,
                "kind": self.kind,
                "subject": self.subject,
                "sha256": self.sha256,
                "size": self.size,
                "pack": self.pack,
                "offset": self.offset,
                "collected_at": self.collected_at,
                "effective_at": self.effective_at,
                "expires_at": self.expires_at,
                "retain_until": self.retain_until,
                "recorded_at": self.recorded_at,
                "source": self.source,
                "connector_version": self.connector_version,
                "parameters": dict(self.parameters),
                "previous": self.previous,
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes, where: str) -> Statement:
        """Parse a statement; anything malformed is a verification failure naming ``where``.

        The leaf commits to these exact bytes, so they need not be re-encoded to be trusted.
        """
        try:
            raw = orjson.loads(data)
            if raw.get("v") != FORMAT_VERSION:
                raise ValueError(f"unknown format version {raw.get('v')!r}")
            statement = cls(
                kind=str(raw["kind"]),
                subject=str(raw["subject"]),
                sha256=str(raw["sha256"]),
                size=int(raw["size"]),
                pack=str(raw["pack"]),
                offset=int(raw["offset"]),
                collected_at=datetime.fromisoformat(raw["collected_at"]),
                effective_at=datetime.fromisoformat(raw["effective_at"]),
                expires_at=datetime.fromisoformat(raw["expires_at"]),
                retain_until=datetime.fromisoformat(raw["retain_until"]),
                recorded_at=datetime.fromisoformat(raw["recorded_at"]),
                source=raw["source"],
                connector_version=raw["connector_version"],
                parameters=raw["parameters"],
                previous=raw["previous"],
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise VerificationError(f"{where}: malformed statement ({error})") from None
        return statement


def statement_id(data: bytes) -> str:
    """A statement's id is its Merkle leaf hash, in hex."""
    return leaf_hash(data).hex()
