"""Deduplication at scale: seconds, peak memory, pair precision and recall, mixed clusters.

A synthetic corpus of invented posts (the project's own: prose over a Zipf-like
vocabulary of made-up words) with the copies a real archive holds and the traps that
make false merges:

* copies that are the same post: exact text copies; the post on the other domain with
  about 3 % of its words changed and a sentence added; a listing teaser of its first
  40-90 words (with its title and date); a cut-off record holding its last third; the
  post on the other domain with its own WordPress id, lightly edited; a repost on the
  same site under a new id ("Revisited: …", weeks later);
* traps that are different posts: every post of the new site ends with its author's
  60-120-word bio and one newsletter footer; series of four posts open with the same
  paragraph; pairs of posts quote the same 150-word block; pairs of posts share a title
  and a day (long texts, and short templated notices with their own ids).

Texts are generated on the fly and never kept: shingle hashes go to a file, and the
grouping holds compact keys only. Each size runs in a fresh process so peak memory is its
own. Usage::

    python benchmarks/bench_dedup.py [N ...]      # default: 10000 100000

Targets (issue "Deduplication that never merges distinct posts"): pair precision
>= 0.999, pair recall >= 0.99, no cluster holding two true posts.
"""

from __future__ import annotations

import hashlib
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cwingest.dedup.clusters import DocKey, count_boilerplate, deduplicate
from cwingest.dedup.shingles import HashStore, text_signature
from cwingest.dedup.similarity import DedupConfig, Similarity

VOCAB = [
    f"{a}{b}{c}"
    for a in "bcdfgklmnprst"
    for b in "aeiou"
    for c in ("n", "r", "s", "t", "l", "m", "")
]
VOCAB = [w + s for w in VOCAB for s in ("", "er", "ing", "ed", "ion", "al")]  # ~2700 words
WEIGHTS = [1 / (i + 1) ** 0.9 for i in range(len(VOCAB))]
NEW, OLD = "aurora-institute.org", "competencyworks.org"
DAY0 = datetime(2012, 1, 1, 9, tzinfo=UTC)


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choices(VOCAB, weights=WEIGHTS, k=n))


def paragraphs(seed: int, lo: int = 250, hi: int = 900) -> list[str]:
    rng = random.Random(seed * 7919)
    n = rng.randint(lo, hi)
    text = words(rng, n).split()
    return [" ".join(text[i : i + 60]) + "." for i in range(0, n, 60)]


BIOS = [words(random.Random(10_000 + a), random.Random(a).randint(60, 120)) for a in range(40)]
FOOTER = words(random.Random(99), 45)


def edited(text: str, seed: int, rate: float = 0.03) -> str:
    rng = random.Random(seed)
    out = text.split(" ")
    for i in range(len(out)):
        if rng.random() < rate:
            out[i] = rng.choice(VOCAB)
    return " ".join(out) + " " + words(rng, 12) + "."


class Post:
    """One true post and the texts of its copies."""

    def __init__(self, number: int, body: list[str], title: str, when: datetime) -> None:
        self.number, self.body, self.title, self.when = number, body, title, when
        self.author = number % len(BIOS)

    def new_text(self) -> str:
        return "\n\n".join([*self.body, BIOS[self.author], FOOTER])

    def old_text(self) -> str:
        return "\n\n".join(self.body)


