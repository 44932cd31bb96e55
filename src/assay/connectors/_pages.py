"""The paged payload layout live connectors share, so every connector names and checks it alike.

A list read live is kept page by page as ``<list>.page-NNN.json``; a page still failing after
the retries is kept as ``<list>.page-NNN.failed`` (the last error body) and the list stops there.
An export holds the same list as one ``<list>.json`` instead. A snapshot must hold one layout or
the other, and its pages must run from 1 without a gap, with a failure marker only for the page
right after the last one stored: anything else would silently drop users from the population.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from assay.connectors._http import ApiClient, PageFailed
from assay.connectors.base import RawPayload
from assay.errors import InputError


def page_pattern(lists: str) -> re.Pattern[str]:
    """Matches the page and failure names of the lists ``lists`` (a regex) matches.

    Each connector names its own lists, so payloads of other shapes are never taken for pages.
    """
    return re.compile(rf"(?P<list>{lists})\.page-(?P<page>\d+)\.(?P<kind>json|failed)")


def export_names(directory: Path, exports: Collection[str], pages: re.Pattern[str]) -> list[str]:
    """The files of an export directory that hold a list: whole (named in ``exports``) or as
    stored pages (``pages``, a ``page_pattern``), sorted."""
    return sorted(
        file.name
        for file in directory.iterdir()
        if file.name in exports or pages.fullmatch(file.name)
    )


def page_name(list_name: str, number: int, *, failed: bool = False) -> str:
    """A live page's payload name: ``users.page-001.json``, or ``….failed`` for a failure."""
    return f"{list_name}.page-{number:03d}.{'failed' if failed else 'json'}"


@dataclass(frozen=True)
class Pages:
    """One list's stored pages by number, and the page that failed, if one did."""

    pages: Mapping[int, RawPayload]
    failed: int | None


@dataclass(frozen=True)
class StoredList:
    """One list as stored: a single export file, or live pages in order."""

    name: str
    """How messages name it: ``users.json`` or ``users.page-*.json``."""
    payloads: tuple[RawPayload, ...]
    paged: bool
    failed_page: int | None
    """The page that failed; items beyond the pages read are then not known."""

    @property
    def complete(self) -> bool:
        return self.failed_page is None


def group(index: Mapping[str, RawPayload], pattern: re.Pattern[str]) -> dict[str, Pages]:
    """The page payloads in ``index`` (by name) that ``pattern`` matches, by list name."""
    pages: dict[str, dict[int, RawPayload]] = {}
    failed: dict[str, int] = {}
    for name, payload in index.items():
        match = pattern.fullmatch(name)
        if match is None:
            continue
        if match["kind"] == "failed":
            failed[match["list"]] = int(match["page"])
        else:
            pages.setdefault(match["list"], {})[int(match["page"])] = payload
    return {
        list_name: Pages(pages.get(list_name, {}), failed.get(list_name))
        for list_name in pages.keys() | failed.keys()
    }


def in_order(list_name: str, stored: Pages) -> StoredList:
    """The pages of one list in order, refused unless they run from 1 without a gap."""
    numbers = sorted(stored.pages)
    after_last = len(numbers) + 1
    if numbers != list(range(1, after_last)) or stored.failed not in (None, after_last):
        raise InputError(
            f"{list_name}.page-*",
            f"pages {numbers} stored"
            + (f", page {stored.failed} failed" if stored.failed is not None else "")
            + "; pages must run from 1 without a gap",
        )
    return StoredList(
        f"{list_name}.page-*.json",
        tuple(stored.pages[number] for number in numbers),
        paged=True,
        failed_page=stored.failed,
    )


def stored_list(
    index: Mapping[str, RawPayload], grouped: Mapping[str, Pages], list_name: str
) -> StoredList | None:
    """A list from its export file ``<list>.json`` or its pages; None when it has neither.

    A snapshot may not hold both layouts of one list: which one to believe is not ours to guess.
    """
    export = index.get(f"{list_name}.json")
    stored = grouped.get(list_name)
    if export is not None:
        if stored is not None:
            raise InputError(export.source, "the snapshot also holds pages of this list")
        return StoredList(export.name, (export,), paged=False, failed_page=None)
    if stored is None:
        return None
    return in_order(list_name, stored)


def record_failure(
    payloads: list[RawPayload], list_name: str, number: int, failure: PageFailed
) -> str:
    """Keep a failed page as its ``.failed`` marker; why the list is incomplete, for the run."""
    name = page_name(list_name, number, failed=True)
    payloads.append(RawPayload(name, failure.url, failure.body))
    return f"{list_name} page {number} ({failure.url}): {failure.reason}"


def fetch_linked(
    client: ApiClient,
    list_name: str,
    path: str,
    params: Mapping[str, str | int] | None,
    payloads: list[RawPayload],
) -> tuple[list[RawPayload], str | None]:
    """Every page of a list paged by ``Link`` headers, appended to ``payloads`` as it is read.

    Returns the pages read and, when a page kept failing, the failure (its marker is kept too).
    """
    read: list[RawPayload] = []
    try:
        for page in client.get_pages(path, params):
            read.append(RawPayload(page_name(list_name, len(read) + 1), page.url, page.data))
            payloads.append(read[-1])
    except PageFailed as failure:
        return read, record_failure(payloads, list_name, len(read) + 1, failure)
    return read, None
