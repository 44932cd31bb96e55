"""People and groups from an LDAP directory (OpenLDAP) or Active Directory, live or from LDIF.

**Settings.** ``flavour``: ``openldap`` (default) or ``active_directory``; it picks the default
filters and whether Active Directory's built-in administrator groups and ``adminCount`` count as
privilege. ``privileged_groups``: group names (``cn``) or DNs whose members are privileged.

**Live mode.** Settings ``url`` (``ldap://host:389`` or ``ldaps://host:636``; an ``ldaps`` server
certificate is verified, against ``ca_file`` when given), ``base_dn``, ``bind_dn``, optional
``user_filter`` and ``group_filter`` (defaults below), ``page_size`` (default 500); the bind
password only from the ``password`` secret. One simple bind, then one subtree search for
``(|user_filter group_filter)`` with the RFC 2696 paged-results control, followed to the last
page. Each page is kept as ``entries.page-NNN.ldif``: the entries as received, written as LDIF
(RFC 2849), so the evidence shows the pages fetched and can be read by any LDAP tool. OpenLDAP
then gets a second paged search, ``(&<user_filter>(userPassword=*))`` asking for no attributes
(``1.1``), kept as ``password-holders.page-NNN.ldif``: which accounts hold a password, by DN
alone (a failure part way keeps a marker and leaves the accounts it did not list *unknown*).
An entries search that stops early — a size, time or administrative limit, or the server going
away — keeps the pages read and a marker ``entries.page-NNN.failed`` saying why, and the
collection is incomplete; a refused bind, an unreachable server or a search the server
rejects (no such base, a bad filter) is an error.

Least privilege: a dedicated bind account that may only read. In OpenLDAP, an ACL granting it
``read`` on the user and group entries, only ``search`` on ``userPassword`` — ``access to
attrs=userPassword by anonymous auth by dn.exact="<bind_dn>" =s by * none``: it may use the
attribute in a filter, not read it nor compare a guess with it — and a limit letting a paged
search return the whole population (``limits dn.exact="<bind_dn>" size.prtotal=unlimited``; the
default stops paged searches at the hard size limit, 500). In Active Directory any ordinary
domain user can read these attributes: use a plain, non-administrative account.

Password values never reach the evidence: where a search or an export holds ``userPassword``
(or ``authPassword``) values anyway, each is replaced before anything is kept by
``{REDACTED}``, or ``{REDACTED}!`` for one that can never match, and the parameters count them
(``password_values_redacted``); such a payload is no longer byte for byte what the server sent.

**Export mode.** Setting ``path``: an LDIF file, or a directory whose ``*.ldif`` files are all
read (each entry once: a DN in two places is an error). Write them with::

    ldapsearch -LLL -x -H ldap://host -D "<bind_dn>" -W -b "<base_dn>" -E pr=500/noprompt \\
        "(|<user_filter><group_filter>)" "*" pwdAccountLockedTime pwdChangedTime authTimestamp \\
        pwdStartTime pwdEndTime > directory.ldif
    ldapsearch -LLL -x -H ldap://host -D "<bind_dn>" -W -b "<base_dn>" -E pr=500/noprompt \\
        "(&<user_filter>(userPassword=*))" 1.1 > password-holders.ldif
    ldifde -f directory.ldif -d "<base_dn>" -r "(|(objectClass=user)(objectClass=group))"

(check ``ldapsearch``'s exit status: a size limit leaves a partial file that looks whole.) In a
directory, a file named ``password-holders.ldif`` is the list of accounts holding a password
(its entries' DNs only are read); ``userPassword`` values in the entries themselves say so too.
Folded lines, ``::`` base64 values, comments, a ``version: 1`` line and ``ldifde``'s
``changetype: add`` are understood; other change records and ``:<`` URL values are refused.

**Default filters.** OpenLDAP: users ``(|(objectClass=person)(objectClass=posixAccount)
(objectClass=simpleSecurityObject))``, groups ``(|(objectClass=groupOfNames)
(objectClass=groupOfUniqueNames)(objectClass=posixGroup))``. Active Directory: users
``(objectClass=user)`` (computers included), groups ``(objectClass=group)``.

**Records.** An entry is a group when one of its object classes is ``groupOfNames``,
``groupOfUniqueNames``, ``posixGroup`` or ``group``, else an account when one is ``person``,
``organizationalPerson``, ``inetOrgPerson``, ``user``, ``computer``, ``posixAccount`` or
``simpleSecurityObject``; other entries are not read (a warning counts them). The account id is
the entry's DN; the username is ``sAMAccountName``, else ``uid``, else ``cn``.

Kind: *system* for Active Directory computers (class ``computer``, or a trust-account bit 0x800,
0x1000 or 0x2000 in ``userAccountControl``); *service* for managed service accounts
(``msDS-ManagedServiceAccount``, ``msDS-GroupManagedServiceAccount``), for accounts with a
``servicePrincipalName``, and for entries that are not a person at all (``account`` +
``posixAccount``, ``organizationalRole`` + ``simpleSecurityObject`` bind accounts); otherwise
*human*.

Status: whether the account can sign in, by the source's own rules, judged at the moment of
collection (on replay, the stored collection's).

- Active Directory (an entry with ``userAccountControl``): bit 0x2 (ACCOUNTDISABLE) set is
  *inactive*, clear is *active*.
- OpenLDAP (any other entry): *inactive* when its password policy refuses every bind for good —
  ``pwdAccountLockedTime`` ``000001010000Z`` (locked by an administrator until unlocked; taken
  at its word, though slapd enforces it only where the policy sets ``pwdLockout``),
  ``pwdEndTime`` passed (or not after ``pwdStartTime``), or every ``userPassword`` value one that
  can never match (a hash that is empty or starts with ``!`` or ``*`` after its ``{scheme}``:
  ``{CRYPT}!…``, as ``usermod -L`` locks one; seen only where the values are readable).
  *Unknown*, with a warning, when a refusal may lift by itself or binds are not what refuses:
  a lock with a time (it lifts after the policy's ``pwdLockoutDuration``, which is not read), a
  ``pwdStartTime`` still ahead, or a ``shadowExpire`` on or before the collection day (PAM and
  nss refuse logins then, slapd does not refuse a bind). Otherwise an entry that holds a
  password — a ``userPassword`` value, or its DN on the password-holders list — can bind and is
  *active*. An entry with no password cannot simple-bind but may sign in by SASL (Kerberos,
  EXTERNAL) or a certificate, which the directory does not show: *unknown*, counted in a
  warning. Password expiry by the policy's ``pwdMaxAge`` and shadow password ageing are not
  read: an account whose password has aged out still counts as *active*.

Last login: Active Directory's ``lastLogonTimestamp`` (a FILETIME; replicated, so up to about
two weeks behind) or the lastbind overlay's ``authTimestamp``; ``last_login_source`` names the
attribute (``ldap:lastLogonTimestamp``). Nothing else is taken for a login time. MFA registration
and enforcement are *unknown*: a directory does not record them. ``employee_id`` is
``employeeID`` or ``employeeNumber`` (the flavour's own first), ``email`` is ``mail``.

Password credentials (``<dn>#password``): from ``pwdLastSet`` (0 means the user must set a new
password at next logon: no rotation time) or ppolicy's ``pwdChangedTime``. Expiry is *no* when
``userAccountControl`` has DONT_EXPIRE_PASSWORD (0x10000), else *unknown* (the domain's maximum
password age is not read).

Groups are ``group`` entitlements. Members come from ``member`` and ``uniqueMember`` (DNs,
compared case-insensitively and without spacing or escaping differences), ``memberUid`` (a
``uid`` or ``sAMAccountName``) and, in Active Directory, an account's ``primaryGroupID`` (matched
to a group by ``objectSid``). A member that is itself a group passes its membership on: each
account gets a grant for every group it belongs to directly (``via`` None) and for every group
those groups are nested in (``via`` the direct group, whose membership revoking would remove
it). Members matching no collected entry are counted in a warning.

Privilege: a group is privileged when ``privileged_groups`` names it, or (Active Directory) it is
Domain Admins, Enterprise Admins, Schema Admins or Administrators — by name, or by well-known SID
— or it is nested in a privileged group. An account is privileged when it holds a privileged
group, or (Active Directory) has ``adminCount=1``; otherwise privilege is *unknown*, since rights
delegated by access control lists are not read. The account whose SID ends in 500 is the domain's
built-in Administrator (``root``).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
import ssl
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import ldap3
from ldap3.core.exceptions import LDAPException
from pydantic import BeforeValidator, StrictInt, StrictStr

from assay.connectors import _export, _pages, _urls
from assay.connectors.base import (
    Collected,
    ConnectorConfig,
    RawPayload,
    Settings,
    SettingsModel,
    Url,
)
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

OPENLDAP = "openldap"
ACTIVE_DIRECTORY = "active_directory"
FLAVOURS = (OPENLDAP, ACTIVE_DIRECTORY)

LIST = "entries"
HOLDERS = "password-holders"
"""The list of accounts that hold a ``userPassword``, by DN only (a presence search)."""
HOLDERS_EXPORT = f"{HOLDERS}.ldif"
PAGE = re.compile(rf"(?P<list>{LIST}|{HOLDERS})\.page-(?P<page>\d+)\.(?P<kind>ldif|failed)")
"""Live pages and the failure marker, in the layout ``_pages`` checks for gaps."""
DEFAULT_PAGE_SIZE = 500
CONNECT_TIMEOUT_SECONDS = 10
RECEIVE_TIMEOUT_SECONDS = 120
PAGED_RESULTS = "1.2.840.113556.1.4.319"
OPERATIONAL = (
    "pwdAccountLockedTime",
    "pwdChangedTime",
    "authTimestamp",
    "pwdStartTime",
    "pwdEndTime",
)
"""Operational attributes read besides ``*``: servers return them only when asked by name."""
STOPPED_EARLY = frozenset({3, 4, 11, 51, 52})
"""Result codes that end a search part way (time, size and administrative limits, busy,
unavailable): the pages read are kept and the population is incomplete."""

DEFAULT_FILTERS: Mapping[str, tuple[str, str]] = {
    OPENLDAP: (
        "(|(objectClass=person)(objectClass=posixAccount)(objectClass=simpleSecurityObject))",
        "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup))",
    ),
    ACTIVE_DIRECTORY: ("(objectClass=user)", "(objectClass=group)"),
}
"""The user and group filter of each flavour."""

GROUP_CLASSES = frozenset({"groupofnames", "groupofuniquenames", "posixgroup", "group"})
PERSON_CLASSES = frozenset({"person", "organizationalperson", "inetorgperson", "user"})
ACCOUNT_CLASSES = PERSON_CLASSES | {"computer", "posixaccount", "simplesecurityobject"}
MANAGED_SERVICE_CLASSES = frozenset(
    {"msds-managedserviceaccount", "msds-groupmanagedserviceaccount"}
)

ACCOUNTDISABLE = 0x2
TRUST_ACCOUNT_BITS = 0x800 | 0x1000 | 0x2000
"""Interdomain, workstation and server (domain controller) trust accounts: machines."""
DONT_EXPIRE_PASSWORD = 0x10000
LOCKED_BY_ADMINISTRATOR = "000001010000Z"
NO_ATTRIBUTES = "1.1"
"""The attribute list that asks a search for DNs only (RFC 4511)."""
PASSWORD_ATTRIBUTES = frozenset({"userpassword", "2.5.4.35", "authpassword"})
REDACTED = b"{REDACTED}"
"""What a stored payload holds instead of a password value that can match some password."""
REDACTED_UNUSABLE = b"{REDACTED}!"
"""…and instead of one that can never match (a ``{CRYPT}!…`` lock, an empty value)."""
SHADOW_NEVER = -1
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
FILETIME_NEVER = 0x7FFFFFFFFFFFFFFF

AD_ADMIN_GROUPS = frozenset(
    {"domain admins", "enterprise admins", "schema admins", "administrators"}
)
AD_ADMIN_RIDS = frozenset({512, 518, 519})
"""Domain Admins, Schema Admins, Enterprise Admins: relative ids in the domain's SID."""
BUILTIN_ADMINISTRATORS_SID = "S-1-5-32-544"
ADMINISTRATOR_RID = 500


