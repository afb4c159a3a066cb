"""Merge one group of documents into one post row, and say how each member relates to it.

Rule (README "Canonical post"): the canonical document is the first by
:func:`cwingest.dedup.clusters.canonical_rank` (full text before excerpts, richest format,
newest modification, longest text). Its text is the post's text; metadata is merged from
all members: authors from the best-ranked member that has any, terms as the union, the
earliest publication date, the latest modification date.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any

from cwingest.dedup.clusters import DocKey
from cwingest.models import Document
from cwingest.util import slugify

_WORDS = re.compile(r"\w+")
CORE_TAXONOMIES = {"issue": "issues", "category": "categories", "post_tag": "tags"}


def anchor_of(members: list[DocKey]) -> DocKey:
    """The member a post's id is derived from: the first seen (then the smallest doc_id).

    Copies that arrive later are never first seen, so they join a post without changing
    its id; the id depends only on the raw archive, so a backfill gives the same ids.
    """
    return min(members, key=lambda m: (m.fetched_at.timestamp() if m.fetched_at else 0.0, m.doc_id))


def post_id_for(members: list[DocKey]) -> str:
    """Stable id of a post: a hash of its anchor document's id (raw sha256 and position)."""
    return hashlib.sha256(("doc:" + anchor_of(members).doc_id).encode()).hexdigest()[:20]


def _words(text: str) -> set[str]:
    return set(_WORDS.findall(text.lower()))


def similarity(a: str, b: str, containment: bool = False) -> float:
    """Jaccard similarity of word sets, or containment of ``b`` in ``a``."""
    wa, wb = _words(a), _words(b)
    if not wa or not wb:
        return 0.0
    inter = len(wa & wb)
    if containment:
        return round(inter / len(wb), 4)
    return round(inter / len(wa | wb), 4)


def relation_of(doc: Document, canonical: Document) -> tuple[str, float | None]:
    """How a member relates to the canonical document, with a similarity.

    ``similarity`` is the share of the member's words found in the canonical text for
    ``excerpt_of``, else the Jaccard similarity of their word sets (1.0 when exact).
    """
    if doc is canonical:
        return "canonical", None
    if doc.content_sha256 and doc.content_sha256 == canonical.content_sha256:
        return "exact_duplicate", 1.0
    contained = similarity(canonical.content_text, doc.content_text, containment=True)
    shorter = doc.word_count < 0.8 * canonical.word_count
    if (doc.is_excerpt_only and not canonical.is_excerpt_only) or (shorter and contained >= 0.9):
        return "excerpt_of", contained
    if (
        doc.modified_at
        and canonical.modified_at
        and doc.modified_at < canonical.modified_at
        and doc.wp_id is not None
        and doc.wp_id == canonical.wp_id
    ):
        return "older_version", similarity(canonical.content_text, doc.content_text)
    return "near_duplicate", similarity(canonical.content_text, doc.content_text)


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


def earliest(values: list[datetime]) -> datetime | None:
    """The earliest date; a date-only value (midnight) yields to a precise time that day.

    A listing page says "March 13, 2019" where the REST record says 14:32 that day: the
    post was not published at midnight.
    """
    if not values:
        return None
    first = min(values)
    same_day = [v for v in values if v.date() == first.date() and v.time() != first.time().min]
    return min(same_day) if first.time() == first.time().min and same_day else first


def _first(values: list[Any]) -> Any:
    return next((v for v in values if v not in (None, "", [])), None)


def merge_group(post_id: str, docs: list[Document]) -> dict[str, Any]:
    """The ``posts`` row for a group (``docs`` in canonical order)."""
    canon = docs[0]
    published = [d.published_at for d in docs if d.published_at]
    modified = [d.modified_at for d in docs if d.modified_at]
    fetched = [d.fetched_at for d in docs if d.fetched_at]
    terms: dict[str, list[str]] = {}
    for tax in sorted({t for d in docs for t in d.terms}):
        terms[tax] = _union_names([d.terms.get(tax, []) for d in docs])
    other = [
        {"taxonomy": tax, "name": name}
        for tax, names in terms.items()
        if tax not in CORE_TAXONOMIES
        for name in names
    ]
    first_seen: datetime | None = min(fetched) if fetched else None
    return {
        "post_id": post_id,
        "site": _first([d.site for d in docs]),
        "wp_id": _first([d.wp_id for d in docs]),
        "post_type": _first([d.post_type for d in docs]),
        "status": _first([d.status for d in docs]),
        "url": _first([d.url for d in docs]),
        "slug": _first([d.slug for d in docs]),
        "title": _first([d.title for d in docs]),
        "authors": _first([d.authors for d in docs]) or [],
        "issues": terms.get("issue", []),
        "categories": terms.get("category", []),
        "tags": terms.get("post_tag", []),
        "other_terms": other,
        "published_at": earliest(published),
        "modified_at": max(modified) if modified else None,
        "excerpt": _first([d.excerpt for d in docs]),
        "content_text": canon.content_text,
        "content_html": canon.content_html or "",
        "word_count": canon.word_count,
        "language": canon.language or _first([d.language for d in docs]),
        "is_excerpt_only": all(d.is_excerpt_only for d in docs),
        "original_source": _first([d.original_source for d in docs]),
        "content_sha256": canon.content_sha256,
        "source_count": len(docs),
        "first_seen_at": first_seen,
        "last_seen_at": max(fetched) if fetched else None,
        "deleted_at": None,
    }


def source_row(post_id: str, doc: Document, canonical: Document) -> dict[str, Any]:
    """The ``post_sources`` row of one member."""
    relation, sim = relation_of(doc, canonical)
    return {
        "post_id": post_id,
        "raw_id": doc.raw_id,
        "doc_index": doc.index,
        "source_uri": doc.source_uri,
        "source_format": doc.source_format,
        "relation": relation,
        "similarity": sim,
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
