"""Group documents that are the same post, and pick each group's canonical document.

Documents are joined (union-find, so groups are transitive) when they share an identity
key: identical clean text, the same WordPress id on the same site, the same canonical
URL. Only compact keys are held in memory, never texts. Groups and their order depend
only on the documents, never on input order.
"""

from __future__ import annotations

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
    "text": 2,
    "html_listing": 1,
    "text_listing": 1,
}


@dataclass(slots=True)
class DocKey:
    """What clustering needs to know about one document (compact)."""

    doc_id: str
    content_sha256: str | None
    site: str | None
    wp_id: int | None
    url: str | None
    source_format: str
    is_excerpt_only: bool
    modified_at: datetime | None
    word_count: int
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


def identity_keys(d: DocKey) -> list[str]:
    """Keys that, shared by two documents, make them one post."""
    keys = []
    if d.content_sha256:
        keys.append("sha:" + d.content_sha256)
    if d.site and d.wp_id is not None:
        keys.append(f"wp:{d.site}:{d.wp_id}")
    url = normalize_url(d.url)
    if url:
        keys.append("url:" + url)
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


def canonical_rank(d: DocKey) -> tuple[object, ...]:
    """Sort key: the best document first (full text, richest format, newest, longest)."""
    modified = d.modified_at.timestamp() if d.modified_at else float("-inf")
    return (
        d.is_excerpt_only,
        -FORMAT_RICHNESS.get(d.source_format, 0),
        -modified,
        -d.word_count,
        d.doc_id,
    )


# What a group of documents says it is: per site, the WordPress ids (as text) and the URLs.
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
    """Two groups that name different posts of one site must never merge on text alone."""
    return _disjoint_on_a_site(a[0], b[0]) or _disjoint_on_a_site(a[1], b[1])


def cluster(docs: Iterable[DocKey]) -> dict[str, list[DocKey]]:
    """Group documents; returns representative -> members, canonical first.

    Strong identities (WordPress id on a site, canonical URL) join first. Identical text
    then joins groups, unless they name different posts of the same site (two listing
    teasers, or two short posts, can share a text and still be two posts).
    """
    uf = UnionFind()
    members: list[DocKey] = []
    by_text: dict[str, list[str]] = {}
    for d in docs:
        d.keys = identity_keys(d)
        node = "doc:" + d.doc_id
        uf.find(node)
        for k in d.keys:
            if k.startswith("sha:"):
                by_text.setdefault(k, []).append(node)
            else:
                uf.union(node, k)
        members.append(d)
    idents: dict[str, Identity] = {}
    for d in members:
        root = uf.find("doc:" + d.doc_id)
        have, new = idents.get(root, ({}, {})), _identity(d)
        idents[root] = (_union(have[0], new[0]), _union(have[1], new[1]))
    for key in sorted(by_text):
        nodes = sorted(by_text[key])
        for node in nodes[1:]:
            ra, rb = uf.find(nodes[0]), uf.find(node)
            if ra == rb or _conflict(idents[ra], idents[rb]):
                continue
            merged = (_union(idents[ra][0], idents[rb][0]), _union(idents[ra][1], idents[rb][1]))
            uf.union(ra, rb)
            idents[uf.find(ra)] = merged
    groups: dict[str, list[DocKey]] = {}
    for d in members:
        groups.setdefault(uf.find("doc:" + d.doc_id), []).append(d)
    for group in groups.values():
        group.sort(key=canonical_rank)
    return groups
