"""Live mode of the git connector: the branch is fetched from a remote and read as in export
mode. Remotes are real: a ``file://`` URL (git's pack transport) and a ``git daemon`` on
loopback."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator

import pytest
from tests.connectors.test_git_connector import History, MakeConfig, history  # noqa: F401

from assay.connectors.git import GitConnector
from assay.connectors.registry import parser_for
from assay.errors import InputError


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def daemon(history: History) -> Iterator[str]:  # noqa: F811
    """``git daemon`` serving the history's parent directory; yields the repository's URL once
    the daemon says it listens (``--verbose`` logs "Ready to rumble" after binding its port)."""
    port = _free_port()
    process = subprocess.Popen(
        [
            "git",
            "daemon",
            "--verbose",
            "--reuseaddr",
            "--export-all",
            "--listen=127.0.0.1",
            f"--port={port}",
            f"--base-path={history.repo.parent}",
            str(history.repo.parent),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    try:
        said = []
        for line in process.stderr:  # ends if the daemon exits without listening
            said.append(line)
            if "Ready to rumble" in line:
                break
        else:
            pytest.fail(f"git daemon did not start: {''.join(said)}")
        yield f"git://127.0.0.1:{port}/{history.repo.name}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_remote_gives_the_same_changes_as_a_local_copy(
    history: History,  # noqa: F811
    daemon: str,
    make_config: MakeConfig,
) -> None:
    local = GitConnector().collect(make_config(path=str(history.repo)))
    remote = GitConnector().collect(make_config(mode="live", url=daemon))
    assert remote.records == local.records
    assert remote.payloads[0].data == local.payloads[0].data
    assert daemon in remote.payloads[0].source
    assert remote.parameters["url"] == daemon
    assert remote.parameters["repository"] == history.repo.name
    assert remote.complete
    config = make_config(mode="live", url=daemon)
    assert parser_for("git")(remote.payloads, config) == remote.records


def test_file_url_and_credentials_kept_out_of_the_evidence(
    history: History,  # noqa: F811
    make_config: MakeConfig,
) -> None:
    url = f"file://{history.repo}"
    collected = GitConnector().collect(make_config(mode="live", url=url, name="service"))
    assert collected.records.changes[0].repository == "service"
    assert len(collected.records.changes) == 5
    secret_url = f"https://reader:hunter2@127.0.0.1:{_free_port()}/acme/app.git"
    with pytest.raises(InputError) as caught:
        GitConnector().collect(make_config(mode="live", url=secret_url))
    assert "hunter2" not in str(caught.value) and "reader" not in str(caught.value)
    assert caught.value.problem.startswith("connector setting 'url' must not hold a user name")


def test_a_missing_branch_or_repository_is_a_clear_error(
    daemon: str, make_config: MakeConfig
) -> None:
    with pytest.raises(InputError, match="cannot fetch branch 'develop'"):
        GitConnector().collect(make_config(mode="live", url=daemon, branch="develop"))
    with pytest.raises(InputError, match="cannot fetch branch 'main'"):
        GitConnector().collect(make_config(mode="live", url=daemon + "-missing"))
