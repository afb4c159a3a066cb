"""The publish stage: the curated tables, written as new versions and switched at once.

Posts are merged from their documents in post order (:func:`cwingest.dedup.merge.merge_group`),
their sources, the raw records and rejects, the authors and issues, and the post id map
are staged with the :class:`~cwingest.publish.writer.TableWriter`, checked against their
schemas; the caller switches them all (``runs`` last, once the run's figures are known).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from cwingest.acquire.files import Unreadable
from cwingest.cache import CACHE_DIR, code_digest, room_for_cache
from cwingest.dedup.merge import merge_group, source_row
from cwingest.models import Document, RawInput, document_from_dict
from cwingest.publish.writer import TableWriter, read_table
from cwingest.report import StageReport
from cwingest.spool import Spool
from cwingest.util import slugify

if TYPE_CHECKING:
    from cwingest.parse.stage import RawOutcome


def publish_tables(
    writer: TableWriter,
    spool: Spool,
    out: Path,
    entries: list[RawInput],
    outcomes: dict[str, RawOutcome],
    unreadable: list[Unreadable],
    id_changes: list[dict[str, Any]],
) -> StageReport:
    """Stage every curated table but ``runs``; counts posts new, updated and unchanged
    against the published version."""
    started = time.perf_counter()
    previous, was_deleted = _previous_hashes(out)
    tombstones = _tombstones(spool)
    stats = {"new": 0, "updated": 0, "unchanged": 0, "deleted": 0}
    new_hashes: dict[str, str] = {}  # what the next run compares against
    now_deleted: set[str] = set()
    author_counts: dict[str, tuple[str, int]] = {}
    issue_counts: dict[str, tuple[str, int]] = {}

    def post_rows() -> Iterator[dict[str, Any]]:
        group: list[tuple[Document, str, float | None, bool]] = []
        current = None
        for post_key, fields, relation, sim, is_primary in spool.grouped():
            pid = str(post_key).split(":")[0]
            if current is not None and pid != current:
                yield emit(current, group)
                group = []
            current = pid
            group.append((document_from_dict(fields), relation, sim, bool(is_primary)))
        if current is not None:
            yield emit(current, group)

    def emit(pid: str, members: list[tuple[Document, str, float | None, bool]]) -> dict[str, Any]:
        docs = [m[0] for m in members]
        row = merge_group(pid, docs, [m[3] for m in members])
        gone = tombstones.get((row["site"], row["wp_id"]))
        # deleted when the tombstone is newer than every copy (a post that came back is
        # live again)
        if gone and (row["last_seen_at"] is None or gone[0] > row["last_seen_at"]):
            row["deleted_at"], row["deleted_reason"] = gone
            stats["deleted"] += pid not in was_deleted
        spool.add_sources([source_row(pid, d, rel, sim) for d, rel, sim, _ in members])
        digest = _row_hash(row)
        new_hashes[pid] = digest
        if row.get("deleted_at") is not None:
            now_deleted.add(pid)
        old = previous.get(pid)
        stats["new" if old is None else "unchanged" if old == digest else "updated"] += 1
        for name in row["authors"]:
            _count(author_counts, name)
        for name in row["issues"]:
            _count(issue_counts, name)
        return row

    posts = writer.stage("posts", post_rows())
    _save_digests(out, writer.staged["posts"].name, new_hashes, now_deleted)
    new_hashes.clear()
    now_deleted.clear()
    writer.stage("post_sources", spool.sources())
    spool.close()
    raw_rows, reject_rows, skipped = raw_and_reject_rows(entries, outcomes, unreadable)
    writer.stage("raw_records", raw_rows)
    writer.stage(
        "rejects",
        sorted(
            reject_rows,
            key=lambda r: tuple(
                str(r[k]) for k in ("source_uri", "raw_id", "stage", "error", "detail")
            ),
        ),
    )
    writer.stage("authors", _name_rows(author_counts))
    writer.stage("issues", _name_rows(issue_counts))
    writer.stage("post_id_map", id_changes)
    report = StageReport("publish")
    report.counts = {
        "posts": posts,
        "new": stats["new"],
        "updated": stats["updated"],
        "unchanged": stats["unchanged"],
        "deleted": stats["deleted"],
        "rejected": len(reject_rows),
        "skipped": skipped,
    }
    report.seconds = time.perf_counter() - started
    return report


def _tombstones(spool: Spool) -> dict[tuple[str | None, int], tuple[datetime, str]]:
    """(site, wp_id) -> (time, reason) of the newest tombstone the inputs hold."""
    out: dict[tuple[str | None, int], tuple[datetime, str]] = {}
    for lk in spool.lookups():
        if lk.kind != "deleted" or not lk.slug:
            continue
        try:
            when = datetime.fromisoformat(lk.slug.replace("Z", "+00:00"))
        except ValueError:
            continue
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        key = (lk.site, lk.id)
        if key not in out or when > out[key][0]:
            out[key] = (when, lk.name)
    return out


def post_id_changes(
    out: Path, new_ids: dict[str, str], run_id: str, started_at: datetime
) -> list[dict[str, Any]]:
    """Earlier mapping rows, plus one per post id of the previous run that no longer exists."""
    before = read_table(out, "post_id_map")
    rows: list[dict[str, Any]] = before.to_pylist() if before is not None else []
    sources = read_table(out, "post_sources", columns=["post_id", "raw_id", "doc_index"])
    if sources is None:
        return rows
    current = set(new_ids.values())
    # only the sources of posts this run no longer has reach Python (usually none): the
    # others are filtered in Arrow, so memory does not hold a row per source
    gone = sources.filter(
        pc.invert(pc.is_in(sources["post_id"], value_set=pa.array(sorted(current), pa.string())))
    )
    old_docs: dict[str, list[str]] = {}
    for r in gone.to_pylist():
        old_docs.setdefault(r["post_id"], []).append(f"{r['raw_id']}:{r['doc_index']}")
    for old in sorted(set(old_docs) - current):
        targets = sorted({new_ids[d] for d in old_docs[old] if d in new_ids})
        rows.append(
            {
                "old_post_id": old,
                "new_post_id": targets[0] if len(targets) == 1 else None,
                "run_id": run_id,
                "changed_at": started_at,
                "reason": "merged" if len(targets) == 1 else "split" if targets else "removed",
            }
        )
    return rows


def _count(counter: dict[str, tuple[str, int]], name: str) -> None:
    key = slugify(name) or name.casefold()
    shown, n = counter.get(key, (name, 0))
    counter[key] = (min(shown, name), n + 1)


def _name_rows(counter: dict[str, tuple[str, int]]) -> list[dict[str, Any]]:
    return [
        {"name": name, "slug": slug, "post_count": n} for slug, (name, n) in sorted(counter.items())
    ]


def _row_hash(row: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(row, sort_keys=True, default=str).encode()).hexdigest()


DIGESTS_DIR = f"{CACHE_DIR}/post-digests"


def _digests_file(out: Path, version: str) -> Path:
    """Where the row hashes of one published version of ``posts`` are kept."""
    return out / DIGESTS_DIR / f"{version}.json"


def _save_digests(out: Path, version: str, hashes: dict[str, str], deleted: set[str]) -> None:
    """Keep the row hashes of the ``posts`` version being staged, so the next run compares
    against them without reading and hashing the whole table again; an optimisation: a
    failure to write only costs the next run that work."""
    target = _digests_file(out, version)
    try:
        if not room_for_cache(out):
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        kept = {"code": code_digest(), "hashes": hashes, "deleted": sorted(deleted)}
        tmp.write_text(json.dumps(kept), "utf-8")
        os.replace(tmp, target)
        # kept: the version being staged and the one readers see until it is published
        keep = {target.name, f"{_live_version(out)}.json"}
        for other in target.parent.iterdir():
            if other.name not in keep:
                other.unlink(missing_ok=True)
    except OSError:
        return


def _live_version(out: Path) -> str:
    """The directory name of the published version of ``posts`` ("" when none)."""
    link = out / "posts"
    return link.resolve().name if link.exists() else ""


def _previous_hashes(out: Path) -> tuple[dict[str, str], set[str]]:
    """post_id -> hash of the published row, and the posts already marked deleted: from the
    hashes kept when that version was published, else read in batches (texts are not
    kept)."""
    import pyarrow.parquet as pq

    path = out / "posts"
    hashes: dict[str, str] = {}
    deleted: set[str] = set()
    if not path.exists():
        return hashes, deleted
    try:
        kept = json.loads(_digests_file(out, _live_version(out)).read_text("utf-8"))
        if kept["code"] == code_digest():  # rows are hashed the way this code hashes them
            return dict(kept["hashes"]), set(kept["deleted"])
    except (OSError, ValueError, KeyError, TypeError):
        pass  # none kept (an older version, a deleted cache): hash the table
    for part in sorted(path.glob("*.parquet")):
        for batch in pq.ParquetFile(part).iter_batches(batch_size=2000):
            for row in batch.to_pylist():
                hashes[row["post_id"]] = _row_hash(row)
                if row.get("deleted_at") is not None:
                    deleted.add(row["post_id"])
    return hashes, deleted


def raw_and_reject_rows(
    entries: list[RawInput], outcomes: dict[str, RawOutcome], unreadable: list[Unreadable]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    raw_rows: list[dict[str, Any]] = []
    reject_rows: list[dict[str, Any]] = []
    skipped = 0
    first_uri: dict[str, str] = {}
    for e in entries:
        first_uri.setdefault(e.raw_id, e.source_uri)
    for e in entries:
        o = outcomes[e.raw_id]
        parsed_here = first_uri[e.raw_id] == e.source_uri
        raw_rows.append(
            {
                "raw_id": e.raw_id,
                "source_uri": e.source_uri,
                "source_format": o.source_format,
                "encoding": o.encoding,
                "fetched_at": e.fetched_at,
                "byte_size": e.byte_size,
                "stored_path": e.stored_path,
                "documents": o.docs_count,
                "skipped": o.skipped,
                "skip_reasons": o.skip_reasons,
                "status": "rejected" if o.fatal else "partial" if o.partial else "parsed",
            }
        )
        if not parsed_here:
            continue
        skipped += o.skipped
        for r in ([o.fatal] if o.fatal else []) + o.rejects:
            reject_rows.append(
                {
                    "raw_id": e.raw_id,
                    "source_uri": e.source_uri,
                    "stage": r.stage,
                    "error": r.error,
                    "detail": r.detail,
                }
            )
    for u in unreadable:
        raw_rows.append(
            {
                "raw_id": None,
                "source_uri": u.source_uri,
                "source_format": None,
                "encoding": None,
                "fetched_at": None,
                "byte_size": None,
                "stored_path": None,
                "documents": 0,
                "skipped": 0,
                "skip_reasons": None,
                "status": "rejected",
            }
        )
        reject_rows.append(
            {
                "raw_id": None,
                "source_uri": u.source_uri,
                "stage": "acquire",
                "error": u.error,
                "detail": u.detail,
            }
        )
    raw_rows.sort(key=lambda r: (r["source_uri"], r["raw_id"] or ""))
    return raw_rows, _unique(reject_rows), skipped


def _unique(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[tuple[str, ...]] = set()
    out = []
    for r in rows:
        key = tuple(str(r[k]) for k in ("raw_id", "source_uri", "stage", "error", "detail"))
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out
