from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from assay.connectors import git
from assay.connectors.base import ConnectorConfig, RawPayload
from assay.connectors.git import GitConnector, reviewer_email
from assay.errors import InputError
from assay.inventory.records import Change

MakeConfig = Callable[..., ConnectorConfig]

PEOPLE = {
    "alice": ("Alice", "Alice@Example.com"),
    "bob": ("Bob", "bob@example.com"),
    "carol": ("Carol", "carol@example.com"),
    "dave": ("Dave", "dave@example.com"),
    "frank": ("Frank", "frank@example.com"),
}


def run_git(repo: Path, *args: str, who: str = "alice", when: str | None = None) -> str:
    """Run git in ``repo`` as ``who``, with author and committer dates fixed to ``when``."""
    name, email = PEOPLE[who]
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    if when is not None:
        env["GIT_AUTHOR_DATE"] = when
        env["GIT_COMMITTER_DATE"] = when
    completed = subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "-c",
            f"user.name={name}",
            "-c",
            f"user.email={email}",
            "-c",
            "commit.gpgsign=false",
            *args,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout.strip()


def commit(repo: Path, who: str, when: str, subject: str, *body: str) -> str:
    messages = [arg for part in (subject, *body) for arg in ("-m", part)]
    run_git(repo, "commit", "--allow-empty", "-q", *messages, who=who, when=when)
    return run_git(repo, "rev-parse", "HEAD")


@dataclass(frozen=True)
class History:
    repo: Path
    initial: str
    hotfix: str
    merge_feature: str
    self_reviewed: str
    merge_feature2: str


@pytest.fixture
def history(tmp_path: Path) -> History:
    """A repository whose ``main`` has direct commits, merges and review trailers.

    main (first parents): initial, hotfix, merge of feature (reviewed by dave),
    self_reviewed (alice reviews alice), merge of feature2 (approved by bob, reviewed by carol).
    feature: f1 (bob), f2 (carol), branched from initial.
    feature2: g1 (frank) from initial, then frank merges feature, then frank merges main.
    """
    repo = tmp_path / "service-repo"
    repo.mkdir()
    run_git(repo, "init", "-q", "-b", "main")
    initial = commit(repo, "alice", "2024-01-01T10:00:00+02:00", "Initial commit")
    run_git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, "bob", "2024-01-02T10:00:00+00:00", "Feature part 1")
    commit(repo, "carol", "2024-01-03T10:00:00+00:00", "Feature part 2")
    run_git(repo, "checkout", "-q", "main")
    hotfix = commit(repo, "alice", "2024-01-04T10:00:00+00:00", "Hotfix without review")
    run_git(
        repo,
        "merge",
        "-q",
        "--no-ff",
        "feature",
        "-m",
        "Merge branch 'feature'",
        "-m",
        "Reviewed-by: Dave Reviewer <Dave@Example.com>",
        who="dave",
        when="2024-01-05T12:00:00-05:00",
    )
    merge_feature = run_git(repo, "rev-parse", "HEAD")
    self_reviewed = commit(
        repo,
        "alice",
        "2024-01-06T10:00:00+00:00",
        "Tweak config",
        "Reviewed-by: Alice <alice@example.com>",
    )
    run_git(repo, "checkout", "-q", "-b", "feature2", initial)
    commit(repo, "frank", "2024-01-07T10:00:00+00:00", "Second feature")
    run_git(
        repo,
        "merge",
        "-q",
        "--no-ff",
        "feature",
        "-m",
        "Merge feature into feature2",
        who="frank",
        when="2024-01-07T11:00:00+00:00",
    )
    run_git(
        repo,
        "merge",
        "-q",
        "--no-ff",
        "main",
        "-m",
        "Merge main into feature2",
        who="frank",
        when="2024-01-08T10:00:00+00:00",
    )
    run_git(repo, "checkout", "-q", "main")
    run_git(
        repo,
        "merge",
        "-q",
        "--no-ff",
        "feature2",
        "-m",
        "Merge branch 'feature2'",
        "-m",
        "Approved-by: Bob <bob@example.com>\n"
        "Reviewed-by: carol@EXAMPLE.com\n"
        "Reviewed-by: the whole team",
        who="dave",
        when="2024-01-09T10:00:00+00:00",
    )
    merge_feature2 = run_git(repo, "rev-parse", "HEAD")
    return History(repo, initial, hotfix, merge_feature, self_reviewed, merge_feature2)


