"""Canonical JSON: one byte sequence per value, so equal content always hashes the same.

Keys sorted, no whitespace, UTF-8. orjson makes this fast enough for the log's hot path.
"""

from __future__ import annotations

from typing import Any

import orjson


def canonical_json(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
