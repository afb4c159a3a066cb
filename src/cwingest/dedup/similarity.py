"""Which texts are alike: boilerplate-aware shingle sets, MinHash LSH candidates, exact checks.

Every document's shingle hashes are in a :class:`~cwingest.dedup.shingles.HashStore`.
On top of it:

* **Boilerplate.** A paragraph repeated verbatim in ``boilerplate_min_df`` or more
  distinct posts of one site (an author bio, a newsletter or donation block, a
  disclaimer, a repeated intro), or a passage that frequent (a run of at least
  ``boilerplate_run`` shingles, each found in that many posts: the same block glued to
  other text) says nothing about which post a text is: its shingles are left out of
  every similarity and containment, for documents of every site (so copies on two
  domains are compared on the same shingles). A common phrase or sentence between rarer
  text is not boilerplate and still counts.
  Document frequency is counted per site over *identity units* (copies that state the
  same WordPress id, URL or GUID count once), from full texts only, so a post copied into
  many formats or syndicated to many sites is not mistaken for boilerplate, and listing
  teasers do not count. Counts live in a
  fixed-size table of saturating bytes (1 to 64 MB whatever the corpus size), dropped
  once the sorted list of boilerplate hashes is known.
* **Candidates.** MinHash (rensa, computed from the informative hashes) with LSH banding
  proposes near-duplicate pairs without comparing all pairs; an inverted index over a
  content-defined sample of the informative hashes (one in ``sample_mod``) proposes
  (part, whole) pairs where a shorter text may lie inside a longer one.
* **Verification.** Every candidate is checked exactly on the informative hash sets:
  Jaccard similarity for near duplicates, containment (the share of the part's shingles
  found in the whole) for excerpts.

Everything is a function of the set of documents, never of the order they were added.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import IO

import numpy as np
import rensa

from cwingest.dedup.shingles import HashStore, site_salt


@dataclass(frozen=True)
class DedupConfig:
    """Settings of the deduplicate stage (README "Deduplication" gives the figures)."""

    shingle_size: int = 4  # words per shingle
    num_perm: int = 128  # MinHash permutations
    num_bands: int = 0  # LSH bands; 0 picks them from near_threshold (see lsh_bands)
    near_threshold: float = 0.6  # Jaccard of informative shingles to call two texts one post
    containment_threshold: float = 0.9  # share of an excerpt's shingles found in the full text
    excerpt_ratio: float = 0.8  # a partial copy has at most this share of the full text's size
    sample_mod: int = 4  # keep one informative shingle in this many, for containment search
    max_posting: int = 32  # a sampled shingle in more full texts is not used to find excerpts
    min_shingles: int = 8  # fewer informative shingles: too short to compare by content
    boilerplate_min_df: int = 10  # a paragraph or passage in this many posts of a site is
    boilerplate_run: int = 40  # boilerplate (a passage: this many frequent shingles in a row)
    repost_threshold: float = 0.8  # two posts of one site with different ids: same writing
    repost_min_words: int = 50  # … and both at least this long after boilerplate
    repost_min_days: int = 7  # … and of one post type, published this many days apart
    teaser_min_words: int = 20  # a teaser post (own id, related title) joins the one post
    # that contains it (50 words and more: any title)
    merge_reposts: bool = True  # False keeps reposts (and teaser posts) as posts of their own
    canonical_rule: tuple[str, ...] = ("full_text", "richest", "newest", "longest")


_NONE = np.zeros(0, dtype=np.uint64)


def lsh_bands(threshold: float, num_perm: int) -> int:
    """Bands whose S-curve rises below ``threshold``, so pairs at it are rarely missed.

    With b bands of r rows a pair of Jaccard s becomes a candidate with probability
    1 - (1 - s^r)^b; its midpoint is about (1/b)^(1/r). Aim it 0.1 below the threshold
    (recall first: candidates are verified exactly anyway).
    """
    target = max(0.05, threshold - 0.1)
    choices = [b for b in range(1, num_perm + 1) if num_perm % b == 0]
    return min(choices, key=lambda b: (abs((1 / b) ** (b / num_perm) - target), b))


def _bucket_bits(total: int) -> int:
    """Size of the document-frequency table: about 2 slots per shingle, 1 to 64 MB."""
    return min(max(20, int(total * 2).bit_length()), 26)


class Similarity:
    """Informative shingle sets of every document, and the pairs they reveal.

    Args:
        store: every document's shingle hashes (numbered like ``sites``).
        sites: each document's site (document frequency is per site).
        config: thresholds.
    """

    def __init__(
        self,
        store: HashStore,
        sites: list[str | None],
        config: DedupConfig | None = None,
    ) -> None:
        self.store = store
        self.config = config or DedupConfig()
        self._salts = {s: site_salt(s) for s in set(sites)}
        self._doc_salt = [self._salts[s] for s in sites]
        self._bits = _bucket_bits(sum(store.size(i) for i in range(len(store))))
        self._df = np.zeros(1 << self._bits, dtype=np.uint8)
        self._frequent = np.zeros(0, dtype=np.uint64)  # sorted boilerplate hashes
        self._sizes: np.ndarray | None = None
        self._inf_reader: IO[bytes] | None = None  # informative sets, once settled
        self._inf_offsets = array("q", [0])

    # -- boilerplate --------------------------------------------------------------------

    def _slots(self, hashes: np.ndarray, salt: np.uint64) -> np.ndarray:
        x = hashes ^ salt
        x = (x ^ (x >> np.uint64(33))) * np.uint64(0xFF51AFD7ED558CCD)
        return (x >> np.uint64(64 - self._bits)).astype(np.int64)

    def count_units(self, units: Iterable[list[int]]) -> None:
        """Count document frequency: each unit (docs of one post) adds one per shingle, on
        each site it has documents on; then settle which shingles are boilerplate.

        Only full texts should be given (not teasers). A shingle frequent on any site is
        boilerplate for every document, so two copies on different sites are compared on
        the same shingles.
        """
        para_keys: list[np.ndarray] = []
        for docs in units:
            by_site: dict[np.uint64, list[int]] = {}
            for d in docs:
                by_site.setdefault(self._doc_salt[d], []).append(d)
            for salt, members in by_site.items():
                parts = [self.store.get(d) for d in members]
                hashes = parts[0] if len(parts) == 1 else np.unique(np.concatenate(parts))
                slots = np.unique(self._slots(hashes, salt))
                counts = self._df[slots]
                self._df[slots] = counts + (counts < 255)
                own = [self.store.paragraphs(d)[:, 0] for d in members]
                para_keys.append(np.unique(np.concatenate(own)) ^ salt)
        # Paragraphs repeated verbatim in many posts of a site (exact counts: a few per
        # document, 8 bytes each).
        keys, freq = np.unique(
            np.concatenate(para_keys) if para_keys else np.zeros(0, np.uint64), return_counts=True
        )
        hot_paragraphs = keys[freq >= self.config.boilerplate_min_df]
        del para_keys, keys, freq
        # Second pass, once the counts are final (so the result does not depend on order):
        # the shingles of a repeated paragraph, and of a run of frequent shingles long enough
        # to be a passage, are boilerplate; a common phrase or sentence between rarer text
        # is not.
        cfg = self.config
        frequent = np.zeros(0, dtype=np.uint64)
        batch: list[np.ndarray] = []
        for i in range(len(self.store)):
            seq = self.store.sequence(i)
            if not len(seq):
                continue
            salt = self._doc_salt[i]
            spans: list[tuple[int, int]] = []
            paras = self.store.paragraphs(i)
            if len(paras) and len(hot_paragraphs):
                hot = np.isin(paras[:, 0] ^ salt, hot_paragraphs)
                spans += [(int(a), int(b)) for a, b in paras[hot][:, 1:] if b > a]
            if len(seq) >= cfg.boilerplate_run:
                often = self._df[self._slots(seq, salt)] >= cfg.boilerplate_min_df
                spans += _runs(often, cfg.boilerplate_run)
            if spans:
                batch.append(np.concatenate([seq[a:b] for a, b in spans]))
            if len(batch) >= 512:
                frequent = np.unique(np.concatenate([frequent, *batch]))
                batch = []
        self._frequent = np.unique(np.concatenate([frequent, *batch]))
        self._df = np.zeros(0, dtype=np.uint8)  # counts are no longer needed
        self._sizes = None
        self._settle_informative()

    def _settle_informative(self) -> None:
        """Write every document's informative set to a file beside the store, once the
        boilerplate is known: grouping reads each set several times, and a positioned read
        costs less than filtering again (memory keeps only the offsets)."""
        self.close()
        path = self.store.path.with_suffix(self.store.path.suffix + ".informative")
        offsets = array("q", [0])
        with open(path, "wb") as fh:
            for i in range(len(self.store)):
                inf = self._filter(self.store.get(i))
                fh.write(np.ascontiguousarray(inf, dtype=np.uint64).tobytes())
                offsets.append(offsets[-1] + len(inf))
        self._inf_offsets = offsets
        self._inf_reader = open(path, "rb")  # noqa: SIM115 - kept open until close()
        self._sizes = np.diff(np.frombuffer(offsets, dtype=np.int64))

    def close(self) -> None:
        """Release the informative sets' file (the caller removes the work folder)."""
        if self._inf_reader is not None:
            self._inf_reader.close()
        self._inf_reader = None

    def boilerplate_shingles(self) -> int:
        """How many distinct shingles were found to be boilerplate."""
        return len(self._frequent)

    def informative(self, i: int) -> np.ndarray:
        """Document ``i``'s shingle hashes without boilerplate (sorted)."""
        reader = self._inf_reader
        if reader is not None:
            start, end = self._inf_offsets[i], self._inf_offsets[i + 1]
            if start == end:
                return _NONE
            data = os.pread(reader.fileno(), 8 * (end - start), 8 * start)
            return np.frombuffer(data, dtype=np.uint64)
        return self._filter(self.store.get(i))

    def _filter(self, hashes: np.ndarray) -> np.ndarray:
        if not len(hashes) or not len(self._frequent):
            return hashes
        return hashes[~self._is_boilerplate(hashes)]

    def _is_boilerplate(self, hashes: np.ndarray) -> np.ndarray:
        if not len(self._frequent):
            return np.zeros(len(hashes), dtype=bool)
        pos = np.searchsorted(self._frequent, hashes)
        pos[pos == len(self._frequent)] = 0
        return self._frequent[pos] == hashes

    def words_after_boilerplate(self, i: int) -> int:
        """Words of document ``i`` covered by at least one informative shingle: its length
        once bios, footers and other boilerplate are set aside."""
        k = self.config.shingle_size
        seq = self.store.sequence(i)
        if not len(seq):
            return 0
        keep = ~self._is_boilerplate(seq)
        covered = np.zeros(len(seq) + k - 1, dtype=bool)
        for j in range(k):
            covered[j : j + len(seq)] |= keep
        return int(covered.sum())

    def sizes(self) -> np.ndarray:
        """Informative shingles per document."""
        if self._sizes is None:
            self._sizes = np.array(
                [len(self.informative(i)) for i in range(len(self.store))], dtype=np.int64
            )
        return self._sizes

    # -- exact measures -----------------------------------------------------------------

    def jaccard(self, i: int, j: int) -> float:
        """Jaccard similarity of two documents' informative shingle sets."""
        a, b = self.informative(i), self.informative(j)
        if not len(a) or not len(b):
            return 0.0
        inter = len(np.intersect1d(a, b, assume_unique=True))
        return inter / (len(a) + len(b) - inter)

    def containment(self, part: int, whole: int) -> float:
        """Share of ``part``'s informative shingles that occur in ``whole``."""
        a = self.informative(part)
        if not len(a):
            return 0.0
        b = self.store.get(whole)
        return float(np.isin(a, b, assume_unique=True).mean())

    # -- candidates ---------------------------------------------------------------------

    def near_pairs(self, docs: list[int]) -> list[tuple[int, int, float]]:
        """Pairs (i < j) of ``docs`` whose informative Jaccard reaches ``near_threshold``.

        Only documents with at least ``min_shingles`` informative shingles take part.
        """
        i, j, sim = self.near_pair_arrays(docs)
        return list(zip(i.tolist(), j.tolist(), sim.tolist(), strict=True))

    def near_pair_arrays(self, docs: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`near_pairs` as three arrays (i, j, Jaccard), ordered by (i, j): compact
        where a site has many near-identical posts."""
        cfg = self.config
        none = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64))
        sizes = self.sizes()
        usable = sorted(d for d in docs if sizes[d] >= cfg.min_shingles)
        if len(usable) < 2:
            return none
        bands = cfg.num_bands or lsh_bands(cfg.near_threshold, cfg.num_perm)
        rows = cfg.num_perm // bands
        keys = np.empty((len(usable), bands), dtype=np.uint64)
        # rensa hands its digests back as Python lists: small chunks keep that bounded
        for start in range(0, len(usable), 512):
            chunk = usable[start : start + 512]
            sets = [self.informative(d) for d in chunk]
            offsets = np.cumsum([0] + [len(s) for s in sets], dtype=np.uint64)
            matrix = rensa.RMinHash.digest_matrix_from_flat_token_hashes(
                np.concatenate(sets), offsets, cfg.num_perm, 42
            )
            digests = np.asarray(matrix.to_rows(), dtype=np.uint64)
            for band in range(bands):
                acc = np.zeros(len(chunk), dtype=np.uint64)
                for col in digests[:, band * rows : (band + 1) * rows].T:
                    acc = acc * np.uint64(0x100000001B3) + col
                keys[start : start + len(chunk), band] = acc ^ np.uint64(band)
        docs_arr = np.asarray(usable, dtype=np.int64)
        n = np.int64(len(self.store))
        # pairs gathered band by band into one sorted distinct array: most bands propose
        # the same pairs again, so memory holds the distinct pairs and one band's, not all
        candidates = np.zeros(0, np.int64)
        for band in range(bands):
            found = _colliding(keys[:, band], docs_arr, n)
            if len(found):
                candidates = np.union1d(candidates, found)
        del keys
        keep = array("q")
        sims = array("d")
        for start in range(0, len(candidates), 4096):  # Python ints a chunk at a time
            for key in candidates[start : start + 4096].tolist():
                i, j = divmod(key, int(n))
                sim = self.jaccard(i, j)
                if sim >= cfg.near_threshold:
                    keep.append(key)
                    sims.append(round(sim, 4))
        del candidates
        if not keep:
            return none
        packed = np.frombuffer(keep, dtype=np.int64)
        return packed // n, packed % n, np.frombuffer(sims, dtype=np.float64).copy()

    def containment_pairs(
        self, parts: Iterable[int], wholes: Iterable[int]
    ) -> list[tuple[int, int, float]]:
        """Pairs (part, whole, containment) where a part lies inside a whole.

        Found through shared sampled shingles (an inverted index over the wholes, looked
        up part by part, so memory holds the index and one part's candidates), then
        verified exactly; parts need ``min_shingles`` informative shingles. A sampled
        shingle found in more than ``max_posting`` wholes is not used to find candidates.
        """
        cfg = self.config
        sizes = self.sizes()
        part_list = sorted(p for p in set(parts) if sizes[p] >= cfg.min_shingles)
        whole_list = sorted(set(wholes))
        if not part_list or not whole_list:
            return []
        # The index: one uint64 per sampled shingle of a whole (hash high bits, document
        # low bits), sorted in place; filled in two passes so it is allocated once.
        sampled = [len(self._sample(d)) for d in whole_list]
        packed = np.empty(sum(sampled), dtype=np.uint64)
        at = 0
        for d, n in zip(whole_list, sampled, strict=True):
            packed[at : at + n] = (self._sample(d) >> np.uint64(32) << np.uint64(32)) | np.uint64(d)
            at += n
        packed.sort()
        low = np.uint64(0xFFFFFFFF)
        out = []
        for p in part_list:
            keys = np.unique(self._sample(p) >> np.uint64(32))
            if not len(keys):
                continue
            lo = np.searchsorted(packed, keys << np.uint64(32), side="left")
            hi = np.searchsorted(packed, (keys << np.uint64(32)) | low, side="right")
            usable = (hi > lo) & (hi - lo <= cfg.max_posting)
            if not usable.any():
                continue
            found = np.concatenate(
                [packed[x:y] & low for x, y in zip(lo[usable], hi[usable], strict=True)]
            ).astype(np.int64)
            docs, counts = np.unique(found, return_counts=True)
            # Measured on the selective samples only: a sentence common to many posts
            # says nothing about which one holds the part (the exact check follows).
            need = int(usable.sum()) * (cfg.containment_threshold - 0.25)
            for w, n in zip(docs.tolist(), counts.tolist(), strict=True):
                if w == p or n < need:
                    continue
                score = self.containment(p, w)
                if score >= cfg.containment_threshold:
                    out.append((p, w, round(score, 4)))
        return out

    def _sample(self, d: int) -> np.ndarray:
        """A content-defined sample of a document's informative shingles (1 in sample_mod)."""
        inf = self.informative(d)
        return inf[(inf % np.uint64(self.config.sample_mod)) == 0]


def _runs(mask: np.ndarray, min_length: int) -> list[tuple[int, int]]:
    """(start, end) of every run of True at least ``min_length`` long."""
    padded = np.concatenate(([False], mask, [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    starts, ends = edges[0::2], edges[1::2]
    return [
        (a, b) for a, b in zip(starts.tolist(), ends.tolist(), strict=True) if b - a >= min_length
    ]


def _colliding(keys: np.ndarray, docs: np.ndarray, n: np.int64) -> np.ndarray:
    """Pairs (as ``i * n + j``, i < j) of documents whose band keys are equal; a bucket of
    more than 50 near-identical texts is linked as a chain and a star (enough to verify)."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    lengths = np.diff(np.r_[starts, len(keys)])
    pairs: list[np.ndarray] = []
    two = starts[lengths == 2]
    if len(two):  # most buckets hold two documents: done in one step
        a, b = docs[order[two]], docs[order[two + 1]]
        pairs.append(np.minimum(a, b) * n + np.maximum(a, b))
    for s, size in zip(starts[lengths > 2].tolist(), lengths[lengths > 2].tolist(), strict=True):
        bucket = np.sort(docs[order[s : s + size]])
        if size <= 50:
            i, j = _pairs_of(size)
        else:
            i = np.r_[np.zeros(size - 1, dtype=np.int64), np.arange(size - 1)]
            j = np.r_[np.arange(1, size), np.arange(1, size)]
        pairs.append(bucket[i] * n + bucket[j])
    return np.concatenate(pairs) if pairs else np.zeros(0, dtype=np.int64)


@lru_cache(maxsize=64)
def _pairs_of(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (i, j), i < j, of ``size`` items (``np.triu_indices``, built once per size)."""
    return np.triu_indices(size, k=1)
