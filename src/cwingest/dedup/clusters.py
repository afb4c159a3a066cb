"""Group documents that are the same post, without ever merging two posts.

A false merge deletes a post and corrupts another, a missed duplicate only leaves two
rows: every rule here errs towards two rows. The grouping runs in four steps, each a
function of the documents alone (never of the order they arrived in):

1. **Identity units.** Documents that state the same WordPress id on a site, the same
   canonical URL or the same GUID are one post. Ids come first; a URL or GUID joins two
   documents only when their ids (or, without ids, their URLs) do not disagree, so a
   GUID copied onto another post (imports do this) never joins two posts.
2. **Full texts** (units with a comparable full text) join on content, *star-shaped*:
   two groups merge only when every unit of the result is near its canonical text
   (Jaccard of informative shingles at ``near_threshold``), so a chain of weak links
   can never pull unrelated posts together. Groups that name different posts of one
   site (different ids or URLs: a *cannot-link*) merge only as a **repost**: both texts
   near-identical (``repost_threshold``) and long enough to tell (``repost_min_words``
   after boilerplate).
3. **Teasers and partial copies** (listing entries, excerpts, cut-off records, short
   texts, and copies without identity that hold part of a text) attach to the *one*
   group that contains them (containment at ``containment_threshold``), or whose title
   and day, or distinctive slug, they share when their text is too short to compare.
   Several candidates are narrowed by title, then by day; still several: the teaser
   stays a post of its own. A teaser never joins two groups together, and one that
   states its own id joins only as a teaser post (a repost) of the one post holding it.
4. Teasers left over group among themselves on the same evidence.

Finally each group's canonical document is chosen by the canonical rule among its
*primary* members (a repost's copies are members, not sources of the post's fields),
and every member gets its relation to it and its measured similarity.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from cwingest.dedup.similarity import DedupConfig, Similarity
from cwingest.parse.base import format_ranks
from cwingest.parse.registry import READERS
from cwingest.util import release_memory, unwrap_wayback

# How much a format usually knows about a post, richest first (canonical rule tie-break):
# each reader declares the formats it gives (``FORMATS``).
FORMAT_RICHNESS = format_ranks(READERS)
LISTING_FORMATS = frozenset(f for f, rank in FORMAT_RICHNESS.items() if rank == 1)

RELATIONS = (
    "canonical",
    "exact_duplicate",
    "near_duplicate",
    "excerpt_of",
    "older_version",
    "same_identity",
    "metadata_match",
    "repost",
)


@dataclass(slots=True)
class DocKey:
    """What grouping needs to know about one document (compact: no text)."""

    doc_id: str
    content_sha256: bytes | None  # the first 16 bytes of the text's sha256 (equality only)
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
    post_type: str | None = None


def normalize_url(url: str | None) -> str | None:
    """Canonical form of a post URL: https, no www, no query/fragment, no trailing slash;
    a port other than 80 and 443 is kept (it is another site)."""
    if not url:
        return None
    try:
        p = urlsplit(unwrap_wayback(url.strip()))
    except ValueError:
        return None
    if p.scheme not in ("http", "https") or not p.hostname:
        return None
    host = p.hostname.lower().removeprefix("www.")
    try:
        port = p.port
    except ValueError:
        return None
    if port not in (None, 80, 443):  # another port of one host is another site
        host = f"{host}:{port}"
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


def distinctive_slug(slug: str | None) -> str | None:
    """A slug of four words or more: it survives a move between domains and is rarely reused."""
    if slug and len(slug) >= 16 and slug.count("-") >= 3 and not slug.isdigit():
        return slug.lower()
    return None


_NUMBERED = re.compile(
    r"^(?:\d+\w*|[ivxlc]+|part|parts|pt|episode|ep|chapter|vol|volume|no|number|issue|"
    r"one|two|three|four|five|six|seven|eight|nine|ten|first|second|third|fourth|fifth|last)$"
)


def titles_related(a: str | None, b: str | None) -> bool:
    """True when one title is (mostly) the other: "X", "Repost: X", "X (Updated)".

    Reposts keep their title or decorate it; two posts that share a templated text
    ("Album" and "Single" of a shop) have titles of their own, and the parts of a series
    ("X (Part 2)", "X, Part 3", "2016 in Review" and "2017 in Review") differ in a
    number: never related.
    """
    ta, tb = normalize_title(a), normalize_title(b)
    if not ta or not tb:
        return False
    wa, wb = set(ta.split()), set(tb.split())
    if any(_NUMBERED.match(w) for w in wa ^ wb):
        return False
    shorter = wa if len(wa) <= len(wb) else wb
    return len(wa & wb) >= 0.6 * len(shorter)


_RULES: dict[str, Callable[[DocKey], object]] = {
    # criterion -> sort key part (smaller sorts first, i.e. is preferred)
    "full_text": lambda d: d.is_excerpt_only or d.source_format in LISTING_FORMATS,
    "richest": lambda d: -FORMAT_RICHNESS.get(d.source_format, 0),
    # the latest modification; among equals (or none known), the latest capture
    "newest": lambda d: (
        -(d.modified_at.timestamp() if d.modified_at else float("-inf")),
        -(d.fetched_at.timestamp() if d.fetched_at else float("-inf")),
    ),
    "oldest": lambda d: d.modified_at.timestamp() if d.modified_at else float("inf"),
    "longest": lambda d: -d.word_count,
    "first_seen": lambda d: d.fetched_at.timestamp() if d.fetched_at else float("inf"),
}
CANONICAL_CRITERIA = tuple(_RULES)
DEFAULT_RULE = ("full_text", "richest", "newest", "longest")


def canonical_rank(d: DocKey, rule: tuple[str, ...] = DEFAULT_RULE) -> tuple[object, ...]:
    """Sort key under a canonical rule: the best document first; ``doc_id`` breaks ties."""
    return (*(_RULES[c](d) for c in rule), d.doc_id)


# -- identities --------------------------------------------------------------------------


@dataclass
class Identity:
    """What a group of documents says it is, per site: WordPress ids and URLs."""

    wp: dict[str, set[int]] = field(default_factory=dict)
    urls: dict[str, set[str]] = field(default_factory=dict)
    guid: bool = False

    @staticmethod
    def of(d: DocKey, url: str | None = None) -> Identity:
        """The identity one document states (``url``: its normalised URL, if known)."""
        ident = Identity()
        if d.site and d.wp_id is not None:
            ident.wp[d.site] = {d.wp_id}
        url = url or normalize_url(d.url)
        if url:
            ident.urls[urlsplit(url).netloc] = {url}
        ident.guid = bool(d.guid)
        return ident

    def stated(self) -> bool:
        """True when the group states any identity (id, URL or GUID)."""
        return bool(self.wp or self.urls or self.guid)

    def conflicts(self, other: Identity) -> bool:
        """True when the two name different posts of one site.

        Per site: different WordPress ids; or, where either side has no id there, URLs
        that share nothing.
        """
        for site, ids in self.wp.items():
            theirs = other.wp.get(site)
            if theirs and not ids & theirs:
                return True
        for site, urls in self.urls.items():
            their_urls = other.urls.get(site)
            both_have_ids = site in self.wp and site in other.wp
            if their_urls and not both_have_ids and not urls & their_urls:
                return True
        return False

    def merged(self, other: Identity) -> Identity:
        """The union of two identities."""
        out = Identity({k: set(v) for k, v in self.wp.items()}, {}, self.guid or other.guid)
        out.urls = {k: set(v) for k, v in self.urls.items()}
        for site, ids in other.wp.items():
            out.wp.setdefault(site, set()).update(ids)
        for site, urls in other.urls.items():
            out.urls.setdefault(site, set()).update(urls)
        return out


class UnionFind:
    """Disjoint sets over integers; the representative is the smallest member (stable)."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        """The representative of ``x``'s set."""
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int) -> int:
        """Join the sets of ``a`` and ``b``; returns the new representative."""
        ra, rb = self.find(a), self.find(b)
        lo, hi = (ra, rb) if ra < rb else (rb, ra)
        self.parent[hi] = lo
        return lo


