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
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from cwingest.acquire.files import Unreadable
from cwingest.cache import CACHE_DIR, code_digest, room_for_cache
from cwingest.dedup.merge import merge_group, source_row
from cwingest.models import Document, RawInput, document_from_dict
from cwingest.publish.schemas import load_schema
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
    started_at: datetime,
) -> StageReport:
    """Stage every curated table but ``runs``; counts posts new, updated and unchanged
    against the published version, and adds this run's rows to the change feed
    (``changes``)."""
    started = time.perf_counter()
    previous = _previous_posts(out)
    tombstones = _tombstones(spool)
    tracked = load_schema("posts").tracked
    stats = {"new": 0, "updated": 0, "unchanged": 0, "deleted": 0, "restored": 0}
    new_hashes: dict[str, str] = {}  # what the next run compares against
    changed_at: dict[str, str] = {}
    now_deleted: set[str] = set()
    author_counts: dict[str, dict[str, int]] = {}
    issue_counts: dict[str, dict[str, int]] = {}
    feed = ChangeFeed(spool, writer.run_id, started_at)

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
        spool.add_sources([source_row(pid, d, rel, sim) for d, rel, sim, _ in members])
        values = _tracked_json(row, tracked)
        digest = hashlib.sha256(values.encode()).hexdigest()
        new_hashes[pid] = digest
        deleted = row.get("deleted_at") is not None
        if deleted:
            now_deleted.add(pid)
        old = previous.hashes.get(pid)
        was_deleted = pid in previous.deleted
        stats["deleted"] += deleted and not was_deleted
        if old is None:
            stats["new"] += 1
            feed.add(pid, "added", row["title"], None)
        elif old == digest:
            stats["unchanged"] += 1
        else:
            stats["updated"] += 1
            stats["restored"] += was_deleted and not deleted
            change = (
                "deleted"
                if deleted and not was_deleted
                else "restored"
                if was_deleted and not deleted
                else "updated"
            )
            feed.add(pid, change, row["title"], values)
        row["changed_at"] = (
            started_at if old != digest else previous.changed_at.get(pid) or started_at
        )
        changed_at[pid] = row["changed_at"].isoformat()
        for name in row["authors"]:
            _count(author_counts, name)
        for name in row["issues"]:
            _count(issue_counts, name)
        return row

    posts = writer.stage("posts", post_rows())
    _save_digests(out, writer.staged["posts"].name, new_hashes, changed_at, now_deleted)
    new_hashes.clear()
    changed_at.clear()
    now_deleted.clear()
    gone = [r for r in id_changes if r["run_id"] == writer.run_id]
    for r in gone:
        feed.add(r["old_post_id"], "deleted", None, None, replaced_by=r["new_post_id"])
    writer.stage("changes", feed.rows(out, tracked))
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
        "restored": stats["restored"],
        "removed": len(gone),
        "rejected": len(reject_rows),
        "skipped": skipped,
    }
    report.seconds = time.perf_counter() - started
    return report


def _tracked_json(row: dict[str, Any], tracked: tuple[str, ...]) -> str:
    """The published fields of a row as one JSON array (what "changed" is measured on)."""
    return json.dumps([row.get(name) for name in tracked], default=str, ensure_ascii=False)


class ChangeFeed:
    """This run's rows of the ``changes`` table, kept in the spool until the published
    rows they changed can be compared field by field (memory holds none of them)."""

    def __init__(self, spool: Spool, run_id: str, started_at: datetime) -> None:
        self.db = spool.db
        self.run_id = run_id
        self.started_at = started_at
        self.db.execute(
            "CREATE TABLE changes (post_id TEXT PRIMARY KEY, change TEXT, title TEXT,"
            " tracked TEXT, replaced_by TEXT)"
        )

    def add(
        self,
        post_id: str,
        change: str,
        title: str | None,
        tracked: str | None,
        replaced_by: str | None = None,
    ) -> None:
        """Record one post's change; ``tracked`` is its new published fields (JSON) when
        the fields that changed are to be named."""
        self.db.execute(
            "INSERT OR REPLACE INTO changes VALUES (?,?,?,?,?)",
            (post_id, change, title, tracked, replaced_by),
        )

    def rows(self, out: Path, tracked: tuple[str, ...]) -> Iterator[dict[str, Any]]:
        """Every earlier run's rows, then this run's in post order with the fields that
        changed (compared with the published version of ``posts`` batch by batch, so
        memory holds neither version of the posts)."""
        self._compare(out, tracked)
        before = read_table(out, "changes")
        if before is not None:
            for batch in before.to_batches(2000):
                yield from batch.to_pylist()
        for pid, change, title, fields, replaced_by in self.db.execute(
            "SELECT post_id, change, title, fields, replaced_by FROM changes ORDER BY post_id"
        ):
            yield {
                "post_id": pid,
                "run_id": self.run_id,
                "changed_at": self.started_at,
                "change": change,
                "fields": json.loads(fields) if fields else [],
                "title": title,
                "replaced_by": replaced_by,
            }

    def _compare(self, out: Path, tracked: tuple[str, ...]) -> None:
        """Name the fields each changed post changed, and the title of ids that are gone,
        from the published rows of those posts (row groups holding none are skipped)."""
        import pyarrow.dataset as ds

        self.db.execute("ALTER TABLE changes ADD COLUMN fields TEXT")
        wanted = [
            pid for (pid,) in self.db.execute("SELECT post_id FROM changes WHERE change != 'added'")
        ]
        path = out / "posts"
        if not wanted or not path.exists():
            return
        dataset = ds.dataset(path, format="parquet")
        columns = ["post_id", *(c for c in tracked if c in dataset.schema.names)]
        ids = pa.array(sorted(wanted), pa.string())
        for batch in dataset.to_batches(
            columns=columns, filter=pc.field("post_id").isin(ids), batch_size=500
        ):
            updates = []
            for row in batch.to_pylist():
                prior = json.loads(json.dumps(row, default=str, ensure_ascii=False))
                title, values = self.db.execute(
                    "SELECT title, tracked FROM changes WHERE post_id = ?", (row["post_id"],)
                ).fetchone()
                fields = []
                if values is not None:
                    now = json.loads(values)
                    fields = [
                        name
                        for i, name in enumerate(tracked)
                        if prior.get(name, _MISSING) != now[i]
                    ]
                updates.append((json.dumps(fields), title or prior.get("title"), row["post_id"]))
            self.db.executemany(
                "UPDATE changes SET fields = ?, title = ? WHERE post_id = ?", updates
            )
        # a changed post the published version does not hold: every field is new
        self.db.execute(
            "UPDATE changes SET fields = ? WHERE fields IS NULL AND tracked IS NOT NULL",
            (json.dumps(list(tracked)),),
        )


