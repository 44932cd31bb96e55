"""A synthetic organisation of any size, for scale tests and benchmarks.

``generate`` writes a whole programme: ``assay.yaml``, an HR roster and vendor-native export files
for about twenty systems (Okta, Google Workspace, Entra ID, JumpCloud, GitHub, AWS IAM with its
group and policy listings, several PostgreSQL databases and several Linux hosts), so that 10,000
people give about a million grants and credentials. Everything is derived from the seed and a
person's index, and every file is written as a stream, one person at a time: nothing holds the
whole organisation in memory.

Problems are planted at a small rate, one kind per entry of ``PERSON_PLANTS`` (a person's account
made faulty) or ``EXTRA_PLANTS`` (an account that belongs to nobody). Each entry says what the run
must report, so ``planted-problems.json`` is computed from what was planted, never by running the
checks; everything not planted is clean (recent sign-ins, rotated keys, MFA on, leavers gone).
To add a kind of problem: write its findings function, register it, and make the writer of the
system it touches look for its name.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import random
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from assay.catalog import load_catalog
from assay.connectors.hr_csv import COLUMNS as ROSTER_COLUMNS
from assay.errors import InputError
from assay.sample.organisation import NAMES, PlantedFinding

DOMAIN = "synth.example"
PLANT_RATE = 0.002
"""Share of the people each kind of planted problem is given to (at least one each)."""

_FIXED_SYSTEMS = ("hr", "okta", "google", "entra", "jumpcloud", "github", "aws")
MIN_SYSTEMS = len(_FIXED_SYSTEMS) + 2
"""The fixed systems plus at least one database and one host."""

# (department, share in percent); engineers reach hosts, databases, GitHub, AWS and JumpCloud.
_DEPARTMENTS = (
    ("Engineering", 40),
    ("Data", 10),
    ("Sales", 15),
    ("Customer Support", 13),
    ("Product", 7),
    ("Finance", 5),
    ("People", 4),
    ("Marketing", 6),
)
_LEAVER_PERCENT = 3
_CONTRACTOR_PERCENT = 8

_ON_CALL_PERCENT = 25
"""Share of engineers with a local account on every host: the on-call rota. (Everyone else
reaches hosts through the directory, which a host's own files do not show.)"""
_HOST_TEAM_GROUPS = tuple(f"team-{n:02d}" for n in range(24))
_HOST_GROUPS_PER_USER = 10
_DB_TEAMS = tuple(f"team_{n:02d}" for n in range(16))
_DB_TEAMS_PER_USER = 6
_DB_PRIVILEGES = ("read", "write", "report")
"""Each team role inherits one role per privilege: ``read_team_03`` and so on."""
_AWS_TEAM_GROUPS = tuple(f"team-{n:02d}" for n in range(12))
_AWS_POLICIES_PER_GROUP = 3
_GRAPH = "5b000000-0000-0000-0000-00000000graph"
_GRAPH_SCOPES = ("User.Read", "Mail.Read", "Calendars.Read", "Files.Read")
_GOOGLE_APPS = ("zoomapp.example", "calendly.example", "miro.example")


@dataclass(frozen=True)
class Person:
    """One person, derived from the seed and an index alone."""

    index: int
    first: str
    last: str
    department: str
    contractor: bool
    leaver: bool
    start_days_ago: int
    plant: str | None
    """The planted problem this person carries, if any."""
    pick: bytes
    """Bytes from the person's hash, for further choices (groups, keys, admin rights)."""

    @property
    def employee_id(self) -> str:
        return f"E{100001 + self.index}"

    @property
    def username(self) -> str:
        return f"{self.first}.{self.last}.{self.index}".lower()

    @property
    def email(self) -> str:
        return f"{self.username}@{DOMAIN}"

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def engineer(self) -> bool:
        return self.department == "Engineering"

    @property
    def shell_name(self) -> str:
        """The username on hosts and databases: the e-mail's local part without punctuation."""
        return f"{self.first}{self.last}{self.index}".lower()

    def chance(self, position: int, percent: int) -> bool:
        return self.pick[position] % 100 < percent

    def choose(self, position: int, options: tuple[str, ...], count: int) -> list[str]:
        start = int.from_bytes(self.pick[position : position + 2], "big")
        return [options[(start + n * 7) % len(options)] for n in range(count)]


@dataclass(frozen=True)
class PersonPlant:
    """A problem planted on one person: who qualifies and what the run must report."""

    findings: Callable[[Org, Person], tuple[PlantedFinding, ...]]
    engineer: bool = False
    leaver: bool = False


@dataclass(frozen=True)
class Org:
    """What every writer needs: the size, the clock, the systems and the plan of plants."""

    seed: int
    people: int
    now: datetime
    databases: tuple[str, ...]
    hosts: tuple[str, ...]
    plan: Mapping[int, str]
    """Person index → the name of the person plant it carries."""
    extras: Mapping[str, int]
    """Extra plant name → how many such accounts to add."""

    @property
    def today(self) -> date:
        return self.now.date()

    def ago(self, days: int, hours: int = 0) -> datetime:
        return self.now - timedelta(days=days, hours=hours)

    def person(self, index: int) -> Person:
        pick = hashlib.blake2b(f"{self.seed}:{index}".encode(), digest_size=24).digest()
        plant = self.plan.get(index)
        rule = PERSON_PLANTS[plant] if plant else None
        department = _department(pick[0] % 100)
        if rule is not None and rule.engineer:
            department = "Engineering"
        first = NAMES[pick[3] % len(NAMES)][0]
        last = NAMES[pick[4] % len(NAMES)][1]
        leaver = index > 0 and pick[1] % 100 < _LEAVER_PERCENT and plant is None
        return Person(
            index=index,
            first="".join(c for c in first if c.isalpha()),
            last="".join(c for c in last if c.isalpha()),
            department="Leadership" if index == 0 else department,
            contractor=index > 0 and pick[2] % 100 < _CONTRACTOR_PERCENT,
            leaver=leaver or (rule is not None and rule.leaver),
            start_days_ago=100 + int.from_bytes(pick[5:7], "big") % 3000,
            plant=plant,
            pick=pick,
        )

    def everyone(self) -> Iterator[Person]:
        return (self.person(index) for index in range(self.people))

    def extra(self, name: str) -> range:
        return range(self.extras.get(name, 0))


def _department(roll: int) -> str:
    for department, share in _DEPARTMENTS:
        if roll < share:
            return department
        roll -= share
    raise AssertionError("department shares must add up to 100")


# --- identifiers shared by the writers and the planted findings --------------------------------


def _okta_id(person_key: str) -> str:
    return "00u" + hashlib.sha256(person_key.encode()).hexdigest()[:17]


def _google_id(index: int) -> str:
    return f"1{index:020d}"


def _entra_id(index: int) -> str:
    return f"00000000-0000-4000-8000-{index:012d}"


def _github_login(person: Person) -> str:
    return f"{person.first}-{person.last}-{person.index}".lower()


def _orphan_okta_login(n: int) -> str:
    return f"temp.admin.{n}@{DOMAIN}"


def _orphan_github_login(n: int) -> str:
    return f"zz-outside-{n}"


def _orphan_host_user(n: int) -> str:
    return f"tmpbuild{n}"


def _orphan_db_role(n: int) -> str:
    return f"etl_legacy_{n}"


def _unowned_bot(n: int) -> str:
    return f"synth-release-bot-{n}"


def _undeclared_app(n: int) -> str:
    return f"Unvetted App {n}"


def _shared_login(n: int) -> str:
    return f"shared-ops-{n}"


def _end_date(org: Org, p: Person) -> date:
    """A leaver's last day: within the last seven weeks, so inside the audit period."""
    return org.today - timedelta(days=20 + p.index % 30)


def _closed_at(org: Org, p: Person) -> datetime:
    """When a leaver's accounts were closed: two hours into the day after their last."""
    end = _end_date(org, p) + timedelta(days=1)
    return datetime(end.year, end.month, end.day, 2, tzinfo=UTC)


def _app_name(client_id: str) -> str:
    """The name people know a Google OAuth client by; each is declared as a vendor."""
    return client_id.split(".")[0].capitalize()


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


# --- planted problems -------------------------------------------------------------------------


def _okta_no_factor(org: Org, p: Person) -> tuple[PlantedFinding, ...]:
    return (PlantedFinding("mfa_enforced", "mfa_not_registered", "okta", p.email),)


def _google_not_enforced(org: Org, p: Person) -> tuple[PlantedFinding, ...]:
    return (PlantedFinding("mfa_enforced", "mfa_not_enforced", "google", p.email),)


def _okta_leaver_active(org: Org, p: Person) -> tuple[PlantedFinding, ...]:
    return (
        PlantedFinding("leaver_access", "leaver_active_account", "okta", p.email),
        PlantedFinding("deprovisioning_delay", "late_deprovisioning", "okta", p.email),
    )


def _google_leaver_token(org: Org, p: Person) -> tuple[PlantedFinding, ...]:
    subject = f"{_google_id(p.index)}:{_GOOGLE_APPS[0]}"
    return (PlantedFinding("leaver_access", "leaver_active_credential", "google", subject),)


def _aws_key_not_rotated(org: Org, p: Person) -> tuple[PlantedFinding, ...]:
    subject = f"{p.username}:access_key_1"
    return (PlantedFinding("stale_credentials", "key_not_rotated", "aws", subject),)


def _aws_key_unused(org: Org, p: Person) -> tuple[PlantedFinding, ...]:
    subject = f"{p.username}:access_key_2"
    return (PlantedFinding("stale_credentials", "key_unused", "aws", subject),)


def _okta_dormant(org: Org, p: Person) -> tuple[PlantedFinding, ...]:
    return (PlantedFinding("dormant_accounts", "dormant_account", "okta", p.email),)


def _github_admin_without_2fa(org: Org, p: Person) -> tuple[PlantedFinding, ...]:
    login = _github_login(p)
    return (
        PlantedFinding("mfa_enforced", "mfa_not_registered", "github", login),
        PlantedFinding("privileged_mfa", "privileged_without_mfa", "github", login),
    )


PERSON_PLANTS: Mapping[str, PersonPlant] = {
    "okta_no_factor": PersonPlant(_okta_no_factor),
    "google_not_enforced": PersonPlant(_google_not_enforced),
    "okta_leaver_active": PersonPlant(_okta_leaver_active, leaver=True),
    "google_leaver_token": PersonPlant(_google_leaver_token, leaver=True),
    "aws_key_not_rotated": PersonPlant(_aws_key_not_rotated, engineer=True),
    "aws_key_unused": PersonPlant(_aws_key_unused, engineer=True),
    "okta_dormant": PersonPlant(_okta_dormant),
    "github_admin_without_2fa": PersonPlant(_github_admin_without_2fa, engineer=True),
}
"""Problems planted on people, by the name their system's writer looks for."""


def _orphan_okta(org: Org, n: int) -> tuple[PlantedFinding, ...]:
    return (PlantedFinding("orphan_accounts", "orphan_account", "okta", _orphan_okta_login(n)),)


def _orphan_github(org: Org, n: int) -> tuple[PlantedFinding, ...]:
    login = _orphan_github_login(n)
    return (PlantedFinding("orphan_accounts", "orphan_account", "github", login),)


def _orphan_host(org: Org, n: int) -> tuple[PlantedFinding, ...]:
    user = _orphan_host_user(n)
    return (PlantedFinding("orphan_accounts", "orphan_account", org.hosts[0], user),)


def _orphan_database(org: Org, n: int) -> tuple[PlantedFinding, ...]:
    role = _orphan_db_role(n)
    return (PlantedFinding("orphan_accounts", "orphan_account", org.databases[0], role),)


def _unowned_service_account(org: Org, n: int) -> tuple[PlantedFinding, ...]:
    rule = "service_account_owner_unknown"
    return (PlantedFinding("orphan_accounts", rule, "github", _unowned_bot(n)),)


def _undeclared_okta_app(org: Org, n: int) -> tuple[PlantedFinding, ...]:
    return (PlantedFinding("scope_drift", "undeclared_system", "okta", _undeclared_app(n)),)


def _shared_host_login(org: Org, n: int) -> tuple[PlantedFinding, ...]:
    """A declared service login on the first host that two people's keys open."""
    login = _shared_login(n)
    return (PlantedFinding("shared_accounts", "shared_account", org.hosts[0], login),)


def _root_key(org: Org, n: int) -> tuple[PlantedFinding, ...]:
    """A key in the first host's root account (one finding however many keys)."""
    return (
        (PlantedFinding("root_accounts", "root_has_keys", org.hosts[0], "root"),) if n == 0 else ()
    )


EXTRA_PLANTS: Mapping[str, Callable[[Org, int], tuple[PlantedFinding, ...]]] = {
    "orphan_okta": _orphan_okta,
    "orphan_github": _orphan_github,
    "orphan_host": _orphan_host,
    "orphan_database": _orphan_database,
    "unowned_service_account": _unowned_service_account,
    "undeclared_okta_app": _undeclared_okta_app,
    "shared_host_login": _shared_host_login,
    "root_key": _root_key,
}
"""Accounts that belong to nobody on the roster, by the name their system's writer looks for."""


def _plan(seed: int, people: int) -> tuple[dict[int, str], dict[str, int]]:
    """Which people carry which plant (one each, never the owner), and how many extras."""
    count = max(1, round(people * PLANT_RATE))
    needed = count * len(PERSON_PLANTS)
    if people - 1 < needed:
        raise InputError("people", f"at least {needed + 1} people are needed to plant problems")
    chosen = random.Random(seed).sample(range(1, people), needed)
    names = list(PERSON_PLANTS)
    plan = {index: names[n % len(names)] for n, index in enumerate(chosen)}
    return plan, dict.fromkeys(EXTRA_PLANTS, count)


# --- writing ----------------------------------------------------------------------------------


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@contextmanager
def _open(path: Path) -> Iterator[IO[str]]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        yield out


@contextmanager
def _json_array(path: Path, *, head: str = "", tail: str = "") -> Iterator[Callable[[Any], None]]:
    """Write a JSON array one item at a time; ``head`` and ``tail`` wrap it in an object."""
    with _open(path) as out:
        out.write(f"{head}[")
        first = True

        def add(item: Any) -> None:
            nonlocal first
            out.write(("\n" if first else ",\n") + _compact(item))
            first = False

        yield add
        out.write(f"\n]{tail}\n")


@contextmanager
def _json_object(path: Path) -> Iterator[Callable[[str, Any], None]]:
    """Write a JSON object one member at a time."""
    with _open(path) as out:
        out.write("{")
        first = True

        def add(key: str, value: Any) -> None:
            nonlocal first
            out.write(("\n" if first else ",\n") + f"{_compact(key)}:{_compact(value)}")
            first = False

        yield add
        out.write("\n}\n")


def _write_json(path: Path, value: Any) -> None:
    with _open(path) as out:
        out.write(json.dumps(value, indent=2) + "\n")


def _roster(org: Org, root: Path) -> None:
    with _open(root / "exports/hr/roster.csv") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(ROSTER_COLUMNS)
        for p in org.everyone():
            manager = org.person((p.index - 1) // 8).email if p.index else ""
            writer.writerow(
                [
                    p.employee_id,
                    p.email,
                    p.name,
                    manager,
                    p.department,
                    "Engineer" if p.engineer else f"{p.department} specialist",
                    "contractor" if p.contractor else "employee",
                    "terminated" if p.leaver else "active",
                    (org.today - timedelta(days=p.start_days_ago)).isoformat(),
                    _end_date(org, p).isoformat() if p.leaver else "",
                ]
            )


def _okta(org: Org, root: Path) -> None:
    base = root / "exports/okta"

    def user(
        uid: str,
        login: str,
        first: str,
        last: str,
        employee: str | None,
        last_login: datetime,
        closed: datetime | None = None,
    ) -> dict[str, Any]:
        return {
            "id": uid,
            "status": "DEPROVISIONED" if closed else "ACTIVE",
            "created": _stamp(org.ago(800)),
            "activated": _stamp(org.ago(799)),
            "statusChanged": _stamp(closed or org.ago(799)),
            "lastLogin": _stamp(last_login),
            "lastUpdated": _stamp(closed or org.ago(2)),
            "passwordChanged": _stamp(org.ago(60)),
            "profile": {
                "firstName": first,
                "lastName": last,
                "login": login,
                "email": login,
                "employeeNumber": employee,
            },
            "credentials": {"provider": {"type": "OKTA", "name": "OKTA"}},
        }

    def factors(uid: str, kinds: tuple[str, ...]) -> None:
        with _open(base / "factors" / f"{uid}.json") as out:
            out.write(
                _compact(
                    [
                        {
                            "id": "fuf" + hashlib.sha256((uid + kind).encode()).hexdigest()[:17],
                            "factorType": kind,
                            "provider": "FIDO" if kind == "webauthn" else "OKTA",
                            "status": "ACTIVE",
                            "created": _stamp(org.ago(600)),
                        }
                        for kind in kinds
                    ]
                )
                + "\n"
            )

    kinds = ("push", "token:software:totp", "webauthn")
    with _json_array(base / "users.json") as add:
        for p in org.everyone():
            uid = _okta_id(p.email)
            closed = _closed_at(org, p) if p.leaver and p.plant != "okta_leaver_active" else None
            last_login = org.ago(120 if p.plant == "okta_dormant" else 1 + p.index % 6, 3)
            if closed is not None:
                last_login = closed - timedelta(days=1)
            add(user(uid, p.email, p.first, p.last, p.employee_id, last_login, closed))
            no_factor = p.plant == "okta_no_factor" or closed is not None
            factors(uid, () if no_factor else (kinds[p.pick[8] % 3],))
        for n in org.extra("orphan_okta"):
            login = _orphan_okta_login(n)
            uid = _okta_id(login)
            add(user(uid, login, "Temp", "Admin", None, org.ago(2)))
            factors(uid, ("token:software:totp",))
    declared = ("Google Workspace", "GitHub organisation", "AWS production account")
    apps = [*declared, *(_undeclared_app(n) for n in org.extra("undeclared_okta_app"))]
    _write_json(
        base / "apps.json",
        [
            {"id": f"0oa{n:017d}", "name": f"app_{n}", "label": label, "status": "ACTIVE"}
            for n, label in enumerate(apps)
        ],
    )
    _write_json(
        base / "sign-on-policy-rules.json",
        [
            {
                "id": "0pr1signonmfa0000001",
                "type": "SIGN_ON",
                "name": "Require MFA everywhere",
                "status": "ACTIVE",
                "priority": 1,
                "system": False,
                "conditions": {"network": {"connection": "ANYWHERE"}},
                "actions": {"signon": {"access": "ALLOW", "requireFactor": True}},
            }
        ],
    )


def _google(org: Org, root: Path) -> None:
    base = root / "exports/google"
    with _json_array(base / "users.json", head='{"users":', tail="}") as add:
        for p in org.everyone():
            uid = _google_id(p.index)
            add(
                {
                    "kind": "admin#directory#user",
                    "id": uid,
                    "primaryEmail": p.email,
                    "name": {"givenName": p.first, "familyName": p.last, "fullName": p.name},
                    "isAdmin": p.index == 0,
                    "isDelegatedAdmin": False,
                    "lastLoginTime": _stamp(org.ago(p.index % 7, 2)),
                    "creationTime": _stamp(org.ago(p.start_days_ago)),
                    "suspended": p.leaver,
                    "archived": False,
                    "isEnrolledIn2Sv": True,
                    "isEnforcedIn2Sv": p.plant != "google_not_enforced",
                    "customerId": "C0synth",
                }
            )
            if p.leaver and p.plant != "google_leaver_token":
                continue
            apps = _GOOGLE_APPS[: 1 if p.leaver else 1 + p.pick[9] % 3]
            _write_json(
                base / "tokens" / f"{uid}.json",
                {
                    "kind": "admin#directory#tokenList",
                    "items": [
                        {
                            "kind": "admin#directory#token",
                            "clientId": app,
                            "displayText": _app_name(app),
                            "scopes": ["openid", "https://www.googleapis.com/auth/userinfo.email"],
                            "userKey": uid,
                            "anonymous": False,
                            "nativeApp": False,
                        }
                        for app in apps
                    ],
                },
            )


def _entra(org: Org, root: Path) -> None:
    """Everyone outside engineering works in Microsoft 365 and consents to Graph scopes."""
    base = root / "exports/entra"
    office = [p.index for p in org.everyone() if not p.engineer]
    with _json_array(base / "users.json", head='{"value":', tail="}") as add:
        for index in office:
            p = org.person(index)
            add(
                {
                    "id": _entra_id(index),
                    "userPrincipalName": p.email,
                    "mail": p.email,
                    "displayName": p.name,
                    "accountEnabled": not p.leaver,
                    "userType": "Member",
                    "createdDateTime": _stamp(org.ago(p.start_days_ago)),
                    "signInActivity": {"lastSignInDateTime": _stamp(org.ago(index % 9, 1))},
                    "employeeId": p.employee_id,
                }
            )
    with _json_array(base / "registration.json", head='{"value":', tail="}") as add:
        for index in office:
            add(
                {
                    "id": _entra_id(index),
                    "userPrincipalName": org.person(index).email,
                    "isAdmin": index == 0,
                    "isMfaRegistered": True,
                    "methodsRegistered": ["microsoftAuthenticatorPush"],
                }
            )
    _write_json(base / "servicePrincipals.json", {"value": []})
    _write_json(base / "applications.json", {"value": []})
    _write_json(base / "conditionalAccessPolicies.json", {"value": []})
    with _json_array(base / "oauth2PermissionGrants.json", head='{"value":', tail="}") as add:
        for index in office:
            if org.person(index).leaver:
                continue  # consents are revoked when someone leaves
            add(
                {
                    "id": f"grant-{index}",
                    "clientId": "5b000000-0000-0000-0000-0000000office",
                    "consentType": "Principal",
                    "principalId": _entra_id(index),
                    "resourceId": _GRAPH,
                    "scope": " ".join(_GRAPH_SCOPES),
                }
            )


def _jumpcloud(org: Org, root: Path) -> None:
    """Engineers' laptops and directory: JumpCloud, with global sudo for a few."""
    total = 0
    with _json_array(
        root / "exports/jumpcloud/systemusers.json", head='{"results":', tail=""
    ) as add:
        for p in org.everyone():
            if not p.engineer:
                continue
            total += 1
            add(
                {
                    "_id": f"64b0c0ffee{p.index:014d}",
                    "username": p.shell_name,
                    "email": p.email,
                    "firstname": p.first,
                    "lastname": p.last,
                    "employeeIdentifier": p.employee_id,
                    "state": "SUSPENDED" if p.leaver else "ACTIVATED",
                    "activated": True,
                    "suspended": p.leaver,
                    "account_locked": False,
                    "sudo": p.chance(10, 5),
                    "passwordless_sudo": False,
                    "totp_enabled": True,
                    "mfa": {"configured": True, "exclusion": False},
                    "mfaEnrollment": {"overallStatus": "ENROLLED", "totpStatus": "ENROLLED"},
                    "created": _stamp(org.ago(p.start_days_ago)),
                }
            )
    _patch_tail(root / "exports/jumpcloud/systemusers.json", f',"totalCount":{total}}}\n')


def _patch_tail(path: Path, tail: str) -> None:
    """Finish a JSON object whose count was known only at the end of the stream."""
    with path.open("r+b") as out:
        out.seek(-1, 2)  # the newline after the array
        out.write(tail.encode())


def _github(org: Org, root: Path) -> None:
    base = root / "exports/github"

    def member(login: str, kind: str = "User") -> dict[str, Any]:
        uid = int(hashlib.sha256(login.encode()).hexdigest()[:8], 16)
        return {
            "login": login,
            "id": uid,
            "node_id": f"MDQ6VXNlcj{uid}",
            "url": f"https://api.github.com/users/{login}",
            "type": kind,
            "site_admin": False,
        }

    def engineers() -> Iterator[Person]:
        return (p for p in org.everyone() if p.engineer and not p.leaver)

    with _json_array(base / "members.json") as add:
        for p in engineers():
            add(member(_github_login(p)))
        for n in org.extra("orphan_github"):
            add(member(_orphan_github_login(n)))
        for n in org.extra("unowned_service_account"):
            add(member(_unowned_bot(n), "Bot"))
    with _json_array(base / "members-2fa_disabled.json") as add:
        for p in engineers():
            if p.plant == "github_admin_without_2fa":
                add(member(_github_login(p)))
    with _json_array(base / "members-admin.json") as add:
        for p in engineers():
            if p.plant == "github_admin_without_2fa" or p.chance(11, 1):
                add(member(_github_login(p)))


_AWS_ACCOUNT = "210987654321"
_AWS_SERVICES = ("svc-deploy", "svc-backup", "svc-metrics")
_REPORT_HEADER = (  # noqa: SIM905 - the report's header line, as AWS writes it
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
    "cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
).split(",")


def _aws(org: Org, root: Path) -> None:
    """Engineers as IAM users in groups with managed policies; three declared service users."""
    base = root / "exports/aws"

    def stamp(days: int) -> str:
        return org.ago(days).strftime("%Y-%m-%dT%H:%M:%S+00:00")

    def key(rotated: int | None, used: int = 1) -> list[str]:
        if rotated is None:
            return ["false", "N/A", "N/A", "N/A", "N/A"]
        return ["true", stamp(rotated), stamp(used), "eu-west-1", "s3"]

    def row(user: str, password: bool, mfa: bool, key1: list[str], key2: list[str]) -> list[str]:
        cells = [stamp(2), stamp(40), "N/A"] if password else ["N/A"] * 3
        return [
            user,
            f"arn:aws:iam::{_AWS_ACCOUNT}:user/{user}",
            stamp(900),
            "true" if password else "false",
            *cells,
            "true" if mfa else "false",
            *key1,
            *key2,
            "false",
            "N/A",
            "false",
            "N/A",
        ]

    def users() -> Iterator[tuple[str, Person | None]]:
        for p in org.everyone():
            if p.engineer and not p.leaver:
                yield p.username, p
        for name in _AWS_SERVICES:
            yield name, None

    def groups_of(p: Person | None) -> list[str]:
        if p is None:
            return []
        return ["developers", *p.choose(12, _AWS_TEAM_GROUPS, 2)] + (
            ["admins"] if p.chance(14, 2) else []
        )

    with _open(base / "credential-report.csv") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(_REPORT_HEADER)
        none = key(None)
        writer.writerow(
            [
                "<root_account>",
                f"arn:aws:iam::{_AWS_ACCOUNT}:root",
                stamp(2000),
                "not_supported",
                stamp(300),
                "not_supported",
                "not_supported",
                "true",
                *none,
                *none,
                "false",
                "N/A",
                "false",
                "N/A",
            ]
        )
        for name, p in users():
            if p is None:
                writer.writerow(row(name, False, False, key(10), none))
                continue
            key1 = key(200 if p.plant == "aws_key_not_rotated" else 5 + p.index % 60)
            if p.plant == "aws_key_unused":
                key2 = key(30, used=120)
            elif p.chance(15, 50):
                key2 = none
            else:
                key2 = key(1 + p.index % 80, used=p.index % 5)
            writer.writerow(row(name, True, True, key1, key2))

    def pages(key: str, values: list[Any]) -> list[dict[str, Any]]:
        return [{key: values, "IsTruncated": False}]

    def user_object(name: str) -> dict[str, Any]:
        return {
            "Path": "/",
            "UserName": name,
            "UserId": "AIDA" + hashlib.sha256(name.encode()).hexdigest()[:17].upper(),
            "Arn": f"arn:aws:iam::{_AWS_ACCOUNT}:user/{name}",
            "CreateDate": stamp(900),
        }

    with _json_array(
        base / "list-users.json", head='[{"IsTruncated":false,"Users":', tail="}]"
    ) as add:
        for name, _ in users():
            add(user_object(name))
    all_groups = ("developers", "admins", *_AWS_TEAM_GROUPS)
    _write_json(
        base / "list-groups.json",
        pages(
            "Groups",
            [
                {"Path": "/", "GroupName": g, "Arn": f"arn:aws:iam::{_AWS_ACCOUNT}:group/{g}"}
                for g in all_groups
            ],
        ),
    )
    with _json_object(base / "list-groups-for-user.json") as add_member:
        for name, p in users():
            add_member(
                name,
                pages(
                    "Groups",
                    [
                        {"GroupName": g, "Arn": f"arn:aws:iam::{_AWS_ACCOUNT}:group/{g}"}
                        for g in groups_of(p)
                    ],
                ),
            )
    with _json_object(base / "list-attached-user-policies.json") as add_member:
        for name, _ in users():
            add_member(name, pages("AttachedPolicies", []))
    with _json_object(base / "list-user-policies.json") as add_member:
        for name, _ in users():
            add_member(name, pages("PolicyNames", []))

    def policy(name: str, aws_managed: bool = False) -> dict[str, str]:
        owner = "aws" if aws_managed else _AWS_ACCOUNT
        return {"PolicyName": name, "PolicyArn": f"arn:aws:iam::{owner}:policy/{name}"}

    attached = {
        "developers": [policy("ReadOnlyAccess", aws_managed=True)],
        "admins": [policy("AdministratorAccess", aws_managed=True)],
    } | {g: [policy(f"{g}-{n}") for n in range(_AWS_POLICIES_PER_GROUP)] for g in _AWS_TEAM_GROUPS}
    _write_json(
        base / "list-attached-group-policies.json",
        {g: pages("AttachedPolicies", attached[g]) for g in all_groups},
    )
    _write_json(
        base / "list-group-policies.json", {g: pages("PolicyNames", []) for g in all_groups}
    )
    _write_json(base / "list-roles.json", pages("Roles", []))


_HOST_SYSTEM_USERS = (
    ("root", 0, "/root", "/bin/bash"),
    ("daemon", 1, "/usr/sbin", "/usr/sbin/nologin"),
    ("bin", 2, "/bin", "/usr/sbin/nologin"),
    ("sys", 3, "/dev", "/usr/sbin/nologin"),
    ("www-data", 33, "/var/www", "/usr/sbin/nologin"),
    ("sshd", 106, "/run/sshd", "/usr/sbin/nologin"),
    ("nobody", 65534, "/nonexistent", "/usr/sbin/nologin"),
)


def _ssh_key(seed: str, comment: str | None = None) -> str:
    """A well-formed ed25519 public key line whose key bytes are derived from ``seed``; its
    comment names the holder (``seed`` itself when none is given)."""
    kind = b"ssh-ed25519"
    blob = (
        len(kind).to_bytes(4, "big")
        + kind
        + (32).to_bytes(4, "big")
        + hashlib.sha256(seed.encode()).digest()
    )
    return f"ssh-ed25519 {base64.b64encode(blob).decode()} {comment or seed}"


def _host(org: Org, root: Path, host: str) -> None:
    """On-call engineers on a Linux host: a private group each, team groups, sudo for a few,
    SSH keys."""
    base = root / "exports/hosts" / host

    def accounts() -> Iterator[tuple[str, int, Person | None]]:
        for p in org.everyone():
            if p.engineer and not p.leaver and p.chance(21, _ON_CALL_PERCENT):
                yield p.shell_name, 10000 + p.index, p
        if host == org.hosts[0]:
            for n in org.extra("orphan_host"):
                yield _orphan_host_user(n), 5000 + n, None
            for n in org.extra("shared_host_login"):
                yield _shared_login(n), 6000 + n, None

    with _open(base / "etc/passwd") as passwd, _open(base / "etc/shadow") as shadow:
        for name, uid, home, shell in _HOST_SYSTEM_USERS:
            passwd.write(f"{name}:x:{uid}:{uid}:{name}:{home}:{shell}\n")
            shadow.write(f"{name}:{'!' if name == 'root' else '*'}:19000:0:99999:7:::\n")
        for name, uid, p in accounts():
            gecos = p.name if p else "build user"
            passwd.write(f"{name}:x:{uid}:{uid}:{gecos}:/home/{name}:/bin/bash\n")
            shadow.write(f"{name}:$6$s{uid}$h{uid}:19800:0:99999:7:::\n")
            if name.startswith("shared-ops-"):
                holders = (org.person(1).email, org.person(2).email)
                with _open(base / "home" / name / ".ssh/authorized_keys") as keys:
                    keys.writelines(_ssh_key(f"{name}:{h}", h) + "\n" for h in holders)
            if p is not None and p.chance(16, 30):
                with _open(base / "home" / name / ".ssh/authorized_keys") as keys:
                    keys.write(_ssh_key(f"{name}@{host}") + "\n")
    members: dict[str, list[str]] = {g: [] for g in ("sudo", "adm", *_HOST_TEAM_GROUPS)}
    with _open(base / "etc/group") as group:
        for name, uid, _home, _ in _HOST_SYSTEM_USERS:
            group.write(f"{name}:x:{uid}:\n")
        for name, uid, p in accounts():
            group.write(f"{name}:x:{uid}:\n")
            if p is None:
                continue
            for g in p.choose(17, _HOST_TEAM_GROUPS, _HOST_GROUPS_PER_USER):
                members[g].append(name)
            if p.chance(19, 3):
                members["sudo"].append(name)
        for gid, (g, names) in enumerate(members.items(), start=2000):
            group.write(f"{g}:x:{gid}:{','.join(names)}\n")
    if host == org.hosts[0] and org.extra("root_key"):
        with _open(base / "root/.ssh/authorized_keys") as keys:
            for n in org.extra("root_key"):
                keys.write(_ssh_key(f"root:{n}", org.person(0).email) + "\n")
    (base / "etc/sudoers").write_text(
        "Defaults\tenv_reset\nroot\tALL=(ALL:ALL) ALL\n%sudo\tALL=(ALL:ALL) ALL\n", encoding="utf-8"
    )
    (base / "etc/ssh").mkdir(parents=True, exist_ok=True)
    (base / "etc/ssh/sshd_config").write_text(
        "PermitRootLogin no\nPasswordAuthentication no\nUsePAM yes\n", encoding="utf-8"
    )


def _database(org: Org, root: Path, database: str) -> None:
    """Engineers and data people as login roles in team roles that inherit privilege roles."""
    base = root / "exports/databases" / database

    def logins() -> Iterator[tuple[str, Person | None]]:
        for p in org.everyone():
            if p.department in ("Engineering", "Data") and not p.leaver:
                yield p.shell_name, p
        if database == org.databases[0]:
            for n in org.extra("orphan_database"):
                yield _orphan_db_role(n), None

    def role(name: str, oid: int, *, login: bool, superuser: bool = False) -> dict[str, Any]:
        return {
            "rolname": name,
            "rolsuper": superuser,
            "rolinherit": True,
            "rolcreaterole": superuser,
            "rolcreatedb": superuser,
            "rolcanlogin": login,
            "rolreplication": superuser,
            "rolbypassrls": superuser,
            "rolvaliduntil": None,
            "oid": oid,
        }

    privilege_roles = [f"{kind}_{team}" for team in _DB_TEAMS for kind in _DB_PRIVILEGES]
    with _json_array(base / "roles.json") as add:
        add(role("postgres", 10, login=True, superuser=True))
        add(role("pg_read_all_data", 6181, login=False))
        for oid, name in enumerate((*_DB_TEAMS, *privilege_roles), start=20000):
            add(role(name, oid, login=False))
        for oid, (name, _) in enumerate(logins(), start=100000):
            add(role(name, oid, login=True))

    def edge(parent: str, member: str) -> dict[str, Any]:
        return {"role": parent, "member": member, "admin_option": False, "inherit_option": True}

    with _json_array(base / "memberships.json") as add:
        for team in _DB_TEAMS:
            for kind in _DB_PRIVILEGES:
                add(edge(f"{kind}_{team}", team))
        for name, p in logins():
            teams = p.choose(20, _DB_TEAMS, _DB_TEAMS_PER_USER) if p else [_DB_TEAMS[0]]
            for team in dict.fromkeys(teams):
                add(edge(team, name))
    _write_json(
        base / "server.json",
        {
            "version": "PostgreSQL 16.4 on x86_64-pc-linux-gnu",
            "server_version_num": 160004,
            "current_user": "assay_reader",
            "database": database,
            "now": org.now.isoformat(),
        },
    )


def _programme(org: Org, root: Path) -> None:
    owner = org.person(0)

    def system(sid: str, name: str, kind: str, connector: str, settings: str) -> str:
        customer_data = "true" if kind in ("cloud", "database") else "false"
        return (
            f"  - id: {sid}\n    name: {name}\n    kind: {kind}\n    owner: {owner.email}\n"
            "    in_scope: true\n    reason: Part of the synthetic product boundary\n"
            f"    customer_data: {customer_data}\n"
            f"    connector: {{type: {connector}, mode: export, settings: {{{settings}}}}}\n"
        )

    def service(system_id: str, account: str, owner_email: str, purpose: str) -> str:
        return (
            f"    - {{system: {system_id}, account: {account}, owner: {owner_email}, "
            f"purpose: {purpose}}}\n"
        )

    tenant = "tenant_id: 11111111-2222-3333-4444-555555555555"
    systems = [
        system("hr", "HR roster", "hr", "hr_csv", "path: exports/hr/roster.csv"),
        system("okta", "Okta", "idp", "okta", "path: exports/okta"),
        system("google", "Google Workspace", "idp", "google_workspace", "path: exports/google"),
        system("entra", "Microsoft Entra ID", "idp", "entra", f"path: exports/entra, {tenant}"),
        system("jumpcloud", "JumpCloud", "idp", "jumpcloud", "path: exports/jumpcloud"),
        system(
            "github", "GitHub organisation", "code", "github", "path: exports/github, org: synth"
        ),
        system("aws", "AWS production account", "cloud", "aws_iam", "path: exports/aws"),
        *(
            system(d, f"Database {d}", "database", "postgres", f"path: exports/databases/{d}")
            for d in org.databases
        ),
        *(
            system(h, f"Host {h}", "host", "linux", f"path: exports/hosts/{h}, host: {h}")
            for h in org.hosts
        ),
    ]
    services = [
        *(service("aws", name, owner.email, "automation") for name in _AWS_SERVICES),
        *(service(d, "postgres", owner.email, "database superuser") for d in org.databases),
        *(
            service("github", _unowned_bot(n), f"departed.{n}@{DOMAIN}", "release tags")
            for n in org.extra("unowned_service_account")
        ),
        *(
            service(org.hosts[0], _shared_login(n), owner.email, "operations")
            for n in org.extra("shared_host_login")
        ),
    ]
    vendors = [
        f"  - {{name: {_app_name(app)}, customer_data: false, criticality: low}}\n"
        for app in _GOOGLE_APPS
    ]
    roles = sorted({control.owner_role for control in load_catalog().controls})
    owners = "".join(f"  {role}: {owner.email}\n" for role in roles)
    start = org.today - timedelta(days=150)
    end = start + timedelta(days=364)
    text = (
        "# A synthetic organisation written by assay.sample.synthetic; the problems planted in it\n"
        "# are listed in planted-problems.json beside this file.\n"
        f"organisation: Synthetic Org {org.people} (seed {org.seed})\n"
        f"owner: {{name: {owner.name}, email: {owner.email}}}\n"
        f"audit:\n  type: 2\n  period: {{start: {start}, end: {end}}}\n"
        "categories: [security]\n\n"
        f"owners:\n{owners}"
        "# No owner evidence is due in the period: this organisation measures identity data.\n"
        "registers: {grace_days: 365}\n\n"
        f"vendors:\n{''.join(vendors)}\nsystems:\n{''.join(systems)}\n"
        'people:\n  source: hr\n  username_rules: ["{email_local}"]\n  service_accounts:\n'
        + "".join(services)
    )
    (root / "assay.yaml").write_text(text, encoding="utf-8")


def generate(
    directory: Path, *, people: int, systems: int = 20, seed: int = 0, today: date | None = None
) -> tuple[PlantedFinding, ...]:
    """Write the organisation into ``directory`` (new or empty); return what is planted."""
    if directory.exists() and any(directory.iterdir()):
        raise InputError(str(directory), "directory is not empty; choose a new one")
    if systems < MIN_SYSTEMS:
        raise InputError("systems", f"at least {MIN_SYSTEMS} systems are needed, got {systems}")
    day = today or datetime.now(UTC).date()
    spread = systems - len(_FIXED_SYSTEMS)
    plan, extras = _plan(seed, people)
    org = Org(
        seed=seed,
        people=people,
        now=datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC),
        databases=tuple(f"db-{n:02d}" for n in range(1, spread // 2 + 1)),
        hosts=tuple(f"host-{n:02d}" for n in range(1, spread - spread // 2 + 1)),
        plan=plan,
        extras=extras,
    )
    directory.mkdir(parents=True, exist_ok=True)
    _roster(org, directory)
    _okta(org, directory)
    _google(org, directory)
    _entra(org, directory)
    _jumpcloud(org, directory)
    _github(org, directory)
    _aws(org, directory)
    for database in org.databases:
        _database(org, directory, database)
    for host in org.hosts:
        _host(org, directory, host)
    _programme(org, directory)
    planted = sorted(
        {
            *(
                f
                for index, name in plan.items()
                for f in PERSON_PLANTS[name].findings(org, org.person(index))
            ),
            *(
                f
                for name, count in extras.items()
                for n in range(count)
                for f in EXTRA_PLANTS[name](org, n)
            ),
        },
        key=lambda f: (f.check, f.rule, f.system, f.subject),
    )
    _write_json(directory / "planted-problems.json", [asdict(f) for f in planted])
    return tuple(planted)
