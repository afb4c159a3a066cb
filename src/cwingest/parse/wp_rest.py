"""WordPress REST API JSON in every shape it is saved in.

One object, a list page, JSON Lines, records wrapped in another object (``{"posts": [...]}``,
a recorded HTTP response ``{"url", "status", "headers", "body"}``), WordPress core's
``mockedApiResponse.X = {...};`` fixture file, and records cut off at either end (salvaged
field by field through :mod:`cwingest.parse.lenient_json`). Post records become documents;
term, user and Co-Authors Plus records become lookups that resolve ids elsewhere.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cwingest.enrich.names import AUTHOR_TAXONOMY
from cwingest.models import Document, Lookup, ParseError, ParseResult
from cwingest.parse.base import Payload, new_document
from cwingest.parse.lenient_json import MAX_FAILURES, salvage
from cwingest.parse.seo import seo_authors
from cwingest.parse.wp_classes import (
    class_value,
    is_protected_class,
    term_slugs_from_classes,
    wp_id_from_classes,
)
from cwingest.util import site_of

name = "wp_rest_json"
FORMATS = {"wp_rest_json": 5}  # a post record as WordPress serves it

_JS_ASSIGN = re.compile(
    r"^[ \t]*(?:var[ \t]+)?[A-Za-z_$][\w$.]*(?:\[[^\]\n]*\])?[ \t]*=[ \t]*(?=[\[{])", re.M
)
_FRAGMENT_HINTS = re.compile(
    r'"(?:rendered|date_gmt|modified_gmt|class_list|yoast_head|guid|slug|featured_media)"\s*:'
)
_REST_HINTS = re.compile(
    r'"(?:id|ID|slug|rendered|taxonomy|date_gmt|display_name|namespaces|found)"\s*:'
)
# REST field (rest_base) -> taxonomy name, for the core taxonomies whose names differ.
REST_BASE_TAXONOMY = {"categories": "category", "tags": "post_tag", "coauthors": "author"}
# Top-level fields that hold lists of ids but are not taxonomies.
_NOT_TAXONOMY = {"coauthors", "content_media", "block_ids", "acf", "meta", "sticky"}
_SKIP_TYPES = {
    "attachment",
    "nav_menu_item",
    "revision",
    "wp_block",
    "wp_template",
    "wp_template_part",
    "wp_navigation",
    "wp_global_styles",
    "customize_changeset",
    "oembed_cache",
    "user_request",
    "wp_font_face",
    "wp_font_family",
}
_REVISION_SLUG = re.compile(r"^\d+-(?:revision|autosave)-v\d+$")


# -- sniffing -------------------------------------------------------------------------------


def sniff(payload: Payload) -> int:
    """JSON or a JS fixture is certain; a fragment with REST field names is likely."""
    head = payload.head_text().lstrip("\ufeff \t\r\n")
    if not head:
        return 0
    if head[0] in "[{":
        return 90 if _REST_HINTS.search(head) else 40
    if _JS_ASSIGN.search(head[:20000]) and "mockedApiResponse" in head[:20000]:
        return 90
    text = payload.head_text()
    if _FRAGMENT_HINTS.search(text) and re.search(r'"\s*,\s*"[\w-]+"\s*:', text):
        return 60
    return 0


# -- top-level loading --------------------------------------------------------------------


def load_values(text: str) -> tuple[list[tuple[str, Any]], bool]:
    """Every JSON value in ``text`` with a label, and whether the text was whole.

    Returns ``(values, whole)``; ``whole`` is False when salvage had to be used.
    """
    stripped = text.strip().lstrip("\ufeff")
    try:
        return [("", json.loads(stripped, strict=False))], True
    except json.JSONDecodeError:
        pass
    except RecursionError as exc:
        raise ParseError("JSON nested too deeply to read (over ~1000 levels)") from exc
    if _JS_ASSIGN.search(stripped) and "=" in stripped[:20000]:
        values = _load_js_assignments(stripped)
        if values:
            return values, True
    lines = [ln for ln in stripped.splitlines() if ln.strip()]
    if len(lines) > 1:
        try:
            return [
                (f"line {i + 1}", json.loads(ln, strict=False)) for i, ln in enumerate(lines)
            ], True
        except json.JSONDecodeError:
            pass
    decoder = json.JSONDecoder(strict=False)
    values = []
    pos = 0
    try:
        while pos < len(stripped):
            value, pos = decoder.raw_decode(stripped, pos)
            values.append((f"value {len(values) + 1}", value))
            while pos < len(stripped) and stripped[pos] in " \t\r\n,;":
                pos += 1
        return values, True
    except json.JSONDecodeError:
        pass
    return [], False


def _load_js_assignments(text: str) -> list[tuple[str, Any]]:
    decoder = json.JSONDecoder(strict=False)
    out: list[tuple[str, Any]] = []
    for m in _JS_ASSIGN.finditer(text):
        label = text[m.start() : m.end()].split("=")[0].strip()
        try:
            value, _ = decoder.raw_decode(text, m.end())
        except json.JSONDecodeError:
            continue
        out.append((label, value))
    return out


# -- record classification ----------------------------------------------------------------


def is_post_record(obj: dict[str, Any]) -> bool:
    """A post-shaped REST record: an id and rendered content or title."""
    has_id = isinstance(obj.get("id"), int) or "class_list" in obj
    has_body = isinstance(obj.get("content"), dict | str) or isinstance(obj.get("title"), dict)
    return bool(has_id and has_body and "taxonomy" not in obj)


def is_legacy_post(obj: dict[str, Any]) -> bool:
    """A post of the older APIs: WP-API v1 (``/wp-json/posts``, 2013-2016) or WordPress.com
    REST v1.1 (``/rest/v1.1/sites/X/posts``): an ``ID`` and plain-string title/content."""
    return (
        isinstance(obj.get("ID"), int)
        and "id" not in obj
        and isinstance(obj.get("content", obj.get("title")), str)
        and ("title" in obj or "content" in obj)
    )


def _legacy_terms(terms: Any) -> list[dict[str, Any]]:
    """Term objects from a list (v1) or a name-keyed dict (WordPress.com)."""
    items = terms.values() if isinstance(terms, dict) else terms if isinstance(terms, list) else []
    return [t for t in items if isinstance(t, dict) and isinstance(t.get("name"), str)]


def legacy_to_v2(obj: dict[str, Any]) -> dict[str, Any]:
    """Rewrite a legacy post record in the ``/wp/v2`` shape (names go to ``_embedded``)."""
    out: dict[str, Any] = {
        "id": obj["ID"],
        "title": {"rendered": obj.get("title") or ""},
        "content": {"rendered": obj.get("content") or ""},
        "excerpt": {"rendered": obj.get("excerpt") or ""},
        "link": obj.get("link") or obj.get("URL"),
        "slug": obj.get("slug"),
        "status": obj.get("status"),
        "type": obj.get("type") or "post",
        "guid": {"rendered": obj["guid"]} if isinstance(obj.get("guid"), str) else obj.get("guid"),
    }
    for key in ("date", "date_gmt", "modified", "modified_gmt"):
        if isinstance(obj.get(key), str):
            out[key] = obj[key]
    embedded: dict[str, Any] = {}
    author = obj.get("author")
    if isinstance(author, dict) and isinstance(author.get("name"), str):
        embedded["author"] = [
            {
                "id": author.get("ID") or 0,
                "name": author["name"],
                "slug": author.get("slug") or author.get("nice_name"),
                "link": author.get("URL") or author.get("link") or "",
            }
        ]
    groups: dict[str, list[dict[str, Any]]] = {}
    terms = obj.get("terms")
    if isinstance(terms, dict):
        for taxonomy, items in terms.items():
            for t in _legacy_terms(items):
                groups.setdefault(str(taxonomy), []).append(t)
    for key, taxonomy in (("categories", "category"), ("tags", "post_tag")):
        if taxonomy not in groups:
            for t in _legacy_terms(obj.get(key)):
                groups.setdefault(taxonomy, []).append(t)
    if groups:
        embedded["wp:term"] = [
            [
                {
                    "id": t.get("ID") or t.get("id") or 0,
                    "name": t["name"],
                    "slug": t.get("slug"),
                    "taxonomy": tax,
                    "link": t.get("link") or t.get("URL") or "",
                }
                for t in items
            ]
            for tax, items in groups.items()
        ]
    if embedded:
        out["_embedded"] = embedded
    return out


def is_comment_record(obj: dict[str, Any]) -> bool:
    """A comment (``/wp/v2/comments``): it has a post and an author_name, no title."""
    return "post" in obj and "author_name" in obj and "title" not in obj


def is_term_record(obj: dict[str, Any]) -> bool:
    """A taxonomy term (``/wp/v2/categories``, ``/wp/v2/issue``, embedded ``wp:term``)."""
    return isinstance(obj.get("id"), int) and "taxonomy" in obj and "name" in obj


def is_user_record(obj: dict[str, Any]) -> bool:
    """A user (``/wp/v2/users``, embedded ``author``)."""
    return (
        isinstance(obj.get("id"), int)
        and isinstance(obj.get("name"), str)
        and "taxonomy" not in obj
        and ("avatar_urls" in obj or "/author/" in str(obj.get("link", "")))
        and "content" not in obj
    )


def is_coauthor_v1(obj: dict[str, Any]) -> bool:
    """An entry of Co-Authors Plus ``/coauthors/v1/coauthors``."""
    return "display_name" in obj and ("user_nicename" in obj or "id" in obj)


def _rendered(value: Any) -> str | None:
    if isinstance(value, dict):
        r = value.get("rendered", value.get("raw"))
        return r if isinstance(r, str) else None
    return value if isinstance(value, str) else None


def _link_href(obj: dict[str, Any], rel: str) -> list[dict[str, Any]]:
    links = obj.get("_links")
    if isinstance(links, dict):
        entries = links.get(rel)
        if isinstance(entries, list):
            return [e for e in entries if isinstance(e, dict)]
    return []


def _field_taxonomies(obj: dict[str, Any]) -> dict[str, str]:
    """REST field -> taxonomy, from ``_links["wp:term"]`` hrefs, else the known defaults."""
    mapping = dict(REST_BASE_TAXONOMY)
    for link in _link_href(obj, "wp:term"):
        tax = link.get("taxonomy")
        href = str(link.get("href", ""))
        m = re.search(r"/wp/v2/([\w-]+)(?:\?|&|%3F|$)", href.replace("%2F", "/"))
        if tax and m:
            mapping[m.group(1)] = str(tax)
    return mapping


# -- documents from records -----------------------------------------------------------------


def record_to_document(
    obj: dict[str, Any],
    payload: Payload,
    index: int,
    result: ParseResult,
    *,
    truncated: bool = False,
    fallback_url: str | None = None,
) -> Document | None:
    """Build a document from one post record; count and return None for non-posts."""
    post_type = obj.get("type") if isinstance(obj.get("type"), str) else None
    class_list = [c for c in obj.get("class_list") or [] if isinstance(c, str)]
    if post_type is None:
        post_type = class_value(class_list, "type")
    if post_type in _SKIP_TYPES:
        result.skip(post_type)
        return None
    slug = obj.get("slug") if isinstance(obj.get("slug"), str) else None
    if (slug and _REVISION_SLUG.match(slug)) or (
        post_type is None and "parent" in obj and not obj.get("link")
    ):
        result.skip("revision")
        return None
    status = obj.get("status") if isinstance(obj.get("status"), str) else None
    if status is None:
        status = class_value(class_list, "status")

    wp_id = obj.get("id") if isinstance(obj.get("id"), int) else None
    if wp_id is None:
        wp_id = wp_id_from_classes(class_list)

    url = obj.get("link") if isinstance(obj.get("link"), str) else None
    guid = _rendered(obj.get("guid"))
    site = site_of(url or guid or fallback_url)
    doc = new_document(
        payload,
        result,
        name,
        index=index,
        site=site,
        wp_id=wp_id,
        post_type=post_type,
        status=status,
        url=url,
        slug=slug,
        guid=guid,
        title_raw=_rendered(obj.get("title")),
        body_html=_rendered(obj.get("content")),
        excerpt_raw=_rendered(obj.get("excerpt")),
        truncated=truncated,
    )
    content = obj.get("content")
    if (isinstance(content, dict) and content.get("protected")) or is_protected_class(class_list):
        # WordPress shows an anonymous visitor a password form: nothing of the text (an
        # authenticated dump may still carry it; it is not published).
        doc.is_protected = True
        doc.body_html, doc.excerpt_raw = "", None

    for key, is_gmt in (("date_gmt", True), ("date", False)):
        if isinstance(obj.get(key), str) and obj[key]:
            doc.published_raw, doc.published_is_gmt = obj[key], is_gmt
            break
    for key, is_gmt in (("modified_gmt", True), ("modified", False)):
        if isinstance(obj.get(key), str) and obj[key]:
            doc.modified_raw, doc.modified_is_gmt = obj[key], is_gmt
            break

    author = obj.get("author")
    if isinstance(author, int) and author > 0:
        doc.author_ids = [author]
    if isinstance(obj.get("coauthors"), list):
        doc.coauthor_ids = [i for i in obj["coauthors"] if isinstance(i, int)]

    # Term ids by taxonomy.
    field_tax = _field_taxonomies(obj)
    for key, value in obj.items():
        if key in _NOT_TAXONOMY or key.startswith("_"):
            continue
        ids = isinstance(value, list) and value and all(isinstance(v, int) for v in value)
        if ids and (
            key in field_tax
            or _looks_taxonomy_field(key, class_list)
            or AUTHOR_TAXONOMY.match(key)  # a site's byline taxonomy ("writer": [5, 6])
        ):
            doc.term_ids.setdefault(field_tax.get(key, key), []).extend(value)
    # Term slugs from class_list ("issue-how-to-get-started", "tag-iceland"): the record's
    # list fields name its taxonomies.
    lists = [k for k, v in obj.items() if isinstance(v, list) and k not in _NOT_TAXONOMY]
    taxonomies = {field_tax.get(k, k) for k in lists}
    doc.term_slugs = term_slugs_from_classes(class_list, taxonomies)

    # Embedded names: authors in order, terms by taxonomy.
    embedded = obj.get("_embedded")
    if isinstance(embedded, dict):
        for user in embedded.get("author") or []:
            if not (isinstance(user, dict) and isinstance(user.get("name"), str)):
                continue  # WordPress embeds {"code": "rest_user_invalid_id"} for hidden users
            if isinstance(user.get("id"), int):
                result.lookups.append(_user_lookup(user, site))
            if user["name"] not in doc.authors:
                doc.authors.append(user["name"])  # the WordPress user: the last resort
        for group in embedded.get("wp:term") or []:
            for term in group if isinstance(group, list) else []:
                if not (
                    isinstance(term, dict)
                    and isinstance(term.get("taxonomy"), str)
                    and isinstance(term.get("name"), str)
                ):
                    continue
                if is_term_record(term):
                    result.lookups.append(_term_lookup(term, site))
                if term["taxonomy"] != "author":  # co-author terms hold logins, not names
                    names = doc.terms.setdefault(str(term["taxonomy"]), [])
                    if term["name"] not in names:
                        names.append(str(term["name"]))

    # Titles carried by SEO plugins (with the site suffix still on).
    doc.head_title = _seo_title(obj)
    if doc.head_title is None and isinstance(obj.get("yoast_head"), str):
        doc.head_title = title_from_head_html(obj["yoast_head"])
    site_name = _site_name_from_seo(obj)
    if site_name:
        doc.site_name = site_name
    doc.seo_authors = seo_authors(obj, [site_name] if site_name else [])
    return doc


def _looks_taxonomy_field(key: str, class_list: list[str]) -> bool:
    return any(c.startswith(key + "-") for c in class_list)


def _seo_title(obj: dict[str, Any]) -> str | None:
    for key in ("yoast_head_json", "yoast_meta", "rank_math", "aioseo_head_json"):
        meta = obj.get(key)
        if isinstance(meta, dict):
            for tkey in ("title", "og_title", "yoast_wpseo_title"):
                if isinstance(meta.get(tkey), str) and meta[tkey].strip():
                    return str(meta[tkey])
    return None


_TITLE_TAG = re.compile(r"(?:<title[^>]*>)?([^<>\n]*)</title>", re.I)
_OG_SITE = re.compile(r"""og:site_name["']\s+content=["']([^"']+)""", re.I)


def title_from_head_html(head: str) -> str | None:
    """The ``<title>`` from an HTML head (even one whose opening tag was lost)."""
    m = _TITLE_TAG.search(head)
    if m and m.group(1).strip():
        return m.group(1).strip()
    m2 = re.search(r"""og:title["']\s+content=["']([^"']+)""", head, re.I)
    return m2.group(1).strip() if m2 else None


def _site_name_from_seo(obj: dict[str, Any]) -> str | None:
    meta = obj.get("yoast_head_json")
    if isinstance(meta, dict) and isinstance(meta.get("og_site_name"), str):
        return str(meta["og_site_name"])
    head = obj.get("yoast_head")
    if isinstance(head, str):
        m = _OG_SITE.search(head)
        if m:
            return m.group(1)
    return None


def _user_lookup(obj: dict[str, Any], site: str | None) -> Lookup:
    return Lookup(
        site=site_of(obj.get("link")) or site,
        kind="user",
        taxonomy="",
        id=int(obj["id"]),
        name=str(obj["name"]),
        slug=obj.get("slug"),
    )


def _term_lookup(obj: dict[str, Any], site: str | None) -> Lookup:
    return Lookup(
        site=site_of(obj.get("link")) or site,
        kind="term",
        taxonomy=str(obj["taxonomy"]),
        id=int(obj["id"]),
        name=str(obj["name"]),
        slug=obj.get("slug"),
    )


# -- the reader -----------------------------------------------------------------------------


def parse(payload: Payload) -> ParseResult:
    """Parse REST JSON (whole or cut) into documents and lookups."""
    text = payload.text(legacy=False)
    result = ParseResult(source_format=name, sink=payload.sink)
    values, whole = load_values(text)
    source_url = payload.raw.context.get("url") or payload.raw.source_uri
    if whole:
        for _label, value in values:
            _walk(value, payload, result, source_url, depth=0)
    else:
        try:
            found = salvage(text)
        except RecursionError as exc:
            raise ParseError("cut-off JSON nested too deeply to salvage") from exc
        if found.gave_up:
            result.rejects.append(
                (
                    "salvage stopped",
                    f"more than {MAX_FAILURES} places failed to parse; the rest is unread",
                )
            )
        if not (found.complete or found.partial or found.leading_string):
            raise ParseError("JSON that does not parse and holds no salvageable record")
        for value in found.complete:
            _walk(value, payload, result, source_url, depth=0)
        for i, partial in enumerate(found.partial):
            record = dict(partial)
            if i == 0 and found.leading_string is not None:
                _attach_leading_string(record, found.leading_string, found.leading_context)
            _add_record(record, payload, result, truncated=True, fallback_url=None)
        if found.leading_string is not None and not found.partial:
            lone: dict[str, Any] = {}
            _attach_leading_string(lone, found.leading_string, found.leading_context)
            _add_record(lone, payload, result, truncated=True, fallback_url=None)
        result.source_format = name
    if not result.emitted and not result.lookups and not result.skipped:
        if result.rejects:
            raise ParseError(result.rejects[0][1])
        text = payload.text(legacy=False).strip()
        if text == "[]":  # a collection with nothing in it
            result.skip("empty collection")
            return result
        if _ID_LIST.fullmatch(text):  # ``_fields=id``: a crawler's list of ids, no content
            result.skip("list of ids")
            return result
        raise ParseError("JSON holds no WordPress post, term or user record")
    return result


_ID_LIST = re.compile(r'\[\s*\{\s*"id"\s*:\s*\d+\s*\}(?:\s*,\s*\{\s*"id"\s*:\s*\d+\s*\})*\s*\]')


def _attach_leading_string(record: dict[str, Any], text: str, context: dict[str, Any]) -> None:
    """Decide which field a fragment's leading string was cut from (content or excerpt)."""
    if "content" in record and "excerpt" not in record:
        record["excerpt"] = {"rendered": text}
    elif "protected" in context and "excerpt" in record:
        record.setdefault("content", {"rendered": text})
    elif "protected" in context and len(text) < 600 and "\n" not in text.strip():
        record["excerpt"] = {"rendered": text}
    else:
        record.setdefault("content", {"rendered": text})


