"""RFC 3161 timestamps against a local ``openssl ts`` authority: request, verify, refuse."""

from __future__ import annotations

import hashlib
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.x509 import ObjectIdentifier
from cryptography.x509.oid import ExtendedKeyUsageOID
from tests.evidence.tsa import LocalTSA, local_tsa, make_ca, make_tsa, resign

from assay.errors import AssayError, VerificationError
from assay.evidence.timestamp import request_timestamp, token_time, verify_timestamp

DIGEST = hashlib.sha256(b"checkpoint 42").digest()
OTHER_DIGEST = hashlib.sha256(b"checkpoint 43").digest()


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTSA]:
    with local_tsa(tmp_path_factory.mktemp("tsa")) as running:
        yield running


@pytest.fixture(scope="module")
def token(tsa: LocalTSA) -> bytes:
    return request_timestamp(DIGEST, tsa.url())


def test_a_token_verifies_and_attests_the_time_it_was_made(tsa: LocalTSA, token: bytes) -> None:
    attested = verify_timestamp(token, DIGEST, tsa.root.cert_pem)
    assert attested.tzinfo is not None
    assert abs(datetime.now(UTC) - attested) < timedelta(minutes=1)
    assert token_time(token) == attested


def test_a_token_from_a_tsa_under_an_intermediate_ca_verifies(tsa: LocalTSA) -> None:
    chained = request_timestamp(DIGEST, tsa.url("/chain"))
    assert verify_timestamp(chained, DIGEST, tsa.root.cert_pem) == token_time(chained)


def test_a_token_does_not_verify_for_another_digest(tsa: LocalTSA, token: bytes) -> None:
    with pytest.raises(VerificationError, match="different digest"):
        verify_timestamp(token, OTHER_DIGEST, tsa.root.cert_pem)


def test_a_token_does_not_verify_against_another_ca(token: bytes) -> None:
    with pytest.raises(VerificationError, match="does not chain to the trusted CA"):
        verify_timestamp(token, DIGEST, make_ca("Someone else's root").cert_pem)


def test_a_changed_imprint_fails_verification(tsa: LocalTSA, token: bytes) -> None:
    at = token.index(DIGEST)
    tampered = token[:at] + OTHER_DIGEST + token[at + len(DIGEST) :]
    with pytest.raises(VerificationError, match="signed digest does not match"):
        verify_timestamp(tampered, OTHER_DIGEST, tsa.root.cert_pem)


def test_a_changed_signature_fails_verification(tsa: LocalTSA, token: bytes) -> None:
    tampered = token[:-1] + bytes([token[-1] ^ 1])
    with pytest.raises(VerificationError, match="signature does not verify"):
        verify_timestamp(tampered, DIGEST, tsa.root.cert_pem)


@pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")
def test_every_flipped_byte_fails_cleanly_or_leaves_the_attestation_intact(
    tsa: LocalTSA, token: bytes
) -> None:
    """Some bytes are unsigned metadata (a version, NULL parameters); none may crash."""
    attested = verify_timestamp(token, DIGEST, tsa.root.cert_pem)
    failed = 0
    for at in range(len(token)):
        flipped = token[:at] + bytes([token[at] ^ 0x01]) + token[at + 1 :]
        try:
            assert verify_timestamp(flipped, DIGEST, tsa.root.cert_pem) == attested
        except VerificationError:
            failed += 1
    assert failed > 0.95 * len(token)


def test_a_token_re_signed_by_a_new_tsa_certificate_from_the_root_verifies(
    tsa: LocalTSA, token: bytes
) -> None:
    """The control for the forgeries below: re-signing alone does not break a token."""
    forged = resign(token, make_tsa("Another TSA", tsa.root, curve=True))
    assert verify_timestamp(forged, DIGEST, tsa.root.cert_pem) == token_time(token)


@pytest.mark.parametrize(
    ("usages", "critical"),
    [
        ((), True),
        ((ExtendedKeyUsageOID.TIME_STAMPING,), False),
        ((ExtendedKeyUsageOID.TIME_STAMPING, ExtendedKeyUsageOID.CODE_SIGNING), True),
        ((ExtendedKeyUsageOID.CODE_SIGNING,), True),
    ],
    ids=["no-eku", "non-critical", "extra-usage", "code-signing"],
)
def test_a_certificate_from_the_root_that_is_not_for_time_stamping_cannot_sign_tokens(
    tsa: LocalTSA, token: bytes, usages: tuple[ObjectIdentifier, ...], critical: bool
) -> None:
    forger = make_tsa("Not a TSA", tsa.root, curve=True, usages=usages, critical=critical)
    with pytest.raises(VerificationError, match="does not chain"):
        verify_timestamp(resign(token, forger), DIGEST, tsa.root.cert_pem)


def test_a_certificate_issued_by_a_non_ca_cannot_sign_tokens(tsa: LocalTSA, token: bytes) -> None:
    leaf = make_tsa("A genuine TSA", tsa.root, curve=True)
    forger = make_tsa("Issued by a leaf", leaf, curve=True)
    with pytest.raises(VerificationError, match="does not chain"):
        verify_timestamp(resign(token, forger, leaf), DIGEST, tsa.root.cert_pem)


def test_garbage_is_not_a_token(tsa: LocalTSA) -> None:
    with pytest.raises(VerificationError, match="not an RFC 3161 timestamp token"):
        verify_timestamp(b"\x30\x03\x02\x01\x01", DIGEST, tsa.root.cert_pem)
    with pytest.raises(VerificationError, match="not an RFC 3161 timestamp token"):
        token_time(b"not DER")


def test_an_http_error_names_the_url(tsa: LocalTSA) -> None:
    url = tsa.url("/broken")
    with pytest.raises(AssayError, match=re.escape(f"{url} answered HTTP 500")):
        request_timestamp(DIGEST, url)


def test_a_rejected_request_names_the_url_and_the_reason(tsa: LocalTSA) -> None:
    url = tsa.url("/reject")
    with pytest.raises(
        AssayError, match=re.escape(f"{url} refused the request: rejection (bad_alg")
    ):
        request_timestamp(DIGEST, url)


@pytest.mark.usefixtures("token")  # /replay answers with the reply that made it
def test_a_replayed_reply_is_refused_by_its_nonce(tsa: LocalTSA) -> None:
    url = tsa.url("/replay")
    with pytest.raises(AssayError, match=re.escape(f"{url} answered with another request's nonce")):
        request_timestamp(DIGEST, url)


def test_an_unreachable_authority_names_the_url() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/tsa"
    with pytest.raises(AssayError, match=re.escape(f"timestamp authority {url}: ")):
        request_timestamp(DIGEST, url, timeout=2.0)


def test_only_a_sha256_digest_can_be_stamped(tsa: LocalTSA) -> None:
    with pytest.raises(AssayError, match="32-byte SHA-256 digest, not 20 bytes"):
        request_timestamp(hashlib.sha1(b"x").digest(), tsa.url())
