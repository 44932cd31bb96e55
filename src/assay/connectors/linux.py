"""Linux accounts, groups, sudo rights and SSH keys, read over SSH or from a copy of a host's files.

**Export mode.** Settings: ``path`` — a directory holding a copy of the host's root; ``host``
— the host's name, used in entitlement ids and for sudoers' ``%h`` (default: the directory's
name). Each file read becomes a payload named by its path under the root: ``etc/passwd`` and
``etc/group`` (required), ``etc/shadow``, ``etc/sudoers`` and ``etc/sudoers.d/*``, sshd's
default key files ``.ssh/authorized_keys`` and ``.ssh/authorized_keys2`` under ``root/`` and
``home/*/``, and ``etc/ssh/sshd_config`` and ``etc/ssh/sshd_config.d/*``. These formats have
fixed fields, so they are read by position. A symbolic link leading out of the copy is refused:
it would read the collecting machine's own file.

Kind: *system* for uid 0-999, for ``nobody`` (65534) and for accounts whose shell is
``nologin`` or ``false``; *human* for uid 1000-65533 with any other shell; *unknown* above.

Status — whether the account can log in: *inactive* when its shell is ``nologin`` or
``false``. Otherwise *active* when its password can be used (a hash not starting ``!`` or
``*``, or an empty password) or it has an SSH key: a key counts even on a locked password,
since sshd with PAM (the distributions' default) accepts it. *Inactive* only when the password
is known to be locked and the user's key files were read and hold none; *unknown* when
``etc/shadow`` is absent or lacks the user, when the home is outside ``/home`` and ``/root``
(its key files were not read), or when sshd_config reads keys from elsewhere. The copy is
taken to hold every home under ``/home`` and ``/root``: a key file missing from it means no
keys. An account expiry date in shadow is reported as a warning but not weighed: the copy
records no date to compare it with.

Privileged: *yes* for uid 0, for any account a sudoers rule names (by name, uid, ``ALL``,
``%group``, ``%#gid`` or a ``User_Alias``, honouring ``!`` exclusions; any rule counts,
whatever commands or run-as user it allows), and for members of ``docker``, ``lxd`` and
``disk``, which give root in all but name. Otherwise *no* — or *unknown* when ``etc/sudoers``
is absent, includes files not in the copy, or names netgroups or non-Unix groups. Files in
``etc/sudoers.d`` count only when an include reaches them, and (as sudo does) not through an
``includedir`` when their names contain ``.`` or end in ``~``.

Records: an account per passwd line (``account_id`` = user name; MFA unknown, no last login);
an entitlement per group (``{host}:group:{name}``), privileged when sudoers grants it; one
``{host}:sudo`` permission when sudoers has any rule; a grant per group membership (primary
and supplementary) and per path to sudo (direct, or ``via`` the group entitlement); an
``ssh_key`` credential per key line, ``{user}:{SHA256 fingerprint}``, its options kept as
scopes and ``expiry-time`` (read as UTC unless it ends in ``Z`` — the host's zone is not
read) as its expiry. Warnings name ``file:line`` for ``PermitRootLogin yes`` and
``PasswordAuthentication yes`` where sshd would obey them (the first global value, or in a
``Match`` block), for PasswordAuthentication left at OpenSSH's default of yes, and for every
line or file skipped.

Root and shared logins: an account with uid 0 is the host's ``root``. A key line's comment is
the only name the file gives its holder: it becomes the credential's ``owner`` (lower-cased when
it looks like an e-mail address, ``user@host`` included), and an account whose keys carry more
than one distinct comment is taken to be a login shared by those people (``shared_by``). Keys
without a comment name no one.

**Live mode.** Settings: ``host`` (also the name used in entitlement ids), ``port`` (22),
``user``, ``identity_file`` (a private key file, used in place: its contents are never read by
Assay, stored or logged), ``known_hosts`` (the host's key, checked strictly: an unknown or
changed key stops the collection), ``root`` (default ``/``: a prefix the file names are read
under; links are resolved by the host, not confined to it) and ``sudo`` (default false: read
through ``sudo -n`` when the login user is not root). The connector reads exactly the files
export mode reads, under the same payload names, so ``parse`` treats a live snapshot like a
copy: first ``etc/passwd``, ``etc/group``, ``etc/shadow``, ``etc/sudoers`` and
``etc/ssh/sshd_config`` and the listings of ``etc/sudoers.d`` and ``etc/ssh/sshd_config.d``;
then the files listed there and the default key files of each home passwd gives under
``/root`` and ``/home`` (sshd_config's ``AuthorizedKeysFile`` naming other paths is reported
as in export mode: those keys are not read). Each payload's source is
``ssh://user@host:port/path``.

It runs the system's OpenSSH client (``/usr/bin/ssh``) rather than a Python SSH library: no new
dependency, and the host keys, key types (FIDO, certificates) and ``known_hosts`` format are
exactly the ones the operator already uses with ``ssh``. It runs with ``-F none`` (no user or
system ssh_config: every option comes from ``assay.yaml``), ``BatchMode=yes`` (never a prompt),
``StrictHostKeyChecking=yes`` and only the named key. One master connection
(``ControlMaster``, its socket in a private temporary directory) carries both steps, so a
collection authenticates once. Each step is one script fed to the host's ``/bin/sh`` (whatever
the login's shell): ``cat`` per file, ``ls`` per directory, in the C locale so that the host's
error messages can be told apart.

What goes wrong, and what follows: a file that does not exist is absent, as in a copy; a
missing or unreadable ``etc/passwd`` or ``etc/group`` is an ``InputError``, since no population
can be read. Any other file or directory the user may not read is kept as a marker payload
``unreadable/<name>`` holding the host's message: ``parse`` then reports what depended on it as
unknown (with a warning), and the collection is marked incomplete naming those files. A
rejected key or an unknown host key is an ``InputError`` naming the host; ``sudo -n`` refusing
is an ``InputError`` naming the file; a connection that cannot be made or is lost midway is an
``AssayError``: nothing partial is recorded.

Least privilege: a login that may run ``cat`` and ``ls``. ``etc/passwd``, ``etc/group`` and
``etc/ssh/sshd_config`` are world-readable; ``etc/shadow``, ``etc/sudoers``, ``etc/sudoers.d``
and keys in private homes are not, so a non-root user needs ``sudo: true`` and a rule such as
``assay ALL=(root) NOPASSWD: /usr/bin/cat, /usr/bin/ls`` (read-only, but it reads any file).
Nothing on the host is written.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import posixpath
import re
import secrets
import shlex
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from fnmatch import fnmatchcase
from pathlib import Path, PurePath

from pydantic import StrictBool, StrictInt, StrictStr

from assay.connectors import _export
from assay.connectors.base import Collected, ConnectorConfig, RawPayload, Settings, SettingsModel
from assay.errors import AssayError, InputError
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

PASSWD = "etc/passwd"
GROUP = "etc/group"
SHADOW = "etc/shadow"
SUDOERS = "etc/sudoers"
SUDOERS_DIR = "etc/sudoers.d"
SSHD_CONFIG = "etc/ssh/sshd_config"
SSHD_CONFIG_DIR = "etc/ssh/sshd_config.d"
HOME_PATTERNS: tuple[str, ...] = ("root", "home/*")
KEY_FILES: tuple[str, ...] = (".ssh/authorized_keys", ".ssh/authorized_keys2")
KEY_FILE = re.compile(r"(root|home/[^/]+)/\.ssh/authorized_keys2?")

UID_MIN = 1000
NOBODY_UID = 65534
NO_LOGIN_SHELLS: frozenset[str] = frozenset({"nologin", "false"})
ROOT_EQUIVALENT_GROUPS: frozenset[str] = frozenset({"docker", "lxd", "disk"})
"""Groups whose members can become root without sudo (a root container, the raw disk)."""

SSH = "/usr/bin/ssh"
CONNECT_TIMEOUT = 15
"""Seconds for the TCP connection; the same again for each keep-alive probe left unanswered."""
READ_TIMEOUT = 120
"""Seconds one remote read may take before the collection gives up."""
READ = "cat"
LIST = "ls -1Ap"
"""One name a line, directories marked with ``/`` (they are not read)."""
UNREADABLE = "unreadable/"
"""Prefix of the marker payload kept for a file the login may not read (no copied file has it)."""
HOST_NAME = re.compile(r"[A-Za-z0-9_.:][A-Za-z0-9_.:-]*")
USER_NAME = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.@-]*")
EMAIL_LIKE = re.compile(r"[^@\s]+@[^@\s]+")

SSH_KEY_KIND = "ssh_key"
KEY_TYPES: frozenset[str] = frozenset(
    {
        "ssh-rsa",
        "ssh-dss",
        "ssh-ed25519",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com",
        "ssh-rsa-cert-v01@openssh.com",
        "ssh-dss-cert-v01@openssh.com",
        "ssh-ed25519-cert-v01@openssh.com",
        "ecdsa-sha2-nistp256-cert-v01@openssh.com",
        "ecdsa-sha2-nistp384-cert-v01@openssh.com",
        "ecdsa-sha2-nistp521-cert-v01@openssh.com",
        "sk-ssh-ed25519-cert-v01@openssh.com",
        "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
    }
)
KEY_OPTIONS = re.compile(r'(?:[^\s"]|"(?:[^"\\]|\\.)*")+')
KEY_OPTION = re.compile(r'(?:[^,"]|"(?:[^"\\]|\\.)*")+')
EXPIRY_TIME = re.compile(r"(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?([Zz])?")

DEFAULT_KEY_FILES: frozenset[str] = frozenset({*KEY_FILES, *(f"%h/{name}" for name in KEY_FILES)})
SSHD_LINE = re.compile(r"(\S+?)(?:\s*=\s*|\s+)(\S.*)")
SSHD_WARNED: frozenset[str] = frozenset({"permitrootlogin", "passwordauthentication"})

SUDO_INCLUDE = re.compile(r"[#@](include|includedir)\s+(.+)")
SUDO_DEFAULTS = re.compile(r"Defaults(?:[:@>!]|\s|$)")
SUDO_OTHER_ALIASES: frozenset[str] = frozenset(
    {"Host_Alias", "Runas_Alias", "Cmnd_Alias", "Cmd_Alias"}
)
_SUDO_ITEM = r'(?:!\s*)*(?:"[^"]*"|\\.|[^\s,"\\!=])+'
_SUDO_ITEMS = rf"{_SUDO_ITEM}(?:\s*,\s*{_SUDO_ITEM})*"
SUDO_ITEM = re.compile(r'((?:!\s*)*)((?:"[^"]*"|\\.|[^\s,"\\!=])+)')
SUDO_USER_SPEC = re.compile(rf"({_SUDO_ITEMS})\s+[^\s=][^=]*?\s*=\s*\S.*")
SUDO_ALIAS = re.compile(rf"([A-Z][A-Z0-9_]*)\s*=\s*({_SUDO_ITEMS})")
SUDO_ALIAS_SEPARATOR = re.compile(r"\s*:\s*(?=[A-Z][A-Z0-9_]*\s*=)")


class LinuxSettings(Settings):
    """A copy of the host's root (export mode), or how to log in over SSH (live mode)."""

    path: StrictStr | None = None
    host: StrictStr | None = None
    user: StrictStr | None = None
    port: StrictInt | None = None
    root: StrictStr | None = None
    sudo: StrictBool | None = None
    identity_file: StrictStr | None = None
    known_hosts: StrictStr | None = None


