"""Charts drawn on the server as SVG (matplotlib), placed inline in the page. The same numbers are
always shown in a table beside the chart, for screen readers and for copying."""

from __future__ import annotations

import functools
import io
import threading
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure

from assay.checks.base import Status

COLOURS = {
    Status.PASSING: "#1d7a46",
    Status.FAILING: "#b42318",
    Status.NOT_TESTED: "#d4a72c",
    Status.EXCEPTED: "#8c959f",
}
STACKED = (Status.PASSING, Status.FAILING, Status.NOT_TESTED, Status.EXCEPTED)
_lock = threading.Lock()  # matplotlib's text layout is not safe across threads


def status_over_runs(labels: Sequence[str], counts: Sequence[Mapping[Status, int]]) -> str:
    """Stacked bars: controls passing, failing, not tested and excepted at each run."""
    return _stacked_bars(tuple(labels), tuple(tuple(c.get(s, 0) for s in STACKED) for c in counts))


@functools.lru_cache(maxsize=16)
def _stacked_bars(labels: tuple[str, ...], stacks: tuple[tuple[int, ...], ...]) -> str:
    """Drawn once per process for the same numbers: drawing takes matplotlib about 0.2 s of CPU,
    and the numbers change only when a run is added (or the viewer's period differs)."""
    with _lock, matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "assay"}):
        figure = Figure(figsize=(8, 2.8), dpi=100)
        axes = figure.add_subplot()
        positions = range(len(labels))
        bottom = [0] * len(labels)
        for index, status in enumerate(STACKED):
            values = [stack[index] for stack in stacks]
            axes.bar(
                positions,
                values,
                bottom=bottom,
                color=COLOURS[status],
                label=status.label,
                width=0.7,
            )
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        axes.set_xticks(list(positions), labels=list(labels), fontsize=8)
        axes.set_ylabel("controls", fontsize=9)
        axes.spines[["top", "right"]].set_visible(False)
        axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
        figure.tight_layout()
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    svg = out.getvalue()
    return svg[svg.index("<svg") :]
