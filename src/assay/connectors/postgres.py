"""PostgreSQL roles, their attributes and memberships, read live or from saved query output.

**Live mode.** Settings: ``host``, ``port`` (default 5432), ``dbname`` (default ``postgres``),
``user``, optional ``sslmode``; the password comes only from the ``password`` secret, and may be
absent where the server authenticates otherwise (trust, peer, certificate). The connector runs the
fixed queries below in one read-only, repeatable-read transaction, so the files agree with each
other, and keeps each result exactly as the server rendered it. Payload sources read
``postgresql://user@host:port/dbname#query``; the password is never written anywhere.

Least privilege: a plain ``LOGIN`` role that may connect to ``dbname`` (``CONNECT``, which
``PUBLIC`` holds by default) and that ``pg_hba.conf`` admits. ``pg_roles`` and ``pg_auth_members``
are readable by every role; ``pg_authid`` (superuser only) is deliberately not read.

**Export mode.** Setting ``path``: a directory holding ``roles.json`` and ``memberships.json``
(and, optionally, ``server.json``), as live mode writes them or as these commands write them
(add psql's usual connection options; ``PGTZ=UTC`` only makes timestamps read in UTC)::

    PGTZ=UTC psql -At -c "SELECT coalesce(json_agg(r ORDER BY r.rolname), '[]') FROM (
      SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin,
             rolreplication, rolbypassrls, rolvaliduntil, oid FROM pg_roles) r" > roles.json
    PGTZ=UTC psql -At -c "SELECT coalesce(json_agg(m ORDER BY m.role, m.member), '[]') FROM (
      SELECT r.rolname AS role, u.rolname AS member, a.admin_option
      FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid
      JOIN pg_roles u ON u.oid = a.member) m" > memberships.json
    PGTZ=UTC psql -At -c "SELECT json_build_object('version', version(),
      'server_version_num', current_setting('server_version_num')::int,
      'current_user', current_user, 'database', current_database(),
      'now', now())" > server.json

On PostgreSQL 16 and later add ``, a.inherit_option`` after ``a.admin_option``: from 16 each
grant says whether it is inherited. ``psql -At -c "select json_agg(r) from pg_roles r"`` also
makes a valid ``roles.json``. ``server.json`` carries the server's clock: a role's ``VALID
UNTIL`` is judged against it, and against the collection time when it is absent.

**Records.** Each ``LOGIN`` role is an account (``account_id`` = role name). The database cannot
tell people from services, and does not know about MFA (that is ``pg_hba.conf``'s business), so
kind and MFA are unknown. ``VALID UNTIL`` only limits *password* sign-in, but a role past it is
reported inactive, as the role's owner meant it to be.

Entitlements: every role that is not a login role, and every login role granted to another role,
is a ``role``; the attributes ``SUPERUSER``, ``CREATEROLE``, ``BYPASSRLS`` and ``REPLICATION`` are
``permission`` entitlements (``attribute:superuser`` …), privileged. A role with one of those
attributes is privileged, as are the predefined roles in ``PRIVILEGED_PREDEFINED``; other roles'
privilege is unknown, since table grants are not read.

Grants: each direct membership (``via`` None); each role inherited through a chain of
memberships, with ``via`` the role the account is a direct member of (revoking that membership
removes the access); each privileged attribute a login role holds itself. Inheritance follows
each grant's ``inherit_option`` on PostgreSQL 16 and later, else the member's ``INHERIT``
attribute: a ``NOINHERIT`` member keeps its direct membership but inherits nothing through it.

An account is privileged when it holds a privileged attribute, or when it is a member, directly
or through any chain, of a privileged role: even without inheritance it can ``SET ROLE`` to it
(a grant made ``WITH SET FALSE`` on 16 and later is not read, so this errs towards *yes*).

Credentials: ``pg_roles`` hides whether a role has a password at all, so each login role gets a
``password-validity`` credential describing only the ``VALID UNTIL`` window: expiry *yes* at
that time, *no* when it is null or ``infinity``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import psycopg
from pydantic import StrictInt, StrictStr

from assay.connectors import _export
from assay.connectors.base import Collected, ConnectorConfig, RawPayload, Settings, SettingsModel
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

ROLES = "roles.json"
MEMBERSHIPS = "memberships.json"
SERVER = "server.json"

DEFAULT_PORT = 5432
DEFAULT_DBNAME = "postgres"
CONNECT_TIMEOUT_SECONDS = 10
INHERIT_OPTION_SINCE = 160000
"""``server_version_num`` from which ``pg_auth_members`` has a per-grant ``inherit_option``."""

ROLES_SQL = (
    "SELECT coalesce(json_agg(r ORDER BY r.rolname), '[]')::text FROM ("
    "SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, "
    "rolreplication, rolbypassrls, rolvaliduntil, oid FROM pg_roles) r"
)
_MEMBERSHIPS_SQL = (
    "SELECT coalesce(json_agg(m ORDER BY m.role, m.member), '[]')::text FROM ("
    "SELECT r.rolname AS role, u.rolname AS member, a.admin_option{extra} "
    "FROM pg_auth_members a "
    "JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles u ON u.oid = a.member) m"
)
MEMBERSHIPS_SQL = _MEMBERSHIPS_SQL.format(extra="")
MEMBERSHIPS_SQL_16 = _MEMBERSHIPS_SQL.format(extra=", a.inherit_option")
SERVER_SQL = (
    "SELECT json_build_object('version', version(), "
    "'server_version_num', current_setting('server_version_num')::int, "
    "'current_user', current_user, 'database', current_database(), 'now', now())::text"
)

ATTRIBUTE_NAMES: Mapping[str, str] = {
    "rolsuper": "superuser",
    "rolcreaterole": "createrole",
    "rolbypassrls": "bypassrls",
    "rolreplication": "replication",
}
"""The privileged attributes' ``pg_roles`` columns, and their keywords (entitlement names)."""
ATTRIBUTES: tuple[str, ...] = tuple(ATTRIBUTE_NAMES)
BOOLEAN_FIELDS: tuple[str, ...] = ("rolcanlogin", "rolinherit", *ATTRIBUTES)
PRIVILEGED_PREDEFINED: frozenset[str] = frozenset(
    {
        "pg_read_all_data",
        "pg_write_all_data",
        "pg_execute_server_program",
        "pg_read_server_files",
        "pg_write_server_files",
        "pg_signal_backend",
    }
)
"""Predefined roles that reach every table, the server's files or programs, or other sessions."""
CREDENTIAL_KIND = "password-validity"


