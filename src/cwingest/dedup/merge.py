"""Merge one group of documents into one post row, and write each member's lineage row.

Rule (README "Canonical rule"): the canonical document is the first of the post's
*primary* members by :func:`cwingest.dedup.clusters.canonical_rank` (full text before
excerpts, richest format, newest modification, longest text). A repost's documents are
members of the post (``post_sources`` lists them) but never a source of its fields, so
the row describes one post, and dropping the ``repost`` rows undoes the merge.

Over the primary members: the identity fields (site, wp_id, post_type, status, url,
slug) come from one coherent copy, the best-ranked one that states a WordPress id (else
a URL) and the copies naming the same post; text from the canonical; title and authors
from the best-ranked copy that has them; terms as the union; publication as the earliest
date (a date-only value yields to a precise time of about the same day); modification as
the latest.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from cwingest.dedup.clusters import LISTING_FORMATS, DocKey, normalize_url
from cwingest.models import Document
from cwingest.util import slugify

CORE_TAXONOMIES = {"issue": "issues", "category": "categories", "post_tag": "tags"}


def anchor_of(members: list[DocKey]) -> DocKey:
    """The member a post's id is derived from: the first seen, full texts before teasers,
    then the smallest doc_id.

    Copies that arrive later are never first seen, so they join a post without changing
    its id; the id depends only on the raw archive, so a backfill gives the same ids.
    Only a post's primary members are given (never a repost of it), so merging reposts
    or keeping them apart never changes the original's id.
    """
    return min(
        members,
        key=lambda m: (
            m.fetched_at.timestamp() if m.fetched_at else 0.0,
            m.is_excerpt_only or m.source_format in LISTING_FORMATS,
            m.doc_id,
        ),
    )


def post_id_for(members: list[DocKey]) -> str:
    """Stable id of a post: a hash of its anchor document's id (raw sha256 and position)."""
    return hashlib.sha256(("doc:" + anchor_of(members).doc_id).encode()).hexdigest()[:20]


def _union_names(lists: list[list[str]]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for names in lists:
        for n in names:
            key = slugify(n) or n.casefold()
            if key not in seen:
                seen.add(key)
                out.append(n)
    return out


def _date_only(value: datetime) -> bool:
    return value.time() == value.time().min


def earliest(values: list[datetime]) -> datetime | None:
    """The earliest date; a date-only value (midnight) yields to a precise time that day.

    A listing page says "March 13, 2019" where the REST record says 14:32 that day: the
    post was not published at midnight. The day is the site's local one, so a precise
    time from 14 hours before to 38 hours after that midnight (UTC) is the same day.
    """
    if not values:
        return None
    first = min(values)
    if not _date_only(first):
        return first
    window = [
        v
        for v in values
        if not _date_only(v) and first - timedelta(hours=14) <= v < first + timedelta(hours=36)
    ]
    return min(window) if window else first


def _first(values: list[Any]) -> Any:
    return next((v for v in values if v not in (None, "", [])), None)


def _coherent(docs: list[Document]) -> list[Document]:
    """The copies that name one and the same post: the best-ranked one stating a WordPress
    id (else a URL), then every copy naming that id (or URL)."""
    lead = next((d for d in docs if d.wp_id is not None and d.site), None)
    if lead is not None:
        return [d for d in docs if d.site == lead.site and d.wp_id == lead.wp_id]
    lead = next((d for d in docs if normalize_url(d.url)), None)
    if lead is not None:
        url = normalize_url(lead.url)
        return [d for d in docs if normalize_url(d.url) == url]
    return docs[:1]


def merge_group(post_id: str, docs: list[Document], primary: list[bool]) -> dict[str, Any]:
    """The ``posts`` row for a group (``docs`` in canonical order; ``primary`` says which
    are the post itself rather than a repost of it)."""
    canon = docs[0]
    own = [d for d, p in zip(docs, primary, strict=True) if p] or docs[:1]
    ident = _coherent(own)
    published = [d.published_at for d in own if d.published_at]
    modified = [d.modified_at for d in own if d.modified_at]
    fetched = [d.fetched_at for d in docs if d.fetched_at]
    terms: dict[str, list[str]] = {}
    for tax in sorted({t for d in own for t in d.terms}):
        terms[tax] = _union_names([d.terms.get(tax, []) for d in own])
    other = [
        {"taxonomy": tax, "name": name}
        for tax, names in terms.items()
        if tax not in CORE_TAXONOMIES
        for name in names
    ]
    first_seen: datetime | None = min(fetched) if fetched else None
    protected = any(d.is_protected for d in own)
    return {
        "post_id": post_id,
        "site": _first([d.site for d in ident]) or _first([d.site for d in own]),
        "wp_id": _first([d.wp_id for d in ident]),
        "post_type": _first([d.post_type for d in ident]),
        "status": _first([d.status for d in ident]),
        "url": _first([d.url for d in ident]),
        "slug": _first([d.slug for d in ident]),
        "title": _first([d.title for d in own]),
        "authors": _first([d.authors for d in own]) or [],
        "issues": terms.get("issue", []),
        "categories": terms.get("category", []),
        "tags": terms.get("post_tag", []),
        "other_terms": other,
        "published_at": earliest(published),
        "modified_at": max(modified) if modified else None,
        "excerpt": None if protected else _first([d.excerpt for d in own]),
        "content_text": "" if protected else canon.content_text,
        "content_html": "" if protected else canon.content_html or "",
        "word_count": 0 if protected else canon.word_count,
        "language": None if protected else canon.language or _first([d.language for d in own]),
        "is_excerpt_only": all(d.is_excerpt_only for d in own),
        "is_protected": protected,
        "original_source": None if protected else _first([d.original_source for d in own]),
        "content_sha256": None if protected else canon.content_sha256,
        "source_count": len(docs),
        "first_seen_at": first_seen,
        "last_seen_at": max(fetched) if fetched else None,
        "deleted_at": None,
        "deleted_reason": None,
    }


def source_row(
    post_id: str, doc: Document, relation: str, similarity: float | None
) -> dict[str, Any]:
    """The ``post_sources`` row of one member."""
    return {
        "post_id": post_id,
        "raw_id": doc.raw_id,
        "doc_index": doc.index,
        "source_uri": doc.source_uri,
        "source_format": doc.source_format,
        "relation": relation,
        "similarity": similarity,
        "site": doc.site,
        "wp_id": doc.wp_id,
        "post_type": doc.post_type,
        "status": doc.status,
        "url": doc.url,
        "title": doc.title,
        "published_at": doc.published_at,
        "modified_at": doc.modified_at,
        "is_excerpt_only": doc.is_excerpt_only,
        "word_count": doc.word_count,
        "content_sha256": doc.content_sha256,
        "fetched_at": doc.fetched_at,
    }
