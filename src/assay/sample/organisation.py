"""Write the Acme Cloud sample organisation."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import subprocess
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from assay.catalog import load_catalog
from assay.connectors.hr_csv import COLUMNS as ROSTER_COLUMNS
from assay.errors import InputError
from assay.programme.model import Registers
from assay.registers.windows import cadence_of, windows
from assay.sample.registers import (
    LEFT_OWNER_CONTROL,
    NEVER_ACKNOWLEDGED,
    OVERDUE_CONTROL,
    PART_OF_ROLE,
    write_registers,
)

DOMAIN = "acme.example"


def _names() -> tuple[tuple[str, str], ...]:
    """First and last names of the sample's people, one pair per person."""
    text = resources.files("assay.sample").joinpath("names.csv").read_text(encoding="utf-8")
    pairs = (line.split(",") for line in text.splitlines()[1:])
    return tuple((first, last) for first, last in pairs)


NAMES = _names()
"""(first, last) name pairs for made-up people, shared by the sample and the synthetic org."""

# (department, title, how many); the first person is the chief executive.
_DEPARTMENTS = (
    ("Leadership", "Executive", 3),
    ("Engineering", "Software engineer", 24),
    ("Security", "Security engineer", 3),
    ("Product", "Product manager", 5),
    ("Sales", "Account executive", 9),
    ("Customer Support", "Support specialist", 7),
    ("People", "People partner", 3),
    ("Finance", "Accountant", 3),
    ("Marketing", "Marketing manager", 3),
)

# Named people the planted problems are built around (indices into the roster).
OWNER, CTO = 0, 1
HEAD_OF_ENGINEERING, HEAD_OF_SECURITY = 3, 27
LEAVER_STILL_EVERYWHERE = 8  # engineer: left, still active in Okta, GitHub and AWS
LEAVER_CLEAN = 10  # engineer: left and fully deprovisioned
LEAVER_SUSPENDED = 40  # sales: left, Okta account suspended three days late
LEAVER_OKTA_ACTIVE = 45  # support: left, Okta account still active
LEAVER_CONTRACTOR = 20  # engineering contractor: left, deprovisioned
DEPROVISIONED_AFTER_HOURS = {LEAVER_CLEAN: 6, LEAVER_CONTRACTOR: 20, LEAVER_SUSPENDED: 75}
"""When Okta closed each leaver's account, in hours after the midnight ending their last day."""
ON_LEAVE = (12, 50)
CONTRACTORS = (20, 21, 22, 52)
OKTA_NO_FACTOR = 14  # no MFA factor at all
OKTA_QUESTION_ONLY = 44  # only a security question, which is not MFA
AWS_NO_MFA = 5  # console password, no MFA device
AWS_IDLE_KEY = 6  # second access key old and idle
GITHUB_ALIAS = 7  # signs in to GitHub as "ohx-dev", linked by an alias
GITHUB_NO_2FA_PERSON = 9  # GitHub organisation admin without 2FA
OKTA_DORMANT = 33  # product manager who has not signed in to Okta for four months
ROOT_USED_DAYS_AGO = 4  # the AWS root user signed in this week
BREAK_GLASS = f"breakglass@{DOMAIN}"  # declared emergency Okta account, used three days ago
SERVICE_OF_LEAVER = "metrics-exporter"  # AWS service account owned by someone who has left
LEAVER_DEPLOY_KEY = 7002  # GitHub deploy key on infra added by a leaver
UNOWNED_DEPLOY_KEY = 7003  # GitHub deploy key on infra that nobody added (added_by null)
EVERLASTING_TOKEN = 8002  # fine-grained token that never expires
BROAD_APP = 9002  # GitHub App installed on every repository
UNDECLARED_APP = "Figma"  # an Okta app that assay.yaml declares nowhere
BASTION_ENGINEERS = (4, 11)  # engineers with their own login on the bastion host


@dataclass(frozen=True)
class PlantedFinding:
    """A problem planted in the sample, as the run must report it."""

    check: str
    rule: str
    system: str
    subject: str


@dataclass(frozen=True)
class _Person:
    index: int
    employee_id: str
    first: str
    last: str
    department: str
    title: str
    manager: int | None

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def email(self) -> str:
        return f"{self.first}.{self.last}@{DOMAIN}".lower()

    @property
    def engineer(self) -> bool:
        return self.department in {"Engineering", "Security"}


def _people() -> list[_Person]:
    people: list[_Person] = []
    index = 0
    for department, title, count in _DEPARTMENTS:
        head = index
        for position in range(count):
            manager = (
                None if index == 0 else (head if position and department != "Leadership" else 0)
            )
            people.append(
                _Person(
                    index,
                    f"E{1001 + index}",
                    *NAMES[index],
                    department,
                    title if position or department == "Leadership" else f"Head of {department}",
                    manager,
                )
            )
            index += 1
    return people


PEOPLE = _people()
LEAVERS = (
    LEAVER_STILL_EVERYWHERE,
    LEAVER_CLEAN,
    LEAVER_SUSPENDED,
    LEAVER_OKTA_ACTIVE,
    LEAVER_CONTRACTOR,
)


