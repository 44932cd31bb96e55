"""People: everything one person can reach across the systems, as ``assay identities person``
answers it, from a completed run's stored snapshots."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Schema

from assay.errors import InputError
from assay.inventory.replay import Reach, of_run, person_reach
from assay.web.api._base import RunId, completed_run, not_found, read
from assay.web.roles import PROGRAMME
from assay.web.views._common import programme


class PersonOut(Schema):
    who: str
    run: int
    accounts: list[Reach]
    """The rows of ``assay identities person``, field for field."""


class RunChoice(Schema):
    run: RunId | None = None
    """Default: the latest completed run."""


@read("/people/{who}", name="person", allowed=PROGRAMME, response=PersonOut, tag="people")
def person(request: HttpRequest, who: str, choice: Query[RunChoice]) -> dict[str, Any]:
    """Every account linked to the person (an e-mail or employee id) and what it holds."""
    run = completed_run(request, choice.run)
    inventory = of_run(programme(), run.pk)
    try:
        rows = person_reach(inventory, who)
    except InputError:
        raise not_found(f"person {who}") from None
    return {"who": who, "run": run.pk, "accounts": rows}
