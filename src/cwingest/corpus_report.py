"""A first look at the corpus: one self-contained HTML page (``cwingest report``).

Charts are Vega-Lite specs rendered to SVG at build time (vl-convert, no browser and no
network), inlined in ``OUT/report/index.html`` with the figures behind them, so the page
opens anywhere, offline, with no script: posts per month by site and post type, authors
and issues (the most frequent and the long tail), sources per post and the relations of
duplicates, rejects by stage and reason, the distribution of text lengths, languages,
and the last runs with what they changed.
"""

from __future__ import annotations

import html
import os
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from cwingest import __version__
from cwingest.models import InputError

TOP = 20
LENGTH_BINS = ((0, 0), (1, 49), (50, 99), (100, 249), (250, 499), (500, 999), (1000, 1999))
_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
_FONT = "Helvetica, Arial, sans-serif"


def _read(out: Path, table: str, columns: list[str] | None = None) -> list[dict[str, Any]]:
    path = out / table
    if not path.exists():
        return []
    return pq.read_table(path, columns=columns).to_pylist()


def _svg(spec: dict[str, Any]) -> str:
    import vl_convert

    base = {
        "$schema": _SCHEMA,
        "width": 640,
        "config": {
            "font": _FONT,
            "title": {"fontSize": 15, "anchor": "start"},
            "axis": {"labelFontSize": 11, "titleFontSize": 12},
            "legend": {"labelFontSize": 11, "titleFontSize": 12, "labelLimit": 260},
        },
    }
    svg: str = vl_convert.vegalite_to_svg({**base, **spec})
    return svg


def _count_axis(totals: Counter[Any]) -> dict[str, Any]:
    """Ticks of a count axis: whole numbers only (small counts get one tick each)."""
    top = max(totals.values(), default=0)
    return {"values": list(range(top + 1)), "format": "d"} if top <= 10 else {"format": "d"}


def _bar(
    title: str,
    rows: list[dict[str, Any]],
    x: str,
    y: str,
    x_title: str,
    y_title: str,
    color: str | None = None,
    horizontal: bool = False,
    sort: list[str] | None = None,
) -> str:
    """A bar chart (categories on the y axis when ``horizontal``)."""
    cat: dict[str, Any] = {"field": x, "type": "nominal", "title": x_title, "sort": sort}
    totals: Counter[Any] = Counter()
    for row in rows:
        totals[row[x]] += row[y]
    val = {"field": y, "type": "quantitative", "title": y_title, "axis": _count_axis(totals)}
    if horizontal:
        cat["axis"] = {"labelLimit": 300}
        cat["sort"] = sort or "-x"
    encoding: dict[str, Any] = {"y": cat, "x": val} if horizontal else {"x": cat, "y": val}
    if color:
        encoding["color"] = {"field": color, "type": "nominal", "title": color.replace("_", " ")}
    spec: dict[str, Any] = {
        "title": title,
        "data": {"values": rows},
        "mark": {"type": "bar", "tooltip": True},
        "encoding": encoding,
    }
    spec["height"] = {"step": 16} if horizontal else 220
    return _svg(spec)