def _identity_keys(d: DocKey) -> list[tuple[int, str]]:
    """The keys a document states: (0, site:wp id), (1, canonical URL), (2, GUID)."""
    keys: list[tuple[int, str]] = []
    if d.site and d.wp_id is not None:
        keys.append((0, f"{d.site}:{d.wp_id}"))
    url = normalize_url(d.url)
    if url:
        keys.append((1, url))
    if d.guid:
        guid = normalize_url(d.guid) if "://" in d.guid else d.guid.strip()
        if guid:
            keys.append((2, guid))
    return keys


def _shared_keys(docs: list[DocKey]) -> dict[tuple[int, str], list[int]]:
    """The identity keys stated by two documents or more, with their documents.

    Keys are hashed into arrays first and only those whose hash repeats are spelled out
    again (and compared as strings): memory holds three integers per key, not a
    dictionary of every document's URLs and ids."""
    kinds, hashes, owners = array("q"), array("q"), array("q")
    for i, d in enumerate(docs):
        for kind, key in _identity_keys(d):
            kinds.append(kind)
            hashes.append(hash(key))
            owners.append(i)
    shared: dict[tuple[int, str], list[int]] = {}
    if not owners:
        return shared
    k = np.frombuffer(kinds, dtype=np.int64)
    h = np.frombuffer(hashes, dtype=np.int64)
    o = np.frombuffer(owners, dtype=np.int64)
    order = np.lexsort((o, h, k))
    k, h, o = k[order], h[order], o[order]
    starts = np.flatnonzero(np.r_[True, (k[1:] != k[:-1]) | (h[1:] != h[:-1])])
    ends = np.r_[starts[1:], len(k)]
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        if b - a < 2:
            continue
        kind = int(k[a])
        for i in o[a:b].tolist():
            for key_kind, key in _identity_keys(docs[i]):
                if key_kind == kind:
                    shared.setdefault((kind, key), []).append(i)
    return {key: members for key, members in shared.items() if len(members) > 1}


