"""Live mode of the linux connector, against a real sshd serving a prepared root tree."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.connectors.conftest import MakeConfig
from tests.connectors.sshd import Sshd, running_sshd
from tests.connectors.test_linux import ALICE_ED25519, BOB_ECDSA, HOST, build

from assay.connectors import registry
from assay.connectors.base import Collected, ConnectorConfig
from assay.connectors.linux import LinuxConnector
from assay.errors import AssayError, InputError
from assay.inventory.records import AccountStatus, Tri


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    with running_sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


def live(make_config: MakeConfig, sshd: Sshd, root: Path, **changes: Any) -> ConnectorConfig:
    return make_config(mode="live", **sshd.settings(root, **changes))


def collect(make_config: MakeConfig, sshd: Sshd, root: Path, **changes: Any) -> Collected:
    return LinuxConnector().collect(live(make_config, sshd, root, **changes))


def test_live_collection_equals_export_of_the_same_tree(
    tmp_path: Path, make_config: MakeConfig, sshd: Sshd
) -> None:
    root = build(tmp_path, {"root/.ssh/authorized_keys": f"{ALICE_ED25519}\n{BOB_ECDSA}\n"})
    collected = collect(make_config, sshd, root)
    exported = LinuxConnector().collect(make_config(path=HOST, host=sshd.host))

    assert collected.records == exported.records
    assert [(p.name, p.data) for p in collected.payloads] == [
        (p.name, p.data) for p in exported.payloads
    ]
    url = f"ssh://{sshd.user}@127.0.0.1:{sshd.port}"
    assert [p.source for p in collected.payloads] == [
        f"{url}{root}/{p.name}" for p in exported.payloads
    ]
    assert (collected.mode, collected.complete, collected.incomplete_reason) == ("live", True, None)
    assert collected.parameters == {
        "url": url,
        "root": str(root),
        "sudo": False,
        "host": "127.0.0.1",
        "files": 12,
        "unreadable": [],
        "accounts": 8,
        "ssh_keys": 5,
        "shadow": True,
        "sudoers": True,
    }
    # The new facts, as the files say them: uid 0, and root's keys held by two people.
    (root_account,) = (a for a in collected.records.accounts if a.root)
    assert (root_account.account_id, root_account.shared_by) == ("root", ("alice@laptop", "bob@ci"))
    assert [c.owner for c in collected.records.credentials if c.account_id == "root"] == [
        "alice@laptop",
        "bob@ci",
    ]
    # Nothing of the key itself is kept.
    secret = sshd.identity_file.read_bytes()
    assert all(secret not in p.data for p in collected.payloads)
    assert str(sshd.identity_file) not in str(collected.parameters)


def test_key_and_known_hosts_paths_with_spaces_and_percent_signs(
    tmp_path: Path, make_config: MakeConfig, sshd: Sshd
) -> None:
    root = build(tmp_path)
    odd = tmp_path / "keys of %u and %h"
    odd.mkdir()
    key = Path(shutil.copy(sshd.identity_file, odd / "id 1"))
    known_hosts = Path(shutil.copy(sshd.known_hosts, odd / "known %d"))
    collected = collect(
        make_config, sshd, root, identity_file=str(key), known_hosts=str(known_hosts)
    )
    assert len(collected.records.accounts) == 8


def test_stored_payloads_replay_to_the_same_records(
    tmp_path: Path, make_config: MakeConfig, sshd: Sshd
) -> None:
    root = build(tmp_path)
    config = live(make_config, sshd, root)
    collected = LinuxConnector().collect(config)
    assert registry.parser_for("linux")(collected.payloads, config) == collected.records


def test_missing_files_are_absent_as_in_a_copy(
    tmp_path: Path, make_config: MakeConfig, sshd: Sshd
) -> None:
    root = build(tmp_path, {"etc/shadow": None, "etc/sudoers.d/90-deploy": None})
    collected = collect(make_config, sshd, root)
    assert (
        collected.records
        == LinuxConnector().collect(make_config(path=HOST, host="127.0.0.1")).records
    )
    assert collected.complete
    assert "etc/shadow is not in the copy; whether passwords are locked is unknown" in (
        collected.records.warnings
    )


def test_missing_passwd_is_an_error(tmp_path: Path, make_config: MakeConfig, sshd: Sshd) -> None:
    root = build(tmp_path, {"etc/passwd": None})
    with pytest.raises(InputError) as caught:
        collect(make_config, sshd, root)
    url = f"ssh://{sshd.user}@127.0.0.1:{sshd.port}"
    assert (caught.value.where, caught.value.problem) == (
        f"{url}{root}/etc/passwd",
        "file not found",
    )


def test_unreadable_files_are_unknown_and_the_collection_incomplete(
    tmp_path: Path, make_config: MakeConfig, sshd: Sshd
) -> None:
    root = build(tmp_path)
    for name in ("etc/shadow", "home/bob/.ssh/authorized_keys", "etc/sudoers.d"):
        (root / name).chmod(0)
    try:
        config = live(make_config, sshd, root)
        collected = LinuxConnector().collect(config)
    finally:
        (root / "etc/sudoers.d").chmod(0o755)
    url = f"ssh://{sshd.user}@127.0.0.1:{sshd.port}{root}"
    unreadable = [
        f"{url}/etc/shadow",
        f"{url}/home/bob/.ssh/authorized_keys",
        f"{url}/etc/sudoers.d",
    ]
    assert not collected.complete
    assert collected.incomplete_reason == (
        f"the login may not read {', '.join(unreadable)}; what they hold is unknown"
    )
    assert collected.parameters["unreadable"] == unreadable
    markers = [p for p in collected.payloads if p.name.startswith("unreadable/")]
    assert [(p.name, p.source) for p in markers] == [
        ("unreadable/etc/shadow", unreadable[0]),
        ("unreadable/home/bob/.ssh/authorized_keys", unreadable[1]),
        ("unreadable/etc/sudoers.d", unreadable[2]),
    ]
    assert b"Permission denied" in markers[0].data

    records = collected.records
    status = {a.account_id: a.status for a in records.accounts}
    # alice still has keys; bob's keys and everyone's password are unknown; carol, with no key
    # file, may still have a password.
    assert (status["alice"], status["bob"], status["carol"]) == (
        AccountStatus.ACTIVE,
        AccountStatus.UNKNOWN,
        AccountStatus.UNKNOWN,
    )
    privileged = {a.account_id: a.privileged for a in records.accounts}
    assert (privileged["alice"], privileged["bob"], privileged["carol"]) == (
        Tri.YES,
        Tri.UNKNOWN,
        Tri.UNKNOWN,
    )
    assert records.warnings == (
        "etc/shadow could not be read; whether passwords are locked is unknown",
        "etc/ssh/sshd_config.d/50-cloud-init.conf:1: PasswordAuthentication yes",
        "etc/ssh/sshd_config:4: PermitRootLogin yes",
        "home/bob/.ssh/authorized_keys could not be read; the keys it holds are unknown",
        "etc/sudoers:19: /etc/sudoers.d could not be read; "
        "sudo rights are unknown beyond the rules read",
    )
    assert registry.parser_for("linux")(collected.payloads, config) == records


def test_unreadable_passwd_is_an_error(tmp_path: Path, make_config: MakeConfig, sshd: Sshd) -> None:
    root = build(tmp_path)
    (root / "etc/passwd").chmod(0)
    with pytest.raises(InputError) as caught:
        collect(make_config, sshd, root)
    assert caught.value.where.endswith(f"{root}/etc/passwd")
    assert caught.value.problem.startswith("cannot read it: cat: ")
    assert caught.value.problem.endswith("Permission denied")


def test_a_key_the_host_does_not_accept(
    tmp_path: Path, make_config: MakeConfig, sshd: Sshd
) -> None:
    root = build(tmp_path)
    stranger = sshd.new_key("stranger")
    with pytest.raises(InputError) as caught:
        collect(make_config, sshd, root, identity_file=str(stranger))
    assert caught.value.where == f"ssh://{sshd.user}@127.0.0.1:{sshd.port}"
    assert caught.value.problem == (
        f"login refused: the host did not accept the key {stranger} for {sshd.user} "
        f"({sshd.user}@127.0.0.1: Permission denied (publickey).)"
    )
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("known", ["", "other"])
def test_an_unknown_host_key(
    tmp_path: Path, make_config: MakeConfig, sshd: Sshd, known: str
) -> None:
    root = build(tmp_path)
    known_hosts = tmp_path / "known_hosts"
    text = ""
    if known:
        other = sshd.new_key(f"other-host-{tmp_path.name}")
        text = f"[127.0.0.1]:{sshd.port} {other.with_suffix('.pub').read_text()}"
    known_hosts.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        collect(make_config, sshd, root, known_hosts=str(known_hosts))
    assert caught.value.where == f"ssh://{sshd.user}@127.0.0.1:{sshd.port}"
    assert caught.value.problem.startswith(
        f"the host's key is not the one {known_hosts} holds for it ("
    )
    assert caught.value.problem.endswith("check the key out of band and add it there")
    assert "\n" not in str(caught.value)


def test_nothing_answers(tmp_path: Path, make_config: MakeConfig, sshd: Sshd) -> None:
    root = build(tmp_path)
    with pytest.raises(AssayError, match=r"^ssh://.*: cannot connect: .*Connection refused"):
        collect(make_config, sshd, root, port=1)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"host": None}, "connector setting 'host' is required: the host to log in to"),
        ({"user": None}, "connector setting 'user' is required: the login name on the host"),
        ({"port": "22"}, "connector setting 'port' must be a number from 1 to 65535"),
        ({"root": "srv/copy"}, "connector setting 'root' must be an absolute path on the host"),
        ({"sudo": "yes"}, "connector setting 'sudo' must be true or false"),
        (
            {"host": "-oProxyCommand=x"},
            "connector setting 'host': not a host name or address: '-oProxyCommand=x'",
        ),
    ],
)
def test_bad_settings(
    tmp_path: Path, make_config: MakeConfig, sshd: Sshd, changes: dict[str, Any], problem: str
) -> None:
    settings = {k: v for k, v in {**sshd.settings(tmp_path), **changes}.items() if v is not None}
    with pytest.raises(InputError) as caught:
        LinuxConnector().collect(make_config(mode="live", **settings))
    assert (caught.value.where, caught.value.problem) == ("system sys", problem)


def test_missing_key_file(tmp_path: Path, make_config: MakeConfig, sshd: Sshd) -> None:
    with pytest.raises(InputError) as caught:
        collect(make_config, sshd, tmp_path, identity_file="keys/id_ed25519")
    assert (caught.value.where, caught.value.problem) == (
        str(tmp_path / "keys/id_ed25519"),
        "file not found",
    )
