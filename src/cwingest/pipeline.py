"""Run the stages: acquire → parse → clean → enrich → deduplicate → publish.

Every command is the same build over a set of raw inputs: ``ingest`` adds files to the
raw archive and rebuilds the output from the inputs it already had plus the new ones;
``backfill`` rebuilds from the archive alone. Each raw input is parsed and cleaned on
its own (in worker processes when asked), so results cannot depend on order or worker
count; documents are spooled to SQLite on disk between stages so memory stays flat,
and only compact keys are held for grouping.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
import shutil
import sqlite3
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from cwingest import __version__
from cwingest.acquire import locks
from cwingest.acquire.files import Unreadable, archive_files
from cwingest.acquire.rawstore import RawStore, entry_key
from cwingest.cache import ParseCache, code_version
from cwingest.clean.boilerplate import Cleaned
from cwingest.clean.document import clean_document
from cwingest.clean.profiles import ProfileSet, load_profiles
from cwingest.dedup.clusters import DocKey, count_boilerplate, deduplicate
from cwingest.dedup.merge import merge_group, post_id_for, source_row
from cwingest.dedup.shingles import HashStore, text_signature
from cwingest.dedup.similarity import DedupConfig, Similarity
from cwingest.enrich.lookups import LookupIndex
from cwingest.enrich.metadata import enrich_document, enrich_text
from cwingest.models import (
    Document,
    InputError,
    Lookup,
    ParseError,
    RawInput,
    Refused,
    document_from_json,
    document_to_json,
)
from cwingest.parse.base import Payload, detect
from cwingest.parse.registry import READERS
from cwingest.publish.schemas import TABLES
from cwingest.publish.writer import TableWriter, read_table
from cwingest.util import slugify


@dataclass
class RunSummary:
    """Counts of one run (printed at the end and written to ``runs``)."""

    run_id: str
    command: str
    parameters: dict[str, Any]
    started_at: datetime
    finished_at: datetime | None = None
    inputs: int = 0
    documents: int = 0
    posts: int = 0
    posts_new: int = 0
    posts_updated: int = 0
    posts_unchanged: int = 0
    posts_removed: int = 0
    duplicates: int = 0
    rejected: int = 0
    skipped: int = 0
    out: str = ""
    inputs_parsed: int = 0  # raw inputs parsed by this run (the others came from the cache)
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        """The ``runs`` row."""
        return {
            "run_id": self.run_id,
            "command": self.command,
            "parameters": json.dumps(self.parameters, sort_keys=True, default=str),
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "inputs": self.inputs,
            "documents": self.documents,
            "posts": self.posts,
            "posts_new": self.posts_new,
            "posts_updated": self.posts_updated,
            "posts_unchanged": self.posts_unchanged,
            "posts_removed": self.posts_removed,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "skipped": self.skipped,
            "cwingest_version": __version__,
            "inputs_parsed": self.inputs_parsed,
            "stage_seconds": json.dumps(
                {k: round(v, 3) for k, v in self.stage_seconds.items()}, sort_keys=True
            ),
        }

    def render(self) -> str:
        """The short summary every run ends with."""
        took = (self.finished_at or datetime.now(UTC)) - self.started_at
        return (
            f"cwingest {self.command}: {self.inputs} inputs, {self.documents} documents, "
            f"{self.posts} posts ({self.posts_new} new, {self.posts_updated} updated, "
            f"{self.posts_unchanged} unchanged, {self.posts_removed} removed), "
            f"{self.duplicates} duplicates, "
            f"{self.rejected} rejected, {self.skipped} skipped, "
            f"{took.total_seconds():.1f}s -> {self.out}"
        )


@dataclass
class RawOutcome:
    """What parsing and cleaning one raw input produced (small and picklable for workers).

    Documents and lookups are not held here: they were written, one JSON line each, to
    ``spool_file`` as the reader produced them, so memory does not grow with the input.
    """

    raw_id: str
    spool_file: str
    source_format: str | None = None
    encoding: str | None = None
    skipped: int = 0
    skip_reasons: str | None = None  # "attachment=39; nav_menu_item=50"
    rejects: list[tuple[str, str, str]] = field(default_factory=list)  # (stage, error, detail)
    fatal: tuple[str, str] | None = None  # the whole input was rejected
    partial: bool = False  # part of the input could not be read (see its rejects)
    docs_count: int = 0


_WORDS = re.compile(r"[^\W\d_]{2,}")
_POST_RECORDS = frozenset({"wp_rest_json", "wxr", "feed"})


def _spool_document(doc: Document, profiles: ProfileSet, fh: IO[str], outcome: RawOutcome) -> None:
    """Clean one document, fill what its text alone decides, and append it to the input's
    spool file (or record why not)."""
    try:
        cleaned = clean_document(doc, profiles)
    except Exception as exc:  # one bad document must not lose the rest of the input
        detail = f"document {doc.index}: {type(exc).__name__}: {exc}"
        outcome.rejects.append(("clean", "cleaning failed", detail[:300]))
        return
    # A post record WordPress publishes (its own id, in an export or the API) is a post even
    # with no title and no text (an image, a gallery, an embed); anything else needs words.
    record = doc.wp_id is not None and doc.source_format in _POST_RECORDS
    if not record and not doc.content_text and not doc.excerpt and not doc.title_raw:
        detail = f"document {doc.index} has no text or title left after cleaning"
        outcome.rejects.append(("clean", "no content", detail))
        return
    if not record and not doc.title_raw and len(_WORDS.findall(doc.content_text)) < 3:
        detail = f"document {doc.index} has no readable text (fewer than 3 words, no title)"
        outcome.rejects.append(("clean", "no content", detail))
        return
    enrich_text(doc)
    found = {"labels": cleaned.labels, "excerpt_cut": cleaned.excerpt_cut}
    line = {"index": doc.index, "doc": document_to_json(doc), "found": found}
    fh.write(json.dumps(line) + "\n")
    outcome.docs_count += 1


def process_raw(
    raw: RawInput,
    store_root: str,
    max_bytes: int,
    options: dict[str, Any],
    work_dir: str,
) -> RawOutcome:
    """Parse and clean one raw input. Never raises for bad content: it reports it."""
    store = RawStore(store_root)
    outcome = RawOutcome(raw_id=raw.raw_id, spool_file=str(Path(work_dir) / f"{raw.raw_id}.jsonl"))
    path = store.object_path(raw.raw_id)
    profiles = load_profiles()
    with open(outcome.spool_file, "w", encoding="utf-8") as fh:
        if not path.exists():
            outcome.fatal = ("missing raw object", f"{raw.stored_path} is not in the raw archive")
            return outcome
        payload = Payload(
            raw=raw,
            opener=lambda: path.open("rb"),
            max_bytes=max_bytes,
            options=options,
            sink=lambda doc: _spool_document(doc, profiles, fh, outcome),
        )
        try:
            try:
                reader = detect(payload, READERS)
            except ParseError:
                payload.decoded()  # a more precise reason (empty, binary, undecodable) if any
                raise
            outcome.source_format = reader.name
            result = reader.parse(payload)
        except ParseError as exc:
            outcome.fatal = (_error_class(str(exc)), str(exc))
        except Exception as exc:  # a library choking on odd input must not stop the run
            outcome.fatal = ("reader failure", f"{type(exc).__name__}: {str(exc)[:200]}")
        if outcome.fatal:
            fh.truncate(0)  # a rejected input contributes no document
            outcome.docs_count = 0
            outcome.rejects = [r for r in outcome.rejects if r[0] != "clean"]
            return outcome
        for doc in result.documents:  # readers that returned documents instead of sinking
            _spool_document(doc, profiles, fh, outcome)
        for lk in result.lookups:
            fh.write(
                json.dumps(
                    {"lookup": [lk.site, lk.kind, lk.taxonomy, lk.id, lk.name, lk.slug, lk.names]}
                )
                + "\n"
            )
    if payload._decoded is not None:
        outcome.encoding = f"{payload._decoded.encoding} ({payload._decoded.method})"
    if result.source_format != outcome.source_format:  # a container: say what was inside
        outcome.source_format = f"{outcome.source_format}:{result.source_format}"
    outcome.skipped = sum(result.skipped.values())
    if result.skipped:
        outcome.skip_reasons = "; ".join(f"{k}={v}" for k, v in sorted(result.skipped.items()))
    outcome.rejects += [("parse", err, detail) for err, detail in result.rejects]
    outcome.partial = result.partial
    return outcome


def _error_class(reason: str) -> str:
    return reason.split(":")[0].split(" (")[0][:60]


class Spool:
    """Documents between stages, on disk (SQLite), so memory does not grow with the corpus."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute(
            "CREATE TABLE docs (doc_id TEXT PRIMARY KEY, data TEXT, labels TEXT, post_id TEXT,"
            " relation TEXT, similarity REAL, is_primary INTEGER)"
        )
        self.db.execute("CREATE TABLE sources (raw_id TEXT, doc_index INTEGER, row TEXT)")
        self.db.execute(
            "CREATE TABLE lookups (site TEXT, kind TEXT, taxonomy TEXT, id INTEGER, name TEXT,"
            " slug TEXT, names TEXT)"
        )

    def add(self, outcome: RawOutcome) -> None:
        """Load one input's spool file (documents and lookups), then delete it."""
        docs: list[tuple[str, str, str]] = []
        lookups: list[tuple[Any, ...]] = []
        path = Path(outcome.spool_file)
        if path.exists():
            with open(path, encoding="utf-8") as fh:
                for line in fh:
                    item = json.loads(line)
                    if "doc" in item:
                        doc_id = f"{outcome.raw_id}:{item['index']}"
                        docs.append((doc_id, item["doc"], json.dumps(item["found"])))
                    else:
                        lk = item["lookup"]
                        lookups.append((*lk[:6], json.dumps(lk[6])))
                    if len(docs) >= 1000:
                        self._insert(docs, lookups)
                        docs, lookups = [], []
            path.unlink()
        self._insert(docs, lookups)

    def _insert(self, docs: list[tuple[str, str, str]], lookups: list[tuple[Any, ...]]) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO docs (doc_id, data, labels) VALUES (?,?,?)", docs
        )
        self.db.executemany("INSERT INTO lookups VALUES (?,?,?,?,?,?,?)", lookups)

    def lookups(self) -> Iterator[Lookup]:
        """Every lookup found in the input set."""
        for site, kind, tax, id_, name, slug, names in self.db.execute("SELECT * FROM lookups"):
            yield Lookup(site, kind, tax, id_, name, slug, json.loads(names))

    def docs(self, order: str = "doc_id") -> Iterator[tuple[str, str, str]]:
        """(doc_id, data, labels) in a stable order."""
        yield from self.db.execute(f"SELECT doc_id, data, labels FROM docs ORDER BY {order}")

    def grouped(self) -> Iterator[tuple[str, str, str, float | None, int]]:
        """(post key, data, relation, similarity, is_primary) in post and rank order."""
        yield from self.db.execute(
            "SELECT post_id, data, relation, similarity, is_primary FROM docs ORDER BY post_id"
        )

    def add_sources(self, rows: list[dict[str, Any]]) -> None:
        """Store ``post_sources`` rows until they are written in key order."""
        self.db.executemany(
            "INSERT INTO sources VALUES (?,?,?)",
            [(r["raw_id"], r["doc_index"], json.dumps(r, default=str)) for r in rows],
        )

    def sources(self) -> Iterator[dict[str, Any]]:
        """``post_sources`` rows ordered by (raw_id, doc_index)."""
        for (text,) in self.db.execute("SELECT row FROM sources ORDER BY raw_id, doc_index"):
            row = json.loads(text)
            for key in ("published_at", "modified_at", "fetched_at"):
                if row[key] is not None:
                    row[key] = datetime.fromisoformat(row[key])
            yield row

    def update(self, rows: Iterable[tuple[str, str]], column: str) -> None:
        """Set ``column`` for (value, doc_id) pairs."""
        self.db.executemany(f"UPDATE docs SET {column}=? WHERE doc_id=?", rows)

    def close(self) -> None:
        """Close the database."""
        self.db.commit()
        self.db.close()


