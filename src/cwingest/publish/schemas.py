"""The curated tables' Arrow schemas, read from the JSON files in ``schemas/``.

The files are the contract (and the data dictionary): column, type, nullability and
description. Every table is written against its schema and checked before writing, so a
column can never change type or appear null by accident.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import pyarrow as pa

TABLES = (
    "posts",
    "post_sources",
    "raw_records",
    "rejects",
    "authors",
    "issues",
    "runs",
    "post_id_map",
    "changes",
)


class SchemaError(ValueError):
    """Rows do not fit the table's contract."""


@dataclass(frozen=True)
class TableSchema:
    """One table's contract."""

    name: str
    version: int
    description: str
    primary_key: tuple[str, ...]
    arrow: pa.Schema
    allowed: dict[str, tuple[str, ...]] = field(default_factory=dict)  # column -> its values
    # columns whose change is not a change of the row's content (``"change_tracked":
    # false``: ids and bookkeeping such as source_count or last_seen_at)
    untracked: frozenset[str] = frozenset()
    types: dict[str, str] = field(default_factory=dict)  # column -> type as the file says

    @property
    def tracked(self) -> tuple[str, ...]:
        """The columns whose change makes a row "updated", in schema order."""
        return tuple(n for n in self.arrow.names if n not in self.untracked)


def schema_dir() -> Path:
    """``schemas/`` of a source checkout, or the copy packaged inside the wheel."""
    packaged = Path(str(files("cwingest"))) / "_schemas"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "schemas"


_SIMPLE_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "timestamp[us, tz=UTC]": pa.timestamp("us", tz="UTC"),
}


def parse_type(spec: str) -> pa.DataType:
    """Arrow type for a type string of the schema files."""
    spec = spec.strip()
    if spec in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[spec]
    m = re.fullmatch(r"list<(.+)>", spec)
    if m:
        return pa.list_(parse_type(m.group(1)))
    m = re.fullmatch(r"struct<(.+)>", spec)
    if m:
        fields = []
        for part in m.group(1).split(","):
            fname, ftype = part.split(":", 1)
            fields.append(pa.field(fname.strip(), parse_type(ftype)))
        return pa.struct(fields)
    raise ValueError(f"unknown column type {spec!r}")


@lru_cache(maxsize=16)
def load_schema(table: str) -> TableSchema:
    """Load one table's schema file."""
    data: dict[str, Any] = json.loads((schema_dir() / f"{table}.json").read_text("utf-8"))
    fields = [
        pa.field(
            c["name"],
            parse_type(c["type"]),
            nullable=bool(c["nullable"]),
            metadata={"description": c["description"]},
        )
        for c in data["columns"]
    ]
    meta = {
        "table": table,
        "schema_version": str(data["schema_version"]),
        "description": data["description"],
        # each column's description also as a file-level key (DuckDB reads these with
        # parquet_kv_metadata(); pyarrow has them on each field too)
        **{f"description.{c['name']}": c["description"] for c in data["columns"]},
    }
    return TableSchema(
        name=table,
        version=int(data["schema_version"]),
        description=data["description"],
        primary_key=tuple(data["primary_key"]),
        arrow=pa.schema(fields, metadata=meta),
        allowed={c["name"]: tuple(c["allowed"]) for c in data["columns"] if "allowed" in c},
        untracked=frozenset(
            c["name"] for c in data["columns"] if c.get("change_tracked", True) is False
        ),
        types={c["name"]: c["type"] for c in data["columns"]},
    )


def to_table(table: str, rows: list[dict[str, Any]]) -> pa.Table:
    """Build an Arrow table from rows, checked against the schema (raises SchemaError)."""
    schema = load_schema(table).arrow
    extra = set().union(*(r.keys() for r in rows)) - set(schema.names) if rows else set()
    if extra:
        raise SchemaError(f"{table}: columns not in schema: {sorted(extra)}")
    try:
        arrow = pa.Table.from_pylist(rows, schema=schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
        raise SchemaError(f"{table}: {exc}") from exc
    validate(table, arrow)
    return arrow


def validate(table: str, arrow: pa.Table) -> None:
    """Check the schema and nullability (``from_pylist`` fills missing columns with nulls)."""
    schema = load_schema(table)
    if not arrow.schema.equals(schema.arrow, check_metadata=False):
        raise SchemaError(f"{table}: schema differs from schemas/{table}.json")
    for col in schema.arrow:
        if not col.nullable and arrow.column(col.name).null_count:
            raise SchemaError(f"{table}.{col.name} is not nullable but has nulls")
    for name, allowed in schema.allowed.items():
        found = set(arrow.column(name).drop_null().unique().to_pylist()) - set(allowed)
        if found:
            raise SchemaError(f"{table}.{name} has values outside the contract: {sorted(found)}")
