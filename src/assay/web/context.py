"""The programme the web app serves: named by ``ASSAY_PROGRAMME`` (``assay serve`` sets it),
loaded once per process and again whenever the file changes on disk."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from assay.errors import InputError
from assay.programme.model import Programme

PROGRAMME_VARIABLE = "ASSAY_PROGRAMME"
_lock = threading.Lock()
_loaded: tuple[Path, float, Programme] | None = None


def programme() -> Programme:
    """The programme being served; a file that no longer loads keeps the last good one."""
    global _loaded
    named = os.environ.get(PROGRAMME_VARIABLE)
    if not named:
        raise InputError(PROGRAMME_VARIABLE, "not set: start the web app with 'assay serve'")
    path = Path(named)
    changed = path.stat().st_mtime
    with _lock:
        if _loaded is None or _loaded[0] != path or _loaded[1] != changed:
            from assay.programme import load

            try:
                _loaded = (path, changed, load(path))
            except InputError:
                if _loaded is None or _loaded[0] != path:
                    raise
        return _loaded[2]


def programme_or_none() -> Programme | None:
    """The programme when one is being served (not, say, in an admin command)."""
    if not os.environ.get(PROGRAMME_VARIABLE):
        return None
    return programme()
