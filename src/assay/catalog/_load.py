"""Reading and validating the catalog's YAML data files.

The files ship inside the package, so a problem in them is a defect in Assay rather than bad
user input: it raises ``AssayError`` (exit code 1) naming the file and the entry at fault.
Validation is strict (exact keys, known identifiers, known enum values) because a silently
misread entry would surface later as a wrong coverage report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from enum import StrEnum
from importlib import resources
from types import MappingProxyType
from typing import Any, TypeVar

import yaml

from assay.catalog import (
    KNOWN_CHECKS,
    Catalog,
    Category,
    Control,
    Criterion,
    CsfCategory,
    CsfFunction,
    CsfSubcategory,
    Frequency,
    Mapping,
    Relationship,
)
from assay.errors import AssayError

_E = TypeVar("_E", bound=StrEnum)

_CRITERION_ID = re.compile(r"(CC|A|C|PI|P)[1-9]\.[1-9]")
_CATEGORY_OF_PREFIX = {
    "CC": Category.SECURITY,
    "A": Category.AVAILABILITY,
    "C": Category.CONFIDENTIALITY,
    "PI": Category.PROCESSING_INTEGRITY,
    "P": Category.PRIVACY,
}
_FUNCTION_ID = re.compile(r"[A-Z]{2}")
_CATEGORY_ID = re.compile(r"[A-Z]{2}\.[A-Z]{2}")
_SUBCATEGORY_ID = re.compile(r"[A-Z]{2}\.[A-Z]{2}-\d{2}")
_CSF11_ID = re.compile(r"[A-Z]{2}\.[A-Z]{2}-[1-9]\d?")
_CONTROL_ID = re.compile(r"[A-Z]{2}-\d{2}")


class _Entry:
    """One mapping read from a data file, able to say exactly where it came from."""

    def __init__(
        self,
        file: str,
        where: str,
        value: object,
        keys: Iterable[str],
        optional: Iterable[str] = (),
    ) -> None:
        self.file = file
        self.where = where
        if not isinstance(value, dict):
            raise self.fail("expected a mapping")
        expected = set(keys)
        missing = sorted(expected - set(value))
        unexpected = sorted(str(key) for key in set(value) - expected - set(optional))
        if missing:
            raise self.fail(f"missing {', '.join(missing)}")
        if unexpected:
            raise self.fail(f"unexpected {', '.join(unexpected)}")
        self._value: dict[str, Any] = value

    def fail(self, problem: str) -> AssayError:
        return AssayError(f"catalog data {self.file}: {self.where}: {problem}")

    def text(self, key: str) -> str:
        value = self._value[key]
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"'{key}' must be non-empty text")
        return value.strip()

    def identifier(self, key: str, pattern: re.Pattern[str]) -> str:
        value = self.text(key)
        if not pattern.fullmatch(value):
            raise self.fail(f"'{key}' is '{value}', not of the form {pattern.pattern}")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        values = self._value[key]
        if not isinstance(values, list) or not all(
            isinstance(value, str) and value.strip() for value in values
        ):
            raise self.fail(f"'{key}' must be a list of non-empty text")
        return tuple(value.strip() for value in values)

    def flag(self, key: str) -> bool:
        """An optional yes/no key; absent means no."""
        value = self._value.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(f"'{key}' must be true or false")
        return value

    def choice(self, key: str, kind: type[_E]) -> _E:
        value = self._value[key]
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(member.value for member in kind)
            raise self.fail(f"'{key}' is '{value}', expected one of: {allowed}") from None

    def entries(self, key: str, keys: Iterable[str]) -> Iterator[_Entry]:
        yield from _entries(self.file, f"{self.where}: {key}", self._value[key], keys)


def _entries(
    file: str, section: str, values: object, keys: Iterable[str], optional: Iterable[str] = ()
) -> Iterator[_Entry]:
    """The list entries of a section, each labelled with its index and, if present, its id."""
    if not isinstance(values, list):
        raise AssayError(f"catalog data {file}: {section}: expected a list")
    keys = tuple(keys)
    for index, value in enumerate(values):
        label = f"{section}[{index}]"
        if isinstance(value, dict) and isinstance(value.get("id"), str):
            label += f" {value['id']}"
        yield _Entry(file, label, value, keys, optional)


def _read(file: str) -> str:
    """The text of a bundled data file; tests replace this to feed in broken data."""
    return resources.files("assay.catalog").joinpath("data", file).read_text(encoding="utf-8")


def _document(file: str, sections: Iterable[str]) -> dict[str, Any]:
    try:
        data = yaml.safe_load(_read(file))
    except yaml.YAMLError as error:
        raise AssayError(f"catalog data {file}: not valid YAML: {error}") from None
    _Entry(file, "top level", data, sections)
    result: dict[str, Any] = data
    return result


def _unique(file: str, section: str, ids: Iterable[str]) -> frozenset[str]:
    seen: set[str] = set()
    for identifier in ids:
        if identifier in seen:
            raise AssayError(f"catalog data {file}: {section}: duplicate id '{identifier}'")
        seen.add(identifier)
    return frozenset(seen)


def _criteria() -> tuple[Criterion, ...]:
    file = "tsc.yaml"
    keys = ("id", "category", "group", "title", "description")
    criteria = []
    for entry in _entries(file, "criteria", _document(file, ["criteria"])["criteria"], keys):
        identifier = entry.identifier("id", _CRITERION_ID)
        group, _, _ = identifier.partition(".")
        category = entry.choice("category", Category)
        if entry.text("group") != group:
            raise entry.fail(f"'group' must be '{group}'")
        if _CATEGORY_OF_PREFIX[group.rstrip("123456789")] is not category:
            raise entry.fail(f"category '{category}' does not match the identifier")
        criteria.append(
            Criterion(
                id=identifier,
                category=category,
                group=group,
                title=entry.text("title"),
                description=entry.text("description"),
            )
        )
    _unique(file, "criteria", (criterion.id for criterion in criteria))
    return tuple(criteria)


def _csf() -> tuple[
    tuple[CsfFunction, ...],
    tuple[CsfCategory, ...],
    tuple[CsfSubcategory, ...],
    MappingProxyType[str, tuple[str, ...]],
]:
    file = "csf.yaml"
    data = _document(file, ["functions", "categories", "subcategories", "csf11_successors"])
    keys = ("id", "title")

    functions = tuple(
        CsfFunction(id=entry.identifier("id", _FUNCTION_ID), title=entry.text("title"))
        for entry in _entries(file, "functions", data["functions"], keys)
    )
    function_ids = _unique(file, "functions", (item.id for item in functions))

    categories = []
    for entry in _entries(file, "categories", data["categories"], keys):
        identifier = entry.identifier("id", _CATEGORY_ID)
        function, _, _ = identifier.partition(".")
        if function not in function_ids:
            raise entry.fail(f"no function '{function}'")
        categories.append(CsfCategory(id=identifier, function=function, title=entry.text("title")))
    category_ids = _unique(file, "categories", (item.id for item in categories))

    subcategories = []
    for entry in _entries(file, "subcategories", data["subcategories"], keys):
        identifier = entry.identifier("id", _SUBCATEGORY_ID)
        category, _, _ = identifier.partition("-")
        if category not in category_ids:
            raise entry.fail(f"no category '{category}'")
        subcategories.append(
            CsfSubcategory(id=identifier, category=category, title=entry.text("title"))
        )
    subcategory_ids = _unique(file, "subcategories", (item.id for item in subcategories))

    table = data["csf11_successors"]
    if not isinstance(table, dict):
        raise AssayError(f"catalog data {file}: csf11_successors: expected a mapping")
    successors: dict[str, tuple[str, ...]] = {}
    for legacy, targets in table.items():
        where = f"catalog data {file}: csf11_successors: {legacy}"
        if not isinstance(legacy, str) or not _CSF11_ID.fullmatch(legacy):
            raise AssayError(f"{where}: not a CSF 1.1 subcategory identifier")
        if (
            not isinstance(targets, list)
            or not targets
            or not all(isinstance(target, str) and target in subcategory_ids for target in targets)
        ):
            raise AssayError(f"{where}: successors must be a list of known CSF 2.0 subcategories")
        successors[legacy] = tuple(targets)

    return functions, tuple(categories), tuple(subcategories), MappingProxyType(successors)


def _links(entry: _Entry, key: str, targets: frozenset[str]) -> tuple[Mapping, ...]:
    links = []
    for link in entry.entries(key, ("id", "relationship", "rationale")):
        target = link.text("id")
        if target not in targets:
            raise link.fail(f"unknown {'criterion' if key == 'tsc' else 'CSF subcategory'}")
        links.append(
            Mapping(
                target=target,
                relationship=link.choice("relationship", Relationship),
                rationale=link.text("rationale"),
            )
        )
    _unique(entry.file, f"{entry.where}: {key}", (link.target for link in links))
    return tuple(links)


def _controls(criteria: frozenset[str], subcategories: frozenset[str]) -> tuple[Control, ...]:
    file = "controls.yaml"
    keys = (
        "id",
        "title",
        "description",
        "owner_role",
        "frequency",
        "evidence",
        "checks",
        "tsc",
        "csf",
    )
    controls = []
    document = _document(file, ["controls"])["controls"]
    for entry in _entries(file, "controls", document, keys, optional=("partial",)):
        checks = entry.texts("checks")
        unknown = sorted(set(checks) - KNOWN_CHECKS)
        if unknown:
            raise entry.fail(f"unknown check {', '.join(unknown)}")
        _unique(file, f"{entry.where}: checks", checks)
        partial = entry.flag("partial")
        if partial and not checks:
            raise entry.fail("'partial' says its checks test only part, but it names no check")
        evidence = entry.texts("evidence")
        if not evidence:
            raise entry.fail("'evidence' must name at least one item")
        tsc = _links(entry, "tsc", criteria)
        if not tsc:
            raise entry.fail("'tsc' must link the control to at least one criterion")
        controls.append(
            Control(
                id=entry.identifier("id", _CONTROL_ID),
                title=entry.text("title"),
                description=entry.text("description"),
                owner_role=entry.text("owner_role"),
                frequency=entry.choice("frequency", Frequency),
                evidence=evidence,
                checks=checks,
                partial=partial,
                tsc=tsc,
                csf=_links(entry, "csf", subcategories),
            )
        )
    _unique(file, "controls", (control.id for control in controls))
    return tuple(controls)


def read_catalog() -> Catalog:
    """Read every data file and assemble a validated catalog."""
    criteria = _criteria()
    functions, categories, subcategories, successors = _csf()
    controls = _controls(
        frozenset(criterion.id for criterion in criteria),
        frozenset(subcategory.id for subcategory in subcategories),
    )
    return Catalog(
        criteria=criteria,
        csf_functions=functions,
        csf_categories=categories,
        csf_subcategories=subcategories,
        controls=controls,
        csf11_successors=successors,
    )
