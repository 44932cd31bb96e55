"""The schedule: full runs at their interval, and a checkpoint at least hourly in between."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assay.cli import main
from assay.errors import InputError
from assay.monitor.schedule import Jobs, Schedule, follow, parse_duration

START = datetime(2026, 11, 26, tzinfo=UTC)


class Clock:
    """Time that moves only when the loop sleeps or a job takes time."""

    def __init__(self, run_takes: timedelta = timedelta(minutes=5)) -> None:
        self.now = START
        self.run_takes = run_takes
        self.events: list[tuple[str, timedelta]] = []

    def jobs(self) -> Jobs:
        return Jobs(self.run, self.checkpoint, now=lambda: self.now, sleep=self.sleep)

    def run(self) -> None:
        self.events.append(("run", self.now - START))
        self.now += self.run_takes

    def checkpoint(self) -> None:
        self.events.append(("checkpoint", self.now - START))

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def hours(value: float) -> timedelta:
    return timedelta(hours=value)


def test_runs_at_their_interval_with_hourly_checkpoints_between() -> None:
    clock = Clock()
    done = follow(Schedule(every=hours(3), runs=3), clock.jobs())
    assert done == 3
    minutes = timedelta(minutes=5)
    assert clock.events == [
        ("run", hours(0)),
        ("checkpoint", hours(1) + minutes),
        ("checkpoint", hours(2) + minutes),
        ("run", hours(3)),
        ("checkpoint", hours(4) + minutes),
        ("checkpoint", hours(5) + minutes),
        ("run", hours(6)),
    ]


def test_runs_more_often_than_hourly_need_no_extra_checkpoint() -> None:
    clock = Clock()
    follow(Schedule(every=timedelta(minutes=20), runs=6), clock.jobs())
    assert [kind for kind, _ in clock.events] == ["run"] * 6


def test_a_run_longer_than_the_interval_skips_instead_of_piling_up() -> None:
    clock = Clock(run_takes=hours(2.5))
    follow(Schedule(every=hours(1), checkpoint_every=hours(4), runs=3), clock.jobs())
    assert clock.events == [("run", hours(0)), ("run", hours(3)), ("run", hours(6))]


def test_stopping_ends_the_loop_before_the_next_job() -> None:
    clock = Clock()
    jobs = Jobs(
        clock.run,
        clock.checkpoint,
        stopped=lambda: len(clock.events) >= 2,
        now=lambda: clock.now,
        sleep=clock.sleep,
    )
    assert follow(Schedule(every=hours(3)), jobs) == 1
    assert [kind for kind, _ in clock.events] == ["run", "checkpoint"]


@pytest.mark.parametrize("text", ["", "6", "h", "0m", "1.5h", "2w", "-1h"])
def test_durations_are_checked(text: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_duration(text, "--every")
    assert caught.value.where == "--every"
    assert parse_duration("90s", "x") == timedelta(seconds=90)
    assert parse_duration("1d", "x") == timedelta(days=1)


@pytest.mark.db
@pytest.mark.django_db
def test_the_command_runs_on_a_schedule_and_checkpoints_between(
    sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from assay.evidence.models import Checkpoint
    from assay.monitor.models import Run

    programme = str(sample / "assay.yaml")
    code = main(
        ["run", "--file", programme, "--every", "3s", "--checkpoint-every", "1s", "--runs", "2"]
    )
    assert code == 0
    assert Run.objects.filter(status=Run.Status.COMPLETED).count() == 2
    assert Checkpoint.objects.count() >= 3  # one per run, and at least one between them
    assert "stopped after 2 run(s)" in capsys.readouterr().out
    assert main(["verify", "--file", programme]) == 0


def test_a_bad_interval_is_a_clear_error(sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--file", str(sample / "assay.yaml"), "--every", "soon"])
    assert code == 2
    assert "--every: 'soon' is not a duration" in capsys.readouterr().err