_MISSING = object()


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


def _count(counter: dict[str, dict[str, int]], name: str) -> None:
    spellings = counter.setdefault(slugify(name) or name.casefold(), {})
    spellings[name] = spellings.get(name, 0) + 1


def _plainness(name: str) -> int:
    """How many characters of a name are marks, symbols or controls (decorations)."""
    return sum(
        1 for ch in unicodedata.normalize("NFD", name) if unicodedata.category(ch)[0] in "MSC"
    )


def _name_rows(counter: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    """One row per slug: the spelling most posts use (on a tie the plainest, then the
    first in code-point order), the others as variants, and the posts that name it."""
    rows = []
    for slug, spellings in sorted(counter.items()):
        ranked = sorted(spellings, key=lambda n: (-spellings[n], _plainness(n), n))
        rows.append(
            {
                "name": ranked[0],
                "slug": slug,
                "post_count": sum(spellings.values()),
                "variants": ranked[1:],
            }
        )
    return rows


DIGESTS_DIR = f"{CACHE_DIR}/post-digests"


def _digests_file(out: Path, version: str) -> Path:
    """Where the row hashes of one published version of ``posts`` are kept."""
    return out / DIGESTS_DIR / f"{version}.json"


def _save_digests(
    out: Path, version: str, hashes: dict[str, str], changed_at: dict[str, str], deleted: set[str]
) -> None:
    """Keep the hashes of the published fields of the ``posts`` version being staged (and
    each post's ``changed_at``), so the next run compares against them without reading
    and hashing the whole table again; an optimisation: a failure to write only costs the
    next run that work."""
    target = _digests_file(out, version)
    try:
        if not room_for_cache(out):
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        kept = {
            "code": code_digest(),
            "hashes": hashes,
            "changed_at": changed_at,
            "deleted": sorted(deleted),
        }
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


@dataclass
class PreviousPosts:
    """What the published ``posts`` says of each post, for telling what changed."""

    hashes: dict[str, str] = field(default_factory=dict)  # post_id -> published fields' hash
    changed_at: dict[str, datetime] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)  # posts already marked deleted


def _previous_posts(out: Path) -> PreviousPosts:
    """From the hashes kept when the published version was written, else read from the
    table in batches (texts are not kept)."""
    import pyarrow.parquet as pq

    path = out / "posts"
    found = PreviousPosts()
    if not path.exists():
        return found
    try:
        kept = json.loads(_digests_file(out, _live_version(out)).read_text("utf-8"))
        if kept["code"] == code_digest():  # rows are hashed the way this code hashes them
            found.hashes = dict(kept["hashes"])
            found.changed_at = {k: datetime.fromisoformat(v) for k, v in kept["changed_at"].items()}
            found.deleted = set(kept["deleted"])
            return found
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass  # none kept (an older version, a deleted cache): hash the table
    tracked = load_schema("posts").tracked
    for part in sorted(path.glob("*.parquet")):
        for batch in pq.ParquetFile(part).iter_batches(batch_size=2000):
            for row in batch.to_pylist():
                pid = row["post_id"]
                found.hashes[pid] = hashlib.sha256(_tracked_json(row, tracked).encode()).hexdigest()
                if row.get("changed_at") is not None:  # outputs before posts v4 have none
                    found.changed_at[pid] = row["changed_at"]
                if row.get("deleted_at") is not None:
                    found.deleted.add(pid)
    return found


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
