"""Tampering of every kind is detected: verification reports it, and never crashes instead.

Each example copies a locker written by the real writer, changes it the way an attacker (or a
failing disk) might, and requires ``verify`` to raise ``VerificationError`` — any other exception
fails the test too.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.evidence.conftest import Built, build

from assay.errors import VerificationError
from assay.evidence.backends import LocalBackend
from assay.evidence.canonical import canonical_json
from assay.evidence.locker import Locker
from assay.evidence.signing import generate_key
from assay.evidence.verify import verify

EXAMPLES = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Built:
    built = build(tmp_path_factory.mktemp("pristine"))
    verify(LocalBackend(built.root), anchor=built.key.id, expected=built.expected)
    return built


class Copy:
    """A fresh copy of the pristine locker for one example."""

    def __init__(self, pristine: Built, tmp: Path) -> None:
        self.pristine = pristine
        self.root = tmp / "locker"
        if self.root.exists():
            shutil.rmtree(self.root)
        shutil.copytree(pristine.root, self.root)

    def files(self, under: str = "") -> list[Path]:
        return sorted(
            p for p in (self.root / under).rglob("*") if p.is_file() and not p.name.startswith(".")
        )

    def assert_detected(self) -> None:
        with pytest.raises(VerificationError) as caught:
            verify(
                LocalBackend(self.root),
                anchor=self.pristine.key.id,
                expected=self.pristine.expected,
            )
        assert "\n" not in str(caught.value)


@pytest.fixture
def fresh(pristine: Built, tmp_path_factory: pytest.TempPathFactory) -> Callable[[], Copy]:
    base = tmp_path_factory.mktemp("mutant")
    return lambda: Copy(pristine, base)


@EXAMPLES
@given(data=st.data())
def test_a_flipped_byte_in_any_file_is_detected(
    fresh: Callable[[], Copy], data: st.DataObject
) -> None:
    locker = fresh()
    target = data.draw(st.sampled_from(locker.files()), label="file")
    content = bytearray(target.read_bytes())
    offset = data.draw(st.integers(0, len(content) - 1), label="offset")
    content[offset] ^= data.draw(st.integers(1, 255), label="mask")
    target.write_bytes(bytes(content))
    locker.assert_detected()


@EXAMPLES
@given(data=st.data())
def test_a_deleted_file_is_detected(fresh: Callable[[], Copy], data: st.DataObject) -> None:
    locker = fresh()
    data.draw(st.sampled_from(locker.files()), label="file").unlink()
    locker.assert_detected()


@EXAMPLES
@given(data=st.data())
def test_a_truncated_log_is_detected(fresh: Callable[[], Copy], data: st.DataObject) -> None:
    locker = fresh()
    target = data.draw(st.sampled_from(locker.files("log")), label="batch")
    content = target.read_bytes()
    target.write_bytes(content[: data.draw(st.integers(0, len(content) - 1), label="length")])
    locker.assert_detected()


@EXAMPLES
@given(data=st.data())
def test_reordered_statements_are_detected(fresh: Callable[[], Copy], data: st.DataObject) -> None:
    locker = fresh()
    target = data.draw(st.sampled_from(locker.files("log")), label="batch")
    lines = target.read_bytes().splitlines()
    first = data.draw(st.integers(0, len(lines) - 1), label="first")
    second = data.draw(st.integers(0, len(lines) - 1).filter(lambda n: n != first), label="second")
    lines[first], lines[second] = lines[second], lines[first]
    target.write_bytes(b"\n".join(lines) + b"\n")
    locker.assert_detected()


@EXAMPLES
@given(data=st.data())
def test_a_duplicated_statement_or_batch_is_detected(
    fresh: Callable[[], Copy], data: st.DataObject
) -> None:
    locker = fresh()
    batches = locker.files("log")
    target = data.draw(st.sampled_from(batches), label="batch")
    if data.draw(st.booleans(), label="whole batch"):
        shutil.copy(target, target.with_name(f"{len(batches) + 1:012d}.jsonl"))
    else:
        lines = target.read_bytes().splitlines()
        at = data.draw(st.integers(0, len(lines) - 1), label="line")
        lines.insert(at, lines[at])
        target.write_bytes(b"\n".join(lines) + b"\n")
    locker.assert_detected()


@EXAMPLES
@given(data=st.data())
def test_swapped_blobs_are_detected(fresh: Callable[[], Copy], data: st.DataObject) -> None:
    locker = fresh()
    statements = [s for _, s in Locker(LocalBackend(locker.root)).statements()]
    first = data.draw(st.sampled_from(statements), label="first")
    second = data.draw(
        st.sampled_from(statements).filter(
            lambda s: s.size == first.size and s.sha256 != first.sha256
        ),
        label="second",
    )
    one = locker.root / "packs" / f"{first.pack}.pack"
    two = locker.root / "packs" / f"{second.pack}.pack"
    a, b = bytearray(one.read_bytes()), bytearray(two.read_bytes())
    a_blob = bytes(a[first.offset : first.offset + first.size])
    b_blob = bytes(b[second.offset : second.offset + second.size])
    if one == two:
        a[second.offset : second.offset + second.size] = a_blob
        a[first.offset : first.offset + first.size] = b_blob
        one.write_bytes(bytes(a))
    else:
        a[first.offset : first.offset + first.size] = b_blob
        b[second.offset : second.offset + second.size] = a_blob
        one.write_bytes(bytes(a))
        two.write_bytes(bytes(b))
    locker.assert_detected()


@EXAMPLES
@given(data=st.data())
def test_a_back_dated_statement_is_detected(fresh: Callable[[], Copy], data: st.DataObject) -> None:
    locker = fresh()
    target = data.draw(st.sampled_from(locker.files("log")), label="batch")
    lines = target.read_bytes().splitlines()
    at = data.draw(st.integers(0, len(lines) - 1), label="line")
    field = data.draw(st.sampled_from(["collected_at", "effective_at", "recorded_at"]))
    days = data.draw(st.integers(1, 400), label="days")
    statement = json.loads(lines[at])
    statement[field] = (datetime.fromisoformat(statement[field]) - timedelta(days=days)).isoformat()
    lines[at] = canonical_json(statement)
    target.write_bytes(b"\n".join(lines) + b"\n")
    locker.assert_detected()


@EXAMPLES
@given(data=st.data())
def test_a_checkpoint_re_signed_with_another_key_is_detected(
    fresh: Callable[[], Copy], data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    locker = fresh()
    stranger = generate_key(tmp_path_factory.mktemp("stranger") / "key.pem")
    target = data.draw(st.sampled_from(locker.files("checkpoints")), label="checkpoint")
    body = {k: v for k, v in json.loads(target.read_bytes()).items() if k != "signature"}
    body["key_id"] = stranger.id
    if data.draw(st.booleans(), label="also publish the stranger's key"):
        from assay.evidence.signing import key_record

        record = key_record(stranger, None)
        (locker.root / "keys" / f"{stranger.id}.json").write_bytes(canonical_json(record))
    target.write_bytes(canonical_json({**body, "signature": stranger.sign(body)}))
    locker.assert_detected()


def test_the_messages_name_the_item_and_the_property(
    fresh: Callable[[], Copy],
) -> None:
    locker = fresh()
    pack = locker.files("packs")[0]
    pack.write_bytes(pack.read_bytes() + b"!")
    with pytest.raises(VerificationError, match=rf"^packs/{pack.name}: holds bytes no statement"):
        verify(LocalBackend(locker.root), anchor=locker.pristine.key.id)


def test_every_byte_of_a_key_record_is_covered(fresh: Callable[[], Copy]) -> None:
    """Each byte of a key record, changed in its lowest bit, is detected: the field names too
    (an unsigned field renamed), and the spare bits of the signature's last base64 character."""
    locker = fresh()
    key = locker.files("keys")[0]
    original = key.read_bytes()
    for offset in range(len(original)):
        changed = bytearray(original)
        changed[offset] ^= 1
        key.write_bytes(bytes(changed))
        with pytest.raises(VerificationError, match=r"^keys/|^key record |^trusted key "):
            verify(LocalBackend(locker.root), anchor=locker.pristine.key.id)
    key.write_bytes(original)


def test_a_signature_written_another_way_in_base64_is_detected(fresh: Callable[[], Copy]) -> None:
    """Base64 decoders ignore the spare low bits of the last character: a checkpoint whose
    signature differs only there is altered, though the signature bytes are the same."""
    locker = fresh()
    target = locker.files("checkpoints")[0]
    raw = json.loads(target.read_bytes())
    last = raw["signature"].rstrip("=")[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    sibling = alphabet[alphabet.index(last) ^ 1]  # the same top two bits: the same bytes
    raw["signature"] = raw["signature"].replace(f"{last}==", f"{sibling}==")
    target.write_bytes(canonical_json(raw))
    with pytest.raises(VerificationError, match=r"signature does not verify"):
        verify(LocalBackend(locker.root), anchor=locker.pristine.key.id)
