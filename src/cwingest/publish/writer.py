"""Write curated tables atomically.

Each table under ``--out`` is a symbolic link to a version directory
(``.versions/<table>-<run_id>/``) holding Parquet files. A run writes every table's new
version first and switches the links only after all of them were written and validated,
each switch being one atomic ``rename``: a reader sees the previous complete version of a
table or the new one, never a mix, and a run that fails publishes nothing. Older
versions are removed, keeping the previous one for readers still holding it open.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from cwingest.publish.schemas import SchemaError, load_schema, to_table

VERSIONS = ".versions"


class TableWriter:
    """Stage tables for one run, then publish them all at once."""

    def __init__(self, out: str | Path, run_id: str) -> None:
        self.out = Path(out)
        self.run_id = run_id
        self.versions = self.out / VERSIONS
        self.staged: dict[str, Path] = {}

    def stage(self, table: str, rows: Iterable[dict[str, Any]], batch_size: int = 1000) -> int:
        """Write a table's new version from rows, in batches (not yet visible to readers).

        Each batch is checked against the table's schema; primary keys are checked across
        batches. Returns the number of rows written.
        """
        self.versions.mkdir(parents=True, exist_ok=True)
        target = self.versions / f"{table}-{self.run_id}"
        if target.exists():
            shutil.rmtree(target)
        target.mkdir()
        schema = load_schema(table)
        keys: set[tuple[str, ...]] = set()
        count = 0
        path = target / "part-00000.parquet"
        with pq.ParquetWriter(path, schema.arrow, compression="zstd") as writer:
            batch: list[dict[str, Any]] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= batch_size:
                    count += self._write_batch(table, writer, batch, keys)
                    batch = []
            count += self._write_batch(table, writer, batch, keys)
        self.staged[table] = target
        return count

    @staticmethod
    def _write_batch(
        table: str,
        writer: pq.ParquetWriter,
        batch: list[dict[str, Any]],
        keys: set[tuple[str, ...]],
    ) -> int:
        arrow = to_table(table, batch)
        pk = load_schema(table).primary_key
        for row in batch:
            key = tuple(str(row.get(k)) for k in pk)
            if key in keys:
                raise SchemaError(
                    f"{table}: duplicate primary key {dict(zip(pk, key, strict=True))}"
                )
            keys.add(key)
        writer.write_table(arrow)
        return arrow.num_rows

    def publish(self) -> None:
        """Switch every staged table's link to its new version."""
        for table in sorted(self.staged):
            link = self.out / table
            if link.exists() and not link.is_symlink():
                raise RuntimeError(f"{link} exists and is not a cwingest table link")
            tmp = self.out / f".{table}.link-{self.run_id}"
            if tmp.is_symlink() or tmp.exists():
                tmp.unlink()
            os.symlink(os.path.join(VERSIONS, self.staged[table].name), tmp)
            os.replace(tmp, link)
        self._prune()

    def abort(self) -> None:
        """Remove what this run staged (after a failure)."""
        for path in self.staged.values():
            shutil.rmtree(path, ignore_errors=True)
        self.staged.clear()

    def _prune(self, keep: int = 2) -> None:
        for table in self.staged:
            versions = sorted(
                (p for p in self.versions.glob(f"{table}-*") if p.is_dir()),
                key=lambda p: p.stat().st_mtime,
            )
            current = (self.out / table).resolve()
            for old in versions[:-keep]:
                if old.resolve() != current:
                    shutil.rmtree(old, ignore_errors=True)


def read_table(out: str | Path, table: str, columns: list[str] | None = None) -> pa.Table | None:
    """The published version of a table (only ``columns`` if given), or None if none yet."""
    path = Path(out) / table
    if not path.exists():
        return None
    return pq.read_table(path, columns=columns)
