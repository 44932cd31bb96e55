"""RFC 3161 trusted timestamps: a third party attests when a checkpoint existed.

A checkpoint's SHA-256 digest goes to a configured Time-Stamp Authority; the token it signs is
kept with the checkpoint and verified offline against the authority's CA, so the time does not
rest on Assay's own clock. asn1crypto reads and writes the DER; cryptography checks the CMS
signature and the certificate chain.
"""

from __future__ import annotations

import hashlib
import secrets
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from asn1crypto import cms, core, tsp  # type: ignore[import-untyped]
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import verification
from cryptography.x509.oid import ExtendedKeyUsageOID

from assay.errors import AssayError, VerificationError

_QUERY = "application/timestamp-query"
_REPLY = "application/timestamp-reply"
_DER = serialization.Encoding.DER
_GRANTED = frozenset({"granted", "granted_with_mods"})
# asn1crypto parses lazily, so bad DER surfaces as any of these, from wherever it is read.
_ASN1_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError)
# Digests a token's signature may use; SHA-1 is refused there, though ESS v1 names a
# certificate by its SHA-1 hash.
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


class _TimeStampResp(tsp.TimeStampResp):  # type: ignore[misc]
    """asn1crypto 1.5 makes the token mandatory, but RFC 3161 leaves it out of a refusal."""

    _fields = [
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


class _Malformed(Exception):
    """The bytes are not the token RFC 3161 describes; each caller says whose bytes they were."""


@dataclass(frozen=True)
class _Token:
    """What checking a TimeStampToken needs, read out of its ASN.1 once."""

    imprint_algorithm: str
    imprint: bytes
    nonce: int | None
    gen_time: datetime
    tst_info: bytes  # the encapsulated DER the messageDigest attribute covers
    signed_attrs: bytes  # the DER SET OF the signature covers
    content_type: str | None
    message_digest: bytes | None
    ess_cert: tuple[str, bytes] | None  # (hash algorithm, hash) naming the signing certificate
    digest_algorithm: str
    signature_algorithm: str
    signature: bytes
    signer: x509.Certificate | None
    others: tuple[x509.Certificate, ...]


def request_timestamp(
    digest: bytes, url: str, *, timeout: float = 10.0, client: httpx.Client | None = None
) -> bytes:
    """Ask the TSA at ``url`` to stamp a SHA-256 digest; return the DER TimeStampToken."""
    if len(digest) != 32:
        raise AssayError(f"a timestamp is for a 32-byte SHA-256 digest, not {len(digest)} bytes")
    nonce = secrets.randbits(64)
    query = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": digest,
            },
            "nonce": nonce,
            "cert_req": True,
        }
    ).dump()
    with ExitStack() as stack:
        http = client if client is not None else stack.enter_context(httpx.Client())
        try:
            response = http.post(
                url, content=query, headers={"Content-Type": _QUERY}, timeout=timeout
            )
        except httpx.HTTPError as exc:
            raise AssayError(f"timestamp authority {url}: {_line(exc)}") from exc
    if response.status_code != 200:
        raise AssayError(f"timestamp authority {url} answered HTTP {response.status_code}")
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != _REPLY:
        raise AssayError(f"timestamp authority {url} answered {media or 'untyped'}, not {_REPLY}")
    token = _granted_token(url, response.content)
    try:
        stamped = _read(token)
    except _Malformed as exc:
        raise AssayError(f"timestamp authority {url}: {exc}") from None
    if stamped.imprint_algorithm != "sha256" or stamped.imprint != digest:
        raise AssayError(f"timestamp authority {url} stamped a different digest")
    if stamped.nonce != nonce:
        raise AssayError(f"timestamp authority {url} answered with another request's nonce")
    if stamped.signer is None:
        raise AssayError(f"timestamp authority {url} sent a token without its certificate")
    return token


def verify_timestamp(token: bytes, digest: bytes, ca_pem: bytes) -> datetime:
    """Check a token offline against the TSA's CA; return the attested time (aware UTC)."""
    try:
        stamped = _read(token)
    except _Malformed as exc:
        raise VerificationError(f"timestamp token: {exc}") from None
    if stamped.imprint_algorithm != "sha256" or stamped.imprint != digest:
        raise VerificationError("timestamp token: it stamps a different digest")
    signer = _check_signature(stamped)
    _check_chain(signer, stamped, ca_pem)
    return stamped.gen_time