def _one_or_many(value: object) -> object:
    return (value,) if isinstance(value, str) else value


class LdapSettings(Settings):
    """Both modes: ``flavour``, ``privileged_groups``; export: ``path``; live: the rest (the
    bind password only from the ``password`` secret)."""

    SECRETS = ("password",)

    flavour: StrictStr | None = None
    privileged_groups: Annotated[tuple[StrictStr, ...], BeforeValidator(_one_or_many)] | None = None
    path: StrictStr | None = None
    url: Url | None = None
    base_dn: StrictStr | None = None
    bind_dn: StrictStr | None = None
    user_filter: StrictStr | None = None
    group_filter: StrictStr | None = None
    page_size: StrictInt | None = None
    ca_file: StrictStr | None = None


class LdapConnector:
    """Reads a directory's accounts and groups live (paged search) or from LDIF files."""

    type: str = "ldap"
    version: str = "1"
    settings: SettingsModel = LdapSettings

    def collect(self, config: ConnectorConfig) -> Collected:
        started_at = datetime.now(UTC)
        settings = _Settings.of(config)
        failure: str | None = None
        if config.mode == _export.LIVE_MODE:
            payloads, parameters, failure = _read_live(config, settings)
        elif config.mode == _export.EXPORT_MODE:
            payloads, parameters = _read_export(config)
        else:
            raise _export.unsupported_mode(config, self.type, _export.MODES)
        payloads, redacted = _without_passwords(payloads)
        records, directory = _read(payloads, config, settings, started_at)
        parameters |= {
            "flavour": settings.flavour,
            "password_values_redacted": redacted,
            "entries": directory.entries,
            "accounts": len(records.accounts),
            "groups": len(records.entitlements),
            "grants": len(records.grants),
        }
        return _export.finish(
            config,
            self.type,
            self.version,
            started_at,
            payloads,
            records,
            parameters,
            complete=directory.failed_page is None,
            incomplete_reason=failure or directory.failure(),
        )


