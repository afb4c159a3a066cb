"""Near-duplicate and excerpt detection over compact signatures.

Each document leaves two small signatures in memory, never its text:

* a MinHash of its word shingles (rensa, 128 permutations as ``uint32``: 512 bytes), fed
  to rensa's LSH index, which proposes pairs whose Jaccard similarity is likely above
  the threshold without comparing every pair;
* a content-defined sample of its shingle hashes (the shingles whose CRC-32 is 0 modulo
  ``sample_mod``, about one in four). A teaser or a cut-off copy holds a contiguous part
  of the full text, so its sample is (almost) a subset of the full text's sample: counting
  shared samples through an inverted index finds containment, which Jaccard misses for
  short excerpts.

Candidates are verified (MinHash estimate for near duplicates; exact shingle containment
for excerpts, through a callback that reads the two texts back from disk). Results are
sets of pairs, so they do not depend on the order documents were added.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import rensa

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class DedupConfig:
    """Thresholds of the deduplicate stage (README: "Deduplication" gives the figures)."""

    shingle_size: int = 4  # words per shingle
    num_perm: int = 128  # MinHash permutations
    num_bands: int = 0  # LSH bands; 0 picks them from near_threshold (see lsh_bands)
    near_threshold: float = 0.6  # estimated Jaccard of shingles to call two texts one post
    containment_threshold: float = 0.9  # share of an excerpt's shingles found in the full text
    excerpt_ratio: float = 0.8  # an excerpt has at most this share of the full text's shingles
    sample_mod: int = 4  # keep the shingles whose CRC-32 is 0 modulo this, for containment
    max_posting: int = 16  # sampled shingles shared by more documents are boilerplate: ignored
    min_shingles: int = 8  # shorter texts are matched by identity and exact text only
    canonical_rule: tuple[str, ...] = ("full_text", "richest", "newest", "longest")


def tokens(text: str) -> list[str]:
    """Words of a text, case- and compatibility-folded (so punctuation and case don't count)."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def shingles(words: list[str], k: int) -> list[str]:
    """Overlapping k-word shingles (one shingle for texts shorter than k words)."""
    if len(words) <= k:
        return [" ".join(words)] if words else []
    return [" ".join(words[i : i + k]) for i in range(len(words) - k + 1)]


def containment(part: str, whole: str, k: int) -> float:
    """Exact share of ``part``'s shingles that occur in ``whole``."""
    a = set(shingles(tokens(part), k))
    if not a:
        return 0.0
    b = set(shingles(tokens(whole), k))
    return len(a & b) / len(a)


def lsh_bands(threshold: float, num_perm: int) -> int:
    """Bands whose S-curve rises below ``threshold``, so pairs at it are rarely missed.

    With b bands of r rows a pair of Jaccard s becomes a candidate with probability
    1 - (1 - s^r)^b; its midpoint is about (1/b)^(1/r). Aim it 0.1 below the threshold
    (recall first: candidates are verified anyway).
    """
    target = max(0.05, threshold - 0.1)
    choices = [b for b in range(1, num_perm + 1) if num_perm % b == 0]
    return min(choices, key=lambda b: (abs((1 / b) ** (b / num_perm) - target), b))


@dataclass
class SignatureIndex:
    """Signatures of every document added, and the pairs they reveal.

    Storage is flat: one ``uint32`` buffer of MinHash digests (``num_perm`` per document)
    and one of sampled shingle hashes with their document numbers, so 100 000 documents
    cost tens of megabytes, not a Python object each.
    """

    config: DedupConfig = field(default_factory=DedupConfig)

    def __post_init__(self) -> None:
        bands = self.config.num_bands or lsh_bands(self.config.near_threshold, self.config.num_perm)
        self._lsh = rensa.RMinHashLSH(
            threshold=self.config.near_threshold, num_perm=self.config.num_perm, num_bands=bands
        )
        self._digests = array("I")
        self._sizes = array("I")  # distinct shingles per document
        self._samples = array("I")  # sampled shingle hashes, all documents
        self._sample_docs = array("I")  # the document of each sample
        self._candidates: set[tuple[int, int]] = set()

    def __len__(self) -> int:
        return len(self._sizes)

    def add(self, text: str) -> int:
        """Add a document's text; returns its index (0, 1, 2, … in the order added)."""
        cfg = self.config
        idx = len(self._sizes)
        sh = shingles(tokens(text), cfg.shingle_size)
        distinct = set(sh)
        self._sizes.append(len(distinct))
        sampled = sorted(
            {h for h in (zlib.crc32(s.encode()) for s in distinct) if h % cfg.sample_mod == 0}
        )
        self._samples.extend(sampled)
        self._sample_docs.extend([idx] * len(sampled))
        if len(sh) < cfg.min_shingles:
            self._digests.extend([0] * cfg.num_perm)
            return idx
        mh = rensa.RMinHash(num_perm=cfg.num_perm, seed=42)
        mh.update(sh)
        for other in self._lsh.query(mh):
            self._candidates.add((int(other), idx))
        self._lsh.insert(idx, mh)
        self._digests.extend(mh.digest())
        return idx

    def jaccard(self, i: int, j: int) -> float:
        """MinHash estimate of the Jaccard similarity of two documents' shingles."""
        n = self.config.num_perm
        a = np.frombuffer(self._digests, dtype=np.uint32, count=n, offset=4 * n * i)
        b = np.frombuffer(self._digests, dtype=np.uint32, count=n, offset=4 * n * j)
        return float(np.mean(a == b))

    def near_pairs(self) -> list[tuple[int, int, float]]:
        """Pairs (i < j) whose estimated Jaccard similarity reaches the threshold."""
        out = []
        for i, j in sorted(self._candidates):
            sim = self.jaccard(i, j)
            if sim >= self.config.near_threshold:
                out.append((i, j, sim))
        return out

    def containment_pairs(
        self, text_of: Callable[[int], str] | None = None
    ) -> list[tuple[int, int, float]]:
        """Pairs (part, whole, containment) where a shorter text lies inside a longer one.

        Shingles shared by more than ``max_posting`` documents are boilerplate (common
        phrases, site chrome): they are ignored, and an excerpt's share is computed over
        its informative samples only.
        """
        cfg = self.config
        if not self._samples:
            return []
        # One uint64 per sample (hash, then document), sorted in place: no index arrays.
        packed = np.frombuffer(self._samples, dtype=np.uint32).astype(np.uint64) << np.uint64(32)
        packed |= np.frombuffer(self._sample_docs, dtype=np.uint32).astype(np.uint64)
        packed.sort()
        hashes = (packed >> np.uint64(32)).astype(np.uint32)
        docs = (packed & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        del packed
        starts = np.flatnonzero(np.r_[True, hashes[1:] != hashes[:-1]])
        del hashes
        lengths = np.diff(np.r_[starts, len(docs)])
        informative = np.zeros(len(self._sizes), dtype=np.int64)
        np.add.at(informative, docs[np.repeat(lengths <= cfg.max_posting, lengths)], 1)
        sizes = np.frombuffer(self._sizes, dtype=np.uint32)
        shared: dict[int, int] = {}
        n_docs = len(self._sizes)
        useful = np.flatnonzero((lengths >= 2) & (lengths <= cfg.max_posting))
        for chunk in range(0, len(useful), 65536):
            picked = useful[chunk : chunk + 65536]
            for s, n in zip(starts[picked].tolist(), lengths[picked].tolist(), strict=True):
                posting = docs[s : s + n].tolist()
                for a in range(n):
                    for b in range(a + 1, n):
                        x, y = posting[a], posting[b]
                        part, whole = (x, y) if (sizes[x], x) <= (sizes[y], y) else (y, x)
                        if sizes[part] > cfg.excerpt_ratio * sizes[whole]:
                            continue
                        key = part * n_docs + whole
                        shared[key] = shared.get(key, 0) + 1
        out = []
        for key in sorted(shared):
            part, whole = divmod(key, n_docs)
            estimate = shared[key] / max(1, int(informative[part]))
            if estimate < cfg.containment_threshold - 0.15:
                continue  # far below: not worth reading the texts
            score = estimate
            if text_of is not None:
                score = containment(text_of(part), text_of(whole), cfg.shingle_size)
            if score >= cfg.containment_threshold:
                out.append((part, whole, round(score, 4)))
        return out