def identity_units(docs: list[DocKey]) -> list[int]:
    """Each document's unit (the smallest document number of its unit).

    WordPress ids join unconditionally; canonical URLs, then GUIDs, join only groups whose
    identities do not conflict (processed in a fixed order of keys and documents).
    """
    uf = UnionFind(len(docs))
    # identities of the groups joined so far; a document alone states its own (made when
    # a key it shares is checked, so memory holds only those of documents that share one)
    joined: dict[int, Identity] = {}

    def ident(root: int) -> Identity:
        found = joined.get(root)
        return found if found is not None else Identity.of(docs[root])

    for (kind, _key), members in sorted(_shared_keys(docs).items()):
        members.sort(key=lambda i: docs[i].doc_id)
        for other in members[1:]:
            ra, rb = uf.find(members[0]), uf.find(other)
            if ra == rb:
                continue
            if kind and ident(ra).conflicts(ident(rb)):
                continue
            merged = ident(ra).merged(ident(rb))
            joined.pop(ra, None)
            joined.pop(rb, None)
            joined[uf.union(ra, rb)] = merged
    return [uf.find(i) for i in range(len(docs))]


# -- the grouping ------------------------------------------------------------------------


@dataclass
class Post:
    """One group: member documents (canonical first) with their relations."""

    members: list[int]
    relations: list[str]
    similarities: list[float | None]
    primary: list[bool]  # False for a repost's documents (not a source of the post's fields)


