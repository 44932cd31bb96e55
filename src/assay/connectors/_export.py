"""Helpers shared by the export-mode connectors: reading files, decoding, CSV and JSON shapes.

Everything here either returns a value or raises ``InputError`` naming the file (and the line or
field path) so the command line can report one clear message.
"""

from __future__ import annotations

import base64
import csv
import io
import os
import re
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from assay._internal.strict_json import ParseProblem, decode_utf8, parse_json
from assay.connectors._http import ApiClient
from assay.connectors.base import Collected, ConnectorConfig, RawPayload
from assay.errors import InputError
from assay.inventory.records import Records, Tri

EXPORT_MODE = "export"
LIVE_MODE = "live"
MODES = (EXPORT_MODE, LIVE_MODE)
"""Every connector reads its system both ways."""

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def unsupported_mode(
    config: ConnectorConfig, connector_type: str, modes: Sequence[str]
) -> InputError:
    """The error for a mode a connector does not have; the caller raises it."""
    return InputError(
        f"system {config.system_id}",
        f"connector '{connector_type}' does not support mode '{config.mode}'; "
        f"use one of: {', '.join(modes)}",
    )


OUTSIDE_EXPORT = "a symbolic link leading outside the export directory; not read"


def read_payload(root: Path, name: str) -> RawPayload:
    """Read the export file ``name`` (a path relative to ``root``) byte for byte.

    Every export reader reads through here, so one rule holds for all of them: the file must be
    a regular file whose real path is inside ``root``, the directory the programme names (or the
    directory of a file it names). A symbolic link leading anywhere else — a factors file linked
    to ``/etc/shadow`` — is refused before anything is read, as is a device or a pipe.
    """
    source = (root / name).absolute()
    if not source.exists():
        raise InputError(str(source), "file not found")
    real = source.resolve()
    if not real.is_relative_to(root.absolute().resolve()):
        raise InputError(str(source), OUTSIDE_EXPORT)
    if not real.is_file():
        raise InputError(str(source), "not a regular file")
    try:
        # The resolved path, not following a link swapped in since; non-blocking, so a pipe
        # swapped in is not waited on but refused as not a regular file.
        descriptor = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(descriptor, "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                raise InputError(str(source), "not a regular file")
            data = file.read()
    except OSError as exc:
        raise InputError(str(source), f"cannot read file: {exc.strerror or exc}") from exc
    return RawPayload(name=name, source=str(source), data=data)


def require_directory(path: Path) -> Path:
    """The export directory, which must exist."""
    directory = path.absolute()
    if not directory.exists():
        raise InputError(str(directory), "export directory not found")
    if not directory.is_dir():
        raise InputError(str(directory), "not a directory")
    return directory


def by_name(payloads: Sequence[RawPayload]) -> dict[str, RawPayload]:
    """Index payloads by name; two payloads with the same name make a snapshot ambiguous."""
    index: dict[str, RawPayload] = {}
    for payload in payloads:
        if payload.name in index:
            raise InputError(payload.source, "appears twice in the snapshot")
        index[payload.name] = payload
    return index


def require_payload(index: Mapping[str, RawPayload], name: str) -> RawPayload:
    payload = index.get(name)
    if payload is None:
        raise InputError(name, "missing from the export")
    return payload


def decode_text(payload: RawPayload) -> str:
    """UTF-8 text, with a leading byte-order mark removed."""
    try:
        return decode_utf8(payload.data)
    except ParseProblem as problem:
        raise _bad_input(payload.source, problem) from None


def load_json(payload: RawPayload) -> Any:
    """The payload's JSON document, read strictly: see ``assay._internal.strict_json``."""
    text = decode_text(payload)
    try:
        return parse_json(text)
    except ParseProblem as problem:
        raise _bad_input(payload.source, problem) from None


def _bad_input(source: str, problem: ParseProblem) -> InputError:
    return InputError(f"{source}:{problem.line}" if problem.line else source, problem.problem)


def json_kind(value: Any) -> str:
    """A JSON type name for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def load_json_array_of_objects(payload: RawPayload, what: str) -> list[dict[str, Any]]:
    """The body of a list endpoint: a JSON array whose every element is an object."""
    document = load_json(payload)
    if not isinstance(document, list):
        raise InputError(
            payload.source, f"expected a JSON array of {what}, got {json_kind(document)}"
        )
    for index, item in enumerate(document):
        if not isinstance(item, dict):
            raise InputError(
                payload.source, f"[{index}]: expected an object, got {json_kind(item)}"
            )
    return document


def required_string(payload: RawPayload, item: Mapping[str, Any], path: str, key: str) -> str:
    """A required, non-empty string field.

    ``path`` is the index path of the object holding it, e.g. ``[3].profile``.
    """
    field_path = f"{path}.{key}"
    if key not in item or item[key] is None:
        raise InputError(payload.source, f"{field_path}: missing")
    value = item[key]
    if not isinstance(value, str):
        raise InputError(payload.source, f"{field_path}: expected a string, got {json_kind(value)}")
    if not value.strip():
        raise InputError(payload.source, f"{field_path}: empty")
    return value


def optional_string(
    payload: RawPayload, item: Mapping[str, Any], path: str, key: str
) -> str | None:
    """An optional string field; null, absent or blank is ``None``. Numbers are kept as text."""
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InputError(payload.source, f"{path}.{key}: expected a string, got {json_kind(value)}")
    text = str(value).strip()
    return text or None


def parse_timestamp(value: str) -> datetime:
    """An ISO 8601 timestamp with a time zone, converted to UTC. Raises ``ValueError``."""
    text = value.strip()
    if not text or not _ISO_DATE.match(text):
        raise ValueError(f"not an ISO 8601 timestamp: {value!r}")
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"timestamp has no time zone: {value!r}")
    return parsed.astimezone(UTC)


def parse_date(value: str) -> date:
    """A calendar date written ``YYYY-MM-DD``. Raises ``ValueError``."""
    text = value.strip()
    if not _ISO_DATE.fullmatch(text):
        raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}")
    return date.fromisoformat(text)


@dataclass(frozen=True)
class CsvRow:
    """One data row of a CSV file, with the physical line it starts on."""

    line: int
    values: dict[str, str]


@dataclass(frozen=True)
class CsvTable:
    header: tuple[str, ...]
    rows: tuple[CsvRow, ...]


def read_csv(payload: RawPayload, required: Sequence[str]) -> CsvTable:
    """Parse a CSV payload with a header row, by column name.

    Blank lines are skipped. Missing required columns, duplicate column names and rows whose
    field count differs from the header's are ``InputError`` naming the line.
    """
    text = decode_text(payload)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows = _csv_records(payload, reader)
    try:
        header_line, header_fields = next(rows)
    except StopIteration:
        raise InputError(f"{payload.source}:1", "empty file; expected a header row") from None
    header = tuple(name.strip() for name in header_fields)
    seen: set[str] = set()
    for name in header:
        if name in seen and name:
            raise InputError(f"{payload.source}:{header_line}", f"column '{name}' appears twice")
        seen.add(name)
    missing = [name for name in required if name not in seen]
    if missing:
        raise InputError(
            f"{payload.source}:{header_line}",
            f"missing required column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}",
        )
    data: list[CsvRow] = []
    for line, fields in rows:
        if len(fields) != len(header):
            raise InputError(
                f"{payload.source}:{line}",
                f"row has {len(fields)} fields but the header has {len(header)}",
            )
        data.append(CsvRow(line=line, values=dict(zip(header, fields, strict=True))))
    return CsvTable(header=header, rows=tuple(data))


def _csv_records(payload: RawPayload, reader: Any) -> Iterator[tuple[int, list[str]]]:
    """Non-blank records with the physical line number each starts on."""
    previous_end = 0
    while True:
        try:
            fields: list[str] = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(
                f"{payload.source}:{previous_end + 1}", f"malformed CSV: {exc}"
            ) from exc
        start = previous_end + 1
        previous_end = reader.line_num
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        yield start, fields


def finish(
    config: ConnectorConfig,
    connector_type: str,
    connector_version: str,
    started_at: datetime,
    payloads: Sequence[RawPayload],
    records: Records,
    parameters: Mapping[str, Any],
    *,
    complete: bool = True,
    incomplete_reason: str | None = None,
) -> Collected:
    return Collected(
        system_id=config.system_id,
        connector=connector_type,
        connector_version=connector_version,
        mode=config.mode,
        started_at=started_at,
        finished_at=datetime.now(UTC),
        payloads=tuple(payloads),
        records=records,
        parameters=dict(parameters),
        complete=complete,
        incomplete_reason=incomplete_reason,
    )


Parser = Callable[[Sequence[RawPayload], ConnectorConfig], Records]


def collect_single_file(
    config: ConnectorConfig,
    connector_type: str,
    connector_version: str,
    parse: Parser,
    describe: Callable[[Records], Mapping[str, Any]],
    file_name: str,
) -> Collected:
    """Collect a source that is one file: named by the ``path`` setting (export mode), or a
    report the system serves at the ``url`` setting (live mode), kept under ``file_name``."""
    started_at = datetime.now(UTC)
    if config.mode == LIVE_MODE:
        payload = fetch_report(config, file_name)
        where = {"url": payload.source}
    elif config.mode == EXPORT_MODE:
        path = config.path()
        payload = read_payload(path.parent, path.name)
        where = {"path": payload.source}
    else:
        raise unsupported_mode(config, connector_type, MODES)
    records = parse([payload], config)
    parameters = {**where, **describe(records)}
    return finish(
        config, connector_type, connector_version, started_at, [payload], records, parameters
    )


def fetch_report(config: ConnectorConfig, file_name: str) -> RawPayload:
    """One report from the ``url`` setting, with the usual retries. The secret ``token`` is
    sent as a bearer token, or ``username`` and ``password`` as HTTP basic authentication."""
    url = config.settings.get("url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise InputError(f"system {config.system_id}", "connector setting 'url' must be an URL")
    secrets = config.secrets
    headers = {}
    if "token" in secrets:
        headers["Authorization"] = f"Bearer {secrets['token']}"
    elif "username" in secrets and "password" in secrets:
        pair = f"{secrets['username']}:{secrets['password']}".encode()
        headers["Authorization"] = f"Basic {base64.b64encode(pair).decode()}"
    config.url("url", url, sends_secret=bool(headers))
    parts = urlsplit(url)
    with ApiClient(f"{parts.scheme}://{parts.netloc}", headers) as client:
        page = client.get_one(urlunsplit(("", "", parts.path, parts.query, "")))
    return RawPayload(file_name, page.url, page.data)


def tri(value: bool | None) -> Tri:
    """A yes / no fact from an optional boolean; absent stays unknown."""
    if value is None:
        return Tri.UNKNOWN
    return Tri.YES if value else Tri.NO


def json_bool(payload: RawPayload, item: Mapping[str, Any], path: str, key: str) -> bool | None:
    """An optional boolean field; absent or null is None."""
    value = item.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise InputError(payload.source, f"{path}.{key}: expected a boolean, got {json_kind(value)}")


def json_str(payload: RawPayload, item: Mapping[str, Any], path: str, key: str) -> str | None:
    """An optional string field (an id or enumeration value, kept as given); absent is None."""
    value = item.get(key)
    if value is None or isinstance(value, str):
        return value
    raise InputError(payload.source, f"{path}.{key}: expected a string, got {json_kind(value)}")


def json_strings(
    payload: RawPayload, item: Mapping[str, Any], path: str, key: str
) -> tuple[str, ...]:
    """An optional array of strings; absent or null is empty."""
    value = item.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(entry, str) for entry in value):
        raise InputError(payload.source, f"{path}.{key}: expected an array of strings")
    return tuple(value)


def json_object(
    payload: RawPayload, item: Mapping[str, Any], path: str, key: str
) -> Mapping[str, Any] | None:
    """An optional object field; absent or null is None."""
    value = item.get(key)
    if value is None or isinstance(value, dict):
        return value
    raise InputError(payload.source, f"{path}.{key}: expected an object, got {json_kind(value)}")


def json_timestamp(
    payload: RawPayload, item: Mapping[str, Any], path: str, key: str
) -> datetime | None:
    """An optional ISO 8601 timestamp field, in UTC; absent or null is None."""
    value = json_str(payload, item, path, key)
    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        raise InputError(payload.source, f"{path}.{key}: {exc}") from None
