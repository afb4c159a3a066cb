"""Main text of real article pages: cwingest beside bare trafilatura, in one run.

Reads the 200 real WordPress article pages of ``../shared/data/real/trafilatura-eval-wp``
(trafilatura's evaluation snippets: text that must be found, text that must not), ingests
them with cwingest into a temporary output, runs bare ``trafilatura.extract`` on the same
pages, and prints one JSON line each: share of "with" snippets found, of "without"
snippets absent, their F1, pages with no text, and seconds. Usage::

    python benchmarks/bench_pages.py [PAGES_DIR EVALDATA.json]
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

import pyarrow.parquet as pq

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "trafilatura-eval-wp"


def _norm(text: str | None) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text or "")).strip().lower()


def score(evaldata: dict[str, dict[str, list[str]]], texts: dict[str, str]) -> dict[str, float]:
    """The snippet scores of one extractor (same rules as shared/tools/score_snippets.py)."""
    w_hit = w_all = wo_ok = wo_all = empty = 0
    for fn, e in evaldata.items():
        t = _norm(texts.get(fn))
        empty += not t
        w_all += len(e["with"])
        w_hit += sum(_norm(x) in t for x in e["with"])
        wo_all += len(e["without"])
        wo_ok += sum(_norm(x) not in t for x in e["without"])
    r, p = w_hit / w_all, wo_ok / wo_all
    return {
        "pages": len(evaldata),
        "empty": empty,
        "with_found": round(r, 4),
        "without_absent": round(p, 4),
        "f1": round(2 * r * p / (r + p), 4),
    }


def main(argv: list[str]) -> int:
    """Print cwingest's and bare trafilatura's figures side by side."""
    pages = Path(argv[0]) if argv else SHARED / "pages"
    evalfile = Path(argv[1]) if len(argv) > 1 else SHARED / "evaldata.json"
    if not pages.is_dir():
        print(f"no pages at {pages} (../shared is absent)", file=sys.stderr)
        return 2
    evaldata = json.loads(evalfile.read_text("utf-8"))
    from cwingest.pipeline import run_ingest

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        run_ingest([str(pages)], out=Path(tmp) / "out", raw=Path(tmp) / "raw")
        took = time.perf_counter() - t0
        posts = {
            p["post_id"]: p["content_text"]
            for p in pq.read_table(Path(tmp) / "out" / "posts").to_pylist()
        }
        by_raw: dict[str, list[str]] = {}
        for s in pq.read_table(Path(tmp) / "out" / "post_sources").to_pylist():
            by_raw.setdefault(s["raw_id"], []).append(posts.get(s["post_id"], ""))
    ours = {
        fn: "\n".join(by_raw.get(hashlib.sha256((pages / fn).read_bytes()).hexdigest(), []))
        for fn in evaldata
    }
    import trafilatura

    t0 = time.perf_counter()
    bare = {
        fn: trafilatura.extract(gzip.decompress((pages / fn).read_bytes())) or "" for fn in evaldata
    }
    took_bare = time.perf_counter() - t0
    print(
        json.dumps(
            {"extractor": "cwingest ingest", **score(evaldata, ours), "seconds": round(took, 1)}
        )
    )
    print(
        json.dumps(
            {
                "extractor": "trafilatura.extract",
                **score(evaldata, bare),
                "seconds": round(took_bare, 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
