"""Word shingles as 64-bit hashes, and an on-disk store of one sorted hash set per document.

Deduplication never compares texts: it compares sets of shingle hashes. A document's
set is computed once, from its clean text (words case- and compatibility-folded, so
punctuation and case don't count), and appended to a flat file; later passes (document
frequency, MinHash, exact Jaccard and containment) read it back by document number.
Memory holds one offset per document, never the sets themselves.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import rensa

_WORD = re.compile(r"\w+")
_EMPTY = np.zeros(0, dtype=np.uint64)
# Odd multipliers for combining word hashes (wrapping uint64 arithmetic).
_MULT = np.uint64(0x9E3779B97F4A7C15)


def tokens(text: str) -> list[str]:
    """Words of a text, case- and compatibility-folded."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: every input bit moves every output bit (uint64, wrapping)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@dataclass(frozen=True)
class Signature:
    """A document's shingle hashes in text order, and its paragraphs.

    ``paragraphs`` has one row per paragraph (blank-line separated): a hash of its words,
    and the range of shingles that lie wholly inside it (start, end).
    """

    shingles: np.ndarray  # uint64
    paragraphs: np.ndarray  # uint64, shape (n, 3): hash, first shingle, end shingle


_NO_PARAGRAPHS = np.zeros((0, 3), dtype=np.uint64)


def text_signature(text: str, k: int = 4) -> Signature:
    """The shingles and paragraphs of a clean text (see :class:`Signature`).

    A text shorter than k words has one shingle (all its words); an empty text none.
    Word hashes come from rensa (Rust, deterministic across processes and runs).
    """
    paras = [tokens(p) for p in text.split("\n\n")]
    words = [w for p in paras for w in p]
    if not words:
        return Signature(_EMPTY, _NO_PARAGRAPHS)
    w = np.asarray(rensa.RMinHash.hash_token_sets([words])[0], dtype=np.uint64)
    k = min(k, len(w))
    n = len(w) - k + 1
    acc = w[:n].copy()
    for j in range(1, k):
        acc = acc * _MULT + w[j : j + n]
    rows = []
    at = 0
    for p in paras:
        if p:
            digest = hashlib.blake2b(" ".join(p).encode(), digest_size=8).digest()
            end = max(at, at + len(p) - k + 1)
            rows.append((int.from_bytes(digest, "little"), at, min(end, n)))
        at += len(p)
    return Signature(_mix(acc), np.asarray(rows, dtype=np.uint64).reshape(-1, 3))


def shingle_sequence(text: str, k: int = 4) -> np.ndarray:
    """Hashes of the overlapping k-word shingles of ``text``, in text order."""
    return text_signature(text, k).shingles


def shingle_hashes(text: str, k: int = 4) -> np.ndarray:
    """Sorted distinct hashes of the k-word shingles of ``text`` (see shingle_sequence)."""
    return np.unique(shingle_sequence(text, k))


def site_salt(site: str | None) -> np.uint64:
    """A 64-bit value per site, so document frequency is counted per site."""
    if not site:
        return np.uint64(0)
    digest = hashlib.blake2b(site.encode(), digest_size=8).digest()
    return np.uint64(int.from_bytes(digest, "little"))


class HashStore:
    """Each document's shingle hashes in text order, appended to a file and read back.

    Documents are numbered 0, 1, 2, … in the order they were added. :meth:`get` gives
    the sorted distinct set (what similarity compares), :meth:`sequence` the hashes in
    text order (what finds runs of boilerplate and counts words).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fh = self.path.open("wb")
        self._para_path = self.path.with_suffix(self.path.suffix + ".paragraphs")
        self._para_fh = self._para_path.open("wb")
        self._set_path = self.path.with_suffix(self.path.suffix + ".sets")
        self._set_fh = self._set_path.open("wb")
        self._set_offsets = array("q", [0])
        self._offsets = array("q", [0])
        self._para_offsets = array("q", [0])
        self._reader: IO[bytes] | None = None
        self._cache: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def add(self, signature: Signature | np.ndarray) -> int:
        """Store one document's signature (or bare shingle hashes); returns its number."""
        if self._reader is not None:
            raise RuntimeError("HashStore is closed for writing")
        if isinstance(signature, np.ndarray):
            signature = Signature(signature, _NO_PARAGRAPHS)
        data = np.ascontiguousarray(signature.shingles, dtype=np.uint64)
        self._fh.write(data.tobytes())
        self._offsets.append(self._offsets[-1] + len(data))
        distinct = np.unique(data)  # sorted once here, read back by get()
        self._set_fh.write(distinct.tobytes())
        self._set_offsets.append(self._set_offsets[-1] + len(distinct))
        paras = np.ascontiguousarray(signature.paragraphs, dtype=np.uint64)
        self._para_fh.write(paras.tobytes())
        self._para_offsets.append(self._para_offsets[-1] + len(paras))
        return len(self._offsets) - 2

    def freeze(self) -> None:
        """Finish writing; documents can be read from now on."""
        if self._reader is None:
            self._fh.close()
            self._para_fh.close()
            self._set_fh.close()
            self._reader = self.path.open("rb")
            self._para_reader = self._para_path.open("rb")
            self._set_reader = self._set_path.open("rb")

    def sequence(self, i: int) -> np.ndarray:
        """Document ``i``'s shingle hashes in text order.

        Read with a positioned read, not a memory map, so the file's pages are not counted
        in (and do not stay in) the process's memory.
        """
        if self._reader is None:
            self.freeze()
        assert self._reader is not None
        start, end = self._offsets[i], self._offsets[i + 1]
        if start == end:
            return _EMPTY
        data = os.pread(self._reader.fileno(), 8 * (end - start), 8 * start)
        return np.frombuffer(data, dtype=np.uint64)

    def paragraphs(self, i: int) -> np.ndarray:
        """Document ``i``'s paragraphs: rows of (hash, first shingle, end shingle)."""
        if self._reader is None:
            self.freeze()
        start, end = self._para_offsets[i], self._para_offsets[i + 1]
        if start == end:
            return _NO_PARAGRAPHS
        data = os.pread(self._para_reader.fileno(), 24 * (end - start), 24 * start)
        return np.frombuffer(data, dtype=np.uint64).reshape(-1, 3)

    def get(self, i: int) -> np.ndarray:
        """Document ``i``'s distinct shingle hashes, sorted (a small cache keeps the last few)."""
        found = self._cache.get(i)
        if found is None:
            if self._reader is None:
                self.freeze()
            start, end = self._set_offsets[i], self._set_offsets[i + 1]
            if start == end:
                return _EMPTY
            data = os.pread(self._set_reader.fileno(), 8 * (end - start), 8 * start)
            found = np.frombuffer(data, dtype=np.uint64)
            if len(self._cache) >= 256:
                self._cache.pop(next(iter(self._cache)))
            self._cache[i] = found
        return found

    def size(self, i: int) -> int:
        """Number of shingles (with repeats) of document ``i``."""
        return self._offsets[i + 1] - self._offsets[i]

    def close(self) -> None:
        """Release the file (the caller removes it with the work folder)."""
        self._fh.close()
        self._para_fh.close()
        self._set_fh.close()
        if self._reader is not None:
            self._reader.close()
            self._para_reader.close()
            self._set_reader.close()
        self._cache.clear()