def _progress(total: int, label: str) -> Any:
    if not sys.stderr.isatty() or os.environ.get("CI"):
        return None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
    )
    progress.start()
    progress.add_task(label, total=total)
    return progress


def build(
    entries: list[RawInput],
    out: Path,
    store: RawStore,
    summary: RunSummary,
    unreadable: list[Unreadable] | None = None,
    workers: int = 1,
    max_bytes: int = 512 * 1024 * 1024,
    options: dict[str, Any] | None = None,
    guards: Guards | None = None,
) -> RunSummary:
    """Rebuild every curated table under ``out`` from ``entries`` of the raw archive.

    Raises:
        Refused: posts the output holds would disappear and ``guards`` does not allow it.
    """
    out.mkdir(parents=True, exist_ok=True)
    options = options or {}
    key = _build_key(entries, unreadable or [], options, max_bytes)
    present = all(store.object_path(e.raw_id).exists() for e in entries)
    if options.get("cache", True) and present and _unchanged(out, key, summary):
        return summary
    work = out / f".work-{summary.run_id}"
    work.mkdir()
    writer = TableWriter(out, summary.run_id)
    (out / BUILD_FILE).unlink(missing_ok=True)  # the tables are about to change
    try:
        _build(
            entries,
            out,
            work,
            store,
            summary,
            writer,
            unreadable or [],
            workers,
            max_bytes,
            options,
            guards or Guards(),
        )
        writer.publish()
    except BaseException:
        writer.abort()
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    tmp = out / f"{BUILD_FILE}.tmp"
    tmp.write_text(key, encoding="utf-8")
    os.replace(tmp, out / BUILD_FILE)
    return summary


