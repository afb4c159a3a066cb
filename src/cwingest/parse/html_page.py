"""Saved HTML pages: a single post, or a listing/archive page of several.

Metadata comes from what WordPress themes and SEO plugins put in a page: ``<title>``,
Open Graph and ``article:*`` meta, JSON-LD, ``rel=canonical``/``shortlink``, the body and
article classes (``postid-25``, ``type-cw_post``, ``issue-rural-schools``), ``<time>``
and byline elements. The main text comes from the site profile's content selectors, the
usual WordPress content containers, or trafilatura when none matches.
"""

from __future__ import annotations

import contextlib
import json
import re
from functools import lru_cache
from html import escape
from typing import Any
from urllib.parse import urljoin

from cssselect import SelectorError
from lxml import etree, html
from lxml.cssselect import CSSSelector

from cwingest.clean.html_text import parse_html
from cwingest.clean.profiles import active_profiles
from cwingest.enrich.names import person_names
from cwingest.models import Document, ParseError, ParseResult
from cwingest.parse.base import Payload, new_document
from cwingest.parse.seo import graph_authors, head_authors
from cwingest.parse.wp_classes import (
    class_value,
    is_protected_class,
    term_slugs_from_classes,
    wp_id_from_classes,
)
from cwingest.util import site_of, unwrap_wayback

name = "html"
FORMATS = {"html": 4, "html_listing": 1}  # a saved page; a listing teaser

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


_META_ATTRS = ("property", "name", "itemprop")
_last_meta: list[Any] = [None, {}]  # (root, index) of the page read last


def _meta_index(root: etree._Element) -> dict[tuple[str, str], str]:
    """(attribute, value) -> the content of the first such ``<meta>`` that has one, read
    in one pass (a page asks for a dozen names)."""
    if _last_meta[0] is root:
        return _last_meta[1]
    index: dict[tuple[str, str], str] = {}
    for meta in root.iter("meta"):
        content = (meta.get("content") or "").strip()
        if not content:
            continue
        for attr in _META_ATTRS:
            value = meta.get(attr)
            if value is not None:
                index.setdefault((attr, value), content)
    _last_meta[0], _last_meta[1] = root, index
    return index


def _meta(root: etree._Element, *names: str) -> str | None:
    index = _meta_index(root)
    for nm in names:
        for attr in _META_ATTRS:
            found = index.get((attr, nm))
            if found:
                return found
    return None


def _classes(el: etree._Element | None) -> list[str]:
    return (el.get("class") or "").split() if el is not None else []


_SITE_TYPES = ("WebSite", "Organization", "NewsMediaOrganization")
_PAGE_TYPES = ("Article", "BlogPosting", "NewsArticle", "WebPage", "Report", "ScholarlyArticle")


