"""The enrich stage for one document: names, dates, title, attribution, language, counts."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from dateutil import parser as dateparser

from cwingest.clean.boilerplate import Cleaned
from cwingest.clean.document import clean_inline, profiles_for
from cwingest.clean.profiles import ProfileSet
from cwingest.enrich.language import detect_language
from cwingest.enrich.lookups import LookupIndex
from cwingest.enrich.names import AUTHOR_TAXONOMY
from cwingest.models import Document
from cwingest.util import MONTH_PATTERN, sha256_text

_SMALL_WORDS = frozenset(
    "a an and as at but by for from in into nor of on or per the to via vs with".split()
)
_ORIGINAL = re.compile(
    r"\b(?:was\s+)?(?:originally|first)\s+(?:appeared|published|posted|ran)\s+(?:at|on|in|by)\s+"
    rf"(?P<src>[^\n]{{2,160}}?)(?:\s+on\s+{MONTH_PATTERN}\s+\d{{1,2}},?\s+\d{{4}}|[.;\n]|$)",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+(?:[’'\-]\w+)*")
# WordPress's protected_title_format in the common locales.
_PROTECTED_PREFIX = re.compile(
    r"^(?:Protected|Protégé|Geschützt|Protegido|Protetto|Beveiligd|Chronione|Защищено)\s?:\s*",
    re.IGNORECASE,
)
_MIN_YEAR, _MAX_YEAR = 1990, 2100


def humanize_slug(slug: str) -> str:
    """``how-to-get-started`` -> ``How to Get Started`` (title case, small words lower)."""
    words = [w for w in re.split(r"[-_]+", slug) if w]
    out = []
    for i, w in enumerate(words):
        out.append(w if i and w in _SMALL_WORDS else w[:1].upper() + w[1:])
    return " ".join(out)


def parse_date(raw: str | None, is_gmt: bool = False) -> datetime | None:
    """Parse a date as UTC; values without a zone are taken as UTC. Invalid -> None."""
    if not raw or not raw.strip() or raw.startswith("0000-00-00"):
        return None
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))  # the usual case
    except ValueError:
        try:
            value = dateparser.parse(raw.strip(), fuzzy=False)
        except (ValueError, OverflowError, TypeError):
            return None
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if not (_MIN_YEAR <= value.year <= _MAX_YEAR):
        return None
    return value


def strip_site_suffix(title: str, suffixes: list[str]) -> str:
    """Remove a site suffix (" - Aurora Institute") from a page title."""
    seps = (" - ", " – ", " — ", " | ", " · ", " » ", " :: ", " &#8211; ")
    for suffix in suffixes:
        tails = [suffix] if suffix.startswith(seps) else [sep + suffix.strip() for sep in seps]
        for tail in tails:
            if title.endswith(tail) and len(title) > len(tail):
                return title[: -len(tail)].strip()
    return title


def _dedupe(names: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for n in names:
        key = n.casefold()
        if n and key not in seen:
            seen.add(key)
            out.append(n)
    return out


def _resolve_authors(
    doc: Document, idx: LookupIndex, cleaned: Cleaned, terms: dict[str, list[str]]
) -> list[str]:
    """Authors in byline order, from the most trustworthy source that has them (README
    "Authors"):

    1. Co-Authors Plus: its ``coauthors/v1`` byline, or its terms resolved to display
       names (a term's name is a login, never published);
    2. the site's own author taxonomy (``cw_author``, ``writer``, ``contributor``…), whose
       term names are display names;
    3. a byline written in the content ("Author(s): A, B", "By A and B");
    4. what the reader found in the record or page: ``_embed``'s author, a page's JSON-LD
       author, theme byline or author box, a text copy's "by" line;
    5. an SEO plugin's author (Yoast, Rank Math, All in One SEO heads and schema);
    6. the WordPress user the record names by id, through a users listing.

    ``coauthors/v1`` falls back to the WordPress user when a post has no co-author terms,
    so it only outranks the content's byline when terms exist.
    """
    byline = idx.byline(doc.site, doc.wp_id) if doc.wp_id is not None else None
    if byline and (doc.coauthor_ids or doc.term_slugs.get("author")):
        return byline
    coauthor_slugs = [idx.term_slug(doc.site, "author", tid) for tid in doc.coauthor_ids]
    coauthor_slugs += doc.term_slugs.get("author", [])
    if coauthor_slugs:
        names: list[str] = []
        for slug in coauthor_slugs:
            display = idx.coauthor_display(doc.site, slug) if slug else None
            if display is None:
                names = []
                break  # a login is never published: fall back to a byline we can trust
            names.append(display)
        if names:
            return names
    own = [n for tax in sorted(terms) if AUTHOR_TAXONOMY.match(tax) for n in terms[tax]]
    if own:
        return own
    if cleaned.labels.get("authors"):
        return cleaned.labels["authors"]
    if byline:
        return byline
    if doc.authors:
        return doc.authors
    if doc.seo_authors:
        return doc.seo_authors
    names = [n for n in (idx.user(doc.site, i) for i in doc.author_ids) if n]
    if not names and doc.author_login:
        display = idx.coauthor_display(doc.site, doc.author_login)
        names = [display] if display else []
    return names


def _resolve_terms(doc: Document, idx: LookupIndex, cleaned: Cleaned) -> dict[str, list[str]]:
    terms: dict[str, list[str]] = {}
    taxonomies = set(doc.terms) | set(doc.term_ids) | set(doc.term_slugs)
    taxonomies |= {t for t in cleaned.labels if t != "authors"}
    for tax in sorted(taxonomies):
        if tax == "author":
            continue  # co-author terms are authors, resolved above
        names = [n for n in (clean_inline(x) for x in doc.terms.get(tax, [])) if n]
        unresolved_ids = False
        for tid in doc.term_ids.get(tax, []):
            name = idx.term(doc.site, tax, tid)
            if name:
                names.append(name)
            else:
                unresolved_ids = True
        for slug in doc.term_slugs.get(tax, []):
            name = idx.term_by_slug(doc.site, tax, slug)
            if name is None and (unresolved_ids or not doc.term_ids.get(tax)):
                name = humanize_slug(slug)  # last resort: the slug is all we have
            if name:
                names.append(name)
        names.extend(cleaned.labels.get(tax, []))
        if unresolved_ids and not names:
            doc.notes.append(f"unresolved {tax} ids {doc.term_ids[tax]}")
        names = _dedupe(names)
        if names:
            terms[tax] = names
    return terms


def enrich_text(doc: Document) -> None:
    """Fill what the clean text alone decides: original_source, word count, language and
    hash. Done once per input, right after cleaning (and cached with it)."""
    m = _ORIGINAL.search(doc.content_text[:3000])
    doc.original_source = m.group("src").strip(" ,") if m else None
    doc.word_count = len(_WORD.findall(doc.content_text))
    doc.language = detect_language(doc.content_text)
    doc.content_sha256 = sha256_text(doc.content_text) if doc.content_text else None


def enrich_document(
    doc: Document, idx: LookupIndex, profiles: ProfileSet, cleaned: Cleaned
) -> None:
    """Fill title, authors, terms and dates with what the whole input set knows (users and
    terms by id); :func:`enrich_text` has filled the rest."""
    plist = profiles_for(doc, profiles)
    site_names = [doc.site_name] if doc.site_name else []
    suffixes = [
        *profiles.all_title_suffixes(),
        *[p.site_name for p in plist if p.site_name],
        *site_names,
    ]
    title = clean_inline(doc.title_raw) or clean_inline(doc.head_title)
    if doc.site is None:
        # A copy that lost its URL still names its site in the title suffix.
        head = clean_inline(doc.head_title) or title or ""
        for profile in profiles.sites:
            if profile.domains and any(head.endswith(sfx) for sfx in profile.title_suffixes):
                doc.site = profile.domains[0]
                break
    if title and doc.is_protected:
        title = _PROTECTED_PREFIX.sub("", title) or title  # WordPress's "Protected: %s"
    doc.title = strip_site_suffix(title, suffixes) if title else None
    doc.terms = _resolve_terms(doc, idx, cleaned)
    doc.authors = _dedupe(
        [n for n in (clean_inline(a) for a in _resolve_authors(doc, idx, cleaned, doc.terms)) if n]
    )
    doc.published_at = parse_date(doc.published_raw, doc.published_is_gmt)
    doc.modified_at = parse_date(doc.modified_raw, doc.modified_is_gmt)
    if doc.modified_at and doc.published_at and doc.modified_at < doc.published_at:
        doc.modified_at = doc.published_at
    if doc.slug is None and doc.url:
        tail = doc.url.rstrip("/").rsplit("/", 1)[-1]
        doc.slug = tail if tail and "?" not in tail and "." not in tail else None
    doc.is_excerpt_only = bool(doc.is_excerpt_only or cleaned.excerpt_cut or doc.truncated)
    if not doc.content_text and doc.excerpt:
        doc.is_excerpt_only = True
