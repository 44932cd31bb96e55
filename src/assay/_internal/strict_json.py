"""The one reader of JSON from outside: vendor exports and responses, and auditor packages.

Python's ``json`` takes the last of two equal keys, recurses once per level of nesting (a deep
document is a ``RecursionError``), accepts ``"\\ud800"`` (half a character, which crashes whatever
writes it out later) and reports a bad UTF-8 byte by its offset only. Here a duplicate key, nesting
past ``MAX_DEPTH``, a lone surrogate and an undecodable byte are each a ``ParseProblem`` with the
line and column, which each caller turns into its own error (bad input, or a package that fails
verification).
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

MAX_DEPTH = 128
"""The deepest nesting of arrays and objects read; vendor documents stay under a dozen."""

# A string (to its closing quote, or to the end if it has none) or a run of anything that is
# neither a string nor a bracket: removing both leaves the brackets, in linear time.
_NOT_BRACKET = re.compile(r'"(?:[^"\\]++|\\.)*+"?|[^"\[\]{}]++', re.DOTALL)
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
# What the location walk needs to see: strings, brackets, and the separators of an object.
_TOKEN = re.compile(r'"(?:[^"\\]++|\\.)*+"?|[\[\]{},:]', re.DOTALL)
# A surrogate escape: a high one followed by a low one is a character, anything else is half of one.
_SURROGATE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u[dD][89a-fA-F][0-9a-fA-F]{2}"
)


class ParseProblem(ValueError):
    """Text that is not acceptable JSON: the ``line`` (0 if unknown) and the ``problem``, which
    names the column, so a caller reports ``file:line: problem``."""

    def __init__(self, line: int, problem: str) -> None:
        self.line = line
        self.problem = problem
        super().__init__(f"line {line}: {problem}" if line else problem)


def decode_utf8(data: bytes) -> str:
    """UTF-8 text with a leading byte-order mark removed; a bad byte names its line and column."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        before = data[line_start : error.start].decode("utf-8-sig", errors="replace")
        line = data.count(b"\n", 0, error.start) + 1
        byte = data[error.start]
        problem = f"not valid UTF-8 text: byte 0x{byte:02x} at column {len(before) + 1}"
        raise ParseProblem(line, problem) from None


def parse_json(text: str) -> Any:
    """Parse one JSON document, refusing duplicate keys, nesting deeper than ``MAX_DEPTH`` and
    a lone surrogate escape (half a character, which no UTF-8 output can hold)."""
    _check_depth(text)
    _check_surrogates(text)
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except _DuplicateKey:
        offset, key = _first_duplicate(text)
        raise _at(text, offset, f"duplicate key {key!r}") from None
    except json.JSONDecodeError as error:
        problem = f"invalid JSON at column {error.colno}: {error.msg}"
        raise ParseProblem(error.lineno, problem) from None
    except ValueError as error:  # e.g. an integer longer than Python converts
        raise ParseProblem(0, f"invalid JSON: {error}") from None


class _DuplicateKey(Exception):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _DuplicateKey
    return result


def _check_depth(text: str) -> None:
    brackets = _NOT_BRACKET.sub("", text)
    if not brackets or max(accumulate(map(_STEP.__getitem__, brackets))) <= MAX_DEPTH:
        return
    depth = 0
    for token in _TOKEN.finditer(text):
        depth += _STEP.get(token[0], 0)
        if depth > MAX_DEPTH:
            raise _at(text, token.start(), f"nested deeper than {MAX_DEPTH} levels")


def _check_surrogates(text: str) -> None:
    if "\\ud" not in text and "\\uD" not in text:
        return
    for escape in _SURROGATE.finditer(text):
        if len(escape[0]) != 6:
            continue  # a pair: one character
        start = before = escape.start()
        while before and text[before - 1] == "\\":
            before -= 1
        if (start - before) % 2 == 0:  # not itself an escaped backslash
            raise _at(text, start, f"a lone surrogate {escape[0]} is not a character")


def _first_duplicate(text: str) -> tuple[int, str]:
    """Where the first repeated key of an object is, in document order, and the key."""
    objects: list[set[str] | None] = []  # per open bracket: an object's keys, or None
    expect_key = False
    for token in _TOKEN.finditer(text):
        mark = token[0]
        if mark in ("{", "["):
            objects.append(set() if mark == "{" else None)
            expect_key = mark == "{"
        elif mark in ("}", "]"):
            objects.pop()
            expect_key = False
        elif mark == ",":
            expect_key = bool(objects) and objects[-1] is not None
        elif mark == ":":
            expect_key = False
        elif expect_key and objects and (keys := objects[-1]) is not None:
            key: str = json.loads(token[0])  # escapes decoded: "a" and "\u0061" are one key
            if key in keys:
                return token.start(), key
            keys.add(key)
            expect_key = False
    raise AssertionError("a duplicate key was reported but not found")  # pragma: no cover


def _at(text: str, offset: int, problem: str) -> ParseProblem:
    line = text.count("\n", 0, offset) + 1
    return ParseProblem(line, f"{problem} at column {offset - text.rfind(chr(10), 0, offset)}")
