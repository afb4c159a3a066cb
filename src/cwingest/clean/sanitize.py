"""Make ``content_html`` safe to render: nh3 (ammonia) with an explicit allow-list.

No script, style, event handler, ``javascript:`` or ``data:`` URL survives; links get
``rel="noopener noreferrer nofollow"``.
"""

from __future__ import annotations

import html as htmllib

import nh3

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "cite",
    "code",
    "dd",
    "del",
    "dl",
    "dt",
    "em",
    "figure",
    "figcaption",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "small",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
    "blockquote": {"cite"},
    "q": {"cite"},
}


def sanitize_html(markup: str) -> str:
    """Return markup that is safe to render."""
    return nh3.clean(
        markup,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ).strip()


def paragraphs_to_html(paragraphs: list[str]) -> str:
    """HTML for text-only sources: one escaped ``<p>`` per paragraph, ``<br>`` per line."""
    return "\n".join(
        "<p>" + "<br>".join(htmllib.escape(line) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    )
