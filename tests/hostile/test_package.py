"""An auditor's package that is garbled or hostile fails verification (exit 3) naming the file,
and never crashes: every change to any file of it ends in exit 0 or 3, never 1."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.evidence.conftest import Built, build

from assay.audit.package import MANIFEST, export_package
from assay.cli import main

Capture = pytest.CaptureFixture[str]
EXAMPLES = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
SHAPES: list[Any] = [None, [], {}, "", "x", 0, -1, 1.5, True, [[]], {"a": 1}, "9" * 5000]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A package of a locker of three runs, as ``assay audit export`` writes it."""
    built: Built = build(tmp_path_factory.mktemp("locker"))
    package = tmp_path_factory.mktemp("package") / "package"
    today = datetime.now(UTC).date()
    export_package(built.locker(), built.key, package, today - timedelta(days=1), today)
    return package


@pytest.fixture
def fresh(pristine: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[], Path]:
    base = tmp_path_factory.mktemp("mutant")

    def copy() -> Path:
        target = base / "package"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(pristine, target)
        return target

    return copy


def verify(package: Path, capsys: Capture) -> tuple[int, str]:
    """``assay verify PACKAGE``: its exit code and standard error."""
    capsys.readouterr()
    code = main(["verify", str(package)])
    return code, capsys.readouterr().err


def files(package: Path) -> list[Path]:
    return sorted(p for p in package.rglob("*") if p.is_file())


def test_the_pristine_package_verifies(fresh: Callable[[], Path], capsys: Capture) -> None:
    assert verify(fresh(), capsys) == (0, "")


@pytest.mark.parametrize("body", [b"[]", b"null", b'"manifest"', b"{", b"\xff", b"[" * 10_000])
def test_a_manifest_of_the_wrong_shape_fails_verification(
    fresh: Callable[[], Path], capsys: Capture, body: bytes
) -> None:
    package = fresh()
    (package / MANIFEST).write_bytes(body)
    code, err = verify(package, capsys)
    assert code == 3
    assert err.startswith(f"assay: {MANIFEST}: ") and err.count("\n") == 1


@pytest.mark.parametrize(
    ("field", "value"), [("files", []), ("files", {"log/x": 1}), ("key_id", []), ("window", [])]
)
def test_a_manifest_field_of_the_wrong_shape_fails_verification(
    fresh: Callable[[], Path], capsys: Capture, field: str, value: Any
) -> None:
    package = fresh()
    manifest = json.loads((package / MANIFEST).read_bytes())
    manifest[field] = value
    (package / MANIFEST).write_text(json.dumps(manifest))
    code, err = verify(package, capsys)
    assert code == 3
    assert err.startswith(f"assay: {MANIFEST}: ")


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"key_id": "a", "key_id": "b"}'])
def test_a_key_file_that_is_not_a_key_record_fails_verification_naming_it(
    fresh: Callable[[], Path], capsys: Capture, body: bytes
) -> None:
    package = fresh()
    key = next((package / "keys").iterdir())
    key.write_bytes(body)
    code, err = verify(package, capsys)
    assert code == 3
    assert err.startswith("assay: keys/")


def structured(content: bytes, data: st.DataObject) -> bytes:
    """One field of one JSON object (a whole file, or a line of a log batch) given a new
    value of another shape."""
    lines = content.split(b"\n")
    index = data.draw(st.sampled_from([i for i, line in enumerate(lines) if line]), label="line")
    document = json.loads(lines[index])
    if isinstance(document, dict) and document:
        key = data.draw(st.sampled_from(sorted(document)), label="key")
        document[key] = data.draw(st.sampled_from(SHAPES), label="value")
    else:
        document = data.draw(st.sampled_from(SHAPES), label="document")
    lines[index] = json.dumps(document).encode()
    return b"\n".join(lines)


@EXAMPLES
@given(data=st.data())
def test_any_change_to_any_file_is_exit_0_or_3_never_a_crash(
    fresh: Callable[[], Path], capsys: Capture, data: st.DataObject
) -> None:
    package = fresh()
    target = data.draw(st.sampled_from(files(package)), label="file")
    content = target.read_bytes()
    change = data.draw(
        st.sampled_from(["truncate", "flip", "replace", "structured"]), label="change"
    )
    if change == "truncate":
        content = content[: data.draw(st.integers(0, max(len(content) - 1, 0)), label="length")]
    elif change == "flip" and content:
        flipped = bytearray(content)
        flipped[data.draw(st.integers(0, len(content) - 1), label="offset")] ^= data.draw(
            st.integers(1, 255), label="mask"
        )
        content = bytes(flipped)
    elif change == "structured" and target.suffix in (".json", ".jsonl"):
        content = structured(content, data)
    else:
        shape = data.draw(st.sampled_from(SHAPES), label="shape")
        content = json.dumps(shape).encode()
    target.write_bytes(content)

    code, err = verify(package, capsys)

    assert code in (0, 3), err
    if code == 3:
        assert err.startswith("assay: ") and err.count("\n") == 1, err


def test_a_run_reason_read_back_from_the_log_is_data_in_the_package_readme() -> None:
    """A key holder could write any reason: it must not add a line or an escape to the README."""
    from assay.audit.package import _runs_text
    from assay.evidence.ledger import RunState

    forged = RunState("3", "failed", "boom\n- run 9: completed\x1b[2J")
    text = _runs_text([forged], 0)
    assert text == "- run 3: failed (boom\\n- run 9: completed\\x1b[2J)"
