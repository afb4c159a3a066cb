"""Run the stages: acquire → parse → clean → enrich → deduplicate → publish.

Every command is the same build over a set of raw inputs: ``ingest`` adds files to the
raw archive and rebuilds the output from the inputs it already had plus the new ones;
``backfill`` rebuilds from the archive alone. :func:`build` is the list of stages, each
an entry function of its own package returning a :class:`~cwingest.report.StageReport`
that the run summary adds up:

* parse (:mod:`cwingest.parse.stage`): one worker call per raw input, cleaning each
  document as it is read (:mod:`cwingest.clean.stage`); results are cached per input;
* enrich (:mod:`cwingest.enrich.stage`): names and terms from the whole input set;
* deduplicate (:mod:`cwingest.dedup.stage`): which documents are one post;
* publish (:mod:`cwingest.publish.stage`): the tables, switched all at once.

Documents wait between stages in an on-disk spool, so memory stays flat; results do not
depend on input order, worker count or the cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from cwingest import __version__
from cwingest.acquire import locks
from cwingest.acquire.crawl import CrawlError, CrawlOptions, CrawlStats
from cwingest.acquire.files import Unreadable, archive_files
from cwingest.acquire.rawstore import RawStore, entry_key
from cwingest.acquire.site_crawl import (
    CrawlTarget,
    SiteCrawl,
    combined_stats,
    crawl_one,
    save_cursors,
)
from cwingest.cache import code_version
from cwingest.config import DEFAULT_WAIT, Guards, RunConfig
from cwingest.dedup.similarity import DedupConfig
from cwingest.dedup.stage import deduplicate_documents
from cwingest.enrich.stage import enrich_documents
from cwingest.models import InputError, RawInput, Refused
from cwingest.parse.stage import ParseExecutor, RawOutcome, parse_inputs
from cwingest.publish.docs import write_docs
from cwingest.publish.schemas import TABLES
from cwingest.publish.stage import post_id_changes, publish_tables
from cwingest.publish.writer import TableWriter, read_table
from cwingest.report import StageReport
from cwingest.util import release_memory

log = logging.getLogger("cwingest")

__all__ = ["DEFAULT_WAIT", "Guards", "RawOutcome", "RunConfig", "RunSummary", "build"]


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
    posts_deleted: int = 0  # posts a crawl found gone upstream in this run (tombstoned)
    posts_restored: int = 0  # posts marked deleted that this run found live again
    duplicates: int = 0
    rejected: int = 0
    skipped: int = 0
    out: str = ""
    inputs_parsed: int = 0  # raw inputs parsed by this run (the others came from the cache)
    documents_enriched: int = 0  # documents enriched by this run (the others: the cache)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    crawl: CrawlStats | None = None  # requests, bytes, retries of a crawl
    notes: list[str] = field(default_factory=list)
    failed_sites: list[str] = field(default_factory=list)  # "site: reason" of a crawl
    stages: dict[str, dict[str, int]] = field(default_factory=dict)  # each stage's counts

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
            "posts_deleted": self.posts_deleted,
            "crawl_requests": self.crawl.requests if self.crawl else None,
            "crawl_bytes": self.crawl.bytes if self.crawl else None,
            "crawl_retries": self.crawl.retries if self.crawl else None,
            "crawl_records": self.crawl.records if self.crawl else None,
            "documents_enriched": self.documents_enriched,
            "posts_restored": self.posts_restored,
        }

    def add(self, report: StageReport) -> None:
        """Add up one stage's report (the summary does nothing else with it)."""
        self.stage_seconds[report.stage] = (
            self.stage_seconds.get(report.stage, 0.0) + report.seconds
        )
        c = report.counts
        self.stages[report.stage] = dict(c)
        log.info(
            "%s: %s (%.1f s)",
            report.stage,
            ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in c.items()),
            report.seconds,
        )
        if report.stage == "parse":
            self.inputs_parsed = c["parsed"]
        elif report.stage == "enrich":
            self.documents, self.documents_enriched = c["documents"], c["enriched"]
        elif report.stage == "deduplicate":
            self.duplicates = c["duplicates"]
        elif report.stage == "publish":
            self.posts, self.rejected, self.skipped = c["posts"], c["rejected"], c["skipped"]
            self.posts_new, self.posts_updated = c["new"], c["updated"]
            self.posts_unchanged = c["unchanged"]
            self.posts_deleted, self.posts_restored = c["deleted"], c["restored"]

    def render(self) -> str:
        """The short summary every run ends with."""
        took = (self.finished_at or datetime.now(UTC)) - self.started_at
        return (
            f"cwingest {self.command}: {self.inputs} inputs, {self.documents} documents, "
            f"{self.posts} posts ({self.posts_new} new, {self.posts_updated} updated, "
            f"{self.posts_unchanged} unchanged, {self.posts_removed} removed"
            + (f", {self.posts_deleted} deleted upstream" if self.posts_deleted else "")
            + "), "
            f"{self.duplicates} duplicates, "
            f"{self.rejected} rejected, {self.skipped} skipped, "
            f"{took.total_seconds():.1f}s -> {self.out}"
            + (
                f"; crawl: {self.crawl.requests} requests, {self.crawl.bytes} bytes, "
                f"{self.crawl.records} post records, {self.crawl.retries} retries, "
                f"{len(self.crawl.refused)} refused"
                if self.crawl
                else ""
            )
        )


