"""The PostgreSQL connector against a real server: the one ``scripts/test`` found or started
(``ASSAY_TEST_POSTGRES_URL``), else 127.0.0.1:5432 with user postgres and trust authentication.

The server is required: when it cannot be reached these tests fail, they never skip. Roles are
cluster-wide, so every role made here carries a random prefix and is dropped afterwards.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import psycopg
import pytest
from psycopg import sql

from assay.connectors import postgres
from assay.connectors.base import Collected, ConnectorConfig, RawPayload
from assay.connectors.postgres import PostgresConnector
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

MakeConfig = Callable[..., ConnectorConfig]

_SERVER = urlparse(
    os.environ.get("ASSAY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
)
HOST = parse_qs(_SERVER.query).get("host", [_SERVER.hostname or "127.0.0.1"])[0]
PORT = _SERVER.port or 5432
ADMIN_USER = _SERVER.username or "postgres"
SYSTEM = "pg"
PAST = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)
FUTURE = datetime(2999, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Cluster:
    """The throwaway database and roles, and one live collection made as ``postgres``."""

    prefix: str
    dbname: str
    password: str
    collected: Collected

    def name(self, short: str) -> str:
        return f"{self.prefix}{short}"

    def config(self, user: str = ADMIN_USER, **secret_values: str) -> ConnectorConfig:
        return ConnectorConfig(
            system_id=SYSTEM,
            mode="live",
            settings={"host": HOST, "port": PORT, "dbname": self.dbname, "user": user},
            secrets=secret_values,
            base_dir=Path.cwd(),
        )


def _admin() -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(
            host=HOST, port=PORT, dbname="postgres", user=ADMIN_USER, autocommit=True
        )
    except psycopg.Error as exc:
        pytest.fail(
            f"these tests need PostgreSQL on {HOST}:{PORT} with user {ADMIN_USER} and trust "
            f"authentication, and could not connect: {exc}"
        )


SHORT_ROLES = ("alice", "bob", "carol", "svc", "admin", "pw", "dev", "ops", "audit")


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    token = secrets.token_hex(4)
    prefix = f"t_{token}_"
    dbname = f"assay_conn_{token}"
    password = f"Pw-{secrets.token_hex(12)}"
    admin = _admin()

    def role(short: str) -> sql.Identifier:
        return sql.Identifier(prefix + short)

    try:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        statements = [
            sql.SQL("CREATE ROLE {} LOGIN").format(role("alice")),
            sql.SQL("CREATE ROLE {} LOGIN NOINHERIT").format(role("bob")),
            sql.SQL("CREATE ROLE {} LOGIN CREATEDB VALID UNTIL {}").format(
                role("carol"), sql.Literal(FUTURE.isoformat())
            ),
            sql.SQL("CREATE ROLE {} LOGIN VALID UNTIL {}").format(
                role("svc"), sql.Literal(PAST.isoformat())
            ),
            sql.SQL("CREATE ROLE {} LOGIN SUPERUSER REPLICATION").format(role("admin")),
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(role("pw"), sql.Literal(password)),
            sql.SQL("CREATE ROLE {} NOLOGIN").format(role("dev")),
            sql.SQL("CREATE ROLE {} NOLOGIN").format(role("ops")),
            sql.SQL("CREATE ROLE {} NOLOGIN NOINHERIT CREATEROLE").format(role("audit")),
            sql.SQL("GRANT {} TO {}").format(role("ops"), role("dev")),
            sql.SQL("GRANT pg_read_all_data TO {}").format(role("ops")),
            sql.SQL("GRANT {} TO {}").format(role("dev"), role("alice")),
            sql.SQL("GRANT {} TO {}").format(role("svc"), role("alice")),
            sql.SQL("GRANT {} TO {}").format(role("dev"), role("bob")),
            sql.SQL("GRANT {} TO {}").format(role("audit"), role("carol")),
            sql.SQL("GRANT pg_signal_backend TO {}").format(role("audit")),
        ]
        for statement in statements:
            admin.execute(statement)
        config = ConnectorConfig(
            system_id=SYSTEM,
            mode="live",
            settings={"host": HOST, "port": PORT, "dbname": dbname, "user": ADMIN_USER},
            secrets={},
            base_dir=Path.cwd(),
        )
        yield Cluster(prefix, dbname, password, PostgresConnector().collect(config))
    finally:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
        )
        for short in SHORT_ROLES:
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(role(short)))
        admin.close()


def ours(cluster: Cluster, records: Records) -> Records:
    """Only what concerns this test's roles (and the entitlements they reach)."""
    reached = {"pg_read_all_data", "pg_signal_backend"}
    entitlement_ids = {
        entitlement.entitlement_id
        for entitlement in records.entitlements
        if entitlement.entitlement_id.startswith((cluster.prefix, "attribute:"))
        or entitlement.entitlement_id in reached
    }
    return Records(
        accounts=tuple(a for a in records.accounts if a.account_id.startswith(cluster.prefix)),
        credentials=tuple(
            c for c in records.credentials if c.account_id.startswith(cluster.prefix)
        ),
        entitlements=tuple(e for e in records.entitlements if e.entitlement_id in entitlement_ids),
        grants=tuple(g for g in records.grants if g.account_id.startswith(cluster.prefix)),
    )