def parse(payloads: Sequence[RawPayload], config: ConnectorConfig) -> Records:
    """Records from LDIF payloads: live pages (with any failure marker) or export files; dates
    that decide a status are judged at the moment they were collected (``config.moment()``)."""
    return _read(payloads, config, _Settings.of(config), config.moment())[0]


def page_name(number: int, list_name: str = LIST) -> str:
    """A live page's payload name: ``entries.page-001.ldif``."""
    return f"{list_name}.page-{number:03d}.ldif"


@dataclass(frozen=True)
class _Settings:
    """The settings every mode reads."""

    flavour: str
    privileged_groups: tuple[str, ...]

    @staticmethod
    def of(config: ConnectorConfig) -> _Settings:
        where = f"system {config.system_id}"
        flavour = config.settings.get("flavour", OPENLDAP)
        if flavour not in FLAVOURS:
            raise InputError(
                where, f"connector setting 'flavour' must be one of {', '.join(FLAVOURS)}"
            )
        named = config.settings.get("privileged_groups", ())
        if isinstance(named, str):
            named = (named,)
        if not isinstance(named, tuple | list) or not all(
            isinstance(name, str) and name.strip() for name in named
        ):
            raise InputError(
                where, "connector setting 'privileged_groups' must be a list of group names or DNs"
            )
        return _Settings(flavour, tuple(name.strip() for name in named))


# --- live mode -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    """Where and how live mode searches; everything but the password."""

    url: str
    base_dn: str
    bind_dn: str
    user_filter: str
    group_filter: str
    page_size: int
    ca_file: Path | None

    @property
    def filter(self) -> str:
        return f"(|{self.user_filter}{self.group_filter})"

    @property
    def holders_filter(self) -> str:
        """The accounts that hold a password: needs only ``search`` access to userPassword."""
        return f"(&{self.user_filter}(userPassword=*))"

    @staticmethod
    def of(config: ConnectorConfig, flavour: str) -> _Target:
        where = f"system {config.system_id}"

        def text(key: str, default: str | None = None) -> str:
            value = config.settings.get(key, default)
            if not isinstance(value, str) or not value.strip():
                problem = "must be a non-empty string" if key in config.settings else "is required"
                raise InputError(where, f"connector setting '{key}' {problem}")
            return value.strip()

        url = text("url")
        if not url.lower().startswith(("ldap://", "ldaps://")):
            raise InputError(
                where,
                f"connector setting 'url' must be ldap://host:port or ldaps://…, got "
                f"{_urls.public(url)!r}",
            )
        config.url("url", url, sends_secret=True)  # the bind password
        users, groups = DEFAULT_FILTERS[flavour]
        page_size = config.settings.get("page_size", DEFAULT_PAGE_SIZE)
        if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
            raise InputError(
                where, f"connector setting 'page_size' must be a positive number, got {page_size!r}"
            )
        filters = [text("user_filter", users), text("group_filter", groups)]
        for key, value in zip(("user_filter", "group_filter"), filters, strict=True):
            if not (value.startswith("(") and value.endswith(")")):
                raise InputError(
                    where, f"connector setting '{key}' must be an LDAP filter in parentheses"
                )
        return _Target(
            url=url,
            base_dn=text("base_dn"),
            bind_dn=text("bind_dn"),
            user_filter=filters[0],
            group_filter=filters[1],
            page_size=page_size,
            ca_file=config.path("ca_file") if "ca_file" in config.settings else None,
        )


