"""The ldap connector against a real slapd (tests/connectors/slapd.py), and on LDIF files.

Two directories are served: an OpenLDAP-style one with 1,212 accounts (three pages of 500),
nested groups and accounts in every sign-in state its password policy knows, and an Active
Directory-shaped one. Export mode reads what ``ldapsearch`` itself
writes from the same server, and hand-written LDIF for what ``ldapsearch`` never writes.
"""

from __future__ import annotations

import base64
import dataclasses
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.connectors.slapd import (
    AD_BASE,
    ADMIN_PASSWORD,
    CAPPED_TOTAL,
    OPENLDAP_BASE,
    READER_PASSWORD,
    Slapd,
    free_port,
)

from assay.connectors import ldap, registry
from assay.connectors.base import Collected, ConnectorConfig, RawPayload
from assay.connectors.ldap import LdapConnector
from assay.errors import InputError
from assay.inventory.records import (
    Account,
    AccountKind,
    AccountStatus,
    Credential,
    Entitlement,
    Grant,
    Records,
    Tri,
)

YES, UNKNOWN = Tri.YES, Tri.UNKNOWN
ACTIVE, INACTIVE = AccountStatus.ACTIVE, AccountStatus.INACTIVE
SYSTEM = "dir"
BULK = 1200
PEOPLE = f"ou=people,{OPENLDAP_BASE}"
GROUPS = f"ou=groups,{OPENLDAP_BASE}"


LOCKED_HASH = "{CRYPT}!$6$Zq1salt$lockedhashlockedhash"
"""A hash locked the way ``usermod -L`` locks one: nothing can match it."""
SECRETS = (
    b"ada-password",
    b"bob-password",
    b"carol-password",
    b"frank-password",
    b"gina-password",
    b"hal-password",
    b"lockedhash",
    READER_PASSWORD.encode(),
)
"""Every password value the directory holds; none may reach a payload."""


def person(uid: str, cn: str, *extra: str, ou: str = PEOPLE) -> str:
    lines = [
        f"dn: uid={uid},{ou}",
        "objectClass: inetOrgPerson",
        f"uid: {uid}",
        f"cn: {cn}",
        f"sn: {cn.split()[-1]}",
        *extra,
    ]
    return "\n".join(lines) + "\n"


def group(cn: str, kind: str, attribute: str, *members: str) -> str:
    lines = [f"dn: cn={cn},{GROUPS}", f"objectClass: {kind}", f"cn: {cn}"]
    if kind == "posixGroup":
        lines.append("gidNumber: 5000")
    lines.extend(f"{attribute}: {member}" for member in members)
    return "\n".join(lines) + "\n"


def uid(name: str) -> str:
    return f"uid={name},{PEOPLE}"


def cn(name: str) -> str:
    return f"cn={name},{GROUPS}"


OPENLDAP_ENTRIES = [
    f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n",
    f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups\n",
    f"dn: ou=bulk,{OPENLDAP_BASE}\nobjectClass: organizationalUnit\nou: bulk\n",
    person(
        "ada",
        "Ada Lovelace",
        "displayName: Ada Lovelace",
        "mail: Ada.Lovelace@Example.ORG",
        "employeeNumber: E-001",
        "userPassword: ada-password",
        "description: " + "a line long enough that ldapsearch folds it " * 3,
    ),
    person("bob", "Bob Locked", "userPassword: bob-password"),
    person("carol", "Carol Timed", "userPassword: carol-password"),
    person("erin", "Erin Hashlocked", f"userPassword: {LOCKED_HASH}"),
    person("frank", "Frank Ended", "userPassword: frank-password", "pwdEndTime: 20200101000000Z"),
    person("gina", "Gina Later", "userPassword: gina-password", "pwdStartTime: 20990101000000Z"),
    person(
        "hal",
        "Hal Shadowed",
        "objectClass: shadowAccount",
        "userPassword: hal-password",
        "shadowExpire: 1",
    ),
    person("jose", "José Núñez", "mail: jose@example.org"),
    person("dave", "Dave Oncall"),
    (
        f"dn: uid=deploy,{PEOPLE}\nobjectClass: account\nobjectClass: posixAccount\nuid: deploy\n"
        "cn: deploy\nuidNumber: 900\ngidNumber: 900\nhomeDirectory: /srv/deploy\n"
    ),
    group("admins", "groupOfNames", "member", uid("ada"), cn("oncall")),
    group("oncall", "groupOfNames", "member", uid("dave")),
    group("engineering", "groupOfNames", "member", uid("carol"), cn("admins"), uid("ghost")),
    group("ops", "groupOfUniqueNames", "uniqueMember", cn("engineering"), uid("jose") + "#'0101'B"),
    group("deployers", "posixGroup", "memberUid", "deploy", "nobody"),
    group("loop-a", "groupOfNames", "member", cn("loop-b")),
    group("loop-b", "groupOfNames", "member", cn("loop-a"), uid("bob")),
    *(person(f"user{n:04d}", f"User {n}", ou=f"ou=bulk,{OPENLDAP_BASE}") for n in range(BULK)),
]
LOCKS = {"bob": "000001010000Z", "carol": "20240101000000Z"}
PEOPLE_AND_READERS = 12
BINDS = {
    "ada": "ada-password",
    "bob": "bob-password",
    "frank": "frank-password",
    "gina": "gina-password",
    "hal": "hal-password",
}
"""Who tries to bind, with what."""
HOLDERS = [
    *(uid(name) for name in ("ada", "bob", "carol", "erin", "frank", "gina", "hal")),
    f"cn=reader,{OPENLDAP_BASE}",
    f"cn=capped,{OPENLDAP_BASE}",
]
"""The entries that hold a userPassword."""


