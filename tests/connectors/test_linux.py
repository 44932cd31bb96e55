from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from assay.connectors import linux
from assay.connectors.base import ConnectorConfig
from assay.connectors.linux import LinuxConnector
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

HOST = "web-01"

PASSWD = """\
root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
bin:x:2:2:bin:/bin:/usr/sbin/nologin
sshd:x:110:65534::/run/sshd:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
alice:x:1000:1000:Alice Smith,,,:/home/alice:/bin/bash
bob:x:1001:1001:Bob Jones,,,:/home/bob:/usr/bin/zsh
carol:x:1002:1002:Carol White,,,:/home/carol:/bin/bash
"""
GROUP = """\
root:x:0:
daemon:x:1:
bin:x:2:
wheel:x:10:carol
sudo:x:27:alice
nogroup:x:65534:
alice:x:1000:
bob:x:1001:
carol:x:1002:
developers:x:1500:alice,bob,carol
"""
CAROL_EXPIRY_DAYS = 20000
SHADOW = f"""\
root:$6$rounds=5000$Qx1$Zm9vYmFyYmF6:19700:0:99999:7:::
daemon:*:19700:0:99999:7:::
bin:*:19700:0:99999:7:::
sshd:!:19700::::::
nobody:*:19700:0:99999:7:::
alice:$y$j9T$8d2$c2VjcmV0:19800:0:99999:7:::
bob:$6$9f3$aGFzaA:19810:1:90:7:::
carol:!$6$1a7$bG9ja2Vk:19500:0:99999:7::{CAROL_EXPIRY_DAYS}:
"""
SUDOERS = """\
#
# This file MUST be edited with the 'visudo' command as root.
#
Defaults\tenv_reset
Defaults\tmail_badpass
Defaults\tsecure_path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# User privilege specification
root\tALL=(ALL:ALL) ALL

# Allow members of group sudo to execute any command
%sudo\tALL=(ALL:ALL) ALL

alice ALL=(root) NOPASSWD: /usr/bin/apt-get update, \\
    /usr/bin/apt-get upgrade   # patching

# See sudoers(5) for more information on "@include" directives:

@includedir /etc/sudoers.d
"""
SUDOERS_README = """\
#
# The default /etc/sudoers file created on installation of the
# sudo  package now includes the directive:
#
#\t@includedir /etc/sudoers.d
#
"""
SUDOERS_DEPLOY = "bob ALL=(root) /usr/bin/systemctl restart nginx\n"
SUDOERS_BACKUP = "carol ALL=(ALL) ALL\n"

ALICE_ED25519 = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILVVT3jktrTywtNI0GKDDDGEkxGNmLTouT5cilTvWH27 alice@laptop"
)
ALICE_ED25519_SSH_KEYGEN = "SHA256:rwNH+7rrB5LqpC0r15KoUf5Hb6Gyoh8b1/Ih7XMTP/c"
"""What ``ssh-keygen -lf`` printed for ALICE_ED25519."""
ALICE_RSA = (
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC1O6alAKgEYvoRTvPX3RRakCliLyU5MQ5FJKfSoB9XAjv++0bJG/laVn"
    "VqmGnMSxm/GxtYfZjXo3NBQ5x4IYOLjelyKc664xY1LeXcHp8fZ1fYzPHbnGJpv0Ljh5sxQQHE+A8BRJEHbLitW6ABomT"
    "I+cN0vk9jYj0/tb9UTfrTlk4hNy9UCAtX4mf9ABJgKgkOJY05bnzv7FV2PKPQIEL+eBYoGqNWByiAa0c3eMZ2cqgA51Y/"
    "5iWTLX4pbbOOcxIEmgxBwJEntcyUtlWcYciMvjAn+k6y15mBMXwuYelrz/7iiQQrqSwSPZHeWm+gFH6mBAiH3aUx+/i+k"
    "M8dUpWB alice@laptop"
)
"""Made on the same laptop as ALICE_ED25519, so ssh-keygen gave it the same comment."""
BOB_ECDSA = (
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBOoecFSF8H8b7vD98PFjl"
    "i55yeLvgZvWeMiycs+nfzYLSohd3xqFZ7KDizgcHZEF6rlk/R/+zSlCT4gZFvfmX6o= bob@ci"
)
BOB_OPTIONS = (
    'from="10.0.0.0/8,192.168.1.5"',
    'command="/usr/local/bin/deploy --user \\"bob\\""',
    "no-port-forwarding",
    'expiry-time="202512312359Z"',
)
SSHD_CONFIG = """\
Include /etc/ssh/sshd_config.d/*.conf

#Port 22
PermitRootLogin yes
#PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM yes
X11Forwarding yes
AcceptEnv LANG LC_*
Subsystem\tsftp\t/usr/lib/openssh/sftp-server
PasswordAuthentication no
"""
CLOUD_INIT = "PasswordAuthentication yes\n"

