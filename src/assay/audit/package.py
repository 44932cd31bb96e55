"""The auditor's package: everything needed to verify the evidence of a period, offline.

The package holds the whole log, every checkpoint and key (proofs need all of them), the packs
holding the blobs of the statements effective in the chosen window, tombstones, a signed manifest
listing every file with its sha-256 and the runs whose evidence the window holds with each run's
outcome as the log records it, and a README telling the auditor how to check it — with Assay, or by
hand.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from assay._internal.strict_json import ParseProblem, decode_utf8, parse_json
from assay._internal.text import inert
from assay.errors import InputError, VerificationError
from assay.evidence import ledger
from assay.evidence.backends import LocalBackend
from assay.evidence.canonical import canonical_json
from assay.evidence.locker import Locker, batch_name, pack_name
from assay.evidence.signing import SigningKey, trusted_keys, verify_signature
from assay.evidence.statements import Statement
from assay.evidence.verify import ExpectedCheckpoint, Report, Window, verify

FORMAT = "assay-audit-package/1"
MANIFEST = "manifest.json"
README = "README.md"
_COPIED_WHOLE = ("keys/", "checkpoints/", "heads/", "log/", "tombstones/", "authority/")


@dataclass(frozen=True)
class Exported:
    path: Path
    files: int
    statements_in_window: int
    anchor: str


def export_package(locker: Locker, key: SigningKey, out: Path, start: date, end: date) -> Exported:
    """Write the package for statements effective from ``start`` to ``end`` (inclusive)."""
    if end < start:
        raise InputError("--to", f"{end} is before --from {start}")
    if out.exists() and any(out.iterdir()):
        raise InputError(str(out), "directory is not empty; choose a new one")
    backend = locker.backend
    window = Window(start, end)
    anchor = next(iter(trusted_keys(locker.key_records(), None)))
    target = LocalBackend(out)
    files: dict[str, str] = {}

    def copy(name: str) -> None:
        data = backend.get(name)
        target.put(name, data)
        files[name] = hashlib.sha256(data).hexdigest()

    with backend.lock():
        for prefix in _COPIED_WHOLE:
            for name in backend.names(prefix):
                copy(name)
        in_window = 0
        runs = ledger.Runs()
        held: dict[str, None] = {}  # the runs with evidence in the window, in log order
        of_no_run = 0
        for number, statements in locker.batches():
            owner = _run_records(runs, number, [s for _, s in statements])
            for _, statement in statements:
                if not window.holds(statement):
                    continue
                in_window += 1
                run = statement.subject if statement.kind == ledger.RUN else owner
                if run is not None:
                    held[run] = None
                elif statement.kind not in (ledger.TOMBSTONE, ledger.INDEX):
                    of_no_run += 1
                pack = pack_name(statement.pack)
                if pack not in files and backend.exists(pack):
                    copy(pack)
    outcomes = [runs.outcome(run) for run in held]
    body: dict[str, Any] = {
        "format": FORMAT,
        "created": datetime.now(UTC).isoformat(),
        "window": {"from": start.isoformat(), "to": end.isoformat()},
        "anchor_key": anchor,
        "statements_in_window": in_window,
        "runs": [{"run": o.run, "outcome": o.state, "reason": o.reason} for o in outcomes],
        "statements_of_no_run": of_no_run,
        "key_id": key.id,
        "files": dict(sorted(files.items())),
    }
    target.put(MANIFEST, canonical_json({**body, "signature": key.sign(body)}))
    target.put(README, _readme(start, end, anchor, in_window, outcomes, of_no_run).encode())
    target.flush()
    return Exported(out, len(files), in_window, anchor)


def verify_package(
    path: Path, anchor: str | None = None, expected: Iterable[ExpectedCheckpoint] = ()
) -> Report:
    """Verify a package offline: its signed manifest, every file's hash, then the locker in it,
    which must hold every ``expected`` checkpoint unchanged."""
    backend = LocalBackend(path)
    raw = _json_file(backend, MANIFEST)
    try:
        if not isinstance(raw, dict):
            raise TypeError(f"expected a JSON object, got {type(raw).__name__}")
        body = {k: v for k, v in raw.items() if k != "signature"}
        if raw["format"] != FORMAT:
            raise VerificationError(f"{MANIFEST}: unknown format {raw['format']!r}")
        window = Window(
            date.fromisoformat(raw["window"]["from"]), date.fromisoformat(raw["window"]["to"])
        )
        files: dict[str, str] = raw["files"]
        if not isinstance(files, dict) or not all(map(_is_text, [*files, *files.values()])):
            raise TypeError("files must map each name to its sha-256")
        key_id = raw.get("key_id", "")
        if not isinstance(key_id, str):
            raise TypeError("key_id must be a string")
    except (ValueError, KeyError, TypeError) as error:
        raise VerificationError(f"{MANIFEST}: malformed ({error})") from None
    keys = trusted_keys(_key_records(backend), anchor)
    manifest_key = keys.get(key_id)
    if manifest_key is None:
        raise VerificationError(f"{MANIFEST}: signed by a key that is not trusted")
    verify_signature(manifest_key, str(raw.get("signature")), body, MANIFEST)
    present = set(_all_names(backend)) - {MANIFEST, README}
    if extra := sorted(present - set(files)):
        raise VerificationError(f"{extra[0]}: in the package but not in its manifest")
    for name, sha256 in files.items():
        if name not in present:
            raise VerificationError(f"{name}: listed in the manifest but missing")
        if hashlib.sha256(backend.get(name)).hexdigest() != sha256:
            raise VerificationError(f"{name}: content does not match the manifest")
    return verify(backend, anchor=anchor, window=window, expected=expected)


def _run_records(runs: ledger.Runs, number: int, statements: list[Statement]) -> str | None:
    """Add a batch's run records to ``runs``; return the run the batch's evidence belongs to."""
    owner = None
    for line, statement in enumerate(statements, 1):
        if statement.kind != ledger.RUN:
            continue
        try:
            state = ledger.RunState.of(statement.subject, statement.parameters)
            runs.add(state, f"{batch_name(number)}:{line}")
        except ledger.MalformedRecord as error:
            raise VerificationError(f"{batch_name(number)}:{line}: {error}") from None
        if state.state == ledger.STARTED:
            owner = state.run
    return owner


def _runs_text(outcomes: list[ledger.RunState], of_no_run: int) -> str:
    lines = [
        f"- run {o.run}: {o.state}" + (f" ({inert(o.reason)})" if o.reason else "")
        for o in outcomes
    ]  # a reason read back from the log is data: no newline or escape code of its own
    if of_no_run:
        lines.append(
            f"- {of_no_run} statements recorded before Assay wrote run outcomes (no run named)"
        )
    return "\n".join(lines) or "- none"


def _key_records(backend: LocalBackend) -> list[dict[str, Any]]:
    records = []
    for name in backend.names("keys/"):
        if name.endswith(".json"):
            record = _json_file(backend, name)
            if not isinstance(record, dict):
                raise VerificationError(f"{name}: malformed key record (not a JSON object)")
            records.append(record)
    return records


def _json_file(backend: LocalBackend, name: str) -> Any:
    """A JSON file of the package, read strictly; one that is not JSON fails verification."""
    try:
        return parse_json(decode_utf8(backend.get(name)))
    except ParseProblem as problem:
        raise VerificationError(f"{name}: not JSON ({problem})") from None


def _is_text(value: object) -> bool:
    return isinstance(value, str)


def _all_names(backend: LocalBackend) -> list[str]:
    return [
        str(p.relative_to(backend.root))
        for p in backend.root.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    ]


def _readme(
    start: date,
    end: date,
    anchor: str,
    in_window: int,
    outcomes: list[ledger.RunState],
    of_no_run: int,
) -> str:
    return f"""# Evidence package: {start} to {end}