def account(name: str, status: AccountStatus, privileged: Tri) -> Account:
    return Account(
        system_id=SYSTEM,
        account_id=name,
        username=name,
        email=None,
        name=None,
        employee_id=None,
        kind=AccountKind.UNKNOWN,
        status=status,
        mfa_registered=Tri.UNKNOWN,
        mfa_enforced=Tri.UNKNOWN,
        last_login=None,
        last_login_source=None,
        privileged=privileged,
    )


def validity(name: str, expires_at: datetime | None, *, active: bool = True) -> Credential:
    return Credential(
        system_id=SYSTEM,
        credential_id=f"{name}:password-validity",
        kind="password-validity",
        account_id=name,
        active=active,
        created=None,
        last_rotated=None,
        last_used=None,
        last_used_source=None,
        expires_at=expires_at,
        expiry=Tri.NO if expires_at is None else Tri.YES,
    )


def test_live_accounts(cluster: Cluster) -> None:
    n = cluster.name
    active, inactive = AccountStatus.ACTIVE, AccountStatus.INACTIVE
    assert ours(cluster, cluster.collected.records).accounts == (
        account(n("admin"), active, Tri.YES),  # SUPERUSER REPLICATION itself
        account(n("alice"), active, Tri.YES),  # inherits pg_read_all_data through dev, ops
        account(n("bob"), active, Tri.YES),  # NOINHERIT, but may SET ROLE to ops
        account(n("carol"), active, Tri.YES),  # member of audit, which has CREATEROLE
        account(n("pw"), active, Tri.NO),
        account(n("svc"), inactive, Tri.NO),  # VALID UNTIL in the past
    )


def test_live_entitlements(cluster: Cluster) -> None:
    n = cluster.name
    attributes = tuple(
        Entitlement(SYSTEM, f"attribute:{name}", name, "permission", Tri.YES)
        for name in ("superuser", "createrole", "bypassrls", "replication")
    )
    entitlements = ours(cluster, cluster.collected.records).entitlements
    assert entitlements[:4] == attributes
    assert sorted(entitlements[4:], key=lambda e: e.entitlement_id) == [
        Entitlement(SYSTEM, "pg_read_all_data", "pg_read_all_data", "role", Tri.YES),
        Entitlement(SYSTEM, "pg_signal_backend", "pg_signal_backend", "role", Tri.YES),
        Entitlement(SYSTEM, n("audit"), n("audit"), "role", Tri.YES),  # CREATEROLE
        Entitlement(SYSTEM, n("dev"), n("dev"), "role", Tri.UNKNOWN),
        Entitlement(SYSTEM, n("ops"), n("ops"), "role", Tri.UNKNOWN),
        # A login role granted to another role is also something one can hold.
        Entitlement(SYSTEM, n("svc"), n("svc"), "role", Tri.UNKNOWN),
    ]
    by_id = {e.entitlement_id: e for e in cluster.collected.records.entitlements}
    assert by_id["pg_monitor"].privileged is Tri.UNKNOWN
    assert n("alice") not in by_id  # a login role nobody is granted is only an account


