"""Changes that reached a branch of a git repository, with their authors and reviewers.

Export mode. Settings: ``path`` — a local repository (its top directory, or a bare repository);
``branch`` — default ``main``: a local branch, a remote-tracking branch such as ``origin/main``,
or a full ``refs/…`` name; ``name`` — the repository's name in records (default: the
directory's name).

Live mode. Settings: ``url`` — the remote (``https://``, ``ssh://``, ``git://`` or
``file://``); ``branch`` (default ``main``); ``name`` (default: the URL's last component without
``.git``); optional secret ``token`` for HTTPS, sent as an ``Authorization`` header through
git's environment (never on the command line, never in the evidence). The branch alone is
fetched into a private temporary bare repository without file contents (``--filter=blob:none``:
commits and trees are all the log needs), read exactly as in export mode, and deleted. Read
access to the repository's contents is all it needs (a fine-grained token with *Contents: read*,
a read-only deploy key through the usual SSH setup). The payload's ``source`` names the URL,
with any user or password in it removed.

Collection runs ``git log`` once over every commit reachable from the branch tip and keeps its
output, byte for byte, as the snapshot's only payload ``git-log.txt`` (its ``source`` is the
exact command line). Each commit is one NUL-terminated record of fields separated by ``0x1E``:
hash, parent hashes, author e-mail, committer date, the values of ``Reviewed-by:`` and
``Approved-by:`` trailers (separated by ``0x1F``), and the subject last, so nothing in it can
shift the other fields. The command disables replace refs, mailmap and signature display, so
what is recorded is what the commits say.

Parsing walks the first-parent line from the tip: each commit on it is one change. A plain
commit's authors are its own author; a merge's authors are the authors of the commits it brought
in — reachable from its other parents and not from its first parent. Reviewers are the e-mail
addresses in the trailers of that commit. Whether a reviewer is independent of the authors is a
check's question, so a self-review is recorded as it is.
"""

from __future__ import annotations

import base64
import os
import re
import shlex
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import StrictStr

from assay.connectors import _export, _urls
from assay.connectors.base import (
    Collected,
    ConnectorConfig,
    RawPayload,
    Settings,
    SettingsModel,
    Url,
)
from assay.errors import AssayError, InputError
from assay.inventory.records import Change, Records

LOG_PAYLOAD = "git-log.txt"
REMOTE_SCHEMES = ("https", "ssh", "git", "file")
DEFAULT_BRANCH = "main"
REVIEW_TRAILERS = ("Reviewed-by", "Approved-by")

FIELD_SEPARATOR = "\x1e"
VALUE_SEPARATOR = "\x1f"
LOG_FORMAT = (
    "%H%x1e%P%x1e%ae%x1e%cI%x1e"
    "%(trailers:key=Reviewed-by,key=Approved-by,valueonly,unfold,separator=%x1f)%x1e%s"
)
_FIELDS = 6

_HASH = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
_ANGLE_EMAIL = re.compile(r"<\s*([^<>\s]+@[^<>\s]+)\s*>")
_BARE_EMAIL = re.compile(r"[^<>\s@]+@[^<>\s@]+")

# Variables that would make git read another repository than the one named with -C.
_REPOSITORY_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_REPLACE_REF_BASE",
)


class GitSettings(Settings):
    """The repository (export mode) or its remote (live mode), the branch, the name in records."""

    SECRETS = ("token",)

    path: StrictStr | None = None
    url: Url | None = None
    branch: StrictStr | None = None
    name: StrictStr | None = None


