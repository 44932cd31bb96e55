"""The backend contract, run against both implementations, and what only S3 can do.

S3 is moto in server mode, reached over HTTP by boto3 unchanged: only ``endpoint_url`` differs
from production, and credentials come from the environment as they would there.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest
from tests.conftest import LOCKED_BUCKET, PLAIN_BUCKET
from tests.evidence.moto_server import seed

from assay.errors import AssayError
from assay.evidence.backends import Backend, LocalBackend, MissingObject, ObjectExists
from assay.evidence.s3 import LOCK_NAME, S3Backend

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


Factory = Callable[[], Backend]


def _admin(url: str) -> S3Client:
    """The tests' own client, to set up and inspect the store behind the backend's back."""
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    return session.client("s3", endpoint_url=url)


@pytest.fixture
def admin(endpoint: str) -> S3Client:
    return _admin(endpoint)


@pytest.fixture
def prefix() -> str:
    """Each test its own prefix in the shared bucket, so tests need no cleanup."""
    return f"team/{uuid.uuid4().hex}"


@pytest.fixture(params=["local", "s3"])
def make_backend(request: pytest.FixtureRequest, tmp_path: Path, prefix: str) -> Factory:
    """Backends on one locker; each call is a separate writer, as another process would be."""
    if request.param == "local":
        return lambda: LocalBackend(tmp_path / "locker")
    url: str = request.getfixturevalue("endpoint")
    return lambda: S3Backend(
        LOCKED_BUCKET, prefix, endpoint_url=url, lock_wait=timedelta(seconds=10)
    )


@pytest.fixture
def backend(make_backend: Factory) -> Backend:
    return make_backend()


@pytest.fixture
def s3(endpoint: str, prefix: str) -> S3Backend:
    return S3Backend(LOCKED_BUCKET, prefix, endpoint_url=endpoint)


# The contract, on both backends.


def test_put_then_get(backend: Backend) -> None:
    backend.put("blobs/ab/cd", b"evidence")
    backend.flush()
    assert backend.get("blobs/ab/cd") == b"evidence"
    assert backend.exists("blobs/ab/cd")
    assert not backend.exists("blobs/ab/ef")


def test_names_are_sorted_and_under_the_prefix(backend: Backend) -> None:
    for name in ("log/000002.jsonl", "checkpoints/000002.json", "checkpoints/000001.json"):
        backend.put(name, name.encode())
    assert backend.names("checkpoints/") == ["checkpoints/000001.json", "checkpoints/000002.json"]
    assert backend.names("keys/") == []
    assert backend.names("") == [
        "checkpoints/000001.json",
        "checkpoints/000002.json",
        "log/000002.jsonl",
    ]


def test_names_lists_past_one_page(backend: Backend) -> None:
    """S3 returns at most 1000 keys a page; the locker must see every one."""
    names = [f"log/{number:06d}.jsonl" for number in range(1005)]
    if isinstance(backend, S3Backend):
        seed(backend.bucket, {backend.prefix + name: b"x" for name in names})
    else:
        for name in names:
            backend.put(name, b"x")
    backend.put("other/1", b"x")
    assert backend.names("log/") == names


def test_writing_the_same_bytes_again_is_a_no_op(backend: Backend) -> None:
    backend.put("checkpoints/000001.json", b"one")
    backend.put("checkpoints/000001.json", b"one")
    assert backend.get("checkpoints/000001.json") == b"one"


def test_other_bytes_never_overwrite(backend: Backend) -> None:
    backend.put("checkpoints/000001.json", b"one")
    with pytest.raises(ObjectExists, match=r"checkpoints/000001\.json"):
        backend.put("checkpoints/000001.json", b"two")
    assert backend.get("checkpoints/000001.json") == b"one"


def test_missing_objects(backend: Backend) -> None:
    with pytest.raises(MissingObject, match="blobs/none"):
        backend.get("blobs/none")
    with pytest.raises(MissingObject, match="blobs/none"):
        backend.delete("blobs/none")


def test_delete(backend: Backend) -> None:
    backend.put("blobs/old", b"expired evidence")
    backend.delete("blobs/old")
    assert not backend.exists("blobs/old")
    assert backend.names("blobs/") == []
    with pytest.raises(MissingObject):
        backend.get("blobs/old")


def test_names_that_escape_the_locker_are_refused(backend: Backend) -> None:
    for name in ("../outside", "/etc/passwd", "blobs/../../outside"):
        with pytest.raises(AssayError, match="not a valid object name"):
            backend.put(name, b"x")


def test_retention_is_accepted(backend: Backend) -> None:
    backend.put("blobs/kept", b"x", retain_until=datetime.now(UTC) + timedelta(days=1))
    assert backend.get("blobs/kept") == b"x"


def test_lock_serialises_writers(make_backend: Factory) -> None:
    first, second = make_backend(), make_backend()
    events: list[str] = []
    first_holds, second_tries = threading.Event(), threading.Event()

    def run_first() -> None:
        with first.lock():
            events.append("first in")
            first_holds.set()
            assert second_tries.wait(120)
            # A window in which a lock that did not exclude would let the second writer in. The
            # order asserted below is set by the events: a slow machine cannot break it.
            time.sleep(0.3)
            events.append("first out")

    def run_second() -> None:
        assert first_holds.wait(120)
        events.append("second waits")
        second_tries.set()
        with second.lock():
            events.append("second in")

    with ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(run_first), pool.submit(run_second)]
        for run in runs:
            run.result(timeout=240)
    assert events == ["first in", "second waits", "first out", "second in"]


def test_lock_is_released_when_the_writer_fails(make_backend: Factory) -> None:
    backend = make_backend()
    with pytest.raises(RuntimeError), backend.lock():
        raise RuntimeError("collector crashed")
    with make_backend().lock():
        pass


# What only S3 does.


def test_location_and_prefix() -> None:
    assert S3Backend("evidence", "/acme/soc2/").location == "s3://evidence/acme/soc2/"
    assert S3Backend("evidence").location == "s3://evidence/"


def test_objects_live_under_the_prefix(s3: S3Backend, admin: S3Client, prefix: str) -> None:
    s3.put("blobs/ab", b"x")
    assert admin.get_object(Bucket=LOCKED_BUCKET, Key=f"{prefix}/blobs/ab")["Body"].read() == b"x"


def test_put_has_the_store_verify_a_sha256(s3: S3Backend, admin: S3Client, prefix: str) -> None:
    data = b"bytes checked in transit"
    s3.put("blobs/checked", data)
    head = admin.head_object(
        Bucket=LOCKED_BUCKET, Key=f"{prefix}/blobs/checked", ChecksumMode="ENABLED"
    )
    assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_racing_writers_never_overwrite(make_backend: Factory) -> None:
    """A write-once put lets exactly one of several simultaneous writers in, on either backend."""
    writers = [make_backend() for _ in range(6)]
    start = threading.Barrier(len(writers))

    def write(number: int) -> int | None:
        start.wait()
        try:
            writers[number].put("checkpoints/000001.json", f"writer {number}".encode())
        except ObjectExists:
            return None
        return number

    with ThreadPoolExecutor(len(writers)) as pool:
        won = [number for number in pool.map(write, range(len(writers))) if number is not None]
    assert len(won) == 1
    assert writers[0].get("checkpoints/000001.json") == f"writer {won[0]}".encode()


def test_retention_is_compliance_object_lock(s3: S3Backend, admin: S3Client, prefix: str) -> None:
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(days=365)
    s3.put("blobs/kept", b"x", retain_until=until)
    # moto 5.2 does not implement GetObjectRetention (it answers with the object's bytes), so the
    # retention is read where S3 also reports it: the object's headers.
    head = admin.head_object(Bucket=LOCKED_BUCKET, Key=f"{prefix}/blobs/kept")
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] == until


def test_delete_is_refused_while_retained(s3: S3Backend) -> None:
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(days=365)
    s3.put("blobs/kept", b"x", retain_until=until)
    with pytest.raises(
        AssayError, match=rf"blobs/kept: retained under Object Lock until {until.year}"
    ):
        s3.delete("blobs/kept")
    assert s3.get("blobs/kept") == b"x"


def test_delete_removes_the_bytes_not_just_hides_them(
    s3: S3Backend, admin: S3Client, prefix: str
) -> None:
    """The Object Lock bucket is versioned: a plain delete would leave the bytes behind a marker."""
    s3.put("blobs/old", b"x")
    s3.delete("blobs/old")
    listing = admin.list_object_versions(Bucket=LOCKED_BUCKET, Prefix=f"{prefix}/blobs/old")
    assert listing.get("Versions", []) == []
    assert listing.get("DeleteMarkers", []) == []


def test_retention_needs_a_bucket_with_object_lock(endpoint: str, prefix: str) -> None:
    plain = S3Backend(PLAIN_BUCKET, prefix, endpoint_url=endpoint)
    until = datetime.now(UTC) + timedelta(days=1)
    with pytest.raises(
        AssayError, match=f"retention needs Object Lock, which bucket {PLAIN_BUCKET} does not"
    ):
        plain.put("blobs/kept", b"x", retain_until=until)
    assert not plain.exists("blobs/kept")
    plain.put("blobs/kept", b"x")
    plain.delete("blobs/kept")


def test_lock_object_is_reserved_and_hidden(s3: S3Backend) -> None:
    with s3.lock():
        assert s3.names("") == []
        assert s3.names("locks/") == []
    with pytest.raises(AssayError, match="not a valid object name"):
        s3.put(LOCK_NAME, b"x")


def test_a_live_lock_makes_others_wait_then_give_up(endpoint: str, prefix: str) -> None:
    holder = S3Backend(LOCKED_BUCKET, prefix, endpoint_url=endpoint)
    waiter = S3Backend(
        LOCKED_BUCKET, prefix, endpoint_url=endpoint, lock_wait=timedelta(seconds=0.5)
    )
    with holder.lock():
        started = time.monotonic()
        locked_by = rf"locked by {socket.gethostname()} pid {os.getpid()} until"
        with pytest.raises(AssayError, match=locked_by), waiter.lock():
            pass
        assert time.monotonic() - started >= 0.5


def test_an_expired_lock_is_taken_over(endpoint: str, prefix: str, admin: S3Client) -> None:
    crashed = S3Backend(
        LOCKED_BUCKET, prefix, endpoint_url=endpoint, lock_ttl=timedelta(seconds=0.5)
    )
    successor = S3Backend(LOCKED_BUCKET, prefix, endpoint_url=endpoint)
    stale = crashed.lock()
    stale.__enter__()  # a writer that dies holding the lock never leaves it
    started = time.monotonic()
    with successor.lock():
        assert time.monotonic() - started < 60  # taken over, not waited out (lock_wait: 5 min)
        # The first writer, should it wake up, releases only its own lock, not the successor's.
        stale.__exit__(None, None, None)
        assert admin.head_object(Bucket=LOCKED_BUCKET, Key=f"{prefix}/{LOCK_NAME}")
    with pytest.raises(admin.exceptions.ClientError, match="404"):
        admin.head_object(Bucket=LOCKED_BUCKET, Key=f"{prefix}/{LOCK_NAME}")


def test_a_lock_object_that_is_not_a_lock(s3: S3Backend, admin: S3Client, prefix: str) -> None:
    admin.put_object(Bucket=LOCKED_BUCKET, Key=f"{prefix}/{LOCK_NAME}", Body=b"garbage")
    with pytest.raises(AssayError, match="not a writer lock record"), s3.lock():
        pass


def test_a_missing_bucket_is_one_line(endpoint: str) -> None:
    missing = S3Backend("no-such-bucket", endpoint_url=endpoint)
    with pytest.raises(AssayError, match=r"^s3://no-such-bucket/blobs/x: NoSuchBucket: ") as error:
        missing.get("blobs/x")
    assert "\n" not in str(error.value)


def test_an_unreachable_store_is_one_line() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gone = S3Backend(LOCKED_BUCKET, "team", endpoint_url=f"http://127.0.0.1:{port}")
    for attempt in (lambda: gone.get("blobs/x"), lambda: gone.names("log/")):
        with pytest.raises(AssayError, match=r"^s3://assay-locker/team/.*Could not connect"):
            attempt()
    with pytest.raises(AssayError, match=rf"^s3://assay-locker/team/{LOCK_NAME}: "), gone.lock():
        pass
