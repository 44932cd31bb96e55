"""The identity graph of a run, rebuilt from the evidence it stored.

Nothing is asked of the sources: each snapshot's manifest and payloads are read back from the
locker and parsed by the connector that collected them, so an answer about who could reach what
is as replayable as a check's verdict.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from assay.connectors.base import ConnectorConfig, RawPayload
from assay.connectors.registry import parser_for
from assay.errors import InputError
from assay.evidence.locker import Locker
from assay.inventory.correlation import Link, correlate_for
from assay.inventory.records import Account, Entitlement, Grant, Person, Records, Tri
from assay.programme.model import Programme


@dataclass(frozen=True)
class Inventory:
    run_id: int
    people: tuple[Person, ...]
    links: tuple[Link, ...]
    records: dict[str, Records] = field(default_factory=dict)
    """Records per system id."""

    def grants_of(self, account: Account) -> list[tuple[Grant, Entitlement | None]]:
        return list(self._grants.get((account.system_id, account.account_id), ()))

    def links_of(self, person: Person) -> list[Link]:
        """The accounts linked to ``person``, in link order."""
        return list(self._links_by_person.get(person, ()))

    def person_named(self, who: str) -> Person | None:
        """The roster person whose e-mail or employee id is ``who`` (any case)."""
        return self._people_by_key.get(who.lower())

    def person_of_account(self, system_id: str, login: str) -> Person | None:
        """The person the account ``login`` (its username or id) on ``system_id`` is linked to."""
        return self._people_by_account.get((system_id, login.lower()))

    @functools.cached_property
    def _people_by_key(self) -> dict[str, Person]:
        index: dict[str, Person] = {}
        for person in reversed(self.people):  # the first on the roster wins, as it did
            index[person.employee_id.lower()] = person
            index[person.email.lower()] = person
        return index

    @functools.cached_property
    def _people_by_account(self) -> dict[tuple[str, str], Person]:
        index: dict[tuple[str, str], Person] = {}
        for link in self.links:
            if link.person is not None:
                account = link.account
                index[(account.system_id, account.account_id.lower())] = link.person
                index[(account.system_id, account.username.lower())] = link.person
        return index

    @functools.cached_property
    def _grants(self) -> dict[tuple[str, str], list[tuple[Grant, Entitlement | None]]]:
        """Each account's grants with their entitlements, built once: a page about one person
        must not walk every grant of a large organisation."""
        index: dict[tuple[str, str], list[tuple[Grant, Entitlement | None]]] = defaultdict(list)
        for system_id, records in self.records.items():
            entitlements = {e.entitlement_id: e for e in records.entitlements}
            for grant in records.grants:
                entitlement = entitlements.get(grant.entitlement_id)
                index[(system_id, grant.account_id)].append((grant, entitlement))
        return index

    @functools.cached_property
    def _links_by_person(self) -> dict[Person, list[Link]]:
        index: dict[Person, list[Link]] = defaultdict(list)
        for link in self.links:
            if link.person is not None:
                index[link.person].append(link)
        return index


CACHED_INVENTORIES = 4
"""Rebuilt inventories kept in the process: a few, as one of a large organisation is big."""

_cache: OrderedDict[tuple[str, str, int], Inventory] = OrderedDict()
_cache_lock = threading.Lock()


def of_run(programme: Programme, run: int | None = None, *, back: int = 0) -> Inventory:
    """The identity graph of completed run ``run``; without one, of the latest completed run
    (``back`` runs before it). A completed run's evidence never changes, so the last few
    graphs rebuilt are kept, keyed by the locker, the programme (its correlation rules and
    connector settings shape the graph) and the run."""
    from assay.evidence import service
    from assay.evidence.models import EvidenceItem
    from assay.monitor.models import Run

    completed = Run.objects.filter(status=Run.Status.COMPLETED).values_list("pk", flat=True)
    if run is None:
        run = next(iter(completed[back : back + 1]), None)
        if run is None:
            raise InputError(str(programme.path), f"needs {back + 1} completed run(s)")
    elif not completed.filter(pk=run).exists():
        raise InputError(f"run {run}", "no such completed run")
    locker = service.open_locker(programme)
    fingerprint = hashlib.sha256(programme.model_dump_json().encode()).hexdigest()
    key = (locker.backend.location, fingerprint, run)
    with _cache_lock:
        if (cached := _cache.get(key)) is not None:
            _cache.move_to_end(key)
            return cached
    snapshots = EvidenceItem.objects.filter(run_id=run, kind="snapshot").values_list(
        "sha256", flat=True
    )
    inventory = rebuild(programme, locker, run, snapshots)
    # The lookups are built with the graph, so that an answer from the cache is quick.
    inventory._grants, inventory._links_by_person, inventory._people_by_key  # noqa: B018
    inventory._people_by_account  # noqa: B018
    with _cache_lock:
        _cache[key] = inventory
        while len(_cache) > CACHED_INVENTORIES:
            _cache.popitem(last=False)
    return inventory


def rebuild(
    programme: Programme, locker: Locker, run_id: int, snapshots: Iterable[str]
) -> Inventory:
    """Parse the given snapshot manifests (by sha-256) of ``run_id`` back into records."""
    manifests = {sha: json.loads(data) for sha, data in locker.blobs(set(snapshots)).items()}
    payload_shas = {p["sha256"] for m in manifests.values() for p in m["payloads"]}
    blobs = locker.blobs(payload_shas)
    records: dict[str, Records] = {}
    for manifest in manifests.values():
        records[manifest["system"]] = _parse(programme, manifest, blobs)
    roster_id = programme.people.source if programme.people else None
    roster = records.get(roster_id) if roster_id else None
    people = roster.people if roster else ()
    accounts = (a for system, r in records.items() if system != roster_id for a in r.accounts)
    return Inventory(
        run_id, people, tuple(correlate_for(programme.people, people, accounts)), records
    )


def _parse(programme: Programme, manifest: dict[str, Any], blobs: dict[str, bytes]) -> Records:
    system_id = manifest["system"]
    system = next((s for s in programme.systems if s.id == system_id), None)
    settings = dict(system.connector.settings) if system and system.connector else {}
    payloads = [
        RawPayload(p["name"], p["source"], blobs[p["sha256"]]) for p in manifest["payloads"]
    ]
    config = ConnectorConfig(
        system_id,
        manifest["mode"],
        settings,
        {},
        programme.base_dir,
        collected_at=datetime.fromisoformat(manifest["started_at"]),
    )
    return parser_for(manifest["connector"])(payloads, config)


@dataclass(frozen=True)
class Reach:
    """One account and what it holds, as a row of an answer."""

    person: str
    system: str
    account: str
    kind: str
    status: str
    privileged: str
    mfa: str
    how_linked: str
    entitlements: tuple[str, ...]


def _reach(inventory: Inventory, link: Link) -> Reach:
    account = link.account
    held = []
    for grant, entitlement in inventory.grants_of(account):
        name = entitlement.name if entitlement else grant.entitlement_id
        held.append(f"{name} (via {grant.via})" if grant.via else name)
    if link.person is not None:
        who = link.person.email
    elif link.service:
        who = "service account, owner unknown"
    else:
        who = "nobody (orphan)"
    return Reach(
        person=who,
        system=account.system_id,
        account=account.username,
        kind=account.kind.value,
        status=account.status.value,
        privileged=account.privileged.value,
        mfa=f"registered {account.mfa_registered.value}, enforced {account.mfa_enforced.value}",
        how_linked=link.method,
        entitlements=tuple(sorted(held)),
    )


def person_reach(inventory: Inventory, who: str) -> list[Reach]:
    """Everything one person can reach: every account linked to them, and what it holds."""
    person = inventory.person_named(who)
    if person is None:
        raise InputError(who, "no such person on the roster (give an e-mail or employee id)")
    return [_reach(inventory, link) for link in inventory.links_of(person)]


def system_reach(inventory: Inventory, system_id: str) -> list[Reach]:
    """Everyone who can reach one system: each account on it, and whose it is."""
    if system_id not in inventory.records:
        known = ", ".join(sorted(inventory.records))
        raise InputError(
            system_id, f"no snapshot of this system in run {inventory.run_id} ({known})"
        )
    by_system: dict[str, list[Link]] = defaultdict(list)
    for link in inventory.links:
        by_system[link.account.system_id].append(link)
    return [_reach(inventory, link) for link in by_system[system_id]]


def privileged_reach(inventory: Inventory) -> list[Reach]:
    """Every privileged account on every system (the population an auditor samples for
    privileged access), then those whose privilege the source leaves unknown."""
    known = [link for link in inventory.links if link.account.privileged == Tri.YES]
    unknown = [link for link in inventory.links if link.account.privileged == Tri.UNKNOWN]
    return [_reach(inventory, link) for link in (*known, *unknown)]