class LinuxConnector:
    """Reads a Linux host over SSH, or a copy of its root directory named by ``path``."""

    type: str = "linux"
    version: str = "1"
    settings: SettingsModel = LinuxSettings

    def collect(self, config: ConnectorConfig) -> Collected:
        if config.mode == _export.LIVE_MODE:
            return _collect_live(config, self.type, self.version)
        if config.mode != _export.EXPORT_MODE:
            raise _export.unsupported_mode(config, self.type, _export.MODES)
        started_at = datetime.now(UTC)
        root = _export.require_directory(config.path())
        homes = [
            home.relative_to(root).as_posix()
            for pattern in HOME_PATTERNS
            for home in sorted(root.glob(pattern))
        ]
        optional = _optional_files(
            _files_in(root, SUDOERS_DIR), homes, _files_in(root, SSHD_CONFIG_DIR)
        )
        payloads = [_export.read_payload(root, PASSWD), _export.read_payload(root, GROUP)]
        payloads.extend(
            _export.read_payload(root, name) for name in optional if (root / name).exists()
        )
        records = parse(payloads, config)
        names = {payload.name for payload in payloads}
        return _export.finish(
            config,
            self.type,
            self.version,
            started_at,
            payloads,
            records,
            {
                "path": str(root),
                "host": _host(config),
                "files": len(payloads),
                "accounts": len(records.accounts),
                "ssh_keys": len(records.credentials),
                "shadow": SHADOW in names,
                "sudoers": SUDOERS in names,
            },
        )


def _optional_files(
    sudoers_d: Sequence[str], homes: Sequence[str], sshd_config_d: Sequence[str]
) -> list[str]:
    """The files read beside passwd and group, in the order both modes keep them."""
    return [
        SHADOW,
        SUDOERS,
        *sudoers_d,
        *(f"{home}/{name}" for home in homes for name in KEY_FILES),
        SSHD_CONFIG,
        *sshd_config_d,
    ]


