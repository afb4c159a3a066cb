"""Whole-process figures of the pipeline beside references measured in the same run.

One JSON line per input form and measure, each in a fresh process so its peak RSS is its
own::

    python -m benchmarks.run --posts 1500

* ``rest``: a REST dump of N records (list pages of 100) ingested from scratch, beside
  the floor of reading the same JSON, extracting each content's text with lxml and
  writing one Parquet file (``ratio`` = cwingest seconds / floor seconds; target 2.5).
* ``incremental``: a synthetic publication of N posts in every shape (REST pages, WXR,
  saved pages, captures, text copies, listings): the full build, a rerun with nothing
  new and a run adding one new input, as percentages of the full build (targets 5 % and
  10 %), with the run's per-stage seconds.
* ``memory``: peak RSS of whole ingests of 10,000 and 100,000 posts, each in a fresh
  process (target: the larger at most twice the smaller; takes about four minutes).
* ``pages_profiled``: up to 400 saved pages of the synthetic new site, which has a site
  profile, beside bare ``trafilatura.extract`` over the same files (target: 3 times its
  throughput); ``pages_generic``: the same pages moved to a domain and theme no profile
  knows (target: at most 1.2 times trafilatura's seconds). Both report the share of the
  authors' paragraphs each side kept (``paragraph_recall``; reposts are not merged here, so
  each page's own text is measured). The 200 real article pages are
  measured, with their text quality, by ``benchmarks/bench_pages.py``.

Benchmarks print figures; tests never time anything.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rest_dump(folder: Path, n: int) -> None:
    from benchmarks.bench_pipeline import write_corpus

    write_corpus(folder, n)
    for copy in folder.glob("copy-*.txt"):  # REST records only
        copy.unlink()


def rest(n: int) -> dict[str, Any]:
    """cwingest over a REST dump of n records, and the floor over the same files."""
    import lxml.html
    import pyarrow as pa
    import pyarrow.parquet as pq

    from cwingest.pipeline import run_ingest

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _rest_dump(root / "in", n)
        size = sum(p.stat().st_size for p in (root / "in").iterdir())
        t0 = time.perf_counter()
        rows = []
        for path in sorted((root / "in").iterdir()):
            for rec in json.loads(path.read_bytes()):
                html = rec["content"]["rendered"]
                text = lxml.html.fromstring(html).text_content() if html.strip() else ""
                rows.append({"id": rec["id"], "title": rec["title"]["rendered"], "text": text})
        pq.write_table(pa.Table.from_pylist(rows), root / "floor.parquet")
        floor = time.perf_counter() - t0
        t0 = time.perf_counter()
        summary = run_ingest([str(root / "in")], out=root / "out", raw=root / "raw")
        took = time.perf_counter() - t0
    return {
        "form": "rest",
        "posts": n,
        "documents": summary.documents,
        "seconds": round(took, 2),
        "docs_per_s": round(summary.documents / took, 1),
        "mb_per_s": round(size / 1e6 / took, 2),
        "floor_seconds": round(floor, 2),
        "floor_docs_per_s": round(len(rows) / floor, 1),
        "ratio": round(took / floor, 2),
        "target_ratio": 2.5,
        "stage_seconds": {k: round(v, 2) for k, v in summary.stage_seconds.items()},
        "peak_rss_mb": round(_peak_mb()),
    }


def incremental(n: int) -> dict[str, Any]:
    """Full build, rerun with nothing new, one new input: seconds and shares of the full."""
    from cwingest.pipeline import run_ingest
    from cwingest.synthetic import write_publication

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_publication(root / "pub", posts=n)
        size = sum(p.stat().st_size for p in (root / "pub").rglob("*") if p.is_file())
        out, raw = root / "out", root / "raw"

        def timed(path: Path) -> tuple[float, Any]:
            t0 = time.perf_counter()
            summary = run_ingest([str(path)], out=out, raw=raw)
            return time.perf_counter() - t0, summary

        full, first = timed(root / "pub")
        rerun, again = timed(root / "pub")
        new = root / "new.txt"
        new.write_text(
            "A Note Nobody Wrote Before\n\nPosted on May 1, 2026 by Kim Alvarez\n\n"
            "Advisory is where our students set their goals for the year and check them "
            "every week with an adult who knows them.\n",
            encoding="utf-8",
        )
        one, added = timed(new)
    return {
        "form": "incremental",
        "posts": n,
        "inputs": first.inputs,
        "documents": first.documents,
        "mb": round(size / 1e6, 1),
        "full_seconds": round(full, 2),
        "rerun_seconds": round(rerun, 2),
        "rerun_pct": round(100 * rerun / full, 1),
        "target_rerun_pct": 5,
        "one_new_seconds": round(one, 2),
        "one_new_pct": round(100 * one / full, 1),
        "target_one_new_pct": 10,
        "one_new_inputs_parsed": added.inputs_parsed,
        "full_stage_seconds": {k: round(v, 2) for k, v in first.stage_seconds.items()},
        "one_new_stage_seconds": {k: round(v, 2) for k, v in added.stage_seconds.items()},
        "rerun_inputs_parsed": again.inputs_parsed,
        "peak_rss_mb": round(_peak_mb()),
    }


def _saved_pages(folder: Path, n: int, profiled: bool) -> dict[Path, list[str]]:
    """n saved single-post pages of the synthetic new site (aurora-institute.org, which has
    a site profile) or the same pages moved to a domain and theme no profile knows; each
    with the paragraphs the post's author wrote (what a main-text extractor must keep)."""
    import random

    from cwingest.synthetic import html_single, make_posts

    posts, bios = make_posts(max(n, 10))
    rng = random.Random(5)
    folder.mkdir(parents=True)
    paths: dict[Path, list[str]] = {}
    for p in [p for p in posts if p.new_id is not None][:n]:
        page = html_single(p, bios, True, rng.sample(posts, 3))
        if not profiled:
            page = (
                page.replace("aurora-institute.org", "schools-unprofiled.example")
                .replace("Aurora Institute", "Unprofiled Schools")
                .replace("cw-authors", "post-writers")
                .replace("cw-issues", "post-topics")
                .replace("cw_post", "article_post")
            )
        path = folder / f"{p.slug}.html"
        path.write_text(page, encoding="utf-8")
        paths[path] = list(p.paragraphs)
    return paths