def _read_live(
    config: ConnectorConfig, settings: _Settings
) -> tuple[list[RawPayload], dict[str, Any], str | None]:
    """Bind, then page through the search; the failure says why it stopped early, if it did."""
    target = _Target.of(config, settings.flavour)
    password = config.secrets.get("password")
    if not password:
        raise InputError(
            f"system {config.system_id}",
            "connector 'ldap' in mode 'live' needs the secret 'password' (of bind_dn)",
        )
    tls = ldap3.Tls(
        validate=ssl.CERT_REQUIRED,
        ca_certs_file=str(target.ca_file) if target.ca_file else None,
    )
    server = ldap3.Server(
        target.url, get_info=ldap3.NONE, tls=tls, connect_timeout=CONNECT_TIMEOUT_SECONDS
    )
    connection = ldap3.Connection(
        server,
        user=target.bind_dn,
        password=password,
        read_only=True,
        auto_referrals=False,
        receive_timeout=RECEIVE_TIMEOUT_SECONDS,
    )
    try:
        if not connection.bind():
            raise InputError(
                target.url, f"bind as {target.bind_dn!r} refused: {_result(connection)}"
            )
    except LDAPException as exc:
        raise InputError(target.url, f"cannot connect: {exc}") from None
    payloads: list[RawPayload] = []
    try:
        failure = _search(connection, target, LIST, payloads)
        if failure is None and _reads_holders(settings.flavour):
            _search(connection, target, HOLDERS, payloads)
    finally:
        with contextlib.suppress(LDAPException):  # a connection already lost has nothing to end
            connection.unbind()
    parameters: dict[str, Any] = {
        "url": target.url,
        "base_dn": target.base_dn,
        "bind_dn": target.bind_dn,
        "scope": "subtree",
        "user_filter": target.user_filter,
        "group_filter": target.group_filter,
        "filter": target.filter,
        "attributes": ["*", *OPERATIONAL],
        "page_size": target.page_size,
        "pages": sum(1 for payload in payloads if payload.name.startswith(f"{LIST}.page-")),
    }
    if _reads_holders(settings.flavour):
        parameters["password_holders_filter"] = target.holders_filter
    return payloads, parameters, failure


def _reads_holders(flavour: str) -> bool:
    """OpenLDAP keeps a bindable password in userPassword; Active Directory never shows its own."""
    return flavour == OPENLDAP


def _search(
    connection: ldap3.Connection,
    target: _Target,
    list_name: str,
    payloads: list[RawPayload],
) -> str | None:
    """Page through the search for one list, appending each page (and a failure marker) to
    ``payloads``; returns why it stopped early, if it did. The entries are read whole, the
    password holders as DNs only."""
    if list_name == LIST:
        search_filter, attributes, named = target.filter, ["*", *OPERATIONAL], ""
    else:
        search_filter, attributes = target.holders_filter, [NO_ATTRIBUTES]
        named = NO_ATTRIBUTES
    source = _source(target, search_filter, named)
    pages = 0
    failure: str | None = None
    cookie: bytes | None = None
    while True:
        try:
            connection.search(
                target.base_dn,
                search_filter,
                search_scope=ldap3.SUBTREE,
                attributes=attributes,
                paged_size=target.page_size,
                paged_cookie=cookie,
            )
        except LDAPException as exc:
            failure = f"connection lost: {exc}"
            break
        entries = [item for item in connection.response or [] if item["type"] == "searchResEntry"]
        code = connection.result["result"]
        if code == 0 or entries:
            pages += 1
            payloads.append(RawPayload(page_name(pages, list_name), source, write_ldif(entries)))
        if code in STOPPED_EARLY:
            failure = _result(connection)
            break
        if code != 0:
            raise InputError(
                f"{target.url} {target.base_dn}", f"search failed: {_result(connection)}"
            )
        control = connection.result.get("controls", {}).get(PAGED_RESULTS)
        cookie = control["value"]["cookie"] if control else None
        if not cookie:
            return None
    failure = f"search stopped after {pages} page(s): {failure}"
    marker = _pages.page_name(list_name, pages + 1, failed=True)
    payloads.append(RawPayload(marker, source, failure.encode()))
    return failure


def _result(connection: ldap3.Connection) -> str:
    result = connection.result
    message = str(result.get("message") or "").strip()
    return f"{result.get('description')} ({result.get('result')})" + (
        f": {message}" if message else ""
    )


def _source(target: _Target, search_filter: str, attributes: str) -> str:
    """A payload's source: the URL, base, attributes, scope and filter, as an RFC 4516 LDAP
    URL (no attributes named: the entries' own, as asked with ``*``)."""
    return f"{target.url.rstrip('/')}/{target.base_dn}?{attributes}?sub?{search_filter}"


def write_ldif(entries: Iterable[Mapping[str, Any]]) -> bytes:
    """Search results (``dn`` and ``raw_attributes``) as LDIF, values byte for byte."""
    lines = [b"version: 1", b""]
    for entry in entries:
        lines.append(_ldif_line(b"dn", entry.get("raw_dn") or str(entry["dn"]).encode()))
        for name, values in entry["raw_attributes"].items():
            lines.extend(_ldif_line(name.encode(), value) for value in values)
        lines.append(b"")
    return b"\n".join(lines)


_SAFE = re.compile(
    rb"[\x01-\x09\x0b\x0c\x0e-\x1f\x21-\x39\x3b\x3d-\x7f][\x01-\x09\x0b\x0c\x0e-\x7f]*"
)
"""RFC 2849 SAFE-STRING (no leading space, colon or '<'; no NUL, CR, LF or non-ASCII)."""


def _ldif_line(name: bytes, value: bytes) -> bytes:
    if value == b"" or (_SAFE.fullmatch(value) and not value.endswith(b" ")):
        return name + b": " + value
    return name + b":: " + base64.b64encode(value)


# --- export mode ---------------------------------------------------------------------------


def _read_export(config: ConnectorConfig) -> tuple[list[RawPayload], dict[str, Any]]:
    path = config.path().absolute()
    if path.is_dir():
        root = path
        files = sorted(file for file in path.iterdir() if file.suffix.lower() == ".ldif")
        if not files:
            raise InputError(str(path), "holds no .ldif files")
    else:
        root, files = path.parent, [path]
    payloads = [_export.read_payload(root, file.name) for file in files]
    return payloads, {"path": str(path), "files": [payload.name for payload in payloads]}


# --- LDIF ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LdifEntry:
    """One entry of an LDIF file: its DN, where it starts, and its values by attribute."""

    dn: str
    where: str
    """``file:line`` of its ``dn:`` line."""
    attributes: Mapping[str, tuple[bytes, ...]]
    """Values by lower-case attribute name, options (``;lang-en``, ``;binary``) dropped."""
    ranged: frozenset[str]
    """Attributes given as ``name;range=…``: only part of their values is present."""

    def values(self, name: str) -> tuple[bytes, ...]:
        return self.attributes.get(name.lower(), ())

    def text(self, name: str) -> str | None:
        """The first value of ``name`` as text; absent or blank is None."""
        texts = self.texts(name)
        return texts[0] if texts and texts[0].strip() else None

    def texts(self, name: str) -> list[str]:
        try:
            return [value.decode("utf-8").strip() for value in self.values(name)]
        except UnicodeDecodeError:
            raise InputError(self.where, f"{name}: not UTF-8 text") from None

    def integer(self, name: str) -> int | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return int(value)
        except ValueError:
            raise InputError(self.where, f"{name}: expected a number, got {value!r}") from None

    @property
    def classes(self) -> frozenset[str]:
        return frozenset(value.lower() for value in self.texts("objectClass"))


