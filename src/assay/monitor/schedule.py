"""Running Assay on a schedule: a full run every so often, and a signed checkpoint at least every
hour between runs, so that a gap in the evidence log's timeline shows (a checkpoint with nothing
new still proves the log was not rewritten in that hour).

The loop is plain and single-process; at scale, the same two jobs are what a Celery beat or a
cron entry would call.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from assay.errors import InputError

_DURATION = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str, where: str) -> timedelta:
    """``90s``, ``30m``, ``6h`` or ``1d``; anything else is an ``InputError`` naming ``where``."""
    match = _DURATION.fullmatch(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise InputError(where, f"'{text}' is not a duration such as 30m, 6h or 1d")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


@dataclass(frozen=True)
class Schedule:
    every: timedelta
    """Time between the starts of two full runs."""
    checkpoint_every: timedelta = timedelta(hours=1)
    """The longest the log may go without a signed checkpoint."""
    runs: int | None = None
    """Stop after this many runs; None runs until stopped."""


@dataclass(frozen=True)
class Jobs:
    run: Callable[[], None]
    """One full run; it checkpoints the log when it ends."""
    checkpoint: Callable[[], None]
    stopped: Callable[[], bool] = lambda: False
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    sleep: Callable[[float], object] = time.sleep


def follow(schedule: Schedule, jobs: Jobs) -> int:
    """Run on ``schedule`` until stopped or ``schedule.runs`` are done; return the runs done."""
    runs = 0
    next_run = jobs.now()
    last_checkpoint = next_run
    while not jobs.stopped():
        now = jobs.now()
        if now >= next_run:
            jobs.run()
            runs += 1
            if schedule.runs is not None and runs >= schedule.runs:
                break
            last_checkpoint = jobs.now()
            next_run += schedule.every
            while next_run <= last_checkpoint:  # a run longer than the interval: skip, not pile up
                next_run += schedule.every
        elif now - last_checkpoint >= schedule.checkpoint_every:
            jobs.checkpoint()
            last_checkpoint = jobs.now()
        wake = min(next_run, last_checkpoint + schedule.checkpoint_every)
        jobs.sleep(max((wake - jobs.now()).total_seconds(), 0.0))
    return runs