def _add_record(
    obj: dict[str, Any],
    payload: Payload,
    result: ParseResult,
    *,
    truncated: bool,
    fallback_url: str | None,
) -> None:
    if not (obj.get("content") or obj.get("title") or obj.get("excerpt")):
        result.rejects.append(("unusable record", "cut-off record keeps no title or content"))
        return
    doc = record_to_document(
        obj, payload, result.emitted, result, truncated=truncated, fallback_url=fallback_url
    )
    if doc is not None:
        result.add(doc)


def _walk(value: Any, payload: Payload, result: ParseResult, url: str | None, depth: int) -> None:
    if depth > 6:
        result.skip("value nested deeper than 6 levels")
        return
    if isinstance(value, list):
        coauthors = [v for v in value if isinstance(v, dict) and is_coauthor_v1(v)]
        if coauthors and len(coauthors) == len(value):
            _coauthors_v1(coauthors, url, result)
            return
        for item in value:
            _walk(item, payload, result, url, depth + 1)
        return
    if not isinstance(value, dict):
        return
    if is_legacy_post(value):
        value = legacy_to_v2(value)
    if is_comment_record(value):
        result.skip("comment")
    elif is_post_record(value):
        _add_record(value, payload, result, truncated=False, fallback_url=url)
    elif is_term_record(value):
        result.lookups.append(_term_lookup(value, site_of(url)))
    elif is_user_record(value):
        result.lookups.append(_user_lookup(value, site_of(url)))
    elif is_coauthor_v1(value):
        _coauthors_v1([value], url, result)
    elif value.get("code") and value.get("message") and "data" in value:
        result.rejects.append(("REST error response", f"{value['code']}: {value['message']}"))
    elif (
        ("namespaces" in value and "routes" not in value)
        or value.get("rest_base")
        or (value and all(isinstance(v, dict) and "rest_base" in v for v in value.values()))
    ):
        result.skip("REST metadata (index, types, taxonomies)")
    elif (
        isinstance(value.get("id"), int)
        and "slug" in value
        and not ("content" in value or "title" in value or "name" in value)
    ):
        result.skip("record without content (_fields listing)")
    else:
        # Wrapped records ({"posts": [...]}) or a map of name -> value (types, taxonomies).
        for key, inner in value.items():
            if key.startswith("_"):
                continue
            if isinstance(inner, list | dict):
                _walk(inner, payload, result, url, depth + 1)


def _coauthors_v1(entries: list[dict[str, Any]], url: str | None, result: ParseResult) -> None:
    names = [str(e["display_name"]) for e in entries if isinstance(e.get("display_name"), str)]
    post_id = None
    if url:
        qs = parse_qs(urlsplit(url).query)
        if qs.get("post_id"):
            try:
                post_id = int(qs["post_id"][0])
            except ValueError:
                post_id = None
    if post_id is not None:
        result.lookups.append(
            Lookup(
                site=site_of(url),
                kind="post_authors",
                taxonomy="author",
                id=post_id,
                name=", ".join(names),
                names=names,
            )
        )
    for e in entries:
        nicename = e.get("user_nicename")
        if isinstance(nicename, str) and isinstance(e.get("display_name"), str):
            # Lets a co-author term (slug cap-<nicename>) resolve to a display name.
            result.lookups.append(
                Lookup(
                    site=site_of(url),
                    kind="coauthor",
                    taxonomy="author",
                    id=int(e.get("id") or 0),
                    name=e["display_name"],
                    slug=nicename,
                )
            )
