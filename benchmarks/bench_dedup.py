"""Deduplication at scale: seconds, peak memory, pair precision and recall.

A synthetic corpus of invented posts (the project's own: random prose over a Zipf-like
vocabulary) with a known share of planted copies:

* exact: the same text again (a text copy or a repost),
* near: the post on the other domain with about 3 % of its words changed and a sentence
  added (the "older version" after an edit),
* excerpt: a teaser of the first 40-90 words, or a cut-off record holding its last third,
* cross-domain: the same post on the other domain with its own WordPress id and URL,
  lightly edited;

and, to test precision, "series" posts: distinct posts that open with the same
paragraph as another post (the intro of a blog series) and must stay separate.

Texts are generated on the fly and never kept: the index holds compact signatures only,
and verification regenerates the two texts it needs. Each size runs in a fresh process
so peak memory is its own. Usage::

    python benchmarks/bench_dedup.py [N ...]      # default: 10000 100000
"""

from __future__ import annotations

import hashlib
import random
import resource
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime

from cwingest.dedup.clusters import DocKey, cluster
from cwingest.dedup.similarity import DedupConfig, SignatureIndex

VOCAB = [
    f"{a}{b}{c}"
    for a in "bcdfgklmnprst"
    for b in "aeiou"
    for c in ("n", "r", "s", "t", "l", "m", "")
]
VOCAB = [w + s for w in VOCAB for s in ("", "er", "ing", "ed", "ion", "al")]  # ~2700 words
WEIGHTS = [1 / (i + 1) ** 0.9 for i in range(len(VOCAB))]


def base_text(post: int) -> str:
    rng = random.Random(post * 7919)
    n = rng.randint(250, 900)
    words = rng.choices(VOCAB, weights=WEIGHTS, k=n)
    paras = [" ".join(words[i : i + 60]) + "." for i in range(0, n, 60)]
    return "\n\n".join(paras)


def edited(text: str, seed: int, rate: float = 0.03) -> str:
    rng = random.Random(seed)
    words = text.split(" ")
    for i in range(len(words)):
        if rng.random() < rate:
            words[i] = rng.choice(VOCAB)
    return " ".join(words) + " " + " ".join(rng.choices(VOCAB, k=12)) + "."


def corpus(n: int) -> list[tuple[int, str, dict[str, object]]]:
    """(true post, kind, document fields) for n documents; text is rebuilt from the fields."""
    rng = random.Random(n)
    docs: list[tuple[int, str, dict[str, object]]] = []
    post = 0
    while len(docs) < n:
        post += 1
        docs.append((post, "original", {"site": "aurora-institute.org", "wp_id": post}))
        r = rng.random()
        if r < 0.10:
            docs.append((post, "exact", {"site": None, "wp_id": None}))
        elif r < 0.20:
            docs.append((post, "near", {"site": "competencyworks.org", "wp_id": 100000 + post}))
        elif r < 0.27:
            docs.append((post, "teaser", {"site": "competencyworks.org", "wp_id": None}))
        elif r < 0.30:
            docs.append((post, "cut", {"site": None, "wp_id": None}))
        elif r < 0.35:
            docs.append((post, "cross", {"site": "competencyworks.org", "wp_id": 200000 + post}))
        elif r < 0.40:
            post += 1  # a different post of the same series: shares the previous one's intro
            docs.append((post, "series", {"site": "aurora-institute.org", "wp_id": post}))
    return docs[:n]


def text_for(post: int, kind: str) -> str:
    text = base_text(post)
    if kind == "series":
        intro = base_text(post - 1).split("\n\n")[0]
        return intro + "\n\n" + text
    if kind == "near":
        return edited(text, post)
    if kind == "cross":
        return edited(text, post + 1, rate=0.01)
    if kind == "teaser":
        return " ".join(text.split()[: 40 + post % 50])
    if kind == "cut":
        words = text.split()
        return " ".join(words[len(words) * 2 // 3 :])
    return text


def pair_scores(truth: list[int], predicted: list[str]) -> tuple[float, float]:
    """Pair precision and recall of a clustering against the true clusters."""

    def pairs(counter: Counter[object]) -> int:
        return sum(c * (c - 1) // 2 for c in counter.values())

    both = pairs(Counter(zip(truth, predicted, strict=True)))
    pred, true = pairs(Counter(predicted)), pairs(Counter(truth))
    return (both / pred if pred else 1.0), (both / true if true else 1.0)


def run_one(n: int) -> None:
    """Build signatures and clusters for n documents; print one line of figures."""
    docs = corpus(n)
    config = DedupConfig()
    t0 = time.perf_counter()
    index = SignatureIndex(config)
    keys = []
    day = datetime(2019, 1, 1, tzinfo=UTC)
    for i, (post, kind, fields) in enumerate(docs):
        text = text_for(post, kind)
        index.add(text)
        wp_id = fields["wp_id"]
        keys.append(
            DocKey(
                doc_id=f"{i:08d}",
                content_sha256=hashlib.sha256(text.encode()).hexdigest(),
                site=fields["site"],  # type: ignore[arg-type]
                wp_id=wp_id,  # type: ignore[arg-type]
                url=None,
                source_format="text_listing" if kind == "teaser" else "wp_rest_json",
                is_excerpt_only=kind in ("teaser", "cut"),
                modified_at=day,
                word_count=len(text.split()),
                fetched_at=day,
            )
        )
    t_sig = time.perf_counter() - t0
    near = index.near_pairs()
    contained = index.containment_pairs(lambda i: text_for(docs[i][0], docs[i][1]))
    pairs = [(i, j) for i, j, _ in near] + [(i, j) for i, j, _ in contained]
    del index
    groups = cluster(keys, pairs)
    took = time.perf_counter() - t0
    label = {m.doc_id: root for root, members in groups.items() for m in members}
    precision, recall = pair_scores([p for p, _, _ in docs], [label[k.doc_id] for k in keys])
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kinds = Counter(kind for _, kind, _ in docs)
    posts = kinds["original"] + kinds["series"]
    print(
        f"{n:>7} docs ({posts} posts, {n - posts} planted copies)  "
        f"signatures {t_sig:6.1f} s  total {took:6.1f} s  peak RSS {peak_mb:6.0f} MB  "
        f"pair precision {precision:.4f}  pair recall {recall:.4f}"
    )


def main(argv: list[str]) -> None:
    """Run each size in its own process."""
    if argv[:1] == ["--one"]:
        run_one(int(argv[1]))
        return
    for n in [int(a) for a in argv] or [10000, 100000]:
        subprocess.run([sys.executable, __file__, "--one", str(n)], check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