def attribute_entitlement_id(column: str) -> str:
    """``attribute:superuser`` and so on: prefixed, so a role named ``superuser`` cannot clash."""
    return f"attribute:{ATTRIBUTE_NAMES[column]}"


class PostgresSettings(Settings):
    """The saved query output (export mode), or where to connect (live mode); the password
    only from the ``password`` secret."""

    SECRETS = ("password",)

    path: StrictStr | None = None
    host: StrictStr | None = None
    port: StrictInt | None = None
    dbname: StrictStr | None = None
    user: StrictStr | None = None
    sslmode: StrictStr | None = None


class PostgresConnector:
    """Reads roles and memberships from a server (``live``) or a directory (``export``)."""

    type: str = "postgres"
    version: str = "1"
    settings: SettingsModel = PostgresSettings

    def collect(self, config: ConnectorConfig) -> Collected:
        started_at = datetime.now(UTC)
        if config.mode == _export.LIVE_MODE:
            payloads, parameters = _read_live(config)
        elif config.mode == _export.EXPORT_MODE:
            payloads, parameters = _read_export(config)
        else:
            raise InputError(
                f"system {config.system_id}",
                f"connector '{self.type}' does not support mode '{config.mode}'; "
                f"use '{_export.LIVE_MODE}' or '{_export.EXPORT_MODE}'",
            )
        records = parse(payloads, config)
        parameters |= {
            "entitlements": len(records.entitlements),
            "accounts": len(records.accounts),
            "grants": len(records.grants),
        }
        return _export.finish(
            config, self.type, self.version, started_at, payloads, records, parameters
        )


@dataclass(frozen=True)
class _Target:
    """Where live mode connects; everything but the password."""

    host: str
    port: int
    dbname: str
    user: str
    sslmode: str | None

    @property
    def url(self) -> str:
        return (
            f"postgresql://{quote(self.user, safe='')}@{quote(self.host, safe='')}:{self.port}"
            f"/{quote(self.dbname, safe='')}"
        )