BUILD_FILE = ".cwingest.build"


def _build_key(
    entries: list[RawInput], unreadable: list[Unreadable], options: dict[str, Any], max_bytes: int
) -> str:
    """What the published tables are a function of: the inputs (bytes, URI, fetch time),
    the code and the options. Equal keys give equal tables (builds are deterministic)."""
    h = hashlib.sha256(code_version(options, max_bytes).encode())
    h.update(repr(options.get("dedup") or DedupConfig()).encode())
    for e in sorted({entry_key(e): e for e in entries}.values(), key=entry_key):
        h.update(f"{e.raw_id}\0{e.source_uri}\0{e.fetched_at.isoformat()}\n".encode())
    for u in sorted(unreadable, key=lambda u: u.source_uri):
        h.update(f"unreadable\0{u.source_uri}\0{u.error}\n".encode())
    return h.hexdigest()


def _unchanged(out: Path, key: str, summary: RunSummary) -> bool:
    """When the output was built from exactly these inputs by this code with these options,
    rebuilding would write the same tables: only the run is recorded (``runs``)."""
    try:
        if (out / BUILD_FILE).read_text("utf-8") != key:
            return False
    except OSError:
        return False
    runs = read_table(out, "runs")
    if runs is None or not all((out / t).exists() for t in TABLES):
        return False
    last = max(runs.to_pylist(), key=lambda r: r["finished_at"])
    for name in ("inputs", "documents", "posts", "duplicates", "rejected", "skipped"):
        setattr(summary, name, last[name])
    summary.posts_unchanged = last["posts"]
    summary.inputs_parsed = 0
    summary.finished_at = datetime.now(UTC)
    summary.stage_seconds["publish"] = (summary.finished_at - summary.started_at).total_seconds()
    writer = TableWriter(out, summary.run_id)
    try:
        writer.stage("runs", [*runs.to_pylist(), summary.row()])
        writer.publish()
    except BaseException:
        writer.abort()
        raise
    return True


