"""Template filters the pages share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template
from django.utils.safestring import SafeString

from assay.web import markdown as _markdown

register = template.Library()


@register.filter
def get(mapping: Mapping[Any, Any] | None, key: Any) -> Any:
    """``mapping[key]`` in a template (0 for a count that is not there)."""
    if not mapping:
        return 0
    return mapping.get(key, 0)


@register.filter
def markdown(text: str | None) -> SafeString:
    """A person's Markdown as inert HTML (``web.markdown``)."""
    return _markdown.render(text)