_ATTRIBUTE = re.compile(r"([A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)((?:;[A-Za-z0-9=*-]+)*)")


def _ldif_text(payload: RawPayload) -> str:
    if payload.data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return payload.data.decode("utf-16")  # ldifde -u
    return _export.decode_text(payload)


def read_ldif(payload: RawPayload) -> list[LdifEntry]:
    """The entries of an LDIF file (RFC 2849 content records, or ``ldifde``'s adds)."""
    entries: list[LdifEntry] = []
    for number, record in enumerate(_records(payload.source, _ldif_text(payload))):
        if number == 0 and record[0][1].lower().startswith("version:"):
            line, version = record[0]
            if version.partition(":")[2].strip() != "1":
                raise InputError(f"{payload.source}:{line}", f"unsupported LDIF {version!r}")
            record = record[1:]
            if not record:
                continue
        entries.append(_entry(payload.source, record))
    return entries


def _without_passwords(payloads: Sequence[RawPayload]) -> tuple[list[RawPayload], int]:
    """The payloads with every password value replaced, and how many were: a hash must never
    reach the locker, so nothing is kept of it but whether it can match at all."""
    kept = [_redacted(payload) for payload in payloads]
    return [payload for payload, _ in kept], sum(count for _, count in kept)


def _redacted(payload: RawPayload) -> tuple[RawPayload, int]:
    """An LDIF payload with each password line — folded or base64 — rewritten as
    ``<name>: {REDACTED}`` (or ``{REDACTED}!``), as UTF-8; a payload without one is kept as it
    was, byte for byte."""
    if payload.name.endswith(".failed"):
        return payload, 0
    lines = _ldif_text(payload).split("\n")
    out: list[str] = []
    redacted = 0
    start = 0
    while start < len(lines):
        end = start + 1
        while end < len(lines) and lines[end].startswith(" "):
            end += 1
        first = lines[start]
        logical = first.removesuffix("\r") + "".join(
            line.removesuffix("\r")[1:] for line in lines[start + 1 : end]
        )
        name, colon, _ = logical.partition(":")
        base = name.split(";")[0].strip()
        if colon and not first.startswith("#") and base.lower() in PASSWORD_ATTRIBUTES:
            value = _attribute_value(payload.source, start + 1, logical)[1]
            marker = (REDACTED if _can_match(value) else REDACTED_UNUSABLE).decode()
            out.append(f"{base}: {marker}" + ("\r" if first.endswith("\r") else ""))
            redacted += 1
        else:
            out.extend(lines[start:end])
        start = end
    if not redacted:
        return payload, 0
    return RawPayload(payload.name, payload.source, "\n".join(out).encode()), redacted


_SCHEME = re.compile(rb"\{[A-Za-z0-9._-]+\}")


def _can_match(value: bytes) -> bool:
    """Whether a userPassword value can match some password in a simple bind.

    A value without a ``{scheme}`` is the password itself. After a scheme, a hash that is empty
    or starts with ``!`` or ``*`` can never match: crypt(3) never writes those characters and
    the base64 digests (``{SSHA}``, ``{SHA}``, …) cannot hold them — the lock that ``usermod
    -L`` and ``passwd -l`` write, and the ``*`` of an account that never had a password.
    """
    if value == REDACTED:
        return True
    if not value:
        return False
    scheme = _SCHEME.match(value)
    if scheme is None:
        return True
    return value[scheme.end() : scheme.end() + 1] not in (b"", b"!", b"*")


def _records(source: str, text: str) -> Iterator[list[tuple[int, str]]]:
    """Records as lists of (first line number, unfolded line), comments dropped."""
    record: list[tuple[int, str]] = []
    comment = False
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.removesuffix("\r")
        if line.startswith(" "):
            if comment:
                continue
            if not record:
                raise InputError(f"{source}:{number}", "continuation line with no line to continue")
            start, previous = record[-1]
            record[-1] = (start, previous + line[1:])
        elif line.startswith("#"):
            comment = True
        elif not line.strip():
            comment = False
            if record:
                yield record
                record = []
        else:
            comment = False
            record.append((number, line))
    if record:
        yield record


def _entry(source: str, record: list[tuple[int, str]]) -> LdifEntry:
    first_line, first = record[0]
    name, dn_bytes = _attribute_value(source, first_line, first)
    if name.lower() != "dn":
        raise InputError(
            f"{source}:{first_line}", f"expected 'dn:' to start an entry, got {name!r}"
        )
    try:
        dn = dn_bytes.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise InputError(f"{source}:{first_line}", "dn: not UTF-8 text") from None
    if not dn:
        raise InputError(f"{source}:{first_line}", "dn: empty")
    attributes: dict[str, list[bytes]] = {}
    ranged: set[str] = set()
    for line, content in record[1:]:
        name, value = _attribute_value(source, line, content)
        if name.lower() == "changetype":
            if value.strip().lower() != b"add":
                raise InputError(
                    f"{source}:{line}",
                    f"a change record (changetype: {value.decode(errors='replace')}) is not an "
                    "export of entries",
                )
            continue
        match = _ATTRIBUTE.fullmatch(name)
        if match is None:
            raise InputError(f"{source}:{line}", f"invalid attribute description {name!r}")
        base = match[1].lower()
        if any(option.lower().startswith("range=") for option in match[2].split(";")):
            ranged.add(base)
        attributes.setdefault(base, []).append(value)
    return LdifEntry(
        dn,
        f"{source}:{first_line}",
        {key: tuple(values) for key, values in attributes.items()},
        frozenset(ranged),
    )


