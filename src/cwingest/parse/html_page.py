"""Saved HTML pages: a single post, or a listing/archive page of several.

Metadata comes from what WordPress themes and SEO plugins put in a page: ``<title>``,
Open Graph and ``article:*`` meta, JSON-LD, ``rel=canonical``/``shortlink``, the body and
article classes (``postid-25``, ``type-cw_post``, ``issue-rural-schools``), ``<time>``
and byline elements. The main text comes from the site profile's content selectors, the
usual WordPress content containers, or trafilatura when none matches.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urljoin

from cssselect import SelectorError
from lxml import etree, html

from cwingest.clean.html_text import parse_html
from cwingest.clean.profiles import load_profiles
from cwingest.models import Document, ParseError, ParseResult
from cwingest.parse.base import Payload
from cwingest.parse.wp_classes import (
    class_value,
    is_protected_class,
    term_slugs_from_classes,
    wp_id_from_classes,
)
from cwingest.util import site_of, unwrap_wayback

name = "html"

_ENTRY_SELECTORS = "article, .hentry, .type-post, .post"
_HTML_START = re.compile(r"(?i)<!doctype\s+html|<html[\s>]")
_TAGS = re.compile(r"<(?:p|div|article|body|head|h[1-6]|span|a|br|meta|title)\b", re.I)


def sniff(payload: Payload) -> int:
    """A page (doctype/html) is certain; a fragment dense in tags is likely."""
    head = _skip_prolog(payload.head_text())
    if _HTML_START.match(head):
        return 80
    if re.match(r"(?i)<(?:rss|feed|urlset|sitemapindex|rdf:rdf|\?xml)\b", head):
        return 0  # XML documents (feeds, sitemaps, exports) are not pages
    if head.startswith("<") and len(_TAGS.findall(head)) >= 3:
        return 50
    return 0


def _skip_prolog(text: str) -> str:
    """Text after a BOM, an XML declaration and leading comments (bounded, no regex blowup)."""
    text = text.lstrip("\ufeff \t\r\n")
    for _ in range(20):
        if text.startswith("<?xml"):
            end = text.find("?>")
        elif text.startswith("<!--"):
            end = text.find("-->")
        else:
            break
        if end < 0:
            return ""
        text = text[end + 2 :].lstrip(">").lstrip()
    return text


def _meta(root: etree._Element, *names: str) -> str | None:
    for nm in names:
        for attr in ("property", "name", "itemprop"):
            found = root.xpath(f"//meta[@{attr}=$n]/@content", n=nm)
            if found and str(found[0]).strip():
                return str(found[0]).strip()
    return None


def _classes(el: etree._Element | None) -> list[str]:
    return (el.get("class") or "").split() if el is not None else []


def _json_ld(root: etree._Element) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for script in root.xpath("//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text or "", strict=False)
        except (json.JSONDecodeError, TypeError):
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                if "@graph" in item:
                    stack.append(item["@graph"])
                types = item.get("@type")
                types = types if isinstance(types, list) else [types]
                if any(t in ("Article", "BlogPosting", "NewsArticle", "WebPage") for t in types):
                    out.append(item)
    # Articles first: a WebPage node carries less.
    return sorted(out, key=lambda d: 0 if d.get("@type") != "WebPage" else 1)


def _ld_authors(items: list[dict[str, Any]]) -> list[str]:
    for item in items:
        author = item.get("author")
        authors = author if isinstance(author, list) else [author]
        names = [a.get("name") if isinstance(a, dict) else a for a in authors]
        clean = [str(n).strip() for n in names if isinstance(n, str) and n.strip()]
        if clean:
            return clean
    return []


def _css(el: etree._Element, selector: str) -> list[etree._Element]:
    """Elements a CSS selector matches; none for a selector that does not parse (a typo in
    a user's profile must not stop the run)."""
    try:
        return list(el.cssselect(selector))
    except (SelectorError, etree.XPathError):
        return []


def _select(el: etree._Element, selectors: tuple[str, ...]) -> etree._Element | None:
    """The first element of the first selector that matches."""
    for sel in selectors:
        found = _css(el, sel)
        if found:
            return found[0]
    return None


def parse(payload: Payload) -> ParseResult:
    """Parse a saved page into one document (single post) or several (listing page)."""
    text = payload.text()
    root = parse_html(text)
    result = ParseResult(source_format=name, sink=payload.sink)
    url = (
        _first(root.xpath("//link[@rel='canonical']/@href"))
        or _meta(root, "og:url")
        or payload.raw.context.get("url")
    )
    base = payload.raw.context.get("url")
    if url and base:
        url = urljoin(base, url)  # canonical links are sometimes relative
    url = unwrap_wayback(url) if url else None
    site = site_of(url)
    profiles = load_profiles()
    profile = profiles.for_site(site)
    body = root.find(".//body")
    body_classes = _classes(body)
    entries = root.cssselect(_ENTRY_SELECTORS) if body is not None else []
    entries = [e for e in entries if not any(a in entries for a in e.iterancestors())]
    kind = classify(root, body_classes, entries)
    if kind == "other" and not payload.options.get("classify_pages", True):
        kind = "single"  # a capture of any page is kept (web archives)
    site_name = _meta(root, "og:site_name")
    if kind == "single":
        doc = _single(root, payload, result, url, site, profile, site_name)
        result.add(doc)
    elif kind == "listing":
        for entry in entries:
            excerpt = _listing_entry(entry, payload, result, site)
            if excerpt is not None:
                result.add(excerpt)
    else:
        result.skip("page that is neither a post nor a listing")
    if not result.emitted and not result.skipped:
        raise ParseError("HTML page holds no post")
    return result


_ARTICLE_TYPES = ("Article", "BlogPosting", "NewsArticle", "Report", "ScholarlyArticle")


def classify(root: etree._Element, body_classes: list[str], entries: list[etree._Element]) -> str:
    """ "single" (one post), "listing" (archive, home, search page) or "other".

    WordPress themes say it in the body classes; pages of other engines are recognised by
    Open Graph ``og:type=article``, JSON-LD articles, or one ``<article>`` element.
    """
    if any(
        c in ("single", "singular") or c.startswith(("single-", "postid-")) for c in body_classes
    ):
        return "single"
    if any(c in ("blog", "archive", "home", "search", "category", "tag") for c in body_classes):
        return "listing" if entries else "other"
    if len(entries) >= 2:
        return "listing"
    if "page" in body_classes or any(c.startswith("page-id-") for c in body_classes):
        return "single"
    if (_meta(root, "og:type") or "").lower() == "article":
        return "single"
    if any(item.get("@type") in _ARTICLE_TYPES for item in _json_ld(root)):
        return "single"
    if len(entries) == 1:
        return "single"
    return "other"


def _first(values: list[Any]) -> str | None:
    return str(values[0]).strip() if values and str(values[0]).strip() else None


def _single(
    root: etree._Element,
    payload: Payload,
    result: ParseResult,
    url: str | None,
    site: str | None,
    profile: Any,
    site_name: str | None,
) -> Document:
    body = root.find(".//body")
    article = _select(root, ("article.hentry", "article", ".hentry")) if body is not None else None
    classes = _classes(body) + _classes(article)
    doc = Document(
        raw_id=payload.raw.raw_id,
        source_uri=payload.raw.source_uri,
        source_format=name,
        index=result.emitted,
        fetched_at=payload.raw.fetched_at,
        site=site,
        url=url,
    )
    doc.wp_id = wp_id_from_classes(classes)
    doc.post_type = class_value(classes, "type") or class_value(
        [c for c in classes if not c.startswith("single-format-")], "single"
    )
    doc.status = class_value(classes, "status")
    shortlink = _first(root.xpath("//link[@rel='shortlink']/@href"))
    if doc.wp_id is None and shortlink:
        m = re.search(r"[?&]p=(\d+)", shortlink)
        doc.wp_id = int(m.group(1)) if m else None
    if url:
        doc.slug = url.rstrip("/").rsplit("/", 1)[-1] or None
    ld = _json_ld(root)
    profiles = load_profiles()
    h1 = _select(root, profiles.selectors(profile, "title_selectors"))
    doc.title_raw = h1.text_content().strip() if h1 is not None else None
    doc.head_title = _meta(root, "og:title") or _first(root.xpath("//title/text()"))
    if not doc.title_raw:
        doc.title_raw = doc.head_title
        doc.head_title = None if doc.title_raw is None else doc.title_raw
    if site_name:
        doc.site_name = site_name
    doc.published_raw = (
        _meta(root, "article:published_time", "datePublished")
        or _ld_value(ld, "datePublished")
        or _selected_date(root, profiles.selectors(profile, "date_selectors"))
    )
    doc.modified_raw = (
        _meta(root, "article:modified_time", "og:updated_time", "dateModified")
        or _ld_value(ld, "dateModified")
        or _first(root.xpath("//time[contains(@class,'updated')]/@datetime"))
    )
    authors = _selected_names(root, profiles.selectors(profile, "byline_selectors"))
    if not authors:
        authors = _ld_authors(ld)
    if not authors:
        authors = _byline_names(article if article is not None else root)
    if not authors:
        meta_author = _meta(root, "author", "article:author")
        if meta_author and not meta_author.startswith("http"):
            authors = [meta_author]
    doc.authors = authors
    doc.term_slugs = term_slugs_from_classes(_classes(article), _class_taxonomies())
    issues = _selected_names(root, profiles.selectors(profile, "issue_selectors"))
    if issues:
        doc.terms["issue"] = issues
    for rel_tag in root.xpath("//a[contains(concat(' ',@rel,' '),' tag ')]"):
        label = rel_tag.text_content().strip()
        href = rel_tag.get("href") or ""
        tax = "category" if "/category/" in href else "post_tag" if "/tag/" in href else None
        if tax and label:
            doc.terms.setdefault(tax, [])
            if label not in doc.terms[tax]:
                doc.terms[tax].append(label)
    container = _select(root, profiles.selectors(profile, "content_selectors"))
    if is_protected_class(classes) or root.xpath("//form[contains(@class,'post-password-form')]"):
        doc.is_protected = True  # the page shows a password form, not the post
        doc.body_html = ""
    elif container is not None:
        doc.body_html = html.tostring(container, encoding="unicode")
    else:
        doc.body_html = _trafilatura_main(payload.text())
        doc.notes.append("main text by trafilatura")
    if not (doc.title_raw and doc.authors):
        _fill_from_trafilatura(doc, root, url)
    return doc


def _fill_from_trafilatura(doc: Document, root: etree._Element, url: str | None) -> None:
    """Title and authors a page's theme did not mark up the WordPress way (other sites'
    articles), from trafilatura's extractor. Its dates are not used: htmldate guesses from
    footers and copyright lines, and a wrong date is worse than none."""
    from trafilatura.metadata import extract_metadata

    try:
        meta = extract_metadata(root, default_url=url)
    except Exception:  # metadata is a bonus: a failure here must not lose the page
        return
    if not doc.title_raw and meta.title:
        doc.title_raw = meta.title
    if not doc.authors and meta.author:
        doc.authors = [a.strip() for a in meta.author.split(";") if a.strip()]


_VIEW_ALL = re.compile(
    r"^view all (?:posts )?(?:of|by) (?P<name>.+?)(?:['’]s)?(?: posts)?\.?$", re.I
)
_BY_PREFIX = re.compile(r"^(?:written |posted )?by:?\s+", re.I)


def _byline_names(scope: etree._Element) -> list[str]:
    """Author names from a theme's byline or author box ("By Ethan Park", rel=author)."""
    found = scope.xpath(
        ".//*[contains(concat(' ',normalize-space(@class),' '),' author ')]"
        "//*[contains(@class,'fn') or contains(@class,'url')]"
        " | .//*[contains(@class,'author-title') or contains(@class,'author-name')]"
        " | .//a[@rel='author']"
    )
    names: list[str] = []
    for el in found:
        text = " ".join(el.text_content().split())
        m = _VIEW_ALL.match(text)
        name = m.group("name") if m else _BY_PREFIX.sub("", text)
        if name and len(name) <= 80 and name not in names:
            names.append(name)
    return names


def _selected_names(root: etree._Element, selectors: tuple[str, ...]) -> list[str]:
    """Names held by the elements of the first selector that matches (one name each)."""
    for sel in selectors:
        names = []
        for el in _css(root, sel):
            text = _BY_PREFIX.sub("", " ".join(el.text_content().split()))
            if text and len(text) <= 120 and text not in names:
                names.append(text)
        if names:
            return names
    return []


def _selected_date(root: etree._Element, selectors: tuple[str, ...]) -> str | None:
    for sel in selectors:
        for el in _css(root, sel):
            value = el.get("datetime") or el.get("content") or el.text_content().strip()
            if value:
                return str(value)
    return None


def _class_taxonomies() -> set[str]:
    """Taxonomies whose ``{taxonomy}-{slug}`` article classes a page may carry."""
    return {"issue"} | {v for v in load_profiles().generic.labels.values() if v != "authors"}


def _ld_value(items: list[dict[str, Any]], key: str) -> str | None:
    for item in items:
        if isinstance(item.get(key), str):
            return str(item[key])
    return None


def _trafilatura_main(markup: str) -> str:
    import trafilatura

    extracted = trafilatura.extract(
        markup,
        output_format="html",
        include_comments=False,
        include_tables=True,
        favor_precision=True,
    )
    return extracted or ""


def _listing_entry(
    entry: etree._Element, payload: Payload, result: ParseResult, site: str | None
) -> Document | None:
    title_el = _select(entry, (".entry-title", "h2", "h3", "h1"))
    if title_el is None:
        result.skip("listing entry without title")
        return None
    link = title_el.xpath(".//a/@href") or entry.xpath(".//a[@rel='bookmark']/@href")
    url = str(link[0]) if link else None
    doc = Document(
        raw_id=payload.raw.raw_id,
        source_uri=payload.raw.source_uri,
        source_format="html_listing",
        index=result.emitted,
        fetched_at=payload.raw.fetched_at,
        site=site_of(url) or site,
        url=url,
        title_raw=title_el.text_content().strip(),
    )
    doc.wp_id = wp_id_from_classes(_classes(entry))
    doc.post_type = class_value(_classes(entry), "type")
    doc.term_slugs = term_slugs_from_classes(_classes(entry), _class_taxonomies())
    if url:
        doc.slug = url.rstrip("/").rsplit("/", 1)[-1] or None
    time_el = entry.xpath(".//time/@datetime")
    doc.published_raw = str(time_el[0]) if time_el else None
    authors = entry.xpath(".//*[contains(@class,'author')]//a/text() | .//a[@rel='author']/text()")
    doc.authors = list(dict.fromkeys(str(a).strip() for a in authors if str(a).strip()))
    content = _select(entry, (".entry-content", ".entry-summary", ".post-content", ".excerpt"))
    if is_protected_class(_classes(entry)):
        doc.is_protected = True  # "There is no excerpt because this is a protected post."
        doc.body_html = ""
        return doc
    if content is None:
        result.skip("listing entry without text")
        return None
    doc.body_html = html.tostring(content, encoding="unicode")
    doc.is_excerpt_only = bool(
        (_classes(content) and "entry-summary" in _classes(content))
        or content.xpath(".//a[contains(@class,'more-link')]")
    )
    return doc