def _login(person: _Person) -> str:
    return "ohx-dev" if person.index == GITHUB_ALIAS else f"{person.first}-{person.last}".lower()


def _iam_name(person: _Person) -> str:
    return f"{person.first}.{person.last}".lower()


_PLANTED: tuple[PlantedFinding, ...] = (
    PlantedFinding("mfa_enforced", "mfa_not_registered", "okta", PEOPLE[OKTA_NO_FACTOR].email),
    PlantedFinding("mfa_enforced", "mfa_not_registered", "okta", PEOPLE[OKTA_QUESTION_ONLY].email),
    PlantedFinding(
        "mfa_enforced", "mfa_not_registered", "github", _login(PEOPLE[GITHUB_NO_2FA_PERSON])
    ),
    PlantedFinding("mfa_enforced", "mfa_not_registered", "aws", _iam_name(PEOPLE[AWS_NO_MFA])),
    PlantedFinding(
        "leaver_access", "leaver_active_account", "okta", PEOPLE[LEAVER_STILL_EVERYWHERE].email
    ),
    PlantedFinding(
        "leaver_access", "leaver_active_account", "okta", PEOPLE[LEAVER_OKTA_ACTIVE].email
    ),
    PlantedFinding(
        "leaver_access", "leaver_active_account", "github", _login(PEOPLE[LEAVER_STILL_EVERYWHERE])
    ),
    PlantedFinding(
        "leaver_access", "leaver_active_account", "aws", _iam_name(PEOPLE[LEAVER_STILL_EVERYWHERE])
    ),
    PlantedFinding(
        "deprovisioning_delay",
        "late_deprovisioning",
        "okta",
        PEOPLE[LEAVER_STILL_EVERYWHERE].email,
    ),
    PlantedFinding(
        "deprovisioning_delay", "late_deprovisioning", "okta", PEOPLE[LEAVER_OKTA_ACTIVE].email
    ),
    PlantedFinding(
        "deprovisioning_delay", "late_deprovisioning", "okta", PEOPLE[LEAVER_SUSPENDED].email
    ),
    PlantedFinding(
        "privileged_mfa", "privileged_without_mfa", "github", _login(PEOPLE[GITHUB_NO_2FA_PERSON])
    ),
    PlantedFinding("dormant_accounts", "dormant_account", "okta", PEOPLE[OKTA_DORMANT].email),
    PlantedFinding("root_accounts", "root_recently_used", "aws", "<root_account>"),
    PlantedFinding("root_accounts", "root_recently_used", "okta", BREAK_GLASS),
    PlantedFinding("nonhuman_owners", "nonhuman_owner_left", "aws", SERVICE_OF_LEAVER),
    PlantedFinding(
        "nonhuman_owners", "nonhuman_owner_left", "github", f"deploy_key:{LEAVER_DEPLOY_KEY}"
    ),
    PlantedFinding(
        "nonhuman_owners", "nonhuman_without_owner", "github", f"deploy_key:{UNOWNED_DEPLOY_KEY}"
    ),
    PlantedFinding(
        "stale_credentials",
        "credential_never_expires",
        "github",
        f"fine_grained_pat:{EVERLASTING_TOKEN}",
    ),
    PlantedFinding(
        "third_party_grants", "broad_third_party_grant", "github", f"app_installation:{BROAD_APP}"
    ),
    PlantedFinding("branch_protection", "branch_unprotected", "github", "acme/infra@main"),
    PlantedFinding("scope_drift", "undeclared_system", "okta", UNDECLARED_APP),
    PlantedFinding("root_accounts", "root_has_keys", "bastion", "root"),
    PlantedFinding("shared_accounts", "shared_account", "bastion", "deploy"),
    PlantedFinding("orphan_accounts", "orphan_account", "okta", f"temp.admin@{DOMAIN}"),
    PlantedFinding("orphan_accounts", "orphan_account", "github", "zed-builds"),
    PlantedFinding("orphan_accounts", "orphan_account", "aws", "legacy-backup"),
    PlantedFinding("stale_credentials", "key_not_rotated", "aws", "ci-deploy:access_key_1"),
    PlantedFinding(
        "stale_credentials",
        "key_not_rotated",
        "aws",
        f"{_iam_name(PEOPLE[AWS_IDLE_KEY])}:access_key_2",
    ),
    PlantedFinding(
        "stale_credentials", "key_unused", "aws", f"{_iam_name(PEOPLE[AWS_IDLE_KEY])}:access_key_2"
    ),
    PlantedFinding("change_review", "change_without_review", "app", "HOTFIX"),
    PlantedFinding("change_review", "change_self_reviewed", "app", "SELF-REVIEW"),
    PlantedFinding("scope_boundary", "customer_data_out_of_scope", "warehouse", "warehouse"),
)
"""Every planted problem; change subjects are placeholders for commit ids known at write time."""


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _okta_id(prefix: str, seed: str) -> str:
    return prefix + hashlib.sha256(seed.encode()).hexdigest()[:17]