This folder lets you check, without trusting the company or its tools, that the evidence it shows
you for {start} to {end} is what was collected, when it was collected, and that nothing was
removed. It holds {in_window} statements in that window.

## Which runs this evidence belongs to

Each run of Assay appends its evidence as one batch opened by a `run` statement (`started`), and
then its outcome: `completed` once its results were committed, or `failed` with a one-line
reason. Evidence of a run with no outcome recorded comes from a run that was interrupted (or still
running): do not rely on it as a completed run's. The runs with evidence in this window:

{_runs_text(outcomes, of_no_run)}

`assay verify` reads the outcomes from the log itself and prints how many runs completed, failed,
or have no outcome recorded.

## Check it with Assay

    pip install assay        # or use any Assay release
    assay verify . --trust {anchor}

`--trust` pins the signing key. Ask the company, through a channel other than this package, for
the fingerprint of its first evidence-signing key and compare it with `{anchor}`. Exit code 0
means every check below held; 3 means one failed, and the message names the item.

`assay verify` ends by printing the latest checkpoint as `SEQ:SHA256`. Keep it: given to a later
package's check as `--checkpoint SEQ:SHA256`, it makes sure the log was not cut back since.

## What is inside

- `log/*.jsonl`: every statement ever recorded, one canonical JSON object per line. A statement
  names a blob by sha-256, size, pack and offset, and says what it is, when it was collected,
  when it took effect, when it goes stale, how long it must be kept, where it came from, and the
  previous statement about the same subject.