def _target(config: ConnectorConfig) -> _Target:
    where = f"system {config.system_id}"

    def text(key: str, default: str | None = None) -> str | None:
        value = config.settings.get(key, default)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise InputError(where, f"connector setting '{key}' must be a non-empty string")
        return value

    def required(key: str) -> str:
        value = text(key)
        if value is None:
            raise InputError(where, f"connector setting '{key}' is required")
        return value

    port = config.settings.get("port", DEFAULT_PORT)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise InputError(where, f"connector setting 'port' must be a port number, got {port!r}")
    return _Target(
        host=required("host"),
        port=port,
        dbname=text("dbname", DEFAULT_DBNAME) or DEFAULT_DBNAME,
        user=required("user"),
        sslmode=text("sslmode"),
    )


def _read_live(config: ConnectorConfig) -> tuple[list[RawPayload], dict[str, Any]]:
    """Run the fixed queries in one read-only snapshot; errors never carry the password."""
    target = _target(config)
    password = config.secrets.get("password") or None
    query = "connect"
    texts: dict[str, str] = {}
    try:
        with psycopg.connect(
            host=target.host,
            port=target.port,
            dbname=target.dbname,
            user=target.user,
            password=password,
            sslmode=target.sslmode,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            application_name="assay",
        ) as connection:
            connection.read_only = True
            connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            connection.execute("SET TIME ZONE 'UTC'")
            query = "server"
            texts[SERVER] = _scalar(connection, SERVER_SQL)
            version_num = _scalar(connection, "SELECT current_setting('server_version_num')")
            memberships_sql = (
                MEMBERSHIPS_SQL_16 if int(version_num) >= INHERIT_OPTION_SINCE else MEMBERSHIPS_SQL
            )
            query = "roles"
            texts[ROLES] = _scalar(connection, ROLES_SQL)
            query = "memberships"
            texts[MEMBERSHIPS] = _scalar(connection, memberships_sql)
            connection.rollback()
    except psycopg.Error as exc:
        where = target.url if query == "connect" else f"{target.url}#{query}"
        message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        if password:
            message = message.replace(password, "***")
        raise InputError(where, message) from None
    payloads = [
        RawPayload(name, f"{target.url}#{name.removesuffix('.json')}", text.encode())
        for name, text in texts.items()
    ]
    parameters: dict[str, Any] = {
        "source": target.url,
        "host": target.host,
        "port": target.port,
        "dbname": target.dbname,
        "user": target.user,
        "sslmode": target.sslmode,
        "server_version_num": int(version_num),
        "queries": {SERVER: SERVER_SQL, ROLES: ROLES_SQL, MEMBERSHIPS: memberships_sql},
    }
    return payloads, parameters


def _scalar(connection: psycopg.Connection[Any], sql: str) -> str:
    row = connection.execute(sql).fetchone()
    if row is None or not isinstance(row[0], str):
        raise psycopg.DataError("the query returned no text")
    return row[0]


def _read_export(config: ConnectorConfig) -> tuple[list[RawPayload], dict[str, Any]]:
    directory = _export.require_directory(config.path())
    payloads = [_export.read_payload(directory, name) for name in (ROLES, MEMBERSHIPS)]
    if (directory / SERVER).exists():
        payloads.append(_export.read_payload(directory, SERVER))
    return payloads, {"path": str(directory), "files": [payload.name for payload in payloads]}


@dataclass(frozen=True)
class _Role:
    name: str
    position: int
    login: bool
    inherit: bool
    attributes: tuple[str, ...]
    """The privileged attribute columns that are true."""
    valid_until: datetime | None
    never_expires: bool
    """True when ``rolvaliduntil`` is null or ``infinity``."""