FILES: dict[str, str] = {
    "etc/passwd": PASSWD,
    "etc/group": GROUP,
    "etc/shadow": SHADOW,
    "etc/sudoers": SUDOERS,
    "etc/sudoers.d/README": SUDOERS_README,
    "etc/sudoers.d/90-deploy": SUDOERS_DEPLOY,
    "etc/sudoers.d/carol.bak": SUDOERS_BACKUP,
    "home/alice/.ssh/authorized_keys": f"# alice's keys\n{ALICE_ED25519}\n\n{ALICE_RSA}\n",
    "home/bob/.ssh/authorized_keys": f"{','.join(BOB_OPTIONS)} {BOB_ECDSA}\n",
    "etc/ssh/sshd_config": SSHD_CONFIG,
    "etc/ssh/sshd_config.d/50-cloud-init.conf": CLOUD_INIT,
}


def build(tmp_path: Path, changes: Mapping[str, str | None] | None = None) -> Path:
    """A copied root holding FILES, with ``changes`` replacing files (or dropping them: None)."""
    files: dict[str, str | None] = {**FILES, **(changes or {})}
    root = tmp_path / HOST
    for name, text in files.items():
        if text is not None:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text, encoding="utf-8")
    (root / "home" / "carol").mkdir(parents=True, exist_ok=True)
    return root


def collect(make_config: MakeConfig, **settings: str) -> Records:
    return LinuxConnector().collect(make_config(path=HOST, **settings)).records


