"""Prefect 3 flows: the ``cwingest`` commands, for scheduled and watched deployments.

* ``nightly_crawl``: every site of a site list (``flows/sites.toml``), one subflow each,
  then one curation step that builds the tables from everything the archive holds;
* ``ingest_dumps``: files and folders of any supported format;
* ``backfill``: rebuild from the raw archive, optionally for a window of fetch dates,
  with no network, or after re-crawling that window.

They take the command line's options under the same names (``near_threshold`` is
``--near-threshold``), built into one :class:`~cwingest.config.RunConfig` by the same
function. The logic lives in :mod:`cwingest.pipeline`; the flows wire it: per-input
parsing as tasks on Dask when a cluster address or several workers are asked for,
retries, the run's log, and two artifacts per run (counts by stage, and the posts it
changed with the rejects of its inputs) under keys named after the deployment.

Run any of them with no server at all: ``python flows/cwingest_flows.py`` ingests the
bundled sample.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import cloudpickle
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State, TaskRun
from prefect.tasks import Task, exponential_backoff

from cwingest import pipeline
from cwingest.acquire.crawl import CrawlError
from cwingest.acquire.site_crawl import CrawlTarget, SiteCrawl, load_sites
from cwingest.config import DEFAULT_WAIT, RunConfig, build_config
from cwingest.dedup.similarity import DedupConfig
from cwingest.models import InputError, ParseError, RawInput, Refused, RunError
from cwingest.parse.stage import ParseExecutor, ParseJob, RawOutcome
from cwingest.runreport import changes_markdown, count_rows

SITES_FILE = "flows/sites.toml"
DASK_ADDRESS_ENV = "CWINGEST_DASK_ADDRESS"
_RULE = ",".join(DedupConfig.canonical_rule)

# Workers of a Dask cluster need only cwingest installed: these tasks travel by value
# (a script run as __main__ already does).
if __name__ != "__main__":
    cloudpickle.register_pickle_by_value(sys.modules[__name__])


class SitesFailed(RunError):
    """Some sites of a nightly crawl could not be crawled (the others were published)."""


def retry_unless_bad_input(task: Task[Any, Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry a failed task unless it failed on its input: an unreadable path, a refused
    run, an unparsable input or a site that cannot be crawled fails the same way again."""
    try:
        state.result()
    except (InputError, Refused, ParseError, CrawlError):
        return False
    except Exception:
        return True
    return True


_RETRIES = {
    "retries": 3,
    "retry_delay_seconds": exponential_backoff(backoff_factor=10),
    "retry_jitter_factor": 0.5,
    "retry_condition_fn": retry_unless_bad_input,
}


@task(name="parse-input", task_run_name="parse {raw.raw_id}", cache_policy=NO_CACHE, **_RETRIES)
def parse_input(job: ParseJob, raw: RawInput) -> RawOutcome:
    """Parse and clean one raw input (it never raises for bad content, it reports it).

    Not cached by Prefect: the run takes what cwingest's own parse cache holds (keyed by
    the input's sha256 and the code version) before submitting anything."""
    return job(raw)


@task(name="fetch-site", cache_policy=NO_CACHE, **_RETRIES)
def fetch_site(target: CrawlTarget, run: pipeline.CrawlRun) -> SiteCrawl:
    """Crawl one site into the raw archive (a retry resumes from the checkpoints)."""
    return run.crawl(target)


@flow(name="crawl-site", flow_run_name="crawl {url}", validate_parameters=False)
def crawl_site_flow(url: str, target: CrawlTarget, run: pipeline.CrawlRun) -> SiteCrawl:
    """One site of a nightly crawl (a subflow, so each site has its own run and state)."""
    crawl = fetch_site(target, run)
    get_run_logger().info(
        "%s: %d requests, %d post records, %d bytes, %d retries",
        url,
        crawl.stats.requests,
        crawl.stats.records,
        crawl.stats.bytes,
        crawl.stats.retries,
    )
    return crawl


def _crawl_in_subflow(target: CrawlTarget, run: pipeline.CrawlRun) -> SiteCrawl:
    return crawl_site_flow(target.base, target, run)


