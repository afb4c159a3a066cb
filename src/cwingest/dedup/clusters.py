"""Group documents that are the same post, and pick each group's canonical document.

Two kinds of evidence join documents (union-find, so groups are transitive):


* strong identities a document states about itself: the WordPress id on its site, its
  canonical URL, its GUID;
* soft evidence from content: identical clean text, the same title on the same day,
  a near-duplicate text (MinHash) or a text contained in another (an excerpt).

Strong identities join first. Soft evidence then joins groups that name different posts
of one site only when it is substantial: a shared text of at least ``SUBSTANTIAL_WORDS``
words is a repost (WordPress sites do republish posts under a new id), while a shared
title, or a short shared text, is not enough to say two posts are one.
Only compact keys are held in memory. Groups, their order and their canonical member
depend only on the documents, never on the order they arrived in.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from cwingest.util import unwrap_wayback

# How much a format usually knows about a post, richest first (canonical rule tie-break).
FORMAT_RICHNESS = {
    "wp_rest_json": 5,
    "wxr": 5,
    "html": 4,
    "warc_html": 4,
    "warc_wp_rest_json": 4,
    "feed": 3,
    "text": 2,
    "html_listing": 1,
    "warc_html_listing": 1,
    "text_listing": 1,
}


@dataclass(slots=True)
class DocKey:
    """What grouping needs to know about one document (compact: no text)."""

    doc_id: str
    content_sha256: str | None
    site: str | None
    wp_id: int | None
    url: str | None
    source_format: str
    is_excerpt_only: bool
    modified_at: datetime | None
    word_count: int
    fetched_at: datetime | None = None
    guid: str | None = None
    title: str | None = None
    published_at: datetime | None = None
    slug: str | None = None
    keys: list[str] = field(default_factory=list)


def normalize_url(url: str | None) -> str | None:
    """Canonical form of a post URL: https, no www, no query/fragment, no trailing slash."""
    if not url:
        return None
    try:
        p = urlsplit(unwrap_wayback(url.strip()))
    except ValueError:
        return None
    if p.scheme not in ("http", "https") or not p.hostname:
        return None
    host = p.hostname.lower().removeprefix("www.")
    if "p=" in p.query or "page_id=" in p.query:  # ?p=123 is the identity, keep it
        return urlunsplit(("https", host, p.path or "/", p.query, ""))
    return urlunsplit(("https", host, p.path.rstrip("/") or "/", "", ""))


def normalize_title(title: str | None) -> str | None:
    """Title reduced to lower-case letters and digits (quotes, dashes, case don't count)."""
    if not title:
        return None
    folded = unicodedata.normalize("NFKD", title).casefold()
    words = re.findall(r"[^\W_]+", folded)
    return " ".join(words) or None


def strong_keys(d: DocKey) -> list[str]:
    """Identities a document states: WordPress id on a site, canonical URL, GUID."""
    keys = []
    if d.site and d.wp_id is not None:
        keys.append(f"wp:{d.site}:{d.wp_id}")
    url = normalize_url(d.url)
    if url:
        keys.append("url:" + url)
    guid = normalize_url(d.guid) if d.guid and "://" in d.guid else d.guid
    if guid:
        keys.append("guid:" + guid)
    return keys


def soft_keys(d: DocKey) -> list[str]:
    """Content evidence: the same text, the same title the same day, a distinctive slug.

    A slug of four words or more survives a move between domains unchanged
    (``/practice/why-we-are-here/`` and ``/cw_post/why-we-are-here/``) and is rarely reused.
    """
    keys = []
    if d.content_sha256:
        keys.append("sha:" + d.content_sha256)
    title = normalize_title(d.title)
    if title and d.published_at and len(title) >= 12:
        keys.append(f"titleday:{title}|{d.published_at.date().isoformat()}")
    if d.slug and len(d.slug) >= 16 and d.slug.count("-") >= 3 and not d.slug.isdigit():
        keys.append("slug:" + d.slug.lower())
    return keys


class UnionFind:
    """Disjoint sets over strings; the representative is the smallest member (stable)."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        """The representative of ``x``'s set."""
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        """Join the sets of ``a`` and ``b``."""
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            lo, hi = (ra, rb) if ra < rb else (rb, ra)
            self.parent[hi] = lo


_RULES = {
    # criterion -> sort key part (smaller sorts first, i.e. is preferred)
    "full_text": lambda d: d.is_excerpt_only,
    "richest": lambda d: -FORMAT_RICHNESS.get(d.source_format, 0),
    "newest": lambda d: -(d.modified_at.timestamp() if d.modified_at else float("-inf")),
    "oldest": lambda d: d.modified_at.timestamp() if d.modified_at else float("inf"),
    "longest": lambda d: -d.word_count,
    "first_seen": lambda d: d.fetched_at.timestamp() if d.fetched_at else float("inf"),
}
CANONICAL_CRITERIA = tuple(_RULES)
DEFAULT_RULE = ("full_text", "richest", "newest", "longest")


def canonical_rank(d: DocKey, rule: tuple[str, ...] = DEFAULT_RULE) -> tuple[object, ...]:
    """Sort key under a canonical rule: the best document first; ``doc_id`` breaks ties."""
    return (*(_RULES[c](d) for c in rule), d.doc_id)


SUBSTANTIAL_WORDS = 30

# What a group says it is: per site, the WordPress ids (as text) and the URLs it names.
Identity = tuple[dict[str, set[str]], dict[str, set[str]]]


def _identity(d: DocKey) -> Identity:
    wp = {d.site: {str(d.wp_id)}} if d.site and d.wp_id is not None else {}
    url = normalize_url(d.url)
    urls = {d.site: {url}} if d.site and url else {}
    return wp, urls


def _union(a: dict[str, set[str]], b: dict[str, set[str]]) -> dict[str, set[str]]:
    out = {k: set(v) for k, v in a.items()}
    for site, values in b.items():
        out.setdefault(site, set()).update(values)
    return out


def _disjoint_on_a_site(a: dict[str, set[str]], b: dict[str, set[str]]) -> bool:
    return any(site in a and not (a[site] & values) for site, values in b.items())


def _conflict(a: Identity, b: Identity) -> bool:
    """Two groups that name different posts of one site must never merge on content."""
    return _disjoint_on_a_site(a[0], b[0]) or _disjoint_on_a_site(a[1], b[1])


def cluster(
    docs: list[DocKey],
    content_pairs: Iterable[tuple[int, int]] = (),
    rule: tuple[str, ...] = DEFAULT_RULE,
) -> dict[str, list[DocKey]]:
    """Group documents; returns representative -> members, canonical first.

    Args:
        docs: the documents' keys.
        content_pairs: index pairs into ``docs`` that content similarity joins (near
            duplicates, excerpts); soft evidence, like identical text.
        rule: the canonical rule (criteria of :data:`CANONICAL_CRITERIA`, in order).
    """
    uf = UnionFind()
    soft: dict[str, list[str]] = {}
    for d in docs:
        node = "doc:" + d.doc_id
        uf.find(node)
        d.keys = strong_keys(d)
        for k in d.keys:
            uf.union(node, k)
        for k in soft_keys(d):
            soft.setdefault(k, []).append(node)
    idents: dict[str, Identity] = {}
    for d in docs:
        root = uf.find("doc:" + d.doc_id)
        have, new = idents.get(root, ({}, {})), _identity(d)
        idents[root] = (_union(have[0], new[0]), _union(have[1], new[1]))

    words = {"doc:" + d.doc_id: d.word_count for d in docs}

    def join(a: str, b: str, substantial: bool) -> None:
        ra, rb = uf.find(a), uf.find(b)
        if ra == rb or (not substantial and _conflict(idents[ra], idents[rb])):
            return
        merged = (_union(idents[ra][0], idents[rb][0]), _union(idents[ra][1], idents[rb][1]))
        uf.union(ra, rb)
        idents[uf.find(ra)] = merged

    # (a, b, is content evidence) for every soft link, processed in a fixed order.
    edges: set[tuple[str, str, bool]] = set()
    for key, nodes in soft.items():
        first, *rest = sorted(nodes)
        edges.update((first, n, key.startswith("sha:")) for n in rest)
    for i, j in content_pairs:
        a, b = sorted(("doc:" + docs[i].doc_id, "doc:" + docs[j].doc_id))
        edges.add((a, b, True))
    for a, b, by_content in sorted(edges):
        join(a, b, by_content and min(words[a], words[b]) >= SUBSTANTIAL_WORDS)
    groups: dict[str, list[DocKey]] = {}
    for d in docs:
        groups.setdefault(uf.find("doc:" + d.doc_id), []).append(d)
    for group in groups.values():
        group.sort(key=lambda d: canonical_rank(d, rule))
    return groups