class GitConnector:
    """Reads the history of one branch of a local git repository."""

    type: str = "git"
    version: str = "1"
    settings: SettingsModel = GitSettings

    def collect(self, config: ConnectorConfig) -> Collected:
        started_at = datetime.now(UTC)
        if config.mode == _export.LIVE_MODE:
            url = _url(config)
            with tempfile.TemporaryDirectory(prefix="assay-git-") as scratch:
                repo = Path(scratch) / "repo.git"
                _clone(config, url, _branch(config), repo)
                return self._read(config, repo, started_at, _urls.public(url))
        if config.mode != _export.EXPORT_MODE:
            raise _export.unsupported_mode(config, self.type, _export.MODES)
        repo = _repository(config.path())
        return self._read(config, repo, started_at, str(repo))

    def _read(
        self, config: ConnectorConfig, repo: Path, started_at: datetime, where: str
    ) -> Collected:
        """Log the branch of ``repo``; ``where`` names the repository in the evidence."""
        branch = _branch(config)
        ref, tip = _resolve_branch(repo, branch)
        shallow = _git(repo, "rev-parse", "--is-shallow-repository").strip() == "true"
        args = [
            "git",
            "--no-replace-objects",
            "-C",
            str(repo),
            "-c",
            "log.showSignature=false",
            "log",
            "--no-use-mailmap",
            "--encoding=UTF-8",
            "-z",
            f"--format={LOG_FORMAT}",
            tip,
            "--",
        ]
        try:
            output = _run(repo, args)
        except _GitFailed as exc:
            raise InputError(str(repo), f"git log failed: {exc.message}") from None
        command = shlex.join(args).replace(shlex.quote(str(repo)), shlex.quote(where))
        payload = RawPayload(name=LOG_PAYLOAD, source=command, data=output)
        log = _read_log(payload)
        if log.tip != tip:
            raise InputError(
                f"{LOG_PAYLOAD}", f"log starts at {log.tip}, expected the branch tip {tip}"
            )
        records = parse([payload], config)
        return _export.finish(
            config,
            self.type,
            self.version,
            started_at,
            [payload],
            records,
            {
                "path" if config.mode == _export.EXPORT_MODE else "url": where,
                "repository": _repository_name(config),
                "branch": branch,
                "ref": ref,
                "tip": tip,
                "command": payload.source,
                "commits": len(log.commits),
                "changes": len(records.changes),
                "shallow": shallow,
            },
            complete=not shallow,
            incomplete_reason=(
                "the repository is a shallow clone: history before its boundary is missing"
                if shallow
                else None
            ),
        )


def parse(payloads: Sequence[RawPayload], config: ConnectorConfig) -> Records:
    """Changes on the branch's first-parent line, from the ``git-log.txt`` payload."""
    payload = _export.require_payload(_export.by_name(payloads), LOG_PAYLOAD)
    log = _read_log(payload)
    warnings = list(log.warnings)
    commits = log.commits
    repository = _repository_name(config)
    branch = _branch(config)

    line: list[_Commit] = []
    current: _Commit | None = commits[log.tip]
    while current is not None:
        line.append(current)
        if not current.parents:
            break
        first_parent = commits.get(current.parents[0])
        if first_parent is None:
            warnings.append(
                f"{LOG_PAYLOAD}: parent {current.parents[0]} of {current.hash} is not in the "
                "log; the first-parent line stops there"
            )
        current = first_parent

    # Walk from the oldest change to the tip, keeping every commit reachable so far: what a
    # merge brings in is what its other parents reach and that set does not yet hold.
    reachable: set[str] = set()
    authors_of: dict[str, tuple[str, ...]] = {}
    for commit in reversed(line):
        if len(commit.parents) <= 1:
            authors_of[commit.hash] = (commit.author,)
        else:
            brought_in = _brought_in(commit.parents[1:], reachable, commits)
            reachable.update(brought_in)
            authors = tuple(sorted({commits[h].author for h in brought_in}))
            if not authors:
                warnings.append(
                    f"{LOG_PAYLOAD}: merge {commit.hash} brings in no new commits; "
                    "its own author is recorded as the author"
                )
                authors = (commit.author,)
            authors_of[commit.hash] = authors
        reachable.add(commit.hash)

    changes = []
    for commit in line:
        reviewers = _reviewers(commit, warnings)
        changes.append(
            Change(
                system_id=config.system_id,
                repository=repository,
                branch=branch,
                commit=commit.hash,
                subject=commit.subject,
                committed_at=commit.committed_at,
                authors=authors_of[commit.hash],
                reviewers=reviewers,
            )
        )
    return Records(changes=tuple(changes), warnings=tuple(warnings))