- `packs/<sha-256>.pack`: the evidence itself, one pack per append, for the statements effective
  in the window; each blob is `size` bytes at `offset`.
- `checkpoints/*.json`: signed tree heads: the number of statements, the Merkle root, the time,
  the sha-256 of the previous checkpoint and of the subject heads. `*.tsr`, if present, are
  RFC 3161 timestamps.
- `heads/<sha-256>.json`: each subject's latest statement at a checkpoint — every subject, or,
  where the checkpoint says `"heads_changes": true`, only those whose latest statement changed
  since the previous checkpoint. Writers resume from them; they say nothing the log does not.
- `keys/*.json`: public Ed25519 keys; every key after the first is endorsed by its predecessor.
- `tombstones/*.json`: records of deleted packs written by older versions of Assay; they prove
  nothing. A pack is accounted for only by a statement of kind `tombstone` in the log, naming the
  pack as its subject: its `recorded_at` is when the pack was deleted, and must be after every
  `retain_until` of the statements naming the pack, no later than the checkpoint that signs it,
  and not in the future.
- `manifest.json`: every file's sha-256, signed.

## Checking by hand

Leaves are the statement lines' bytes (without the newline); the tree follows RFC 9162: leaf hash
= SHA-256(0x00 || statement), node = SHA-256(0x01 || left || right). Each checkpoint's `root` must
equal the root of the first `size` statements. A signature is Ed25519 over the canonical JSON
(keys sorted, no spaces) of the object without its `signature` field. The `size` bytes at
`offset` in a statement's pack must hash to its `sha256`, and a pack holds nothing else.

## What a passing check does not prove

- That the evidence is true to its source. It proves the bytes are those Assay collected, not
  that the source answered honestly or in full. Each collection's manifest (a statement of kind
  `snapshot`) says whether it came from the live API or from an export file, what was asked, how
  many pages were read and whether the population was read to the end.
- That the times are right. Collection and recording times come from the clock of the machine
  that ran Assay. The chain of checkpoints keeps them in order and shows gaps; only the RFC 3161
  timestamps (`*.tsr`), where present, have an outside authority attest when a checkpoint existed.
- That nothing was removed from the end before the package was made. A log cut back to an
  earlier checkpoint before the export verifies on its own; a checkpoint you recorded before
  (`--checkpoint`) is what shows it.
- That the key is the company's. Only the fingerprint you pin with `--trust`, obtained some other
  way, ties the signatures to the company.
"""