def fingerprint(key_line: str) -> str:
    """The OpenSSH SHA256 fingerprint of a public key line, computed from its blob."""
    blob = base64.b64decode(key_line.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def account(
    name: str,
    full_name: str | None,
    kind: AccountKind,
    status: AccountStatus,
    privileged: Tri,
    *,
    root: bool = False,
) -> Account:
    return Account(
        system_id="sys",
        account_id=name,
        username=name,
        email=None,
        name=full_name,
        employee_id=None,
        kind=kind,
        status=status,
        mfa_registered=Tri.UNKNOWN,
        mfa_enforced=Tri.UNKNOWN,
        last_login=None,
        last_login_source=None,
        privileged=privileged,
        root=root,
    )


def statuses(records: Records) -> dict[str, AccountStatus]:
    return {a.account_id: a.status for a in records.accounts}


def privileges(records: Records) -> dict[str, Tri]:
    return {a.account_id: a.privileged for a in records.accounts}


SYSTEM, HUMAN = AccountKind.SYSTEM, AccountKind.HUMAN
ACTIVE, INACTIVE, UNKNOWN = AccountStatus.ACTIVE, AccountStatus.INACTIVE, AccountStatus.UNKNOWN


def test_accounts_field_by_field(tmp_path: Path, make_config: MakeConfig) -> None:
    build(tmp_path)
    assert collect(make_config).accounts == (
        account("root", "root", SYSTEM, ACTIVE, Tri.YES, root=True),
        account("daemon", "daemon", SYSTEM, INACTIVE, Tri.NO),
        account("bin", "bin", SYSTEM, INACTIVE, Tri.NO),
        account("sshd", None, SYSTEM, INACTIVE, Tri.NO),
        account("nobody", "nobody", SYSTEM, INACTIVE, Tri.NO),
        account("alice", "Alice Smith", HUMAN, ACTIVE, Tri.YES),
        account("bob", "Bob Jones", HUMAN, ACTIVE, Tri.YES),
        # Locked in shadow, no keys; in wheel, which sudoers does not grant, and named only in
        # a sudoers.d file sudo skips.
        account("carol", "Carol White", HUMAN, INACTIVE, Tri.NO),
    )


def test_entitlements(tmp_path: Path, make_config: MakeConfig) -> None:
    build(tmp_path)

    def group(name: str, privileged: Tri = Tri.NO) -> Entitlement:
        return Entitlement("sys", f"{HOST}:group:{name}", name, "group", privileged)

    assert collect(make_config).entitlements == (
        group("root"),
        group("daemon"),
        group("bin"),
        group("wheel"),
        group("sudo", Tri.YES),
        group("nogroup"),
        group("alice"),
        group("bob"),
        group("carol"),
        group("developers"),
        Entitlement("sys", f"{HOST}:sudo", "sudo", "permission", Tri.YES),
    )


def test_grants_direct_and_via_group(tmp_path: Path, make_config: MakeConfig) -> None:
    build(tmp_path)

    def member(user: str, group: str) -> Grant:
        return Grant("sys", user, f"{HOST}:group:{group}")

    def sudo(user: str, via: str | None = None) -> Grant:
        return Grant("sys", user, f"{HOST}:sudo", None if via is None else f"{HOST}:group:{via}")

    assert collect(make_config).grants == (
        member("root", "root"),
        member("daemon", "daemon"),
        member("bin", "bin"),
        member("sshd", "nogroup"),
        member("nobody", "nogroup"),
        member("alice", "alice"),
        member("alice", "sudo"),
        member("alice", "developers"),
        member("bob", "bob"),
        member("bob", "developers"),
        member("carol", "carol"),
        member("carol", "wheel"),
        member("carol", "developers"),
        sudo("root"),
        sudo("alice"),
        sudo("alice", via="sudo"),
        sudo("bob"),
    )


def test_ssh_keys(tmp_path: Path, make_config: MakeConfig) -> None:
    build(tmp_path)

    def key(
        user: str,
        line: str,
        expires_at: datetime | None = None,
        scopes: tuple[str, ...] = (),
    ) -> Credential:
        return Credential(
            system_id="sys",
            credential_id=f"{user}:{fingerprint(line)}",
            kind="ssh_key",
            account_id=user,
            active=True,
            created=None,
            last_rotated=None,
            last_used=None,
            last_used_source=None,
            expires_at=expires_at,
            expiry=Tri.NO if expires_at is None else Tri.YES,
            scopes=scopes,
            owner=line.split()[-1],
        )

    credentials = collect(make_config).credentials
    assert credentials == (
        key("alice", ALICE_ED25519),
        key("alice", ALICE_RSA),
        key("bob", BOB_ECDSA, datetime(2025, 12, 31, 23, 59, tzinfo=UTC), BOB_OPTIONS),
    )
    assert credentials[0].credential_id == f"alice:{ALICE_ED25519_SSH_KEYGEN}"
    assert credentials[2].expiry is Tri.YES


def test_warnings(tmp_path: Path, make_config: MakeConfig) -> None:
    build(tmp_path)
    expires = date(1970, 1, 1) + timedelta(days=CAROL_EXPIRY_DAYS)
    assert collect(make_config).warnings == (
        f"etc/shadow:8: carol's account expires on {expires.isoformat()}; "
        "its status does not weigh this",
        # Included before line 4, so sshd obeys it and ignores line 11's 'no'.
        "etc/ssh/sshd_config.d/50-cloud-init.conf:1: PasswordAuthentication yes",
        "etc/ssh/sshd_config:4: PermitRootLogin yes",
        "etc/sudoers.d/carol.bak: skipped, as sudo skips names containing '.' or ending in '~'",
    )


def test_payloads_are_the_files_and_reparse_identically(
    tmp_path: Path, make_config: MakeConfig
) -> None:
    root = build(tmp_path)
    (root / "home" / "carol" / ".ssh").mkdir()
    collected = LinuxConnector().collect(make_config(path=HOST))
    names = [payload.name for payload in collected.payloads]
    assert names == [
        "etc/passwd",
        "etc/group",
        "etc/shadow",
        "etc/sudoers",
        "etc/sudoers.d/90-deploy",
        "etc/sudoers.d/README",
        "etc/sudoers.d/carol.bak",
        "home/alice/.ssh/authorized_keys",
        "home/bob/.ssh/authorized_keys",
        "etc/ssh/sshd_config",
        "etc/ssh/sshd_config.d/50-cloud-init.conf",
    ]
    for payload in collected.payloads:
        assert payload.data == (root / payload.name).read_bytes()
        assert payload.source == str(root / payload.name)
    assert (collected.connector, collected.connector_version, collected.mode) == (
        "linux",
        "1",
        "export",
    )
    assert collected.parameters == {
        "path": str(root),
        "host": HOST,
        "files": 11,
        "accounts": 8,
        "ssh_keys": 3,
        "shadow": True,
        "sudoers": True,
    }
    assert linux.parse(collected.payloads, make_config(path=HOST)) == collected.records


def test_host_setting_names_the_entitlements(tmp_path: Path, make_config: MakeConfig) -> None:
    build(tmp_path)
    records = collect(make_config, host="db.internal")
    assert records.entitlements[-1].entitlement_id == "db.internal:sudo"
    assert records.grants[0].entitlement_id == "db.internal:group:root"


def test_without_shadow_password_logins_are_unknown(
    tmp_path: Path, make_config: MakeConfig
) -> None:
    build(tmp_path, {"etc/shadow": None})
    records = collect(make_config)
    assert statuses(records) == {
        "root": UNKNOWN,  # no key file, and the password is unknown
        "daemon": INACTIVE,
        "bin": INACTIVE,
        "sshd": INACTIVE,
        "nobody": INACTIVE,
        "alice": ACTIVE,  # keys
        "bob": ACTIVE,  # key
        "carol": UNKNOWN,
    }
    assert records.warnings[0] == (
        "etc/shadow is not in the copy; whether passwords are locked is unknown"
    )


@pytest.mark.parametrize(
    ("passwd_line", "shadow_hash", "keys", "expected"),
    [
        ("dave:x:1003:1003::/home/dave:/bin/bash", "$6$s$h", "", ACTIVE),
        ("dave:x:1003:1003::/home/dave:/bin/bash", "!!", "", INACTIVE),
        ("dave:x:1003:1003::/home/dave:/bin/bash", "*", "", INACTIVE),
        # sshd with PAM accepts a key for a password-locked account.
        ("dave:x:1003:1003::/home/dave:/bin/bash", "!$6$s$h", ALICE_ED25519, ACTIVE),
        # The key files of a home outside /home and /root are not read.
        ("dave:x:1003:1003::/srv/dave:/bin/bash", "!", "", UNKNOWN),
        ("dave:x:1003:1003::/home/dave:/bin/false", "$6$s$h", ALICE_ED25519, INACTIVE),
        ("dave:x:1003:1003::/home/dave:", "$6$s$h", "", ACTIVE),  # an empty shell is /bin/sh
        ("dave:*:1003:1003::/home/dave:/bin/bash", "$6$s$h", "", INACTIVE),  # passwd's own hash
    ],
)
def test_login_rule(
    tmp_path: Path,
    make_config: MakeConfig,
    passwd_line: str,
    shadow_hash: str,
    keys: str,
    expected: AccountStatus,
) -> None:
    changes = {
        "etc/passwd": f"{PASSWD}{passwd_line}\n",
        "etc/shadow": f"{SHADOW}dave:{shadow_hash}:19000:0:99999:7:::\n",
    }
    if keys:
        changes["home/dave/.ssh/authorized_keys2"] = f"{keys}\n"
    build(tmp_path, changes)
    assert statuses(collect(make_config))["dave"] is expected


def test_empty_password_is_active_and_warned(tmp_path: Path, make_config: MakeConfig) -> None:
    build(
        tmp_path,
        {
            "etc/passwd": f"{PASSWD}guest::1004:1004::/home/guest:/bin/sh\n",
            "etc/shadow": SHADOW.replace("alice:$y$j9T$8d2$c2VjcmV0:", "alice::"),
        },
    )
    records = collect(make_config)
    assert statuses(records)["guest"] is ACTIVE
    assert "etc/passwd:9: guest has an empty password" in records.warnings
    assert "etc/shadow:6: alice has an empty password" in records.warnings


def test_user_missing_from_shadow_is_unknown(tmp_path: Path, make_config: MakeConfig) -> None:
    build(tmp_path, {"etc/shadow": SHADOW.replace(SHADOW.splitlines()[-1] + "\n", "")})
    records = collect(make_config)
    assert statuses(records)["carol"] is UNKNOWN
    assert "etc/shadow: no entry for carol; their password is unknown" in records.warnings


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("u:x:999:999::/home/u:/bin/bash", SYSTEM),
        ("u:x:1000:1000::/home/u:/bin/bash", HUMAN),
        ("u:x:65533:1000::/home/u:/bin/bash", HUMAN),
        ("u:x:65534:1000::/home/u:/bin/bash", SYSTEM),
        ("u:x:70000:1000::/home/u:/bin/bash", AccountKind.UNKNOWN),
        ("u:x:1500:1000::/home/u:/usr/sbin/nologin", SYSTEM),
        ("u:x:0:0::/root:/bin/bash", SYSTEM),
    ],
)
def test_kind_rule(tmp_path: Path, make_config: MakeConfig, line: str, kind: AccountKind) -> None:
    build(tmp_path, {"etc/passwd": f"{PASSWD}{line}\n"})
    assert collect(make_config).accounts[-1].kind is kind


