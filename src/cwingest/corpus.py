"""Reading the corpus: pandas and Polars loaders, the change feed, and exports.

The curated tables are Parquet datasets any tool reads; these helpers give the types a
researcher expects without thinking about them: in pandas, nullable integers (``wp_id``
stays an integer with missing values, never a float), Arrow-backed strings, lists as
lists and timestamps in UTC; in Polars, its own types. ``cwingest changes --since RUN``
and ``cwingest export`` are built on the same functions.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from cwingest.models import InputError
from cwingest.publish.schemas import TABLES, load_schema

Backend = str  # "pandas" or "polars"


def _dataset(out: str | Path, table: str) -> Path:
    if table not in TABLES:
        raise InputError(f"no table {table!r}; the tables are {', '.join(TABLES)}")
    path = Path(out) / table
    if not path.exists():
        raise InputError(f"{path} does not exist (has cwingest published {out}?)")
    return path


def read_arrow(out: str | Path, table: str, columns: list[str] | None = None) -> pa.Table:
    """A published table as Arrow (the version published when it is read)."""
    return pq.read_table(_dataset(out, table), columns=columns)


def _pandas_type(arrow_type: pa.DataType) -> Any:
    import pandas as pd

    if pa.types.is_integer(arrow_type):
        return pd.Int64Dtype()
    if pa.types.is_floating(arrow_type):
        return pd.Float64Dtype()
    if pa.types.is_boolean(arrow_type):
        return pd.BooleanDtype()
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return pd.StringDtype("pyarrow")
    if pa.types.is_list(arrow_type) or pa.types.is_struct(arrow_type):
        return pd.ArrowDtype(arrow_type)
    return None  # timestamps: numpy datetime64[us, UTC]


def load_table(
    table: str,
    out: str | Path = "curated",
    columns: list[str] | None = None,
    backend: Backend = "pandas",
) -> Any:
    """One curated table as a pandas (default) or Polars DataFrame.

    pandas: nullable ``Int64``/``boolean``/``Float64``, ``string[pyarrow]``, lists as
    Arrow lists (``df.authors.list.len()``, ``df.explode("authors")``, Python lists when
    iterated), timestamps as ``datetime64[us, UTC]``. Polars (``backend="polars"``, when it
    is installed): its native types.

    Raises:
        InputError: no such table, or the output has none yet.
        ImportError: the backend is not installed.
    """
    return _frame(read_arrow(out, table, columns), backend)


def _frame(arrow: pa.Table, backend: Backend) -> Any:
    """An Arrow table as a pandas or Polars DataFrame, with the types :func:`load_table`
    promises."""
    if backend == "polars":
        try:
            import polars as pl
        except ImportError as exc:
            raise ImportError("backend='polars' needs polars: pip install polars") from exc
        return pl.from_arrow(arrow)
    if backend != "pandas":
        raise ValueError(f"unknown backend {backend!r} (pandas or polars)")
    mapping = {f.type: _pandas_type(f.type) for f in arrow.schema}
    return arrow.to_pandas(types_mapper=mapping.get)


def load_posts(out: str | Path = "curated", **kwargs: Any) -> Any:
    """``posts``: one row per distinct post (see :func:`load_table` for types)."""
    return load_table("posts", out, **kwargs)


def load_post_sources(out: str | Path = "curated", **kwargs: Any) -> Any:
    """``post_sources``: one row per parsed document, with its post and relation."""
    return load_table("post_sources", out, **kwargs)


def load_authors(out: str | Path = "curated", **kwargs: Any) -> Any:
    """``authors``: one row per author, with the spellings posts use."""
    return load_table("authors", out, **kwargs)


def load_issues(out: str | Path = "curated", **kwargs: Any) -> Any:
    """``issues``: one row per issue term, with the spellings posts use."""
    return load_table("issues", out, **kwargs)


def load_changes(
    out: str | Path = "curated", since: str | None = None, backend: Backend = "pandas"
) -> Any:
    """``changes`` (the change feed), only the runs after run ``since`` when given."""
    schema = load_schema("changes").arrow
    return _frame(pa.Table.from_pylist(changes_since(out, since), schema=schema), backend)


def load_runs(out: str | Path = "curated", **kwargs: Any) -> Any:
    """``runs``: one row per run, with its counts."""
    return load_table("runs", out, **kwargs)


def changes_since(out: str | Path, since: str | None = None) -> list[dict[str, Any]]:
    """The change feed's rows of the runs that started after run ``since`` (every row
    without it), in run then post order.

    Raises:
        InputError: ``since`` is not a run of this output.
    """
    runs = read_arrow(out, "runs", ["run_id", "started_at"]).to_pylist()
    started = {r["run_id"]: r["started_at"] for r in runs}
    if since is not None and since not in started:
        raise InputError(f"{out} has no run {since!r} (see its runs table)")
    floor = started[since] if since is not None else None
    rows = read_arrow(out, "changes").to_pylist()
    chosen = [r for r in rows if floor is None or r["changed_at"] > floor]
    return sorted(chosen, key=lambda r: (r["changed_at"], r["run_id"], r["post_id"]))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def write_rows(rows: Iterator[dict[str, Any]], fmt: str, fh: IO[str], columns: list[str]) -> int:
    """Rows as JSON lines (lists stay lists) or CSV (lists as JSON arrays); returns the
    number of rows written."""
    count = 0
    if fmt == "jsonl":
        for row in rows:
            fh.write(json.dumps({k: _plain(row[k]) for k in columns}, ensure_ascii=False) + "\n")
            count += 1
        return count
    if fmt != "csv":
        raise InputError(f"unknown format {fmt!r} (jsonl or csv)")
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            [
                json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else _plain(v)
                for v in (row[k] for k in columns)
            ]
        )
        count += 1
    return count


def export_table(out: str | Path, table: str, fmt: str, fh: IO[str]) -> int:
    """Write one table as JSON lines or CSV, in batches (memory does not hold it)."""
    path = _dataset(out, table)
    columns = pq.read_schema(next(path.glob("*.parquet"))).names

    def rows() -> Iterator[dict[str, Any]]:
        for part in sorted(path.glob("*.parquet")):
            for batch in pq.ParquetFile(part).iter_batches(batch_size=2000):
                yield from batch.to_pylist()

    return write_rows(rows(), fmt, fh, columns)


def export_main(out: str, table: str, fmt: str, output: str | None) -> int:
    """``cwingest export``: the number of rows written to ``output`` (stdout when None)."""
    if output in (None, "-"):
        return export_table(out, table, fmt, sys.stdout)
    with open(str(output), "w", encoding="utf-8", newline="") as fh:
        return export_table(out, table, fmt, fh)
