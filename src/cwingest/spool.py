"""Documents between stages, on disk, so memory does not grow with the corpus.

Each raw input's parse worker writes its cleaned documents and lookups to a JSON-lines
file; the spool loads them into SQLite, where the enrich stage rewrites them, the
deduplicate stage assigns each its post, and the publish stage reads them back grouped
by post.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cwingest.models import Lookup, RunError

if TYPE_CHECKING:
    from cwingest.parse.stage import RawOutcome


class SpoolError(RunError):
    """A spool file between stages could not be read back (damaged on disk)."""


class Spool:
    """Documents between stages, on disk (SQLite), so memory does not grow with the corpus."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute(
            "CREATE TABLE docs (doc_id TEXT PRIMARY KEY, data TEXT, labels TEXT, post_id TEXT,"
            " relation TEXT, similarity REAL, is_primary INTEGER, delta TEXT)"
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
                for number, line in enumerate(fh, 1):
                    try:
                        item = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise SpoolError(
                            f"the documents of raw input {outcome.raw_id} are damaged on disk "
                            f"({path.name}, line {number}: {exc.msg}); nothing was published "
                            "(run again; --no-cache parses every input anew)"
                        ) from exc
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

    def grouped(self) -> Iterator[tuple[str, dict[str, Any], str, float | None, int]]:
        """(post key, fields, relation, similarity, is_primary) in post and rank order; a
        document's fields with its ``delta`` (what the enrich stage changed, when it
        stored that apart) applied."""
        rows = self.db.execute(
            "SELECT post_id, data, relation, similarity, is_primary, delta FROM docs"
            " ORDER BY post_id"
        )
        for post_id, data, relation, similarity, is_primary, delta in rows:
            fields = json.loads(data)
            if delta is not None:
                fields.update(json.loads(delta))
            yield post_id, fields, relation, similarity, is_primary

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
