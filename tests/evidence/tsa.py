"""A local RFC 3161 Time-Stamp Authority for tests: ``openssl ts -reply`` behind http.server.

Each URL path is a different authority, so one server covers every case the tests need:

- ``/tsa``: signs with a certificate issued directly by the root (RSA);
- ``/chain``: signs with a certificate issued by an intermediate CA (EC), sent in the token;
- ``/reject``: accepts only SHA-384 imprints, so it answers SHA-256 requests with rejection;
- ``/replay``: answers with the last reply ``/tsa`` gave, whatever the request (stale nonce);
- ``/broken``: answers HTTP 500.

``resign`` forges tokens with certificates ``openssl ts`` would refuse to sign with.
"""

from __future__ import annotations

import hashlib
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import TypeAlias

from asn1crypto import cms  # type: ignore[import-untyped]
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey: TypeAlias = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

SECTIONS = {"/tsa": "tsa_root", "/chain": "tsa_chain", "/reject": "tsa_reject"}


@dataclass(frozen=True)
class Authority:
    """A key and its certificate."""

    key: PrivateKey
    cert: x509.Certificate

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class LocalTSA:
    """A running local authority: where to ask, and the root CA its tokens chain to."""

    base_url: str
    root: Authority

    def url(self, path: str = "/tsa") -> str:
        return self.base_url + path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(common_name: str, issuer: Authority | None = None) -> Authority:
    """A CA certificate: self-signed when ``issuer`` is None, else an intermediate under it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return Authority(key, _certificate(common_name, key, issuer, ca=True))


def make_tsa(
    common_name: str,
    issuer: Authority,
    *,
    curve: bool = False,
    usages: Sequence[x509.ObjectIdentifier] = (ExtendedKeyUsageOID.TIME_STAMPING,),
    critical: bool = True,
) -> Authority:
    """A signing certificate; by default with the critical timeStamping EKU RFC 3161 requires."""
    key: PrivateKey = (
        ec.generate_private_key(ec.SECP256R1())
        if curve
        else rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    certificate = _certificate(common_name, key, issuer, ca=False, usages=usages, critical=critical)
    return Authority(key, certificate)


def _certificate(
    common_name: str,
    key: PrivateKey,
    issuer: Authority | None,
    *,
    ca: bool,
    usages: Sequence[x509.ObjectIdentifier] = (),
    critical: bool = True,
) -> x509.Certificate:
    now = datetime.now(UTC)
    signer_key = key if issuer is None else issuer.key
    issuer_name = _name(common_name) if issuer is None else issuer.cert.subject
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if usages:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=critical)
    return builder.sign(signer_key, hashes.SHA256())


def resign(token: bytes, signer: Authority, *extra: Authority) -> bytes:
    """The token re-signed by ``signer`` (an EC key), as a forger would, carrying ``extra``.

    The TSTInfo is kept; the signer's identifier, signing-certificate hash, signature and the
    certificates the token carries are replaced, so only the signer's certificate can fail it.
    """
    der = signer.cert.public_bytes(serialization.Encoding.DER)
    cert = asn1_x509.Certificate.load(der)
    info = cms.ContentInfo.load(token)
    signed = info["content"]
    signer_info = signed["signer_infos"][0]
    signer_info["sid"] = cms.SignerIdentifier(
        "issuer_and_serial_number", {"issuer": cert.issuer, "serial_number": cert.serial_number}
    )
    attrs = signer_info["signed_attrs"]
    for attr in attrs:
        if attr["type"].native == "signing_certificate_v2":
            attr["values"] = [{"certs": [{"cert_hash": hashlib.sha256(der).digest()}]}]
    to_sign = b"\x31" + attrs.dump()[1:]
    assert isinstance(signer.key, ec.EllipticCurvePrivateKey), "forgers sign with EC keys"
    signer_info["signature_algorithm"] = {"algorithm": "sha256_ecdsa"}
    signer_info["signature"] = signer.key.sign(to_sign, ec.ECDSA(hashes.SHA256()))
    signed["certificates"] = [
        cert,
        *(
            asn1_x509.Certificate.load(a.cert.public_bytes(serialization.Encoding.DER))
            for a in extra
        ),
    ]
    return bytes(info.dump())


def _write(directory: Path, stem: str, authority: Authority) -> tuple[Path, Path]:
    cert = directory / f"{stem}.crt"
    key = directory / f"{stem}.key"
    cert.write_bytes(authority.cert_pem)
    key.write_bytes(
        authority.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, key


def _section(
    name: str, directory: Path, cert: Path, key: Path, digests: str, chain: Path | None = None
) -> str:
    certs = "" if chain is None else f"certs = {chain}"
    return f"""
[ {name} ]
serial = {directory / "serial"}
crypto_device = builtin
signer_cert = {cert}
signer_key = {key}
{certs}
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = {digests}
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _config(directory: Path, root: Authority) -> Path:
    """Write the keys, certificates and the ``openssl ts`` configuration; return the config."""
    direct_cert, direct_key = _write(directory, "tsa", make_tsa("Assay test TSA", root))
    intermediate = make_ca("Assay test intermediate", issuer=root)
    chain_cert, chain_key = _write(
        directory, "tsa-chain", make_tsa("Assay test TSA (chain)", intermediate, curve=True)
    )
    intermediate_pem, _ = _write(directory, "intermediate", intermediate)
    (directory / "serial").write_text("01\n")
    config = directory / "openssl.cnf"
    config.write_text(
        _section("tsa_root", directory, direct_cert, direct_key, "sha256, sha384")
        + _section("tsa_chain", directory, chain_cert, chain_key, "sha256", intermediate_pem)
        + _section("tsa_reject", directory, direct_cert, direct_key, "sha384")
    )
    return config


def _handler(directory: Path, config: Path) -> type[BaseHTTPRequestHandler]:
    last_reply: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            query = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path == "/broken":
                self._answer(500, "text/plain", b"down for maintenance")
            elif self.path == "/replay":
                self._answer(200, "application/timestamp-reply", last_reply[-1])
            else:
                reply = self._reply(SECTIONS[self.path], query)
                if self.path == "/tsa":
                    last_reply.append(reply)
                self._answer(200, "application/timestamp-reply", reply)

        def _reply(self, section: str, query: bytes) -> bytes:
            request = directory / "request.tsq"
            response = directory / "response.tsr"
            request.write_bytes(query)
            subprocess.run(
                ["openssl", "ts", "-reply", "-config", str(config), "-section", section,
                 "-queryfile", str(request), "-out", str(response)],
                check=True,
                capture_output=True,
            )  # fmt: skip
            return response.read_bytes()

        def _answer(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Keep test output quiet."""

    return Handler


@contextmanager
def local_tsa(directory: Path) -> Iterator[LocalTSA]:
    """Run the authorities on 127.0.0.1 for as long as the context lasts."""
    root = make_ca("Assay test root")
    server = HTTPServer(("127.0.0.1", 0), _handler(directory, _config(directory, root)))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield LocalTSA(f"http://127.0.0.1:{server.server_port}", root)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