def _attribute_value(source: str, line: int, content: str) -> tuple[str, bytes]:
    name, colon, rest = content.partition(":")
    if not colon or not name.strip():
        raise InputError(f"{source}:{line}", f"expected 'attribute: value', got {content[:60]!r}")
    if rest.startswith(":"):
        try:
            return name, base64.b64decode(rest[1:].strip(), validate=True)
        except binascii.Error:
            raise InputError(f"{source}:{line}", f"{name}: invalid base64 value") from None
    if rest.startswith("<"):
        raise InputError(
            f"{source}:{line}", f"{name}: values given by URL (':<') are not read; export inline"
        )
    return name, rest.lstrip(" ").encode("utf-8")


def normal_dn(dn: str) -> str | None:
    """A DN in one spelling for comparison (case, spaces and escapes evened out); None when it
    is not a DN."""
    rdns: list[str] = []
    avas: list[str] = []
    chars: list[tuple[str, bool]] = []
    kind: str | None = None
    index = 0

    def end_ava() -> bool:
        nonlocal kind
        if not kind:
            return False
        while chars and chars[0] == (" ", False):
            chars.pop(0)
        while chars and chars[-1] == (" ", False):
            chars.pop()
        value = "".join(char for char, _ in chars)
        avas.append(f"{kind}={value.casefold()}")
        kind = None
        chars.clear()
        return True

    while index < len(dn):
        char = dn[index]
        if char == "\\" and index + 1 < len(dn):
            pair = dn[index + 1 : index + 3]
            if re.fullmatch(r"[0-9A-Fa-f]{2}", pair):
                raw = bytearray()
                while re.fullmatch(r"\\[0-9A-Fa-f]{2}", dn[index : index + 3]):
                    raw.append(int(dn[index + 1 : index + 3], 16))
                    index += 3
                chars.extend((decoded, True) for decoded in raw.decode("utf-8", errors="replace"))
                continue
            chars.append((dn[index + 1], True))
            index += 2
            continue
        if char == "=" and kind is None:
            kind = "".join(c for c, _ in chars).strip().lower()
            chars.clear()
        elif char in ",;+":
            if not end_ava():
                return None
            if char != "+":
                rdns.append("+".join(sorted(avas)))
                avas.clear()
        else:
            chars.append((char, False))
        index += 1
    if not end_ava():
        return None
    rdns.append("+".join(sorted(avas)))
    return ",".join(rdns)


# --- records -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Directory:
    """What was read besides the records: entry count and the failed page, if any."""

    entries: int
    failed_page: int | None
    failed_note: str | None

    def failure(self) -> str | None:
        if self.failed_page is None:
            return None
        return self.failed_note or f"{LIST} page {self.failed_page} failed"


def _read(
    payloads: Sequence[RawPayload],
    config: ConnectorConfig,
    settings: _Settings,
    moment: datetime,
) -> tuple[Records, _Directory]:
    index = _export.by_name(payloads)
    grouped = _pages.group(index, PAGE)
    failed_page = None
    failed_note = None
    warnings: list[str] = []
    if LIST in grouped:
        failed_page, failed_note = _failed_page(index, LIST, grouped[LIST])
        if failed_note is not None:
            warnings.append(f"the population is incomplete: {failed_note}")
    if HOLDERS in grouped:
        failed_note_holders = _failed_page(index, HOLDERS, grouped[HOLDERS])[1]
        if failed_note_holders is not None:
            warnings.append(
                f"the list of password holders is incomplete: {failed_note_holders}; "
                "accounts missing from it count as holding no password"
            )
    entries: list[LdifEntry] = []
    holders: set[str] = set()
    for payload in payloads:
        if payload.name.endswith(".failed"):
            continue
        match = PAGE.fullmatch(payload.name)
        if payload.name == HOLDERS_EXPORT or (match is not None and match["list"] == HOLDERS):
            holders.update(_key(entry) for entry in read_ldif(payload))
        else:
            entries.extend(read_ldif(payload))
    builder = _Builder(config.system_id, settings, warnings, holders, moment)
    return builder.build(entries), _Directory(len(entries), failed_page, failed_note)


def _failed_page(
    index: Mapping[str, RawPayload], list_name: str, stored: _pages.Pages
) -> tuple[int | None, str | None]:
    """The page of a list that failed and what its marker says; pages with a gap are refused."""
    failed_page = _pages.in_order(list_name, stored).failed_page
    if failed_page is None:
        return None, None
    marker = index[_pages.page_name(list_name, failed_page, failed=True)]
    return failed_page, marker.data.decode("utf-8", errors="replace")


def _key(entry: LdifEntry) -> str:
    """An entry's DN in the spelling DNs are compared in."""
    key = normal_dn(entry.dn)
    if key is None:
        raise InputError(entry.where, f"dn: not a distinguished name: {entry.dn!r}")
    return key


@dataclass(frozen=True)
class _Sid:
    """A Windows security identifier, from its binary form."""

    text: str

    @property
    def rid(self) -> int:
        return int(self.text.rsplit("-", 1)[1])

    @property
    def domain(self) -> str:
        return self.text.rsplit("-", 1)[0]


def _sid(entry: LdifEntry) -> _Sid | None:
    values = entry.values("objectSid")
    if not values:
        return None
    data = values[0]
    if len(data) < 8 or len(data) != 8 + 4 * data[1]:
        raise InputError(entry.where, "objectSid: not a security identifier")
    authority = int.from_bytes(data[2:8], "big")
    parts = [int.from_bytes(data[8 + 4 * n : 12 + 4 * n], "little") for n in range(data[1])]
    return _Sid("-".join(["S", str(data[0]), str(authority), *map(str, parts)]))