def test_any_uid_zero_is_privileged_and_root(tmp_path: Path, make_config: MakeConfig) -> None:
    build(tmp_path, {"etc/passwd": f"{PASSWD}toor:x:0:0::/root:/bin/sh\n"})
    records = collect(make_config)
    assert privileges(records)["toor"] is Tri.YES
    assert {a.account_id for a in records.accounts if a.root} == {"root", "toor"}


def test_keys_of_several_people_make_a_shared_login(
    tmp_path: Path, make_config: MakeConfig
) -> None:
    keys = [
        ALICE_ED25519.replace("alice@laptop", "Alice@Example.COM"),
        ALICE_RSA.replace("alice@laptop", "alice@example.com"),
        BOB_ECDSA.replace("bob@ci", "Bob Jones (deploy box)"),
    ]
    build(tmp_path, {"root/.ssh/authorized_keys": "\n".join(keys) + "\n"})
    records = collect(make_config)
    shared = {a.account_id: a.shared_by for a in records.accounts if a.shared_by}
    # E-mail-like comments are one person whatever their case; one person's two keys (alice's
    # own file) are not a shared login.
    assert shared == {"root": ("Bob Jones (deploy box)", "alice@example.com")}
    owners = [c.owner for c in records.credentials if c.account_id == "root"]
    assert owners == ["alice@example.com", "alice@example.com", "Bob Jones (deploy box)"]


