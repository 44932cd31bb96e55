"""Where the locker's objects live: a local directory by default, object storage for teams.

A backend stores named, write-once objects. Every write is atomic — after a crash an object is
either whole or absent — and nothing is ever overwritten: the log grows by new objects only.
Deletion exists for the retention policy alone.
"""

from __future__ import annotations

import fcntl
import os
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Protocol

from assay.errors import AssayError


class MissingObject(AssayError):
    """The named object is not in the locker."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"{name}: not in the locker")


class ObjectExists(AssayError):
    """A write-once object already exists with other content."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"{name}: already in the locker with other content")


class Backend(Protocol):
    """Named, write-once objects, and a lock that serialises writers."""

    location: str
    """Where the objects are, for messages: a directory, or ``s3://bucket/prefix``."""

    def get(self, name: str) -> bytes:
        """The object's bytes; ``MissingObject`` when absent."""
        ...

    def put(self, name: str, data: bytes, *, retain_until: datetime | None = None) -> None:
        """Write an object atomically: the same bytes again are a no-op, others ``ObjectExists``.

        ``retain_until`` asks the store to refuse deletion before then, where it can (object lock).
        The object is durable once ``flush`` returns.
        """
        ...

    def flush(self) -> None:
        """Make every object written so far durable (writers call it before naming them)."""
        ...

    def exists(self, name: str) -> bool: ...

    def names(self, prefix: str) -> list[str]:
        """Names under ``prefix`` (e.g. ``checkpoints/``), sorted."""
        ...

    def delete(self, name: str) -> None:
        """Remove an object; used only by the retention policy."""
        ...

    def lock(self) -> AbstractContextManager[None]:
        """Exclusive writer lock: two runs at once append one after the other, never interleaved."""
        ...


class LocalBackend:
    """A locker in a local directory: objects are files written to a temporary name and linked
    into place, so a crash leaves each object whole or absent and no writer overwrites another."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.location = str(root)

    def _path(self, name: str) -> Path:
        if name.startswith("/") or ".." in name.split("/"):
            raise AssayError(f"{name}: not a valid object name")
        return self.root / name

    def get(self, name: str) -> bytes:
        try:
            return self._path(name).read_bytes()
        except FileNotFoundError:
            raise MissingObject(name) from None
        except OSError as error:
            raise AssayError(f"{self.location}/{name}: cannot read ({error.strerror})") from None

    def put(self, name: str, data: bytes, *, retain_until: datetime | None = None) -> None:
        path = self._path(name)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
            temporary.write_bytes(data)
            try:
                # link() refuses an existing name, so of two writers exactly one wins.
                os.link(temporary, path)
            except FileExistsError:
                if path.read_bytes() != data:
                    raise ObjectExists(name) from None
            finally:
                temporary.unlink()
        except OSError as error:
            raise AssayError(f"{self.location}/{name}: cannot write ({error.strerror})") from None

    def flush(self) -> None:
        # One sync for a whole batch is far cheaper than an fsync per object; the rename above
        # already makes each object whole or absent to any reader after a process crash.
        os.sync()

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def names(self, prefix: str) -> list[str]:
        directory = self._path(prefix.rstrip("/")) if prefix else self.root
        if not directory.is_dir():
            return []
        return sorted(
            str(path.relative_to(self.root))
            for path in directory.rglob("*")
            if path.is_file() and not path.name.startswith(".")
        )

    def delete(self, name: str) -> None:
        try:
            self._path(name).unlink()
        except FileNotFoundError:
            raise MissingObject(name) from None
        _fsync_directory(self._path(name).parent)

    @contextmanager
    def lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