def corpus(n: int) -> Iterator[tuple[int, str, dict[str, object], str]]:
    """(true post, kind, key fields, text) for about n documents, generated lazily."""
    rng = random.Random(n)
    made = 0
    number = 0
    wp = 1000

    def key(**fields: object) -> dict[str, object]:
        return fields

    quote = None
    while made < n:
        number += 1
        wp += 1
        p = Post(number, paragraphs(number), f"Title {number} " + words(rng, 4), DAY0)
        p.when = DAY0 + timedelta(days=number % 4000, minutes=number % 997)
        r = rng.random()
        series = r < 0.04
        if series:  # four posts opening with the same paragraph
            intro = paragraphs(number + 10_000_000, 60, 60)[0]
            for part in range(4):
                number += 1
                wp += 1
                q = Post(
                    number,
                    [intro, *paragraphs(number)],
                    f"{p.title} (Part {part + 1})",
                    p.when + timedelta(days=7 * part),
                )
                yield (
                    q.number,
                    "series",
                    key(site=NEW, wp_id=wp, title=q.title, published=q.when),
                    q.new_text(),
                )
                made += 1
            continue
        if 0.04 <= r < 0.06:  # two posts quoting one 150-word block
            if quote is None:
                quote = words(rng, 150) + "."
                p.body.insert(1, quote)
            else:
                p.body.insert(len(p.body) // 2, quote)
                quote = None
        yield (
            p.number,
            "original",
            key(site=NEW, wp_id=wp, title=p.title, published=p.when),
            p.new_text(),
        )
        made += 1
        if 0.06 <= r < 0.08:  # another post with the same title on the same day
            number += 1
            wp += 1
            q = Post(number, paragraphs(number), p.title, p.when + timedelta(hours=3))
            yield (
                q.number,
                "same_title",
                key(site=NEW, wp_id=wp, title=q.title, published=q.when),
                q.new_text(),
            )
            made += 1
        elif 0.08 <= r < 0.09:  # short templated notices: one title, one day, own ids
            for hour in range(2):
                number += 1
                wp += 1
                text = f"Our office is closed today. Durée : 45 minutes. Room {hour + 2}."
                yield (
                    number,
                    "notice",
                    key(
                        site=NEW,
                        wp_id=wp,
                        title="Office Closed",
                        published=p.when + timedelta(hours=hour),
                    ),
                    text,
                )
                made += 1
        copies = rng.random()
        base = p.new_text()
        if copies < 0.10:
            yield p.number, "exact", key(site=NEW, title=p.title, fmt="text"), base
        elif copies < 0.20:
            yield (
                p.number,
                "near",
                key(site=OLD, wp_id=wp + 500_000, title=p.title, published=p.when),
                edited(p.old_text(), number),
            )
        elif copies < 0.32:
            teaser = " ".join(p.body[0].split()[: 40 + number % 50])
            yield (
                p.number,
                "teaser",
                key(site=NEW, title=p.title, published=p.when, fmt="text_listing", excerpt=True),
                teaser,
            )
        elif copies < 0.35:
            tail = base.split()
            yield (
                p.number,
                "cut",
                key(site=NEW, fmt="text", excerpt=True),
                " ".join(tail[len(tail) * 2 // 3 :]),
            )
        elif copies < 0.40:
            yield (
                p.number,
                "cross",
                key(site=OLD, wp_id=wp + 900_000, title=p.title, published=p.when),
                edited(p.old_text(), number + 1, rate=0.01),
            )
        elif copies < 0.43:
            wp += 1
            yield (
                p.number,
                "repost",
                key(
                    site=NEW,
                    wp_id=wp,
                    title="Revisited: " + p.title,
                    published=p.when + timedelta(days=45),
                ),
                base,
            )
        else:
            continue
        made += 1


def pair_scores(truth: list[int], predicted: list[int]) -> tuple[float, float, int]:
    """Pair precision, pair recall, and clusters holding two or more true posts."""

    def pairs(counter: Counter[object]) -> int:
        return sum(c * (c - 1) // 2 for c in counter.values())

    both = pairs(Counter(zip(truth, predicted, strict=True)))
    pred, true = pairs(Counter(predicted)), pairs(Counter(truth))
    mixed: dict[int, set[int]] = {}
    for t, p in zip(truth, predicted, strict=True):
        mixed.setdefault(p, set()).add(t)
    return (
        both / pred if pred else 1.0,
        both / true if true else 1.0,
        sum(1 for v in mixed.values() if len(v) > 1),
    )


def run_one(n: int) -> None:
    """Shingles, boilerplate, signatures and grouping for n documents; one line of figures."""
    config = DedupConfig()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        store = HashStore(Path(tmp) / "shingles.bin")
        keys: list[DocKey] = []
        truth: list[int] = []
        kinds: Counter[str] = Counter()
        for i, (post, kind, f, text) in enumerate(corpus(n)):
            store.add(text_signature(text, config.shingle_size))
            keys.append(
                DocKey(
                    doc_id=f"{i:08d}",
                    content_sha256=hashlib.sha256(text.encode()).digest()[:16],
                    site=f.get("site"),  # type: ignore[arg-type]
                    wp_id=f.get("wp_id"),  # type: ignore[arg-type]
                    url=None,
                    source_format=str(f.get("fmt", "wp_rest_json")),
                    is_excerpt_only=bool(f.get("excerpt")),
                    modified_at=DAY0,
                    word_count=len(text.split()),
                    fetched_at=DAY0,
                    title=f.get("title"),  # type: ignore[arg-type]
                    published_at=f.get("published"),  # type: ignore[arg-type]
                    post_type="cw_post",
                )
            )
            truth.append(post)
            kinds[kind] += 1
        store.freeze()
        t_shingles = time.perf_counter() - t0
        sim = Similarity(store, [k.site for k in keys], config)
        count_boilerplate(keys, sim)
        t_df = time.perf_counter() - t0 - t_shingles
        posts = deduplicate(keys, sim, config)
        took = time.perf_counter() - t0
        label = [0] * len(keys)
        for g, post in enumerate(posts):
            for m in post.members:
                label[m] = g
        precision, recall, mixed = pair_scores(truth, label)
        store.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    true_posts = len(set(truth))
    print(
        f"{len(keys):>7} docs ({true_posts} posts, {len(keys) - true_posts} copies; "
        f"{kinds['series']} series, {kinds['same_title'] + kinds['notice']} same-title, "
        f"{kinds['teaser']} teasers, {kinds['repost']} reposts)  "
        f"shingles {t_shingles:5.1f} s  boilerplate {t_df:5.1f} s  total {took:6.1f} s  "
        f"peak RSS {peak_mb:5.0f} MB  precision {precision:.4f}  recall {recall:.4f}  "
        f"mixed clusters {mixed}",
        flush=True,
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