def change(
    commit_hash: str,
    subject: str,
    at: datetime,
    authors: tuple[str, ...],
    reviewers: tuple[str, ...],
) -> Change:
    return Change(
        system_id="sys",
        repository="service-repo",
        branch="main",
        commit=commit_hash,
        subject=subject,
        committed_at=at,
        authors=authors,
        reviewers=reviewers,
    )


def test_changes_on_the_first_parent_line(history: History, make_config: MakeConfig) -> None:
    records = GitConnector().collect(make_config(path=str(history.repo))).records

    assert records.changes == (
        change(
            history.merge_feature2,
            "Merge branch 'feature2'",
            datetime(2024, 1, 9, 10, tzinfo=UTC),
            # g1 and frank's two merges: the feature commits and main's own commits are
            # already on the first-parent side, so they are not brought in again.
            ("frank@example.com",),
            ("bob@example.com", "carol@example.com"),
        ),
        change(
            history.self_reviewed,
            "Tweak config",
            datetime(2024, 1, 6, 10, tzinfo=UTC),
            ("alice@example.com",),
            ("alice@example.com",),
        ),
        change(
            history.merge_feature,
            "Merge branch 'feature'",
            datetime(2024, 1, 5, 17, tzinfo=UTC),
            ("bob@example.com", "carol@example.com"),
            ("dave@example.com",),
        ),
        change(
            history.hotfix,
            "Hotfix without review",
            datetime(2024, 1, 4, 10, tzinfo=UTC),
            ("alice@example.com",),
            (),
        ),
        change(
            history.initial,
            "Initial commit",
            datetime(2024, 1, 1, 8, tzinfo=UTC),
            ("alice@example.com",),
            (),
        ),
    )
    assert records.warnings == (
        "git-log.txt: commit "
        f"{history.merge_feature2}: review trailer 'the whole team' holds no e-mail address; "
        "ignored",
    )


def test_one_payload_holding_every_reachable_commit(
    history: History, make_config: MakeConfig
) -> None:
    config = make_config(path=str(history.repo))
    collected = GitConnector().collect(config)

    (payload,) = collected.payloads
    assert payload.name == "git-log.txt"
    assert payload.source.startswith("git ")
    assert f"-C {history.repo}" in payload.source
    assert history.merge_feature2 in payload.source
    assert payload.data.count(b"\0") == 10  # 5 on main, f1, f2, g1, two merges into feature2
    assert collected.parameters["tip"] == history.merge_feature2
    assert collected.parameters["ref"] == "refs/heads/main"
    assert collected.parameters["branch"] == "main"
    assert collected.complete is True
    assert git.parse(collected.payloads, config) == collected.records


def test_source_command_reproduces_the_payload(history: History, make_config: MakeConfig) -> None:
    import shlex

    collected = GitConnector().collect(make_config(path=str(history.repo)))
    (payload,) = collected.payloads
    rerun = subprocess.run(shlex.split(payload.source), capture_output=True, check=True)
    assert rerun.stdout == payload.data


def test_other_branch_and_repository_name(history: History, make_config: MakeConfig) -> None:
    records = (
        GitConnector()
        .collect(make_config(path=str(history.repo), branch="feature", name="acme/service"))
        .records
    )
    assert [c.subject for c in records.changes] == [
        "Feature part 2",
        "Feature part 1",
        "Initial commit",
    ]
    assert {(c.repository, c.branch) for c in records.changes} == {("acme/service", "feature")}


def test_shallow_clone_is_incomplete(
    history: History, tmp_path: Path, make_config: MakeConfig
) -> None:
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{history.repo}", str(clone)],
        check=True,
        capture_output=True,
    )
    collected = GitConnector().collect(make_config(path=str(clone), branch="origin/main"))
    assert collected.parameters["ref"] == "refs/remotes/origin/main"
    assert collected.complete is False
    assert collected.incomplete_reason is not None
    assert [c.commit for c in collected.records.changes] == [history.merge_feature2]
    # The parents are outside the shallow history: nothing is brought in.
    assert collected.records.changes[0].authors == ("dave@example.com",)