def _build(
    entries: list[RawInput],
    out: Path,
    work: Path,
    store: RawStore,
    summary: RunSummary,
    writer: TableWriter,
    unreadable: list[Unreadable],
    workers: int,
    max_bytes: int,
    options: dict[str, Any],
    guards: Guards,
) -> None:
    entries = sorted({entry_key(e): e for e in entries}.values(), key=entry_key)
    by_raw: dict[str, RawInput] = {}
    for e in entries:  # parse each byte sequence once, under its smallest source URI
        by_raw.setdefault(e.raw_id, e)
    summary.inputs = len(entries) + len(unreadable)
    clock = time.perf_counter()
    spool = Spool(work / "spool.sqlite")
    outcomes: dict[str, RawOutcome] = {}
    raws = [by_raw[k] for k in sorted(by_raw)]
    # Parse + clean: what the cache holds for an input (same bytes, entry, code and
    # options) is taken from it; only the rest is parsed. Outcomes are collected in the
    # inputs' order either way, so the spool is the same as a full build's.
    cache = (
        ParseCache(out, code_version(options, max_bytes)) if options.get("cache", True) else None
    )
    hits: dict[str, RawOutcome] = {}
    if cache is not None:
        for raw in raws:
            # an input the archive lost is reported as such, whatever the cache holds
            hit = cache.get(raw, work) if store.object_path(raw.raw_id).exists() else None
            if hit is not None:
                hits[raw.raw_id] = hit
    todo = [raw for raw in raws if raw.raw_id not in hits]
    summary.inputs_parsed = len(todo)
    progress = _progress(len(todo), "parse + clean")

    def collect(parsed: Iterator[RawOutcome]) -> None:
        for raw in raws:
            outcome = hits.get(raw.raw_id)
            if outcome is None:
                outcome = next(parsed)
                if cache is not None:
                    cache.put(raw, outcome)
                if progress:
                    progress.advance(progress.task_ids[0])
            spool.add(outcome)
            outcomes[outcome.raw_id] = outcome

    if workers > 1 and len(todo) > 1:
        # Workers start fresh (spawn: they inherit no lock and no open file) and die with
        # this process (PR_SET_PDEATHSIG), so a killed run leaves nothing behind.
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_init,
            initargs=(os.getpid(),),
        )
        try:
            results: Iterator[RawOutcome] = pool.map(
                process_raw,
                todo,
                [str(store.root)] * len(todo),
                [max_bytes] * len(todo),
                [_reader_options(options)] * len(todo),
                [str(work)] * len(todo),
                chunksize=4,
            )
            collect(results)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.kill()
            raise
        pool.shutdown(wait=True)
    else:
        reader_options = _reader_options(options)
        collect(
            process_raw(raw, str(store.root), max_bytes, reader_options, str(work)) for raw in todo
        )
    if progress:
        progress.stop()
    spool.db.commit()
    if cache is not None:
        cache.prune(raws)
    clock = _lap(summary, "parse", clock)

    # Enrich: resolve names with everything the input set knows.
    index = LookupIndex.build(spool.lookups())
    profiles = load_profiles()
    dedup_config: DedupConfig = options.get("dedup") or DedupConfig()
    hashes = HashStore(work / "shingles.bin")
    keys: list[DocKey] = []
    updates: list[tuple[str, str]] = []
    for doc_id, data, labels_json in spool.docs():
        doc = document_from_json(data)
        found = json.loads(labels_json)
        cleaned = Cleaned([], [], found["labels"], found["excerpt_cut"])
        enrich_document(doc, index, profiles, cleaned)
        updates.append((document_to_json(doc), doc_id))
        keys.append(
            DocKey(
                doc_id,
                doc.content_sha256,
                doc.site,
                doc.wp_id,
                doc.url,
                doc.source_format,
                doc.is_excerpt_only,
                doc.modified_at,
                doc.word_count,
                fetched_at=doc.fetched_at,
                guid=doc.guid,
                title=doc.title,
                published_at=doc.published_at,
                slug=doc.slug,
                post_type=doc.post_type,
            )
        )
        hashes.add(text_signature(doc.content_text, dedup_config.shingle_size))
        if len(updates) >= 2000:
            spool.update(updates, "data")
            updates = []
    spool.update(updates, "data")
    summary.documents = len(keys)
    clock = _lap(summary, "enrich", clock)

    # Deduplicate: boilerplate counted over the run, then identities, texts and teasers.
    hashes.freeze()

    similarity = Similarity(hashes, [k.site for k in keys], dedup_config)
    count_boilerplate(keys, similarity)
    posts = deduplicate(keys, similarity, dedup_config)
    hashes.close()
    del similarity
    assignments: list[tuple[str, str, float | None, int, str]] = []
    new_ids: dict[str, str] = {}
    for post in posts:
        primary = [keys[m] for m, p in zip(post.members, post.primary, strict=True) if p]
        pid = post_id_for(primary)
        for rank, (m, rel, sim, prim) in enumerate(
            zip(post.members, post.relations, post.similarities, post.primary, strict=True)
        ):
            assignments.append((f"{pid}:{rank:06d}", rel, sim, int(prim), keys[m].doc_id))
            new_ids[keys[m].doc_id] = pid
    spool.db.executemany(
        "UPDATE docs SET post_id=?, relation=?, similarity=?, is_primary=? WHERE doc_id=?",
        assignments,
    )
    spool.db.commit()
    summary.duplicates = len(keys) - len(posts)
    id_changes = _post_id_changes(out, new_ids, summary)
    removed = [r for r in id_changes if r["run_id"] == summary.run_id and r["reason"] == "removed"]
    summary.posts_removed = len(removed)
    if removed and not guards.allow_removals:
        missing = sum(
            1 for o in outcomes.values() if o.fatal and o.fatal[0] == "missing raw object"
        )
        why = f"; {missing} of its raw inputs are missing from {store.root}" if missing else ""
        raise Refused(
            f"this run would remove {len(removed)} posts that {out} holds{why}; nothing was "
            "published (give --allow-removals to accept the removals)"
        )
    del new_ids, assignments, posts, keys
    clock = _lap(summary, "deduplicate", clock)

    # Publish.
    previous = _previous_hashes(out)
    stats = {"new": 0, "updated": 0, "unchanged": 0}
    author_counts: dict[str, tuple[str, int]] = {}
    issue_counts: dict[str, tuple[str, int]] = {}

    def post_rows() -> Iterator[dict[str, Any]]:
        group: list[tuple[Document, str, float | None, bool]] = []
        current = None
        for post_key, data, relation, sim, is_primary in spool.grouped():
            pid = str(post_key).split(":")[0]
            if current is not None and pid != current:
                yield emit(current, group)
                group = []
            current = pid
            group.append((document_from_json(data), relation, sim, bool(is_primary)))
        if current is not None:
            yield emit(current, group)

    def emit(pid: str, members: list[tuple[Document, str, float | None, bool]]) -> dict[str, Any]:
        docs = [m[0] for m in members]
        row = merge_group(pid, docs, [m[3] for m in members])
        spool.add_sources([source_row(pid, d, rel, sim) for d, rel, sim, _ in members])
        digest = _row_hash(row)
        old = previous.get(pid)
        stats["new" if old is None else "unchanged" if old == digest else "updated"] += 1
        for name in row["authors"]:
            _count(author_counts, name)
        for name in row["issues"]:
            _count(issue_counts, name)
        return row

    summary.posts = writer.stage("posts", post_rows())
    summary.posts_new, summary.posts_updated, summary.posts_unchanged = (
        stats["new"],
        stats["updated"],
        stats["unchanged"],
    )
    writer.stage("post_sources", spool.sources())
    spool.close()

    raw_rows, reject_rows, skipped = _raw_and_reject_rows(entries, outcomes, unreadable)
    summary.skipped = skipped
    summary.rejected = len(reject_rows)
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
    _lap(summary, "publish", clock)
    summary.finished_at = datetime.now(UTC)
    runs_before = read_table(out, "runs")
    runs = (runs_before.to_pylist() if runs_before is not None else []) + [summary.row()]
    writer.stage("runs", runs)


