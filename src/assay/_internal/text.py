"""A string from a source, a file or a person, made inert for whatever reads it next.

Control characters (C0, DEL, C1), format characters (bidi overrides and isolates, zero-width
characters), line and paragraph separators and lone surrogates can act on a terminal or mislead a
reader (a right-to-left override shows a name reversed): each is written as its Python escape. The
command line (``cli._output``) and the HTML reports (``audit.readiness``) use the same rule.
"""

from __future__ import annotations

import unicodedata

# Control (C0, DEL, C1), format (bidi overrides and isolates, zero-width characters, …), line and
# paragraph separators, and lone surrogates (which no output encoding can write).
_ACTIVE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def _escape(char: str, keep: str) -> str:
    if char in keep or unicodedata.category(char) not in _ACTIVE:
        return char
    return char.encode("unicode_escape", "backslashreplace").decode("ascii")


def inert(value: object, *, keep: str = "") -> str:
    """``value`` as a string in which every control, format, separator and lone-surrogate
    character is written as its Python escape (``\\x1b``, ``\\r``, ``\\u202e``): it shows, and
    does nothing to the terminal or to anything else that reads it. Other text, and the
    characters in ``keep``, are unchanged."""
    string = "" if value is None else str(value)
    if string.isprintable():  # the common case, fast; some printable-false text is kept below
        return string
    return "".join(_escape(char, keep) for char in string)
