"""The parse stage: one worker call per raw input, in processes when asked.

:func:`process_raw` detects an input's format, parses it and cleans each document it
yields (:mod:`cwingest.clean.stage`), writing them to a spool file; it never raises for
bad content, it reports it. :func:`parse_inputs` runs it over the run's inputs, takes
from the parse cache what it holds (:mod:`cwingest.cache`), and loads every outcome into
the :class:`~cwingest.spool.Spool` in the inputs' order, so the spool, and everything
after it, is the same whatever the worker count or the cache.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cwingest.acquire.rawstore import RawStore
from cwingest.cache import ParseCache, code_version
from cwingest.clean.profiles import active_profiles, run_profiles
from cwingest.clean.stage import clean_to_spool
from cwingest.config import RunConfig
from cwingest.models import ParseError, RawInput
from cwingest.parse.base import Payload, detect, is_environment_error
from cwingest.parse.registry import READERS
from cwingest.report import Reject, StageReport
from cwingest.spool import Spool, SpoolError


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
    rejects: list[Reject] = field(default_factory=list)  # parts that could not be used
    fatal: Reject | None = None  # the whole input was rejected
    partial: bool = False  # part of the input could not be read (see its rejects)
    docs_count: int = 0


def process_raw(
    raw: RawInput,
    store_root: str,
    max_bytes: int,
    options: dict[str, Any],
    work_dir: str,
) -> RawOutcome:
    """Parse and clean one raw input. Never raises for bad content: it reports it.

    ``options`` are the reader options of :meth:`~cwingest.config.RunConfig.reader_options`
    (its ``profiles`` folders apply to this input)."""
    with run_profiles(options.get("profiles", ())):
        return _process_raw(raw, store_root, max_bytes, options, work_dir)


def _process_raw(
    raw: RawInput, store_root: str, max_bytes: int, options: dict[str, Any], work_dir: str
) -> RawOutcome:
    store = RawStore(store_root)
    outcome = RawOutcome(raw_id=raw.raw_id, spool_file=str(Path(work_dir) / f"{raw.raw_id}.jsonl"))
    path = store.object_path(raw.raw_id)
    profiles = active_profiles()
    with open(outcome.spool_file, "w", encoding="utf-8") as fh:
        if not path.exists():
            detail = f"{raw.stored_path} is not in the raw archive"
            outcome.fatal = Reject("parse", "missing raw object", detail)
            return outcome
        payload = Payload(
            raw=raw,
            opener=lambda: path.open("rb"),
            max_bytes=max_bytes,
            options=options,
            sink=lambda doc: clean_to_spool(doc, profiles, fh, outcome),
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
            outcome.fatal = Reject("parse", _error_class(str(exc)), str(exc))
        except Exception as exc:  # a library choking on odd input must not stop the run
            if is_environment_error(exc):
                raise  # the machine failed (disk full, read-only, I/O error), not the input
            detail = f"{type(exc).__name__}: {str(exc)[:200]}"
            outcome.fatal = Reject("parse", "reader failure", detail)
        if outcome.fatal:
            fh.truncate(0)  # a rejected input contributes no document
            outcome.docs_count = 0
            outcome.rejects = [r for r in outcome.rejects if r.stage != "clean"]
            return outcome
        for doc in result.documents:  # readers that returned documents instead of sinking
            clean_to_spool(doc, profiles, fh, outcome)
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
    outcome.rejects += [Reject("parse", err, detail) for err, detail in result.rejects]
    outcome.partial = result.partial
    return outcome


def _error_class(reason: str) -> str:
    return reason.split(":")[0].split(" (")[0][:60]


def _progress(total: int, label: str) -> Any:
    """A rich progress bar on a terminal (not in CI), else None."""
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


@dataclass(frozen=True)
class ParseJob:
    """What a worker needs to parse any raw input of a run: paths and options only (no
    open file or client), so it travels to another process or machine as it is.

    ``store_root`` and ``work_dir`` must be visible to whoever calls it (a shared file
    system when the workers are on other machines)."""

    store_root: str
    max_bytes: int
    options: dict[str, Any]
    work_dir: str

    def __call__(self, raw: RawInput) -> RawOutcome:
        """Parse and clean one input (:func:`process_raw`)."""
        return process_raw(raw, self.store_root, self.max_bytes, self.options, self.work_dir)


# How the inputs a run must parse are parsed: given the job and the inputs (and the
# configured worker count), yield each input's outcome in the inputs' order. The stage
# does the rest (cache, spool, report), so every executor gives the same tables.
ParseExecutor = Callable[[ParseJob, list[RawInput], int], Iterator[RawOutcome]]


def in_process(job: ParseJob, raws: list[RawInput], workers: int = 1) -> Iterator[RawOutcome]:
    """Parse each input in this process, one after the other."""
    return (job(raw) for raw in raws)


def process_pool(job: ParseJob, raws: list[RawInput], workers: int) -> Iterator[RawOutcome]:
    """Parse inputs in ``workers`` fresh processes that die with this one."""
    # Workers start fresh (spawn: they inherit no lock and no open file) and die with
    # this process (PR_SET_PDEATHSIG), so a killed run leaves nothing behind.
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_init,
        initargs=(os.getpid(),),
    )
    finished = False
    try:
        yield from pool.map(job, raws, chunksize=4)
        finished = True
    finally:
        if finished:
            pool.shutdown(wait=True)
        else:  # failed or abandoned: stop the workers now
            pool.shutdown(wait=False, cancel_futures=True)
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                proc.kill()


def parse_inputs(
    raws: list[RawInput],
    store: RawStore,
    out: Path,
    work: Path,
    config: RunConfig,
    executor: ParseExecutor | None = None,
) -> tuple[Spool, dict[str, RawOutcome], StageReport]:
    """Parse and clean ``raws`` (each byte sequence once) into a spool under ``work``.

    What the cache holds for an input (same bytes, entry, code and options) is taken from
    it, unless the archive lost the input; only the rest is parsed, by ``executor``
    (default: in this process, or in ``config.workers`` processes).
    """
    started = time.perf_counter()
    spool = Spool(work / "spool.sqlite")
    outcomes: dict[str, RawOutcome] = {}
    options = config.reader_options()
    cache = ParseCache(out, code_version(options, config.max_bytes)) if config.cache else None
    hits: dict[str, RawOutcome] = {}
    if cache is not None:
        for raw in raws:
            # an input the archive lost is reported as such, whatever the cache holds
            hit = cache.get(raw, work) if store.object_path(raw.raw_id).exists() else None
            if hit is not None:
                hits[raw.raw_id] = hit
    todo = [raw for raw in raws if raw.raw_id not in hits]
    reparsed: list[str] = []  # cached inputs whose entry turned out damaged
    progress = _progress(len(todo), "parse + clean")
    # absolute paths: a worker may run in another directory, or on another machine that
    # mounts the same file system
    job = ParseJob(str(store.root.resolve()), config.max_bytes, options, str(work.resolve()))

    def collect(parsed: Iterator[RawOutcome]) -> None:
        for raw in raws:
            outcome = hits.get(raw.raw_id)
            if outcome is None:
                outcome = next(parsed)
                if cache is not None:
                    cache.put(raw, outcome)
                if progress:
                    progress.advance(progress.task_ids[0])
            try:
                spool.add(outcome)
            except SpoolError:
                if cache is None or raw.raw_id not in hits:
                    raise
                # a damaged cache entry: parse the input again (its documents replace
                # whatever was read of the damaged copy)
                cache.forget(raw)
                hits.pop(raw.raw_id)
                outcome = job(raw)
                cache.put(raw, outcome)
                reparsed.append(raw.raw_id)
                spool.add(outcome)
            outcomes[outcome.raw_id] = outcome
        for _ in parsed:  # let the executor finish (and release its workers)
            pass

    run_parse = executor or (process_pool if config.workers > 1 and len(todo) > 1 else in_process)
    parsed = run_parse(job, todo, config.workers)
    try:
        collect(iter(parsed))
    finally:
        close = getattr(parsed, "close", None)
        if close is not None:  # a generator: stops its workers now, also after a failure
            close()
    if progress:
        progress.stop()
    spool.db.commit()
    if cache is not None:
        cache.prune(raws)
    report = StageReport("parse")
    report.counts = {
        "inputs": len(raws),
        "parsed": len(todo) + len(reparsed),
        "cached": len(hits),
        "documents": sum(o.docs_count for o in outcomes.values()),
        "rejected_inputs": sum(1 for o in outcomes.values() if o.fatal),
        # inputs whose result could not be cached (disk full): parsed again next run
        "cache_write_failures": cache.failed if cache is not None else 0,
    }
    for o in outcomes.values():
        if o.skip_reasons:
            for part in o.skip_reasons.split("; "):
                reason, _, n = part.rpartition("=")
                report.skipped[reason] = report.skipped.get(reason, 0) + int(n)
        report.rejects += ([o.fatal] if o.fatal else []) + o.rejects
    report.seconds = time.perf_counter() - started
    return spool, outcomes, report