def build(
    entries: list[RawInput],
    out: Path,
    store: RawStore,
    summary: RunSummary,
    unreadable: list[Unreadable] | None = None,
    config: RunConfig | None = None,
    executor: ParseExecutor | None = None,
) -> RunSummary:
    """Rebuild every curated table under ``out`` from ``entries`` of the raw archive.

    ``executor`` parses the inputs the cache does not hold (default: this process, or
    ``config.workers`` processes); the tables do not depend on it.

    Raises:
        Refused: posts the output holds would disappear and the guards do not allow it.
    """
    config = config or RunConfig()
    unreadable = unreadable or []
    out.mkdir(parents=True, exist_ok=True)
    entries = sorted({entry_key(e): e for e in entries}.values(), key=entry_key)
    summary.inputs = len(entries) + len(unreadable)
    key = _build_key(entries, unreadable, config)
    present = all(store.object_path(e.raw_id).exists() for e in entries)
    if config.cache and present and _unchanged(out, key, summary):
        return summary
    work = out / f".work-{summary.run_id}"
    work.mkdir()
    writer = TableWriter(out, summary.run_id)
    (out / BUILD_FILE).unlink(missing_ok=True)  # the tables are about to change
    try:
        _stages(entries, out, work, store, summary, writer, unreadable, config, executor)
        writer.publish()
    except BaseException:
        writer.abort()
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _write_docs(out)
    tmp = out / f"{BUILD_FILE}.tmp"
    tmp.write_text(key, encoding="utf-8")
    os.replace(tmp, out / BUILD_FILE)
    return summary


def _stages(
    entries: list[RawInput],
    out: Path,
    work: Path,
    store: RawStore,
    summary: RunSummary,
    writer: TableWriter,
    unreadable: list[Unreadable],
    config: RunConfig,
    executor: ParseExecutor | None,
) -> None:
    """The stages, in order (each byte sequence is parsed once, under its smallest URI)."""
    by_raw: dict[str, RawInput] = {}
    for e in entries:
        by_raw.setdefault(e.raw_id, e)
    raws = [by_raw[k] for k in sorted(by_raw)]

    spool, outcomes, parsed = parse_inputs(raws, store, out, work, config, executor)
    summary.add(parsed)
    keys, hashes, enriched = enrich_documents(spool, work, config, out)
    summary.add(enriched)
    release_memory()  # each document's temporaries are gone; the keys stay until posts are known
    new_ids, grouped = deduplicate_documents(keys, hashes, spool, config)
    summary.add(grouped)
    id_changes = post_id_changes(out, new_ids, summary.run_id, summary.started_at)
    _guard_removals(id_changes, outcomes, out, store, summary, config.guards)
    del keys, hashes, new_ids
    release_memory()
    summary.add(
        publish_tables(
            writer, spool, out, entries, outcomes, unreadable, id_changes, summary.started_at
        )
    )
    summary.finished_at = datetime.now(UTC)
    runs_before = read_table(out, "runs")
    writer.stage(
        "runs", (runs_before.to_pylist() if runs_before is not None else []) + [summary.row()]
    )


def _guard_removals(
    id_changes: list[dict[str, Any]],
    outcomes: dict[str, RawOutcome],
    out: Path,
    store: RawStore,
    summary: RunSummary,
    guards: Guards,
) -> None:
    """Refuse a run that would remove posts the output holds, unless allowed."""
    removed = [r for r in id_changes if r["run_id"] == summary.run_id and r["reason"] == "removed"]
    summary.posts_removed = len(removed)
    if removed and not guards.allow_removals:
        missing = sum(
            1 for o in outcomes.values() if o.fatal and o.fatal.error == "missing raw object"
        )
        why = f"; {missing} of its raw inputs are missing from {store.root}" if missing else ""
        raise Refused(
            f"this run would remove {len(removed)} posts that {out} holds{why}; nothing was "
            "published (give --allow-removals to accept the removals)"
        )


