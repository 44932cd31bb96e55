"""Ed25519 signing keys for checkpoints and tombstones.

The private key lives outside the locker (a PEM file, mode 0600). Its public half is published in
the locker as a key record. The first key is the trust anchor; each later key is endorsed by a
signature of the key before it, so rotating keys keeps every old checkpoint verifiable and a key
an attacker adds on their own is rejected.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from assay.errors import InputError, VerificationError
from assay.evidence.canonical import canonical_json


def key_id(public: bytes) -> str:
    """A key's fingerprint: the first 16 bytes of the sha-256 of its raw public key, in hex."""
    return hashlib.sha256(public).hexdigest()[:32]


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class SigningKey:
    """A private key loaded for signing."""

    private: Ed25519PrivateKey

    @property
    def public(self) -> bytes:
        return _raw(self.private.public_key())

    @property
    def id(self) -> str:
        return key_id(self.public)

    def sign(self, body: dict[str, Any]) -> str:
        return base64.b64encode(self.private.sign(canonical_json(body))).decode()


def generate_key(path: Path) -> SigningKey:
    """Create a new private key file readable by its owner only; refuse to overwrite one."""
    if path.exists():
        raise InputError(str(path), "a signing key already exists; not overwritten")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return SigningKey(private)


def load_key(path: Path) -> SigningKey:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(
            str(path), "signing key not found; create one with 'assay init --key'"
        ) from None
    if path.stat().st_mode & 0o077:
        raise InputError(str(path), "signing key is readable by others; chmod 600 it")
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except ValueError:
        raise InputError(str(path), "not a PEM private key") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise InputError(str(path), "not an Ed25519 key")
    return SigningKey(private)


_SIGNED_FIELDS = ("key_id", "public_key", "created", "endorsed_by")
_RECORD_FIELDS = frozenset({*_SIGNED_FIELDS, "signature", "endorsement"})
"""A key record holds these and nothing else, so no byte of it can change unnoticed."""


def key_record(key: SigningKey, endorser: SigningKey | None) -> dict[str, Any]:
    """The public record of ``key``: signed by the key itself, so no field of it can change
    unnoticed, and endorsed by the previous key when there is one."""
    body: dict[str, Any] = {
        "key_id": key.id,
        "public_key": base64.b64encode(key.public).decode(),
        "created": datetime.now(UTC).isoformat(),
        "endorsed_by": endorser.id if endorser else None,
    }
    return {
        **body,
        "signature": key.sign(body),
        "endorsement": endorser.sign(body) if endorser else None,
    }


def verify_signature(public: bytes, signature: str, body: dict[str, Any], what: str) -> None:
    """The signature must verify and be written the one way base64 writes it: a decoder ignores
    the spare low bits of the last character, so without this check a changed byte there would
    leave the signature valid and the file altered."""
    try:
        raw = base64.b64decode(signature, validate=True)
        if base64.b64encode(raw).decode() != signature:
            raise ValueError("not canonical base64")
        Ed25519PublicKey.from_public_bytes(public).verify(raw, canonical_json(body))
    except (InvalidSignature, ValueError, TypeError) as error:
        raise VerificationError(f"{what}: signature does not verify") from error


def trusted_keys(records: list[dict[str, Any]], anchor: str | None) -> dict[str, bytes]:
    """Follow the endorsement chain from the anchor; return key id → public key.

    ``anchor`` pins the first key's id; without it the locker's own unendorsed key is the anchor
    (and the caller should show its fingerprint so a person can compare it).
    """
    by_id: dict[str, dict[str, Any]] = {}
    for record in records:
        try:
            public = base64.b64decode(record["public_key"], validate=True)
            identifier = record["key_id"]
            body = {k: record[k] for k in _SIGNED_FIELDS}
            signature = str(record["signature"])
            if extra := sorted(set(record) - _RECORD_FIELDS):
                raise ValueError(f"unexpected field {', '.join(extra)}")
            if record["endorsed_by"] is None and record["endorsement"] is not None:
                raise ValueError("an endorsement but no endorser")
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            named = record.get("key_id") if isinstance(record, dict) else None
            where = f"keys/{named}.json" if isinstance(named, str) else f"key record {record!r:.60}"
            raise VerificationError(f"{where}: malformed key record ({error})") from None
        if key_id(public) != identifier:
            raise VerificationError(f"keys/{identifier}.json: key id does not match the key")
        verify_signature(public, signature, body, f"keys/{identifier}.json")
        by_id[identifier] = record
    if not by_id:
        raise VerificationError("keys/: no published signing key")
    roots = [i for i, r in by_id.items() if r.get("endorsed_by") is None]
    if anchor is not None and anchor not in by_id:
        raise VerificationError(f"trusted key {anchor} is not among the locker's keys")
    if anchor is None:
        if len(roots) != 1:
            raise VerificationError(f"expected exactly one unendorsed key, found {len(roots)}")
        anchor = roots[0]
    trusted = {anchor: base64.b64decode(by_id[anchor]["public_key"])}
    pending = {i: r for i, r in by_id.items() if i != anchor}
    while pending:
        progress = False
        for identifier, record in list(pending.items()):
            endorser = record.get("endorsed_by")
            if endorser in trusted:
                body = {k: record[k] for k in _SIGNED_FIELDS}
                verify_signature(
                    trusted[endorser],
                    str(record.get("endorsement")),
                    body,
                    f"keys/{identifier}.json endorsement",
                )
                trusted[identifier] = base64.b64decode(record["public_key"])
                del pending[identifier]
                progress = True
        if not progress:
            raise VerificationError(
                f"keys/{sorted(pending)[0]}.json: not endorsed by a trusted key"
            )
    return trusted