def parse(payloads: Sequence[RawPayload], config: ConnectorConfig) -> Records:
    """Accounts, entitlements, effective grants and password windows from the payloads."""
    index = _export.by_name(payloads)
    warnings: list[str] = []
    server = index.get(SERVER)
    if server is None:
        as_of = datetime.now(UTC)
        warnings.append(f"{SERVER} not in the export; VALID UNTIL is judged at collection time")
        version_num = None
    else:
        as_of, version_num = _server(server)
    roles = _roles(_export.require_payload(index, ROLES))
    memberships = _memberships(
        _export.require_payload(index, MEMBERSHIPS), roles, version_num, warnings
    )
    system = config.system_id

    granted = {role for members in memberships.values() for role in members}
    entitlements = [
        Entitlement(
            system, attribute_entitlement_id(column), ATTRIBUTE_NAMES[column], "permission", Tri.YES
        )
        for column in ATTRIBUTES
    ]
    privileged_roles: set[str] = set()
    for role in roles.values():
        if role.login and role.name not in granted:
            continue
        if role.attributes or role.name in PRIVILEGED_PREDEFINED:
            privileged_roles.add(role.name)
        entitlements.append(
            Entitlement(
                system,
                role.name,
                role.name,
                "role",
                Tri.YES if role.name in privileged_roles else Tri.UNKNOWN,
            )
        )

    accounts: list[Account] = []
    credentials: list[Credential] = []
    grants: dict[tuple[str, str | None], None] = {}
    all_grants: list[Grant] = []
    inherited_from = _Reach(memberships, inheriting_only=True)
    reached_from = _Reach(memberships, inheriting_only=False)
    for role in roles.values():
        if not role.login:
            continue
        grants.clear()
        for column in role.attributes:
            grants[(attribute_entitlement_id(column), None)] = None
        direct_roles = memberships.get(role.name, {})
        for direct, inherits in direct_roles.items():
            grants[(direct, None)] = None
            if inherits:
                for inherited in inherited_from(direct):
                    grants[(inherited, direct)] = None
        all_grants.extend(Grant(system, role.name, held, via) for held, via in grants)
        privileged = bool(role.attributes) or any(
            reached in privileged_roles and reached != role.name
            for direct in direct_roles
            for reached in (direct, *reached_from(direct))
        )
        open_window = role.never_expires or (
            role.valid_until is not None and role.valid_until > as_of
        )
        accounts.append(
            Account(
                system_id=system,
                account_id=role.name,
                username=role.name,
                email=None,
                name=None,
                employee_id=None,
                kind=AccountKind.UNKNOWN,
                status=AccountStatus.ACTIVE if open_window else AccountStatus.INACTIVE,
                mfa_registered=Tri.UNKNOWN,
                mfa_enforced=Tri.UNKNOWN,
                last_login=None,
                last_login_source=None,
                privileged=Tri.YES if privileged else Tri.NO,
            )
        )
        credentials.append(
            Credential(
                system_id=system,
                credential_id=f"{role.name}:{CREDENTIAL_KIND}",
                kind=CREDENTIAL_KIND,
                account_id=role.name,
                active=open_window,
                created=None,
                last_rotated=None,
                last_used=None,
                last_used_source=None,
                expires_at=None if role.never_expires else role.valid_until,
                expiry=Tri.NO if role.never_expires else Tri.YES,
            )
        )
    return Records(
        accounts=tuple(accounts),
        credentials=tuple(credentials),
        entitlements=tuple(entitlements),
        grants=tuple(all_grants),
        warnings=tuple(warnings),
    )


class _Reach:
    """``_reach`` from each role, computed once: thousands of login roles share a few groups."""

    def __init__(self, memberships: Mapping[str, Mapping[str, bool]], *, inheriting_only: bool):
        self._memberships = memberships
        self._inheriting_only = inheriting_only
        self._known: dict[str, list[str]] = {}

    def __call__(self, start: str) -> list[str]:
        known = self._known.get(start)
        if known is None:
            known = _reach(self._memberships, start, inheriting_only=self._inheriting_only)
            self._known[start] = known
        return known


def _reach(
    memberships: Mapping[str, Mapping[str, bool]], start: str, *, inheriting_only: bool
) -> list[str]:
    """Roles ``start`` is a member of through chains, in discovery order, excluding itself.

    With ``inheriting_only``, the chain starts at ``start`` (already inherited) and follows only
    edges whose member inherits, as privileges flow; otherwise every edge, as ``SET ROLE`` does.
    """
    found: dict[str, None] = {}
    stack = [start]
    while stack:
        member = stack.pop()
        for role, inherits in memberships.get(member, {}).items():
            if role in found or role == start or (inheriting_only and not inherits):
                continue
            found[role] = None
            stack.append(role)
    return list(found)


