"""Owner-evidence windows: one per period of the control's frequency, cut to the audit period and
due after a grace; and how a window is judged from the submissions made for it."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assay.catalog import Frequency, load_catalog
from assay.errors import InputError
from assay.registers.state import SubmissionFact
from assay.registers.windows import (
    PERIODIC,
    Window,
    WindowState,
    cadence_of,
    current_window,
    judge_window,
    window_named,
    windows,
)

START = date(2026, 8, 20)  # a Thursday in the middle of the third quarter
END = date(2027, 8, 19)
GRACE = 14


def _spans(found: tuple[Window, ...]) -> list[tuple[date, date, str]]:
    return [(w.start, w.end, w.label) for w in found]


def test_quarterly_windows_are_calendar_quarters_cut_to_the_period() -> None:
    found = windows(Frequency.QUARTERLY, START, END, GRACE)
    assert _spans(found) == [
        (START, date(2026, 9, 30), "2026-Q3"),
        (date(2026, 10, 1), date(2026, 12, 31), "2026-Q4"),
        (date(2027, 1, 1), date(2027, 3, 31), "2027-Q1"),
        (date(2027, 4, 1), date(2027, 6, 30), "2027-Q2"),
        (date(2027, 7, 1), END, "2027-Q3"),
    ]


def test_monthly_windows_are_calendar_months_cut_to_the_period() -> None:
    found = windows(Frequency.MONTHLY, START, END, GRACE)
    assert len(found) == 13
    assert _spans(found)[:2] == [
        (START, date(2026, 8, 31), "2026-08"),
        (date(2026, 9, 1), date(2026, 9, 30), "2026-09"),
    ]
    assert _spans(found)[5] == (date(2027, 1, 1), date(2027, 1, 31), "2027-01")
    assert _spans(found)[-1] == (date(2027, 8, 1), END, "2027-08")


def test_weekly_windows_are_iso_weeks_cut_to_the_period() -> None:
    found = windows(Frequency.WEEKLY, START, END, GRACE)
    spans = _spans(found)
    assert spans[0] == (START, date(2026, 8, 23), "2026-W34")
    week = next(w for w in found if w.label == "2026-W38")
    assert (week.start, week.end) == (date(2026, 9, 14), date(2026, 9, 20))
    assert week.start.weekday() == 0 and week.end.weekday() == 6
    assert spans[-1] == (date(2027, 8, 16), END, "2027-W33")
    labels = [w.label for w in found]
    assert "2026-W53" in labels and labels.index("2027-W01") == labels.index("2026-W53") + 1


def test_a_week_takes_its_iso_year_across_new_year() -> None:
    found = windows(Frequency.WEEKLY, date(2025, 12, 31), date(2026, 1, 12), 0)
    assert _spans(found) == [
        (date(2025, 12, 31), date(2026, 1, 4), "2026-W01"),
        (date(2026, 1, 5), date(2026, 1, 11), "2026-W02"),
        (date(2026, 1, 12), date(2026, 1, 12), "2026-W03"),
    ]


def test_daily_windows_are_single_days_labelled_by_date() -> None:
    found = windows(Frequency.DAILY, date(2026, 9, 13), date(2026, 9, 15), 1)
    assert _spans(found) == [
        (date(2026, 9, 13), date(2026, 9, 13), "2026-09-13"),
        (date(2026, 9, 14), date(2026, 9, 14), "2026-09-14"),
        (date(2026, 9, 15), date(2026, 9, 15), "2026-09-15"),
    ]
    assert [w.due for w in found] == [date(2026, 9, 14), date(2026, 9, 15), date(2026, 9, 16)]


def test_annual_windows_are_the_periods_own_years() -> None:
    one = windows(Frequency.ANNUAL, START, END, GRACE)
    assert _spans(one) == [(START, END, "2026-08-20/2027-08-19")]
    short = windows(Frequency.ANNUAL, START, date(2027, 8, 18), GRACE)
    assert _spans(short) == [(START, date(2027, 8, 18), "2026-08-20/2027-08-18")]
    longer = windows(Frequency.ANNUAL, START, date(2028, 2, 10), GRACE)
    assert _spans(longer) == [
        (START, END, "2026-08-20/2027-08-19"),
        (date(2027, 8, 20), date(2028, 2, 10), "2027-08-20/2028-02-10"),
    ]


def test_a_window_is_due_its_grace_after_its_clipped_end() -> None:
    for frequency in PERIODIC:
        for window in windows(frequency, START, END, GRACE):
            assert window.due == window.end + timedelta(days=GRACE)
    last = windows(Frequency.QUARTERLY, START, END, 0)[-1]
    assert last.due == END


def test_continuous_and_per_event_controls_have_no_windows_of_their_own() -> None:
    for frequency in (Frequency.CONTINUOUS, Frequency("per-event")):
        with pytest.raises(ValueError, match="has no windows"):
            windows(frequency, START, END, GRACE)
    control = load_catalog().control("GV-07")
    assert cadence_of(control, Frequency.CONTINUOUS) is Frequency.QUARTERLY
    assert cadence_of(control, Frequency.WEEKLY) is Frequency.WEEKLY


def test_a_window_is_found_by_its_label_and_a_wrong_one_is_refused() -> None:
    found = windows(Frequency.QUARTERLY, START, END, GRACE)
    assert window_named(found, " 2026-Q4 ") == found[1]
    with pytest.raises(InputError, match=r"no window '2026-Q2'.*2026-Q3, 2026-Q4"):
        window_named(found, "2026-Q2")


def test_the_default_window_is_the_one_due_else_the_one_running() -> None:
    found = windows(Frequency.QUARTERLY, START, END, GRACE)
    assert current_window(found, date(2026, 9, 1)) == found[0]  # running
    assert current_window(found, date(2026, 10, 10)) == found[0]  # ended, not yet due
    assert current_window(found, date(2026, 10, 15)) == found[1]  # due date passed
    assert current_window(found, date(2026, 1, 1)) == found[0]  # before the period
    assert current_window(found, date(2028, 1, 1)) == found[-1]  # after it


# --- judging one window ----------------------------------------------------------------------

WINDOW = Window(date(2026, 7, 1), date(2026, 9, 30), "2026-Q3", date(2026, 10, 14))


def fact(state: str, submitted: date, decided: date | None = None) -> SubmissionFact:
    decided_at = datetime.combine(decided, time(10), UTC) if decided else None
    return SubmissionFact(
        "GV-02",
        WINDOW.label,
        state,
        "owner@acme.example",
        datetime.combine(submitted, time(15), UTC),
        "" if decided is None else "decider@acme.example",
        decided_at,
        f"statement-{state}-{submitted}",
    )


def judged(submissions: list[SubmissionFact], today: date) -> WindowState:
    state, _ = judge_window(WINDOW, submissions, today)
    return state


def test_accepted_evidence_passes_whenever_it_came() -> None:
    early = fact("accepted", date(2026, 9, 2), date(2026, 9, 3))
    late = fact("accepted", date(2026, 11, 1), date(2026, 11, 2))
    for submissions in ([early], [late], [fact("returned", date(2026, 9, 1)), early]):
        state, decisive = judge_window(WINDOW, submissions, date(2027, 1, 1))
        assert state is WindowState.ACCEPTED and not state.failing
        assert decisive == submissions[-1]


def test_the_accepted_submission_decides_even_after_a_later_one() -> None:
    accepted = fact("accepted", date(2026, 9, 2), date(2026, 9, 3))
    state, decisive = judge_window(
        WINDOW, [accepted, fact("pending", date(2026, 9, 10))], date(2026, 9, 12)
    )
    assert (state, decisive) == (WindowState.ACCEPTED, accepted)


def test_evidence_submitted_in_time_awaits_review_even_past_its_due_date() -> None:
    pending = fact("pending", date(2026, 10, 14))  # on the due date itself
    for today in (date(2026, 10, 1), date(2026, 10, 14), date(2026, 10, 15), date(2027, 3, 1)):
        state = judged([pending], today)
        assert state is WindowState.AWAITING_REVIEW and not state.failing, today


def test_more_evidence_added_late_leaves_the_in_time_submission_awaiting_review() -> None:
    both = [fact("pending", date(2026, 10, 1)), fact("pending", date(2026, 10, 20))]
    assert judged(both, date(2026, 10, 25)) is WindowState.AWAITING_REVIEW


def test_evidence_sent_back_before_the_due_date_is_sent_back() -> None:
    returned = fact("returned", date(2026, 10, 2), date(2026, 10, 3))
    assert judged([returned], date(2026, 10, 5)) is WindowState.SENT_BACK
    assert judged([returned], date(2026, 10, 14)) is WindowState.SENT_BACK


@pytest.mark.parametrize(
    "submissions",
    [
        [],
        [fact("pending", date(2026, 10, 15))],
        [fact("returned", date(2026, 10, 2), date(2026, 10, 3))],
        [
            fact("returned", date(2026, 10, 2), date(2026, 10, 3)),
            fact("pending", date(2026, 11, 1)),
        ],
    ],
    ids=["nothing", "only late", "sent back in time", "sent back in time, then late"],
)
def test_a_window_past_due_without_evidence_pending_from_in_time_is_overdue(
    submissions: list[SubmissionFact],
) -> None:
    state, decisive = judge_window(WINDOW, submissions, date(2026, 11, 2))
    assert state is WindowState.OVERDUE and state.failing
    assert decisive == (submissions[-1] if submissions else None)


def test_without_evidence_a_window_is_upcoming_open_then_due() -> None:
    assert judged([], date(2026, 6, 30)) is WindowState.UPCOMING
    assert judged([], date(2026, 7, 1)) is WindowState.OPEN
    assert judged([], date(2026, 9, 30)) is WindowState.OPEN
    assert judged([], date(2026, 10, 1)) is WindowState.DUE
    assert judged([], date(2026, 10, 14)) is WindowState.DUE
    assert judged([], date(2026, 10, 15)) is WindowState.OVERDUE
    assert not any(s.failing for s in (WindowState.UPCOMING, WindowState.OPEN, WindowState.DUE))


def test_a_window_answered_early_awaits_review_before_it_opens() -> None:
    assert judged([fact("pending", date(2026, 6, 20))], date(2026, 6, 25)) is (
        WindowState.AWAITING_REVIEW
    )


# --- property: the windows tile the period ---------------------------------------------------

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))


@given(
    start=days,
    length=st.integers(min_value=0, max_value=1200),
    frequency=st.sampled_from(sorted(PERIODIC)),
    grace=st.integers(min_value=0, max_value=365),
)
def test_windows_tile_the_period_exactly(
    start: date, length: int, frequency: Frequency, grace: int
) -> None:
    end = start + timedelta(days=length)
    found = windows(frequency, start, end, grace)
    assert found, "a period of at least a day has a window"
    assert found[0].start == start
    assert found[-1].end == end
    for window in found:
        assert window.start <= window.end
        assert window.due == window.end + timedelta(days=grace)
    for before, after in itertools.pairwise(found):
        assert after.start == before.end + timedelta(days=1), (before, after)
    assert len({w.label for w in found}) == len(found)
    assert sum((w.end - w.start).days + 1 for w in found) == length + 1
