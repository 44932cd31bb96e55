"""Markdown from people (policy bodies, postmortems) comes out inert: raw HTML as text, no
script, image or event handler, no link but to the web or to mail, bidi characters escaped."""

from __future__ import annotations

import pytest
from tests.web.test_hostile_pages import Elements

from assay.web.markdown import render

HOSTILE = "\n\n".join(
    (
        "# Access control",
        "<script>alert('policy')</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(2)">raw link</a>',
        "[click](javascript:alert(1)) [CLICK](JaVaScRiPt:alert(3)) [vb](vbscript:msgbox(1))",
        "[data](data:text/html;base64,PHNjcmlwdD4=) ![pixel](https://tracker.example/p.png)",
        "<javascript:alert(4)> [file](file:///etc/passwd)",
        "Approved by admin\u202egpj.exe and zero\u200bwidth",
        '| a | b |\n|---|---|\n| <b onmouseover="x()">1</b> | 2 |',
    )
)


def _parsed(html: str) -> Elements:
    parsed = Elements()
    parsed.feed(html)
    return parsed


def test_hostile_markdown_comes_out_inert() -> None:
    html = str(render(HOSTILE))
    parsed = _parsed(html)
    assert set(parsed.tags) <= {"h1", "p", "a", "table", "thead", "tbody", "tr", "th", "td"}
    assert not [name for name, _ in parsed.attributes if name.startswith("on")]
    # An image is not loaded: it stays a link to where it is, the only link that survives.
    assert [v for n, v in parsed.attributes if n == "href"] == ["https://tracker.example/p.png"]
    assert "&lt;script&gt;alert('policy')&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "[click](javascript:alert(1))" in html  # shown as typed, not a link
    assert "admin\\u202egpj.exe and zero\\u200bwidth" in html
    assert "\u202e" not in html and "\u200b" not in html


@pytest.mark.parametrize(
    ("text", "href"),
    [
        ("[site](https://acme.example/handbook)", "https://acme.example/handbook"),
        ("[mail](mailto:security@acme.example)", "mailto:security@acme.example"),
        ("[control](/controls/AC-01/)", "/controls/AC-01/"),
        ("<https://acme.example/>", "https://acme.example/"),
    ],
)
def test_links_to_the_web_and_to_mail_stay_links(text: str, href: str) -> None:
    parsed = _parsed(str(render(text)))
    assert ("href", href) in parsed.attributes
    assert ("rel", "noopener noreferrer nofollow") in parsed.attributes


def test_tables_and_plain_markdown_render() -> None:
    html = str(render("Para with **bold**.\n\n| Role | Owner |\n|---|---|\n| CISO | Dana |"))
    assert "<strong>bold</strong>" in html
    assert "<th>Role</th>" in html and "<td>Dana</td>" in html
    assert str(render(None)) == ""
