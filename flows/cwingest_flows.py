"""Prefect 3 flows: the same work as the ``cwingest`` commands, for scheduled deployments.

Tasks stay thin: they pass paths, never data, and the logic lives in
:mod:`cwingest.pipeline`, which the tests call directly. A run that cannot complete
raises, so the flow run fails loudly; rejected inputs are a normal outcome and are
reported in the returned summary and the ``rejects`` table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow, get_run_logger, task

from cwingest import pipeline


@task(name="ingest-files", retries=1, retry_delay_seconds=10)
def ingest_files(paths: list[str], out: str, raw: str, workers: int) -> dict[str, Any]:
    """Archive files and rebuild the curated tables (see ``cwingest ingest``)."""
    summary = pipeline.run_ingest(paths, out=out, raw=raw, workers=workers)
    return summary.row() | {"summary": summary.render()}


@task(name="rebuild-from-raw", retries=1, retry_delay_seconds=10)
def rebuild_from_raw(
    out: str, raw: str, since: datetime | None, until: datetime | None, workers: int
) -> dict[str, Any]:
    """Rebuild the curated tables from the raw archive (see ``cwingest backfill``)."""
    summary = pipeline.run_backfill(out=out, raw=raw, since=since, until=until, workers=workers)
    return summary.row() | {"summary": summary.render()}


@flow(name="cwingest-ingest", log_prints=True)
def ingest_flow(
    paths: list[str] | None = None, out: str = "curated", raw: str = "raw", workers: int = 1
) -> dict[str, Any]:
    """Ingest files and folders of any supported format into the curated tables."""
    result = ingest_files(paths or ["raw/sample"], out, raw, workers)
    get_run_logger().info(result["summary"])
    return result


@flow(name="cwingest-backfill", log_prints=True)
def backfill_flow(
    out: str = "curated",
    raw: str = "raw",
    since: datetime | None = None,
    until: datetime | None = None,
    workers: int = 1,
) -> dict[str, Any]:
    """Rebuild the curated tables from the raw archive, with no network."""
    result = rebuild_from_raw(out, raw, since, until, workers)
    get_run_logger().info(result["summary"])
    return result


if __name__ == "__main__":
    ingest_flow()