BUILD_FILE = ".cwingest.build"


def _build_key(entries: list[RawInput], unreadable: list[Unreadable], config: RunConfig) -> str:
    """What the published tables are a function of: the inputs (bytes, URI, fetch time),
    the code and the configuration. Equal keys give equal tables (builds are
    deterministic)."""
    h = hashlib.sha256(code_version(config.reader_options(), config.max_bytes).encode())
    h.update(repr(config.dedup).encode())
    for e in entries:
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
    _write_docs(out)
    return True


def _write_docs(out: Path) -> None:
    """The data dictionary and DuckDB views beside the tables just published (the tables
    are the contract: a failure here is reported, and the run stands)."""
    try:
        write_docs(out)
    except OSError as exc:
        log.warning("could not write the data dictionary and corpus.sql in %s: %s", out, exc)


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


def make_config(
    workers: int = 1,
    include_unpublished: bool = False,
    dedup: DedupConfig | None = None,
    guards: Guards | None = None,
    cache: bool = True,
    config: RunConfig | None = None,
) -> RunConfig:
    """The run configuration from keyword arguments, or ``config`` when given (the CLI
    and the flows build one the same way)."""
    if config is not None:
        return config
    return RunConfig(
        workers=workers,
        include_unpublished=include_unpublished,
        dedup=dedup or DedupConfig(),
        cache=cache,
        guards=guards or Guards(),
    )