def _recall(texts: dict[Path, str], truth: dict[Path, list[str]]) -> float:
    """Share of the authors' paragraphs found in each page's extracted text."""
    found = total = 0
    for path, paragraphs in truth.items():
        text = " ".join(texts.get(path, "").split())
        total += len(paragraphs)
        found += sum(" ".join(para.split()) in text for para in paragraphs)
    return round(found / total, 4) if total else 0.0


def _pages(n: int, profiled: bool) -> dict[str, Any]:
    import trafilatura  # imported before either clock starts

    from cwingest.dedup.similarity import DedupConfig
    from cwingest.pipeline import run_ingest

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        truth = _saved_pages(root / "in", n, profiled)
        paths = list(truth)
        size = sum(p.stat().st_size for p in paths)
        t0 = time.perf_counter()
        bare = {p: trafilatura.extract(p.read_bytes()) or "" for p in paths}
        floor = time.perf_counter() - t0
        t0 = time.perf_counter()
        # reposts kept apart, so each page's own extracted text is what its post shows
        summary = run_ingest(
            [str(root / "in")],
            out=root / "out",
            raw=root / "raw",
            dedup=DedupConfig(merge_reposts=False),
        )
        took = time.perf_counter() - t0
        ours = _texts_by_file(root / "out", paths)
    out = {
        "form": "pages_profiled" if profiled else "pages_generic",
        "pages": len(paths),
        "documents": summary.documents,
        "seconds": round(took, 2),
        "docs_per_s": round(summary.documents / took, 1),
        "mb_per_s": round(size / 1e6 / took, 2),
        "trafilatura_seconds": round(floor, 2),
        "trafilatura_docs_per_s": round(len(bare) / floor, 1),
        "ratio": round(took / floor, 2),
        "paragraph_recall": _recall(ours, truth),
        "trafilatura_paragraph_recall": _recall(bare, truth),
        "stage_seconds": {k: round(v, 2) for k, v in summary.stage_seconds.items()},
        "peak_rss_mb": round(_peak_mb()),
    }
    if profiled:
        out["throughput_vs_trafilatura"] = round(floor / took, 2)
        out["target_throughput_vs_trafilatura"] = 3.0
    else:
        out["target_ratio"] = 1.2
    return out


def _texts_by_file(out: Path, paths: list[Path]) -> dict[Path, str]:
    """The published text of the post each file became (through its sha256)."""
    import hashlib

    import pyarrow.parquet as pq

    texts = {
        r["post_id"]: r["content_text"] or "" for r in pq.read_table(out / "posts").to_pylist()
    }
    by_raw: dict[str, str] = {}
    for s in pq.read_table(out / "post_sources", columns=["raw_id", "post_id"]).to_pylist():
        by_raw.setdefault(s["raw_id"], texts.get(s["post_id"], ""))
    return {p: by_raw.get(hashlib.sha256(p.read_bytes()).hexdigest(), "") for p in paths}


def pages_profiled(n: int) -> dict[str, Any]:
    """Saved pages of a site with a profile, beside bare trafilatura (target: 3x faster)."""
    return _pages(min(n, 400), profiled=True)


def pages_generic(n: int) -> dict[str, Any]:
    """The same pages on a site no profile knows, beside bare trafilatura (target 1.2x)."""
    return _pages(min(n, 400), profiled=False)


def memory(n: int) -> dict[str, Any]:
    """Peak RSS of a whole ingest of 10,000 and of 100,000 posts (REST pages and a text
    copy of every tenth post), each in a fresh process (target: at most twice)."""
    del n  # the sizes are the target's own
    peaks: dict[int, float] = {}
    for size in (10_000, 100_000):
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_pipeline", "--one", str(size)],
            check=True,
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        peaks[size] = float(done.stdout.split("peak RSS")[1].split()[0])
    return {
        "form": "memory",
        "peak_rss_mb_10000": round(peaks[10_000]),
        "peak_rss_mb_100000": round(peaks[100_000]),
        "ratio": round(peaks[100_000] / peaks[10_000], 2),
        "target_ratio": 2.0,
    }


MEASURES = {
    "rest": rest,
    "incremental": incremental,
    "pages_profiled": pages_profiled,
    "pages_generic": pages_generic,
    "memory": memory,
}


def main(argv: list[str] | None = None) -> None:
    """Run each measure in its own process and print its JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1500)
    parser.add_argument("--only", choices=sorted(MEASURES))
    parser.add_argument("--one", choices=sorted(MEASURES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(MEASURES[args.one](args.posts)), flush=True)
        return
    for name in [args.only] if args.only else sorted(MEASURES):
        subprocess.run(
            [sys.executable, "-m", "benchmarks.run", "--one", name, "--posts", str(args.posts)],
            check=True,
            cwd=Path(__file__).resolve().parents[1],
        )


if __name__ == "__main__":
    main()