def _days_apart(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None:
        return None
    return abs((a - b).total_seconds()) / 86400


_CACHED = 10_000  # measures kept (a site of near-identical posts asks for many)
_CACHED_IDENTITIES = 2_048  # an identity is a few dicts and sets: fewer of them are kept


class _Ranks:
    """Each document's canonical rank, computed when asked for (not kept per document)."""

    def __init__(self, docs: list[DocKey], rule: tuple[str, ...]) -> None:
        self._docs = docs
        self._rule = rule

    def __getitem__(self, i: int) -> tuple[object, ...]:
        return canonical_rank(self._docs[i], self._rule)


class _UnitIdentities(dict[int, Identity]):
    """Identity of each unit, made from its documents when asked for and kept in a bounded
    cache (most units are one document no candidate pair names)."""

    def __init__(self, docs: list[DocKey], units: Mapping[int, list[int]]) -> None:
        super().__init__()
        self._docs = docs
        self._units = units

    def __missing__(self, unit: int) -> Identity:
        members = self._units[unit]
        ident = Identity.of(self._docs[members[0]])
        for m in members[1:]:
            ident = ident.merged(Identity.of(self._docs[m]))
        if len(self) >= _CACHED_IDENTITIES:
            self.clear()
        self[unit] = ident
        return ident


class _GroupIdentities(dict[int, Identity]):
    """Identity of each group: stored once groups are joined, else its unit's."""

    def __init__(self, units: _UnitIdentities) -> None:
        super().__init__()
        self._units = units

    def __missing__(self, group: int) -> Identity:
        return self._units[group]


class _UnitMembers(Mapping[int, list[int]]):
    """Each unit's documents (ascending), keyed by unit (its smallest document number).

    Most units are one document: only units of several are stored (the others are
    ``[u]`` when asked for), so memory holds a list per joined unit, not per document.
    """

    def __init__(self, unit_of: list[int]) -> None:
        self._multi: dict[int, list[int]] = {}
        for i, u in enumerate(unit_of):
            if u != i:
                self._multi.setdefault(u, [u]).append(i)
        of = np.asarray(unit_of, dtype=np.int64)
        self.is_unit = of == np.arange(len(of), dtype=np.int64)
        self._ids = np.flatnonzero(self.is_unit)

    def __getitem__(self, u: int) -> list[int]:
        found = self._multi.get(u)
        if found is not None:
            return found
        if 0 <= u < len(self.is_unit) and self.is_unit[u]:
            return [u]
        raise KeyError(u)

    def __iter__(self) -> Iterator[int]:
        return iter(self._ids.tolist())

    def __len__(self) -> int:
        return len(self._ids)


class _GroupUnits:
    """Each group's units, keyed by group (a unit number): a group that is still one unit
    (most) is not stored; groups merged into another are gone."""

    def __init__(self, units: _UnitMembers) -> None:
        self._units = units
        self._joined: dict[int, list[int]] = {}
        self._gone: set[int] = set()

    def __contains__(self, g: object) -> bool:
        return (
            isinstance(g, int)
            and 0 <= g < len(self._units.is_unit)
            and bool(self._units.is_unit[g])
            and g not in self._gone
        )

    def __getitem__(self, g: int) -> list[int]:
        found = self._joined.get(g)
        if found is not None:
            return found
        if g in self:
            return [g]
        raise KeyError(g)

    def __setitem__(self, g: int, units: list[int]) -> None:
        self._gone.discard(g)
        self._joined[g] = units

    def __delitem__(self, g: int) -> None:
        if g not in self:
            raise KeyError(g)
        self._joined.pop(g, None)
        self._gone.add(g)

    def pop(self, g: int, default: list[int] | None = None) -> list[int] | None:
        if g not in self:
            return default
        found = self[g]
        del self[g]
        return found

    def __iter__(self) -> Iterator[int]:
        return (g for g in self._units if g not in self._gone)


class _IntMap:
    """A dict of document number -> document number in one array (-1: no entry), for maps
    that may hold an entry per document (each unit's and group's canonical text)."""

    def __init__(self, n: int) -> None:
        self._a = np.full(n, -1, dtype=np.int64)

    def __contains__(self, k: object) -> bool:
        return isinstance(k, int) and 0 <= k < len(self._a) and self._a[k] >= 0

    def __getitem__(self, k: int) -> int:
        v = int(self._a[k])
        if v < 0:
            raise KeyError(k)
        return v

    def get(self, k: int, default: int | None = None) -> int | None:
        v = int(self._a[k])
        return v if v >= 0 else default

    def __setitem__(self, k: int, v: int) -> None:
        self._a[k] = v

    def __delitem__(self, k: int) -> None:
        if self._a[k] < 0:
            raise KeyError(k)
        self._a[k] = -1

    def pop(self, k: int, default: int | None = None) -> int | None:
        v = self.get(k, default)
        self._a[k] = -1
        return v

    def copy(self) -> _IntMap:
        twin = _IntMap(0)
        twin._a = self._a.copy()
        return twin


class _Grouping:
    """State of one deduplication: units, groups, similarity cache."""

    def __init__(
        self,
        docs: list[DocKey],
        sim: Similarity,
        config: DedupConfig,
        units: list[int] | None = None,
    ) -> None:
        self.docs = docs
        self.sim = sim
        self.cfg = config
        self.rule = config.canonical_rule
        self.rank = _Ranks(docs, self.rule)
        self.unit_of = units if units is not None else identity_units(docs)
        self.units = _UnitMembers(self.unit_of)
        # a unit's identity is made when asked for (in a bounded cache: most units are one
        # document no candidate pair ever names); a group's is stored once groups are joined
        self.unit_ident = _UnitIdentities(docs, self.units)
        self.teaser_posts: set[int] = set()
        self._jac: dict[tuple[int, int], float] = {}
        self._con: dict[tuple[int, int], float] = {}
        self._words_cache: dict[int, int] = {}

    # measures, cached (a cache that reaches _CACHED entries starts again: memory stays
    # bounded where a site has many near-identical posts; results are the same)
    def jaccard(self, a: int, b: int) -> float:
        key = (a, b) if a < b else (b, a)
        found = self._jac.get(key)
        if found is None:
            if len(self._jac) >= _CACHED:
                self._jac.clear()
            found = self._jac[key] = self.sim.jaccard(*key)
        return found

    def containment(self, part: int, whole: int) -> float:
        found = self._con.get((part, whole))
        if found is None:
            if len(self._con) >= _CACHED:
                self._con.clear()
            found = self._con[(part, whole)] = self.sim.containment(part, whole)
        return found

    def best(self, members: list[int]) -> int:
        return min(members, key=lambda m: self.rank[m])

    def is_teaser_doc(self, i: int) -> bool:
        d = self.docs[i]
        return d.is_excerpt_only or d.source_format in LISTING_FORMATS

    def run(self) -> list[Post]:
        cfg = self.cfg
        sizes = self.sim.sizes()
        full_docs = [
            i
            for i in range(len(self.docs))
            if not self.is_teaser_doc(i) and sizes[i] >= cfg.min_shingles
        ]
        full_set = np.zeros(len(self.docs), dtype=bool)
        full_set[full_docs] = True
        # Units with a comparable full text, and each one's representative text.
        self.rep = _IntMap(len(self.docs))
        for u, members in self.units.items():
            fulls = [m for m in members if full_set[m]]
            if fulls:
                self.rep[u] = self.best(fulls)
        self.group = UnionFind(len(self.docs))  # over unit representatives (doc numbers)
        self.g_units = _GroupUnits(self.units)
        self.g_ident = _GroupIdentities(self.unit_ident)
        self.g_canon = self.rep.copy()
        self._full_texts(full_docs)
        del full_docs
        release_memory()  # the pairs of full texts are gone; parts and their index come next
        self._teasers(full_set)
        return self._finish()

    # step 2 -----------------------------------------------------------------------------

    def _full_texts(self, full_docs: list[int]) -> None:
        """Join units whose full texts are equal or near, strongest edge first (ties by
        unit numbers). Edges are kept as arrays: a site with many near-identical posts
        has many."""
        by_sha: dict[bytes, list[int]] = {}
        for i in full_docs:
            sha = self.docs[i].content_sha256
            if sha:
                by_sha.setdefault(sha, []).append(i)
        same_i = [same[0] for same in by_sha.values() for _ in same[1:]]
        same_j = [j for same in by_sha.values() for j in same[1:]]
        del by_sha
        near_i, near_j, near_s = self.sim.near_pair_arrays(full_docs)
        unit_of = np.asarray(self.unit_of, dtype=np.int64)
        ui = unit_of[np.concatenate([np.asarray(same_i, dtype=np.int64), near_i])]
        uj = unit_of[np.concatenate([np.asarray(same_j, dtype=np.int64), near_j])]
        sims = np.concatenate([np.ones(len(same_i)), near_s])
        del unit_of, same_i, same_j, near_i, near_j, near_s
        apart = ui != uj
        lo, hi, sims = np.minimum(ui, uj)[apart], np.maximum(ui, uj)[apart], sims[apart]
        del ui, uj, apart
        if not len(lo):
            return
        # one edge per unit pair, at its highest similarity
        order = np.lexsort((-sims, hi, lo))
        lo, hi, sims = lo[order], hi[order], sims[order]
        first = np.r_[True, (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])]
        lo, hi, sims = lo[first], hi[first], sims[first]
        order = np.lexsort((hi, lo, -sims))
        lo, hi = lo[order], hi[order]
        del order, sims
        for start in range(0, len(lo), 4096):  # Python ints a chunk at a time
            for ua, ub in zip(
                lo[start : start + 4096].tolist(), hi[start : start + 4096].tolist(), strict=True
            ):
                ga, gb = self.group.find(ua), self.group.find(ub)
                if ga != gb and self._may_merge(ga, gb):
                    self._merge(ga, gb)

    def _conflict_pairs(self, units: list[int]) -> list[tuple[int, int]]:
        """Pairs of units that name different posts of one site."""
        return [
            (units[a], units[b])
            for a in range(len(units))
            for b in range(a + 1, len(units))
            if self.unit_ident[units[a]].conflicts(self.unit_ident[units[b]])
        ]

    def _may_merge(self, ga: int, gb: int) -> bool:
        """Star rule and cannot-link: every unit near the new canonical text; units that
        name different posts of one site only as reposts (near-identical, long enough)."""
        cfg = self.cfg
        canon = self.best([self.g_canon[ga], self.g_canon[gb]])
        units = self.g_units[ga] + self.g_units[gb]
        for u in units:
            rep = self.rep[u]
            if rep != canon and self.jaccard(rep, canon) < cfg.near_threshold:
                return False
        if not self.g_ident[ga].conflicts(self.g_ident[gb]):
            return True
        if not cfg.merge_reposts:
            return False
        for a, b in self._conflict_pairs(units):
            ra, rb = self.rep[a], self.rep[b]
            if self.jaccard(ra, rb) < cfg.repost_threshold:
                return False
            da, db = self.docs[ra], self.docs[rb]
            if not titles_related(da.title, db.title):
                return False  # two products or pages filled from one template
            apart = _days_apart(da.published_at, db.published_at)
            if da.post_type == db.post_type and (apart is None or apart < cfg.repost_min_days):
                return False  # a week of sessions or notices (a repost comes later or moves type)
            if min(self._long_words(ra), self._long_words(rb)) < cfg.repost_min_words:
                return False
        return True

    def _long_words(self, i: int) -> int:
        if i not in self._words_cache:
            if len(self._words_cache) >= _CACHED:
                self._words_cache.clear()
            self._words_cache[i] = self.sim.words_after_boilerplate(i)
        return self._words_cache[i]

    def _merge(self, ga: int, gb: int) -> int:
        root = self.group.union(ga, gb)
        other = gb if root == ga else ga
        self.g_units[root] = self.g_units[ga] + self.g_units[gb]
        self.g_ident[root] = self.g_ident[ga].merged(self.g_ident[gb])
        self.g_canon[root] = self.best([self.g_canon[ga], self.g_canon[gb]])
        del self.g_units[other], self.g_canon[other]
        self.g_ident.pop(other, None)
        return root

    # steps 3 and 4 ----------------------------------------------------------------------

    def _teasers(self, full_set: np.ndarray) -> None:
        cfg = self.cfg
        sizes = self.sim.sizes()
        full_groups = sorted(g for g in self.g_units if g in self.g_canon)
        # Parts: units without a comparable full text, and groups of one unit that state no
        # identity (a copy that may hold only part of a post).
        parts = sorted(
            u
            for u in self.units
            if u not in self.rep
            or (
                len(self.g_units[self.group.find(u)]) == 1
                and not self.unit_ident[u].stated()
                and self.group.find(u) == u
            )
        )
        part_units = set(parts)
        wholes = [
            m for g in full_groups for u in self.g_units[g] for m in self.units[u] if full_set[m]
        ]
        part_docs = [m for u in parts for m in self.units[u]]
        contained: dict[int, dict[int, float]] = {}  # part unit -> group -> containment
        for p, w, c in self.sim.containment_pairs(part_docs, wholes):
            up, gw = self.unit_of[p], self.group.find(self.unit_of[w])
            if self.group.find(up) == gw:
                continue
            if up in self.rep and sizes[p] > cfg.excerpt_ratio * sizes[w]:
                continue  # a full copy without identity is near or nothing, not a part
            # Star-shaped like full texts: the part must lie in the group's canonical text.
            c = self.containment(p, self.g_canon[gw])
            if c >= cfg.containment_threshold:
                contained.setdefault(up, {})[gw] = max(contained.get(up, {}).get(gw, 0.0), c)
        titles, slugs = self._metadata_index(full_groups, parts)
        decisions: dict[int, tuple[int, bool]] = {}  # part unit -> (group, is teaser post)
        for u in parts:
            found = self._choose(u, contained.get(u, {}), titles, slugs, part_units)
            if found is not None:
                decisions[u] = found
        # Apply: parts that would bring conflicting identities into one group are refused.
        incoming: dict[int, list[int]] = {}
        for u, (g, _teaser_post) in sorted(decisions.items()):
            incoming.setdefault(g, []).append(u)
        for g, us in sorted(incoming.items()):
            if g in decisions:
                continue  # a part that moves elsewhere itself receives nothing
            # Parts naming different posts of one site cannot all be this post: the best
            # evidenced (same title, then contained, then the first) wins, the rest stay.
            group_titles = self._group_titles(g)
            plain = sorted(
                (u for u in us if not decisions[u][1]),
                key=lambda u: (not self._titles_of(u) & group_titles, -len(self.units[u]), u),
            )
            accepted: list[int] = []
            for u in plain:
                if not any(self.unit_ident[u].conflicts(self.unit_ident[v]) for v in accepted):
                    accepted.append(u)
            for u in sorted(accepted + [u for u in us if decisions[u][1]]):
                if decisions[u][1]:
                    self.teaser_posts.add(u)
                gu = self.group.find(u)
                if gu != self.group.find(g):
                    self._absorb(self.group.find(g), gu)
        self._leftover_teasers(sorted(u for u in parts if u not in self.rep))

    def _absorb(self, g: int, gu: int) -> None:
        """Attach group ``gu`` (a part) to ``g``; the canonical stays a full text."""
        root = self.group.union(g, gu)
        other = gu if root == g else g
        self.g_units[root] = self.g_units[g] + self.g_units[gu]
        self.g_ident[root] = self.g_ident[g].merged(self.g_ident[gu])
        canon = [c for c in (self.g_canon.get(g), self.g_canon.get(gu)) if c is not None]
        if canon:
            self.g_canon[root] = self.best(canon)
        self.g_units.pop(other, None)
        self.g_ident.pop(other, None)
        if other != root:
            self.g_canon.pop(other, None)

    def _metadata_index(
        self, groups: list[int], parts: list[int]
    ) -> tuple[dict[str, list[tuple[int, datetime]]], dict[str, set[int]]]:
        """The groups' documents by normalised title (with their day) and distinctive
        slug, for the titles and slugs the parts state (nothing else is ever looked up)."""
        wanted_titles: set[str] = set()
        wanted_slugs: set[str] = set()
        for u in parts:
            for m in self.units[u]:
                d = self.docs[m]
                if d.published_at and (t := normalize_title(d.title)):
                    wanted_titles.add(t)
                if s := distinctive_slug(d.slug):
                    wanted_slugs.add(s)
        titles: dict[str, list[tuple[int, datetime]]] = {}
        slugs: dict[str, set[int]] = {}
        for g in groups:
            for u in self.g_units[g]:
                for m in self.units[u]:
                    d = self.docs[m]
                    when = d.published_at
                    t = normalize_title(d.title) if when else None
                    if t and when and t in wanted_titles:
                        titles.setdefault(t, []).append((g, when))
                    s = distinctive_slug(d.slug)
                    if s and s in wanted_slugs:
                        slugs.setdefault(s, set()).add(g)
        return titles, slugs

    def _metadata_matches(
        self,
        u: int,
        titles: dict[str, list[tuple[int, datetime]]],
        slugs: dict[str, set[int]],
    ) -> set[int]:
        """Groups sharing a title and day (a day apart at most: local dates) or a slug."""
        found: set[int] = set()
        for m in self.units[u]:
            d = self.docs[m]
            t = normalize_title(d.title)
            if t and d.published_at:
                for g, when in titles.get(t, []):
                    apart = _days_apart(when, d.published_at)
                    if apart is not None and apart < 1.6:
                        found.add(g)
            s = distinctive_slug(d.slug)
            if s:
                found.update(slugs.get(s, set()))
        return {self.group.find(g) for g in found}

    def _disagrees(self, u: int, g: int) -> bool:
        """True when the part has text enough to compare and the group's text is not it."""
        sizes = self.sim.sizes()
        texts = [m for m in self.units[u] if sizes[m] >= self.cfg.min_shingles]
        if not texts:
            return False
        canon = self.g_canon.get(g)
        if canon is None:
            return False
        return max(self.containment(m, canon) for m in texts) < 0.5

    def _titles_of(self, u: int) -> set[str]:
        return {t for m in self.units[u] if (t := normalize_title(self.docs[m].title))}

    def _group_titles(self, g: int) -> set[str]:
        return {t for uu in self.g_units[g] for t in self._titles_of(uu)}

    def _titles_agree(self, u: int, g: int) -> bool:
        """False only when both sides have titles and none of them is related."""
        mine = [self.docs[m].title for m in self.units[u] if self.docs[m].title]
        theirs = [
            self.docs[m].title
            for uu in self.g_units[g]
            for m in self.units[uu]
            if self.docs[m].title
        ]
        if not mine or not theirs:
            return True
        return any(titles_related(a, b) for a in mine for b in theirs)

    def _same_day(self, u: int, g: int) -> bool:
        mine = [self.docs[m].published_at for m in self.units[u]]
        theirs = [self.docs[m].published_at for uu in self.g_units[g] for m in self.units[uu]]
        return any((x := _days_apart(a, b)) is not None and x < 1.6 for a in mine for b in theirs)

    def _choose(
        self,
        u: int,
        contained: dict[int, float],
        titles: dict[str, list[tuple[int, datetime]]],
        slugs: dict[str, set[int]],
        part_units: set[int],
    ) -> tuple[int, bool] | None:
        """The one group a part belongs to, and whether it joins as a teaser post."""
        cfg = self.cfg
        own = self.group.find(u)
        meta = {g for g in self._metadata_matches(u, titles, slugs) if g != own}
        meta = {g for g in meta if g in contained or not self._disagrees(u, g)}
        # A teaser belongs only to a post whose title is related to its own (a teaser of
        # "X (Part 2)" lies inside every part of the series, but is not "X"). Copies that
        # are not teasers keep whatever first line a text copy had: titles don't veto them.
        teaser = any(self.is_teaser_doc(m) for m in self.units[u])
        candidates = {g for g in set(contained) | meta if not teaser or self._titles_agree(u, g)}
        contained = {g: c for g, c in contained.items() if g in candidates}
        ident = self.unit_ident[u]
        # A post record of its own (REST, export or page, with its own id) that is only a
        # teaser ("ICYMI: X", first paragraph and a read-more link) is a post of its own
        # pointing at another: it joins the one post holding it as a teaser post (a
        # repost, never a source of that post's fields), when it names another post of the
        # site or carries a title of its own.
        own_record = any(
            self.is_teaser_doc(m)
            and self.docs[m].source_format not in LISTING_FORMATS
            and self.docs[m].wp_id is not None
            for m in self.units[u]
        )
        words = max(self.docs[m].word_count for m in self.units[u])
        mine = self._titles_of(u)
        allowed = set()
        for g in candidates:
            conflict = ident.conflicts(self.g_ident[g])
            if own_record and (conflict or (mine and not mine & self._group_titles(g))):
                related = any(titles_related(a, b) for a in mine for b in self._group_titles(g))
                if (
                    cfg.merge_reposts
                    and g in contained
                    and len(contained) == 1
                    and words >= cfg.teaser_min_words
                    and (related or words >= cfg.repost_min_words)
                ):
                    return g, True
                continue
            if not conflict:
                allowed.add(g)
        if len(allowed) == 1:
            return next(iter(allowed)), False
        if not allowed:
            return None
        narrowed = {g for g in allowed if mine & self._group_titles(g)}
        if len(narrowed) != 1:
            pool = narrowed or allowed
            narrowed = {g for g in pool if self._same_day(u, g)}
        return (next(iter(narrowed)), False) if len(narrowed) == 1 else None

    def _leftover_teasers(self, parts: list[int]) -> None:
        """Teasers that joined no full text group among themselves (star around the
        longest), on containment with a shared title, exact text with a shared title, or
        title and day."""
        cfg = self.cfg
        sizes = self.sim.sizes()
        alone = [u for u in parts if len(self.g_units[self.group.find(u)]) == 1]
        if len(alone) < 2:
            return
        docs = [m for u in alone for m in self.units[u]]
        contained: dict[tuple[int, int], float] = {}
        for p, w, c in self.sim.containment_pairs(docs, docs):
            key = (self.unit_of[p], self.unit_of[w])
            contained[key] = max(contained.get(key, 0.0), c)
        by_title: dict[str, list[int]] = {}
        for u in alone:
            for t in self._titles_of(u):
                by_title.setdefault(t, []).append(u)

        def longest(u: int) -> int:
            return max(sizes[m] for m in self.units[u])

        order = sorted(alone, key=lambda u: (-longest(u), self.rank[self.best(self.units[u])]))
        heads: list[int] = []  # canonical unit of each teaser group formed so far
        head_set: set[int] = set()
        for u in order:
            matches = []
            for h in heads:
                if self.unit_ident[u].conflicts(self.g_ident[self.group.find(h)]):
                    continue
                shared_title = bool(self._titles_of(u) & self._titles_of(h))
                c = contained.get((u, h), 0.0)
                if c and (shared_title or self._words(u) >= cfg.teaser_min_words):
                    matches.append(h)
                elif shared_title and self._same_day(u, self.group.find(h)):
                    if not self._teaser_texts_disagree(u, h):
                        matches.append(h)
                elif shared_title and self._same_text(u, h):
                    matches.append(h)
            if len(matches) == 1:
                g = self.group.find(matches[0])
                self._absorb(g, self.group.find(u))
            else:
                heads.append(u)
                head_set.add(u)

    def _words(self, u: int) -> int:
        return max(self.docs[m].word_count for m in self.units[u])

    def _same_text(self, a: int, b: int) -> bool:
        shas = {self.docs[m].content_sha256 for m in self.units[a]} - {None}
        return bool(shas & {self.docs[m].content_sha256 for m in self.units[b]})

    def _teaser_texts_disagree(self, a: int, b: int) -> bool:
        sizes = self.sim.sizes()
        ta = [m for m in self.units[a] if sizes[m] >= self.cfg.min_shingles]
        tb = [m for m in self.units[b] if sizes[m] >= self.cfg.min_shingles]
        if not ta or not tb:
            return False
        best = max(max(self.containment(x, y), self.containment(y, x)) for x in ta for y in tb)
        return best < 0.5

    # finish -----------------------------------------------------------------------------

    def _finish(self) -> list[Post]:
        posts: list[Post] = []
        for g in sorted(self.g_units):
            units = sorted(self.g_units[g])
            members = [m for u in units for m in self.units[u]]
            primary_units = self._primary_units(units)
            primary = [m for m in members if self.unit_of[m] in primary_units]
            canon = self.best(primary)
            rest = sorted(
                (m for m in members if m != canon),
                key=lambda m: (self.unit_of[m] not in primary_units, self.rank[m]),
            )
            ordered = [canon, *rest]
            relations, sims = [], []
            for m in ordered:
                rel, s = self._relation(m, canon, primary_units)
                relations.append(rel)
                sims.append(None if s is None else round(s, 4))
            posts.append(
                Post(ordered, relations, sims, [self.unit_of[m] in primary_units for m in ordered])
            )
        return posts

    def _primary_units(self, units: list[int]) -> set[int]:
        """Units whose documents are the post itself (not a repost of it).

        Without a conflict, all. With one, the original: the unit of the earliest
        published full text (then the best ranked), and every unit not conflicting with it.
        """
        conflicting = self._conflict_pairs(units) if len(units) > 1 else []
        teaser_posts: set[int] = self.teaser_posts
        if not conflicting and not (teaser_posts & set(units)):
            return set(units)

        def published(u: int) -> float:
            dates = [self.docs[m].published_at for m in self.units[u]]
            known = [d.timestamp() for d in dates if d]
            return min(known) if known else float("inf")

        fulls = [u for u in units if u in self.rep and u not in teaser_posts]
        pool = fulls or [u for u in units if u not in teaser_posts] or units
        original = min(pool, key=lambda u: (published(u), self.rank[self.best(self.units[u])]))
        ident = self.unit_ident[original]
        return {
            u
            for u in units
            if u not in teaser_posts and (u == original or not ident.conflicts(self.unit_ident[u]))
        }

    def _relation(self, m: int, canon: int, primary: set[int]) -> tuple[str, float | None]:
        """How member ``m`` relates to the canonical document, with the measured similarity
        (containment for a shorter copy, Jaccard otherwise).

        ``near_duplicate`` and ``excerpt_of`` are written only when the measure reaches
        its threshold; a member joined through an id, URL or GUID it shares with another
        copy is ``same_identity``, one joined on title and day or slug ``metadata_match``.
        """
        if m == canon:
            return "canonical", None
        cfg = self.cfg
        d, c = self.docs[m], self.docs[canon]
        sizes = self.sim.sizes()
        shorter = self.is_teaser_doc(m) or sizes[m] <= cfg.excerpt_ratio * sizes[canon]
        cont = self.containment(m, canon)
        jac = self.jaccard(m, canon)
        measure = cont if shorter else jac
        unit = self.unit_of[m]
        if unit not in primary:
            return "repost", measure
        if d.content_sha256 and d.content_sha256 == c.content_sha256:
            return "exact_duplicate", 1.0
        same_unit = unit == self.unit_of[canon]
        older = d.modified_at and c.modified_at and d.modified_at < c.modified_at
        if same_unit and d.wp_id is not None and d.wp_id == c.wp_id and older:
            return "older_version", jac
        if shorter and cont >= cfg.containment_threshold:
            return "excerpt_of", cont
        if jac >= cfg.near_threshold:
            return "near_duplicate", jac
        if same_unit or len(self.units[unit]) > 1:
            return "same_identity", measure
        return "metadata_match", measure


def deduplicate(
    docs: list[DocKey], sim: Similarity, config: DedupConfig, units: list[int] | None = None
) -> list[Post]:
    """Group documents into posts (see the module docstring for the rules).

    Args:
        docs: every document's keys, numbered like the documents of ``sim``.
        sim: their informative shingle sets (document frequency already counted).
        config: thresholds and the canonical rule.
        units: ``identity_units(docs)`` when already computed.
    """
    return _Grouping(docs, sim, config, units).run()


def count_boilerplate(docs: list[DocKey], sim: Similarity, units: list[int] | None = None) -> None:
    """Count shingle document frequency over identity units' full texts (not teasers)."""
    by_unit: dict[int, list[int]] = {}
    for i, u in enumerate(units if units is not None else identity_units(docs)):
        d = docs[i]
        if not d.is_excerpt_only and d.source_format not in LISTING_FORMATS:
            by_unit.setdefault(u, []).append(i)
    sim.count_units(by_unit[u] for u in sorted(by_unit))