def reviewer_email(value: str) -> str | None:
    """The lower-cased address in a trailer value: ``Name <addr>`` or a bare address."""
    match = _ANGLE_EMAIL.search(value)
    if match:
        return match.group(1).lower()
    text = value.strip()
    if _BARE_EMAIL.fullmatch(text):
        return text.lower()
    return None


@dataclass(frozen=True)
class _Commit:
    hash: str
    parents: tuple[str, ...]
    author: str
    committed_at: datetime
    trailers: tuple[str, ...]
    subject: str
    record: int


@dataclass(frozen=True)
class _Log:
    commits: dict[str, _Commit]
    tip: str
    warnings: tuple[str, ...]


def _read_log(payload: RawPayload) -> _Log:
    warnings: list[str] = []
    try:
        text = payload.data.decode("utf-8")
    except UnicodeDecodeError:
        text = payload.data.decode("utf-8", errors="replace")
        warnings.append(f"{payload.name}: output is not valid UTF-8; bad bytes were replaced")
    records = text.split("\0")
    if records and records[-1].strip() == "":
        records.pop()
    commits: dict[str, _Commit] = {}
    for number, record in enumerate(records, start=1):
        where = f"{payload.name}: record {number}"
        fields = record.lstrip("\n").split(FIELD_SEPARATOR, _FIELDS - 1)
        if len(fields) != _FIELDS:
            raise InputError(
                payload.name, f"record {number}: expected {_FIELDS} fields, got {len(fields)}"
            )
        commit_hash, parents, author, date, trailers, subject = fields
        if not _HASH.fullmatch(commit_hash):
            raise InputError(payload.name, f"record {number}: not a commit hash: {commit_hash!r}")
        parent_hashes = tuple(parents.split())
        for parent in parent_hashes:
            if not _HASH.fullmatch(parent):
                raise InputError(payload.name, f"record {number}: not a parent hash: {parent!r}")
        try:
            committed_at = _export.parse_timestamp(date)
        except ValueError as exc:
            raise InputError(payload.name, f"record {number}: committer date: {exc}") from None
        if commit_hash in commits:
            raise InputError(payload.name, f"record {number}: commit {commit_hash} appears twice")
        if not author.strip():
            warnings.append(f"{where}: commit {commit_hash} has no author e-mail")
        commits[commit_hash] = _Commit(
            hash=commit_hash,
            parents=parent_hashes,
            author=author.strip().lower(),
            committed_at=committed_at,
            trailers=tuple(v.strip() for v in trailers.split(VALUE_SEPARATOR) if v.strip()),
            subject=subject,
            record=number,
        )
    if not commits:
        raise InputError(payload.name, "no commits")
    children: set[str] = {parent for commit in commits.values() for parent in commit.parents}
    heads = [h for h in commits if h not in children]
    if len(heads) != 1:
        raise InputError(
            payload.name,
            f"expected the commits of one branch (one tip), found {len(heads)} commits "
            "without children",
        )
    return _Log(commits=commits, tip=heads[0], warnings=tuple(warnings))


def _brought_in(
    starts: Sequence[str], reachable: set[str], commits: dict[str, _Commit]
) -> set[str]:
    """Commits reachable from ``starts`` and not in ``reachable``; absent commits are skipped."""
    found: set[str] = set()
    stack = [h for h in starts if h not in reachable]
    while stack:
        commit_hash = stack.pop()
        if commit_hash in found or commit_hash in reachable:
            continue
        commit = commits.get(commit_hash)
        if commit is None:
            continue
        found.add(commit_hash)
        stack.extend(commit.parents)
    return found


def _reviewers(commit: _Commit, warnings: list[str]) -> tuple[str, ...]:
    reviewers: list[str] = []
    for value in commit.trailers:
        email = reviewer_email(value)
        if email is None:
            warnings.append(
                f"{LOG_PAYLOAD}: commit {commit.hash}: review trailer {value!r} holds no "
                "e-mail address; ignored"
            )
        elif email not in reviewers:
            reviewers.append(email)
    return tuple(reviewers)