def _ld_items(root: etree._Element) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for script in root.xpath("//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text or "", strict=False)
        except (json.JSONDecodeError, TypeError, RecursionError):
            continue
        stack = [data]
        while stack and len(out) < 500:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                if "@graph" in item:
                    stack.append(item["@graph"])
                out.append(item)
    return out


def _json_ld(root: etree._Element, kinds: tuple[str, ...] = _PAGE_TYPES) -> list[dict[str, Any]]:
    found = [i for i in _ld_items(root) if _ld_type(i) & set(kinds)]
    # Articles first: a WebPage node carries less.
    return sorted(found, key=lambda d: 0 if "WebPage" not in _ld_type(d) else 1)


def _css(el: etree._Element, selector: str) -> list[etree._Element]:
    """Elements a CSS selector matches; none for a selector that does not parse (a typo in
    a user's profile must not stop the run)."""
    compiled = _compiled_css(selector)
    return list(compiled(el)) if compiled is not None else []


@lru_cache(maxsize=512)
def _compiled_css(selector: str) -> CSSSelector | None:
    """A selector translated to XPath once (``el.cssselect`` translates on every call)."""
    try:
        return CSSSelector(selector, translator="html")
    except (SelectorError, etree.XPathError):
        return None


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
    profiles = active_profiles()
    profile = profiles.for_site(site)
    body = root.find(".//body")
    body_classes = _classes(body)
    entries = _css(root, _ENTRY_SELECTORS) if body is not None else []
    entries = [e for e in entries if not any(a in entries for a in e.iterancestors())]
    kind = classify(root, body_classes, entries)
    if kind == "other" and not payload.options.get("classify_pages", True):
        kind = "single"  # a capture of any page is kept (web archives)
    site_name = _meta(root, "og:site_name")
    if kind == "single":
        _drop_teasers(entries)
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
_LISTING_CLASSES = frozenset(
    "blog archive home search category tag paged author date post-type-archive tax".split()
)
ARTICLE_WORDS = 150  # a text block this long is an article, whatever else the page shows


def _words(el: etree._Element) -> int:
    return len(" ".join(el.itertext()).split())


def _titled(entry: etree._Element) -> bool:
    """An entry of a listing: a title (heading or .entry-title) holding a link."""
    return bool(
        entry.xpath(
            ".//*[self::h1 or self::h2 or self::h3 or contains(@class,'entry-title')]//a[@href]"
        )
    )


def _dominant_block(entries: list[etree._Element]) -> bool:
    """True when one entry holds an article-length text and most of the entries' words (an
    article with a few teasers of related posts beside it)."""
    sizes = sorted((_words(e) for e in entries), reverse=True)
    return bool(sizes) and sizes[0] >= ARTICLE_WORDS and sizes[0] >= 0.6 * sum(sizes)


def classify(root: etree._Element, body_classes: list[str], entries: list[etree._Element]) -> str:
    """ "single" (one post), "listing" (archive, home, search page) or "other".

    The page's own signals come first: WordPress body classes (``single``, ``postid-N``,
    ``page-id-N`` against ``home``, ``blog``, ``archive``, ``category``, ``tag``, ``paged``,
    ``search``), Open Graph ``og:type=article``, JSON-LD articles. A listing needs listing
    signals or several entries, each with a title link, and no article-length block among
    them; a page whose main text is article length is a single post even when it also
    shows teasers of other posts ("related stories").
    """
    if any(
        c in ("single", "singular") or c.startswith(("single-", "postid-", "page-id-"))
        for c in body_classes
    ):
        return "single"
    titled = [e for e in entries if _titled(e)]
    if any(c in _LISTING_CLASSES for c in body_classes):
        if len(titled) >= 2 and not _dominant_block(entries):
            return "listing"
        return "single" if _page_words(root) >= ARTICLE_WORDS or entries else "other"
    if (_meta(root, "og:type") or "").lower() == "article":
        return "single"
    if any(_ld_type(item) & set(_ARTICLE_TYPES) for item in _json_ld(root)):
        return "single"
    if len(titled) >= 3 and not _dominant_block(entries):
        return "listing"
    if entries or _page_words(root) >= ARTICLE_WORDS:
        return "single"
    return "other"


def _drop_teasers(entries: list[etree._Element]) -> None:
    """Remove the teasers of other posts around an article ("related", "more stories":
    short entries with a title link), so they are not taken for its text."""
    # A short post's own <article> stays: it holds the page's h1, or most of the words.
    sizes = sorted((_words(e) for e in entries), reverse=True)
    main = None
    for e in entries:
        if e.xpath(".//h1") or (sizes and _words(e) == sizes[0] and sizes[0] > 2 * sum(sizes[1:2])):
            main = e
            break
    teasers = [e for e in entries if e is not main and _titled(e) and _words(e) < 80]
    if len(teasers) >= 2 or any("related" in " ".join(_classes(e)) for e in teasers):
        for e in teasers:
            parent = e.getparent()
            if parent is not None:
                e.drop_tree()


def _page_words(root: etree._Element) -> int:
    """Words of the page's paragraphs, or of its whole body when it has no ``<p>`` (forums
    and old themes set text in ``<div>`` and ``<td>``)."""
    body = root.find(".//body")
    if body is None:
        return 0
    words = sum(len(" ".join(p.itertext()).split()) for p in body.iter("p"))
    if words >= ARTICLE_WORDS:
        return words
    skip = {"script", "style", "noscript", "template"}
    return (
        sum(
            len(t.split())
            for el in body.iter()
            if isinstance(el.tag, str) and el.tag not in skip
            for t in (el.text, el.tail)
            if t
        )
        // 2
    )  # a body's text counts for half: menus and footers are in it too


def _ld_type(item: dict[str, Any]) -> set[str]:
    types = item.get("@type")
    return {str(t) for t in (types if isinstance(types, list) else [types]) if t}


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
    doc = new_document(
        payload,
        result,
        name,
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
    profiles = active_profiles()
    site_names = _site_names(root, ld, site_name)
    doc.title_raw, doc.head_title = _title(root, ld, profiles, profile, site_names)
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
    doc.authors = _authors(root, ld, article, profiles, profile, site_names)
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
    if not (doc.title_raw and doc.authors):
        _fill_from_trafilatura(doc, root, site_names)
    if is_protected_class(classes) or root.xpath("//form[contains(@class,'post-password-form')]"):
        doc.is_protected = True  # the page shows a password form, not the post
        doc.body_html = ""
    else:
        doc.body_html = _main_text(root, profiles, profile, doc)
    return doc


def _main_text(root: etree._Element, profiles: Any, profile: Any, doc: Document) -> str:
    """The article's markup: the site profile's container where one matches (fast, and what
    the profile's author knows best), else trafilatura's extraction, else WordPress's usual
    containers, else the page's paragraphs (a page is never published empty when it has
    text). Runs last: trafilatura cleans the tree it is given."""
    if profile is not None:
        container = _select(root, profile.content_selectors)
        if container is not None and _words(container) >= 1:
            return str(html.tostring(container, encoding="unicode"))
    generic = _select(root, profiles.generic.content_selectors)
    fallback = html.tostring(generic, encoding="unicode") if generic is not None else None
    body = root.find(".//body")
    paragraphs = "".join(
        f"<p>{escape(' '.join(p.itertext()))}</p>"
        for p in (body.iter("p") if body is not None else [])
    )
    extracted = _trafilatura_main(root)
    if extracted and len(extracted) > 40:
        doc.notes.append("main text by trafilatura")
        return extracted
    return str(fallback or paragraphs or extracted)


def _site_names(root: etree._Element, ld: list[dict[str, Any]], og_site: str | None) -> list[str]:
    """What the page calls its site (never a title or an author): og:site_name, JSON-LD
    WebSite / Organization names, the theme's site title."""
    names = [og_site] if og_site else []
    for item in _json_ld(root, _SITE_TYPES):
        if isinstance(item.get("name"), str):
            names.append(item["name"])
    for el in root.xpath(
        "//*[contains(concat(' ',normalize-space(@class),' '),' site-title ')"
        " or contains(concat(' ',normalize-space(@class),' '),' site-name ')"
        " or contains(concat(' ',normalize-space(@class),' '),' logo ')]"
    )[:3]:
        text = " ".join(el.text_content().split())
        if text:
            names.append(text)
    return [n.strip() for n in names if n and n.strip()]


_LOGO_ANCESTOR = (
    "ancestor::header[contains(@class,'site-header')]"
    " | ancestor::*[contains(@class,'site-branding')]"
)


def _is_logo(el: etree._Element) -> bool:
    """A heading that is the site's logo: a logo class, or only a link to the home page."""
    marks = " ".join(
        (x.get("class") or "") + " " + (x.get("id") or "") for x in [el, *el.iter()]
    ).lower()
    if re.search(r"logo|site-title|site-name|brand|masthead", marks):
        return True
    links = el.xpath(".//a/@href")
    return (
        len(links) == 1
        and re.fullmatch(r"(?:https?://[^/]+)?/?", str(links[0]).strip()) is not None
    )


def _share_words(a: str, b: str) -> bool:
    words = {w for w in re.findall(r"\w{4,}", a.casefold())}
    return bool(words & set(re.findall(r"\w{4,}", b.casefold()))) or not words


def _same(a: str, b: str) -> bool:
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


def _title(
    root: etree._Element,
    ld: list[dict[str, Any]],
    profiles: Any,
    profile: Any,
    site_names: list[str],
) -> tuple[str | None, str | None]:
    """(title, head title): the first of the article's heading, JSON-LD headline, og:title,
    twitter:title and ``<title>`` that is not just the site's name; the head title keeps
    its site suffix for the enrich stage to strip."""
    head = _meta(root, "og:title") or _first(root.xpath("//title/text()"))
    og = _meta(root, "og:title")
    headings = []
    for sel in profiles.selectors(profile, "title_selectors"):
        for el in _css(root, sel):
            if el.xpath(_LOGO_ANCESTOR) or _is_logo(el):
                continue  # the site's logo heading
            text = " ".join(el.text_content().split())
            if og and not _share_words(text, og):
                continue  # a section label ("News"), not the article's title
            headings.append(text)
        if headings:
            break
    candidates = [
        *headings[:1],
        _ld_value(ld, "headline"),
        _meta(root, "og:title"),
        _meta(root, "twitter:title"),
        _first(root.xpath("//title/text()")),
    ]
    for c in candidates:
        if c and c.strip() and not any(_same(c, n) for n in site_names):
            return c.strip(), head
    return None, head


def _authors(
    root: etree._Element,
    ld: list[dict[str, Any]],
    article: etree._Element | None,
    profiles: Any,
    profile: Any,
    site_names: list[str],
) -> list[str]:
    """Authors from, in order: the profile's byline selectors, the JSON-LD article's
    ``author`` (people, never an organisation; ``@id`` references followed), the theme's
    byline or author box, ``<meta name="author">``, the twitter "Written by" pair,
    ``article:author``. Each name is checked (labels removed; URLs, templates, dates and
    the site's own name refused)."""
    sources = [
        lambda: _selected_names(root, profiles.selectors(profile, "byline_selectors")),
        lambda: graph_authors(_ld_items(root)),
        lambda: _byline_names(article if article is not None else root),
        lambda: _meta_authors(root),
    ]
    for source in sources:
        names = person_names(source(), site_names)
        if names:
            return names
    return []


def _fill_from_trafilatura(doc: Document, root: etree._Element, site_names: list[str]) -> None:
    """Title and authors a page's theme did not mark up the WordPress way (other sites'
    articles), from trafilatura's extractor. Its dates are not used: htmldate guesses from
    footers and copyright lines, and a wrong date is worse than none."""
    try:
        meta = _title_and_author(root)
    except Exception:  # metadata is a bonus: a failure here must not lose the page
        return
    if not doc.title_raw and meta.title and not any(_same(meta.title, n) for n in site_names):
        doc.title_raw = meta.title
    if not doc.authors and meta.author:
        doc.authors = person_names(meta.author.split(";"), site_names)


def _title_and_author(root: etree._Element) -> Any:
    """The title and author steps of ``trafilatura.metadata.extract_metadata`` alone: its
    date search (htmldate, dateparser) costs as much as extracting the text and its dates
    are not used."""
    from trafilatura.metadata import (
        examine_meta,
        extract_author,
        extract_meta_json,
        extract_title,
    )

    meta = examine_meta(root)
    if meta.author and " " not in meta.author:
        meta.author = None
    with contextlib.suppress(Exception):  # its JSON-LD reader has bugs: keep the rest
        meta = extract_meta_json(root, meta)
    if not meta.title:
        meta.title = extract_title(root)
    if not meta.author:
        meta.author = extract_author(root)
    meta.clean_and_trim()
    return meta


def _meta_authors(root: etree._Element) -> list[str]:
    """``<meta name="author">``, ``article:author`` and the twitter "Written by" pair."""
    head = root.find(".//head")
    names = head_authors(html.tostring(head, encoding="unicode")) if head is not None else []
    return names or [_meta(root, "article:author") or ""]


def _byline_names(scope: etree._Element) -> list[str]:
    """Author names from a theme's byline or author box ("By Ethan Park", rel=author),
    never from the comments (whose authors a theme marks up the same way)."""
    found = scope.xpath(
        ".//*[contains(concat(' ',normalize-space(@class),' '),' author ')]"
        "//*[contains(@class,'fn') or contains(@class,'url')]"
        " | .//*[contains(@class,'author-title') or contains(@class,'author-name')]"
        " | .//a[@rel='author']"
    )
    names: list[str] = []
    for el in found:
        if el.xpath(_IN_COMMENTS):
            continue
        text = " ".join(el.text_content().split())
        if text and text not in names:
            names.append(text)
    return names


_IN_COMMENTS = (
    "ancestor::*[contains(@class,'comment') or contains(@id,'comments')"
    " or contains(@class,'respond') or self::footer[contains(@class,'comment')]]"
)


def _selected_names(root: etree._Element, selectors: tuple[str, ...]) -> list[str]:
    """Names held by the elements of the first selector that matches (one name each)."""
    for sel in selectors:
        names = []
        for el in _css(root, sel):
            text = " ".join(el.text_content().split())
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
    return {"issue"} | {v for v in active_profiles().generic.labels.values() if v != "authors"}


def _ld_value(items: list[dict[str, Any]], key: str) -> str | None:
    for item in items:
        if isinstance(item.get(key), str):
            return str(item[key])
    return None


def _trafilatura_main(root: etree._Element) -> str:
    """trafilatura's main text as HTML (it cleans the tree it is given: call it last)."""
    import trafilatura

    try:
        extracted = trafilatura.extract(
            root, output_format="html", include_tables=True, include_comments=False
        )
    except Exception:  # an extractor failure must not lose the page: fall back
        return ""
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
    doc = new_document(
        payload,
        result,
        "html_listing",
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