def token_time(token: bytes) -> datetime:
    """The time a token claims, unverified: for display only."""
    try:
        return _read(token).gen_time
    except _Malformed as exc:
        raise VerificationError(f"timestamp token: {exc}") from None


def _granted_token(url: str, reply: bytes) -> bytes:
    """The token from a TimeStampResp, or a one-line account of why there is none."""
    try:
        response = _TimeStampResp.load(reply, strict=True)
        status = response["status"]
        state = status["status"].native
        text = " ".join(" ".join(status["status_string"].native or []).split())
        failures = sorted(status["fail_info"].native or [])
        token = response["time_stamp_token"]
    except _ASN1_ERRORS as exc:
        raise AssayError(f"timestamp authority {url}: unreadable reply ({_line(exc)})") from exc
    if state not in _GRANTED:
        detail = "; ".join(part for part in (", ".join(failures), text) if part)
        raise AssayError(
            f"timestamp authority {url} refused the request: {state}"
            + (f" ({detail})" if detail else "")
        )
    if isinstance(token, core.Void):
        raise AssayError(f"timestamp authority {url} granted the request but sent no token")
    return bytes(token.dump())


def _read(token: bytes) -> _Token:
    try:
        return _parse(token)
    except (*_ASN1_ERRORS, x509.InvalidVersion) as exc:
        raise _Malformed(f"not an RFC 3161 timestamp token ({_line(exc)})") from exc


def _parse(token: bytes) -> _Token:
    info = cms.ContentInfo.load(token, strict=True)
    if info["content_type"].native != "signed_data":
        raise _Malformed("not CMS SignedData")
    signed = info["content"]
    encapsulated = signed["encap_content_info"]
    if encapsulated["content_type"].native != "tst_info":
        raise _Malformed("the signed content is not a TSTInfo")
    tst = encapsulated["content"].parsed
    if len(signed["signer_infos"]) != 1:
        raise _Malformed("a token has exactly one signer")
    signer_info = signed["signer_infos"][0]
    if isinstance(signer_info["signed_attrs"], core.Void):
        raise _Malformed("the signer has no signed attributes")
    attrs = {attr["type"].native: attr["values"][0] for attr in signer_info["signed_attrs"]}
    certificates = (
        []
        if isinstance(signed["certificates"], core.Void)
        else [choice.chosen for choice in signed["certificates"] if choice.name == "certificate"]
    )
    signer = next((c for c in certificates if _identifies(signer_info["sid"], c)), None)
    return _Token(
        imprint_algorithm=str(tst["message_imprint"]["hash_algorithm"]["algorithm"].native),
        imprint=bytes(tst["message_imprint"]["hashed_message"].native),
        nonce=tst["nonce"].native,
        gen_time=tst["gen_time"].native.astimezone(UTC),
        tst_info=bytes(encapsulated["content"].contents),
        # Signed as a DER SET OF, not under the [0] IMPLICIT tag the SignerInfo carries.
        signed_attrs=b"\x31" + bytes(signer_info["signed_attrs"].dump())[1:],
        content_type=attrs["content_type"].native if "content_type" in attrs else None,
        message_digest=attrs["message_digest"].native if "message_digest" in attrs else None,
        ess_cert=_ess_cert(attrs),
        digest_algorithm=str(signer_info["digest_algorithm"]["algorithm"].native),
        signature_algorithm=str(signer_info["signature_algorithm"].signature_algo),
        signature=bytes(signer_info["signature"].native),
        signer=None if signer is None else _load_certificate(signer),
        others=tuple(_load_certificate(c) for c in certificates if c is not signer),
    )


def _identifies(sid: cms.SignerIdentifier, certificate: asn1_x509.Certificate) -> bool:
    """Whether a SignerInfo's identifier names this (asn1crypto) certificate."""
    if sid.name == "issuer_and_serial_number":
        return bool(
            certificate.issuer == sid.chosen["issuer"]
            and certificate.serial_number == sid.chosen["serial_number"].native
        )
    return bool(certificate.key_identifier == sid.chosen.native)