def test_live_grants(cluster: Cluster) -> None:
    n = cluster.name
    assert set(ours(cluster, cluster.collected.records).grants) == {
        Grant(SYSTEM, n("admin"), "attribute:superuser"),
        Grant(SYSTEM, n("admin"), "attribute:replication"),
        Grant(SYSTEM, n("alice"), n("dev")),
        Grant(SYSTEM, n("alice"), n("svc")),
        Grant(SYSTEM, n("alice"), n("ops"), via=n("dev")),
        Grant(SYSTEM, n("alice"), "pg_read_all_data", via=n("dev")),
        # bob is NOINHERIT: the membership is recorded, nothing is inherited through it.
        Grant(SYSTEM, n("bob"), n("dev")),
        # audit is NOINHERIT: carol inherits audit, but not what audit is a member of.
        Grant(SYSTEM, n("carol"), n("audit")),
    }
    assert len(cluster.collected.records.grants) == len(set(cluster.collected.records.grants))


def test_live_grants_agree_with_the_server(cluster: Cluster) -> None:
    """The server's own view: direct membership ⇔ a direct grant; privileges held without SET
    ROLE (``pg_has_role`` USAGE) ⇔ an inherited grant or an inheriting direct membership."""
    records = ours(cluster, cluster.collected.records)
    inherited = {(g.account_id, g.entitlement_id) for g in records.grants if g.via is not None}
    direct = {(g.account_id, g.entitlement_id) for g in records.grants if g.via is None}
    roles = [e.entitlement_id for e in records.entitlements if e.kind == "role"]
    with _admin() as admin:
        for acc in records.accounts:
            for role in roles:
                if role == acc.account_id:  # every role "has" itself
                    continue
                row = admin.execute(
                    "SELECT pg_has_role(%(a)s, %(r)s, 'USAGE'), "
                    "EXISTS (SELECT FROM pg_auth_members m WHERE m.member = %(a)s::regrole "
                    "AND m.roleid = %(r)s::regrole), "
                    "(SELECT rolinherit FROM pg_roles WHERE rolname = %(a)s), "
                    "(SELECT rolsuper FROM pg_roles WHERE rolname = %(a)s)",
                    {"a": acc.account_id, "r": role},
                ).fetchone()
                assert row is not None
                usage, is_direct, inherits, superuser = row
                pair = (acc.account_id, role)
                assert (pair in direct) == is_direct, pair
                if superuser:  # holds every role, so pg_has_role says nothing about grants
                    continue
                assert (pair in inherited or (is_direct and inherits)) == usage, pair


def test_live_credentials(cluster: Cluster) -> None:
    n = cluster.name
    assert ours(cluster, cluster.collected.records).credentials == (
        validity(n("admin"), None),
        validity(n("alice"), None),
        validity(n("bob"), None),
        validity(n("carol"), FUTURE),
        validity(n("pw"), None),
        validity(n("svc"), PAST, active=False),
    )


