"""What one run did, for the people who watch it: counts by stage and the posts it changed.

The flows publish these as Prefect artifacts (a table and a markdown page per run); they
are plain functions of a :class:`~cwingest.pipeline.RunSummary` and the published tables,
so anything else (a mail, a chat message) can show the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.compute as pc

from cwingest.publish.writer import read_table
from cwingest.util import markdown_cell

if TYPE_CHECKING:
    from cwingest.pipeline import RunSummary

# Columns of the counts table, and which stage counts fill them (stage -> {column: count}).
COUNT_COLUMNS = (
    "stage",
    "inputs",
    "parsed",
    "from_cache",
    "documents",
    "posts",
    "added",
    "updated",
    "unchanged",
    "deleted",
    "restored",
    "removed",
    "duplicates",
    "rejected",
    "skipped",
    "seconds",
)
_FROM_STAGE = {
    "parse": {
        "inputs": "inputs",
        "parsed": "parsed",
        "from_cache": "cached",
        "documents": "documents",
        "rejected": "rejected_inputs",
    },
    "enrich": {"documents": "documents"},
    "deduplicate": {"documents": "documents", "posts": "posts", "duplicates": "duplicates"},
    "publish": {
        "posts": "posts",
        "added": "new",
        "updated": "updated",
        "unchanged": "unchanged",
        "deleted": "deleted",
        "restored": "restored",
        "removed": "removed",
        "rejected": "rejected",
        "skipped": "skipped",
    },
}


def count_rows(summary: RunSummary) -> list[dict[str, Any]]:
    """One row per stage the run went through, then the run's totals ("run")."""
    rows = []
    for stage, counts in summary.stages.items():
        row: dict[str, Any] = dict.fromkeys(COUNT_COLUMNS)
        row["stage"] = stage
        for column, key in _FROM_STAGE.get(stage, {}).items():
            row[column] = counts.get(key)
        row["seconds"] = round(summary.stage_seconds.get(stage, 0.0), 2)
        rows.append(row)
    took = (
        (summary.finished_at - summary.started_at).total_seconds() if summary.finished_at else None
    )
    rows.append(
        dict.fromkeys(COUNT_COLUMNS)
        | {
            "stage": "run",
            "inputs": summary.inputs,
            "parsed": summary.inputs_parsed,
            "documents": summary.documents,
            "posts": summary.posts,
            "added": summary.posts_new,
            "updated": summary.posts_updated,
            "unchanged": summary.posts_unchanged,
            "deleted": summary.posts_deleted,
            "restored": summary.posts_restored,
            "removed": summary.posts_removed,
            "duplicates": summary.duplicates,
            "rejected": summary.rejected,
            "skipped": summary.skipped,
            "seconds": round(took, 2) if took is not None else None,
        }
    )
    return rows


def changes_markdown(summary: RunSummary, out: str | Path, limit: int = 100) -> str:
    """A markdown page of the run: its counts, the posts it added, updated, deleted or
    restored (from ``changes``), failed sites, and the rejects of the inputs it brought
    (at most ``limit`` lines per list; the tables hold the rest)."""
    out = Path(out)
    lines = [
        f"# cwingest {summary.command}: run {summary.run_id}",
        "",
        summary.render(),
        "",
    ]
    if summary.failed_sites:
        lines += ["## Sites that could not be crawled", ""]
        lines += [f"- {_cell(s)}" for s in summary.failed_sites] + [""]
    changes = read_table(out, "changes")
    mine = (
        changes.filter(pc.equal(changes["run_id"], summary.run_id)).to_pylist()
        if changes is not None
        else []
    )
    urls = _urls(out, [c["post_id"] for c in mine[: 4 * limit]])
    for kind, heading in (
        ("added", "Added"),
        ("updated", "Updated"),
        ("deleted", "Deleted"),
        ("restored", "Restored"),
    ):
        rows = [c for c in mine if c["change"] == kind]
        if not rows:
            continue
        lines += [f"## {heading} ({len(rows)})", "", "| post | title | fields | url |"]
        lines += ["| --- | --- | --- | --- |"]
        for c in rows[:limit]:
            fields = ", ".join(c["fields"])
            if c["replaced_by"]:
                fields = f"merged into {c['replaced_by']}"
            lines.append(
                f"| {c['post_id']} | {_cell(c['title'])} | {_cell(fields)} | "
                f"{_cell(urls.get(c['post_id']))} |"
            )
        if len(rows) > limit:
            lines.append(f"| … | {len(rows) - limit} more in the changes table | | |")
        lines.append("")
    if not mine:
        lines += ["No post was added, updated, deleted or restored.", ""]
    rejects = _new_rejects(out, summary)
    lines += [
        f"## Rejects of this run's inputs ({len(rejects)})",
        "",
        f"The rejects table holds {summary.rejected} in all, with the inputs of earlier runs.",
        "",
    ]
    if rejects:
        lines += ["| source | stage | error | detail |", "| --- | --- | --- | --- |"]
        for r in rejects[:limit]:
            lines.append(
                f"| {_cell(r['source_uri'])} | {r['stage']} | {_cell(r['error'])} | "
                f"{_cell(r['detail'])} |"
            )
        if len(rejects) > limit:
            lines.append(f"| … | | | {len(rejects) - limit} more in the rejects table |")
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    return "" if value is None else markdown_cell(str(value))


def _urls(out: Path, post_ids: list[str]) -> dict[str, str | None]:
    posts = read_table(out, "posts", columns=["post_id", "url"])
    if posts is None or not post_ids:
        return {}
    import pyarrow as pa

    chosen = posts.filter(pc.is_in(posts["post_id"], value_set=pa.array(post_ids, pa.string())))
    return {r["post_id"]: r["url"] for r in chosen.to_pylist()}


def _new_rejects(out: Path, summary: RunSummary) -> list[dict[str, Any]]:
    """Rejects of the inputs this run brought (every file of a run is fetched at its start)."""
    raw = read_table(out, "raw_records", columns=["raw_id", "source_uri", "fetched_at"])
    rejects = read_table(out, "rejects")
    if raw is None or rejects is None:
        return []
    new = {
        (r["raw_id"], r["source_uri"])
        for r in raw.to_pylist()
        if r["fetched_at"] is not None and r["fetched_at"] == summary.started_at
    }
    return [
        r
        for r in rejects.to_pylist()
        if (r["raw_id"], r["source_uri"]) in new
        or (r["raw_id"] is None and r["stage"] == "acquire")
    ]
