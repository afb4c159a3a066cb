"""HTML to paragraphs of plain text, keeping the element each paragraph came from.

Block elements end paragraphs, ``<br>`` ends a line, scripts, styles, forms, navigation
and known share/print widgets are dropped whole. WordPress content saved without
``<p>`` tags (raw post content, where ``wpautop`` adds them on display) gets its newlines
read as paragraph breaks instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree, html

BLOCK_TAGS = frozenset(
    "address article aside blockquote dd details dialog div dl dt fieldset figure footer "
    "h1 h2 h3 h4 h5 h6 header hgroup hr li main ol p pre section summary table tbody thead "
    "tfoot tr td th ul caption center".split()
)
DROP_TAGS = frozenset(
    "script style noscript template iframe object embed svg canvas form button select "
    "input textarea nav head title meta link video audio source track map figcaption".split()
)
# Widgets WordPress themes and plugins put inside or around content.
_DROP_CLASS = re.compile(
    r"^(?:sharedaddy|sd-sharing\S*|sd-block|jp-relatedposts\S*|printfriendly\S*|pf-button\S*|"
    r"addtoany\S*|a2a_kit\S*|more-link|screen-reader-text|skip-link|wp-block-social-links|"
    r"post-navigation|nav-links|comments-area|comment-respond|social-share\S*|share-buttons?|"
    r"sharing\S*|wpcnt|wp-caption-text|yarpp-related\S*|crp_related|author-box\S*|"
    r"entry-meta|entry-footer|cat-links|tags-links|byline|posted-on)$"
)


@dataclass(slots=True)
class Paragraph:
    """One paragraph of text and, when it is the whole text of one element, that element."""

    text: str
    element: etree._Element | None = None


def parse_html(markup: str) -> etree._Element:
    """Parse a page or a fragment into an element tree (never fetches anything)."""
    parser = html.HTMLParser(
        remove_comments=True, remove_pis=True, no_network=True, recover=True, huge_tree=False
    )
    markup = markup.strip()
    if markup.startswith("<?xml"):  # lxml refuses str input with an encoding declaration
        end = markup.find("?>")
        markup = markup[end + 2 :].lstrip() if end > 0 else markup
    if not markup:
        return html.fragment_fromstring("<div></div>")
    if re.match(r"(?is)\s*(?:<!doctype|<html|<head|<\?xml)", markup) or re.search(
        r"(?i)<!doctype\s+html|<html[\s>]", markup[:65536]
    ):  # a page, even after a PHP warning printed before it
        return html.document_fromstring(markup, parser=parser)
    return html.fragment_fromstring(markup, create_parent="div", parser=parser)


def _should_drop(el: etree._Element) -> bool:
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag.lower() in DROP_TAGS:
        return True
    if (el.get("id") or "").startswith(("wm-ipp", "donato", "wm-")):
        return True  # the Wayback Machine's toolbar in saved captures
    classes = (el.get("class") or "").split()
    return any(_DROP_CLASS.match(c) for c in classes) or el.get("aria-hidden") == "true"


_WHITESPACE = re.compile(r"\s+")


def html_to_paragraphs(root: etree._Element, newlines_break: bool = False) -> list[Paragraph]:
    """Walk the tree and cut its text into paragraphs.

    Args:
        root: the parsed tree (see :func:`parse_html`).
        newlines_break: read newlines in text as paragraph breaks (content without ``<p>``).
    """
    out: list[Paragraph] = []
    buf: list[str] = []
    pre_depth = 0

    def add_text(text: str | None) -> None:
        if not text:
            return
        if pre_depth:
            buf.append(text)
        elif newlines_break and "\n" in text:
            parts = text.split("\n")
            for i, part in enumerate(parts):
                if i:
                    flush()
                buf.append(_WHITESPACE.sub(" ", part))
        else:
            buf.append(_WHITESPACE.sub(" ", text))

    def flush() -> None:
        text = "".join(buf)
        buf.clear()
        lines = [ln.strip() for ln in text.split("\n")]
        text = "\n".join(ln for ln in lines if ln)
        if text.strip():
            out.append(Paragraph(text.strip()))

    def walk(el: etree._Element) -> None:
        nonlocal pre_depth
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if tag and not _should_drop(el):
            block = tag in BLOCK_TAGS
            if block:
                flush()
            if tag == "pre":
                pre_depth += 1
            if tag == "br":
                buf.append("\n")
            add_text(el.text)
            before = len(out)
            for child in el:
                walk(child)
            if tag == "pre":
                pre_depth -= 1
            if block:
                flush()
                # The element owns its paragraph when it produced exactly one, alone.
                if len(out) == before + 1 and _sole_block(el):
                    out[-1].element = el
        if el is not root:
            add_text(el.tail)

    walk(root)
    flush()
    return out


def _sole_block(el: etree._Element) -> bool:
    return not any(isinstance(c.tag, str) and c.tag.lower() in BLOCK_TAGS for c in el)


def remove_element(el: etree._Element) -> None:
    """Remove an element from its tree, keeping the text that follows it."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    prev = el.getprevious()
    parent.remove(el)
    if tail and tail.strip():
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail


def to_html(root: etree._Element) -> str:
    """Serialise the children of a fragment (or the body of a page) back to HTML."""
    body = root.find(".//body")
    node = body if body is not None else root
    parts = [node.text or ""] if node.text else []
    for child in node:
        parts.append(html.tostring(child, encoding="unicode", with_tail=True))
    return "".join(parts)