def test_live_payloads_and_parameters(cluster: Cluster) -> None:
    collected = cluster.collected
    url = f"postgresql://{ADMIN_USER}@{HOST}:{PORT}/{cluster.dbname}"
    assert [(p.name, p.source) for p in collected.payloads] == [
        ("server.json", f"{url}#server"),
        ("roles.json", f"{url}#roles"),
        ("memberships.json", f"{url}#memberships"),
    ]
    server = json.loads(collected.payloads[0].data)
    assert server["current_user"] == "postgres"
    assert server["database"] == cluster.dbname
    assert server["now"].endswith("+00:00")
    roles = json.loads(collected.payloads[1].data)
    assert set(roles[0]) == {
        "rolname",
        "rolsuper",
        "rolinherit",
        "rolcreaterole",
        "rolcreatedb",
        "rolcanlogin",
        "rolreplication",
        "rolbypassrls",
        "rolvaliduntil",
        "oid",
    }
    memberships = json.loads(collected.payloads[2].data)
    expected_keys = {"role", "member", "admin_option"}
    if server["server_version_num"] >= 160000:
        expected_keys.add("inherit_option")
    assert {key for row in memberships for key in row} == expected_keys
    assert collected.connector == "postgres"
    assert collected.mode == "live"
    assert collected.complete
    assert collected.parameters["source"] == url
    assert collected.parameters["server_version_num"] == server["server_version_num"]
    assert collected.parameters["queries"]["roles.json"] == postgres.ROLES_SQL
    assert collected.records.warnings == ()


def test_live_session_is_read_only(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[bool | None, str | None, str]] = []
    connect = psycopg.connect

    def spy(*args: Any, **kwargs: Any) -> psycopg.Connection[Any]:
        connection = connect(*args, **kwargs)
        original = connection.execute

        def execute(query: Any, params: Any = None) -> Any:
            cursor = original(query, params)
            mode = original("SHOW transaction_read_only").fetchone()
            iso = original("SHOW transaction_isolation").fetchone()
            assert mode is not None and iso is not None
            seen.append((mode[0] == "on", iso[0], str(query)[:20]))
            return cursor

        monkeypatch.setattr(connection, "execute", execute)
        return connection

    monkeypatch.setattr(psycopg, "connect", spy)
    PostgresConnector().collect(cluster.config())
    assert seen
    assert all(read_only and iso == "repeatable read" for read_only, iso, _ in seen), seen


def test_password_never_appears(cluster: Cluster) -> None:
    """Trust auth ignores the password, but it must still appear nowhere in what is kept."""
    pw_user = cluster.name("pw")
    collected = PostgresConnector().collect(cluster.config(pw_user, password=cluster.password))
    server = json.loads(collected.payloads[0].data)
    assert server["current_user"] == pw_user
    secret = cluster.password.encode()
    for payload in collected.payloads:
        assert secret not in payload.data
        assert cluster.password not in payload.source
        assert payload.source.startswith(f"postgresql://{pw_user}@{HOST}:{PORT}/")
    assert cluster.password not in repr(collected)
    assert cluster.password not in json.dumps(collected.parameters)
    assert (
        ours(cluster, collected.records).accounts
        == ours(cluster, cluster.collected.records).accounts
    )


def test_export_reparses_the_live_payloads(
    cluster: Cluster, tmp_path: Path, make_config: MakeConfig
) -> None:
    for payload in cluster.collected.payloads:
        (tmp_path / payload.name).write_bytes(payload.data)
    collected = PostgresConnector().collect(make_config(system_id=SYSTEM, path="."))
    assert collected.records == cluster.collected.records
    assert [p.data for p in collected.payloads] == [
        p.data for p in sorted(cluster.collected.payloads, key=_export_order)
    ]
    assert collected.parameters["files"] == ["roles.json", "memberships.json", "server.json"]
    assert collected.parameters["accounts"] == len(collected.records.accounts)


def _export_order(payload: RawPayload) -> int:
    return ["roles.json", "memberships.json", "server.json"].index(payload.name)


# --- export mode, from hand-made files ---------------------------------------------------------


def role_row(name: str, *, login: bool = True, **overrides: Any) -> dict[str, Any]:
    """A row shaped like ``json_agg`` over ``pg_roles``."""
    return {
        "rolname": name,
        "rolsuper": False,
        "rolinherit": True,
        "rolcreaterole": False,
        "rolcreatedb": False,
        "rolcanlogin": login,
        "rolreplication": False,
        "rolbypassrls": False,
        "rolvaliduntil": None,
        "oid": "16384",
        **overrides,
    }