@contextmanager
def parse_executor(workers: int, dask_address: str | None) -> Iterator[ParseExecutor | None]:
    """Where inputs are parsed: on the Dask cluster at ``dask_address`` (or
    ``$CWINGEST_DASK_ADDRESS``), on a temporary local cluster of ``workers`` processes,
    or in this process (None). Tables are the same whichever is used."""
    address = dask_address or os.environ.get(DASK_ADDRESS_ENV) or None
    if not address and workers <= 1:
        yield None
        return
    from prefect_dask import DaskTaskRunner

    if address:
        runner = DaskTaskRunner(address=address)
        ahead = 256
    else:
        runner = DaskTaskRunner(
            cluster_class="distributed.LocalCluster",
            cluster_kwargs={
                "n_workers": workers,
                "threads_per_worker": 1,
                "processes": True,
                "host": "127.0.0.1",
                "dashboard_address": None,
                # the workers report their task runs to this flow's API
                "env": {"PREFECT_API_URL": _api_url()},
            },
        )
        ahead = 8 * workers
    with runner:

        def run(job: ParseJob, raws: list[RawInput], _workers: int) -> Iterator[RawOutcome]:
            # a bounded window of submitted inputs, results taken in the inputs' order
            pending: deque[Any] = deque()
            todo = iter(raws)
            for raw in todo:
                pending.append(runner.submit(parse_input, {"job": job, "raw": raw}))
                if len(pending) >= ahead:
                    break
            while pending:
                outcome = pending.popleft().result()
                nxt = next(todo, None)
                if nxt is not None:
                    pending.append(runner.submit(parse_input, {"job": job, "raw": nxt}))
                yield outcome

        yield run


def _api_url() -> str:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return str(client.api_url).rstrip("/")


class _ToRunLog(logging.Handler):
    """cwingest's log records (stage counts, lock waits, failed sites) into the run log."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.run_logger = get_run_logger()

    def emit(self, record: logging.LogRecord) -> None:
        self.run_logger.log(record.levelno, record.getMessage())


@contextmanager
def _run_log() -> Iterator[None]:
    logger = logging.getLogger("cwingest")
    handler = _ToRunLog()
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # the run logger prints it already
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def artifact_key(name: str) -> str:
    """An artifact key from a deployment or flow name (lower case letters, digits, -)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "cwingest"


def _publish(summary: pipeline.RunSummary, out: str, flow_name: str, part: str = "") -> None:
    """The run's artifacts, keyed per deployment so the UI shows their history."""
    from prefect.runtime import deployment

    key = artifact_key(f"{deployment.name or flow_name} {part}")
    create_table_artifact(
        key=f"{key}-counts",
        table=count_rows(summary),
        description=f"cwingest {summary.command} {summary.run_id}: counts by stage",
    )
    create_markdown_artifact(
        key=f"{key}-changes",
        markdown=changes_markdown(summary, out),
        description=f"cwingest {summary.command} {summary.run_id}: posts changed, rejects",
    )
    get_run_logger().info(summary.render())


def _result(summary: pipeline.RunSummary) -> dict[str, Any]:
    return summary.row() | {"summary": summary.render(), "failed_sites": summary.failed_sites}


def _config(
    workers: int,
    include_unpublished: bool,
    near_threshold: float,
    containment_threshold: float,
    canonical_rule: str,
    keep_reposts: bool,
    no_cache: bool,
    allow_removals: bool,
    wait: float,
    profiles: list[str] | None,
) -> RunConfig:
    return build_config(
        workers=workers,
        include_unpublished=include_unpublished,
        near_threshold=near_threshold,
        containment_threshold=containment_threshold,
        canonical_rule=canonical_rule,
        keep_reposts=keep_reposts,
        no_cache=no_cache,
        allow_removals=allow_removals,
        wait=wait,
        profiles=profiles or [],
    )


