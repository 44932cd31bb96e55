"""The locker a programme file describes: its backend, signing key, authority and retention."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from assay.errors import AssayError, InputError
from assay.evidence.backends import Backend, LocalBackend
from assay.evidence.locker import Appended, Checkpoint, Locker, Timestamper
from assay.evidence.signing import SigningKey, generate_key, load_key
from assay.evidence.statements import NewEvidence, Retention
from assay.evidence.verify import ExpectedCheckpoint, Report
from assay.programme.model import Programme, StorageKind

KEY_ENVIRONMENT_VARIABLE = "ASSAY_SIGNING_KEY"


def backend_for(programme: Programme) -> Backend:
    settings = programme.evidence
    if settings.storage is StorageKind.S3:
        from assay.evidence.s3 import S3Backend

        assert settings.bucket is not None
        return S3Backend(settings.bucket, settings.prefix, endpoint_url=settings.endpoint_url)
    return LocalBackend(programme.resolve(settings.path))


def open_locker(programme: Programme) -> Locker:
    return Locker(backend_for(programme))


def open_database(programme: Programme, *, check: bool = True) -> None:
    """Open the programme's database — the one place every command does — and refuse one that
    does not know the locker beside it (``evidence.index``); only a rebuild skips the check."""
    from assay._internal import db

    db.setup(programme.data_dir)
    if check:
        from assay.evidence import index

        index.check(backend_for(programme))


def key_path(programme: Programme) -> Path:
    """The private key file: ``ASSAY_SIGNING_KEY`` if set, else the programme's setting."""
    override = os.environ.get(KEY_ENVIRONMENT_VARIABLE)
    return Path(override) if override else programme.resolve(programme.evidence.signing_key)


def signing_key(programme: Programme) -> SigningKey:
    return load_key(key_path(programme))


def create_signing_key(programme: Programme) -> SigningKey | None:
    """Make the programme's signing key unless one exists; return it when made."""
    path = key_path(programme)
    return None if path.exists() else generate_key(path)


def authority_certificate(programme: Programme) -> bytes | None:
    """The time-stamp authority's CA certificate named by the programme, if it names one."""
    authority = programme.evidence.timestamp_authority
    if authority is None:
        return None
    path = programme.resolve(authority.ca_file)
    try:
        return path.read_bytes()
    except OSError as error:
        raise InputError(
            str(path), f"cannot read the authority's certificate ({error.strerror})"
        ) from None


def timestamper(programme: Programme) -> Timestamper | None:
    authority = programme.evidence.timestamp_authority
    pem = authority_certificate(programme)
    return Timestamper(authority.url, pem) if authority and pem else None


def retention(programme: Programme) -> Retention:
    """Evidence is kept until the audit period ends plus the policy's days, per kind if set."""
    end = datetime.combine(programme.audit.period.end, time.max, tzinfo=UTC)
    settings = programme.evidence
    return Retention(
        end + timedelta(days=settings.retention_days),
        {
            kind: end + timedelta(days=days)
            for kind, days in settings.retention_days_by_kind.items()
        },
    )


def checkpoint(programme: Programme) -> Checkpoint:
    """Sign a checkpoint of the log as it stands, and record it in the database."""
    from assay.evidence.models import Checkpoint as RecordedCheckpoint

    with open_locker(programme).writer(
        signing_key(programme), timestamper=timestamper(programme)
    ) as writer:
        made = writer.checkpoint()
    RecordedCheckpoint.record(made)
    return made


def append_now(programme: Programme, items: Sequence[NewEvidence]) -> list[Appended]:
    """Append what a person just did and sign a checkpoint over it at once: an unsigned tail
    could be cut off without a trace. Waits on the locker's lock while a run records."""
    from assay.evidence.models import Checkpoint as RecordedCheckpoint

    with open_locker(programme).writer(
        signing_key(programme), timestamper=timestamper(programme)
    ) as writer:
        appended = writer.append(items, retention(programme))
        RecordedCheckpoint.record(writer.checkpoint())
    return appended


def verify(
    programme: Programme, *, trust: str | None = None, pinned: Sequence[ExpectedCheckpoint] = ()
) -> Report:
    """Verify the programme's locker against every checkpoint the database recorded (and any an
    auditor pinned), and record the outcome, passed or failed, for the web app to show."""
    from assay.evidence.models import Checkpoint as RecordedCheckpoint
    from assay.evidence.models import Verification
    from assay.evidence.verify import verify as verify_locker

    recorded = list(RecordedCheckpoint.objects.order_by("seq"))
    anchor = trust or (recorded[0].key_id if recorded else None)
    try:
        report = verify_locker(
            backend_for(programme),
            anchor=anchor,
            expected=[*(ExpectedCheckpoint(c.seq, c.sha256) for c in recorded), *pinned],
            tsa_ca=authority_certificate(programme),
        )
    except AssayError as error:
        Verification.objects.create(at=datetime.now(UTC), passed=False, summary=str(error))
        raise
    latest = report.latest
    Verification.objects.create(
        at=datetime.now(UTC),
        passed=True,
        summary=report.summary(),
        statements=report.statements,
        checkpoints=report.checkpoints,
        latest_seq=latest.seq if latest else None,
        latest_sha256=latest.sha256 if latest else "",
    )
    return report
