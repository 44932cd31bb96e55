"""``inventory.replay.of_run``: a run's identity graph rebuilt from the locker, kept for reuse."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.cli import main
from assay.errors import InputError
from assay.inventory.replay import of_run, person_reach
from assay.monitor.models import Run
from assay.programme import load

Capture = pytest.CaptureFixture[str]
pytestmark = [pytest.mark.db, pytest.mark.django_db]


def test_a_rebuilt_graph_is_kept_per_locker_programme_and_run(
    sample: Path, capsys: Capture
) -> None:
    file = sample / "assay.yaml"
    with pytest.raises(InputError, match="needs 1 completed run"):
        of_run(load(file))
    for _ in range(2):
        assert main(["run", "--file", str(file)]) == 0
    capsys.readouterr()
    latest, earlier = Run.objects.values_list("pk", flat=True)
    programme = load(file)

    graph = of_run(programme)
    assert graph.run_id == latest and of_run(load(file), latest) is graph
    assert of_run(programme, back=1).run_id == earlier
    assert {r.system for r in person_reach(graph, "grace.lindqvist@acme.example")} == {
        "okta",
        "github",
        "aws",
    }
    # The programme shapes the graph (correlation rules, connector settings): any change rebuilds.
    text = file.read_text()
    file.write_text(text.replace("organisation: Acme Cloud Ltd", "organisation: Acme Cloud"))
    assert of_run(load(file), latest) is not graph
    with pytest.raises(InputError, match=f"run {latest + 1}: no such completed run"):
        of_run(programme, latest + 1)
    with pytest.raises(InputError, match="needs 3 completed run"):
        of_run(programme, back=2)