def _files_in(root: Path, directory: str) -> list[str]:
    folder = root / directory
    if not folder.is_dir():
        return []
    return [f"{directory}/{file.name}" for file in sorted(folder.iterdir()) if file.is_file()]


def _host(config: ConnectorConfig) -> str:
    value = config.settings.get("host")
    if value is None:
        value = PurePath(os.path.normpath(config.path())).name
        if not value:
            raise InputError(f"system {config.system_id}", "connector setting 'host' is required")
    if not isinstance(value, str) or not value.strip():
        raise InputError(
            f"system {config.system_id}", "connector setting 'host' must be a non-empty string"
        )
    return value.strip()


@dataclass(frozen=True)
class _Target:
    """Where and how live mode logs in, from the settings."""

    host: str
    port: int
    user: str
    identity_file: Path
    known_hosts: Path
    root: str
    sudo: bool

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ssh://{self.user}@{host}:{self.port}"

    def path(self, name: str) -> str:
        """The remote path of a file named as in a copy: ``etc/passwd`` under the root."""
        return posixpath.join(self.root, name)


def _target(config: ConnectorConfig) -> _Target:
    where = f"system {config.system_id}"
    settings = config.settings
    if settings.get("host") is None:
        raise InputError(where, "connector setting 'host' is required: the host to log in to")
    host = _host(config)
    user = settings.get("user")
    port = settings.get("port", 22)
    root = settings.get("root", "/")
    sudo = settings.get("sudo", False)
    if not HOST_NAME.fullmatch(host):
        raise InputError(where, f"connector setting 'host': not a host name or address: {host!r}")
    if not isinstance(user, str) or not USER_NAME.fullmatch(user):
        raise InputError(where, "connector setting 'user' is required: the login name on the host")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise InputError(where, "connector setting 'port' must be a number from 1 to 65535")
    if not isinstance(root, str) or not root.startswith("/"):
        raise InputError(where, "connector setting 'root' must be an absolute path on the host")
    if not isinstance(sudo, bool):
        raise InputError(where, "connector setting 'sudo' must be true or false")
    files = {key: config.path(key).absolute() for key in ("identity_file", "known_hosts")}
    for path in files.values():
        if not path.is_file():
            raise InputError(str(path), "file not found")
    return _Target(
        host,
        port,
        user,
        files["identity_file"],
        files["known_hosts"],
        posixpath.normpath(root),
        sudo,
    )


def _ssh_path(path: Path) -> str:
    """A path as an ssh ``-o`` value: quoted for spaces, ``%`` kept from token expansion."""
    return '"' + str(path).replace("%", "%%") + '"'