def filetime(moment: datetime) -> int:
    return (moment - datetime(1601, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 10


def sid(*parts: int) -> str:
    """A binary SID (S-1-5-…), base64 for LDIF."""
    data = bytes([1, len(parts) - 1]) + (5).to_bytes(6, "big")
    data += b"".join(part.to_bytes(4, "little") for part in parts[1:])
    assert parts[0] == 5
    return base64.b64encode(data).decode()


DOMAIN = (5, 21, 11, 22, 33)
LOGON = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
PASSWORD_SET = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
STAFF = f"ou=Staff,{AD_BASE}"


def ad_user(name: str, control: int, *extra: str, classes: str = "user") -> str:
    lines = [
        f"dn: CN={name},{STAFF}",
        "objectClass: top",
        "objectClass: person",
        "objectClass: organizationalPerson",
        *(f"objectClass: {c}" for c in classes.split()),
        f"cn: {name}",
        f"sn: {name}",
        f"sAMAccountName: {name.lower().replace(' ', '.')}",
        f"userAccountControl: {control}",
        *extra,
    ]
    return "\n".join(lines) + "\n"


def ad_group(name: str, group_sid: str, *members: str) -> str:
    lines = [f"dn: CN={name},{STAFF}", "objectClass: top", "objectClass: group", f"cn: {name}"]
    lines.append(f"objectSid:: {group_sid}")
    lines.extend(f"member: {member}" for member in members)
    return "\n".join(lines) + "\n"


AD_ENTRIES = [
    f"dn: {STAFF}\nobjectClass: organizationalUnit\nou: Staff\n",
    ad_user(
        "Administrator",
        0x10200,
        f"objectSid:: {sid(*DOMAIN, 500)}",
        "adminCount: 1",
        f"pwdLastSet: {filetime(PASSWORD_SET)}",
    ),
    ad_user(
        "Alice Admin",
        0x200,
        f"objectSid:: {sid(*DOMAIN, 1101)}",
        "primaryGroupID: 513",
        "employeeID: 1001",
        "employeeNumber: ignored-when-employeeID-is-there",
        "mail: Alice@Corp.Example",
        f"lastLogonTimestamp: {filetime(LOGON)}",
        f"pwdLastSet: {filetime(PASSWORD_SET)}",
    ),
    ad_user("Old Bob", 0x202, f"objectSid:: {sid(*DOMAIN, 1102)}", "pwdLastSet: 0"),
    ad_user("svc-backup", 0x200, "servicePrincipalName: backup/host.corp.example", "adminCount: 1"),
    ad_user("WS01", 0x1000, classes="user computer"),
    ad_group("Domain Admins", sid(*DOMAIN, 512), f"CN=Alice Admin,{STAFF}"),
    ad_group("Domain Users", sid(*DOMAIN, 513)),
    ad_group("Administrators", sid(5, 32, 544), f"cn=domain admins, {STAFF.upper()}"),
    ad_group(
        "Helpdesk",
        sid(*DOMAIN, 1200),
        f"CN=Old Bob,{STAFF}",
        f"CN=S-1-5-21-9-9-9-1000,CN=ForeignSecurityPrincipals,{AD_BASE}",
    ),
]


@dataclass(frozen=True)
class Directories:
    slapd: Slapd
    openldap: Collected
    active_directory: Collected


def live(slapd: Slapd, base: str, reader: str = "reader", **settings: object) -> ConnectorConfig:
    return ConnectorConfig(
        system_id=SYSTEM,
        mode="live",
        settings={
            "url": slapd.url,
            "base_dn": base,
            "bind_dn": f"cn={reader},{base}",
            "page_size": 500,
            **settings,
        },
        secrets={"password": READER_PASSWORD},
        base_dir=Path.cwd(),
    )


def openldap_config(slapd: Slapd, reader: str = "reader") -> ConnectorConfig:
    return live(slapd, OPENLDAP_BASE, reader, privileged_groups=["admins"])


def ad_config(slapd: Slapd) -> ConnectorConfig:
    return live(slapd, AD_BASE, flavour="active_directory")


def _modify(slapd: Slapd, base: str, ldif: str) -> None:
    subprocess.run(
        ["ldapmodify", "-x", "-H", slapd.url, "-D", f"cn=admin,{base}", "-w", ADMIN_PASSWORD],
        input=ldif.encode(),
        capture_output=True,
        check=True,
    )


@pytest.fixture(scope="module")
def directories(slapd: Slapd) -> Directories:
    slapd.add("\n".join(OPENLDAP_ENTRIES), OPENLDAP_BASE)
    slapd.add("\n".join(AD_ENTRIES), AD_BASE)
    locks = "\n".join(
        f"dn: {uid(name)}\nchangetype: modify\nadd: pwdAccountLockedTime\n"
        f"pwdAccountLockedTime: {value}\n"
        for name, value in LOCKS.items()
    )
    _modify(slapd, OPENLDAP_BASE, locks)
    # Ada and Hal sign in once, so the lastbind overlay records their authTimestamp (and later
    # binds within the hour leave it as it is).
    for name in ("ada", "hal"):
        subprocess.run(
            ["ldapwhoami", "-x", "-H", slapd.url, "-D", uid(name), "-w", BINDS[name]],
            capture_output=True,
            check=True,
        )
    return Directories(
        slapd,
        LdapConnector().collect(openldap_config(slapd)),
        LdapConnector().collect(ad_config(slapd)),
    )


def by_id(collected: Collected) -> dict[str, Account]:
    return {account.account_id: account for account in collected.records.accounts}


def test_paged_search_reads_every_entry_in_three_pages(directories: Directories) -> None:
    collected = directories.openldap
    assert collected.complete and collected.incomplete_reason is None
    assert [p.name for p in collected.payloads] == [
        "entries.page-001.ldif",
        "entries.page-002.ldif",
        "entries.page-003.ldif",
        "password-holders.page-001.ldif",
    ]
    assert [p.data.count(b"\ndn: ") + p.data.count(b"\ndn:: ") for p in collected.payloads] == [
        500,
        500,
        PEOPLE_AND_READERS + BULK + 7 - 1000,
        len(HOLDERS),
    ]
    accounts = by_id(collected)
    assert {f"uid=user{n:04d},ou=bulk,{OPENLDAP_BASE}" for n in range(BULK)} <= accounts.keys()
    assert len(accounts) == BULK + PEOPLE_AND_READERS
    filters = ldap.DEFAULT_FILTERS["openldap"]
    assert collected.parameters == {
        "url": directories.slapd.url,
        "base_dn": OPENLDAP_BASE,
        "bind_dn": f"cn=reader,{OPENLDAP_BASE}",
        "scope": "subtree",
        "user_filter": filters[0],
        "group_filter": filters[1],
        "filter": f"(|{filters[0]}{filters[1]})",
        "attributes": [
            "*",
            "pwdAccountLockedTime",
            "pwdChangedTime",
            "authTimestamp",
            "pwdStartTime",
            "pwdEndTime",
        ],
        "page_size": 500,
        "pages": 3,
        "password_holders_filter": f"(&{filters[0]}(userPassword=*))",
        "flavour": "openldap",
        "password_values_redacted": 0,
        "entries": BULK + PEOPLE_AND_READERS + 7,
        "accounts": BULK + PEOPLE_AND_READERS,
        "groups": 7,
        "grants": 13,
    }
    source = collected.payloads[0].source
    assert source.startswith(f"{directories.slapd.url}/{OPENLDAP_BASE}??sub?(|")


def test_password_holders_are_found_by_a_search_the_reader_may_not_read(
    directories: Directories,
) -> None:
    """The reader may only search userPassword (tests/connectors/slapd.py), never read it, yet
    the presence search lists exactly the accounts that hold one, by DN alone."""
    collected = directories.openldap
    holders = collected.payloads[-1]
    assert holders.source == (
        f"{directories.slapd.url}/{OPENLDAP_BASE}?1.1?sub?"
        f"(&{ldap.DEFAULT_FILTERS['openldap'][0]}(userPassword=*))"
    )
    entries = ldap.read_ldif(holders)
    assert {entry.dn for entry in entries} == set(HOLDERS)
    assert all(not entry.attributes for entry in entries)
    stored = b"".join(p.data for p in collected.payloads)
    assert b"userPassword" not in stored
    assert not [secret for secret in SECRETS if secret in stored]


def test_openldap_accounts(directories: Directories) -> None:
    accounts = by_id(directories.openldap)
    ada = accounts[uid("ada")]
    assert ada == Account(
        system_id=SYSTEM,
        account_id=uid("ada"),
        username="ada",
        email="ada.lovelace@example.org",
        name="Ada Lovelace",
        employee_id="E-001",
        kind=AccountKind.HUMAN,
        status=ACTIVE,
        mfa_registered=UNKNOWN,
        mfa_enforced=UNKNOWN,
        last_login=ada.last_login,
        last_login_source="ldap:authTimestamp",
        privileged=YES,
    )
    assert ada.last_login is not None
    assert abs(datetime.now(UTC) - ada.last_login) < timedelta(hours=1)
    assert accounts[uid("jose")].name == "José Núñez"
    assert accounts[uid("dave")].privileged == YES  # through oncall, nested in admins
    assert accounts[uid("carol")].privileged == UNKNOWN
    assert accounts[uid("carol")].last_login is None
    assert accounts[uid("deploy")].kind == AccountKind.SERVICE
    assert accounts[f"cn=reader,{OPENLDAP_BASE}"].kind == AccountKind.SERVICE
    assert directories.openldap.records.credentials == ()


def test_openldap_status_follows_what_the_server_lets_bind(directories: Directories) -> None:
    """A password and no lock is active; the locks the password policy enforces are inactive;
    what may lift by itself, what only PAM honours and an entry with no password are unknown."""
    accounts = by_id(directories.openldap)
    statuses = {name: accounts[uid(name)].status for name in (*LOCKS, *BINDS, "jose")}
    assert statuses == {
        "ada": ACTIVE,
        "bob": INACTIVE,  # pwdAccountLockedTime 000001010000Z
        "carol": AccountStatus.UNKNOWN,  # a lock with a time lifts after the lockout duration
        "frank": INACTIVE,  # pwdEndTime passed
        "gina": AccountStatus.UNKNOWN,  # pwdStartTime ahead: it opens by itself
        "hal": AccountStatus.UNKNOWN,  # shadowExpire passed: PAM refuses, a bind does not
        "jose": AccountStatus.UNKNOWN,  # no password: SASL or a certificate may still sign in
    }
    for name, password in BINDS.items():
        bind = subprocess.run(
            ["ldapwhoami", "-x", "-H", directories.slapd.url, "-D", uid(name), "-w", password],
            capture_output=True,
            check=False,
        )
        assert (bind.returncode == 0) == (name in ("ada", "hal")), name
    # The lock written into erin's hash cannot be seen by an account that may only search.
    assert accounts[uid("erin")].status == ACTIVE
    assert accounts[f"cn=reader,{OPENLDAP_BASE}"].status == ACTIVE
    warnings = directories.openldap.records.warnings
    assert any("locked since 20240101000000Z" in w and "carol" in w for w in warnings)
    assert any("gina" in w and "pwdStartTime" in w for w in warnings)
    assert any("hal" in w and "shadowExpire 1" in w for w in warnings)
    assert any(
        w.startswith(f"{BULK + 3} account(s) hold no userPassword") and "SASL" in w
        for w in warnings
    )


def test_a_bind_account_that_may_read_hashes_stores_none_of_them(directories: Directories) -> None:
    """Bound as the administrator, the search returns every userPassword: each is replaced
    before it is kept, by a marker saying only whether it can match, so erin's lock is seen."""
    config = openldap_config(directories.slapd)
    admin = ConnectorConfig(
        SYSTEM,
        "live",
        {**config.settings, "bind_dn": f"cn=admin,{OPENLDAP_BASE}"},
        {"password": ADMIN_PASSWORD},
        Path.cwd(),
    )
    collected = LdapConnector().collect(admin)
    stored = b"".join(p.data for p in collected.payloads)
    assert not [secret for secret in SECRETS if secret in stored]
    assert stored.count(b"\nuserPassword: {REDACTED}\n") == len(HOLDERS) - 1
    assert stored.count(b"\nuserPassword: {REDACTED}!\n") == 1
    assert collected.parameters["password_values_redacted"] == len(HOLDERS)
    accounts = by_id(collected)
    assert accounts[uid("erin")].status == INACTIVE
    reader = by_id(directories.openldap)
    assert {dn: a.status for dn, a in accounts.items() if dn != uid("erin")} == {
        dn: a.status for dn, a in reader.items() if dn != uid("erin")
    }
    assert registry.parser_for("ldap")(collected.payloads, admin) == collected.records


def test_nested_groups_give_effective_grants(directories: Directories) -> None:
    records = directories.openldap.records
    grants = {
        (g.account_id.split(",")[0], g.entitlement_id.split(",")[0], g.via and g.via.split(",")[0])
        for g in records.grants
    }
    assert grants == {
        ("uid=ada", "cn=admins", None),
        ("uid=ada", "cn=engineering", "cn=admins"),
        ("uid=ada", "cn=ops", "cn=admins"),
        ("uid=dave", "cn=oncall", None),
        ("uid=dave", "cn=admins", "cn=oncall"),
        ("uid=dave", "cn=engineering", "cn=oncall"),
        ("uid=dave", "cn=ops", "cn=oncall"),
        ("uid=carol", "cn=engineering", None),
        ("uid=carol", "cn=ops", "cn=engineering"),
        ("uid=jose", "cn=ops", None),
        ("uid=deploy", "cn=deployers", None),
        ("uid=bob", "cn=loop-b", None),
        ("uid=bob", "cn=loop-a", "cn=loop-b"),
    }
    assert len(records.grants) == len(grants)
    assert Entitlement(SYSTEM, cn("admins"), "admins", "group", YES) in records.entitlements
    assert Entitlement(SYSTEM, cn("oncall"), "oncall", "group", YES) in records.entitlements
    assert Entitlement(SYSTEM, cn("ops"), "ops", "group", UNKNOWN) in records.entitlements
    assert Grant(SYSTEM, uid("ada"), cn("ops"), via=cn("admins")) in records.grants
    warnings = records.warnings
    assert (
        f"group {cn('engineering')!r}: 1 member(s) match no account or group in the collection "
        f"(first: {uid('ghost')!r})"
    ) in warnings
    assert any(cn("deployers") in w and "'memberUid nobody'" in w for w in warnings)


def test_active_directory(directories: Directories) -> None:
    collected = directories.active_directory
    accounts = by_id(collected)  # slapd writes attribute types in DNs as its schema names them
    alice = accounts[f"cn=Alice Admin,{STAFF}"]
    assert alice == Account(
        system_id=SYSTEM,
        account_id=f"cn=Alice Admin,{STAFF}",
        username="alice.admin",
        email="alice@corp.example",
        name="Alice Admin",
        employee_id="1001",
        kind=AccountKind.HUMAN,
        status=ACTIVE,
        mfa_registered=UNKNOWN,
        mfa_enforced=UNKNOWN,
        last_login=LOGON,
        last_login_source="ldap:lastLogonTimestamp",
        privileged=YES,
    )
    administrator = accounts[f"cn=Administrator,{STAFF}"]
    assert (administrator.root, administrator.privileged) == (True, YES)
    bob = accounts[f"cn=Old Bob,{STAFF}"]
    assert (bob.status, bob.privileged, bob.last_login) == (INACTIVE, UNKNOWN, None)
    backup = accounts[f"cn=svc-backup,{STAFF}"]
    assert (backup.kind, backup.privileged) == (AccountKind.SERVICE, YES)  # adminCount
    assert accounts[f"cn=WS01,{STAFF}"].kind == AccountKind.SYSTEM
    privileged = {e.name: e.privileged for e in collected.records.entitlements}
    assert privileged == {
        "Domain Admins": YES,
        "Domain Users": UNKNOWN,
        "Administrators": YES,
        "Helpdesk": UNKNOWN,
    }
    alice_grants = {
        (g.entitlement_id.split(",")[0], g.via and g.via.split(",")[0])
        for g in collected.records.grants
        if g.account_id == alice.account_id
    }
    assert alice_grants == {
        ("cn=Domain Admins", None),
        ("cn=Administrators", "cn=Domain Admins"),
        ("cn=Domain Users", None),  # her primary group, by SID
    }
    assert collected.records.credentials == (
        Credential(
            SYSTEM,
            f"cn=Administrator,{STAFF}#password",
            "password",
            f"cn=Administrator,{STAFF}",
            active=True,
            created=None,
            last_rotated=PASSWORD_SET,
            last_used=None,
            last_used_source=None,
            expiry=Tri.NO,
        ),
        Credential(
            SYSTEM,
            f"cn=Alice Admin,{STAFF}#password",
            "password",
            f"cn=Alice Admin,{STAFF}",
            active=True,
            created=None,
            last_rotated=PASSWORD_SET,
            last_used=None,
            last_used_source=None,
        ),
        Credential(
            SYSTEM,
            f"cn=Old Bob,{STAFF}#password",
            "password",
            f"cn=Old Bob,{STAFF}",
            active=False,
            created=None,
            last_rotated=None,
            last_used=None,
            last_used_source=None,
        ),
    )
    assert any("ForeignSecurityPrincipals" in w for w in collected.records.warnings)


def test_stored_pages_replay_to_the_same_records(directories: Directories) -> None:
    for collected, config in (
        (directories.openldap, openldap_config(directories.slapd)),
        (directories.active_directory, ad_config(directories.slapd)),
    ):
        replayed = registry.parser_for("ldap")(collected.payloads, config)
        assert replayed == collected.records


def test_ldapsearch_export_reads_as_the_live_collection(
    directories: Directories, tmp_path: Path
) -> None:
    """The two ``ldapsearch`` commands the module docstring gives: the entries, and the
    password holders by DN (a presence filter, ``1.1``: no attributes)."""
    slapd = directories.slapd
    filters = ldap.DEFAULT_FILTERS["openldap"]

    def ldapsearch(search_filter: str, *attributes: str) -> bytes:
        return subprocess.run(
            [
                "ldapsearch",
                "-LLL",
                "-x",
                "-H",
                slapd.url,
                "-D",
                f"cn=reader,{OPENLDAP_BASE}",
                "-w",
                READER_PASSWORD,
                "-b",
                OPENLDAP_BASE,
                "-E",
                "pr=500/noprompt",
                search_filter,
                *attributes,
            ],
            capture_output=True,
            check=True,
        ).stdout

    output = ldapsearch(f"(|{filters[0]}{filters[1]})", "*", *ldap.OPERATIONAL)
    assert b"\n " in output  # ldapsearch folds long lines
    assert b"cn:: " in output  # and writes José in base64
    export = tmp_path / "export"
    export.mkdir()
    (export / "directory.ldif").write_bytes(output)
    config = ConnectorConfig(
        SYSTEM, "export", {"path": "export", "privileged_groups": ["admins"]}, {}, tmp_path
    )
    without_holders = LdapConnector().collect(config)
    assert by_id(without_holders)[uid("ada")].status == AccountStatus.UNKNOWN
    assert any(
        "no account at all was seen holding one" in w for w in without_holders.records.warnings
    )

    holders = ldapsearch(f"(&{filters[0]}(userPassword=*))", "1.1")
    (export / "password-holders.ldif").write_bytes(holders)
    collected = LdapConnector().collect(config)
    assert collected.records == directories.openldap.records
    assert collected.parameters["files"] == ["directory.ldif", "password-holders.ldif"]
    assert [p.data for p in collected.payloads] == [output, holders]  # nothing to redact
    assert ldap.parse(collected.payloads, config) == collected.records


def test_a_size_limit_part_way_marks_the_collection_incomplete(directories: Directories) -> None:
    config = openldap_config(directories.slapd, reader="capped")
    collected = LdapConnector().collect(config)
    assert not collected.complete
    assert collected.incomplete_reason is not None
    assert "sizeLimitExceeded" in collected.incomplete_reason
    names = [p.name for p in collected.payloads]
    assert names[-1] == f"entries.page-{len(names):03d}.failed"
    assert len(collected.records.accounts) + len(collected.records.entitlements) == CAPPED_TOTAL
    replayed = registry.parser_for("ldap")(collected.payloads, config)
    assert replayed == collected.records
    assert any("population is incomplete" in w for w in replayed.warnings)


def test_a_wrong_password_is_a_clear_error(directories: Directories) -> None:
    slapd = directories.slapd
    config = openldap_config(slapd)
    wrong = ConnectorConfig(SYSTEM, "live", config.settings, {"password": "nope"}, Path.cwd())
    with pytest.raises(InputError) as caught:
        LdapConnector().collect(wrong)
    assert caught.value.where == slapd.url
    assert "invalidCredentials" in caught.value.problem
    assert "nope" not in str(caught.value)


def test_an_unreachable_server_is_a_clear_error(directories: Directories) -> None:
    config = openldap_config(directories.slapd)
    url = f"ldap://127.0.0.1:{free_port()}"
    settings = {**config.settings, "url": url}
    with pytest.raises(InputError) as caught:
        LdapConnector().collect(
            ConnectorConfig(SYSTEM, "live", settings, config.secrets, Path.cwd())
        )
    assert caught.value.where == url
    assert caught.value.problem.startswith("cannot connect")


def test_a_base_that_does_not_exist_is_an_error(directories: Directories) -> None:
    config = openldap_config(directories.slapd)
    settings = {**config.settings, "base_dn": f"ou=nowhere,{OPENLDAP_BASE}"}
    with pytest.raises(InputError, match="noSuchObject"):
        LdapConnector().collect(
            ConnectorConfig(SYSTEM, "live", settings, config.secrets, Path.cwd())
        )


# --- hand-written LDIF ---------------------------------------------------------------------

FOLDED = """\
version: 1

# a comment that is
  folded too
dn: uid=fold,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: fold
cn: Folded Name Th
 at Goes On
sn: Name
mail: fold@example.org
authTimestamp: 20240203040506Z
pwdChangedTime: 20230102030405+0100

dn:: {dn}
changetype: add
objectClass: groupOfNames
cn:: {cn}
member: UID=fold , OU=People,dc=Example,dc=ORG
member;range=0-1: uid=other,ou=people,dc=example,dc=org
""".format(
    dn=base64.b64encode("cn=Équipe,ou=groups,dc=example,dc=org".encode()).decode(),
    cn=base64.b64encode("Équipe".encode()).decode(),
)


def export_dir(tmp_path: Path, **files: str) -> ConnectorConfig:
    directory = tmp_path / "export"
    directory.mkdir()
    for name, text in files.items():
        (directory / f"{name}.ldif").write_bytes(text.replace("\n", "\r\n").encode())
    return ConnectorConfig(SYSTEM, "export", {"path": "export"}, {}, tmp_path)


def test_export_reads_folded_base64_crlf_ldif_in_several_files(tmp_path: Path) -> None:
    second = person("other", "Other", "pwdAccountLockedTime: 000001010000Z")
    collected = LdapConnector().collect(export_dir(tmp_path, a=FOLDED, b=second))
    records = collected.records
    fold = records.accounts[0]
    assert (fold.name, fold.email, fold.status) == (
        "Folded Name That Goes On",
        "fold@example.org",
        AccountStatus.UNKNOWN,
    )
    assert fold.last_login == datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert records.accounts[1].status == INACTIVE
    assert records.entitlements == (
        Entitlement(SYSTEM, "cn=Équipe,ou=groups,dc=example,dc=org", "Équipe", "group"),
    )
    assert records.grants == (
        Grant(
            SYSTEM, "uid=fold,ou=people,dc=example,dc=org", records.entitlements[0].entitlement_id
        ),
        Grant(SYSTEM, uid("other"), records.entitlements[0].entitlement_id),
    )
    assert records.credentials[0].last_rotated == datetime(2023, 1, 2, 2, 4, 5, tzinfo=UTC)
    assert any("only a range of its members" in w for w in records.warnings)
    assert collected.parameters["files"] == ["a.ldif", "b.ldif"]
    assert collected.complete


def state(name: str, *extra: str) -> str:
    return person(name, name.title(), *extra, ou="ou=people,dc=example,dc=org")


STATES = "\n".join(
    [
        state("open", "userPassword: {SSHA}c2VjcmV0LXNzaGEtZGlnZXN0"),
        state("starred", "userPassword: {CRYPT}*"),
        state("twice", "userPassword: {CRYPT}!$6$x$lockedtoo", "userPassword: plain-too"),
        state("listed"),
        state("bare"),
        state("ending", "userPassword: e-password", "pwdEndTime: 20240601000000Z"),
        state("expiring", "objectClass: shadowAccount", "userPassword: s", "shadowExpire: 19875"),
    ]
)
"""Sign-in states as an export shows them; 19875 days after 1970-01-01 is 2024-06-01."""


def test_export_status_from_userpassword_values_and_a_password_holders_file(
    tmp_path: Path,
) -> None:
    listed = (
        "dn: UID=Listed, OU=People,dc=example,dc=org\n\ndn: uid=open,ou=people,dc=example,dc=org\n"
    )
    config = export_dir(tmp_path, entries=STATES, **{"password-holders": listed})
    collected = LdapConnector().collect(config)

    def statuses(records: Records) -> dict[str, AccountStatus]:
        return {a.username: a.status for a in records.accounts}

    assert statuses(collected.records) == {
        "open": ACTIVE,
        "starred": INACTIVE,  # {CRYPT}* can never match
        "twice": ACTIVE,  # one of its values can
        "listed": ACTIVE,  # on the password-holders list, however its DN is spelled
        "bare": AccountStatus.UNKNOWN,
        "ending": INACTIVE,
        "expiring": AccountStatus.UNKNOWN,
    }
    stored = b"".join(p.data for p in collected.payloads)
    assert not [s for s in (b"c2VjcmV0", b"lockedtoo", b"plain-too", b"e-password") if s in stored]
    assert b"userPassword: s\r" not in stored
    assert collected.parameters["password_values_redacted"] == 6
    assert collected.payloads[1].data == listed.replace("\n", "\r\n").encode()
    assert ldap.parse(collected.payloads, config) == collected.records

    def judged_on(day: datetime) -> dict[str, AccountStatus]:
        return statuses(
            ldap.parse(collected.payloads, dataclasses.replace(config, collected_at=day))
        )

    before = judged_on(datetime(2024, 5, 31, 23, 59, 59, tzinfo=UTC))
    assert (before["ending"], before["expiring"]) == (ACTIVE, ACTIVE)
    on = judged_on(datetime(2024, 6, 1, tzinfo=UTC))
    assert (on["ending"], on["expiring"]) == (INACTIVE, AccountStatus.UNKNOWN)


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("dn: cn=x,dc=y\nno colon here\n", 2, "expected 'attribute: value'"),
        ("dn: cn=x,dc=y\ncn:: not base64!\n", 2, "cn: invalid base64 value"),
        ("\n\ncn: x\n", 3, "expected 'dn:' to start an entry"),
        (" folded\n", 1, "continuation line with no line to continue"),
        ("version: 2\n\ndn: cn=x,dc=y\n", 1, "unsupported LDIF"),
        ("dn: cn=x,dc=y\nchangetype: modify\n", 2, "change record"),
        ("dn: cn=x,dc=y\njpegPhoto:< file:///etc/passwd\n", 2, "values given by URL"),
        ("dn: cn=x,dc=y\nbad name!: 1\n", 2, "invalid attribute description"),
        ("dn: cn=x,dc=y\nobjectClass: person\nuserAccountControl: lots\n", 1, "expected a number"),
        ("dn: not a dn\nobjectClass: person\n", 1, "not a distinguished name"),
    ],
)
def test_malformed_ldif_names_file_and_line(
    tmp_path: Path, text: str, line: int, problem: str
) -> None:
    with pytest.raises(InputError) as caught:
        LdapConnector().collect(export_dir(tmp_path, broken=text))
    assert caught.value.where == f"{tmp_path / 'export' / 'broken.ldif'}:{line}"
    assert problem in caught.value.problem