def test_keys_without_comments_name_no_one(tmp_path: Path, make_config: MakeConfig) -> None:
    bare = " ".join(BOB_ECDSA.split()[:2])
    build(tmp_path, {"home/bob/.ssh/authorized_keys": f"{bare}\n{ALICE_ED25519}\n"})
    records = collect(make_config)
    (bob,) = (a for a in records.accounts if a.account_id == "bob")
    assert bob.shared_by == ()
    assert [c.owner for c in records.credentials if c.account_id == "bob"] == [
        None,
        "alice@laptop",
    ]


def sudo_grants(records: Records) -> list[tuple[str, str | None]]:
    return [(g.account_id, g.via) for g in records.grants if g.entitlement_id == f"{HOST}:sudo"]


def test_sudoers_aliases_uids_and_exclusions(tmp_path: Path, make_config: MakeConfig) -> None:
    build(
        tmp_path,
        {
            "etc/sudoers": (
                "User_Alias ADMINS = %developers, !carol, !!bob : AUDIT = #1002\n"
                "%wheel, !carol, ADMINS, AUDIT ALL = (ALL) ALL\n"
                "#1001\tALL=(ALL) /usr/bin/journalctl\n"
                "%#27 db1, db2 = /bin/true\n"
            )
        },
    )
    records = collect(make_config)
    group = f"{HOST}:group:"
    assert sudo_grants(records) == [
        ("alice", f"{group}developers"),
        ("alice", f"{group}sudo"),
        ("bob", None),
        ("bob", f"{group}developers"),
        # Excluded after %wheel and within ADMINS, but AUDIT, later on the line, names her
        # uid: only that path is left.
        ("carol", None),
    ]
    granted = {e.name for e in records.entitlements if e.privileged is Tri.YES}
    assert granted == {"developers", "sudo", "wheel"}
    assert privileges(records)["root"] is Tri.YES  # uid 0, though no rule names root


def test_later_exclusion_wins(tmp_path: Path, make_config: MakeConfig) -> None:
    build(tmp_path, {"etc/sudoers": "%developers, !carol ALL=(ALL) ALL\n"})
    records = collect(make_config)
    assert privileges(records)["carol"] is Tri.NO
    assert privileges(records)["bob"] is Tri.YES
    assert "etc/sudoers.d/90-deploy: no includedir in etc/sudoers reaches it; sudo ignores it" in (
        records.warnings
    )


