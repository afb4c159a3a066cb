"""RSS 2.0 and Atom feeds (``/feed/``, ``/feed/atom/``), as WordPress and others serve them.

A saved feed holds the latest posts, often with their full content (``content:encoded``)
and, in WordPress feeds, the author's display name (``dc:creator``) and the numeric
post id in the GUID (``?p=123``). Each item or entry becomes a document; a feed that only
carries summaries gives excerpts. WordPress puts categories and tags together in
``<category>`` elements, so they are kept as terms of a ``feed_category`` taxonomy rather
than guessed apart. Parsed like WXR: streamed, no DTD, no entities, no network.
"""

from __future__ import annotations

import re
from email.utils import parsedate_to_datetime
from typing import Any

from lxml import etree

from cwingest.models import Document, ParseResult
from cwingest.parse.base import Payload, new_document
from cwingest.parse.wxr import CONTENT_NS, DC_NS
from cwingest.parse.xml_stream import broken_xml, free, iter_end_elements, local_name, namespace
from cwingest.util import site_of

name = "feed"
FORMATS = {"feed": 3}  # a feed item (often an excerpt)

ATOM_NS = "http://www.w3.org/2005/Atom"
_GUID_ID = re.compile(r"[?&]p=(\d+)")


def sniff(payload: Payload) -> int:
    """An RSS channel or an Atom feed (WXR exports are RSS too, but score higher)."""
    head = payload.head_text()[:20000]
    if re.search(r"<rss[\s>]", head) and "<channel" in head:
        return 70
    if re.search(r"<feed[\s>]", head) and ATOM_NS in head:
        return 70
    return 0


def _text(el: etree._Element, local: str, ns: str = "") -> str | None:
    for child in el:
        if local_name(child.tag) == local and namespace(child.tag) == ns:
            return (child.text or "").strip() or None
    return None


def _rfc822(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).isoformat()
    except (TypeError, ValueError, IndexError):
        return value  # left for the date parser of the enrich stage


def parse(payload: Payload) -> ParseResult:
    """One document per feed item (RSS) or entry (Atom)."""
    result = ParseResult(source_format=name, sink=payload.sink)
    items = 0
    with payload.opener() as stream:
        try:
            for el in iter_end_elements(stream):
                local, ns = local_name(el.tag), namespace(el.tag)
                if local == "item" and ns == "":
                    items += 1
                    _rss_item(el, payload, result)
                elif local == "entry" and ns == ATOM_NS:
                    items += 1
                    _atom_entry(el, payload, result)
                else:
                    continue
                free(el)
        except etree.XMLSyntaxError as exc:
            broken_xml(exc, items, result)
    if items == 0:
        result.skip("feed without items")
    return result


def _new_doc(payload: Payload, result: ParseResult, url: str | None, guid: str | None) -> Document:
    doc = new_document(
        payload,
        result,
        name,
        site=site_of(url) or site_of(guid),
        url=url,
        guid=guid,
    )
    m = _GUID_ID.search(guid or "")
    if m and doc.site:
        doc.wp_id = int(m.group(1))
    return doc


def _rss_item(el: etree._Element, payload: Payload, result: ParseResult) -> None:
    link, guid = _text(el, "link"), _text(el, "guid")
    doc = _new_doc(payload, result, link, guid)
    doc.title_raw = _text(el, "title")
    content = _text(el, "encoded", CONTENT_NS)
    description = _text(el, "description")
    doc.body_html = content or description or ""
    doc.excerpt_raw = description if content else None
    doc.is_excerpt_only = content is None
    doc.published_raw = _rfc822(_text(el, "pubDate")) or _text(el, "date", DC_NS)
    doc.authors = [
        a
        for a in (
            c.text and c.text.strip()
            for c in el
            if local_name(c.tag) == "creator" and namespace(c.tag) == DC_NS
        )
        if a
    ]
    terms = [
        c.text.strip()
        for c in el
        if local_name(c.tag) == "category" and not namespace(c.tag) and c.text
    ]
    if terms:
        doc.terms["feed_category"] = list(dict.fromkeys(terms))
    result.add(doc)


def _atom_entry(el: etree._Element, payload: Payload, result: ParseResult) -> None:
    link = None
    for child in el:
        is_link = local_name(child.tag) == "link" and namespace(child.tag) == ATOM_NS
        if is_link and child.get("rel", "alternate") == "alternate":
            link = child.get("href")
            break
    doc = _new_doc(payload, result, link, _text(el, "id", ATOM_NS))
    doc.title_raw = _text(el, "title", ATOM_NS)
    content = _atom_content(el, "content")
    summary = _atom_content(el, "summary")
    doc.body_html = content or summary or ""
    doc.excerpt_raw = summary if content else None
    doc.is_excerpt_only = content is None
    doc.published_raw = _text(el, "published", ATOM_NS) or _text(el, "updated", ATOM_NS)
    doc.modified_raw = _text(el, "updated", ATOM_NS)
    doc.published_is_gmt = doc.modified_is_gmt = True  # RFC 3339 dates carry their offset
    names: list[str] = []
    for author in el:
        if local_name(author.tag) == "author" and namespace(author.tag) == ATOM_NS:
            name_ = _text(author, "name", ATOM_NS)
            if name_ and name_ not in names:
                names.append(name_)
    doc.authors = names
    terms = [
        c.get("term") or ""
        for c in el
        if local_name(c.tag) == "category" and namespace(c.tag) == ATOM_NS
    ]
    if any(terms):
        doc.terms["feed_category"] = list(dict.fromkeys(t for t in terms if t))
    result.add(doc)


def _atom_content(el: etree._Element, local: str) -> Any:
    for child in el:
        if local_name(child.tag) == local and namespace(child.tag) == ATOM_NS:
            if child.get("type") == "xhtml":
                return "".join(etree.tostring(c, encoding="unicode") for c in child)
            return (child.text or "").strip() or None
    return None
