"""Content-addressed blob storage with all-or-nothing publication."""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from assay.errors import AssayError


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int


class EvidenceStore(Protocol):
    """Where evidence bytes live. Addresses are the sha-256 of the content."""

    def put(self, data: bytes) -> StoredBlob: ...

    def get(self, sha256: str) -> bytes: ...

    def contains(self, sha256: str) -> bool: ...


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalLocker:
    """A locker in a local directory: ``blobs/ab/abcdef…``.

    ``put`` outside a ``batch`` publishes at once; inside a batch, blobs are staged and published
    only when the batch ends without an error — a failed run adds nothing to the locker.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._staging: Path | None = None
        self._staged: list[str] = []

    def _blob_path(self, sha256: str) -> Path:
        return self.root / "blobs" / sha256[:2] / sha256

    def put(self, data: bytes) -> StoredBlob:
        digest = hashlib.sha256(data).hexdigest()
        blob = StoredBlob(digest, len(data))
        if self.contains(digest) or digest in self._staged:
            return blob
        target_dir = self._staging if self._staging is not None else self._blob_path(digest).parent
        target_dir.mkdir(parents=True, exist_ok=True)
        self._write_atomically(target_dir / digest, data)
        if self._staging is not None:
            self._staged.append(digest)
        return blob

    def get(self, sha256: str) -> bytes:
        path = self._blob_path(sha256)
        if not path.exists():
            raise AssayError(f"evidence {sha256} is not in the locker at {self.root}")
        return path.read_bytes()

    def contains(self, sha256: str) -> bool:
        return self._blob_path(sha256).exists()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Stage every ``put`` in the block; publish them all at the end, or none on error."""
        if self._staging is not None:
            raise AssayError("evidence batches do not nest")
        self._staging = self.root / "staging" / uuid.uuid4().hex
        self._staging.mkdir(parents=True)
        self._staged = []
        try:
            yield
            for digest in self._staged:
                final = self._blob_path(digest)
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(self._staging / digest, final)
                _fsync_dir(final.parent)
        finally:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None
            self._staged = []

    @staticmethod
    def _write_atomically(path: Path, data: bytes) -> None:
        temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        _fsync_dir(path.parent)