def member_row(role: str, member: str, **extra: Any) -> dict[str, Any]:
    return {"role": role, "member": member, "admin_option": False, **extra}


def payloads(
    roles: Any, memberships: Any, server: Any | None = None, *, raw: bytes | None = None
) -> list[RawPayload]:
    result = [
        RawPayload("roles.json", "/x/roles.json", raw or json.dumps(roles).encode()),
        RawPayload("memberships.json", "/x/memberships.json", json.dumps(memberships).encode()),
    ]
    if server is not None:
        result.append(RawPayload("server.json", "/x/server.json", json.dumps(server).encode()))
    return result


SERVER_15 = {"server_version_num": 150004, "now": "2024-06-01T00:00:00+00:00"}
SERVER_16 = {"server_version_num": 160002, "now": "2024-06-01T00:00:00+00:00"}


def test_inherit_option_decides_on_16(make_config: MakeConfig) -> None:
    roles = [
        role_row("ann"),
        role_row("ned", rolinherit=False),
        role_row("g1", login=False),
        role_row("g2", login=False),
    ]
    memberships = [
        member_row("g2", "g1", inherit_option=True),
        # ann inherits by default, but this grant was made WITH INHERIT FALSE.
        member_row("g1", "ann", inherit_option=False),
        # ned is NOINHERIT, but this grant was made WITH INHERIT TRUE.
        member_row("g1", "ned", inherit_option=True),
    ]
    records = postgres.parse(payloads(roles, memberships, SERVER_16), make_config())
    assert set(records.grants) == {
        Grant("sys", "ann", "g1"),
        Grant("sys", "ned", "g1"),
        Grant("sys", "ned", "g2", via="g1"),
    }
    assert records.warnings == ()


def test_rolinherit_decides_without_inherit_option(make_config: MakeConfig) -> None:
    roles = [role_row("ann"), role_row("g1", login=False), role_row("g2", login=False)]
    memberships = [member_row("g2", "g1"), member_row("g1", "ann")]
    config = make_config()
    on_15 = postgres.parse(payloads(roles, memberships, SERVER_15), config)
    assert set(on_15.grants) == {Grant("sys", "ann", "g1"), Grant("sys", "ann", "g2", via="g1")}
    assert on_15.warnings == ()
    on_16 = postgres.parse(payloads(roles, memberships, SERVER_16), config)
    assert on_16.grants == on_15.grants
    assert on_16.warnings == (
        "memberships.json: 2 membership(s) lack inherit_option although the server is version "
        "160002; inheritance was taken from the member's INHERIT attribute, which on 16 and "
        "later is only the default for new grants",
    )


def test_validity_is_judged_at_the_servers_clock(make_config: MakeConfig) -> None:
    roles = [
        role_row("before", rolvaliduntil="2024-05-31T23:59:59+00:00"),
        role_row("after", rolvaliduntil="2024-06-01T02:00:00+02:00"),  # 00:00 UTC: expired
        role_row("later", rolvaliduntil="2024-06-01T00:00:01.5+00:00"),
        role_row("forever", rolvaliduntil="infinity"),
        role_row("never", rolvaliduntil="-infinity"),
    ]
    records = postgres.parse(payloads(roles, [], SERVER_15), make_config())
    status = {a.account_id: a.status for a in records.accounts}
    assert status == {
        "before": AccountStatus.INACTIVE,
        "after": AccountStatus.INACTIVE,
        "later": AccountStatus.ACTIVE,
        "forever": AccountStatus.ACTIVE,
        "never": AccountStatus.INACTIVE,
    }
    expiry = {c.account_id: (c.expiry, c.expires_at, c.active) for c in records.credentials}
    assert expiry["forever"] == (Tri.NO, None, True)
    assert expiry["later"] == (
        Tri.YES,
        datetime(2024, 6, 1, 0, 0, 1, 500000, tzinfo=UTC),
        True,
    )
    assert expiry["never"][0] is Tri.YES and expiry["never"][2] is False