def test_root_equivalent_groups(tmp_path: Path, make_config: MakeConfig) -> None:
    build(tmp_path, {"etc/group": f"{GROUP}docker:x:998:carol\n"})
    records = collect(make_config)
    assert privileges(records)["carol"] is Tri.YES
    assert records.entitlements[-2] == Entitlement(
        "sys", f"{HOST}:group:docker", "docker", "group", Tri.YES
    )


def test_without_sudoers_privilege_is_unknown(tmp_path: Path, make_config: MakeConfig) -> None:
    build(tmp_path, {"etc/sudoers": None})
    records = collect(make_config)
    assert privileges(records) == {
        "root": Tri.YES,
        "daemon": Tri.UNKNOWN,
        "bin": Tri.UNKNOWN,
        "sshd": Tri.UNKNOWN,
        "nobody": Tri.UNKNOWN,
        "alice": Tri.UNKNOWN,
        "bob": Tri.UNKNOWN,
        "carol": Tri.UNKNOWN,
    }
    assert {e.privileged for e in records.entitlements} == {Tri.UNKNOWN}
    assert sudo_grants(records) == []
    assert "etc/sudoers is not in the copy; sudo rights are unknown" in records.warnings


@pytest.mark.parametrize(
    ("directive", "warning"),
    [
        (
            "@include /etc/sudoers.local",
            "etc/sudoers:2: includes /etc/sudoers.local, which is not in the copy",
        ),
        (
            "#includedir /etc/sudoers.extra",
            "etc/sudoers:2: includes directory /etc/sudoers.extra, which is not read",
        ),
        ("+admins ALL = ALL", "etc/sudoers:2: +admins cannot be resolved from these files"),
    ],
)
def test_rules_not_in_the_copy_make_privilege_unknown(
    tmp_path: Path, make_config: MakeConfig, directive: str, warning: str
) -> None:
    build(tmp_path, {"etc/sudoers": f"%sudo ALL=(ALL:ALL) ALL\n{directive}\n"})
    records = collect(make_config)
    assert privileges(records)["alice"] is Tri.YES
    assert privileges(records)["carol"] is Tri.UNKNOWN
    assert f"{warning}; sudo rights are unknown beyond the rules read" in records.warnings


def test_includes_by_relative_path_and_host_name(tmp_path: Path, make_config: MakeConfig) -> None:
    build(
        tmp_path,
        {
            "etc/sudoers": "@include sudoers.d/carol.bak\n#include /etc/sudoers.d/%h\n",
            f"etc/sudoers.d/{HOST}": "bob ALL = ALL\n",
        },
    )
    records = collect(make_config)
    assert privileges(records)["carol"] is Tri.YES
    assert privileges(records)["bob"] is Tri.YES
    assert privileges(records)["alice"] is Tri.NO


def test_sudoers_names_unknown_users_and_groups(tmp_path: Path, make_config: MakeConfig) -> None:
    build(tmp_path, {"etc/sudoers": "mallory, %ops ALL=(ALL) ALL\n"})
    warnings = collect(make_config).warnings
    assert "etc/sudoers:1: user 'mallory' is not in etc/passwd" in warnings
    assert "etc/sudoers:1: group 'ops' is not in etc/group" in warnings


def test_sshd_first_value_match_block_and_default(tmp_path: Path, make_config: MakeConfig) -> None:
    build(
        tmp_path,
        {
            "etc/ssh/sshd_config": (
                "PermitRootLogin prohibit-password\n"
                "PermitRootLogin yes\n"
                "Match Address 10.0.0.0/8\n"
                "  PermitRootLogin=yes\n"
            )
        },
    )
    sshd = [w for w in collect(make_config).warnings if w.startswith("etc/ssh/")]
    assert sshd == [
        "etc/ssh/sshd_config:4: PermitRootLogin yes (in a Match block)",
        "etc/ssh/sshd_config: PasswordAuthentication is not set; OpenSSH's default is yes",
    ]


def test_keys_kept_elsewhere_make_status_unknown(tmp_path: Path, make_config: MakeConfig) -> None:
    build(tmp_path, {"etc/ssh/sshd_config": "AuthorizedKeysFile /etc/ssh/keys/%u\n"})
    records = collect(make_config)
    assert statuses(records)["carol"] is UNKNOWN
    assert statuses(records)["alice"] is ACTIVE
    assert (
        "etc/ssh/sshd_config:1: AuthorizedKeysFile /etc/ssh/keys/%u: keys kept there are not read"
        in records.warnings
    )


