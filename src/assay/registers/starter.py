"""The starter policy set: the common SOC 2 policies, ready to adopt on the first day.

A programme starts with policies, and a new one rarely has any worth showing an auditor. Assay
ships twelve, written for Assay in its own words rather than copied from a template, so that the
policy register can begin from something sound and be edited from there. Each is a Markdown file
of this package with front matter naming its owner role, its review cadence and the controls of
the default set it supports, so every policy can be traced to the controls whose operation it
governs, and every policy control to the policy that answers it.

The files ship inside the package, but the reader is strict all the same (exact keys, typed
values) because the same format will carry policies an organisation writes itself.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

import yaml

from assay.errors import InputError

__all__ = ["StarterPolicy", "starter_policies"]

_FENCE = "---"
_KEYS = ("id", "title", "owner_role", "review_every_months", "controls")
_POLICY_ID = re.compile(r"POL-\d{2}")
_CONTROL_ID = re.compile(r"[A-Z]{2}-\d{2}")
_FOLDER = "policies"
_LABEL = "assay/registers/policies"


@dataclass(frozen=True)
class StarterPolicy:
    """One starter policy: its front matter, and its Markdown body."""

    id: str
    title: str
    owner_role: str
    review_every_months: int
    controls: tuple[str, ...]
    body: str
    """The Markdown after the front matter, stripped."""


@functools.cache
def starter_policies() -> tuple[StarterPolicy, ...]:
    """The starter policies bundled with Assay, in id order, read and validated once per process."""
    return _read_folder(resources.files("assay.registers") / _FOLDER, _LABEL)


def _read_folder(folder: Traversable, label: str) -> tuple[StarterPolicy, ...]:
    """Every ``*.md`` file of ``folder`` as a policy, in id order; each file is named by its id."""
    policies: list[StarterPolicy] = []
    for entry in folder.iterdir():
        if not entry.name.endswith(".md") or not entry.is_file():
            continue
        where = f"{label}/{entry.name}"
        try:
            text = entry.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise InputError(where, "not UTF-8 text") from None
        policy = _read_policy(text, where)
        expected = f"{policy.id.lower()}.md"
        if entry.name != expected:
            raise InputError(where, f"id '{policy.id}' does not match the file name {expected}")
        policies.append(policy)
    return tuple(sorted(policies, key=lambda policy: policy.id))


def _read_policy(text: str, where: str) -> StarterPolicy:
    """The policy in ``text``: front matter between ``---`` lines, then its Markdown body.

    ``where`` names the file in every error, with the line for YAML that does not parse.
    """
    front, body = _split(text.removeprefix("\ufeff"), where)
    try:
        data = yaml.safe_load(front)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f"{where}:{mark.line + 2}" if mark is not None else where
        problem = " ".join(str(error).split())
        raise InputError(at, f"front matter is not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise InputError(where, "front matter must be a mapping of keys to values")
    missing = [key for key in _KEYS if key not in data]
    if missing:
        raise InputError(where, f"front matter is missing {', '.join(missing)}")
    unknown = sorted(str(key) for key in data if key not in _KEYS)
    if unknown:
        raise InputError(where, f"front matter has unknown {', '.join(unknown)}")

    identifier = _text(data["id"], "id", where)
    if not _POLICY_ID.fullmatch(identifier):
        raise InputError(where, f"'id' is '{identifier}', not of the form POL-01")
    months = data["review_every_months"]
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise InputError(where, "'review_every_months' must be a whole number of months, 1 or more")
    body = body.strip()
    if not body:
        raise InputError(where, "the policy has no text after its front matter")
    return StarterPolicy(
        id=identifier,
        title=_text(data["title"], "title", where),
        owner_role=_text(data["owner_role"], "owner_role", where),
        review_every_months=months,
        controls=_controls(data["controls"], where),
        body=body,
    )


def _split(text: str, where: str) -> tuple[str, str]:
    """The front matter and the body of ``text``."""
    lines = text.splitlines()
    if not lines or lines[0].rstrip() != _FENCE:
        raise InputError(where, "must start with a '---' line opening the front matter")
    for number, line in enumerate(lines[1:], start=1):
        if line.rstrip() == _FENCE:
            return "\n".join(lines[1:number]), "\n".join(lines[number + 1 :])
    raise InputError(where, "the front matter has no closing '---' line")


def _text(value: object, key: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(where, f"'{key}' must be non-empty text")
    return value.strip()


def _controls(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise InputError(where, "'controls' must be a list of one or more control ids")
    controls: list[str] = []
    for item in value:
        if not isinstance(item, str) or not _CONTROL_ID.fullmatch(item):
            raise InputError(where, f"'controls' holds '{item}', not a control id such as AC-01")
        if item in controls:
            raise InputError(where, f"'controls' lists {item} twice")
        controls.append(item)
    return tuple(controls)