def test_without_server_json_validity_is_judged_now(make_config: MakeConfig) -> None:
    roles = [role_row("old", rolvaliduntil="2001-01-01T00:00:00+00:00"), role_row("new")]
    records = postgres.parse(payloads(roles, []), make_config())
    assert [a.status for a in records.accounts] == [
        AccountStatus.INACTIVE,
        AccountStatus.ACTIVE,
    ]
    assert records.warnings == (
        "server.json not in the export; VALID UNTIL is judged at collection time",
    )


def test_psql_dump_of_pg_roles_is_accepted(make_config: MakeConfig) -> None:
    """``select json_agg(r) from pg_roles r`` adds columns; they are ignored."""
    row = role_row("ann", rolconnlimit=-1, rolpassword="********", rolconfig=None)
    raw = (json.dumps([row]) + "\n").encode()
    records = postgres.parse(payloads(None, [], SERVER_15, raw=raw), make_config())
    assert [a.account_id for a in records.accounts] == ["ann"]


def test_privilege_reaches_through_login_roles(make_config: MakeConfig) -> None:
    roles = [role_row("root", rolsuper=True), role_row("eve"), role_row("bystander")]
    records = postgres.parse(payloads(roles, [member_row("root", "eve")], SERVER_15), make_config())
    assert {a.account_id: a.privileged for a in records.accounts} == {
        "root": Tri.YES,
        "eve": Tri.YES,
        "bystander": Tri.NO,
    }
    assert Entitlement("sys", "root", "root", "role", Tri.YES) in records.entitlements


@pytest.mark.parametrize(
    ("roles", "memberships", "where", "problem"),
    [
        ({"rolname": "x"}, [], "roles.json", "expected a JSON array of roles, got an object"),
        ([role_row("a"), 3], [], "roles.json", "[1]: expected an object, got a number"),
        (
            [role_row("a"), {k: v for k, v in role_row("b").items() if k != "rolcanlogin"}],
            [],
            "roles.json",
            "[1].rolcanlogin: missing",
        ),
        (
            [{k: v for k, v in role_row("a").items() if k != "rolvaliduntil"}],
            [],
            "roles.json",
            "[0].rolvaliduntil: missing",
        ),
        (
            [role_row("a", rolsuper="t")],
            [],
            "roles.json",
            "[0].rolsuper: expected a boolean, got a string",
        ),
        (
            [role_row("a", rolname=7)],
            [],
            "roles.json",
            "[0].rolname: expected a string, got a number",
        ),
        (
            [role_row("a", rolvaliduntil=1)],
            [],
            "roles.json",
            "[0].rolvaliduntil: expected a timestamp, got a number",
        ),
        (
            [role_row("a", rolvaliduntil="2024-01-01 00:00:00")],
            [],
            "roles.json",
            "[0].rolvaliduntil: timestamp has no time zone: '2024-01-01 00:00:00'",
        ),
        (
            [role_row("a"), role_row("b"), role_row("a")],
            [],
            "roles.json",
            "[2].rolname: duplicate 'a' (also at [0])",
        ),
        (
            [role_row("a")],
            None,
            "memberships.json",
            "expected a JSON array of memberships, got null",
        ),
        (
            [role_row("a")],
            [member_row("ghost", "a")],
            "memberships.json",
            "[0].role: no role 'ghost' in roles.json",
        ),
        (
            [role_row("a"), role_row("g", login=False)],
            [member_row("g", "a"), {"role": "g"}],
            "memberships.json",
            "[1].member: missing",
        ),
        (
            [role_row("a"), role_row("g", login=False)],
            [member_row("g", "a", inherit_option="yes")],
            "memberships.json",
            "[0].inherit_option: expected a boolean, got a string",
        ),
    ],
)
def test_bad_export_input(
    roles: Any, memberships: Any, where: str, problem: str, make_config: MakeConfig
) -> None:
    with pytest.raises(InputError) as caught:
        postgres.parse(payloads(roles, memberships, SERVER_15), make_config())
    assert caught.value.where == f"/x/{where}"
    assert caught.value.problem == problem