class _Session:
    """One SSH connection that every read of a collection goes through."""

    def __init__(self, target: _Target, control_dir: Path) -> None:
        self.target = target
        self.control_dir = control_dir

    def _ssh(self, *arguments: str) -> list[str]:
        target = self.target
        options = {
            "BatchMode": "yes",
            "ConnectTimeout": str(CONNECT_TIMEOUT),
            "ServerAliveInterval": str(CONNECT_TIMEOUT),
            "ServerAliveCountMax": "2",
            "StrictHostKeyChecking": "yes",
            "UserKnownHostsFile": _ssh_path(target.known_hosts),
            "GlobalKnownHostsFile": "/dev/null",
            "UpdateHostKeys": "no",
            "IdentityFile": _ssh_path(target.identity_file),
            "IdentitiesOnly": "yes",
            "IdentityAgent": "none",
            "PasswordAuthentication": "no",
            "KbdInteractiveAuthentication": "no",
            "ControlPath": _ssh_path(self.control_dir / "master"),
            "LogLevel": "ERROR",
        }
        return [
            SSH,
            "-F",
            "none",
            *(f"-o{key}={value}" for key, value in options.items()),
            "-p",
            str(target.port),
            "-l",
            target.user,
            *arguments,
            "--",
            target.host,
        ]

    def open(self) -> None:
        """Log in once, as a master connection in the background that later reads share."""
        log = self.control_dir / "ssh.log"
        with log.open("wb") as stderr:
            try:
                result = subprocess.run(
                    self._ssh("-M", "-N", "-f"),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                    timeout=3 * CONNECT_TIMEOUT,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise AssayError(f"{self.target.url}: no answer to the SSH login") from None
        if result.returncode != 0:
            raise _login_error(self.target, log.read_text(errors="replace"))

    def close(self) -> None:
        subprocess.run(
            self._ssh("-O", "exit"),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=CONNECT_TIMEOUT,
            check=False,
        )

    def ask(self, requests: Sequence[tuple[str, str]]) -> list[_Answer]:
        """Run ``program -- path`` for each ``(program, name)`` in one remote shell, in order.

        Each output is framed by a random marker, so no file's bytes can pass for the frame.
        The script goes to ``/bin/sh`` on standard input, whatever the login's own shell is.
        """
        if not requests:
            return []
        marker = secrets.token_hex(16)
        sudo = "sudo -n " if self.target.sudo else ""
        script = [
            "export LC_ALL=C",
            "exec 3>&1",
            f"r() {{ printf '%s\\n' {marker}; e=$(\"$@\" 2>&1 1>&3); "
            f'printf \'\\n%s %s %s\\n\' {marker} "$?" "$e"; }}',
        ]
        paths = [
            self.target.path(name) + ("/" if program == LIST else "") for program, name in requests
        ]
        script.extend(
            f"r {sudo}{program} -- {shlex.quote(path)}"
            for (program, _), path in zip(requests, paths, strict=True)
        )
        try:
            result = subprocess.run(
                [*self._ssh(), "/bin/sh -s"],
                input="\n".join(script).encode(),
                capture_output=True,
                timeout=READ_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise AssayError(f"{self.target.url}: no answer within {READ_TIMEOUT} s") from None
        problem = _last_line(result.stderr.decode(errors="replace"))
        if result.returncode == 255:
            raise AssayError(f"{self.target.url}: the SSH connection was lost: {problem}")
        frames = result.stdout.split(marker.encode())[1:]
        if result.returncode != 0 or len(frames) != 2 * len(requests):
            raise AssayError(
                f"{self.target.url}: the host's shell failed: {problem or 'no reason'}"
            )
        return [
            _answer(
                name,
                f"{self.target.url}{self.target.path(name)}",
                body[1:-1],
                tail.decode(errors="replace"),
            )
            for (_, name), body, tail in zip(requests, frames[0::2], frames[1::2], strict=True)
        ]


@dataclass(frozen=True)
class _Answer:
    """What one remote ``cat`` or ``ls`` of a file or directory named as in a copy gave."""

    name: str
    source: str
    data: bytes
    missing: bool = False
    denied: str | None = None
    """The host's message when the login may not read it."""

    def payload(self) -> RawPayload | None:
        """The file; None when it does not exist, a marker payload when it may not be read."""
        if self.missing:
            return None
        if self.denied is not None:
            return self.marker()
        return RawPayload(self.name, self.source, self.data)

    def marker(self) -> RawPayload:
        """Stands in for what may not be read, holding the host's message."""
        return RawPayload(f"{UNREADABLE}{self.name}", self.source, str(self.denied).encode())

    def files(self) -> list[str]:
        """The files a directory listing names; none when it was not listed."""
        entries = self.data.decode(errors="surrogateescape").splitlines()
        return sorted(f"{self.name}/{entry}" for entry in entries if not entry.endswith("/"))


def _answer(name: str, source: str, data: bytes, status: str) -> _Answer:
    """Sort a failed read: not there, forbidden, or an error that stops the collection."""
    code, _, message = status.strip().partition(" ")
    if code == "0":
        return _Answer(name, source, data)
    message = _last_line(message)
    if "No such file or directory" in message or "Not a directory" in message:
        return _Answer(name, source, b"", missing=True)
    if "Permission denied" in message:
        return _Answer(name, source, b"", denied=message)
    if message.startswith(("sudo:", "Sorry, user")):
        raise InputError(source, f"sudo -n refused: {message}")
    raise AssayError(f"{source}: {message or f'exit status {code}'}")


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _login_error(target: _Target, log: str) -> AssayError:
    message = _last_line(log)
    if "host key" in log.lower() or "HOST IDENTIFICATION HAS CHANGED" in log:
        return InputError(
            target.url,
            f"the host's key is not the one {target.known_hosts} holds for it ({message}); "
            "check the key out of band and add it there",
        )
    if "Permission denied" in message:
        return InputError(
            target.url,
            f"login refused: the host did not accept the key {target.identity_file} "
            f"for {target.user} ({message})",
        )
    return AssayError(f"{target.url}: cannot connect: {message or 'ssh gave no reason'}")


@contextmanager
def _session(target: _Target) -> Iterator[_Session]:
    with tempfile.TemporaryDirectory(prefix="assay-ssh-") as control_dir:
        session = _Session(target, Path(control_dir))
        session.open()
        try:
            yield session
        finally:
            session.close()


def _collect_live(config: ConnectorConfig, connector_type: str, version: str) -> Collected:
    """Read the host's files over SSH: those always read, then those they lead to."""
    target = _target(config)
    started_at = datetime.now(UTC)
    with _session(target) as session:
        first = session.ask(
            [
                *((READ, name) for name in (PASSWD, GROUP, SHADOW, SUDOERS, SSHD_CONFIG)),
                *((LIST, name) for name in (SUDOERS_DIR, SSHD_CONFIG_DIR)),
            ]
        )
        passwd, group = (_required(answer) for answer in first[:2])
        shadow, sudoers, sshd_config, sudoers_d, sshd_config_d = first[2:]
        homes = {home for user in _read_passwd(passwd, []).values() if (home := _home_dir(user))}
        names = _optional_files(
            sudoers_d.files(),
            sorted(homes, key=lambda home: (home != "root", home)),
            sshd_config_d.files(),
        )
        answers = {answer.name: answer for answer in (shadow, sudoers, sshd_config)}
        rest = [name for name in names if name not in answers]
        answers.update(zip(rest, session.ask([(READ, name) for name in rest]), strict=True))
    payloads = [
        passwd,
        group,
        *(payload for name in names if (payload := answers[name].payload()) is not None),
        *(answer.marker() for answer in (sudoers_d, sshd_config_d) if answer.denied is not None),
    ]
    records = parse(payloads, config)
    unreadable = [payload.source for payload in payloads if payload.name.startswith(UNREADABLE)]
    names_read = {payload.name for payload in payloads}
    return _export.finish(
        config,
        connector_type,
        version,
        started_at,
        payloads,
        records,
        {
            "url": target.url,
            "root": target.root,
            "sudo": target.sudo,
            "host": target.host,
            "files": len(payloads) - len(unreadable),
            "unreadable": unreadable,
            "accounts": len(records.accounts),
            "ssh_keys": len(records.credentials),
            "shadow": SHADOW in names_read,
            "sudoers": SUDOERS in names_read,
        },
        complete=not unreadable,
        incomplete_reason=(
            f"the login may not read {', '.join(unreadable)}; what they hold is unknown"
            if unreadable
            else None
        ),
    )


def _required(answer: _Answer) -> RawPayload:
    """passwd or group: without them there is no population to report."""
    if answer.missing:
        raise InputError(answer.source, "file not found")
    if answer.denied is not None:
        raise InputError(answer.source, f"cannot read it: {answer.denied}")
    return RawPayload(answer.name, answer.source, answer.data)


@dataclass(frozen=True)
class _User:
    name: str
    password: str
    uid: int
    gid: int
    gecos: str
    home: str
    shell: str
    line: int


@dataclass(frozen=True)
class _Group:
    name: str
    gid: int
    members: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class _Key:
    fingerprint: str
    options: tuple[str, ...]
    expires_at: datetime | None
    holder: str | None
    """The key's comment, lower-cased when it looks like an e-mail address; None without one."""


@dataclass(frozen=True)
class _Item:
    """One entry of a sudoers user list, e.g. ``!%staff``."""

    negated: bool
    name: str
    alias: bool
    """Whether it names a ``User_Alias`` defined before it, as sudo requires."""


@dataclass(frozen=True)
class _Who:
    """What a sudoers user list is matched against."""

    name: str
    uid: int
    groups: tuple[_Group, ...]


@dataclass
class _Sudoers:
    rules: list[tuple[_Item, ...]] = field(default_factory=list)
    aliases: dict[str, tuple[_Item, ...]] = field(default_factory=dict)
    complete: bool = True
    """False when rules may exist that these files do not show."""


def parse(payloads: Sequence[RawPayload], config: ConnectorConfig) -> Records:
    """Accounts, groups, sudo rights and SSH keys from the host's files (named as collected)."""
    every = _export.by_name(payloads)
    index = {name: p for name, p in every.items() if not name.startswith(UNREADABLE)}
    unreadable = {name.removeprefix(UNREADABLE) for name in every if name not in index}
    host = _host(config)
    system = config.system_id
    warnings: list[str] = []
    users = _read_passwd(_export.require_payload(index, PASSWD), warnings)
    groups = _read_group(_export.require_payload(index, GROUP), warnings)
    shadow_payload = index.get(SHADOW)
    shadow = _read_shadow(shadow_payload, users, warnings) if shadow_payload else None
    if shadow is None:
        warnings.append(
            f"{SHADOW} {_absent(SHADOW, unreadable)}; whether passwords are locked is unknown"
        )
    keys_complete = _read_sshd(index, unreadable, warnings)
    keys, unread_homes = _read_keys(index, unreadable, users, warnings)
    sudoers = _read_sudoers(index, unreadable, host, users, groups, warnings)
    sudo_known = sudoers is not None and sudoers.complete

    def group_id(name: str) -> str:
        return f"{host}:group:{name}"

    sudo_id = f"{host}:sudo"
    granted_groups = _granted_groups(sudoers, groups) if sudoers else set()
    entitlements = [
        Entitlement(
            system_id=system,
            entitlement_id=group_id(group.name),
            name=group.name,
            kind="group",
            privileged=_privileged(
                group.name in granted_groups or group.name in ROOT_EQUIVALENT_GROUPS, sudo_known
            ),
        )
        for group in groups.values()
    ]
    if sudoers and sudoers.rules:
        entitlements.append(
            Entitlement(
                system_id=system,
                entitlement_id=sudo_id,
                name="sudo",
                kind="permission",
                privileged=Tri.YES,
            )
        )

    accounts: list[Account] = []
    credentials: list[Credential] = []
    memberships: list[Grant] = []
    sudo_grants: list[Grant] = []
    membership = _Membership.of(groups)
    for user in users.values():
        own_groups = membership.groups_of(user, warnings)
        memberships.extend(Grant(system, user.name, group_id(g.name)) for g in own_groups)
        paths = _sudo_paths(sudoers, _Who(user.name, user.uid, own_groups)) if sudoers else []
        sudo_grants.extend(
            Grant(system, user.name, sudo_id, None if via is None else group_id(via))
            for via in paths
        )
        user_keys = keys.get(user.name, [])
        credentials.extend(
            Credential(
                system_id=system,
                credential_id=f"{user.name}:{key.fingerprint}",
                kind=SSH_KEY_KIND,
                account_id=user.name,
                active=True,
                created=None,
                last_rotated=None,
                last_used=None,
                last_used_source=None,
                expires_at=key.expires_at,
                expiry=Tri.NO if key.expires_at is None else Tri.YES,
                scopes=key.options,
                owner=key.holder,
            )
            for key in user_keys
        )
        home = _home_dir(user)
        if user_keys:
            has_key = Tri.YES
        elif keys_complete and home is not None and home not in unread_homes:
            has_key = Tri.NO
        else:
            has_key = Tri.UNKNOWN
        holders = sorted({key.holder for key in user_keys if key.holder is not None})
        shell_ok = posixpath.basename(user.shell) not in NO_LOGIN_SHELLS
        accounts.append(
            Account(
                system_id=system,
                account_id=user.name,
                username=user.name,
                email=None,
                name=user.gecos.split(",")[0].strip() or None,
                employee_id=None,
                kind=_kind(user.uid, shell_ok),
                status=_status(shell_ok, _password_login(user, shadow, warnings), has_key),
                mfa_registered=Tri.UNKNOWN,
                mfa_enforced=Tri.UNKNOWN,
                last_login=None,
                last_login_source=None,
                privileged=_privileged(
                    user.uid == 0
                    or bool(paths)
                    or any(g.name in ROOT_EQUIVALENT_GROUPS for g in own_groups),
                    sudo_known,
                ),
                root=user.uid == 0,
                shared_by=tuple(holders) if len(holders) > 1 else (),
            )
        )
    return Records(
        accounts=tuple(accounts),
        credentials=tuple(credentials),
        entitlements=tuple(entitlements),
        grants=(*memberships, *sudo_grants),
        warnings=tuple(warnings),
    )


def _absent(name: str, unreadable: set[str]) -> str:
    """Why a file is not in the snapshot, for a warning."""
    return "could not be read" if name in unreadable else "is not in the copy"


def _kind(uid: int, shell_ok: bool) -> AccountKind:
    if uid < UID_MIN or uid == NOBODY_UID or not shell_ok:
        return AccountKind.SYSTEM
    return AccountKind.HUMAN if uid < NOBODY_UID else AccountKind.UNKNOWN


def _status(shell_ok: bool, password: Tri, has_key: Tri) -> AccountStatus:
    if not shell_ok:
        return AccountStatus.INACTIVE
    if Tri.YES in (password, has_key):
        return AccountStatus.ACTIVE
    if password is Tri.NO and has_key is Tri.NO:
        return AccountStatus.INACTIVE
    return AccountStatus.UNKNOWN


def _privileged(granted: bool, known: bool) -> Tri:
    if granted:
        return Tri.YES
    return Tri.NO if known else Tri.UNKNOWN


def _lines(payload: RawPayload) -> Iterator[tuple[int, str]]:
    """Lines with their numbers, blank lines and ``#`` comments left out."""
    for number, line in enumerate(_export.decode_text(payload).split("\n"), start=1):
        text = line.removesuffix("\r")
        if text.strip() and not text.lstrip().startswith("#"):
            yield number, text


def _fields(payload: RawPayload, number: int, line: str, count: int) -> list[str]:
    fields = line.split(":")
    if len(fields) != count:
        raise InputError(
            f"{payload.source}:{number}",
            f"expected {count} colon-separated fields, got {len(fields)}",
        )
    if not fields[0]:
        raise InputError(f"{payload.source}:{number}", "name: empty")
    return fields


def _number(where: str, label: str, value: str) -> int:
    if not re.fullmatch(r"[0-9]+", value):
        raise InputError(where, f"{label}: expected a number, got {value!r}")
    return int(value)


def _is_nis(payload: RawPayload, number: int, line: str, warnings: list[str]) -> bool:
    """NIS ``+``/``-`` entries pull accounts from elsewhere; they are skipped, with a warning."""
    if line[0] not in "+-":
        return False
    warnings.append(f"{payload.name}:{number}: NIS entry {line.split(':')[0]!r} skipped")
    return True


def _read_passwd(payload: RawPayload, warnings: list[str]) -> dict[str, _User]:
    users: dict[str, _User] = {}
    for number, line in _lines(payload):
        if _is_nis(payload, number, line, warnings):
            continue
        name, password, uid, gid, gecos, home, shell = _fields(payload, number, line, 7)
        where = f"{payload.source}:{number}"
        if name in users:
            raise InputError(where, f"duplicate user '{name}' (first on line {users[name].line})")
        users[name] = _User(
            name,
            password,
            _number(where, "uid", uid),
            _number(where, "gid", gid),
            gecos,
            home,
            shell,
            number,
        )
    return users


def _read_group(payload: RawPayload, warnings: list[str]) -> dict[str, _Group]:
    groups: dict[str, _Group] = {}
    for number, line in _lines(payload):
        if _is_nis(payload, number, line, warnings):
            continue
        name, _password, gid, members = _fields(payload, number, line, 4)
        where = f"{payload.source}:{number}"
        if name in groups:
            raise InputError(where, f"duplicate group '{name}' (first on line {groups[name].line})")
        names = tuple(member.strip() for member in members.split(",") if member.strip())
        groups[name] = _Group(name, _number(where, "gid", gid), names, number)
    return groups


def _read_shadow(
    payload: RawPayload, users: Mapping[str, _User], warnings: list[str]
) -> dict[str, tuple[str, str]]:
    """Each user's password hash and the ``file:line`` it is on."""
    entries: dict[str, tuple[str, str]] = {}
    first_line: dict[str, int] = {}
    day_fields = ("last change", "minimum age", "maximum age", "warning", "inactive", "expiry")
    for number, line in _lines(payload):
        if _is_nis(payload, number, line, warnings):
            continue
        name, hashed, *days, _reserved = _fields(payload, number, line, 9)
        where = f"{payload.source}:{number}"
        if name in first_line:
            raise InputError(where, f"duplicate user '{name}' (first on line {first_line[name]})")
        first_line[name] = number
        for label, value in zip(day_fields, days, strict=True):
            if value:
                _number(where, label, value)
        if name not in users:
            warnings.append(f"{payload.name}:{number}: no user '{name}' in {PASSWD}; skipped")
            continue
        if days[-1]:
            expires = date(1970, 1, 1) + timedelta(days=int(days[-1]))
            warnings.append(
                f"{payload.name}:{number}: {name}'s account expires on {expires.isoformat()}; "
                "its status does not weigh this"
            )
        entries[name] = (hashed, f"{payload.name}:{number}")
    return entries


def _password_login(
    user: _User, shadow: Mapping[str, tuple[str, str]] | None, warnings: list[str]
) -> Tri:
    """Whether the user's password can be used; pam_unix reads shadow when passwd says ``x``."""
    if user.password == "x":
        if shadow is None:
            return Tri.UNKNOWN
        entry = shadow.get(user.name)
        if entry is None:
            warnings.append(f"{SHADOW}: no entry for {user.name}; their password is unknown")
            return Tri.UNKNOWN
        hashed, where = entry
    else:
        hashed, where = user.password, f"{PASSWD}:{user.line}"
    if not hashed:
        warnings.append(f"{where}: {user.name} has an empty password")
        return Tri.YES
    return Tri.NO if hashed.startswith(("!", "*")) else Tri.YES


@dataclass(frozen=True)
class _Membership:
    """Who is in which group, indexed once per host: a host may list thousands of users."""

    by_gid: Mapping[int, _Group]
    listing: Mapping[str, tuple[_Group, ...]]
    """Each user name, and the groups whose member lists name it, in file order."""

    @classmethod
    def of(cls, groups: Mapping[str, _Group]) -> _Membership:
        by_gid: dict[int, _Group] = {}
        listing: dict[str, list[_Group]] = {}
        for group in groups.values():
            by_gid.setdefault(group.gid, group)
            for member in dict.fromkeys(group.members):
                listing.setdefault(member, []).append(group)
        return cls(by_gid, {name: tuple(found) for name, found in listing.items()})

    def groups_of(self, user: _User, warnings: list[str]) -> tuple[_Group, ...]:
        """The user's primary group, then the groups listing them, in file order."""
        primary = self.by_gid.get(user.gid)
        if primary is None:
            warnings.append(
                f"{PASSWD}:{user.line}: {user.name}'s primary group {user.gid} is not in {GROUP}"
            )
        others = [g for g in self.listing.get(user.name, ()) if g is not primary]
        return (primary, *others) if primary else tuple(others)


def _home_dir(user: _User) -> str | None:
    """The user's home as a directory of the copy whose key files were read, if it is one."""
    home = posixpath.normpath(user.home).lstrip("/")
    return home if re.fullmatch(r"root|home/[^/]+", home) else None


def _read_keys(
    index: Mapping[str, RawPayload],
    unreadable: set[str],
    users: Mapping[str, _User],
    warnings: list[str],
) -> tuple[dict[str, list[_Key]], set[str]]:
    """SSH keys per user, from the key files in the homes passwd gives them; and the homes
    with a key file that could not be read."""
    owners: dict[str, list[str]] = {}
    for user in users.values():
        home = _home_dir(user)
        if home is not None:
            owners.setdefault(home, []).append(user.name)
    unread_homes: set[str] = set()
    for name in sorted(unreadable):
        match = KEY_FILE.fullmatch(name)
        if match is not None:
            unread_homes.add(match.group(1))
            warnings.append(f"{name} could not be read; the keys it holds are unknown")
    keys: dict[str, list[_Key]] = {}
    for name in sorted(index):
        match = KEY_FILE.fullmatch(name)
        if match is None:
            continue
        if match.group(1) not in owners:
            warnings.append(f"{name}: no account has /{match.group(1)} as its home; skipped")
            continue
        payload = index[name]
        for number, line in _lines(payload):
            key = _parse_key(payload, number, line, warnings)
            for owner in owners[match.group(1)]:
                held = keys.setdefault(owner, [])
                if any(other.fingerprint == key.fingerprint for other in held):
                    warnings.append(
                        f"{name}:{number}: {owner}'s key {key.fingerprint} is listed again; skipped"
                    )
                else:
                    held.append(key)
    return keys, unread_homes


def _parse_key(payload: RawPayload, number: int, line: str, warnings: list[str]) -> _Key:
    """One ``[options] type base64 [comment]`` line of an authorized_keys file."""
    where = f"{payload.source}:{number}"
    text = line.strip()
    options: tuple[str, ...] = ()
    if text.split(None, 1)[0] not in KEY_TYPES:
        found = KEY_OPTIONS.match(text)
        if found is None or text[found.end() : found.end() + 1] == '"':
            raise InputError(where, "unterminated quote in the key options")
        options = tuple(KEY_OPTION.findall(found.group()))
        text = text[found.end() :].lstrip()
    parts = text.split(None, 2)
    if len(parts) < 2:
        raise InputError(where, "expected '[options] key-type base64-key [comment]'")
    key_type, encoded = parts[0], parts[1]
    if key_type not in KEY_TYPES:
        raise InputError(where, f"unknown key type {key_type!r}")
    try:
        blob = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise InputError(where, "the key is not valid base64") from None
    length = int.from_bytes(blob[:4], "big")
    if len(blob) < 4 + length or blob[4 : 4 + length] != key_type.encode():
        raise InputError(where, f"the key data is not a {key_type} key")
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    expiries = [
        _expiry_time(where, f"{payload.name}:{number}", value, warnings)
        for name, _, value in (option.partition("=") for option in options)
        if name.lower() == "expiry-time"
    ]
    comment = parts[2].strip() if len(parts) > 2 else ""
    holder = comment.lower() if EMAIL_LIKE.fullmatch(comment) else comment or None
    return _Key(f"SHA256:{digest}", options, min(expiries, default=None), holder)


def _expiry_time(where: str, location: str, value: str, warnings: list[str]) -> datetime:
    """An ``expiry-time`` value; sshd reads it in the host's zone unless it ends in ``Z``."""
    found = EXPIRY_TIME.fullmatch(value.strip('"'))
    if found is None:
        raise InputError(where, f"expiry-time: expected YYYYMMDD[HHMM[SS]][Z], got {value}")
    year, month, day, hour, minute, second, utc = found.groups()
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=UTC,
        )
    except ValueError as exc:
        raise InputError(where, f"expiry-time: {exc}") from None
    if not utc:
        warnings.append(f"{location}: expiry-time {value} is in the host's time zone; read as UTC")
    return moment


@dataclass
class _SshdState:
    first: dict[str, str] = field(default_factory=dict)
    """Global keywords already set, with where: sshd keeps the first value it reads."""
    keys_complete: bool = True
    read: set[str] = field(default_factory=set)
    unreadable: set[str] = field(default_factory=set)
    """Files and directories the login could not read."""


def _read_sshd(index: Mapping[str, RawPayload], unreadable: set[str], warnings: list[str]) -> bool:
    """Warn on settings that weaken SSH; False when keys may come from files not read."""
    payload = index.get(SSHD_CONFIG)
    if payload is None:
        if SSHD_CONFIG in unreadable:
            warnings.append(f"{SSHD_CONFIG} could not be read; where sshd finds keys is unknown")
        return SSHD_CONFIG not in unreadable
    state = _SshdState(unreadable=unreadable)
    _sshd_file(payload, index, state, False, warnings)
    if "passwordauthentication" not in state.first:
        warnings.append(
            f"{SSHD_CONFIG}: PasswordAuthentication is not set; OpenSSH's default is yes"
        )
    return state.keys_complete


def _sshd_file(
    payload: RawPayload,
    index: Mapping[str, RawPayload],
    state: _SshdState,
    in_match: bool,
    warnings: list[str],
) -> None:
    state.read.add(payload.name)
    for number, line in _lines(payload):
        where = f"{payload.name}:{number}"
        found = SSHD_LINE.fullmatch(line.strip())
        if found is None:
            raise InputError(f"{payload.source}:{number}", "expected 'Keyword value'")
        keyword, value = found.group(1).lower(), found.group(2).strip()
        first_value = value.split()[0].strip('"')
        if keyword == "match":
            in_match = True
        elif keyword == "include":
            for pattern in value.split():
                _sshd_include(pattern.strip('"'), where, index, state, in_match, warnings)
        elif keyword in SSHD_WARNED:
            obeyed = in_match or keyword not in state.first
            if not in_match:
                state.first.setdefault(keyword, where)
            if obeyed and first_value.lower() == "yes":
                block = " (in a Match block)" if in_match else ""
                warnings.append(f"{where}: {found.group(1)} yes{block}")
        elif keyword == "authorizedkeysfile" and set(value.split()) - DEFAULT_KEY_FILES:
            state.keys_complete = False
            warnings.append(f"{where}: AuthorizedKeysFile {value}: keys kept there are not read")
        elif keyword == "authorizedkeyscommand" and first_value.lower() != "none":
            state.keys_complete = False
            warnings.append(f"{where}: AuthorizedKeysCommand supplies keys that are not read")


def _sshd_include(
    pattern: str,
    where: str,
    index: Mapping[str, RawPayload],
    state: _SshdState,
    in_match: bool,
    warnings: list[str],
) -> None:
    """Read the files an ``Include`` names; relative paths are under ``/etc/ssh``."""
    name = pattern.lstrip("/") if pattern.startswith("/") else f"etc/ssh/{pattern}"
    directory, glob = posixpath.split(posixpath.normpath(name))
    matches = sorted(
        n
        for n in index
        if posixpath.dirname(n) == directory and fnmatchcase(posixpath.basename(n), glob)
    )
    lost = [
        n
        for n in sorted(state.unreadable)
        if n == directory
        or (posixpath.dirname(n) == directory and fnmatchcase(posixpath.basename(n), glob))
    ]
    if lost:
        state.keys_complete = False
        warnings.append(
            f"{where}: Include {pattern}: {', '.join(lost)} could not be read; "
            "its settings are not read"
        )
    elif not matches and directory != SSHD_CONFIG_DIR:
        state.keys_complete = False
        warnings.append(f"{where}: Include {pattern} is not in the copy; its settings are not read")
    for match in matches:
        if match not in state.read:
            _sshd_file(index[match], index, state, in_match, warnings)


def _read_sudoers(
    index: Mapping[str, RawPayload],
    unreadable: set[str],
    host: str,
    users: Mapping[str, _User],
    groups: Mapping[str, _Group],
    warnings: list[str],
) -> _Sudoers | None:
    main = index.get(SUDOERS)
    if main is None:
        warnings.append(f"{SUDOERS} {_absent(SUDOERS, unreadable)}; sudo rights are unknown")
        return None
    sudoers = _Sudoers()
    reader = _SudoersReader(index, unreadable, host, users, groups, sudoers, warnings)
    reader.file(main)
    for name in sorted(index):
        if posixpath.dirname(name) == SUDOERS_DIR and name not in reader.seen:
            warnings.append(f"{name}: no includedir in {SUDOERS} reaches it; sudo ignores it")
    return sudoers


class _SudoersReader:
    """Reads sudoers files in the order sudo does, following its include directives."""

    def __init__(
        self,
        index: Mapping[str, RawPayload],
        unreadable: set[str],
        host: str,
        users: Mapping[str, _User],
        groups: Mapping[str, _Group],
        sudoers: _Sudoers,
        warnings: list[str],
    ) -> None:
        self.index = index
        self.unreadable = unreadable
        self.host = host
        self.users = users
        self.groups = groups
        self.sudoers = sudoers
        self.warnings = warnings
        self.seen: set[str] = set()
        """Files read, or skipped by an includedir."""
        self._read: set[str] = set()

    def file(self, payload: RawPayload) -> None:
        self.seen.add(payload.name)
        self._read.add(payload.name)
        for number, line in _sudoers_lines(payload):
            include = SUDO_INCLUDE.fullmatch(line)
            if include:
                self._include(payload.name, number, include.group(1), include.group(2))
            else:
                self._entry(payload, number, line)

    def _include(self, name: str, number: int, directive: str, target: str) -> None:
        where = f"{name}:{number}"
        path = re.sub(r"%([h%])", lambda m: self.host if m.group(1) == "h" else "%", target)
        path = path.strip().strip('"')
        relative = path.lstrip("/") if path.startswith("/") else f"{posixpath.dirname(name)}/{path}"
        relative = posixpath.normpath(relative)
        if directive == "include":
            included = self.index.get(relative)
            if included is None:
                self._incomplete(
                    f"{where}: includes /{relative}, which {_absent(relative, self.unreadable)}"
                )
            elif relative not in self._read:
                self.file(included)
            return
        if relative != SUDOERS_DIR:
            self._incomplete(f"{where}: includes directory /{relative}, which is not read")
            return
        lost = [
            f"/{n}"
            for n in sorted(self.unreadable)
            if n == SUDOERS_DIR or posixpath.dirname(n) == SUDOERS_DIR
        ]
        if lost:
            self._incomplete(f"{where}: {', '.join(lost)} could not be read")
        for file in sorted(n for n in self.index if posixpath.dirname(n) == SUDOERS_DIR):
            base = posixpath.basename(file)
            if "." in base or base.endswith("~"):
                if file not in self.seen:
                    self.warnings.append(
                        f"{file}: skipped, as sudo skips names containing '.' or ending in '~'"
                    )
                self.seen.add(file)
            elif file not in self._read:
                self.file(self.index[file])

    def _entry(self, payload: RawPayload, number: int, line: str) -> None:
        where = f"{payload.name}:{number}"
        first, rest = (*line.split(None, 1), "")[:2]
        if SUDO_DEFAULTS.match(line) or first in SUDO_OTHER_ALIASES:
            return
        if first == "User_Alias":
            for part in SUDO_ALIAS_SEPARATOR.split(rest.strip()):
                alias = SUDO_ALIAS.fullmatch(part)
                if alias is None:
                    raise InputError(
                        f"{payload.source}:{number}", "expected 'User_Alias NAME = users'"
                    )
                if alias.group(1) in self.sudoers.aliases:
                    raise InputError(
                        f"{payload.source}:{number}",
                        f"User_Alias {alias.group(1)} is already defined",
                    )
                self.sudoers.aliases[alias.group(1)] = self._items(where, alias.group(2))
            return
        spec = SUDO_USER_SPEC.fullmatch(line)
        if spec is None:
            raise InputError(f"{payload.source}:{number}", "expected 'users hosts = commands'")
        self.sudoers.rules.append(self._items(where, spec.group(1)))

    def _items(self, where: str, text: str) -> tuple[_Item, ...]:
        items = []
        for bangs, raw in SUDO_ITEM.findall(text):
            name = re.sub(r"\\(.)", r"\1", raw.replace('"', ""))
            alias = name in self.sudoers.aliases
            items.append(_Item(bangs.count("!") % 2 == 1, name, alias))
            if name.startswith(("+", "%:")):
                self._incomplete(f"{where}: {name} cannot be resolved from these files")
            elif name.startswith("%") and not name.startswith("%#") and name[1:] not in self.groups:
                self.warnings.append(f"{where}: group '{name[1:]}' is not in {GROUP}")
            elif (
                not alias
                and not name.startswith(("%", "#"))
                and name != "ALL"
                and name not in self.users
            ):
                self.warnings.append(f"{where}: user '{name}' is not in {PASSWD}")
        return tuple(items)

    def _incomplete(self, warning: str) -> None:
        self.sudoers.complete = False
        self.warnings.append(f"{warning}; sudo rights are unknown beyond the rules read")


def _sudoers_lines(payload: RawPayload) -> Iterator[tuple[int, str]]:
    """Logical lines: comments removed, ``\\`` continuations joined, numbered where they start."""
    pending = ""
    start = 0
    for number, raw in enumerate(_export.decode_text(payload).split("\n"), start=1):
        if not pending:
            start = number
        text = _strip_sudoers_comment(raw.removesuffix("\r"))
        if text.endswith("\\"):
            pending += text[:-1]
            continue
        line = (pending + text).strip()
        pending = ""
        if line:
            yield start, line
    if pending.strip():
        yield start, pending.strip()


def _strip_sudoers_comment(text: str) -> str:
    """``#`` starts a comment, except in ``#include`` and before digits (``#1000`` is a uid)."""
    if SUDO_INCLUDE.fullmatch(text.strip()):
        return text
    quoted = False
    for position, char in enumerate(text):
        escaped = position > 0 and text[position - 1] == "\\"
        if char == '"' and not escaped:
            quoted = not quoted
        elif (
            char == "#"
            and not quoted
            and not escaped
            and not text[position + 1 : position + 2].isdigit()
        ):
            return text[:position]
    return text


def _sudo_paths(sudoers: _Sudoers, who: _Who) -> list[str | None]:
    """How the rules reach the user: ``None`` for directly, else each group's name."""
    paths: set[str | None] = set()
    for items in sudoers.rules:
        verdict, via = _evaluate(items, who, sudoers.aliases)
        if verdict:
            paths |= via
    return sorted(paths, key=lambda via: (via is not None, via or ""))


def _evaluate(
    items: Sequence[_Item],
    who: _Who,
    aliases: Mapping[str, Sequence[_Item]],
) -> tuple[bool | None, frozenset[str | None]]:
    """sudo's verdict on a user list (the last entry that matches decides) and the paths.

    Every allowing entry after the last denying one is a path: removing the user from one
    group would leave the others.
    """
    verdict: bool | None = None
    paths: set[str | None] = set()
    for item in items:
        if item.alias:
            inner, via = _evaluate(aliases[item.name], who, aliases)
            if inner is None:
                continue
            allowed = inner != item.negated
            via = via or frozenset({None})
        else:
            matched = _match(item.name, who)
            if not matched:
                continue
            allowed, via = not item.negated, matched
        verdict = allowed
        if allowed:
            paths |= via
        else:
            paths.clear()
    return verdict, frozenset(paths)


def _match(name: str, who: _Who) -> frozenset[str | None]:
    """The paths by which one user-list entry names the user; empty when it does not."""
    gid = re.fullmatch(r"%#([0-9]+)", name)
    if gid:
        return frozenset(g.name for g in who.groups if g.gid == int(gid.group(1)))
    if name.startswith(("+", "%:")):
        return frozenset()
    if name.startswith("%"):
        return frozenset({name[1:]}) if any(g.name == name[1:] for g in who.groups) else frozenset()
    uid = re.fullmatch(r"#([0-9]+)", name)
    if name == "ALL" or name == who.name or (uid and int(uid.group(1)) == who.uid):
        return frozenset({None})
    return frozenset()


def _granted_groups(sudoers: _Sudoers, groups: Mapping[str, _Group]) -> set[str]:
    """Groups a rule names (through aliases too), not negated: their members get sudo."""
    granted: set[str] = set()
    pending = [item for items in sudoers.rules for item in items]
    while pending:
        item = pending.pop()
        if item.negated:
            continue
        if item.alias:
            pending.extend(sudoers.aliases[item.name])
        elif gid := re.fullmatch(r"%#([0-9]+)", item.name):
            granted |= {g.name for g in groups.values() if g.gid == int(gid.group(1))}
        elif item.name.startswith("%") and not item.name.startswith("%:"):
            granted.add(item.name[1:])
    return granted
