"""The registers and owner evidence rebuilt from the locker, for ``assay evidence reindex``.

Every register change is a statement whose blob is the whole record after it, so the current
state is the last version of each record; every submission and decision is a statement too. A
decision names the submission it decides, or (recorded by a history import) applies to the latest
undecided submission for its window before it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from assay.evidence.locker import Locker, pack_name
from assay.evidence.statements import Statement
from assay.registers.models import Change, Record, Submission
from assay.registers.owner_evidence import STATEMENT_KIND as OWNER_EVIDENCE
from assay.registers.service import ATTACHMENT_KIND
from assay.registers.service import STATEMENT_KIND as REGISTER

KINDS = frozenset({REGISTER, OWNER_EVIDENCE, ATTACHMENT_KIND})
"""The statement kinds this rebuild reads (an attachment only for its statement id)."""


def rebuild(locker: Locker, statements: Sequence[tuple[int, str, Statement]]) -> tuple[int, int]:
    """Recreate ``Record``, ``Change`` and ``Submission`` rows from ``statements`` (leaf index,
    id and statement, in log order, of the kinds in ``KINDS``); return (changes, submissions).
    A pruned pack's changes are gone with it, and so are the rows it would have given."""
    read = [
        s
        for _, _, s in statements
        if s.kind != ATTACHMENT_KIND and locker.backend.exists(pack_name(s.pack))
    ]
    blobs = locker.blobs({s.sha256 for s in read}) if read else {}
    changes = submissions = 0
    latest: dict[tuple[str, str], Record] = {}
    # The files a submission cites are appended just before it, in its batch: the latest
    # attachment of each (about, sha-256) seen so far is the one it cites.
    files: dict[tuple[str, str], tuple[str, int]] = {}
    for index, identifier, statement in statements:
        if statement.kind == ATTACHMENT_KIND:
            about = str(statement.parameters.get("about"))
            files[(about, statement.sha256)] = (identifier, index)
            continue
        if statement.sha256 not in blobs:
            continue
        document: dict[str, Any] = json.loads(blobs[statement.sha256])
        if statement.kind == REGISTER:
            changes += 1
            _change(identifier, document, latest)
        elif document.get("action") == "submitted":
            submissions += 1
            _submitted(identifier, document, files)
        else:
            _decided(identifier, document)
    Record.objects.bulk_create(latest.values())
    return changes, submissions


def _change(
    identifier: str, document: dict[str, Any], latest: dict[tuple[str, str], Record]
) -> None:
    at = datetime.fromisoformat(document["at"])
    kind, key = str(document["register"]), str(document["key"])
    Change.objects.create(
        kind=kind,
        key=key,
        version=int(document["version"]),
        action=str(document["action"]),
        reason=str(document.get("reason", "")),
        author=str(document["author"]),
        at=at,
        statement_id=identifier,
        document=document["record"],
    )
    latest[(kind, key)] = Record(
        kind=kind,
        key=key,
        document=document["record"],
        version=int(document["version"]),
        statement_id=identifier,
        changed_at=at,
        changed_by=str(document["author"]),
    )


def _submitted(
    identifier: str, document: dict[str, Any], files: dict[tuple[str, str], tuple[str, int]]
) -> None:
    about = f"{OWNER_EVIDENCE}/{document['control']}/{document['window']}"
    Submission.objects.create(
        control_id=str(document["control"]),
        window=str(document["window"]),
        note=str(document.get("note", "")),
        files=[
            {**cited, "statement_id": found[0], "index": found[1]}
            for cited in document.get("files", ())
            if (found := files.get((about, cited["sha256"]))) is not None
        ],
        submitted_by=str(document["by"]),
        submitted_at=datetime.fromisoformat(document["at"]),
        statement_id=identifier,
    )


def _decided(identifier: str, document: dict[str, Any]) -> None:
    at = datetime.fromisoformat(document["at"])
    waiting = Submission.objects.filter(
        control_id=document["control"],
        window=document["window"],
        state=Submission.State.PENDING,
        submitted_at__lte=at,
    )
    if "submission" in document:
        waiting = waiting.filter(statement_id=document["submission"])
    found = waiting.order_by("-submitted_at", "-id").first()
    if found is None:
        return
    accepted = document.get("action") == "accepted"
    found.state = Submission.State.ACCEPTED if accepted else Submission.State.RETURNED
    found.decided_by = str(document["by"])
    found.decided_at = at
    found.reason = str(document.get("reason", ""))
    found.decision_statement_id = identifier
    found.save()
