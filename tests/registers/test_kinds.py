"""What each register's record accepts and refuses, and the references it must resolve."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from assay.errors import InputError
from assay.registers.kinds import (
    KINDS,
    Acknowledgement,
    ControlException,
    Incident,
    RefKind,
    Risk,
    VendorReview,
    kind_named,
    unresolved,
)

RISK: dict[str, Any] = {"id": "R-1", "title": "Cloud takeover", "likelihood": 3, "impact": 4}
DETECTED = datetime(2026, 3, 1, 9, tzinfo=UTC)


def _problems(error: pytest.ExceptionInfo[ValidationError]) -> set[tuple[str, ...]]:
    return {tuple(str(p) for p in e["loc"]) for e in error.value.errors()}


@pytest.mark.parametrize("field", ["likelihood", "impact"])
@pytest.mark.parametrize("score", [0, 6, -1])
def test_a_score_outside_one_to_five_is_refused(field: str, score: int) -> None:
    with pytest.raises(ValidationError) as error:
        Risk.model_validate({**RISK, field: score})
    assert _problems(error) == {(field,)}


@pytest.mark.parametrize("score", [1, 5])
def test_scores_at_both_ends_are_taken(score: int) -> None:
    risk = Risk.model_validate({**RISK, "likelihood": score, "impact": score})
    assert risk.inherent_score == score * score


def test_a_residual_score_needs_both_of_its_halves() -> None:
    for half in ("residual_likelihood", "residual_impact"):
        with pytest.raises(ValidationError, match="given together"):
            Risk.model_validate({**RISK, half: 2})
    with pytest.raises(ValidationError) as error:
        Risk.model_validate({**RISK, "residual_likelihood": 2, "residual_impact": 9})
    assert _problems(error) == {("residual_impact",)}


def test_the_residual_score_is_the_inherent_one_until_assessed() -> None:
    assert Risk.model_validate(RISK).residual_score == 12
    assessed = Risk.model_validate({**RISK, "residual_likelihood": 1, "residual_impact": 4})
    assert (assessed.inherent_score, assessed.residual_score) == (12, 4)


def test_a_record_keeps_no_field_it_does_not_know() -> None:
    with pytest.raises(ValidationError) as error:
        Risk.model_validate({**RISK, "severity": "high"})
    assert _problems(error) == {("severity",)}


@pytest.mark.parametrize("key", ["", " ", "-R1", "R 1", "R/1", "x" * 65])
def test_a_key_must_be_a_plain_identifier(key: str) -> None:
    with pytest.raises(ValidationError) as error:
        Risk.model_validate({**RISK, "id": key})
    assert _problems(error) == {("id",)}


def test_keys_and_control_ids_are_tidied() -> None:
    risk = Risk.model_validate({**RISK, "id": "  R-1 ", "controls": ["ac-03", " gv-02 "]})
    assert (risk.key, risk.controls) == ("R-1", ("AC-03", "GV-02"))


def _incident(**times: datetime) -> dict[str, Any]:
    return {"id": "INC-1", "title": "Outage", "severity": "high", "detected_at": DETECTED, **times}


@pytest.mark.parametrize(
    ("times", "message"),
    [
        ({"contained_at": DETECTED.replace(hour=8)}, "contained_at is before detected_at"),
        ({"resolved_at": DETECTED.replace(hour=8)}, "resolved_at is before detected_at"),
        (
            {"contained_at": DETECTED.replace(hour=12), "resolved_at": DETECTED.replace(hour=11)},
            "resolved_at is before contained_at",
        ),
    ],
)
def test_incident_times_run_in_order(times: dict[str, datetime], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Incident.model_validate(_incident(**times))


def test_incident_times_in_order_or_equal_are_taken() -> None:
    same = Incident.model_validate(_incident(contained_at=DETECTED, resolved_at=DETECTED))
    assert same.resolved_at == DETECTED
    later = Incident.model_validate(_incident(resolved_at=DETECTED.replace(hour=17)))
    assert later.contained_at is None


def test_incident_times_with_and_without_a_zone_are_a_problem_not_a_crash() -> None:
    """A spreadsheet easily mixes '…+00:00' and a bare time; the record must say so."""
    with pytest.raises(ValidationError, match="time zone"):
        Incident.model_validate(_incident(contained_at=datetime(2026, 3, 1, 10)))


def test_a_postmortem_is_markdown_or_a_file() -> None:
    assert not Incident.model_validate(_incident(postmortem="  \n")).has_postmortem
    assert Incident.model_validate(_incident(postmortem="## Cause")).has_postmortem
    assert Incident.model_validate(_incident(postmortem_file="ab" * 32)).has_postmortem


@pytest.mark.parametrize("report", ["soc2_type2", "soc2_type1", "iso27001"])
def test_a_vendor_report_needs_the_end_of_its_period(report: str) -> None:
    with pytest.raises(ValidationError, match="report_period_end"):
        VendorReview.model_validate({"vendor": "AWS", "report": report})
    taken = VendorReview.model_validate(
        {"vendor": "AWS", "report": report, "report_period_end": date(2026, 3, 31)}
    )
    assert taken.key == "AWS"


def test_no_report_needs_no_period() -> None:
    assert VendorReview.model_validate({"vendor": "AWS"}).report_period_end is None


def test_a_report_period_runs_forwards() -> None:
    with pytest.raises(ValidationError, match="report_period_start is after report_period_end"):
        VendorReview.model_validate(
            {
                "vendor": "AWS",
                "report": "soc2_type2",
                "report_period_start": date(2026, 4, 1),
                "report_period_end": date(2026, 3, 31),
            }
        )


def test_an_offboarded_vendor_says_when() -> None:
    with pytest.raises(ValidationError, match="offboarded_on"):
        VendorReview.model_validate({"vendor": "Wiki", "status": "offboarded"})
    done = VendorReview.model_validate(
        {"vendor": "Wiki", "status": "offboarded", "offboarded_on": date(2026, 2, 1)}
    )
    assert done.offboarded_on == date(2026, 2, 1)


def _exception(**fields: Any) -> dict[str, Any]:
    return {
        "id": "EX-1",
        "control": "ac-09",
        "justification": "Being replaced",
        "starts": date(2026, 3, 1),
        "expires": date(2026, 6, 1),
        **fields,
    }


def test_an_exception_expires_on_or_after_it_starts() -> None:
    with pytest.raises(ValidationError, match="expires is before starts"):
        ControlException.model_validate(_exception(expires=date(2026, 2, 28)))
    one_day = ControlException.model_validate(_exception(expires=date(2026, 3, 1)))
    assert one_day.control == "AC-09"


def test_an_exception_is_in_force_only_approved_active_and_between_its_dates() -> None:
    approved = ControlException.model_validate(
        _exception(approver="dana@acme.example", approved_on=date(2026, 2, 27))
    )
    assert not approved.in_force(date(2026, 2, 28))
    assert approved.in_force(date(2026, 3, 1))
    assert approved.in_force(date(2026, 6, 1))
    assert not approved.in_force(date(2026, 6, 2))
    unapproved = ControlException.model_validate(_exception(approver="dana@acme.example"))
    assert not unapproved.in_force(date(2026, 4, 1))
    closed = ControlException.model_validate(
        _exception(approver="dana@acme.example", approved_on=date(2026, 2, 27), status="closed")
    )
    assert not closed.in_force(date(2026, 4, 1))


def test_an_acknowledgement_is_keyed_by_policy_version_and_person() -> None:
    made = Acknowledgement.model_validate(
        {
            "policy": "POL-01",
            "version": "2.0",
            "person": "Dana@Acme.example",
            "acknowledged_at": DETECTED,
        }
    )
    assert made.key == "POL-01@2.0:dana@acme.example"


def test_every_kind_lists_its_record_fields_as_columns_and_references_real_fields() -> None:
    for kind in KINDS.values():
        assert set(kind.columns) == set(kind.record.model_fields)
        assert set(kind.references) <= set(kind.columns), kind.name
    assert kind_named(" Risks ").name == "risks"
    with pytest.raises(InputError, match="unknown register 'rsks'"):
        kind_named("rsks")


KNOWN = {
    RefKind.PERSON: {"dana@acme.example"},
    RefKind.CONTROL: {"AC-09", "GV-02"},
    RefKind.VENDOR: {"Amazon Web Services"},
    RefKind.SYSTEM: {"aws"},
    RefKind.POLICY: {"POL-01"},
}


def _exists(ref: RefKind, value: str) -> bool:
    return value in KNOWN[ref]


def test_unresolved_names_every_unknown_person_control_vendor_system_and_policy() -> None:
    risk = KINDS["risks"].parse(
        {**RISK, "owner": "nobody@acme.example", "controls": ["GV-02", "ZZ-99"]}
    )
    assert list(unresolved(KINDS["risks"], risk, _exists)) == [
        ("owner", "unknown person 'nobody@acme.example'"),
        ("controls", "unknown control 'ZZ-99'"),
    ]
    asked = KINDS["user-entity-controls"].parse(
        {"id": "U-1", "vendor": "Ticketdesk", "description": "MFA", "control": "AC-09"}
    )
    assert list(unresolved(KINDS["user-entity-controls"], asked, _exists)) == [
        ("vendor", "unknown vendor 'Ticketdesk'")
    ]
    exception = KINDS["exceptions"].parse(_exception(systems=["aws", "gcp"], control="XX-01"))
    assert list(unresolved(KINDS["exceptions"], exception, _exists)) == [
        ("control", "unknown control 'XX-01'"),
        ("systems", "unknown system 'gcp'"),
    ]
    ack = KINDS["acknowledgements"].parse(
        {
            "policy": "POL-99",
            "version": "1",
            "person": "dana@acme.example",
            "acknowledged_at": DETECTED,
        }
    )
    assert list(unresolved(KINDS["acknowledgements"], ack, _exists)) == [
        ("policy", "unknown policy 'POL-99'")
    ]


def test_unresolved_is_silent_when_everything_is_known_or_absent() -> None:
    risk = KINDS["risks"].parse({**RISK, "owner": "dana@acme.example", "controls": ["AC-09"]})
    assert list(unresolved(KINDS["risks"], risk, _exists)) == []
    bare = KINDS["risks"].parse(RISK)
    assert list(unresolved(KINDS["risks"], bare, lambda _ref, _value: False)) == []
