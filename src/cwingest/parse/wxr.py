"""WordPress eXtended RSS (WXR 1.0 to 1.2), the file Tools → Export writes.

Streamed with ``lxml.etree.iterparse``: each ``<item>`` is read, turned into a document
and freed, so a 1 GB export runs in constant memory. Elements are matched by namespace
URI (any ``http://wordpress.org/export/1.x/``), never by prefix, so a redefined or
hijacked ``wp:`` prefix is not trusted. The parser never loads a DTD, never resolves
entities and never touches the network; an export that declares entities is refused.

Authors come from ``<wp:author>`` display names (``dc:creator`` holds a login, never
published as such) and Co-Authors Plus ``<category domain="author">`` terms, resolved
through the export's users and guest-author items. Terms are kept by taxonomy (category,
post_tag and custom ones). Only published items become documents unless unpublished ones
are asked for; attachments, menu items and other non-content types are skipped and
counted.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from cwingest.models import Lookup, ParseError, ParseResult
from cwingest.parse import xml_items
from cwingest.parse.base import Payload, new_document
from cwingest.parse.xml_stream import local_name, namespace, refuse_entity_declarations
from cwingest.util import site_of

name = "wxr"
FORMATS = {"wxr": 5}  # a post record as WordPress exports it

_WXR_NS = re.compile(r"^https?://wordpress\.org/export/1\.\d+/$")
_EXCERPT_NS = re.compile(
    r"^https?://wordpress\.org/export/1\.\d+/excerpt/$|/rss/1\.0/modules/excerpt/$"
)
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
# Types that are not posts a reader would read.
SKIP_TYPES = frozenset(
    {
        "attachment",
        "nav_menu_item",
        "revision",
        "customize_changeset",
        "custom_css",
        "oembed_cache",
        "user_request",
        "wp_block",
        "wp_template",
        "wp_template_part",
        "wp_navigation",
        "wp_global_styles",
        "wp_font_face",
        "wp_font_family",
        "product_variation",
        "shop_order",
        "shop_coupon",
        "scheduled-action",
    }
)
GUEST_AUTHOR_TYPE = "guest-author"
OLD_TAXONOMY = {"tag": "post_tag"}  # WXR 1.0's domain="tag"


def sniff(payload: Payload) -> int:
    """An RSS document that declares a WordPress export namespace."""
    head = payload.head_text()[:20000]
    if "<rss" in head and re.search(r"wordpress\.org/export/1\.\d+/", head):
        return 95
    return 0


def _is_wxr(tag: Any) -> bool:
    return (
        isinstance(tag, str)
        and tag.startswith("{")
        and bool(_WXR_NS.match(tag[1 : tag.index("}")]))
    )


def _wp(el: etree._Element, local: str) -> str | None:
    """Text of the first child in a WordPress export namespace with this local name."""
    for child in el:
        if local_name(child.tag) == local and _is_wxr(child.tag):
            return (child.text or "").strip() if local != "meta_value" else (child.text or "")
    return None


def _child(el: etree._Element, ns_test: Any, local: str) -> etree._Element | None:
    for child in el:
        if local_name(child.tag) == local and ns_test(namespace(child.tag)):
            return child
    return None


def parse(payload: Payload) -> ParseResult:
    """Read an export item by item into documents (published items unless asked otherwise).

    Every item whose own fields can be read is read, wherever it sits in the file: the
    stream is cut into items and each is repaired and parsed on its own
    (:mod:`cwingest.parse.xml_items`). An item that cannot be read becomes one reject
    (its position and title), and the input is marked partly read.
    """
    include_unpublished = bool(payload.options.get("include_unpublished"))
    result = ParseResult(source_format=name, sink=payload.sink)
    items = 0
    with payload.opener() as stream:
        refuse_entity_declarations(stream)
        pieces = xml_items.split(stream)
        header = next(pieces, None)
        if header is None or not header.data.strip():
            raise ParseError("empty export")
        root = xml_items.Root.of(header.data)
        channel_link: str | None = None
        try:
            channel, _ = xml_items.parse_piece(root, header)
        except ParseError as exc:
            raise ParseError(f"the export's header cannot be read: {exc}") from exc
        for el in channel:
            local = local_name(el.tag)
            if local in ("link", "base_site_url") and channel_link is None:
                channel_link = (el.text or "").strip() or None
        for el in channel:
            local = local_name(el.tag)
            if _is_wxr(el.tag) and local in ("author", "category", "tag", "term"):
                _channel_lookup(el, local, result, site_of(channel_link))
        number = 0
        for piece in pieces:
            number += 1
            where = f"item {number} (byte {piece.offset}{_title_hint(piece.data)})"
            if piece.problem:
                result.rejects.append(("damaged item", f"{where}: {piece.problem}"))
                continue
            try:
                parsed, repaired = xml_items.parse_piece(root, piece)
            except ParseError as exc:
                result.rejects.append(("damaged item", f"{where}: {exc}"))
                continue
            item = next((c for c in parsed if local_name(c.tag) == "item"), None)
            if item is None or (
                repaired and _wp(item, "post_id") is None and _text(item, "title") is None
            ):
                result.rejects.append(("damaged item", f"{where}: nothing of it could be read"))
                continue
            if repaired:
                result.repaired += 1
            items += 1
            _item(item, payload, result, channel_link, include_unpublished)
    if result.rejects:
        result.partial = True
    return _finish(result, items)


_TITLE_HINT = re.compile(rb"<title>\s*(?:<!\[CDATA\[)?(.{1,80}?)(?:\]\]>)?\s*</title>", re.S)


def _title_hint(data: bytes) -> str:
    m = _TITLE_HINT.search(data[:4096])
    if not m:
        return ""
    return ', "' + m.group(1).decode("utf-8", "replace").strip() + '"'


def _finish(result: ParseResult, items: int) -> ParseResult:
    if items == 0 and not result.lookups:
        if result.rejects:
            raise ParseError(
                f"no item of the export could be read ({len(result.rejects)} damaged; first: "
                f"{result.rejects[0][1]})"
            )
        raise ParseError("WXR export holds no items")
    return result


def _channel_lookup(el: etree._Element, local: str, result: ParseResult, site: str | None) -> None:
    if local == "author":
        login = _wp(el, "author_login")
        display = _wp(el, "author_display_name")
        author_id = _wp(el, "author_id")
        if login and display:
            result.lookups.append(
                Lookup(site, "coauthor", "author", int(author_id or 0), display, login)
            )
            if author_id and author_id.isdigit():
                result.lookups.append(Lookup(site, "user", "", int(author_id), display, login))
        return
    if local == "category":
        term_id, tax, slug, term_name = (
            _wp(el, "term_id"),
            "category",
            _wp(el, "category_nicename"),
            _wp(el, "cat_name"),
        )
    elif local == "tag":
        term_id, tax, slug, term_name = (
            _wp(el, "term_id"),
            "post_tag",
            _wp(el, "tag_slug"),
            _wp(el, "tag_name"),
        )
    else:
        term_id, tax, slug, term_name = (
            _wp(el, "term_id"),
            _wp(el, "term_taxonomy") or "",
            _wp(el, "term_slug"),
            _wp(el, "term_name"),
        )
    if term_name and tax:
        tid = int(term_id) if term_id and term_id.isdigit() else 0
        result.lookups.append(Lookup(site, "term", tax, tid, term_name, slug))


def _item(
    el: etree._Element,
    payload: Payload,
    result: ParseResult,
    channel_link: str | None,
    include_unpublished: bool,
) -> None:
    post_type = _wp(el, "post_type")
    has_content = _child(el, lambda ns: ns == CONTENT_NS, "encoded") is not None
    if post_type is None and (_wp(el, "post_id") is None or not has_content):
        # No WordPress fields at all (or a hijacked prefix), or a comments-only stub of a
        # post exported elsewhere in the file.
        result.skip("item without post type or content")
        return
    post_type = post_type or "post"
    link = _text(el, "link")
    guid = _text(el, "guid")
    site = site_of(link) or site_of(guid) or site_of(channel_link)
    if post_type == GUEST_AUTHOR_TYPE:
        _guest_author(el, result, site)
        result.skip("guest-author profile")
        return
    if post_type in SKIP_TYPES:
        result.skip(post_type)
        return
    status = _wp(el, "status") or "publish"
    if status != "publish" and not include_unpublished:
        result.skip(f"unpublished ({status})")
        return
    post_id = _wp(el, "post_id")
    content = _child(el, lambda ns: ns == CONTENT_NS, "encoded")
    excerpt = _child(el, lambda ns: bool(_EXCERPT_NS.search(ns)), "encoded")
    creator = _child(el, lambda ns: ns == DC_NS, "creator")
    doc = new_document(
        payload,
        result,
        name,
        site=site,
        wp_id=int(post_id) if post_id and post_id.isdigit() else None,
        post_type=post_type,
        status=status,
        url=link if link and site_of(link) else None,
        slug=_wp(el, "post_name") or None,
        guid=guid,
        title_raw=_text(el, "title"),
        body_html=content.text or "" if content is not None else "",
        excerpt_raw=(excerpt.text or None) if excerpt is not None else None,
        needs_autop=True,
    )
    date_gmt, date_local = _wp(el, "post_date_gmt"), _wp(el, "post_date")
    if date_gmt and not date_gmt.startswith("0000"):
        doc.published_raw, doc.published_is_gmt = date_gmt, True
    elif date_local:
        doc.published_raw = date_local
    mod_gmt, mod_local = _wp(el, "post_modified_gmt"), _wp(el, "post_modified")
    if mod_gmt and not mod_gmt.startswith("0000"):
        doc.modified_raw, doc.modified_is_gmt = mod_gmt, True
    elif mod_local:
        doc.modified_raw = mod_local
    if creator is not None and (creator.text or "").strip():
        doc.author_login = (creator.text or "").strip()
    for cat in el:
        if local_name(cat.tag) != "category" or namespace(cat.tag):
            continue
        domain = cat.get("domain") or "category"
        tax = OLD_TAXONOMY.get(domain, domain)
        label = (cat.text or "").strip()
        slug = cat.get("nicename")
        if tax == "author":
            # Co-Authors Plus: the label is a login; the nicename resolves to a display name.
            if slug:
                doc.term_slugs.setdefault("author", []).append(slug)
            continue
        if label:
            names = doc.terms.setdefault(tax, [])
            if label not in names:
                names.append(label)
    if status != "publish":
        doc.notes.append(f"status={status}")
    if _wp(el, "post_password"):
        # An export holds the text; an anonymous visitor sees a password form. Keep only
        # what the visitor sees (with --include-unpublished too).
        doc.is_protected = True
        doc.body_html, doc.excerpt_raw = "", None
    result.add(doc)


def _guest_author(el: etree._Element, result: ParseResult, site: str | None) -> None:
    meta: dict[str, str] = {}
    for pm in el:
        if local_name(pm.tag) == "postmeta" and _is_wxr(pm.tag):
            key, value = _wp(pm, "meta_key"), _wp(pm, "meta_value")
            if key and value is not None:
                meta[key] = value.strip()
    display = meta.get("cap-display_name") or _text(el, "title")
    login = meta.get("cap-user_login")
    slug = _wp(el, "post_name")
    for key in filter(None, {login, (slug or "").removeprefix("cap-")}):
        if display:
            result.lookups.append(Lookup(site, "coauthor", "author", 0, display, key))


def _text(el: etree._Element, local: str) -> str | None:
    """Text of an un-namespaced RSS child (title, link, guid)."""
    for child in el:
        if local_name(child.tag) == local and not namespace(child.tag):
            return (child.text or "").strip() or None
    return None