def test_live_mode_needs_a_remote_url(history: History, make_config: MakeConfig) -> None:
    with pytest.raises(InputError, match="'url' must be"):
        GitConnector().collect(make_config(mode="live", path=str(history.repo)))
    with pytest.raises(InputError, match="does not support mode 'api'"):
        GitConnector().collect(make_config(mode="api", path=str(history.repo)))


def test_unknown_branch(history: History, make_config: MakeConfig) -> None:
    with pytest.raises(InputError) as caught:
        GitConnector().collect(make_config(path=str(history.repo), branch="develop"))
    assert caught.value.where == str(history.repo)
    assert caught.value.problem == "branch 'develop' not found"


def test_invalid_branch_name(history: History, make_config: MakeConfig) -> None:
    with pytest.raises(InputError, match="not a valid branch name"):
        GitConnector().collect(make_config(path=str(history.repo), branch="bad..name"))


def test_not_a_git_repository(tmp_path: Path, make_config: MakeConfig) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(InputError) as caught:
        GitConnector().collect(make_config(path="plain"))
    assert caught.value.where == str(plain.resolve())
    assert caught.value.problem.startswith("not a git repository")


def test_directory_inside_a_repository_is_not_the_repository(
    history: History, make_config: MakeConfig
) -> None:
    inner = history.repo / "docs"
    inner.mkdir()
    with pytest.raises(InputError, match="not a git repository"):
        GitConnector().collect(make_config(path=str(inner)))


def test_missing_directory(tmp_path: Path, make_config: MakeConfig) -> None:
    with pytest.raises(InputError) as caught:
        GitConnector().collect(make_config(path="nowhere"))
    assert caught.value.where == str(tmp_path / "nowhere")


HASH_A = "a" * 40
HASH_B = "b" * 40


def record(
    commit_hash: str, parents: str, subject: str = "s", date: str = "2024-01-01T00:00:00Z"
) -> bytes:
    return f"{commit_hash}\x1e{parents}\x1eA@x.io\x1e{date}\x1e\x1e{subject}\0".encode()


def parse(data: bytes, make_config: MakeConfig) -> tuple[Change, ...]:
    payload = RawPayload(name="git-log.txt", source="git log", data=data)
    return git.parse([payload], make_config(path="/srv/repo")).changes


def test_parse_a_stored_payload(make_config: MakeConfig) -> None:
    changes = parse(record(HASH_B, HASH_A, "two\x1eseparators") + record(HASH_A, ""), make_config)
    assert [(c.commit, c.subject, c.authors, c.repository) for c in changes] == [
        (HASH_B, "two\x1eseparators", ("a@x.io",), "repo"),
        (HASH_A, "s", ("a@x.io",), "repo"),
    ]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "no commits"),
        (f"{HASH_A}\x1e\x1eA@x.io\0".encode(), "record 1: expected 6 fields, got 3"),
        (record("nothex", ""), "record 1: not a commit hash: 'nothex'"),
        (record(HASH_A, "", date="yesterday"), "record 1: committer date"),
        (record(HASH_A, "") + record(HASH_B, ""), "found 2 commits without children"),
        (record(HASH_A, "") + record(HASH_A, ""), "record 2: commit " + HASH_A + " appears twice"),
    ],
)
def test_malformed_payload(data: bytes, problem: str, make_config: MakeConfig) -> None:
    with pytest.raises(InputError) as caught:
        parse(data, make_config)
    assert caught.value.where == "git-log.txt"
    assert problem in caught.value.problem


def test_payload_must_be_present(make_config: MakeConfig) -> None:
    with pytest.raises(InputError, match="missing"):
        git.parse([], make_config(path="/srv/repo"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Jane Doe <Jane.Doe@Example.com>", "jane.doe@example.com"),
        ("<ops@example.com>", "ops@example.com"),
        ("  Bob@Example.com ", "bob@example.com"),
        ("Jane Doe", None),
        ("Jane Doe <jane>", None),
    ],
)
def test_reviewer_email(value: str, expected: str | None) -> None:
    assert reviewer_email(value) == expected