def _figure(title: str, chart: str | None, caption: str) -> str:
    body = chart if chart else '<p class="empty">Nothing to chart yet.</p>'
    return (
        f'<figure aria-label="{html.escape(title)}"><h2>{html.escape(title)}</h2>'
        f"{body}<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


MONTH_GROUPS = 9  # site and type pairs shown apart; the rest are one colour


def _months(posts: list[dict[str, Any]]) -> str:
    def label(p: dict[str, Any]) -> str:
        return f"{p['site'] or 'unknown site'} · {p['post_type'] or 'post'}"

    sizes = Counter(label(p) for p in posts if p["published_at"] is not None)
    shown = {name for name, _ in sizes.most_common(MONTH_GROUPS)}
    others = len(sizes) - len(shown)
    counts: Counter[tuple[str, str]] = Counter()
    for p in posts:
        if p["published_at"] is not None:
            name = label(p) if label(p) in shown else f"{others} other sites and types"
            counts[(p["published_at"].strftime("%Y-%m"), name)] += 1
    undated = sum(1 for p in posts if p["published_at"] is None)
    rows = [{"month": m, "site_and_type": s, "posts": n} for (m, s), n in sorted(counts.items())]
    per_month: Counter[str] = Counter()
    for (month, _), n in counts.items():
        per_month[month] += n
    chart = None
    if rows:
        chart = _svg(
            {
                "title": "Posts per month, by site and post type",
                "height": 260,
                "data": {"values": rows},
                "mark": {"type": "bar", "tooltip": True},
                "encoding": {
                    "x": {
                        "field": "month",
                        "type": "temporal",
                        "timeUnit": "yearmonth",
                        "title": "Month of first publication",
                        "axis": {"format": "%Y", "labelOverlap": True},
                    },
                    "y": {
                        "field": "posts",
                        "type": "quantitative",
                        "title": "Posts",
                        "axis": _count_axis(per_month),
                    },
                    "color": {"field": "site_and_type", "type": "nominal", "title": "Site · type"},
                },
            }
        )
    return _figure(
        "Posts per month",
        chart,
        f"{len(posts) - undated} posts with a publication date; {undated} without one.",
    )


def _names(posts: list[dict[str, Any]], column: str, label: str) -> str:
    counts: Counter[str] = Counter(n for p in posts for n in p[column])
    top = counts.most_common(TOP)
    once = sum(1 for n in counts.values() if n == 1)
    rows = [{label: name, "posts": n} for name, n in top]
    chart = (
        _bar(
            f"The {len(top)} {label}s with most posts",
            rows,
            label,
            "posts",
            label.capitalize(),
            "Posts",
            horizontal=True,
        )
        if rows
        else None
    )
    without = sum(1 for p in posts if not p[column])
    return _figure(
        f"{label.capitalize()}s",
        chart,
        f"{len(counts)} {label}s in all; the long tail: {once} with a single post; "
        f"{without} posts name none.",
    )


def _sources(posts: list[dict[str, Any]], relations: list[dict[str, Any]]) -> list[str]:
    per_post: Counter[str] = Counter(
        str(min(p["source_count"], 10)) + ("+" if p["source_count"] >= 10 else "") for p in posts
    )
    order = [str(i) for i in range(1, 10)] + ["10+"]
    rows = [{"sources": k, "posts": per_post[k]} for k in order if per_post[k]]
    by_relation = Counter(r["relation"] for r in relations)
    rel_rows = [{"relation": k, "documents": n} for k, n in by_relation.most_common()]
    return [
        _figure(
            "Sources per post",
            _bar(
                "Posts by the number of documents merged into them",
                rows,
                "sources",
                "posts",
                "Documents (copies) per post",
                "Posts",
                sort=order,
            )
            if rows
            else None,
            f"{sum(per_post.values())} posts from {len(relations)} documents.",
        ),
        _figure(
            "Duplicate relations",
            _bar(
                "Documents by their relation to their post's canonical copy",
                rel_rows,
                "relation",
                "documents",
                "Relation",
                "Documents",
                horizontal=True,
            )
            if rel_rows
            else None,
            "canonical: the copy a post's text comes from; the others are its duplicates, "
            "excerpts, older versions and reposts.",
        ),
    ]


def _rejects(rejects: list[dict[str, Any]]) -> str:
    counts = Counter((r["stage"], r["error"]) for r in rejects)
    rows = [{"reason": e, "stage": s, "rejects": n} for (s, e), n in counts.most_common(30)]
    return _figure(
        "Rejects",
        _bar(
            "Rejects by stage and reason",
            rows,
            "reason",
            "rejects",
            "Reason",
            "Inputs or documents",
            color="stage",
            horizontal=True,
        )
        if rows
        else None,
        f"{len(rejects)} inputs or documents could not be used (the rejects table says why).",
    )


def _lengths(posts: list[dict[str, Any]]) -> str:
    labels = [f"{a}–{b}" if a != b else str(a) for a, b in LENGTH_BINS] + ["2000+"]
    counts: Counter[str] = Counter()
    for p in posts:
        words = p["word_count"]
        for (a, b), label in zip(LENGTH_BINS, labels, strict=False):
            if a <= words <= b:
                counts[label] += 1
                break
        else:
            counts["2000+"] += 1
    rows = [{"words": k, "posts": counts[k]} for k in labels]
    excerpts = sum(1 for p in posts if p["is_excerpt_only"])
    return _figure(
        "Text length",
        _bar(
            "Posts by the length of their text",
            rows,
            "words",
            "posts",
            "Words in content_text",
            "Posts",
            sort=labels,
        )
        if posts
        else None,
        f"{excerpts} posts are known only by an excerpt.",
    )


def _languages(posts: list[dict[str, Any]]) -> str:
    counts = Counter(p["language"] or "no text" for p in posts)
    rows = [{"language": k, "posts": n} for k, n in counts.most_common(TOP)]
    return _figure(
        "Languages",
        _bar(
            "Posts by the language of their text",
            rows,
            "language",
            "posts",
            "Language",
            "Posts",
            horizontal=True,
        )
        if rows
        else None,
        f"{len(counts)} values (ISO 639-1 codes); und: the text is too short or its language "
        "unsure.",
    )


def _runs(runs: list[dict[str, Any]], changes: list[dict[str, Any]]) -> str:
    last = sorted(runs, key=lambda r: r["started_at"])[-12:]
    by_run = Counter((c["run_id"], c["change"]) for c in changes)
    rows = [
        {"run": r["started_at"].strftime("%Y-%m-%d %H:%M:%S"), "change": kind, "posts": n}
        for r in last
        for kind in ("added", "updated", "deleted", "restored")
        if (n := by_run[(r["run_id"], kind)])
    ]
    order = [r["started_at"].strftime("%Y-%m-%d %H:%M:%S") for r in last]
    chart = (
        _bar(
            "What the last runs changed",
            rows,
            "run",
            "posts",
            "Run (start, UTC)",
            "Posts",
            color="change",
            sort=order,
        )
        if rows
        else None
    )
    head = "<tr><th>run</th><th>command</th><th>inputs</th><th>posts</th><th>added</th>"
    head += "<th>updated</th><th>deleted</th><th>rejected</th><th>seconds</th></tr>"
    body = []
    for r in reversed(last):
        took = (r["finished_at"] - r["started_at"]).total_seconds() if r["finished_at"] else 0
        cells = [
            r["run_id"],
            r["command"],
            r["inputs"],
            r["posts"],
            r["posts_new"],
            r["posts_updated"],
            r.get("posts_deleted") or 0,
            r["rejected"],
            f"{took:.1f}",
        ]
        body.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    table = f'<table class="runs">{head}{"".join(body)}</table>'
    return _figure("Last runs", chart, f"{len(runs)} runs in all.") + table


_CSS = """
body { font-family: Helvetica, Arial, sans-serif; margin: 2rem auto; max-width: 980px;
       color: #222; padding: 0 1rem; }
h1 { margin-bottom: .2rem; } .meta { color: #666; margin-top: 0; }
figure { margin: 2rem 0; padding: 1rem; border: 1px solid #ddd; border-radius: 6px; }
figure h2 { margin: 0 0 .5rem; font-size: 1.1rem; } figcaption { color: #555; }
figure svg { max-width: 100%; height: auto; } .empty { color: #888; }
table { border-collapse: collapse; font-size: .85rem; } td, th { padding: .2rem .5rem;
       border-bottom: 1px solid #eee; text-align: right; } td:first-child { text-align: left; }
dl.totals { display: grid; grid-template-columns: repeat(4, 1fr); gap: .5rem; }
dl.totals div { background: #f6f6f6; padding: .6rem; border-radius: 6px; }
dt { color: #666; font-size: .8rem; } dd { margin: 0; font-size: 1.4rem; }
"""


def report_html(out: str | Path) -> str:
    """The report page of the corpus published under ``out``."""
    out = Path(out)
    if not (out / "posts").exists():
        raise InputError(f"{out} holds no published tables (run cwingest ingest or crawl first)")
    posts = _read(
        out,
        "posts",
        [
            "site",
            "post_type",
            "published_at",
            "authors",
            "issues",
            "source_count",
            "word_count",
            "is_excerpt_only",
            "language",
        ],
    )
    relations = _read(out, "post_sources", ["relation"])
    rejects = _read(out, "rejects", ["stage", "error"])
    runs = _read(out, "runs")
    changes = _read(out, "changes", ["run_id", "change"])
    raw = _read(out, "raw_records", ["raw_id"])
    totals = {
        "posts": len(posts),
        "sites": len({p["site"] for p in posts if p["site"]}),
        "documents": len(relations),
        "raw inputs": len(raw),
        "authors": len({a for p in posts for a in p["authors"]}),
        "issues": len({i for p in posts for i in p["issues"]}),
        "rejects": len(rejects),
        "runs": len(runs),
    }
    dl = "".join(f"<div><dt>{html.escape(k)}</dt><dd>{v:,}</dd></div>" for k, v in totals.items())
    figures = [
        _months(posts),
        _names(posts, "authors", "author"),
        _names(posts, "issues", "issue"),
        *_sources(posts, relations),
        _rejects(rejects),
        _lengths(posts),
        _languages(posts),
        _runs(runs, changes),
    ]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>cwingest corpus report: {html.escape(str(out))}</title>"
        f"<style>{_CSS}</style></head><body>"
        f'<h1>Corpus report</h1><p class="meta">{html.escape(str(out.resolve()))} · '
        f"made {now} by cwingest {html.escape(__version__)}</p>"
        f'<dl class="totals">{dl}</dl>' + "".join(figures) + "</body></html>\n"
    )


def write_report(out: str | Path) -> Path:
    """Write ``OUT/report/index.html`` (atomically); returns its path."""
    folder = Path(out) / "report"
    page = report_html(out)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "index.html"
    tmp = folder / ".index.html.tmp"
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, target)
    return target