def test_a_dn_in_two_files_is_an_error(tmp_path: Path) -> None:
    entry = "dn: CN=Twice,DC=y\nobjectClass: person\ncn: Twice\nsn: T\n"
    with pytest.raises(InputError) as caught:
        LdapConnector().collect(export_dir(tmp_path, a=entry, b=entry.replace("CN=", "cn=")))
    assert caught.value.where.endswith("b.ldif:1")
    assert "duplicate entry" in caught.value.problem and "a.ldif:1" in caught.value.problem


def test_written_ldif_round_trips_awkward_values() -> None:
    values = [b"plain", b" leading space", b"trailing ", b":colon", b"<angle", b"caf\xc3\xa9", b""]
    data = ldap.write_ldif([{"dn": "cn=x,dc=y", "raw_attributes": {"description": values}}])
    entry = ldap.read_ldif(RawPayload("p.ldif", "p.ldif", data))[0]
    assert entry.values("description") == tuple(values)
    assert b"description: plain\n" in data and b"description:: IGxlYWRpbmcgc3BhY2U=\n" in data


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"flavour": "novell"}, "'flavour' must be one of openldap, active_directory"),
        ({"url": "http://x"}, "'url' must be ldap://host:port"),
        ({"page_size": 0}, "'page_size' must be a positive number"),
        ({"bind_dn": ""}, "'bind_dn' must be a non-empty string"),
        ({"user_filter": "uid=*"}, "'user_filter' must be an LDAP filter in parentheses"),
        ({"privileged_groups": [3]}, "'privileged_groups' must be a list"),
    ],
)
def test_bad_settings(settings: dict[str, object], problem: str) -> None:
    base = {"url": "ldap://127.0.0.1:1", "base_dn": "dc=y", "bind_dn": "cn=r,dc=y"}
    config = ConnectorConfig(SYSTEM, "live", {**base, **settings}, {"password": "p"}, Path.cwd())
    with pytest.raises(InputError, match=problem):
        LdapConnector().collect(config)