class _Builder:
    """Turns directory entries into accounts, groups and effective grants."""

    def __init__(
        self,
        system: str,
        settings: _Settings,
        warnings: list[str],
        holders: set[str],
        moment: datetime,
    ) -> None:
        self.system = system
        self.settings = settings
        self.warnings = warnings
        self.holders = holders
        """DNs (``normal_dn``) a presence search found holding a userPassword."""
        self.moment = moment
        self.ad = settings.flavour == ACTIVE_DIRECTORY
        self.without_password: list[str] = []
        self.with_password = 0

    def build(self, entries: Sequence[LdifEntry]) -> Records:
        by_dn: dict[str, LdifEntry] = {}
        users: list[LdifEntry] = []
        groups: list[LdifEntry] = []
        others: list[LdifEntry] = []
        for entry in entries:
            key = _key(entry)
            if key in by_dn:
                raise InputError(
                    entry.where, f"duplicate entry {entry.dn!r} (also at {by_dn[key].where})"
                )
            by_dn[key] = entry
            classes = entry.classes
            if classes & GROUP_CLASSES:
                groups.append(entry)
            elif classes & ACCOUNT_CLASSES:
                users.append(entry)
            else:
                others.append(entry)
        if others:
            self.warnings.append(
                f"{len(others)} entries are neither accounts nor groups and were not read "
                f"(first: {others[0].dn!r})"
            )
        sids = {sid.text: entry for entry in groups if (sid := _sid(entry)) is not None}
        members = self._direct_members(users, groups, by_dn, sids)
        parents: dict[str, list[str]] = {}
        for group, held in members.items():
            for member in held:
                if member in members:
                    parents.setdefault(member, []).append(group)
        privileged = self._privileged_groups(groups, parents)
        entitlements = tuple(
            Entitlement(
                self.system,
                group.dn,
                group.text("cn") or group.dn,
                "group",
                Tri.YES if group.dn in privileged else Tri.UNKNOWN,
            )
            for group in groups
        )
        direct: dict[str, list[str]] = {}
        for group, held in members.items():
            for member in held:
                if member not in members:
                    direct.setdefault(member, []).append(group)
        grants: dict[Grant, None] = {}
        accounts: list[Account] = []
        credentials: list[Credential] = []
        for user in users:
            held_groups = set()
            for group in direct.get(user.dn, []):
                grants[Grant(self.system, user.dn, group)] = None
                held_groups.add(group)
                for nested in _reach(parents, group):
                    grants[Grant(self.system, user.dn, nested, via=group)] = None
                    held_groups.add(nested)
            account = self._account(user, bool(held_groups & privileged))
            accounts.append(account)
            credential = self._password(user, account)
            if credential is not None:
                credentials.append(credential)
        if self.without_password:
            self.warnings.append(
                f"{len(self.without_password)} account(s) hold no userPassword (first: "
                f"{self.without_password[0]!r}): they cannot bind with a password, but may by "
                "SASL or a certificate, so their status is unknown"
                + (
                    ""
                    if self.with_password
                    else "; no account at all was seen holding one: does the bind account have "
                    "search access to userPassword, or the export a password-holders.ldif?"
                )
            )
        return Records(
            accounts=tuple(accounts),
            credentials=tuple(credentials),
            entitlements=entitlements,
            grants=tuple(grants),
            warnings=tuple(self.warnings),
        )

    def _direct_members(
        self,
        users: Sequence[LdifEntry],
        groups: Sequence[LdifEntry],
        by_dn: Mapping[str, LdifEntry],
        sids: Mapping[str, LdifEntry],
    ) -> dict[str, list[str]]:
        """Group DN → the DNs of its direct members (accounts and groups) that were collected."""
        kept = {entry.dn for entry in [*users, *groups]}
        by_uid: dict[str, LdifEntry] = {}
        for user in users:
            for name in ("uid", "sAMAccountName"):
                for value in user.texts(name):
                    by_uid.setdefault(value.casefold(), user)
        members: dict[str, list[str]] = {group.dn: [] for group in groups}
        for group in groups:
            unmatched: list[str] = []
            found: dict[str, None] = {}
            for attribute in ("member", "uniqueMember"):
                for value in group.texts(attribute):
                    if attribute == "uniqueMember":
                        value = re.sub(r"#'[01]*'B$", "", value)
                    key = normal_dn(value)
                    target = by_dn.get(key) if key is not None else None
                    if target is None or target.dn not in kept:
                        unmatched.append(value)
                    elif target.dn != group.dn:
                        found[target.dn] = None
            for uid in group.texts("memberUid"):
                holder = by_uid.get(uid.casefold())
                if holder is None:
                    unmatched.append(f"memberUid {uid}")
                else:
                    found[holder.dn] = None
            if unmatched:
                self.warnings.append(
                    f"group {group.dn!r}: {len(unmatched)} member(s) match no account or group "
                    f"in the collection (first: {unmatched[0]!r})"
                )
            if group.ranged & {"member", "uniquemember"}:
                self.warnings.append(
                    f"group {group.dn!r}: only a range of its members is present "
                    "(member;range=…); its membership is incomplete"
                )
            members[group.dn] = list(found)
        unresolved = 0
        for user in users:
            rid = user.integer("primaryGroupID")
            sid = _sid(user)
            if rid is None:
                continue
            primary = sids.get(f"{sid.domain}-{rid}") if sid is not None else None
            if primary is None:
                unresolved += 1
            elif user.dn not in members[primary.dn]:
                members[primary.dn].append(user.dn)
        if unresolved:
            self.warnings.append(
                f"{unresolved} account(s) have a primary group (primaryGroupID) that matches no "
                "group in the collection"
            )
        return members

    def _privileged_groups(
        self, groups: Sequence[LdifEntry], parents: Mapping[str, list[str]]
    ) -> set[str]:
        """Groups named privileged, the built-in AD administrators, and groups nested in them."""
        wanted = {name.casefold(): name for name in self.settings.privileged_groups}
        wanted_dns = {
            key: name
            for name in self.settings.privileged_groups
            if (key := normal_dn(name)) is not None
        }
        matched: set[str] = set()
        named: set[str] = set()
        for group in groups:
            names = {(group.text("cn") or "").casefold()} & wanted.keys()
            dn_match = wanted_dns.get(normal_dn(group.dn) or "")
            matched.update(wanted[name] for name in names)
            if dn_match is not None:
                matched.add(dn_match)
            if names or dn_match is not None or (self.ad and _ad_admin_group(group)):
                named.add(group.dn)
        for name in self.settings.privileged_groups:
            if name not in matched:
                self.warnings.append(f"privileged group {name!r} matches no collected group")
        return {
            group.dn
            for group in groups
            if group.dn in named or not named.isdisjoint(_reach(parents, group.dn))
        }

    def _account(self, user: LdifEntry, holds_privileged: bool) -> Account:
        control = user.integer("userAccountControl")
        username = user.text("sAMAccountName") or user.text("uid") or user.text("cn") or user.dn
        sid = _sid(user)
        admin_count = self.ad and user.integer("adminCount") == 1
        email = user.text("mail")
        last_login, source = self._last_login(user)
        employee = ("employeeID", "employeeNumber") if self.ad else ("employeeNumber", "employeeID")
        return Account(
            system_id=self.system,
            account_id=user.dn,
            username=username,
            email=email.lower() if email else None,
            name=user.text("displayName") or user.text("cn"),
            employee_id=user.text(employee[0]) or user.text(employee[1]),
            kind=_kind(user, control),
            status=self._status(user, control),
            mfa_registered=Tri.UNKNOWN,
            mfa_enforced=Tri.UNKNOWN,
            last_login=last_login,
            last_login_source=source,
            privileged=Tri.YES if holds_privileged or admin_count else Tri.UNKNOWN,
            root=self.ad and sid is not None and sid.rid == ADMINISTRATOR_RID,
        )

    def _status(self, user: LdifEntry, control: int | None) -> AccountStatus:
        """Whether the account can sign in, by the source's own rules (module docstring)."""
        if control is not None:
            return AccountStatus.INACTIVE if control & ACCOUNTDISABLE else AccountStatus.ACTIVE
        locked = user.text("pwdAccountLockedTime")
        start = _generalized_time(user, "pwdStartTime")
        end = _generalized_time(user, "pwdEndTime")
        values = user.values("userPassword")
        if (
            locked == LOCKED_BY_ADMINISTRATOR
            or (end is not None and (end <= self.moment or (start is not None and start >= end)))
            or (values and not any(_can_match(value) for value in values))
        ):
            return AccountStatus.INACTIVE
        holds_password = bool(values) or _key(user) in self.holders
        self.with_password += holds_password
        expires = user.integer("shadowExpire")
        if locked is not None:
            doubt = (
                f"locked since {locked} (pwdAccountLockedTime); the lock may lift after the "
                "password policy's lockout duration"
            )
        elif start is not None and start > self.moment:
            doubt = f"its password becomes usable by itself at {start.isoformat()} (pwdStartTime)"
        elif expires not in (None, SHADOW_NEVER) and expires <= (self.moment - EPOCH).days:
            doubt = (
                f"expired by shadowExpire {expires} (days since 1970): logins that honour shadow "
                "(PAM, nss) are refused, but an LDAP bind is not"
            )
        elif holds_password:
            return AccountStatus.ACTIVE
        else:
            self.without_password.append(user.dn)
            return AccountStatus.UNKNOWN
        self.warnings.append(f"account {user.dn!r}: {doubt}, so its status is unknown")
        return AccountStatus.UNKNOWN

    def _last_login(self, user: LdifEntry) -> tuple[datetime | None, str | None]:
        filetime = _filetime(user, "lastLogonTimestamp")
        if filetime is not None:
            return filetime, "ldap:lastLogonTimestamp"
        bound = _generalized_time(user, "authTimestamp")
        if bound is not None:
            return bound, "ldap:authTimestamp"
        return None, None

    def _password(self, user: LdifEntry, account: Account) -> Credential | None:
        if user.values("pwdLastSet"):
            rotated = _filetime(user, "pwdLastSet")
        elif user.values("pwdChangedTime"):
            rotated = _generalized_time(user, "pwdChangedTime")
        else:
            return None
        control = user.integer("userAccountControl")
        never = control is not None and bool(control & DONT_EXPIRE_PASSWORD)
        return Credential(
            system_id=self.system,
            credential_id=f"{user.dn}#password",
            kind="password",
            account_id=user.dn,
            active=account.status is not AccountStatus.INACTIVE,
            created=None,
            last_rotated=rotated,
            last_used=None,
            last_used_source=None,
            expiry=Tri.NO if never else Tri.UNKNOWN,
        )


