"""``assay identities``: answers rebuilt from the stored evidence of a run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay.cli import main

Capture = pytest.CaptureFixture[str]
pytestmark = [pytest.mark.db, pytest.mark.django_db]


@pytest.fixture
def ran(sample: Path, capsys: Capture) -> str:
    programme = str(sample / "assay.yaml")
    assert main(["run", "--file", programme]) == 0
    capsys.readouterr()
    return programme


def _json(capsys: Capture) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return rows


def test_everything_a_leaver_can_still_reach(ran: str, capsys: Capture) -> None:
    assert (
        main(
            [
                "identities",
                "person",
                "grace.lindqvist@acme.example",
                "--file",
                ran,
                "--format",
                "json",
            ]
        )
        == 0
    )
    rows = _json(capsys)
    assert {(r["system"], r["account"], r["status"]) for r in rows} == {
        ("okta", "grace.lindqvist@acme.example", "active"),
        ("github", "grace-lindqvist", "active"),
        ("aws", "grace.lindqvist", "active"),
    }
    by_system = {r["system"]: r for r in rows}
    assert by_system["okta"]["how_linked"] == "employee id"
    assert by_system["github"]["how_linked"] == "username rule"


def test_everyone_who_can_reach_a_system(ran: str, capsys: Capture) -> None:
    assert main(["identities", "system", "github", "--file", ran, "--format", "json"]) == 0
    rows = _json(capsys)
    people = {r["account"]: r["person"] for r in rows}
    assert people["zed-builds"] == "nobody (orphan)"
    assert people["acme-release-bot"] == "sam.okafor@acme.example"
    assert people["ohx-dev"] == "omar.haddad@acme.example"
    admins = {r["account"] for r in rows if r["privileged"] == "yes"}
    assert admins == {"tom-becker", "yara-salem", "hiro-tanaka"}


def test_a_person_by_employee_id_and_the_table(ran: str, capsys: Capture) -> None:
    assert main(["identities", "person", "E1006", "--file", ran]) == 0
    assert "E1006: 3 account(s)" in capsys.readouterr().out


def test_unknown_person_or_system_is_exit_2(ran: str, capsys: Capture) -> None:
    assert main(["identities", "person", "nobody@acme.example", "--file", ran]) == 2
    assert main(["identities", "system", "crm", "--file", ran]) == 2
    assert "no snapshot of this system" in capsys.readouterr().err


def test_diff_between_two_runs_shows_joiners_leavers_movers_and_accounts(
    ran: str, sample: Path, capsys: Capture
) -> None:
    roster = sample / "exports/hr/roster.csv"
    lines = roster.read_text().splitlines()
    header = lines[0].split(",")
    col = {name: i for i, name in enumerate(header)}

    def edit(email: str, **values: str) -> None:
        for n, line in enumerate(lines):
            cells = line.split(",")
            if cells[col["email"]] == email:
                for key, value in values.items():
                    cells[col[key]] = value
                lines[n] = ",".join(cells)

    edit("marta.kowalski@acme.example", status="terminated", end_date="2026-11-20")
    edit("ivan.petrov@acme.example", title="Staff engineer")
    joiner = lines[1].split(",")
    joiner[col["employee_id"]], joiner[col["email"]] = "E9999", "new.person@acme.example"
    joiner[col["name"]] = "New Person"
    lines.append(",".join(joiner))
    roster.write_text("\n".join(lines) + "\n")
    members = sample / "exports/github/members.json"
    listed = json.loads(members.read_text())
    members.write_text(json.dumps([m for m in listed if m["login"] != "zed-builds"]))
    assert main(["run", "--file", ran]) == 0
    capsys.readouterr()

    assert main(["identities", "diff", "--file", ran, "--format", "json"]) == 0
    changes = {
        (c["kind"], c["system"], c["subject"])
        for c in json.loads(capsys.readouterr().out)["changes"]
    }
    assert changes == {
        ("leaver", "hr", "marta.kowalski@acme.example"),
        ("mover", "hr", "ivan.petrov@acme.example"),
        ("joiner", "hr", "new.person@acme.example"),
        ("account_removed", "github", "zed-builds"),
    }
    from assay.monitor.models import Run

    latest = str(Run.objects.filter(status=Run.Status.COMPLETED).first().pk)  # type: ignore[union-attr]
    assert main(["identities", "diff", latest, latest, "--file", ran, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["changes"] == []


def test_each_leaver_with_the_delay_of_every_account(ran: str, capsys: Capture) -> None:
    assert main(["identities", "leavers", "--file", ran, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["deadline_hours"] == 24
    rows = {(r["person"], r["system"]): r for r in report["accounts"]}
    suspended = rows[("tariq.aziz@acme.example", "okta")]
    assert (suspended["status"], suspended["delay_hours"], suspended["within_deadline"]) == (
        "inactive",
        75,
        "no",
    )
    clean = rows[("noah.mensah@acme.example", "okta")]
    assert (clean["delay_hours"], clean["within_deadline"]) == (6, "yes")
    still_open = rows[("grace.lindqvist@acme.example", "github")]
    assert still_open["closed"] == "still open" and still_open["within_deadline"] == "no"
    assert {person for person, _ in rows} == {
        "grace.lindqvist@acme.example",
        "noah.mensah@acme.example",
        "tariq.aziz@acme.example",
        "selin.yilmaz@acme.example",
        "arjun.iyer@acme.example",
    }


def test_the_privileged_population(ran: str, capsys: Capture) -> None:
    assert main(["identities", "privileged", "--file", ran, "--format", "json"]) == 0
    rows = _json(capsys)
    assert {r["privileged"] for r in rows} == {"yes"}
    found = {(r["system"], r["account"]) for r in rows}
    assert ("aws", "<root_account>") in found
    assert ("bastion", "root") in found
    assert ("github", "hiro-tanaka") in found  # the organisation admin without 2FA
    assert (
        main(["identities", "privileged", "--file", ran, "--include-unknown", "--format", "json"])
        == 0
    )
    everything = _json(capsys)
    assert len(everything) > len(rows)
    assert {r["privileged"] for r in everything} == {"yes", "unknown"}


def test_non_human_identities_with_their_owners(ran: str, sample: Path, capsys: Capture) -> None:
    assert main(["identities", "nonhuman", "--file", ran, "--format", "json"]) == 0
    rows = {(r["system"], r["identity"]): r for r in _json(capsys)}
    planted = json.loads((sample / "planted-problems.json").read_text())
    problems = {
        (p["system"], p["subject"]): p["rule"] for p in planted if p["check"] == "nonhuman_owners"
    }
    assert problems  # the sample plants owners who left and a key nobody owns
    for key, rule in problems.items():
        status = rows[key]["owner_status"]
        if rule == "nonhuman_owner_left":
            assert str(status).startswith("left on "), key
        else:
            assert (rows[key]["owner"], status) == ("", "no owner"), key
    fine = {key: row["owner_status"] for key, row in rows.items() if key not in problems}
    assert fine and set(fine.values()) == {"here"}
    declared = rows[("aws", "ci-deploy")]
    assert (declared["kind"], declared["owner_named_by"]) == ("service account", "declared")
    assert main(["identities", "nonhuman", "--file", ran]) == 0
    assert "non-human identities, run" in capsys.readouterr().out
