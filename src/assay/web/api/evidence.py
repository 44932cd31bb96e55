"""Evidence: the statements the runs stored, and one statement with its inclusion proof in the
latest signed checkpoint (the same proof ``assay evidence prove`` prints)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import P, PathEx, Query, Schema

from assay.errors import AssayError, InputError, VerificationError
from assay.evidence import service
from assay.evidence.models import EvidenceItem
from assay.evidence.proofs import prove
from assay.web.api._base import Name, Page, Paging, RunId, filtered, not_found, page_of, read
from assay.web.roles import PROGRAMME
from assay.web.views._common import programme, visible_runs


class StatementOut(Schema):
    id: str
    run: int
    kind: str
    subject: str
    sha256: str
    size: int
    leaf_index: int
    collected_at: datetime


class StatementsPage(Page):
    items: list[StatementOut]


class StatementFilters(Paging):
    kind: Name | None = None
    run: RunId | None = None


def _statements(request: HttpRequest) -> QuerySet[EvidenceItem]:
    return EvidenceItem.objects.filter(run__in=visible_runs(request))


def _statement(item: EvidenceItem) -> dict[str, Any]:
    return {
        "id": item.statement_id,
        "run": item.run_id,
        "kind": item.kind,
        "subject": item.subject,
        "sha256": item.sha256,
        "size": item.size,
        "leaf_index": item.leaf_index,
        "collected_at": item.collected_at,
    }


@read("/evidence", name="statements", allowed=PROGRAMME, response=StatementsPage, tag="evidence")
def statements(request: HttpRequest, filters: Query[StatementFilters]) -> dict[str, Any]:
    """Statements in log order, of the runs the viewer may see."""
    rows = filtered(_statements(request), kind=filters.kind, run_id=filters.run)
    fields, shown = page_of(rows, filters)
    return {**fields, "items": [_statement(item) for item in shown]}


class ProofOut(Schema):
    statement: str
    index: int
    tree_size: int
    root: str
    checkpoint: int
    checkpoint_sha256: str
    proof: list[str]
    """RFC 9162 audit path, leaf to root, as hex."""


class StatementDetail(StatementOut):
    proof: ProofOut | None
    proof_problem: str | None
    """Why there is no proof: not yet in a checkpoint, or the proof did not verify."""


@read(
    "/evidence/{statement_id}",
    name="statement",
    allowed=PROGRAMME,
    response=StatementDetail,
    tag="evidence",
)
def statement(
    request: HttpRequest, statement_id: PathEx[str, P(pattern=r"^[0-9a-f]{64}$")]
) -> dict[str, Any]:
    item = _statements(request).filter(statement_id=statement_id).first()
    if item is None:
        raise not_found(f"statement {statement_id}")
    proof: dict[str, Any] | None = None
    problem = None
    try:
        proof = prove(service.open_locker(programme()), item.statement_id).to_dict()
    except InputError:
        problem = "not in the latest signed checkpoint yet"
    except VerificationError as error:
        problem = str(error)
    except (AssayError, OSError):
        problem = "the locker could not be read ('assay verify' says why)"
    return {**_statement(item), "proof": proof, "proof_problem": problem}