def test_earliest_expiry_local_time_and_repeated_key(
    tmp_path: Path, make_config: MakeConfig
) -> None:
    options = 'restrict,expiry-time="20300101",expiry-time="202906301200"'
    build(tmp_path, {"home/bob/.ssh/authorized_keys": f"{options} {BOB_ECDSA}\n{BOB_ECDSA}\n"})
    records = collect(make_config)
    (bob,) = (c for c in records.credentials if c.account_id == "bob")
    assert bob.scopes == ("restrict", 'expiry-time="20300101"', 'expiry-time="202906301200"')
    assert (bob.expiry, bob.expires_at) == (Tri.YES, datetime(2029, 6, 30, 12, 0, tzinfo=UTC))
    where = "home/bob/.ssh/authorized_keys"
    assert records.warnings[3:6] == (
        f'{where}:1: expiry-time "20300101" is in the host\'s time zone; read as UTC',
        f'{where}:1: expiry-time "202906301200" is in the host\'s time zone; read as UTC',
        f"{where}:2: bob's key {fingerprint(BOB_ECDSA)} is listed again; skipped",
    )


def test_skipped_lines_and_files_are_warned(tmp_path: Path, make_config: MakeConfig) -> None:
    build(
        tmp_path,
        {
            "etc/passwd": f"{PASSWD}+@netadmins::::::\n",
            "etc/group": f"{GROUP}+:::\n",
            "etc/shadow": f"{SHADOW}ghost:*:19000:0:99999:7:::\n",
            "home/zed/.ssh/authorized_keys": f"{ALICE_ED25519}\n",
        },
    )
    records = collect(make_config)
    assert len(records.accounts) == 8
    assert len(records.credentials) == 3
    assert records.warnings[:4] == (
        "etc/passwd:9: NIS entry '+@netadmins' skipped",
        "etc/group:11: NIS entry '+' skipped",
        "etc/shadow:8: carol's account expires on "
        f"{(date(1970, 1, 1) + timedelta(days=CAROL_EXPIRY_DAYS)).isoformat()}; "
        "its status does not weigh this",
        "etc/shadow:9: no user 'ghost' in etc/passwd; skipped",
    )
    assert "home/zed/.ssh/authorized_keys: no account has /home/zed as its home; skipped" in (
        records.warnings
    )


KEYS = "home/alice/.ssh/authorized_keys"


