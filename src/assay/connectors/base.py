"""The seam every connector plugs into.

A connector reads one system, in ``live`` mode (the vendor's API) or ``export`` mode (the
vendor's own raw responses or files saved to disk). It returns the raw payloads exactly as read,
so they can be kept as evidence, and the records parsed from those same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from assay.inventory.records import Records


@dataclass(frozen=True)
class RawPayload:
    """One raw response or file, byte for byte as the source gave it."""

    name: str
    """Stable name within the snapshot, e.g. ``users.json`` or ``factors/00u1.json``."""
    source: str
    """Where it came from: an absolute file path, or the URL with its query string."""
    data: bytes


@dataclass(frozen=True)
class ConnectorConfig:
    """What a connector is given: its settings from ``assay.yaml`` and where that file lives."""

    system_id: str
    mode: str
    settings: Mapping[str, Any]
    secrets: Mapping[str, str]
    """Secret values, already resolved from the environment variables ``assay.yaml`` names."""
    base_dir: Path
    """Directory of the programme file; relative export paths are resolved against it."""
    collected_at: datetime | None = None
    """When the payloads were collected, for parsing stored ones: facts that depend on the clock
    (an expired token, an exemption's end) are judged then, not when they are replayed."""

    def moment(self) -> datetime:
        """The moment time-dependent facts are judged at: the collection's, or now."""
        return self.collected_at or datetime.now(UTC)

    def path(self, key: str = "path") -> Path:
        """An export path from the settings, resolved against the programme file's directory."""
        value = self.settings.get(key)
        if not isinstance(value, str) or not value:
            from assay.errors import InputError

            raise InputError(f"system {self.system_id}", f"connector setting '{key}' is required")
        candidate = Path(value)
        return candidate if candidate.is_absolute() else self.base_dir / candidate


@dataclass(frozen=True)
class Collected:
    """The outcome of one collection: raw payloads, parsed records and how they were obtained."""

    system_id: str
    connector: str
    connector_version: str
    mode: str
    started_at: datetime
    finished_at: datetime
    payloads: tuple[RawPayload, ...]
    records: Records
    parameters: Mapping[str, Any] = field(default_factory=dict)
    complete: bool = True
    """False when the population could not be read in full; dependent checks become 'not tested'."""
    incomplete_reason: str | None = None


class Connector(Protocol):
    """A source of evidence. Implementations raise ``InputError`` for malformed input."""

    type: str
    version: str

    def collect(self, config: ConnectorConfig) -> Collected: ...
