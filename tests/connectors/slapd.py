"""A throwaway OpenLDAP server for the ldap connector's tests; ``scripts/ensure-slapd`` installs it.

One slapd per test session, on a free 127.0.0.1 port, configured by a ``slapd.conf`` written
under the session's temporary directory, with two mdb databases:

- ``dc=example,dc=org``, an OpenLDAP-style directory with the ppolicy overlay and a default
  policy that enforces locks (``pwdLockout``), so ``pwdAccountLockedTime``, ``pwdStartTime`` and
  ``pwdEndTime`` refuse binds as they would in production, and the lastbind overlay
  (``authTimestamp`` on each successful bind);
- ``dc=corp,dc=example``, served with a small schema holding the Active Directory attributes and
  classes the connector reads, so an AD-shaped directory can be searched over real LDAP.

Both databases are empty but for their roots and the read-only bind accounts: ``reader`` (no size
limit) and ``capped`` (paged searches stop after ``CAPPED_TOTAL`` entries, as a directory
administrator's limit would stop them). Neither may read ``userPassword``; ``reader`` may only
search it (``=s``: use it in a filter, as the connector's password-holders search does — not
read it, nor compare a guess with it). Tests add their own entries with ``Slapd.add``.
slapd runs in the foreground as a child of the tests and is stopped when the session ends.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SLAPD = Path("/usr/sbin/slapd")
LDAPADD = "ldapadd"
SCHEMAS = Path("/etc/ldap/schema")
MODULES = Path("/usr/lib/ldap")
START_SECONDS = 15.0

OPENLDAP_BASE = "dc=example,dc=org"
AD_BASE = "dc=corp,dc=example"
ADMIN_PASSWORD = "admin-secret"
READER_PASSWORD = "reader-secret"
CAPPED_TOTAL = 700
"""The capped account's limit on the entries one paged search may return."""
POLICY = f"cn=default-policy,{OPENLDAP_BASE}"

AD_SCHEMA = """\
# The few Active Directory attributes and classes the connector reads, under Microsoft's OIDs,
# as plain attributes (memberOf is a stored value here, not AD's computed back-link).
attributetype ( 1.2.840.113556.1.4.8 NAME 'userAccountControl'
  EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.1696 NAME 'lastLogonTimestamp'
  EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.96 NAME 'pwdLastSet'
  EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.150 NAME 'adminCount'
  EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.35 NAME 'employeeID'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.2.102 NAME 'memberOf'
  EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )
attributetype ( 1.2.840.113556.1.4.146 NAME 'objectSid'
  EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.98 NAME 'primaryGroupID'
  EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.771 NAME 'servicePrincipalName'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
objectclass ( 1.2.840.113556.1.5.9 NAME 'user' SUP organizationalPerson STRUCTURAL
  MAY ( userAccountControl $ sAMAccountName $ lastLogonTimestamp $ pwdLastSet $ adminCount $
        employeeID $ employeeNumber $ memberOf $ objectSid $ primaryGroupID $ mail $
        displayName $ givenName $ servicePrincipalName ) )
objectclass ( 1.2.840.113556.1.3.30 NAME 'computer' SUP user STRUCTURAL )
objectclass ( 1.2.840.113556.1.5.8 NAME 'group' SUP top STRUCTURAL MUST cn
  MAY ( member $ sAMAccountName $ objectSid $ adminCount $ memberOf $ description ) )
"""


def _config(root: Path, port: int) -> str:
    schemas = [SCHEMAS / f"{name}.schema" for name in ("core", "cosine", "inetorgperson", "nis")]
    includes = "\n".join(f"include {path}" for path in [*schemas, root / "ad.schema"])

    def database(suffix: str, overlays: str) -> str:
        reader, capped = f"cn=reader,{suffix}", f"cn=capped,{suffix}"
        directory = root / suffix.replace(",", "_").replace("=", "-")
        directory.mkdir()
        return f"""
database mdb
maxsize 268435456
dbnosync
suffix "{suffix}"
rootdn "cn=admin,{suffix}"
rootpw {ADMIN_PASSWORD}
directory {directory}
{overlays}
limits dn.exact="{reader}" size=unlimited
limits dn.exact="{capped}" size.soft=unlimited size.hard=unlimited size.prtotal={CAPPED_TOTAL}
access to attrs=userPassword by anonymous auth by dn.exact="{reader}" =s by * none
access to * by dn.exact="{reader}" read by dn.exact="{capped}" read by * none
"""

    # authTimestamp moves at most once an hour, so back-to-back reads of it agree.
    openldap_overlays = (
        f'overlay ppolicy\nppolicy_default "{POLICY}"\noverlay lastbind\nlastbind-precision 3600'
    )
    return f"""{includes}
modulepath {MODULES}
moduleload back_mdb
moduleload ppolicy
moduleload lastbind
pidfile {root / "slapd.pid"}
argsfile {root / "slapd.args"}
{database(OPENLDAP_BASE, openldap_overlays)}
{database(AD_BASE, "")}
"""


def _root(suffix: str) -> str:
    """A database's root entry and its read-only bind accounts."""
    dc = suffix.split(",")[0].removeprefix("dc=")
    entries = [
        f"dn: {suffix}\nobjectClass: dcObject\nobjectClass: organization\ndc: {dc}\no: {dc}\n"
    ]
    for name in ("reader", "capped"):
        entries.append(
            f"dn: cn={name},{suffix}\nobjectClass: organizationalRole\n"
            f"objectClass: simpleSecurityObject\ncn: {name}\nuserPassword: {READER_PASSWORD}\n"
        )
    if suffix == OPENLDAP_BASE:
        entries.append(
            f"dn: {POLICY}\nobjectClass: device\nobjectClass: pwdPolicy\ncn: default-policy\n"
            "pwdAttribute: userPassword\npwdLockout: TRUE\n"
        )
    return "\n".join(entries)


def free_port() -> int:
    """A port nothing listens on now (the kernel's pick for a socket bound and closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Slapd:
    """The running server: where it listens and how to add entries."""

    url: str
    log: Path

    def add(self, ldif: str, base: str) -> None:
        """Add entries (LDIF) as the database's administrator, through ``ldapadd``."""
        result = subprocess.run(
            [
                LDAPADD,
                "-x",
                "-H",
                self.url,
                "-D",
                f"cn=admin,{base}",
                "-w",
                ADMIN_PASSWORD,
            ],
            input=ldif.encode(),
            capture_output=True,
            check=False,
        )
        if result.returncode != 0:
            raise AssertionError(f"ldapadd failed: {result.stderr.decode(errors='replace')}")


def _wait_until_listening(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"slapd exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"slapd did not listen on port {port} within {START_SECONDS} s")


@pytest.fixture(scope="session")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    """slapd serving both databases for the whole session; stopped at its end."""
    if not SLAPD.exists():
        pytest.fail(f"{SLAPD} is missing: run scripts/ensure-slapd")
    root = tmp_path_factory.mktemp("slapd")
    (root / "ad.schema").write_text(AD_SCHEMA)
    port = free_port()
    (root / "slapd.conf").write_text(_config(root, port))
    url = f"ldap://127.0.0.1:{port}"
    log = root / "slapd.log"
    with log.open("wb") as output:
        # -d keeps slapd in the foreground, so it is our child and ends with us.
        process = subprocess.Popen(
            [str(SLAPD), "-f", str(root / "slapd.conf"), "-h", f"{url}/", "-d", "0"],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_listening(process, port, log)
        server = Slapd(url, log)
        for suffix in (OPENLDAP_BASE, AD_BASE):
            server.add(_root(suffix), suffix)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
