"""Markdown a person wrote (a policy's body, an incident's postmortem) as HTML that can do
nothing: CommonMark with tables, raw HTML shown as text, no images (a policy is read, not
loaded from elsewhere), and links only to the web and to mail (never ``javascript:`` or
``data:``; a link to anything else stays text). The HTML is made ``inert`` as well, so a bidi
override in a body shows as an escape even where it is rendered outside a page."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from assay._internal.text import inert

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
LINKED = frozenset({"http", "https", "mailto"})
"""The schemes a link may have; one without a scheme (``#part``, ``/controls/``) stays here."""


def _safe_link(url: str) -> bool:
    scheme = _SCHEME.match(url.strip())
    return scheme is None or scheme.group(1).lower() in LINKED


def _link_open(
    renderer: RendererHTML, tokens: Sequence[Token], index: int, options: OptionsDict, env: EnvType
) -> str:
    """A link out of a policy opens nothing of ours to the page it leads to."""
    tokens[index].attrSet("rel", "noopener noreferrer nofollow")
    return renderer.renderToken(tokens, index, options, env)


def _renderer() -> MarkdownIt:
    made = MarkdownIt("commonmark", {"html": False}).enable("table").disable("image")
    made.validateLink = _safe_link  # type: ignore[method-assign]
    made.add_render_rule("link_open", _link_open)
    return made


_MARKDOWN = _renderer()


def render(text: Any) -> SafeString:
    """``text`` (Markdown) as HTML safe to put in a page."""
    html = _MARKDOWN.render("" if text is None else str(text))
    return mark_safe(inert(html, keep="\n\t"))  # markdown-it escaped it: html off
