"""A string from a source, a file or a person, made inert for whatever reads it next.

Control characters (C0, DEL, C1), format characters (bidi overrides and isolates, zero-width
characters), line and paragraph separators and lone surrogates can act on a terminal or mislead a
reader (a right-to-left override shows a name reversed): each is written as its Python escape. The
command line (``cli._output``) and the HTML reports (``audit.readiness``) use the same rule.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# Control (C0, DEL, C1), format (bidi overrides and isolates, zero-width characters, …), line and
# paragraph separators, and lone surrogates (which no output encoding can write).
_ACTIVE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_ASSIGNED = (range(0x0000, 0x40000), range(0xE0000, 0xE1000))
"""Where such characters can be: planes 4 to 13 hold no assigned character, and 15 and 16 are
private use (category Co)."""


@functools.cache
def _pattern(keep: str) -> re.Pattern[str]:
    """One character class of every active character but those in ``keep``, built once from
    this Python's Unicode database, so a whole page is scanned at the regular expression
    engine's speed."""
    ranges: list[tuple[int, int]] = []
    for block in _ASSIGNED:
        for point in block:
            char = chr(point)
            if char in keep or unicodedata.category(char) not in _ACTIVE:
                continue
            if ranges and ranges[-1][1] == point - 1:
                ranges[-1] = (ranges[-1][0], point)
            else:
                ranges.append((point, point))
    return re.compile("[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges) + "]")


def _escape(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape", "backslashreplace").decode("ascii")


def inert(value: object, *, keep: str = "") -> str:
    """``value`` as a string in which every control, format, separator and lone-surrogate
    character is written as its Python escape (``\\x1b``, ``\\r``, ``\\u202e``): it shows, and
    does nothing to the terminal or to anything else that reads it. Other text, and the
    characters in ``keep``, are unchanged."""
    string = "" if value is None else str(value)
    if string.isprintable():  # the common case, fast; some printable-false text is kept below
        return string
    return _pattern(keep).sub(_escape, string)
