"""The evidence locker: every snapshot and result Assay keeps, stored content-addressed.

``EvidenceStore`` is the seam; ``LocalLocker`` is the default backend (a directory). Writes are
staged and published together, so a failed run leaves nothing behind.
"""

from assay.evidence.store import EvidenceStore, LocalLocker, StoredBlob

__all__ = ["EvidenceStore", "LocalLocker", "StoredBlob"]