def _ad_admin_group(group: LdifEntry) -> bool:
    sid = _sid(group)
    if sid is not None:
        return sid.text == BUILTIN_ADMINISTRATORS_SID or sid.rid in AD_ADMIN_RIDS
    return (group.text("cn") or "").casefold() in AD_ADMIN_GROUPS


def _kind(user: LdifEntry, control: int | None) -> AccountKind:
    classes = user.classes
    if "computer" in classes or (control is not None and control & TRUST_ACCOUNT_BITS):
        return AccountKind.SYSTEM
    if classes & MANAGED_SERVICE_CLASSES or user.values("servicePrincipalName"):
        return AccountKind.SERVICE
    if not classes & PERSON_CLASSES:
        return AccountKind.SERVICE
    return AccountKind.HUMAN


def _reach(parents: Mapping[str, list[str]], start: str) -> list[str]:
    """The groups ``start`` is nested in, directly or through others, excluding itself."""
    found: dict[str, None] = {}
    stack = [start]
    while stack:
        for parent in parents.get(stack.pop(), []):
            if parent != start and parent not in found:
                found[parent] = None
                stack.append(parent)
    return list(found)


def _filetime(entry: LdifEntry, name: str) -> datetime | None:
    """A Windows FILETIME (100 ns steps since 1601); 0 and the maximum mean none."""
    value = entry.integer(name)
    if value is None or value in (0, FILETIME_NEVER):
        return None
    if value < 0:
        raise InputError(entry.where, f"{name}: negative time {value}")
    try:
        return FILETIME_EPOCH + timedelta(microseconds=value // 10)
    except OverflowError:
        raise InputError(entry.where, f"{name}: time out of range {value}") from None


_GENERALIZED = re.compile(r"(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)?(\d\d)?(?:[.,]\d+)?(Z|[+-]\d{4})")


def _generalized_time(entry: LdifEntry, name: str) -> datetime | None:
    """An LDAP GeneralizedTime (``20240131120000Z``) in UTC."""
    value = entry.text(name)
    if value is None:
        return None
    match = _GENERALIZED.fullmatch(value)
    try:
        if match is None:
            raise ValueError
        year, month, day, hour, minute, second, zone = match.groups()
        offset = timedelta(0)
        if zone != "Z":
            sign = -1 if zone[0] == "-" else 1
            offset = sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
        local = datetime(
            int(year), int(month), int(day), int(hour), int(minute or 0), int(second or 0)
        )
        return (local - offset).replace(tzinfo=UTC)
    except ValueError:
        raise InputError(entry.where, f"{name}: not a GeneralizedTime: {value!r}") from None
