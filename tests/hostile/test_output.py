"""Hostile text from exports and from the programme file, through every output of the real CLI.

The sample organisation is run once, then its Okta export gains accounts whose logins are Rich
markup, terminal escape sequences, bidi overrides, spreadsheet formulas, HTML and a 10,000-char
name; its HR roster gives a leaver a formula for a name; the programme names the organisation and
a vendor with markup and an escape sequence. Every command must exit as documented and show every
such string as data: no markup read, no control character reaching the terminal, no CSV cell a
spreadsheet would evaluate, no HTML left unescaped; JSON gives the strings back unchanged.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.hostile.sources import (
    HOSTILE_LOGINS,
    LEAVER_EMAIL,
    ORGANISATION,
    VENDOR,
    add_hostile_okta_users,
    rename_leaver,
)

from assay.sample import PlantedFinding

# Characters that act on a terminal or reorder what it shows; only the newline may reach it.
ACTIVE = {"Cc", "Cf", "Zl", "Zp", "Cs"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Hostile:
    """The sample organisation after a clean run (1) and a run with hostile exports (2)."""

    directory: Path
    programme: str
    env: dict[str, str]
    run_output: subprocess.CompletedProcess[str]


def _environment(directory: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"ASSAY_DATABASE_URL", "DJANGO_SETTINGS_MODULE", "PYTHONIOENCODING"}
    }
    env["ASSAY_SQLITE_PATH"] = str(directory / ".assay" / "assay.sqlite3")
    env["COLUMNS"] = "30000"  # Rich wraps nothing, so a string can be found whole in a table
    return env


def _command(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from assay.cli import main; sys.exit(main())", *args]


def _assay(hostile: Hostile, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _command(*args),
        env=hostile.env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def hostile(
    sample_master: tuple[Path, tuple[PlantedFinding, ...]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Hostile:
    directory = tmp_path_factory.mktemp("hostile") / "acme"
    shutil.copytree(sample_master[0], directory, symlinks=True)
    programme = directory / "assay.yaml"
    clean = Hostile(directory, str(programme), _environment(directory), None)  # type: ignore[arg-type]
    first = _assay(clean, "run", "--file", clean.programme)
    assert first.returncode == 0, first.stderr

    add_hostile_okta_users(directory / "exports")
    rename_leaver(directory / "exports" / "hr" / "roster.csv")
    text = programme.read_text(encoding="utf-8")
    text = text.replace("organisation: Acme Cloud Ltd", f"organisation: {json.dumps(ORGANISATION)}")
    assert "- name: Ticketdesk" in text
    text = text.replace("- name: Ticketdesk", f"- name: {json.dumps(VENDOR)}")
    programme.write_text(text, encoding="utf-8")
    second = _assay(clean, "run", "--file", clean.programme)
    return Hostile(directory, clean.programme, clean.env, second)


def _assert_inert(output: str) -> None:
    """Nothing in ``output`` can act on a terminal: no control or format character but newline."""
    active = sorted({repr(c) for c in output if c != "\n" and unicodedata.category(c) in ACTIVE})
    assert not active, f"raw characters reached the output: {active}"


def _assert_shown_as_data(output: str) -> None:
    """Each hostile login is there, whole, as text: markup unread, escapes written out."""
    assert "temp.admin[/bold]@acme.example" in output
    assert "[link=javascript:alert(1)]click.me[/link]@acme.example" in output
    assert "[bold red]:thumbs_up:[/]@acme.example" in output
    assert "\\x1b[2J\\x1b[31mscreen.cleared@acme.example" in output
    assert "\\x1b]8;;https://evil.example/\\x1b\\phish@acme.example" in output
    assert "innocent@acme.example\\rEVIL" in output
    assert "bell\\x07back\\x08\\x08space@acme.example" in output
    assert "c1.csi\\x9b2J@acme.example" in output
    assert "admin\\u202egpj.exe@acme.example" in output
    assert "zero\\u200bwidth line\\u2028sep \U0001f600\\ufeff@x.example" in output
    assert "x" * 10_000 in output


def test_a_run_with_hostile_names_exits_0_and_shows_them_as_data(hostile: Hostile) -> None:
    ran = hostile.run_output
    assert ran.returncode == 0, ran.stderr
    assert "Traceback" not in ran.stderr
    _assert_inert(ran.stdout + ran.stderr)
    assert "Acme [/bold] \\x1b[2J Cloud: controls by Trust Services category" in ran.stdout
    assert "temp.admin[/bold]@acme.example" in ran.stdout
    assert (hostile.directory / ".assay" / "reports" / "readiness-run-2.html").is_file()


def test_findings_as_a_table_show_hostile_text_as_data(hostile: Hostile) -> None:
    listed = _assay(hostile, "findings", "--file", hostile.programme)
    assert listed.returncode == 0, listed.stderr
    _assert_inert(listed.stdout)
    _assert_shown_as_data(listed.stdout)
    assert "\\x1b[2J[/red] left on" in listed.stdout


def test_findings_as_json_give_the_hostile_strings_back_unchanged(hostile: Hostile) -> None:
    listed = _assay(hostile, "findings", "--file", hostile.programme, "--format", "json")
    assert listed.returncode == 0, listed.stderr
    _assert_inert(listed.stdout)
    subjects = {f["subject"] for f in json.loads(listed.stdout)["findings"]}
    assert set(HOSTILE_LOGINS) <= subjects


def test_no_findings_csv_cell_starts_a_formula(hostile: Hostile) -> None:
    listed = _assay(hostile, "findings", "--file", hostile.programme, "--format", "csv")
    assert listed.returncode == 0, listed.stderr
    _assert_inert(listed.stdout)
    rows = list(csv.reader(io.StringIO(listed.stdout)))
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if cell.startswith(FORMULA_START)]
    subjects = {row[3] for row in rows[1:]}
    assert {'\'=HYPERLINK("https://evil.example","click")', "'@SUM(1+1)", "'-1+1", "'+1-1"} <= (
        subjects
    )
    assert "temp.admin[/bold]@acme.example" in subjects
    details = [row[4] for row in rows[1:] if '"Selin")' in row[4]]
    assert details and all(d.startswith("'=HYPERLINK(") for d in details)


@pytest.mark.parametrize(
    "command",
    [
        ("identities", "system", "okta"),
        ("identities", "person", LEAVER_EMAIL),
        ("identities", "privileged", "--include-unknown"),
        ("identities", "diff"),
        ("identities", "leavers"),
    ],
    ids=lambda command: " ".join(command),
)
def test_identities_tables_show_hostile_text_as_data(
    hostile: Hostile, command: tuple[str, ...]
) -> None:
    shown = _assay(hostile, *command, "--file", hostile.programme)
    assert shown.returncode == 0, shown.stderr
    _assert_inert(shown.stdout)
    assert "selin[/bold]\\x1b[2J@acme.example" in shown.stdout
    if command[1] in {"system", "diff"}:
        _assert_shown_as_data(shown.stdout)


def test_an_unknown_hostile_person_is_one_inert_error_line(hostile: Hostile) -> None:
    who = "[/bold]\x1b[2J\u202e@acme.example"
    shown = _assay(hostile, "identities", "person", who, "--file", hostile.programme)
    assert shown.returncode == 2
    _assert_inert(shown.stdout + shown.stderr)
    assert shown.stderr.startswith("assay: [/bold]\\x1b[2J\\u202e@acme.example: no such person")
    assert shown.stderr.count("\n") == 1


def test_identities_as_json_give_the_hostile_strings_back_unchanged(hostile: Hostile) -> None:
    shown = _assay(
        hostile, "identities", "system", "okta", "--file", hostile.programme, "--format", "json"
    )
    assert shown.returncode == 0, shown.stderr
    _assert_inert(shown.stdout)
    assert set(HOSTILE_LOGINS) <= {row["account"] for row in json.loads(shown.stdout)}


def test_a_hostile_vendor_is_shown_as_data(hostile: Hostile) -> None:
    checked = _assay(hostile, "scope", "check", "--file", hostile.programme)
    assert checked.returncode == 1, checked.stderr  # the sample has scope problems: exit 1
    _assert_inert(checked.stdout + checked.stderr)
    # No vendor register was loaded here, so the vendor's missing report is a finding naming it.
    found = _assay(hostile, "findings", "--file", hostile.programme, "--format", "csv")
    assert found.returncode == 0, found.stderr
    _assert_inert(found.stdout)
    assert "Ticket[/bold]desk\\x1b]8;;https://evil.example\\x07" in found.stdout


def test_an_error_quoting_a_hostile_value_is_one_inert_line(hostile: Hostile) -> None:
    failed = _assay(hostile, "findings", "--file", hostile.programme, "--format", "\x1b[2J[/x]")
    assert failed.returncode == 2
    _assert_inert(failed.stderr)
    assert failed.stderr.startswith("assay: ") and failed.stderr.count("\n") == 1
    assert "\\x1b[2J[/x]" in failed.stderr


def test_the_readiness_report_escapes_hostile_html(hostile: Hostile) -> None:
    html = (hostile.directory / ".assay" / "reports" / "readiness.html").read_text("utf-8")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;@acme.example" in html
    assert "temp.admin[/bold]@acme.example" in html
    # Bidi overrides and terminal controls show as escapes, not as a name that reads reversed.
    assert "admin\\u202egpj.exe@acme.example" in html and "\u202e" not in html
    assert "\\x1b[2J\\x1b[31mscreen.cleared@acme.example" in html and "\x1b" not in html
    template = Path(__file__).parents[2] / "src/assay/audit/templates/assay/readiness.html"
    source = template.read_text(encoding="utf-8")
    assert "|safe" not in source.replace(" ", "") and "autoescape off" not in source


def test_a_summary_that_cannot_be_written_still_leaves_the_run_and_its_report(
    hostile: Hostile,
) -> None:
    reports = hostile.directory / ".assay" / "reports"
    before = set(reports.iterdir())
    with open("/dev/full", "w", encoding="utf-8") as full:
        ran = subprocess.run(
            _command("run", "--file", hostile.programme),
            env=hostile.env,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
            check=False,
        )
    assert ran.returncode == 0, ran.stderr
    assert "Traceback" not in ran.stderr and ran.stderr.count("\n") == 1
    assert "completed" in ran.stderr and "summary could not be printed" in ran.stderr
    assert len(set(reports.iterdir()) - before) == 1  # this run's own report


def test_output_in_an_encoding_without_the_characters_escapes_them(hostile: Hostile) -> None:
    env = {**hostile.env, "PYTHONIOENCODING": "ascii"}
    for command in (("findings",), ("identities", "system", "okta")):
        shown = subprocess.run(
            _command(*command, "--file", hostile.programme),
            env=env,
            capture_output=True,
            timeout=300,
            check=False,
        )
        assert shown.returncode == 0, shown.stderr.decode("ascii", "replace")
        assert b"Zo\\xeb" in shown.stdout