@pytest.mark.parametrize(
    ("name", "text", "line", "problem"),
    [
        (
            "etc/passwd",
            f"{PASSWD}dave:x:1003:1003:/home/dave:/bin/bash\n",
            9,
            "expected 7 colon-separated fields, got 6",
        ),
        (
            "etc/passwd",
            f"{PASSWD}dave:x:10o3:1003::/home/dave:/bin/bash\n",
            9,
            "uid: expected a number, got '10o3'",
        ),
        (
            "etc/passwd",
            f"{PASSWD}dave:x:1003:-1::/home/dave:/bin/bash\n",
            9,
            "gid: expected a number, got '-1'",
        ),
        (
            "etc/passwd",
            f"{PASSWD}alice:x:1003:1003::/home/alice:/bin/bash\n",
            9,
            "duplicate user 'alice' (first on line 6)",
        ),
        ("etc/passwd", "# local accounts\n:x:1003:1003::/:/bin/sh\n", 2, "name: empty"),
        ("etc/group", f"{GROUP}ops:x:1600\n", 11, "expected 4 colon-separated fields, got 3"),
        ("etc/group", f"{GROUP}ops:x:abc:\n", 11, "gid: expected a number, got 'abc'"),
        ("etc/group", f"{GROUP}sudo:x:28:\n", 11, "duplicate group 'sudo' (first on line 5)"),
        (
            "etc/shadow",
            f"{SHADOW}dave:!:19000:0:99999:7::\n",
            9,
            "expected 9 colon-separated fields, got 8",
        ),
        (
            "etc/shadow",
            f"{SHADOW}alice:!:19000:0:99999:7:::\n",
            9,
            "duplicate user 'alice' (first on line 6)",
        ),
        (
            "etc/shadow",
            SHADOW.replace("7::20000:", "7::soon:"),
            8,
            "expiry: expected a number, got 'soon'",
        ),
        (KEYS, "ssh-ed25519\n", 1, "expected '[options] key-type base64-key [comment]'"),
        (KEYS, "# laptop\nssh-ed25519 AAAA!!!! x\n", 2, "the key is not valid base64"),
        (KEYS, "no-pty ssh-foo AAAA x\n", 1, "unknown key type 'ssh-foo'"),
        (
            KEYS,
            ALICE_ED25519.replace("ssh-ed25519", "ssh-rsa", 1),
            1,
            "the key data is not a ssh-rsa key",
        ),
        (KEYS, f'from="10.0.0.1 {ALICE_ED25519}', 1, "unterminated quote in the key options"),
        (
            KEYS,
            f'expiry-time="2025" {ALICE_ED25519}',
            1,
            'expiry-time: expected YYYYMMDD[HHMM[SS]][Z], got "2025"',
        ),
        (
            KEYS,
            f'expiry-time="20251340" {ALICE_ED25519}',
            1,
            "expiry-time: month must be in 1..12",
        ),
        ("etc/sudoers", "Defaults env_reset\nalice ALL\n", 2, "expected 'users hosts = commands'"),
        ("etc/sudoers", "User_Alias admins = alice\n", 1, "expected 'User_Alias NAME = users'"),
        (
            "etc/sudoers",
            "User_Alias A = alice\nUser_Alias B = bob : A = carol\n",
            2,
            "User_Alias A is already defined",
        ),
        ("etc/ssh/sshd_config", "UsePAM yes\nPermitRootLogin\n", 2, "expected 'Keyword value'"),
    ],
)
def test_bad_input_names_file_and_line(
    tmp_path: Path, make_config: MakeConfig, name: str, text: str, line: int, problem: str
) -> None:
    root = build(tmp_path, {name: text})
    with pytest.raises(InputError) as caught:
        collect(make_config)
    assert (caught.value.where, caught.value.problem) == (f"{root / name}:{line}", problem)


@pytest.mark.parametrize("name", ["etc/passwd", "etc/group"])
def test_missing_required_file(tmp_path: Path, make_config: MakeConfig, name: str) -> None:
    root = build(tmp_path, {name: None})
    with pytest.raises(InputError) as caught:
        collect(make_config)
    assert (caught.value.where, caught.value.problem) == (str(root / name), "file not found")


def test_parse_needs_passwd(make_config: MakeConfig) -> None:
    with pytest.raises(InputError) as caught:
        linux.parse([], make_config(path=HOST))
    assert (caught.value.where, caught.value.problem) == ("etc/passwd", "missing from the export")


def test_symbolic_link_out_of_the_copy_is_refused(tmp_path: Path, make_config: MakeConfig) -> None:
    root = build(tmp_path, {KEYS: None})
    outside = tmp_path / "collector-own-keys"
    outside.write_text(f"{ALICE_ED25519}\n", encoding="utf-8")
    (root / KEYS).parent.mkdir(parents=True)
    (root / KEYS).symlink_to(outside)
    with pytest.raises(InputError) as caught:
        collect(make_config)
    assert (caught.value.where, caught.value.problem) == (
        str(root / KEYS),
        "a symbolic link leading outside the export directory; not read",
    )


def test_unknown_mode(tmp_path: Path, make_config: MakeConfig) -> None:
    build(tmp_path)
    with pytest.raises(InputError, match="does not support mode 'api'; use one of: export, live"):
        LinuxConnector().collect(make_config(mode="api", path=HOST))


def test_host_must_be_text(tmp_path: Path, make_config: MakeConfig) -> None:
    build(tmp_path)
    with pytest.raises(InputError, match="'host' must be a non-empty string"):
        LinuxConnector().collect(make_config(path=HOST, host=7))


def test_sshd_include_loop_is_read_once(tmp_path: Path, make_config: MakeConfig) -> None:
    build(
        tmp_path,
        {"etc/ssh/sshd_config.d/50-cloud-init.conf": f"Include sshd_config.d/*\n{CLOUD_INIT}"},
    )
    sshd = [w for w in collect(make_config).warnings if w.startswith("etc/ssh/")]
    assert sshd == [
        "etc/ssh/sshd_config.d/50-cloud-init.conf:2: PasswordAuthentication yes",
        "etc/ssh/sshd_config:4: PermitRootLogin yes",
    ]