def _branch(config: ConnectorConfig) -> str:
    branch = config.settings.get("branch", DEFAULT_BRANCH)
    if branch is None:
        return DEFAULT_BRANCH
    if not isinstance(branch, str) or not branch.strip():
        raise InputError(f"system {config.system_id}", "connector setting 'branch' must be a name")
    return branch.strip()


def _repository_name(config: ConnectorConfig) -> str:
    name = config.settings.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    if config.mode == _export.LIVE_MODE:
        last = urlsplit(_url(config)).path.rstrip("/").rsplit("/", 1)[-1]
        return last.removesuffix(".git") or config.system_id
    return config.path().resolve().name


def _url(config: ConnectorConfig) -> str:
    url = config.settings.get("url")
    if not isinstance(url, str) or urlsplit(url).scheme not in REMOTE_SCHEMES:
        schemes = ", ".join(f"{scheme}://" for scheme in REMOTE_SCHEMES)
        raise InputError(
            f"system {config.system_id}", f"connector setting 'url' must be a {schemes} URL"
        )
    return config.url("url", url, sends_secret="token" in config.secrets)


def _clone(config: ConnectorConfig, url: str, branch: str, into: Path) -> None:
    """Fetch only ``branch``'s commits and trees from ``url`` into a new bare repository."""
    args = [
        "git",
        "clone",
        "--quiet",
        "--bare",
        "--no-local",
        "--no-tags",
        "--single-branch",
        "--filter=blob:none",
        "--branch",
        branch,
        "--",
        url,
        str(into),
    ]
    extra = {"GIT_TERMINAL_PROMPT": "0"}  # fail, never ask
    if "GIT_SSH_COMMAND" not in os.environ:
        extra["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes"
    token = config.secrets.get("token")
    if token:
        header = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        extra |= {
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": "http.extraHeader",
            "GIT_CONFIG_VALUE_0": f"Authorization: Basic {header}",
        }
    try:
        _run(into.parent, args, extra)
    except _GitFailed as exc:
        raise InputError(
            _urls.public(url), f"cannot fetch branch '{branch}': {exc.message}"
        ) from None


def _repository(path: Path) -> Path:
    repo = path.resolve()
    if not repo.is_dir():
        raise InputError(str(repo), "not a git repository: no such directory")
    try:
        _git(repo, "rev-parse", "--git-dir")
    except _GitFailed as exc:
        raise InputError(str(repo), f"not a git repository ({exc.message})") from None
    return repo


def _resolve_branch(repo: Path, branch: str) -> tuple[str, str]:
    """The full ref name and tip commit of ``branch``."""
    candidates = (
        [branch]
        if branch.startswith("refs/")
        else [f"refs/heads/{branch}", f"refs/remotes/{branch}"]
    )
    for ref in candidates:
        try:
            _git(repo, "check-ref-format", ref)
        except _GitFailed:
            raise InputError(str(repo), f"branch '{branch}': not a valid branch name") from None
        try:
            tip = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip()
        except _GitFailed:
            continue
        return ref, tip
    raise InputError(str(repo), f"branch '{branch}' not found")


class _GitFailed(AssayError):
    """A git command failed; callers turn it into an ``InputError`` where the cause is input."""

    def __init__(self, message: str) -> None:
        super().__init__(f"git: {message}")
        self.message = message


def _git(repo: Path, *args: str) -> str:
    return _run(repo, ["git", "--no-replace-objects", "-C", str(repo), *args]).decode(
        "utf-8", errors="replace"
    )


def _run(repo: Path, args: list[str], extra: Mapping[str, str] | None = None) -> bytes:
    env = {key: value for key, value in os.environ.items() if key not in _REPOSITORY_ENV}
    env.update(extra or {})
    # Never look above the repository for a .git directory: a plain directory inside some other
    # repository is not a repository.
    env["GIT_CEILING_DIRECTORIES"] = str(repo.parent)
    env["LC_ALL"] = "C"
    try:
        completed = subprocess.run(args, capture_output=True, env=env, check=False)
    except FileNotFoundError:
        raise AssayError("git: the git executable was not found on PATH") from None
    if completed.returncode != 0:
        message = completed.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise _GitFailed(message[-1] if message else f"git exited with {completed.returncode}")
    return completed.stdout
