"""The windows in which an owner-evidenced control must be shown to operate.

Daily, weekly (ISO weeks), monthly and quarterly windows follow the calendar and are cut to the
audit period; annual windows are the period's own years, counted from its start, so a twelve-month
period asks for an annual control once. Each window is due ``grace_days`` after it ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from assay.catalog import OWNER_EVIDENCE_CADENCE, Control, Frequency, load_catalog
from assay.checks.controls import frequency_of, named_owner, relevant_controls
from assay.errors import InputError
from assay.programme.model import Programme
from assay.registers.state import SubmissionFact

PERIODIC = frozenset(
    {Frequency.DAILY, Frequency.WEEKLY, Frequency.MONTHLY, Frequency.QUARTERLY, Frequency.ANNUAL}
)


@dataclass(frozen=True, order=True)
class Window:
    start: date
    end: date
    """The last day of the window (inclusive)."""
    label: str
    due: date

    def state_on(self, today: date) -> str:
        """'open' while it runs, 'due' between its end and due date, 'past' after."""
        if today <= self.end:
            return "open"
        return "due" if today <= self.due else "past"


def cadence_of(control: Control, frequency: Frequency) -> Frequency:
    """The window length for ``control``: its frequency when that is periodic, else quarterly."""
    return frequency if frequency in PERIODIC else OWNER_EVIDENCE_CADENCE


def windows(frequency: Frequency, start: date, end: date, grace_days: int) -> tuple[Window, ...]:
    """Every window of ``frequency`` between ``start`` and ``end`` (inclusive), in order."""
    if frequency not in PERIODIC:
        raise ValueError(f"{frequency} has no windows")
    grace = timedelta(days=grace_days)
    return tuple(
        Window(max(first, start), min(last, end), label, min(last, end) + grace)
        for first, last, label in _calendar(frequency, start, end)
    )


def _calendar(frequency: Frequency, start: date, end: date) -> Iterator[tuple[date, date, str]]:
    if frequency is Frequency.ANNUAL:
        first = start
        while first <= end:
            last = _add_years(first, 1) - timedelta(days=1)
            yield first, last, f"{first.isoformat()}/{min(last, end).isoformat()}"
            first = last + timedelta(days=1)
        return
    day = start
    while day <= end:
        if frequency is Frequency.DAILY:
            first, last, label = day, day, day.isoformat()
        elif frequency is Frequency.WEEKLY:
            first = day - timedelta(days=day.weekday())
            last = first + timedelta(days=6)
            year, week, _ = first.isocalendar()
            label = f"{year}-W{week:02d}"
        elif frequency is Frequency.MONTHLY:
            first = day.replace(day=1)
            last = _month_after(first) - timedelta(days=1)
            label = f"{first.year}-{first.month:02d}"
        else:
            quarter = (day.month - 1) // 3
            first = date(day.year, quarter * 3 + 1, 1)
            last = _month_after(_month_after(_month_after(first))) - timedelta(days=1)
            label = f"{first.year}-Q{quarter + 1}"
        yield first, last, label
        day = last + timedelta(days=1)


def _month_after(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def window_named(all_windows: tuple[Window, ...], label: str) -> Window:
    for window in all_windows:
        if window.label == label.strip():
            return window
    shown = ", ".join(w.label for w in all_windows[:4]) + (", …" if len(all_windows) > 4 else "")
    raise InputError("--period", f"no window '{label}' in the audit period (windows: {shown})")


def current_window(all_windows: tuple[Window, ...], today: date) -> Window:
    """The window to answer by default: the earliest one due and not yet past its due date,
    else the one running today, else the last."""
    for window in all_windows:
        if window.end < today <= window.due:
            return window
    for window in all_windows:
        if window.start <= today <= window.end:
            return window
    if not all_windows:
        raise InputError("--period", "the audit period has no windows")
    return all_windows[-1] if today > all_windows[-1].end else all_windows[0]


class WindowState(StrEnum):
    ACCEPTED = "accepted"
    AWAITING_REVIEW = "awaiting review"
    SENT_BACK = "sent back"
    OVERDUE = "overdue"
    DUE = "due"
    OPEN = "open"
    UPCOMING = "not yet due"

    @property
    def failing(self) -> bool:
        return self is WindowState.OVERDUE


@dataclass(frozen=True)
class WindowStatus:
    control: str
    owner: str | None
    window: Window
    state: WindowState
    submission: SubmissionFact | None
    """The submission that decides the state (the accepted one, else the latest)."""

    @property
    def late(self) -> bool:
        """Accepted, but submitted after the window was due."""
        s = self.submission
        return (
            s is not None
            and self.state is WindowState.ACCEPTED
            and (s.submitted_at.date() > self.window.due)
        )


def judge_window(
    window: Window, submissions: Sequence[SubmissionFact], today: date
) -> tuple[WindowState, SubmissionFact | None]:
    """A window's state from its submissions (oldest first) on ``today``."""
    accepted = [s for s in submissions if s.state == "accepted"]
    if accepted:
        return WindowState.ACCEPTED, accepted[0]
    latest = submissions[-1] if submissions else None
    pending = latest is not None and latest.state == "pending"
    waiting_from_in_time = [
        s for s in submissions if s.state == "pending" and s.submitted_at.date() <= window.due
    ]
    if today > window.due and not waiting_from_in_time:
        return WindowState.OVERDUE, latest
    if pending:
        return WindowState.AWAITING_REVIEW, latest
    if latest is not None:
        return WindowState.SENT_BACK, latest
    state = window.state_on(today)
    if state == "due":
        return WindowState.DUE, None
    if window.start > today:
        return WindowState.UPCOMING, None
    return WindowState.OPEN, None


def evidenced_controls(programme: Programme) -> tuple[Control, ...]:
    """The controls in scope whose owner must submit evidence."""
    catalog = load_catalog()
    return tuple(c for c in relevant_controls(catalog, programme.categories) if c.owner_evidenced)


def windows_of(programme: Programme, control: Control) -> tuple[Window, ...]:
    period = programme.audit.period
    cadence = cadence_of(control, frequency_of(programme, control))
    return windows(cadence, period.start, period.end, programme.registers.grace_days)


def statuses(
    programme: Programme,
    submissions: Iterable[SubmissionFact],
    today: date,
    controls: Iterable[Control] | None = None,
) -> tuple[WindowStatus, ...]:
    """Every window of every owner-evidenced control (or just ``controls``), judged on ``today``."""
    by_window: dict[tuple[str, str], list[SubmissionFact]] = {}
    for fact in sorted(submissions, key=lambda s: s.submitted_at):
        by_window.setdefault((fact.control, fact.window), []).append(fact)
    made = []
    for control in controls if controls is not None else evidenced_controls(programme):
        owner = named_owner(programme, control)
        for window in windows_of(programme, control):
            state, decisive = judge_window(
                window, by_window.get((control.id, window.label), []), today
            )
            made.append(WindowStatus(control.id, owner, window, state, decisive))
    return tuple(made)