@flow(name="nightly_crawl")
def nightly_crawl(
    sites_file: str = SITES_FILE,
    out: str = "curated",
    raw: str = "raw",
    full: bool = False,
    sweep: bool | None = None,
    workers: int = 1,
    dask_address: str | None = None,
    include_unpublished: bool = False,
    near_threshold: float = DedupConfig.near_threshold,
    containment_threshold: float = DedupConfig.containment_threshold,
    canonical_rule: str = _RULE,
    keep_reposts: bool = False,
    profiles: list[str] | None = None,
    no_cache: bool = False,
    allow_removals: bool = False,
    wait: float = DEFAULT_WAIT,
) -> dict[str, Any]:
    """Crawl every site of ``sites_file`` (one subflow each), then build the tables once.

    A site that cannot be crawled does not hold the others back: their posts are
    published, then this flow fails, naming it (its cursor stays, so the next night asks
    for the same window again). ``full`` and ``sweep`` apply to every site; the other
    options are those of ``cwingest crawl``.
    """
    config = _config(
        workers,
        include_unpublished,
        near_threshold,
        containment_threshold,
        canonical_rule,
        keep_reposts,
        no_cache,
        allow_removals,
        wait,
        profiles,
    )
    targets = load_sites(sites_file, full=full or None, sweep=sweep)
    with _run_log(), parse_executor(workers, dask_address) as executor:
        summary = pipeline.run_crawls(
            targets, out, raw, config, crawler=_crawl_in_subflow, executor=executor
        )
    _publish(summary, out, "nightly_crawl")
    if summary.failed_sites:
        raise SitesFailed(
            f"{len(summary.failed_sites)} of {len(targets)} sites could not be crawled "
            f"(the others were published): {'; '.join(summary.failed_sites)}"
        )
    return _result(summary)


@flow(name="ingest_dumps")
def ingest_dumps(
    paths: list[str],
    out: str = "curated",
    raw: str = "raw",
    workers: int = 1,
    dask_address: str | None = None,
    include_unpublished: bool = False,
    near_threshold: float = DedupConfig.near_threshold,
    containment_threshold: float = DedupConfig.containment_threshold,
    canonical_rule: str = _RULE,
    keep_reposts: bool = False,
    profiles: list[str] | None = None,
    no_cache: bool = False,
    allow_removals: bool = False,
    wait: float = DEFAULT_WAIT,
) -> dict[str, Any]:
    """Ingest files and folders of any supported format (``cwingest ingest``)."""
    config = _config(
        workers,
        include_unpublished,
        near_threshold,
        containment_threshold,
        canonical_rule,
        keep_reposts,
        no_cache,
        allow_removals,
        wait,
        profiles,
    )
    with _run_log(), parse_executor(workers, dask_address) as executor:
        summary = pipeline.run_ingest(paths, out=out, raw=raw, config=config, executor=executor)
    _publish(summary, out, "ingest_dumps")
    return _result(summary)


@flow(name="backfill")
def backfill(
    out: str = "curated",
    raw: str = "raw",
    since: datetime | None = None,
    until: datetime | None = None,
    recrawl: bool = False,
    sites_file: str = SITES_FILE,
    workers: int = 1,
    dask_address: str | None = None,
    include_unpublished: bool = False,
    near_threshold: float = DedupConfig.near_threshold,
    containment_threshold: float = DedupConfig.containment_threshold,
    canonical_rule: str = _RULE,
    keep_reposts: bool = False,
    profiles: list[str] | None = None,
    no_cache: bool = False,
    allow_removals: bool = False,
    wait: float = DEFAULT_WAIT,
) -> dict[str, Any]:
    """Rebuild the tables from the raw archive (``cwingest backfill``), with no network.

    ``since``/``until`` limit the rebuild to inputs fetched in that window (with what
    the output holds). With ``recrawl``, the sites of ``sites_file`` are first crawled
    again for what was modified since ``since`` (everything without it), then the
    window is rebuilt.
    """
    config = _config(
        workers,
        include_unpublished,
        near_threshold,
        containment_threshold,
        canonical_rule,
        keep_reposts,
        no_cache,
        allow_removals,
        wait,
        profiles,
    )
    with _run_log(), parse_executor(workers, dask_address) as executor:
        if recrawl:
            targets = load_sites(sites_file, since=since, full=None if since else True)
            crawled = pipeline.run_crawls(
                targets, out, raw, config, crawler=_crawl_in_subflow, executor=executor
            )
            _publish(crawled, out, "backfill", "recrawl")
        summary = pipeline.run_backfill(
            out=out, raw=raw, since=since, until=until, config=config, executor=executor
        )
    _publish(summary, out, "backfill")
    return _result(summary)


if __name__ == "__main__":
    ingest_dumps(["raw/sample"])