@pytest.mark.parametrize(
    ("server", "problem"),
    [
        ([], "expected a JSON object, got an array"),
        ({"server_version_num": 150004}, "now: missing"),
        ({"now": "yesterday"}, "now: not an ISO 8601 timestamp: 'yesterday'"),
        (
            {"now": "2024-06-01T00:00:00+00:00", "server_version_num": "15"},
            "server_version_num: expected a number, got a string",
        ),
    ],
)
def test_bad_server_json(server: Any, problem: str, make_config: MakeConfig) -> None:
    with pytest.raises(InputError) as caught:
        postgres.parse(payloads([role_row("a")], [], server), make_config())
    assert (caught.value.where, caught.value.problem) == ("/x/server.json", problem)


def test_invalid_json_names_the_line(make_config: MakeConfig) -> None:
    with pytest.raises(InputError) as caught:
        postgres.parse(payloads(None, [], raw=b"[\n{oops"), make_config())
    assert caught.value.where == "/x/roles.json:2"


def test_export_directory_without_memberships(tmp_path: Path, make_config: MakeConfig) -> None:
    (tmp_path / "roles.json").write_text(json.dumps([role_row("a")]))
    with pytest.raises(InputError) as caught:
        PostgresConnector().collect(make_config(path="."))
    assert caught.value.where == str(tmp_path / "memberships.json")
    assert caught.value.problem == "file not found"


# --- live mode failures ------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
    return port


def test_connection_refused_is_one_clean_line() -> None:
    port = _closed_port()
    password = f"Pw-{secrets.token_hex(12)}"
    config = ConnectorConfig(
        system_id=SYSTEM,
        mode="live",
        settings={"host": HOST, "port": port, "dbname": "inventory", "user": "auditor"},
        secrets={"password": password},
        base_dir=Path.cwd(),
    )
    with pytest.raises(InputError) as caught:
        PostgresConnector().collect(config)
    error = caught.value
    assert error.where == f"postgresql://auditor@127.0.0.1:{port}/inventory"
    assert "Connection refused" in error.problem
    assert f"port {port}" in error.problem
    assert "\n" not in str(error)
    assert "Traceback" not in str(error)
    assert password not in str(error)
    assert error.__cause__ is None and error.__suppress_context__


def test_unknown_role_reports_the_servers_message(cluster: Cluster) -> None:
    with pytest.raises(InputError) as caught:
        PostgresConnector().collect(cluster.config(cluster.name("nobody"), password="x-secret"))
    assert caught.value.where == (
        f"postgresql://{cluster.name('nobody')}@{HOST}:{PORT}/{cluster.dbname}"
    )
    assert f'role "{cluster.name("nobody")}" does not exist' in caught.value.problem
    assert "x-secret" not in str(caught.value)


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"user": "u"}, "connector setting 'host' is required"),
        ({"host": HOST}, "connector setting 'user' is required"),
        ({"host": HOST, "user": " "}, "connector setting 'user' must be a non-empty string"),
        (
            {"host": HOST, "user": "u", "port": "5432"},
            "connector setting 'port' must be a port number, got '5432'",
        ),
        (
            {"host": HOST, "user": "u", "port": 0},
            "connector setting 'port' must be a port number, got 0",
        ),
        (
            {"host": HOST, "user": "u", "port": True},
            "connector setting 'port' must be a port number, got True",
        ),
        (
            {"host": HOST, "user": "u", "dbname": 5},
            "connector setting 'dbname' must be a non-empty string",
        ),
    ],
)
def test_bad_live_settings(settings: dict[str, Any], problem: str, make_config: MakeConfig) -> None:
    with pytest.raises(InputError) as caught:
        PostgresConnector().collect(make_config(mode="live", **settings))
    assert (caught.value.where, caught.value.problem) == ("system sys", problem)


def test_unknown_mode(make_config: MakeConfig) -> None:
    with pytest.raises(InputError, match="does not support mode 'api'"):
        PostgresConnector().collect(make_config(mode="api"))
