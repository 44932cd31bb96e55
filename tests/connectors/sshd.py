"""A throwaway OpenSSH server on a free loopback port, for the linux connector's live mode.

It runs ``/usr/sbin/sshd`` (installed by ``scripts/ensure-sshd``) as the current user, with a
host key and a client key made for the occasion, and logs in only that user with that key.
When the current user is root, sshd runs without the capabilities that let root read any
file (``CAP_DAC_OVERRIDE``, ``CAP_DAC_READ_SEARCH``), so file modes bind the login as they
would bind an ordinary user and the tests can make a file unreadable.
"""

from __future__ import annotations

import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SSHD = "/usr/sbin/sshd"
READY_WITHIN = 10.0
"""Seconds sshd has to start listening before the fixture gives up."""


@dataclass(frozen=True)
class Sshd:
    host: str
    port: int
    user: str
    identity_file: Path
    """The client's private key, which the server accepts."""
    known_hosts: Path
    """A known_hosts file holding the server's host key."""
    directory: Path

    def settings(self, root: Path, **changes: Any) -> dict[str, Any]:
        """Live-mode settings that log in and read the tree under ``root``."""
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "identity_file": str(self.identity_file),
            "known_hosts": str(self.known_hosts),
            "root": str(root),
            **changes,
        }

    def new_key(self, name: str) -> Path:
        """Another key pair, which the server does not accept: the private key's path."""
        return keygen(self.directory / name, f"{name}@test")


def keygen(path: Path, comment: str) -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
            return connection.recv(4).startswith(b"SSH-")
    except OSError:
        return False


@contextmanager
def running_sshd(directory: Path) -> Iterator[Sshd]:
    """Start sshd with its files in ``directory``; stop it, and its sessions, on exit."""
    directory.mkdir(parents=True, exist_ok=True)
    host_key = keygen(directory / "host_key", "host@test")
    client_key = keygen(directory / "client_key", "client@test")
    authorized = directory / "authorized_keys"
    authorized.write_bytes(client_key.with_suffix(".pub").read_bytes())
    port = _free_port()
    config = directory / "sshd_config"
    config.write_text(
        f"ListenAddress 127.0.0.1\n"
        f"Port {port}\n"
        f"HostKey {host_key}\n"
        f"AuthorizedKeysFile {authorized}\n"
        f"PidFile {directory / 'sshd.pid'}\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\n"
        "UsePAM no\n"
        # The temporary directory's parents are world-writable (/tmp).
        "StrictModes no\n",
        encoding="utf-8",
    )
    command = [SSHD, "-D", "-e", "-f", str(config)]
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        command = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", *command]
    log = directory / "sshd.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + READY_WITHIN
        while not _answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"sshd did not start: {log.read_text(errors='replace')}")
            time.sleep(0.05)
        known_hosts = directory / "known_hosts"
        public = host_key.with_suffix(".pub").read_text(encoding="utf-8")
        known_hosts.write_text(f"[127.0.0.1]:{port} {public}", encoding="utf-8")
        yield Sshd(
            host="127.0.0.1",
            port=port,
            user=pwd.getpwuid(os.geteuid()).pw_name,
            identity_file=client_key,
            known_hosts=known_hosts,
            directory=directory,
        )
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