def _worker_init(parent: int) -> None:
    """In each worker: die with the parent, and leave Ctrl-C to it."""
    import ctypes
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: killed when the parent dies
    except (OSError, AttributeError):  # not Linux: the pool's own shutdown still applies
        pass
    if os.getppid() != parent:  # the parent died before we got here
        os._exit(1)


def _lap(summary: RunSummary, stage: str, since: float) -> float:
    """Add the seconds since ``since`` to ``stage``'s time; the new start."""
    now = time.perf_counter()
    summary.stage_seconds[stage] = summary.stage_seconds.get(stage, 0.0) + now - since
    return now


def _reader_options(options: dict[str, Any]) -> dict[str, Any]:
    """The options parse and clean take (the rest configures later stages)."""
    return {"include_unpublished": bool(options.get("include_unpublished"))}


def _post_id_changes(
    out: Path, new_ids: dict[str, str], summary: RunSummary
) -> list[dict[str, Any]]:
    """Earlier mapping rows, plus one per post id of the previous run that no longer exists."""
    before = read_table(out, "post_id_map")
    rows: list[dict[str, Any]] = before.to_pylist() if before is not None else []
    sources = read_table(out, "post_sources", columns=["post_id", "raw_id", "doc_index"])
    if sources is None:
        return rows
    current = set(new_ids.values())
    old_docs: dict[str, list[str]] = {}
    for r in sources.to_pylist():
        old_docs.setdefault(r["post_id"], []).append(f"{r['raw_id']}:{r['doc_index']}")
    for old in sorted(set(old_docs) - current):
        targets = sorted({new_ids[d] for d in old_docs[old] if d in new_ids})
        rows.append(
            {
                "old_post_id": old,
                "new_post_id": targets[0] if len(targets) == 1 else None,
                "run_id": summary.run_id,
                "changed_at": summary.started_at,
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


def _previous_hashes(out: Path) -> dict[str, str]:
    """post_id -> hash of the published row, read in batches (texts are not kept)."""
    import pyarrow.parquet as pq

    path = out / "posts"
    if not path.exists():
        return {}
    hashes: dict[str, str] = {}
    for part in sorted(path.glob("*.parquet")):
        for batch in pq.ParquetFile(part).iter_batches(batch_size=2000):
            for row in batch.to_pylist():
                hashes[row["post_id"]] = _row_hash(row)
    return hashes


def _raw_and_reject_rows(
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
        if o.fatal:
            reject_rows.append(
                {
                    "raw_id": e.raw_id,
                    "source_uri": e.source_uri,
                    "stage": "parse",
                    "error": o.fatal[0],
                    "detail": o.fatal[1],
                }
            )
        for stage, error, detail in o.rejects:
            reject_rows.append(
                {
                    "raw_id": e.raw_id,
                    "source_uri": e.source_uri,
                    "stage": stage,
                    "error": error,
                    "detail": detail,
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


def _ledger(out: Path, store: RawStore) -> list[RawInput]:
    """The raw inputs the output was built from (its ``raw_records``), as archive entries."""
    table = read_table(out, "raw_records")
    if table is None:
        return []
    index = {entry_key(e): e for e in store.entries()}
    out_entries = []
    for r in table.to_pylist():
        if not r["raw_id"]:
            continue  # an input that could not be read was never archived
        key = (r["raw_id"], r["source_uri"])
        # An input the archive lost (a different --raw, a deleted folder) stays listed and
        # is reported as missing, rather than vanishing from the tables.
        out_entries.append(
            index.get(key)
            or RawInput(
                raw_id=r["raw_id"],
                source_uri=r["source_uri"],
                fetched_at=r["fetched_at"],
                byte_size=r["byte_size"] or 0,
                stored_path=r["stored_path"] or "",
            )
        )
    return sorted(out_entries, key=entry_key)


def new_run_id() -> str:
    """A sortable unique run id."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]


STATE_FILE = ".cwingest.json"
LOCK_FILE = ".cwingest.lock"
DEFAULT_WAIT = 300.0


@dataclass(frozen=True)
class Guards:
    """What a run may do to an output that already holds posts.

    Args:
        allow_removals: publish even when posts the output holds would disappear (their
            raw inputs missing from the archive), or when the archive is not the one the
            output was built from.
        wait: seconds to wait for another run holding the output or the archive.
    """

    allow_removals: bool = False
    wait: float = DEFAULT_WAIT


def check_paths(paths: list[str]) -> None:
    """Refuse paths that do not exist or cannot be read at all (a typo is not a reject)."""
    for p in paths:
        path = Path(p)
        if not path.exists():
            raise InputError(f"no such file or directory: {p}")
        need = os.R_OK | (os.X_OK if path.is_dir() else 0)
        if not os.access(path, need):
            raise InputError(f"cannot read {p}: permission denied")


def _read_state(out: Path) -> dict[str, Any]:
    try:
        data = json.loads((out / STATE_FILE).read_text("utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, OSError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_state(out: Path, store: RawStore, archive_id: str | None) -> None:
    state = {"archive": str(store.root.resolve()), "archive_id": archive_id}
    tmp = out / f"{STATE_FILE}.tmp"
    tmp.write_text(json.dumps(state, indent=1), encoding="utf-8")
    os.replace(tmp, out / STATE_FILE)


def _check_archive(out: Path, store: RawStore, archive_id: str | None, guards: Guards) -> None:
    """Refuse an archive other than the one the output was built from."""
    state = _read_state(out)
    if not state or guards.allow_removals:
        return
    same = (
        state.get("archive_id") == archive_id
        if state.get("archive_id") and archive_id
        else state.get("archive") == str(store.root.resolve())
    )
    if not same:
        raise Refused(
            f"{out} was built from the raw archive {state.get('archive')} "
            f"(id {state.get('archive_id')}), not from {store.root} "
            f"(id {archive_id}); give that --raw, or --allow-removals to rebuild from this one"
        )


def _clean_leftovers(out: Path) -> None:
    """Remove what killed runs left in the output: work folders, unpublished versions."""
    if not out.is_dir():
        return
    for work in out.glob(".work-*"):
        shutil.rmtree(work, ignore_errors=True)
    for link in out.glob(".*.link-*"):
        link.unlink(missing_ok=True)
    runs = read_table(out, "runs", columns=["run_id"]) if (out / "runs").exists() else None
    published = set(runs.column("run_id").to_pylist()) if runs is not None else set()
    versions = out / ".versions"
    if not versions.is_dir():
        return
    linked = {(out / t).resolve() for t in TABLES if (out / t).is_symlink()}
    for staged in versions.iterdir():
        run_id = staged.name.split("-", 1)[1] if "-" in staged.name else ""
        if staged.resolve() not in linked and run_id and run_id not in published:
            shutil.rmtree(staged, ignore_errors=True)


@contextmanager
def _exclusive(
    out: Path, store: RawStore, command: str, guards: Guards, write_archive: bool
) -> Iterator[None]:
    """Hold the output's lock, then the archive's (exclusive to write it, shared to read
    it; none in an archive this process cannot write: read-only archives work)."""
    out.mkdir(parents=True, exist_ok=True)
    with locks.hold(out / LOCK_FILE, f"output {out}", command=command, wait=guards.wait):
        _clean_leftovers(out)
        if write_archive:
            store.root.mkdir(parents=True, exist_ok=True)
        if store.writable():
            with locks.hold(
                store.root / ".lock",
                f"raw archive {store.root}",
                command=command,
                wait=guards.wait,
                shared=not write_archive,
            ):
                yield
        else:
            yield


def run_ingest(
    paths: list[str],
    out: str | Path = "curated",
    raw: str | Path = "raw",
    workers: int = 1,
    include_unpublished: bool = False,
    dedup: DedupConfig | None = None,
    guards: Guards | None = None,
    cache: bool = True,
) -> RunSummary:
    """Archive files and folders, then rebuild the output from all inputs it holds.

    Args:
        paths: files and folders, of any supported format.
        out: folder of the curated tables.
        raw: the raw archive.
        workers: parse processes (results do not depend on it).
        include_unpublished: keep drafts, private and pending items of exports, marked with
            their status (only published items by default).
        dedup: thresholds and canonical rule of the deduplicate stage.
        guards: what the run may do to posts the output holds, and how long to wait.
        cache: reuse what earlier runs parsed (``--out/.cache``, keyed by input bytes, code
            and options) and skip the rebuild when nothing changed; False parses and
            rebuilds everything (the tables are the same either way).

    Raises:
        RunError: the run could not complete (nothing was published).
    """
    guards = guards or Guards()
    check_paths(paths)
    started = datetime.now(UTC)
    options: dict[str, Any] = {
        "include_unpublished": include_unpublished,
        "dedup": dedup,
        "cache": cache,
    }
    summary = RunSummary(
        new_run_id(),
        "ingest",
        {"paths": paths, "out": str(out), "raw": str(raw), "workers": workers, **options},
        started,
        out=str(out),
    )
    store = RawStore(raw)
    with _exclusive(Path(out), store, "ingest", guards, write_archive=True):
        archive_id = store.archive_id(create=True)
        _check_archive(Path(out), store, archive_id, guards)
        new: list[RawInput] = []
        unreadable: list[Unreadable] = []
        for item in archive_files(paths, store, fetched_at=started):
            (unreadable if isinstance(item, Unreadable) else new).append(item)  # type: ignore[arg-type]
        entries = _ledger(Path(out), store) + new
        result = build(
            entries,
            Path(out),
            store,
            summary,
            unreadable=unreadable,
            workers=workers,
            options=options,
            guards=guards,
        )
        _write_state(Path(out), store, archive_id)
        return result


def run_backfill(
    out: str | Path = "curated",
    raw: str | Path = "raw",
    since: datetime | None = None,
    until: datetime | None = None,
    workers: int = 1,
    include_unpublished: bool = False,
    dedup: DedupConfig | None = None,
    guards: Guards | None = None,
    cache: bool = True,
) -> RunSummary:
    """Rebuild the output from the raw archive alone (no network, no original files).

    Without ``since``/``until`` every archived input is used. With them, the inputs fetched
    in that range are (re)processed together with those the output already holds. A
    missing or empty archive is an error, never an empty corpus. Inputs the parse cache
    holds for this code and these options are not parsed again (``cache=False``, the
    CLI's ``--no-cache``, parses everything and rebuilds even when nothing changed).

    Raises:
        RunError: the run could not complete (nothing was published).
    """
    guards = guards or Guards()
    store = RawStore(raw)
    if not store.root.is_dir():
        raise InputError(f"no raw archive at {raw}")
    if not store.manifest_path.exists():
        raise InputError(f"{raw} is not a cwingest raw archive (no manifest.jsonl), or is empty")
    started = datetime.now(UTC)
    options: dict[str, Any] = {
        "include_unpublished": include_unpublished,
        "dedup": dedup,
        "cache": cache,
    }
    summary = RunSummary(
        new_run_id(),
        "backfill",
        {
            "out": str(out),
            "raw": str(raw),
            "since": since,
            "until": until,
            "workers": workers,
            **options,
        },
        started,
        out=str(out),
    )
    with _exclusive(Path(out), store, "backfill", guards, write_archive=False):
        archive_id = store.archive_id(create=store.writable())
        _check_archive(Path(out), store, archive_id, guards)
        entries_all = store.entries()
        if not entries_all:
            raise InputError(f"the raw archive {raw} holds no inputs")
        chosen = [
            e
            for e in entries_all
            if (since is None or e.fetched_at >= since) and (until is None or e.fetched_at < until)
        ]
        entries = chosen if since is None and until is None else _ledger(Path(out), store) + chosen
        result = build(
            entries, Path(out), store, summary, workers=workers, options=options, guards=guards
        )
        _write_state(Path(out), store, archive_id)
        return result
