"""Throughput and memory of a whole ingest run on a synthetic corpus.

Writes N invented REST records (list pages of 100) plus a text copy of every tenth post,
ingests them, and prints seconds, documents per second and peak memory. Each size runs in
a fresh process so peak memory is that run's own. Usage::

    python benchmarks/bench_pipeline.py [N ...]      # default: 1000 5000
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cwingest.sample import SamplePost, make_posts, rest_record, text_copy


def write_corpus(folder: Path, n: int) -> None:
    """N posts as REST list pages, plus a text copy of every tenth post."""
    base = make_posts()
    folder.mkdir(parents=True, exist_ok=True)
    page: list[dict[str, object]] = []
    for i in range(n):
        proto = base[i % len(base)]
        post = SamplePost(
            wp_id=100000 + i,
            slug=f"{proto.slug}-{i}",
            title=f"{proto.title} ({i})",
            date_gmt=proto.date_gmt,
            modified_gmt=proto.modified_gmt,
            author=proto.author,
            issues=proto.issues,
            paragraphs=[f"Post {i}. {p}" for p in proto.paragraphs],
        )
        page.append(rest_record(post))
        if i % 10 == 0:
            (folder / f"copy-{i}.txt").write_text(text_copy(post))
        if len(page) == 100:
            (folder / f"page-{i // 100}.json").write_text(json.dumps(page))
            page = []
    if page:
        (folder / "page-last.json").write_text(json.dumps(page))


def run_one(n: int) -> None:
    """Build and ingest a corpus of n posts in this process; print one line of figures."""
    from cwingest.pipeline import run_ingest

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_corpus(root / "in", n)
        t0 = time.perf_counter()
        summary = run_ingest([str(root / "in")], out=root / "out", raw=root / "raw")
        took = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{n:>7} posts  {summary.documents:>7} documents  {summary.posts:>7} posts out  "
        f"{took:7.1f} s  {summary.documents / took:7.0f} docs/s  peak RSS {peak_mb:6.0f} MB"
    )


def main(argv: list[str]) -> None:
    """Run each size in its own process."""
    if argv[:1] == ["--one"]:
        run_one(int(argv[1]))
        return
    for n in [int(a) for a in argv] or [1000, 5000]:
        subprocess.run([sys.executable, __file__, "--one", str(n)], check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