def run_ingest(
    paths: list[str],
    out: str | Path = "curated",
    raw: str | Path = "raw",
    workers: int = 1,
    include_unpublished: bool = False,
    dedup: DedupConfig | None = None,
    guards: Guards | None = None,
    cache: bool = True,
    config: RunConfig | None = None,
    executor: ParseExecutor | None = None,
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
        config: all of the above as one :class:`~cwingest.config.RunConfig` (wins over
            the keyword arguments).
        executor: how inputs are parsed (:data:`~cwingest.parse.stage.ParseExecutor`;
            default: this process, or ``workers`` processes); tables do not depend on it.

    Raises:
        RunError: the run could not complete (nothing was published).
    """
    config = make_config(workers, include_unpublished, dedup, guards, cache, config)
    check_paths(paths)
    started = datetime.now(UTC)
    parameters = {"paths": paths, "out": str(out), "raw": str(raw), **config.parameters()}
    summary = RunSummary(new_run_id(), "ingest", parameters, started, out=str(out))
    store = RawStore(raw)
    with _exclusive(Path(out), store, "ingest", config.guards, write_archive=True):
        archive_id = store.archive_id(create=True)
        _check_archive(Path(out), store, archive_id, config.guards)
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
            config=config,
            executor=executor,
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
    config: RunConfig | None = None,
    executor: ParseExecutor | None = None,
) -> RunSummary:
    """Rebuild the output from the raw archive alone (no network, no original files).

    Without ``since``/``until`` every archived input is used. With them, the inputs fetched
    in that range are (re)processed together with those the output already holds. A
    missing or empty archive is an error, never an empty corpus. Inputs the parse cache
    holds for this code and these options are not parsed again (``cache=False``, the
    CLI's ``--no-cache``, parses everything and rebuilds even when nothing changed). The
    other arguments are those of :func:`run_ingest`.

    Raises:
        RunError: the run could not complete (nothing was published).
    """
    config = make_config(workers, include_unpublished, dedup, guards, cache, config)
    store = RawStore(raw)
    if not store.root.is_dir():
        raise InputError(f"no raw archive at {raw}")
    if not store.manifest_path.exists():
        raise InputError(f"{raw} is not a cwingest raw archive (no manifest.jsonl), or is empty")
    started = datetime.now(UTC)
    parameters = {
        "out": str(out),
        "raw": str(raw),
        "since": since,
        "until": until,
        **config.parameters(),
    }
    summary = RunSummary(new_run_id(), "backfill", parameters, started, out=str(out))
    with _exclusive(Path(out), store, "backfill", config.guards, write_archive=False):
        archive_id = store.archive_id(create=store.writable())
        _check_archive(Path(out), store, archive_id, config.guards)
        entries_all = store.entries()
        if not entries_all:
            raise InputError(f"the raw archive {raw} holds no inputs")
        chosen = [
            e
            for e in entries_all
            if (since is None or e.fetched_at >= since) and (until is None or e.fetched_at < until)
        ]
        entries = chosen if since is None and until is None else _ledger(Path(out), store) + chosen
        result = build(entries, Path(out), store, summary, config=config, executor=executor)
        _write_state(Path(out), store, archive_id)
        return result


def run_crawl(
    site: str,
    out: str | Path = "curated",
    raw: str | Path = "raw",
    options: CrawlOptions | None = None,
    config: RunConfig | None = None,
    executor: ParseExecutor | None = None,
) -> RunSummary:
    """Crawl a WordPress site's REST API into one WARC file of the raw archive, then
    rebuild the output from everything it holds (the WARC is read by the same readers).

    The cursor of each post type (``--out/.cwingest-crawl.json``) moves only after the
    WARC is archived and the tables are published; a failed or killed crawl leaves it
    where it was, so the next one asks for the same window again.

    Raises:
        RunError: the run could not complete (nothing was published).
    """
    return run_crawls(
        [CrawlTarget(site, options or CrawlOptions())], out, raw, config, executor=executor
    )


# Crawls one site for a run: given the target and the run (output, archive, run id and
# start), returns what it archived. Flows wrap :func:`crawl_one` in a subflow per site.
SiteCrawler = Callable[[CrawlTarget, "CrawlRun"], SiteCrawl]


@dataclass(frozen=True)
class CrawlRun:
    """The run a site's crawl belongs to (paths and ids only: it crosses into subflows)."""

    out: str
    raw: str
    run_id: str
    started: datetime

    def crawl(self, target: CrawlTarget) -> SiteCrawl:
        """Crawl ``target`` into this run's archive (the run holds the locks)."""
        return crawl_one(target, Path(self.out), RawStore(self.raw), self.run_id, self.started)


def run_crawls(
    targets: list[CrawlTarget],
    out: str | Path = "curated",
    raw: str | Path = "raw",
    config: RunConfig | None = None,
    crawler: SiteCrawler | None = None,
    executor: ParseExecutor | None = None,
) -> RunSummary:
    """Crawl several sites, then build the tables once from everything the archive holds.

    Each site is crawled by ``crawler`` (default :meth:`CrawlRun.crawl`). A site that
    cannot be crawled does not stop the others: their tables are published, their cursors
    saved, and ``RunSummary.failed_sites`` names it (its cursor stays). With one site, or
    when no site could be crawled, the run fails instead (nothing published).

    Raises:
        RunError: the run could not complete (nothing was published).
    """
    if not targets:
        raise InputError("no site to crawl")
    config = config or RunConfig()
    started = datetime.now(UTC)
    if len(targets) == 1:
        o = targets[0].options
        parameters: dict[str, Any] = {
            "site": targets[0].base,
            "post_types": list(o.post_types),
            "since": o.since,
            "full": o.full,
            "rate": o.rate,
        }
    else:
        parameters = {
            "sites": [
                {"site": t.base, "post_types": list(t.options.post_types), "full": t.options.full}
                for t in targets
            ]
        }
    parameters |= {"out": str(out), "raw": str(raw), **config.parameters()}
    summary = RunSummary(new_run_id(), "crawl", parameters, started, out=str(out))
    store = RawStore(raw)
    outp = Path(out)
    run = CrawlRun(str(out), str(raw), summary.run_id, started)
    crawl = crawler or (lambda target, r: r.crawl(target))
    with _exclusive(outp, store, "crawl", config.guards, write_archive=True):
        archive_id = store.archive_id(create=True)
        _check_archive(outp, store, archive_id, config.guards)
        done: list[SiteCrawl] = []
        for target in targets:
            try:
                done.append(crawl(target, run))
            except (CrawlError, httpx.HTTPError) as exc:
                if len(targets) == 1:
                    if isinstance(exc, CrawlError):
                        raise InputError(str(exc)) from exc
                    raise
                # one unreachable or refusing site does not hold the others back
                reason = str(exc) if isinstance(exc, CrawlError) else f"{type(exc).__name__}: {exc}"
                summary.failed_sites.append(f"{target.base}: {reason}")
                log.error("crawl of %s failed: %s", target.base, reason)
        if not done:
            raise InputError("no site could be crawled: " + "; ".join(summary.failed_sites))
        summary.crawl = combined_stats(done)
        summary.notes = [note for c in done for note in c.notes]
        entries = [*_ledger(outp, store), *(e for c in done for e in c.entries)]
        result = build(entries, outp, store, summary, config=config, executor=executor)
        _write_state(outp, store, archive_id)
        save_cursors(outp, done)
        for c in done:
            c.finish(outp)
        return result