class _Writer:
    def __init__(self, root: Path, today: date) -> None:
        self.root = root
        self.now = datetime(today.year, today.month, today.day, 9, 0, tzinfo=UTC)
        self.today = today

    def ago(self, days: int, hours: int = 0) -> datetime:
        return self.now - timedelta(days=days, hours=hours)

    def last_day(self, person: _Person) -> date:
        return self.today - timedelta(days=20 + person.index % 7)

    def deprovisioned(self, person: _Person) -> datetime:
        """When Okta closed a leaver's account (the time its statusChanged records)."""
        midnight = datetime.combine(self.last_day(person) + timedelta(days=1), time(), UTC)
        return midnight + timedelta(hours=DEPROVISIONED_AFTER_HOURS[person.index])

    def write(self, relative: str, content: str | bytes) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)

    def json(self, relative: str, value: Any) -> None:
        self.write(relative, json.dumps(value, indent=2) + "\n")

    # --- HR ---------------------------------------------------------------------------------
    def roster(self) -> None:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([*ROSTER_COLUMNS, "location"])
        for person in PEOPLE:
            status = "active"
            end = ""
            if person.index in LEAVERS:
                status = "terminated"
                end = self.last_day(person).isoformat()
            elif person.index in ON_LEAVE:
                status = "leave"
            writer.writerow(
                [
                    person.employee_id,
                    person.email,
                    person.name,
                    PEOPLE[person.manager].email if person.manager is not None else "",
                    person.department,
                    person.title,
                    "contractor" if person.index in CONTRACTORS else "employee",
                    status,
                    (
                        self.today - timedelta(days=200 + 37 * (len(PEOPLE) - person.index))
                    ).isoformat(),
                    end,
                    "Remote",
                ]
            )
        self.write("exports/hr/roster.csv", out.getvalue())

    # --- Okta -------------------------------------------------------------------------------
    def _okta_user(
        self,
        uid: str,
        login: str,
        first: str,
        last: str,
        status: str,
        employee_number: str | None,
        last_login_days: int | None,
        status_changed: datetime | None = None,
    ) -> dict[str, Any]:
        return {
            "id": uid,
            "status": status,
            "created": _stamp(self.ago(700)),
            "activated": _stamp(self.ago(699)),
            "statusChanged": _stamp(status_changed or self.ago(699)),
            "lastLogin": _stamp(self.ago(last_login_days, 3))
            if last_login_days is not None
            else None,
            "lastUpdated": _stamp(self.ago(2)),
            "passwordChanged": _stamp(self.ago(80)),
            "type": {"id": "oty1a2b3c4d5e6f7g8h9"},
            "profile": {
                "firstName": first,
                "lastName": last,
                "mobilePhone": None,
                "secondEmail": None,
                "login": login,
                "email": login,
                "employeeNumber": employee_number,
            },
            "credentials": {"provider": {"type": "OKTA", "name": "OKTA"}},
            "_links": {"self": {"href": f"https://acme.okta.com/api/v1/users/{uid}"}},
        }

    def _factor(self, uid: str, factor_type: str, status: str = "ACTIVE") -> dict[str, Any]:
        provider = "FIDO" if factor_type == "webauthn" else "OKTA"
        return {
            "id": _okta_id("fuf", uid + factor_type),
            "factorType": factor_type,
            "provider": provider,
            "vendorName": provider,
            "status": status,
            "created": _stamp(self.ago(600)),
            "lastUpdated": _stamp(self.ago(600)),
            "profile": {},
            "_links": {"self": {"href": f"https://acme.okta.com/api/v1/users/{uid}/factors"}},
        }

    def okta(self) -> None:
        users = []
        factor_kinds = ("push", "token:software:totp", "webauthn")
        for person in PEOPLE:
            uid = _okta_id("00u", person.email)
            status = "ACTIVE"
            if person.index in (LEAVER_CLEAN, LEAVER_CONTRACTOR):
                status = "DEPROVISIONED"
            elif person.index == LEAVER_SUSPENDED:
                status = "SUSPENDED"
            users.append(
                self._okta_user(
                    uid,
                    person.email,
                    person.first,
                    person.last,
                    status,
                    person.employee_id,
                    120 if person.index == OKTA_DORMANT else 1 + person.index % 5,
                    self.deprovisioned(person) if status != "ACTIVE" else None,
                )
            )
            if person.index == OKTA_NO_FACTOR or status == "DEPROVISIONED":
                factors: list[dict[str, Any]] = []
            elif person.index == OKTA_QUESTION_ONLY:
                factors = [self._factor(uid, "question")]
            else:
                factors = [self._factor(uid, factor_kinds[person.index % 3])]
                if person.index % 4 == 0:
                    factors.append(self._factor(uid, "sms", "PENDING_ACTIVATION"))
            self.json(f"exports/okta/factors/{uid}.json", factors)
        for login, first, last, last_login_days in (
            (f"temp.admin@{DOMAIN}", "Temp", "Admin", 4),
            (f"scim-provisioner@{DOMAIN}", "SCIM", "Provisioner", 4),
            (BREAK_GLASS, "Break", "Glass", 3),
        ):
            uid = _okta_id("00u", login)
            users.append(self._okta_user(uid, login, first, last, "ACTIVE", None, last_login_days))
            self.json(
                f"exports/okta/factors/{uid}.json", [self._factor(uid, "token:software:totp")]
            )
        self.json("exports/okta/users.json", users)
        apps = [
            ("0oa1slack", "Slack", "ACTIVE"),
            ("0oa2aws", "Amazon Web Services", "ACTIVE"),
            ("0oa3github", "GitHub", "ACTIVE"),
            ("0oa4figma", UNDECLARED_APP, "ACTIVE"),
            ("0oa5wiki", "Old Wiki", "INACTIVE"),
        ]
        self.json(
            "exports/okta/apps.json",
            [
                {
                    "id": app_id,
                    "name": label.lower().replace(" ", "_"),
                    "label": label,
                    "status": status,
                    "created": _stamp(self.ago(400)),
                    "lastUpdated": _stamp(self.ago(40)),
                    "signOnMode": "SAML_2_0",
                }
                for app_id, label, status in apps
            ],
        )
        self.json(
            "exports/okta/sign-on-policy-rules.json",
            [
                {
                    "id": "0pr1signonmfa0000001",
                    "type": "SIGN_ON",
                    "name": "Require MFA everywhere",
                    "status": "ACTIVE",
                    "priority": 1,
                    "system": False,
                    "conditions": {
                        "people": {"users": {"exclude": []}},
                        "network": {"connection": "ANYWHERE"},
                    },
                    "actions": {
                        "signon": {
                            "access": "ALLOW",
                            "requireFactor": True,
                            "factorPromptMode": "ALWAYS",
                            "rememberDeviceByDefault": False,
                            "session": {
                                "usePersistentCookie": False,
                                "maxSessionIdleMinutes": 120,
                                "maxSessionLifetimeMinutes": 720,
                            },
                        }
                    },
                }
            ],
        )

    # --- GitHub -----------------------------------------------------------------------------
    def _github_user(self, login: str, kind: str = "User") -> dict[str, Any]:
        uid = int(hashlib.sha256(login.encode()).hexdigest()[:7], 16)
        return {
            "login": login,
            "id": uid,
            "node_id": f"MDQ6VXNlcj{uid}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
            "url": f"https://api.github.com/users/{login}",
            "html_url": f"https://github.com/{login}",
            "type": kind,
            "site_admin": False,
        }

    def github(self) -> None:
        members = [
            self._github_user(_login(p))
            for p in PEOPLE
            if p.engineer and p.index not in (LEAVER_CLEAN, LEAVER_CONTRACTOR)
        ]
        members.append(self._github_user("zed-builds"))
        members.append(self._github_user("acme-release-bot", "Bot"))
        self.json("exports/github/members.json", members)
        self.json(
            "exports/github/members-2fa_disabled.json",
            [self._github_user(_login(PEOPLE[GITHUB_NO_2FA_PERSON]))],
        )
        admins = [
            PEOPLE[HEAD_OF_ENGINEERING],
            PEOPLE[HEAD_OF_SECURITY],
            PEOPLE[GITHUB_NO_2FA_PERSON],
        ]
        self.json(
            "exports/github/members-admin.json", [self._github_user(_login(p)) for p in admins]
        )
        self.github_credentials_and_branches()

    def github_credentials_and_branches(self) -> None:
        """Repositories, deploy keys, tokens, app installations and branch protection."""
        self.json("exports/github/outside_collaborators.json", [])
        self.json("exports/github/outside_collaborators-2fa_disabled.json", [])
        self.json(
            "exports/github/repos.json",
            [
                {
                    "id": 501,
                    "name": name,
                    "full_name": f"acme/{name}",
                    "private": True,
                    "archived": False,
                    "default_branch": "main",
                }
                for name in ("app", "infra")
            ],
        )
        engineer = _login(PEOPLE[HEAD_OF_ENGINEERING])

        def deploy_key(key_id: int, added_by: str | None) -> dict[str, Any]:
            return {
                "id": key_id,
                "key": f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{key_id:08d}",
                "title": f"deploy {key_id}",
                "verified": True,
                "created_at": _stamp(self.ago(30)),
                "read_only": True,
                "added_by": added_by,
                "last_used": _stamp(self.ago(1)),
                "enabled": True,
            }

        self.json("exports/github/deploy-keys/app.json", [deploy_key(7001, engineer)])
        self.json(
            "exports/github/deploy-keys/infra.json",
            [
                deploy_key(LEAVER_DEPLOY_KEY, _login(PEOPLE[LEAVER_STILL_EVERYWHERE])),
                deploy_key(UNOWNED_DEPLOY_KEY, None),
            ],
        )

        def token(grant_id: int, owner: str, expires_at: datetime | None) -> dict[str, Any]:
            return {
                "id": grant_id,
                "owner": self._github_user(owner),
                "repository_selection": "subset",
                "permissions": {"repository": {"contents": "read", "metadata": "read"}},
                "access_granted_at": _stamp(self.ago(20)),
                "token_id": grant_id * 10,
                "token_name": f"token {grant_id}",
                "token_expired": False,
                "token_expires_at": _stamp(expires_at) if expires_at else None,
                "token_last_used_at": _stamp(self.ago(2)),
            }

        self.json(
            "exports/github/personal-access-tokens.json",
            [
                token(8001, engineer, self.ago(-60)),
                token(EVERLASTING_TOKEN, _login(PEOPLE[GITHUB_ALIAS]), None),
            ],
        )

        def installation(installation_id: int, slug: str, selection: str) -> dict[str, Any]:
            return {
                "id": installation_id,
                "account": self._github_user("acme", "Organization"),
                "repository_selection": selection,
                "app_id": installation_id + 100,
                "app_slug": slug,
                "target_type": "Organization",
                "permissions": {"contents": "read", "metadata": "read", "pull_requests": "write"},
                "created_at": _stamp(self.ago(300)),
                "updated_at": _stamp(self.ago(30)),
                "suspended_at": None,
            }

        self.json(
            "exports/github/installations.json",
            {
                "total_count": 2,
                "installations": [
                    installation(9001, "renovate", "selected"),
                    installation(BROAD_APP, "ci-insights", "all"),
                ],
            },
        )
        self.json(
            "exports/github/branch-protection/app.json",
            {
                "required_status_checks": {"strict": True, "contexts": ["ci"]},
                "enforce_admins": {"enabled": True},
                "required_pull_request_reviews": {
                    "dismiss_stale_reviews": True,
                    "require_code_owner_reviews": False,
                    "required_approving_review_count": 1,
                },
            },
        )
        self.json(
            "exports/github/branch-protection/infra.json",
            {"message": "Branch not protected", "status": "404"},
        )
        # What the organisation's rulesets add to each default branch: on app, an organisation
        # ruleset against deleting or force-pushing it; on infra, nothing.
        self.json(
            "exports/github/branch-rules/app.json",
            [
                {
                    "type": rule,
                    "ruleset_source_type": "Organization",
                    "ruleset_source": "acme",
                    "ruleset_id": 7,
                }
                for rule in ("deletion", "non_fast_forward")
            ],
        )
        self.json("exports/github/branch-rules/infra.json", [])
        for name in ("app", "infra"):
            self.json(f"exports/github/pulls/{name}.json", [])

    # --- Linux ------------------------------------------------------------------------------
    def bastion(self) -> None:
        """A jump host: root takes a key, ``deploy`` is shared by two engineers' keys."""
        base = "exports/hosts/bastion"
        engineers = [PEOPLE[i] for i in BASTION_ENGINEERS]
        logins = [p.email.split("@", 1)[0] for p in engineers]
        passwd = [
            "root:x:0:0:root:/root:/bin/bash",
            "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin",
            "sshd:x:105:65534::/run/sshd:/usr/sbin/nologin",
            "deploy:x:1001:1001:Deploy:/home/deploy:/bin/bash",
            *(
                f"{login}:x:{1002 + n}:{1002 + n}:{p.name}:/home/{login}:/bin/bash"
                for n, (login, p) in enumerate(zip(logins, engineers, strict=True))
            ),
        ]
        self.write(f"{base}/etc/passwd", "\n".join(passwd) + "\n")
        groups = [
            "root:x:0:",
            "daemon:x:1:",
            f"sudo:x:27:{logins[0]}",
            "deploy:x:1001:",
            *(f"{login}:x:{1002 + n}:" for n, login in enumerate(logins)),
        ]
        self.write(f"{base}/etc/group", "\n".join(groups) + "\n")
        shadow = [f"{user.split(':', 1)[0]}:!:20000:0:99999:7:::" for user in passwd]
        self.write(f"{base}/etc/shadow", "\n".join(shadow) + "\n")
        self.write(f"{base}/etc/sudoers", "root ALL=(ALL:ALL) ALL\n%sudo ALL=(ALL:ALL) ALL\n")
        self.write(
            f"{base}/etc/ssh/sshd_config",
            "PermitRootLogin prohibit-password\nPasswordAuthentication no\n",
        )

        def key(number: int, holder: str) -> str:
            algorithm, point = b"ssh-ed25519", hashlib.sha256(f"key {number}".encode()).digest()
            blob = b"".join(len(part).to_bytes(4, "big") + part for part in (algorithm, point))
            return f"ssh-ed25519 {base64.b64encode(blob).decode()} {holder}\n"

        cto = PEOPLE[CTO].email
        self.write(f"{base}/root/.ssh/authorized_keys", key(1, cto))
        self.write(
            f"{base}/home/deploy/.ssh/authorized_keys",
            key(2, engineers[0].email) + key(3, engineers[1].email),
        )
        for n, (login, person) in enumerate(zip(logins, engineers, strict=True)):
            self.write(f"{base}/home/{login}/.ssh/authorized_keys", key(4 + n, person.email))

    # --- AWS --------------------------------------------------------------------------------
    def aws(self) -> None:
        header = [
            "user",
            "arn",
            "user_creation_time",
            "password_enabled",
            "password_last_used",
            "password_last_changed",
            "password_next_rotation",
            "mfa_active",
            "access_key_1_active",
            "access_key_1_last_rotated",
            "access_key_1_last_used_date",
            "access_key_1_last_used_region",
            "access_key_1_last_used_service",
            "access_key_2_active",
            "access_key_2_last_rotated",
            "access_key_2_last_used_date",
            "access_key_2_last_used_region",
            "access_key_2_last_used_service",
            "cert_1_active",
            "cert_1_last_rotated",
            "cert_2_active",
            "cert_2_last_rotated",
        ]
        account = "123456789012"

        def stamp(days: int) -> str:
            return self.ago(days).strftime("%Y-%m-%dT%H:%M:%S+00:00")

        def key(active: bool, rotated: int | None, used: int | None) -> list[str]:
            if rotated is None:
                return ["false", "N/A", "N/A", "N/A", "N/A"]
            used_cells = [stamp(used), "eu-west-1", "s3"] if used is not None else ["N/A"] * 3
            return ["true" if active else "false", stamp(rotated), *used_cells]

        def row(
            user: str,
            password: bool,
            mfa: bool,
            key1: list[str],
            key2: list[str],
            arn: str | None = None,
        ) -> list[str]:
            password_cells = [stamp(3), stamp(60), "N/A"] if password else ["N/A", "N/A", "N/A"]
            return [
                user,
                arn or f"arn:aws:iam::{account}:user/{user}",
                stamp(500),
                "true" if password else "false",
                *password_cells,
                "true" if mfa else "false",
                *key1,
                *key2,
                "false",
                "N/A",
                "false",
                "N/A",
            ]

        none = key(False, None, None)
        rows = [
            [
                "<root_account>",
                f"arn:aws:iam::{account}:root",
                stamp(900),
                "not_supported",
                stamp(ROOT_USED_DAYS_AGO),
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
        ]
        engineers = [
            p for p in PEOPLE if p.engineer and p.index not in (LEAVER_CLEAN, LEAVER_CONTRACTOR)
        ]
        for person in engineers[:12]:
            name = _iam_name(person)
            if person.index == LEAVER_STILL_EVERYWHERE:
                rows.append(row(name, False, False, key(True, 60, 25), none))
            elif person.index == AWS_NO_MFA:
                rows.append(row(name, True, False, none, none))
            elif person.index == AWS_IDLE_KEY:
                rows.append(row(name, True, True, key(True, 30, 1), key(True, 150, 130)))
            else:
                rows.append(
                    row(
                        name,
                        True,
                        True,
                        key(True, 20 + person.index, 1) if person.index % 2 else none,
                        none,
                    )
                )
        rows.append(row("ci-deploy", False, False, key(True, 200, 1), none))
        rows.append(row("legacy-backup", False, False, key(True, 30, 2), none))
        rows.append(row(SERVICE_OF_LEAVER, False, False, key(True, 10, 1), none))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        self.write("exports/aws/credential-report.csv", out.getvalue())

    # --- git ------------------------------------------------------------------------------
    def _git(self, repo: Path, *args: str, author: _Person, days: int, hours: int = 0) -> str:
        when = self.ago(days, hours).strftime("%Y-%m-%dT%H:%M:%S+0000")
        env = {
            **os.environ,
            "GIT_AUTHOR_DATE": when,
            "GIT_COMMITTER_DATE": when,
            "GIT_AUTHOR_NAME": author.name,
            "GIT_AUTHOR_EMAIL": author.email,
            "GIT_COMMITTER_NAME": author.name,
            "GIT_COMMITTER_EMAIL": author.email,
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(repo),
        }
        done = subprocess.run(
            ["git", "-C", str(repo), *args], env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise InputError(str(repo), f"git {args[0]} failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def repository(self, period_start: date) -> dict[str, str]:
        """A small service with reviewed merges, one direct hotfix and one self-reviewed merge."""
        repo = self.root / "repos" / "app"
        repo.mkdir(parents=True, exist_ok=True)
        first = PEOPLE[CTO]
        self._git(repo, "init", "--quiet", "--initial-branch=main", author=first, days=0)
        before_period = (self.today - period_start).days + 30
        self.write("repos/app/README.md", "# Acme app\n")
        self._git(repo, "add", "-A", author=first, days=before_period)
        self._git(
            repo, "commit", "--quiet", "-m", "Initial commit", author=first, days=before_period
        )
        engineers = [p for p in PEOPLE if p.department == "Engineering" and p.index not in LEAVERS]
        commits: dict[str, str] = {}
        for n in range(8):
            author, reviewer = engineers[n], engineers[n + 1]
            branch = f"feature-{n}"
            days = 100 - n * 11
            self._git(repo, "checkout", "--quiet", "-b", branch, author=author, days=days)
            self.write(f"repos/app/src/feature_{n}.py", f"FEATURE = {n}\n")
            self._git(repo, "add", "-A", author=author, days=days)
            self._git(repo, "commit", "--quiet", "-m", f"Add feature {n}", author=author, days=days)
            self._git(repo, "checkout", "--quiet", "main", author=author, days=days)
            reviewed_by = author if n == 5 else reviewer
            message = (
                f"Merge pull request #{n + 10} from acme/{branch}\n\n"
                f"Reviewed-by: {reviewed_by.name} <{reviewed_by.email}>"
            )
            self._git(
                repo,
                "merge",
                "--quiet",
                "--no-ff",
                "-m",
                message,
                branch,
                author=author,
                days=days,
                hours=-2,
            )
            if n == 5:
                commits["SELF-REVIEW"] = self._git(repo, "rev-parse", "HEAD", author=author, days=0)
            if n == 3:
                hotfix_author = engineers[9]
                self.write("repos/app/src/timeouts.py", "TIMEOUT_SECONDS = 45\n")
                self._git(repo, "add", "-A", author=hotfix_author, days=days - 2)
                self._git(
                    repo,
                    "commit",
                    "--quiet",
                    "-m",
                    "Hotfix: raise upstream timeout",
                    author=hotfix_author,
                    days=days - 2,
                )
                commits["HOTFIX"] = self._git(repo, "rev-parse", "HEAD", author=author, days=0)
        return commits

    # --- the programme file ------------------------------------------------------------------
    def programme(self, period_start: date, period_end: date) -> None:
        owner, cto = PEOPLE[OWNER], PEOPLE[CTO]
        security = next(p for p in PEOPLE if p.department == "Security")
        people_lead = next(p for p in PEOPLE if p.department == "People")
        parts = _parts()
        self.write(
            "assay.yaml",
            _PROGRAMME.format(
                owner_name=owner.name,
                owner=owner.email,
                cto=cto.email,
                security=security.email,
                people=people_lead.email,
                owners="\n".join(f"  {role}: {parts[part]}" for role, part in PART_OF_ROLE.items()),
                left_owner_control=LEFT_OWNER_CONTROL,
                left_owner=PEOPLE[LEAVER_CLEAN].email,
                start=period_start.isoformat(),
                end=period_end.isoformat(),
                alias_person=PEOPLE[GITHUB_ALIAS].email,
                leaver=PEOPLE[LEAVER_CLEAN].email,
            ),
        )

    def registers(self, period_start: date) -> None:
        roster = []
        for person in PEOPLE:
            status = "active"
            if person.index in LEAVERS:
                status = "terminated"
            elif person.index in ON_LEAVE:
                status = "leave"
            roster.append((person.index, person.email, status))
        write_registers(self.root, self.today, period_start, _parts(), roster)


def _parts() -> dict[str, str]:
    """Who holds each part of the programme in the sample (by the names registers use)."""
    people_lead = next(p for p in PEOPLE if p.department == "People")
    product_lead = next(p for p in PEOPLE if p.department == "Product")
    return {
        "owner": PEOPLE[OWNER].email,
        "security": PEOPLE[HEAD_OF_SECURITY].email,
        "engineering": PEOPLE[HEAD_OF_ENGINEERING].email,
        "infrastructure": PEOPLE[CTO].email,
        "it": PEOPLE[HEAD_OF_SECURITY + 1].email,
        "people": people_lead.email,
        "legal": PEOPLE[2].email,
        "privacy": PEOPLE[HEAD_OF_SECURITY + 2].email,
        "product": product_lead.email,
    }


_PROGRAMME = """\
# Acme Cloud: the bundled sample organisation for Assay. Its planted problems are listed in
# planted-problems.json beside this file; a run should report exactly those.
organisation: Acme Cloud Ltd
owner: {{name: {owner_name}, email: {owner}}}
audit:
  type: 2
  period: {{start: {start}, end: {end}}}
categories: [security, availability, confidentiality]

systems:
  - id: hr
    name: HR roster
    kind: hr
    owner: {people}
    in_scope: true
    reason: Source of truth for who works here; joiners and leavers start here
    customer_data: false
    connector: {{type: hr_csv, mode: export, settings: {{path: exports/hr/roster.csv}}}}
  - id: okta
    name: Okta
    kind: idp
    owner: {security}
    in_scope: true
    reason: Every employee signs in to company systems through Okta
    customer_data: false
    connector: {{type: okta, mode: export, settings: {{path: exports/okta}}}}
  - id: aws
    name: AWS production account
    kind: cloud
    owner: {cto}
    in_scope: true
    reason: Hosts the product and all customer data
    customer_data: true
    connector:
      type: aws_iam
      mode: export
      settings: {{path: exports/aws/credential-report.csv}}
  - id: github
    name: GitHub organisation acme
    kind: code
    owner: {cto}
    in_scope: true
    reason: Source code of the product; changes reach production from here
    customer_data: false
    connector: {{type: github, mode: export, settings: {{path: exports/github, org: acme}}}}
    seen_as: [GitHub]
  - id: bastion
    name: Bastion host
    kind: host
    owner: {cto}
    in_scope: true
    reason: The only way into the production network
    customer_data: false
    connector: {{type: linux, mode: export, settings: {{path: exports/hosts/bastion}}}}
  - id: app
    name: Product repository
    kind: code
    owner: {cto}
    in_scope: true
    reason: Change management evidence for the product
    customer_data: false
    connector: {{type: git, mode: export, settings: {{path: repos/app, branch: main}}}}
  - id: slack
    name: Slack
    kind: saas
    owner: {security}
    in_scope: false
    reason: Internal chat only; no customer data is allowed there by policy
    customer_data: false
  - id: warehouse
    name: Analytics warehouse
    kind: database
    owner: {cto}
    in_scope: false
    reason: Product analytics, thought to be outside the product boundary
    customer_data: true

owners:
{owners}
controls:
  {left_owner_control}: {{owner: {left_owner}}}

vendors:
  - name: Amazon Web Services
    services: [hosting]
    customer_data: true
    criticality: high
    owner: {cto}
    system: aws
  - name: Mend Renovate
    services: [renovate]
    customer_data: false
    criticality: low
    owner: {cto}
  - name: CI Insights
    services: [ci-insights]
    customer_data: false
    criticality: low
    owner: {cto}
  - name: Ticketdesk
    services: [customer support tickets]
    customer_data: true
    criticality: medium
    owner: {security}
  - name: Wikiworks
    services: [Old Wiki]
    customer_data: false
    criticality: low
    owner: {security}

people:
  source: hr
  username_rules: ["{{email_local}}", "{{first_initial}}{{last}}"]
  aliases:
    - system: github
      account: ohx-dev
      person: {alias_person}
      by: {security}
      reason: personal GitHub login, confirmed with its owner
  service_accounts:
    - {{system: aws, account: ci-deploy, owner: {cto}, purpose: CI deploys to production}}
    - {{system: github, account: acme-release-bot, owner: {cto}, purpose: tags releases}}
    - {{system: aws, account: metrics-exporter, owner: {leaver}, purpose: exports metrics}}
    - {{system: bastion, account: deploy, owner: {cto}, purpose: deploys to production hosts}}
    - system: okta
      account: scim-provisioner@acme.example
      owner: {security}
      purpose: SCIM provisioning
  break_glass:
    - system: okta
      account: breakglass@acme.example
      reason: Sealed emergency admin for when single sign-on itself is down
"""


def _planted_registers(period_start: date, period_end: date) -> tuple[PlantedFinding, ...]:
    catalog = load_catalog()
    first = windows(
        cadence_of(catalog.control(OVERDUE_CONTROL), catalog.control(OVERDUE_CONTROL).frequency),
        period_start,
        period_end,
        Registers().grace_days,
    )[0]
    return (
        PlantedFinding("control_owners", "owner_not_active", "programme", LEFT_OWNER_CONTROL),
        PlantedFinding("risk_register", "risk_review_overdue", "risks", "R-03"),
        PlantedFinding("risk_register", "high_risk_untreated", "risks", "R-04"),
        PlantedFinding("vendor_assurance", "vendor_report_expired", "vendors", "Ticketdesk"),
        PlantedFinding("vendor_assurance", "vendor_exception_unanswered", "vendors", "RE-02"),
        *(
            PlantedFinding(
                "policy_acknowledgement",
                "policy_not_acknowledged",
                "policies",
                f"POL-01:{PEOPLE[index].email}",
            )
            for index in NEVER_ACKNOWLEDGED
        ),
        PlantedFinding("exception_register", "exception_expired", "exceptions", "EX-01"),
        PlantedFinding("incident_register", "postmortem_missing", "incidents", "INC-02"),
        PlantedFinding(
            "owner_evidence",
            "evidence_overdue",
            "owner-evidence",
            f"{OVERDUE_CONTROL}@{first.label}",
        ),
    )


def write_sample(directory: Path, today: date | None = None) -> tuple[PlantedFinding, ...]:
    """Write the sample into ``directory`` (new or empty); return what is planted."""
    if directory.exists() and any(directory.iterdir()):
        raise InputError(str(directory), "directory is not empty; choose a new one")
    today = today or datetime.now(UTC).date()
    writer = _Writer(directory, today)
    period_start = today - timedelta(days=150)
    period_end = period_start + timedelta(days=364)
    writer.roster()
    writer.okta()
    writer.github()
    writer.aws()
    writer.bastion()
    commits = writer.repository(period_start)
    writer.programme(period_start, period_end)
    writer.registers(period_start)
    planted = tuple(
        PlantedFinding(p.check, p.rule, p.system, f"app@{commits[p.subject][:12]}")
        if p.check == "change_review"
        else p
        for p in _PLANTED
    ) + _planted_registers(period_start, period_end)
    writer.json("planted-problems.json", [asdict(p) for p in planted])
    return planted
