"""Read ``assay.yaml`` into a ``Programme``, reporting the first problem as ``file:line: field``.

PyYAML's constructor forgets where values came from, so the file is composed into a node tree
and built by hand here, recording the line of every mapping key and sequence item by its path.
A pydantic error's ``loc`` is then mapped back to the nearest recorded line.

A programme file is small, and aliases let a small file stand for an enormous tree ("billion
laughs"), so the file's size, the number of values it expands to and its nesting are bounded
before anything is built.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from yaml.constructor import ConstructorError

from assay.errors import InputError
from assay.programme.model import ConnectorSpec, FieldProblem, Loc, Programme

MAX_BYTES = 1024 * 1024
"""The largest programme file read: hundreds of systems fit in a tenth of it."""
MAX_VALUES = 100_000
"""The most values (scalars and collections) a file may expand to with its aliases resolved."""
MAX_DEPTH = 64
"""The deepest nesting of collections a file may have."""

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"


def load(path: Path) -> Programme:
    """Load and validate a programme file; raise ``InputError`` naming file, line and field."""
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            problem = f"larger than {MAX_BYTES // 1024} KiB; not a programme file"
            raise InputError(str(path), problem)
        text = raw.decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError(str(path), "file not found") from None
    except IsADirectoryError:
        raise InputError(str(path), "is a directory, not a programme file") from None
    except OSError as error:
        raise InputError(str(path), f"cannot read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(str(path), "is not UTF-8 text") from None

    data, lines = _parse(path, text)
    if "path" in data:
        raise InputError(f"{path}:{lines[('path',)]}", "unknown key 'path'")
    try:
        return Programme.model_validate({**data, "path": path.absolute()})
    except ValidationError as error:
        raise _first_problem(path, data, lines, error) from None


def resolve_secrets(connector: ConnectorSpec, system_id: str | None = None) -> dict[str, str]:
    """The connector's secret values, read from the environment variables the file names.

    Called when a connector runs, not at load time, so ``scope check`` works without secrets.
    """
    where = f"system {system_id}" if system_id else f"connector {connector.type}"
    resolved: dict[str, str] = {}
    for key, variable in connector.secrets.items():
        value = os.environ.get(variable)
        if not value:
            raise InputError(where, f"environment variable {variable} (secret '{key}') is not set")
        resolved[key] = value
    return resolved


class _BoundedLoader(yaml.SafeLoader):
    """A safe loader that counts, as it composes, how many values each node stands for with its
    aliases expanded, and refuses a document past ``MAX_VALUES`` or nested past ``MAX_DEPTH``.

    The composer shares an aliased node rather than copying it, so composing is cheap; building
    plain data from the nodes is what would expand it. Counting here stops a bomb before the
    builder sees it, at the line of the collection that crosses the bound.
    """

    def __init__(self, text: str, path: Path) -> None:
        super().__init__(text)
        self.path = path
        self._expanded: dict[int, int] = {}  # id(node) -> values it stands for, aliases expanded
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
        if self._depth >= MAX_DEPTH:
            where = f"{self.path}:{mark.line + 1}"
            raise InputError(where, f"nested deeper than {MAX_DEPTH} levels")
        self._depth += 1
        try:
            node: yaml.Node | None = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if node is not None and id(node) not in self._expanded:
            self._expanded[id(node)] = size = 1 + sum(map(self._size, _children(node)))
            if size > MAX_VALUES:
                raise InputError(
                    f"{self.path}:{mark.line + 1}",
                    f"expands to more than {MAX_VALUES} values with its aliases resolved",
                )
        return node

    def _size(self, node: yaml.Node) -> int:
        # A node still being composed is an alias to itself; the builder reports that.
        return self._expanded.get(id(node), 1)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


class _Builder:
    """Builds plain Python data from a YAML node tree, remembering the line of every path."""

    def __init__(self, path: Path, loader: yaml.SafeLoader) -> None:
        self.path = path
        self.loader = loader
        self.lines: dict[Loc, int] = {}
        self._open: set[int] = set()  # ids of collections being built, to catch `&a [*a]`

    def fail(self, node: yaml.Node, problem: str) -> InputError:
        return InputError(f"{self.path}:{node.start_mark.line + 1}", problem)

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        self.lines.setdefault(loc, node.start_mark.line + 1)
        if isinstance(node, yaml.CollectionNode):
            if id(node) in self._open:
                raise self.fail(node, f"{_dotted(loc) or 'file'}: an alias refers to itself")
            self._open.add(id(node))
            try:
                return self._collection(node, loc)
            finally:
                self._open.discard(id(node))
        try:
            return self.loader.construct_object(node)
        except ConstructorError as error:
            raise self.fail(node, f"{_dotted(loc)}: {error.problem}") from None
        except ValueError:
            # An impossible date such as 2026-02-30: keep the text so validation names the field.
            return node.value

    def _collection(self, node: yaml.CollectionNode, loc: Loc) -> Any:
        if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ_TAG:
            return [self.build(item, (*loc, index)) for index, item in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode) and node.tag == _MAP_TAG:
            return self._mapping(node, loc)
        raise self.fail(node, f"{_dotted(loc) or 'file'}: unsupported YAML tag {node.tag}")

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail(key_node, f"{_dotted(loc) or 'file'}: keys must be plain values")
            # Keys are taken as written: `yes:` or `2026:` name a key, not a boolean or a number.
            key = key_node.value
            if key in result:
                where = f"{_dotted(loc)}: " if loc else ""
                raise self.fail(key_node, f"{where}duplicate key '{key}'")
            self.lines[(*loc, key)] = key_node.start_mark.line + 1
            result[key] = self.build(value_node, (*loc, key))
        return result


def _parse(path: Path, text: str) -> tuple[dict[str, Any], dict[Loc, int]]:
    try:
        loader = _BoundedLoader(text, path)
        try:
            root = loader.get_single_node()
            if root is None:
                raise InputError(str(path), "file is empty; expected the programme settings")
            builder = _Builder(path, loader)
            data = builder.build(root, ())
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        context = f" ({error.context})" if error.context else ""
        raise InputError(where, _one_line(f"invalid YAML: {error.problem}{context}")) from None
    except yaml.reader.ReaderError as error:
        line = text[: error.position].count("\n") + 1
        problem = f"invalid YAML: control character #x{error.character:04x} is not allowed"
        raise InputError(f"{path}:{line}", problem) from None
    if not isinstance(data, dict):
        raise InputError(f"{path}:{root.start_mark.line + 1}", "expected a mapping of settings")
    return data, builder.lines


def _first_problem(
    path: Path, data: Mapping[str, Any], lines: Mapping[Loc, int], error: ValidationError
) -> InputError:
    """The first error as one line. A misspelt key often causes a "missing" error too, so
    unknown keys are reported before anything else; otherwise the earliest line wins."""
    errors = error.errors()
    problems = [_describe(details, data, lines) for details in errors]
    extras = [p for p, d in zip(problems, errors, strict=True) if d["type"] == "extra_forbidden"]
    line, problem = min(extras or problems, key=lambda p: p[0])
    return InputError(f"{path}:{line}", problem)


def _describe(
    details: ErrorDetails, data: Mapping[str, Any], lines: Mapping[Loc, int]
) -> tuple[int, str]:
    """Turn one pydantic error into (line, problem naming the field)."""
    loc = _data_loc(details["loc"], data)
    kind = details["type"]
    ctx = details.get("ctx", {})
    cause = ctx.get("error")
    if isinstance(cause, FieldProblem):
        loc = (*loc, *cause.field)
    field = _dotted(loc)

    if kind in ("missing", "extra_forbidden"):
        parent, name = loc[:-1], loc[-1]
        prefix = f"{_dotted(parent)}: " if parent else ""
        what = "missing required key" if kind == "missing" else "unknown key"
        return _line(lines, loc), f"{prefix}{what} '{name}'"
    if kind in ("enum", "literal_error"):
        expected = re.split(r",\s*|\s+or\s+", str(ctx.get("expected", "")))
        choices = ", ".join(choice.strip("'") for choice in expected)
        return _line(lines, loc), f"{field}: {details['input']!r} is not one of {choices}"
    if kind in ("value_error", "assertion_error") and cause is not None:
        return _line(lines, loc), f"{field}: {cause}"
    return _line(lines, loc), f"{field}: {details['msg']}"


def _data_loc(loc: tuple[int | str, ...], data: Any) -> Loc:
    """The part of a pydantic ``loc`` that names real keys and indexes in the file's data.

    Drops pydantic's own markers such as ``[key]`` and union member names.
    """
    result: list[str | int] = []
    current = data
    for part in loc:
        if part == "[key]" or not isinstance(current, dict | list):
            continue
        result.append(part)
        if isinstance(current, dict):
            if part not in current:
                break  # a missing field
            current = current[part]
        else:
            if not (isinstance(part, int) and 0 <= part < len(current)):
                break
            current = current[part]
    return tuple(result)


def _line(lines: Mapping[Loc, int], loc: Loc) -> int:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1


def _dotted(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _one_line(text: str) -> str:
    return " ".join(text.split())