def _ess_cert(attrs: dict[str, Any]) -> tuple[str, bytes] | None:
    """The signing-certificate attribute RFC 3161 requires, binding the signer's certificate."""
    if "signing_certificate_v2" in attrs:
        first = attrs["signing_certificate_v2"]["certs"][0]
        return str(first["hash_algorithm"]["algorithm"].native), bytes(first["cert_hash"].native)
    if "signing_certificate" in attrs:
        first = attrs["signing_certificate"]["certs"][0]
        return "sha1", bytes(first["cert_hash"].native)
    return None


def _load_certificate(certificate: asn1_x509.Certificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(bytes(certificate.dump()))


def _check_signature(stamped: _Token) -> x509.Certificate:
    """Check the CMS signature and what it binds; return the signing certificate."""
    signer = stamped.signer
    if signer is None:
        raise VerificationError("timestamp token: it carries no signing certificate")
    if stamped.content_type != "tst_info":
        raise VerificationError("timestamp token: the signed content type is not TSTInfo")
    algorithm = _HASHES.get(stamped.digest_algorithm)
    if algorithm is None:
        raise VerificationError(f"timestamp token: unsupported digest {stamped.digest_algorithm}")
    if stamped.message_digest != hashlib.new(stamped.digest_algorithm, stamped.tst_info).digest():
        raise VerificationError("timestamp token: the signed digest does not match the TSTInfo")
    if stamped.ess_cert is None or stamped.ess_cert[0] not in {"sha1", *_HASHES}:
        raise VerificationError("timestamp token: no signed attribute names its certificate")
    ess_algorithm, ess_hash = stamped.ess_cert
    if ess_hash != hashlib.new(ess_algorithm, signer.public_bytes(_DER)).digest():
        raise VerificationError("timestamp token: it names a certificate other than its signer's")
    try:
        key = signer.public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise VerificationError("timestamp token: its certificate's key is unusable") from None
    try:
        if isinstance(key, rsa.RSAPublicKey) and stamped.signature_algorithm == "rsassa_pkcs1v15":
            key.verify(stamped.signature, stamped.signed_attrs, padding.PKCS1v15(), algorithm())
        elif isinstance(key, ec.EllipticCurvePublicKey) and stamped.signature_algorithm == "ecdsa":
            key.verify(stamped.signature, stamped.signed_attrs, ec.ECDSA(algorithm()))
        else:
            raise VerificationError(
                f"timestamp token: unsupported signature {stamped.signature_algorithm}"
            )
    except InvalidSignature:
        raise VerificationError("timestamp token: the TSA's signature does not verify") from None
    return signer


def _check_chain(signer: x509.Certificate, stamped: _Token, ca_pem: bytes) -> None:
    """The signer must chain to ``ca_pem`` at genTime and be a TSA certificate by RFC 3161."""
    try:
        anchors = x509.load_pem_x509_certificates(ca_pem)
    except ValueError:
        raise VerificationError("timestamp token: the trusted CA is not PEM certificates") from None
    tsa_only = verification.ExtensionPolicy.permit_all().require_present(
        x509.ExtendedKeyUsage, verification.Criticality.CRITICAL, _only_time_stamping
    )
    # cryptography insists a CA policy require basicConstraints, and itself checks cA is set.
    cas_only = verification.ExtensionPolicy.permit_all().require_present(
        x509.BasicConstraints, verification.Criticality.AGNOSTIC, None
    )
    verifier = (
        verification.PolicyBuilder()
        .store(verification.Store(anchors))
        .time(stamped.gen_time)
        .extension_policies(ca_policy=cas_only, ee_policy=tsa_only)
        .build_client_verifier()
    )
    try:
        verifier.verify(signer, list(stamped.others))
    except verification.VerificationError as exc:
        raise VerificationError(
            f"timestamp token: its signer does not chain to the trusted CA ({_line(exc)})"
        ) from None


def _only_time_stamping(
    policy: verification.Policy, certificate: x509.Certificate, usage: x509.ExtendedKeyUsage
) -> None:
    """RFC 3161 §2.3: the TSA's certificate has exactly one, critical, extended key usage."""
    if list(usage) != [ExtendedKeyUsageOID.TIME_STAMPING]:
        raise ValueError("the extended key usage is not timeStamping alone")


def _line(exc: Exception) -> str:
    """An exception as one line: asn1crypto and httpx messages may run to several, or none."""
    return next(iter(str(exc).splitlines()), type(exc).__name__)