def _server(payload: RawPayload) -> tuple[datetime, int | None]:
    """The server's clock at collection and its version number, from ``server.json``."""
    document = _export.load_json(payload)
    if not isinstance(document, dict):
        raise InputError(
            payload.source, f"expected a JSON object, got {_export.json_kind(document)}"
        )
    now = _timestamp(payload, document, "", "now")
    if now is None:
        raise InputError(payload.source, "now: missing")
    version_num = document.get("server_version_num")
    if version_num is not None and (
        isinstance(version_num, bool) or not isinstance(version_num, int)
    ):
        raise InputError(
            payload.source,
            f"server_version_num: expected a number, got {_export.json_kind(version_num)}",
        )
    return now, version_num


def _roles(payload: RawPayload) -> dict[str, _Role]:
    rows = _export.load_json_array_of_objects(payload, "roles")
    roles: dict[str, _Role] = {}
    for position, row in enumerate(rows):
        path = f"[{position}]"
        name = _export.required_string(payload, row, path, "rolname")
        if name in roles:
            raise InputError(
                payload.source,
                f"{path}.rolname: duplicate '{name}' (also at [{roles[name].position}])",
            )
        flags = {key: _required_bool(payload, row, path, key) for key in BOOLEAN_FIELDS}
        if "rolvaliduntil" not in row:
            raise InputError(payload.source, f"{path}.rolvaliduntil: missing")
        valid_until = _timestamp(payload, row, path, "rolvaliduntil")
        roles[name] = _Role(
            name=name,
            position=position,
            login=flags["rolcanlogin"],
            inherit=flags["rolinherit"],
            attributes=tuple(column for column in ATTRIBUTES if flags[column]),
            valid_until=valid_until,
            never_expires=valid_until is None or valid_until == datetime.max.replace(tzinfo=UTC),
        )
    return roles


def _memberships(
    payload: RawPayload,
    roles: Mapping[str, _Role],
    version_num: int | None,
    warnings: list[str],
) -> dict[str, dict[str, bool]]:
    """member → {role: inherits}; on 16+ a member inherits when any of its grants says so."""
    rows = _export.load_json_array_of_objects(payload, "memberships")
    edges: dict[str, dict[str, bool]] = {}
    without_option = 0
    for position, row in enumerate(rows):
        path = f"[{position}]"
        names: dict[str, str] = {}
        for key in ("role", "member"):
            names[key] = _export.required_string(payload, row, path, key)
            if names[key] not in roles:
                raise InputError(payload.source, f"{path}.{key}: no role '{names[key]}' in {ROLES}")
        if "inherit_option" in row:
            inherits = _required_bool(payload, row, path, "inherit_option")
        else:
            inherits = roles[names["member"]].inherit
            without_option += 1
        member_edges = edges.setdefault(names["member"], {})
        member_edges[names["role"]] = member_edges.get(names["role"], False) or inherits
    if without_option and version_num is not None and version_num >= INHERIT_OPTION_SINCE:
        warnings.append(
            f"{payload.name}: {without_option} membership(s) lack inherit_option although the "
            f"server is version {version_num}; inheritance was taken from the member's INHERIT "
            "attribute, which on 16 and later is only the default for new grants"
        )
    return edges


def _required_bool(payload: RawPayload, item: Mapping[str, Any], path: str, key: str) -> bool:
    if key not in item or item[key] is None:
        raise InputError(payload.source, f"{path}.{key}: missing")
    value = item[key]
    if not isinstance(value, bool):
        raise InputError(
            payload.source, f"{path}.{key}: expected a boolean, got {_export.json_kind(value)}"
        )
    return value


def _timestamp(
    payload: RawPayload, item: Mapping[str, Any], path: str, key: str
) -> datetime | None:
    """A timestamp as PostgreSQL's JSON renders it; ``infinity`` bounds become min / max."""
    field_path = f"{path}.{key}" if path else key
    value = item.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(
            payload.source,
            f"{field_path}: expected a timestamp, got {_export.json_kind(value)}",
        )
    if value == "infinity":
        return datetime.max.replace(tzinfo=UTC)
    if value == "-infinity":
        return datetime.min.replace(tzinfo=UTC)
    try:
        return _export.parse_timestamp(value)
    except ValueError as exc:
        raise InputError(payload.source, f"{field_path}: {exc}") from None
