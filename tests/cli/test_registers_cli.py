"""``assay controls``, ``assay register …`` and ``assay evidence submit|accept|return|requests``
as a user meets them, on the sample organisation with its registers loaded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from assay.catalog import load_catalog
from assay.cli import main
from assay.evidence.service import open_locker
from assay.programme import load
from assay.registers.models import Change, Record, Submission
from assay.sample import PlantedFinding
from assay.web.models import Profile

Capture = pytest.CaptureFixture[str]
pytestmark = [pytest.mark.db, pytest.mark.django_db]


def _run(capsys: Capture, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_every_control_has_a_named_owner_and_a_way_to_be_evidenced(
    registered: Path, planted: tuple[PlantedFinding, ...], capsys: Capture
) -> None:
    programme = str(registered / "assay.yaml")
    assert main(["run", "--file", programme]) == 0
    capsys.readouterr()
    code, out, _ = _run(capsys, "controls", "--all", "--format", "json", "--file", programme)
    assert code == 0
    rows = json.loads(out)["controls"]
    assert len(rows) == len(load_catalog().controls) == 141
    assert all(row["owner"] and row["evidenced_by"] for row in rows)
    by_id = {row["id"]: row for row in rows}
    assert by_id["AC-03"]["evidenced_by"] == ["automated check"]
    assert by_id["RA-01"]["evidenced_by"] == ["register"]
    assert by_id["GV-02"]["evidenced_by"] == ["owner evidence"]
    assert by_id["GV-02"]["status"] == "failing" and by_id["GV-02"]["period"] == {"failing": 1}
    assert not by_id["PV-01"]["in_scope"] and by_id["PV-01"]["status"] == "out of scope"
    code, out, _ = _run(
        capsys, "controls", "--status", "failing", "--format", "csv", "--file", programme
    )
    failing = out.splitlines()[1:]
    assert code == 0 and failing and all(",failing," in line for line in failing)


def test_owner_evidence_is_submitted_accepted_and_the_window_passes(
    registered: Path, planted: tuple[PlantedFinding, ...], capsys: Capture, tmp_path: Path
) -> None:
    programme = str(registered / "assay.yaml")
    loaded = load(registered / "assay.yaml")
    overdue = next(p for p in planted if p.rule == "evidence_overdue")
    control, window = overdue.subject.split("@")
    owner = loaded.owners["Chief executive"]  # the programme owner too
    minutes = tmp_path / "minutes.txt"
    minutes.write_text("Leadership reviewed the programme.\n")
    code, out, _ = _run(
        capsys,
        "evidence",
        "requests",
        "--state",
        "overdue",
        "--format",
        "json",
        "--file",
        programme,
    )
    assert code == 0 and [(r["control"], r["window"]) for r in json.loads(out)] == [
        (control, window)
    ]
    code, _, err = _run(
        capsys,
        "evidence",
        "submit",
        control,
        str(minutes),
        "--period",
        window,
        "--note",
        "Minutes of the review",
        "--as",
        loaded.owners["Security lead"],
        "--file",
        programme,
    )
    assert code == 2 and "only its owner" in err and err.count("\n") == 1
    code, out, _ = _run(
        capsys,
        "evidence",
        "submit",
        control,
        str(minutes),
        "--period",
        window,
        "--note",
        "Minutes of the review",
        "--as",
        owner,
        "--file",
        programme,
    )
    assert code == 0 and "awaiting review" in out
    code, _, err = _run(capsys, "evidence", "accept", control, "--as", owner, "--file", programme)
    assert code == 2 and "their own submission" in err
    second = loaded.owners["Infrastructure lead"]
    code, _, err = _run(capsys, "evidence", "accept", control, "--as", second, "--file", programme)
    assert code == 2 and "only the programme owner" in err
    # Given the programme owner role, they may decide.
    user = User.objects.create_user(username=second, email=second, password="x" * 16)
    Profile.objects.create(user=user, role="programme_owner")
    code, out, _ = _run(capsys, "evidence", "accept", control, "--as", second, "--file", programme)
    assert code == 0 and "accepted" in out
    (made,) = Submission.objects.filter(control_id=control, window=window)
    assert made.decided_by == second and made.files[0]["name"] == "minutes.txt"
    assert open_locker(loaded).get(made.files[0]["sha256"]) == minutes.read_bytes()
    capsys.readouterr()
    assert main(["run", "--file", programme]) == 0
    out = capsys.readouterr().out
    assert f"{len(planted) - 1} finding(s)" in out
    assert main(["verify", "--file", programme]) == 0


def test_a_bad_import_is_rejected_whole_with_one_line_and_exit_2(
    registered: Path, capsys: Capture, tmp_path: Path
) -> None:
    programme = str(registered / "assay.yaml")
    bad = tmp_path / "risks.csv"
    bad.write_text(
        "id,title,likelihood,impact,owner,controls,last_reviewed,colour\n"
        "R-10,One,3,3,dana.reyes@acme.example,AC-03,2026-01-01,red\n"
        "R-10,Two,9,3,ghost@acme.example,ZZ-99,2026-02-30,blue\n"
    )
    records, changes = Record.objects.count(), Change.objects.count()
    code, out, err = _run(
        capsys,
        "register",
        "import",
        "risks",
        str(bad),
        "--as",
        "dana.reyes@acme.example",
        "--file",
        programme,
    )
    assert code == 2 and out == "" and err.count("\n") == 1
    for where in (
        "risks.csv:1: colour: unknown column",
        "risks.csv:3: likelihood",
        "risks.csv:3: last_reviewed",
        "risks.csv:3: owner: unknown person 'ghost@acme.example'",
        "risks.csv:3: controls: unknown control 'ZZ-99'",
        "risks.csv:3: id: 'R-10' is also on row 2",
    ):
        assert where in err, where
    assert (Record.objects.count(), Change.objects.count()) == (records, changes)


def test_register_add_edit_approve_attach_and_export(
    registered: Path, capsys: Capture, tmp_path: Path
) -> None:
    programme = str(registered / "assay.yaml")
    owner = "dana.reyes@acme.example"
    code, out, _ = _run(
        capsys,
        "register",
        "add",
        "risks",
        "--set",
        "id=R-20",
        "--set",
        "title=Laptop theft",
        "--set",
        "likelihood=2",
        "--set",
        "impact=3",
        "--set",
        "controls=EP-01;EP-05",
        "--as",
        owner,
        "--file",
        programme,
    )
    assert code == 0 and "added risks R-20" in out
    code, out, _ = _run(
        capsys,
        "register",
        "edit",
        "risks",
        "R-20",
        "--set",
        "last_reviewed=2026-11-30",
        "--set",
        "plan=Encrypt disks; wipe remotely",
        "--as",
        owner,
        "--file",
        programme,
    )
    assert code == 0 and "version 2" in out
    code, out, _ = _run(
        capsys, "register", "approve", "policies", "POL-02", "--as", owner, "--file", programme
    )
    assert code == 0 and "approved" in out
    code, _, err = _run(
        capsys, "register", "approve", "risks", "R-20", "--as", owner, "--file", programme
    )
    assert code == 2 and "not approved" in err
    postmortem = tmp_path / "inc-02.md"
    postmortem.write_text("# What happened\n")
    code, out, _ = _run(
        capsys,
        "register",
        "attach",
        "incidents",
        "INC-02",
        str(postmortem),
        "--as",
        owner,
        "--file",
        programme,
    )
    assert code == 0
    incident = Record.objects.get(kind="incidents", key="INC-02")
    assert incident.document["postmortem_file"]
    code, out, _ = _run(capsys, "register", "export", "risks", "-", "--file", programme)
    assert code == 0 and "R-20,Laptop theft," in out and "EP-01;EP-05" in out
    assert "Encrypt disks; wipe remotely" in out  # a text field keeps its ';
    written = tmp_path / "risks.xlsx"
    assert main(["register", "export", "risks", str(written), "--file", programme]) == 0
    capsys.readouterr()
    code, out, _ = _run(
        capsys, "register", "import", "risks", str(written), "--as", owner, "--file", programme
    )
    assert code == 0 and "imported 0 risks record(s)" in out and "7 unchanged" in out
    code, out, _ = _run(capsys, "register", "show", "risks", "R-20", "--file", programme)
    assert code == 0 and "history" in out and "edited" in out
    assert main(["verify", "--file", programme]) == 0


def test_what_people_wrote_in_a_register_is_shown_as_data(
    registered: Path, capsys: Capture
) -> None:
    from assay.registers import service
    from assay.registers.kinds import KINDS

    programme = load(registered / "assay.yaml")
    title = "=cmd|'/c calc'!A1 [bold]loud[/bold] \x1b[2Jgone \u202eevil"
    service.add(
        programme,
        KINDS["risks"],
        {"id": "R-30", "title": title, "likelihood": 1, "impact": 1},
        "dana.reyes@acme.example",
    )
    path = str(registered / "assay.yaml")
    code, out, _ = _run(capsys, "register", "list", "risks", "--file", path)
    assert code == 0 and "\x1b" not in out and "\u202e" not in out
    assert "[bold]" in out  # Rich markup printed as written, not read
    code, out, _ = _run(capsys, "register", "list", "risks", "--format", "csv", "--file", path)
    (line,) = [row for row in out.splitlines() if row.startswith("R-30,")]
    assert ",'=cmd" in line and "\\x1b[2J" in line and "\\u202e" in line
    code, out, _ = _run(capsys, "register", "list", "risks", "--format", "json", "--file", path)
    assert next(r for r in json.loads(out) if r["id"] == "R-30")["title"] == title
    code, out, _ = _run(capsys, "register", "export", "risks", "-", "--file", path)
    assert code == 0 and "\x1b" not in out and "\u202e" not in out and ",'=cmd" in out


def test_who_may_decide_is_one_rule_for_the_web_and_the_command_line(registered: Path) -> None:
    from assay.web.accounts import may_decide

    programme = load(registered / "assay.yaml")
    lead = User.objects.create_user(username="lead", email="Ops.Lead@Acme.example", password="x")
    Profile.objects.create(user=lead, role="programme_owner")
    other = User.objects.create_user(username="co", email="co@acme.example", password="x")
    Profile.objects.create(user=other, role="control_owner")
    assert may_decide(programme, "ops.lead@acme.example")  # as the command line spells it
    assert may_decide(programme, programme.owner.email.upper())
    assert not may_decide(programme, "co@acme.example")
    lead.is_active = False
    lead.save()
    assert not may_decide(programme, "ops.lead@acme.example")
