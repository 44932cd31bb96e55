"""The locker on S3-compatible object storage, for teams and for retention under Object Lock.

The store itself enforces what ``LocalBackend`` gets from the file system: every write is a
conditional ``PUT`` (``If-None-Match: *``), so two writers can never overwrite each other, and
the writer lock is an object created the same way. Credentials come from the standard AWS chain
(environment, shared config, instance role), never from arguments or the programme file.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from assay.errors import AssayError
from assay.evidence.backends import MissingObject, ObjectExists

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import PutObjectRequestTypeDef

LOCK_NAME = "locks/writer"
"""The writer lock's object, under the backend's prefix; reserved, and hidden from ``names``."""

_POLL_SECONDS = 0.2

_CONFLICT = {"PreconditionFailed", "ConditionalRequestConflict"}
"""412: the condition did not hold; 409: a concurrent conditional request on the same key won."""


class S3Backend:
    """A locker in ``s3://bucket/prefix``: objects are S3 objects, written once.

    ``lock_ttl`` bounds how long a crashed writer can block others; it must exceed the longest run,
    since an expired lock is taken over. ``lock_wait`` is how long ``lock`` waits for a live one.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        client: Any | None = None,
        lock_ttl: timedelta = timedelta(minutes=30),
        lock_wait: timedelta = timedelta(minutes=5),
    ) -> None:
        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self.location = f"s3://{bucket}/{self.prefix}"
        self.lock_ttl = lock_ttl
        self.lock_wait = lock_wait
        # A session of its own: boto3's default session is not safe to share between threads.
        self._client: S3Client = client or boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            config=Config(
                retries={"mode": "standard", "max_attempts": 3}, connect_timeout=10, read_timeout=60
            ),
        )

    def _key(self, name: str) -> str:
        if not name or name.startswith("/") or ".." in name.split("/") or name == LOCK_NAME:
            raise AssayError(f"{name}: not a valid object name")
        return self.prefix + name

    def get(self, name: str) -> bytes:
        try:
            # ChecksumMode makes botocore verify the bytes against the checksum stored at put.
            response = self._client.get_object(
                Bucket=self.bucket, Key=self._key(name), ChecksumMode="ENABLED"
            )
            return response["Body"].read()
        except ClientError as error:
            if _code(error) == "NoSuchKey":
                raise MissingObject(name) from None
            raise self._failure(name, error) from None
        except BotoCoreError as error:
            raise self._failure(name, error) from None

    def put(self, name: str, data: bytes, *, retain_until: datetime | None = None) -> None:
        # S3 and moto both refuse a PUT with If-None-Match: * when the key exists (412), which
        # makes write-once atomic without a head-then-put.
        request: PutObjectRequestTypeDef = {
            "Bucket": self.bucket,
            "Key": self._key(name),
            "Body": data,
            "IfNoneMatch": "*",
            "ChecksumAlgorithm": "SHA256",
        }
        if retain_until is not None:
            request["ObjectLockMode"] = "COMPLIANCE"
            request["ObjectLockRetainUntilDate"] = retain_until
        try:
            self._client.put_object(**request)
        except ClientError as error:
            if _code(error) == "PreconditionFailed":
                if self.get(name) != data:
                    raise ObjectExists(name) from None
                return
            # S3: "Bucket is missing Object Lock Configuration"; moto: "...ObjectLockConfiguration".
            if (
                retain_until is not None
                and _code(error) == "InvalidRequest"
                and "lock" in _message(error).lower()
            ):
                raise AssayError(
                    f"{self.location}{name}: retention needs Object Lock, which bucket "
                    f"{self.bucket} does not have enabled; create the bucket with Object Lock"
                ) from None
            raise self._failure(name, error) from None
        except BotoCoreError as error:
            raise self._failure(name, error) from None

    def flush(self) -> None:
        """Nothing to do: S3 acknowledges a PUT only once the object is stored durably."""

    def exists(self, name: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=self._key(name))
        except ClientError as error:
            if _code(error) in {"404", "NoSuchKey"}:
                return False
            raise self._failure(name, error) from None
        except BotoCoreError as error:
            raise self._failure(name, error) from None
        return True

    def names(self, prefix: str) -> list[str]:
        lock_key = self.prefix + LOCK_NAME
        found: list[str] = []
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix + prefix
            )
            for page in pages:
                found.extend(
                    item["Key"].removeprefix(self.prefix)
                    for item in page.get("Contents", [])
                    if item["Key"] != lock_key
                )
        except (BotoCoreError, ClientError) as error:
            raise self._failure(prefix, error) from None
        return sorted(found)

    def delete(self, name: str) -> None:
        """Delete the object's current version itself, not just hide it behind a delete marker:
        in a versioned (Object Lock) bucket a plain delete would keep the bytes and ignore the
        retention date."""
        key = self._key(name)
        try:
            head = self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if _code(error) in {"404", "NoSuchKey"}:
                raise MissingObject(name) from None
            raise self._failure(name, error) from None
        except BotoCoreError as error:
            raise self._failure(name, error) from None
        try:
            if version := head.get("VersionId"):
                self._client.delete_object(Bucket=self.bucket, Key=key, VersionId=version)
            else:
                self._client.delete_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            until = head.get("ObjectLockRetainUntilDate")
            if _code(error) == "AccessDenied" and until is not None:
                raise AssayError(
                    f"{self.location}{name}: retained under Object Lock until "
                    f"{until.isoformat()}; the store refuses to delete it before then"
                ) from None
            raise self._failure(name, error) from None
        except BotoCoreError as error:
            raise self._failure(name, error) from None

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive across processes and machines, through the store's conditional writes."""
        try:
            etag = self._acquire()
        except (BotoCoreError, ClientError) as error:
            raise self._failure(LOCK_NAME, error) from None
        try:
            yield
        finally:
            try:
                self._delete_if_match(etag)
            except (BotoCoreError, ClientError) as error:
                raise self._failure(LOCK_NAME, error) from None

    def _acquire(self) -> str:
        """Create ``locks/writer`` only if absent, so one writer at a time holds it; its ETag."""
        owner = uuid.uuid4().hex
        deadline = time.monotonic() + self.lock_wait.total_seconds()
        while True:
            record = {
                "owner": owner,
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "expires": (datetime.now(UTC) + self.lock_ttl).isoformat(),
            }
            try:
                return self._client.put_object(
                    Bucket=self.bucket,
                    Key=self.prefix + LOCK_NAME,
                    Body=json.dumps(record).encode(),
                    IfNoneMatch="*",
                    ChecksumAlgorithm="SHA256",
                )["ETag"]
            except ClientError as error:
                if _code(error) not in _CONFLICT:
                    raise
            held = self._holder()
            if held is None:
                continue
            etag, holder, expires = held
            if expires <= datetime.now(UTC):
                # Conditional on the ETag, so of two writers taking over the same expired lock
                # only one deletes it; the other's delete or create then fails and it waits.
                self._delete_if_match(etag)
                continue
            if time.monotonic() >= deadline:
                raise AssayError(
                    f"{self.location}: the locker is locked by {holder} until {expires.isoformat()}"
                )
            time.sleep(_POLL_SECONDS)

    def _holder(self) -> tuple[str, str, datetime] | None:
        """The current lock's ETag, holder and expiry, or None when it has just been released."""
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=self.prefix + LOCK_NAME)
        except ClientError as error:
            if _code(error) == "NoSuchKey":
                return None
            raise
        try:
            record = json.loads(response["Body"].read())
            holder = f"{record['host']} pid {record['pid']}"
            expires = datetime.fromisoformat(record["expires"]).astimezone(UTC)
        except (ValueError, KeyError, TypeError):
            raise AssayError(
                f"{self.location}{LOCK_NAME}: not a writer lock record; remove it by hand"
            ) from None
        return response["ETag"], holder, expires

    def _delete_if_match(self, etag: str) -> None:
        """Delete the lock only while it is the one we saw: a lost race (412, 409) or a lock
        already gone (404) means another writer has moved on, which is not an error."""
        try:
            self._client.delete_object(
                Bucket=self.bucket, Key=self.prefix + LOCK_NAME, IfMatch=etag
            )
        except ClientError as error:
            if _code(error) not in {*_CONFLICT, "NoSuchKey", "404"}:
                raise

    def _failure(self, name: str, error: BotoCoreError | ClientError) -> AssayError:
        """One line naming the object, instead of botocore's traceback."""
        if isinstance(error, ClientError):
            detail = f"{_code(error)}: {_message(error)}"
        else:
            detail = str(error)
        return AssayError(" ".join(f"{self.location}{name}: {detail}".split()))


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def _message(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Message", "")
