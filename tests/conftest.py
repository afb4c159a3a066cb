"""Shared test helpers: paths to ../shared, running the pipeline, reading tables."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "data" / "seeds"
REAL = SHARED / "data" / "real"
RECORDED = SHARED / "data" / "wp-recorded"


def need(path: Path) -> Path:
    """Skip the test cleanly when third-party data in ../shared is not there."""
    if not path.exists():
        pytest.skip(f"{path} not available (../shared is absent)")
    return path


def table(out: Path, name: str) -> list[dict[str, Any]]:
    """All rows of a published table."""
    return pq.read_table(out / name).to_pylist()


# Columns that record the output's own history (when a run changed a post), not what the
# archive holds: outputs built from one archive at different times differ only there.
HISTORY = {"posts": ("changed_at",)}


def archive_rows(out: Path, name: str) -> list[dict[str, Any]]:
    """A table's rows without its history columns: what any build of the archive gives."""
    rows = table(out, name)
    for r in rows:
        for key in HISTORY.get(name, ()):
            r.pop(key)
    return rows


@pytest.fixture(scope="session", autouse=True)
def _isolated_prefect_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A temporary PREFECT_HOME for the whole session: no state leaks into ~/.prefect."""
    home = tmp_path_factory.mktemp("prefect-home")
    old = os.environ.get("PREFECT_HOME")
    os.environ["PREFECT_HOME"] = str(home)
    yield
    if old is None:
        os.environ.pop("PREFECT_HOME", None)
    else:
        os.environ["PREFECT_HOME"] = old


@pytest.fixture(scope="session")
def prefect_harness(_isolated_prefect_home: None) -> Iterator[None]:
    """One temporary Prefect API for the whole session (started on first use)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness():
        yield


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Ingest paths into a fresh output; returns (out folder, summary)."""
    from cwingest.pipeline import run_ingest

    def _run(
        *paths: Path | str, out: Path | None = None, raw: Path | None = None, workers: int = 1
    ):  # type: ignore[no-untyped-def]
        out = out or tmp_path / "curated"
        raw = raw or tmp_path / "raw"
        summary = run_ingest([str(p) for p in paths], out=out, raw=raw, workers=workers)
        return out, summary

    return _run


@pytest.fixture(scope="session")
def seeds_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeds ingested once for the whole session."""
    from cwingest.pipeline import run_ingest

    need(SEEDS)
    base = tmp_path_factory.mktemp("seeds")
    files = sorted(p for p in SEEDS.iterdir() if p.name[:3].isdigit())
    run_ingest([str(p) for p in files], out=base / "curated", raw=base / "raw")
    return base / "curated"
