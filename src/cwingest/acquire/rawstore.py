"""Content-addressed archive of raw inputs (``--raw``).

Every input is kept exactly as fetched under ``objects/ab/<sha256>`` and described by one
line in ``manifest.jsonl`` (where and when it came from). Nothing downstream needs the
network or the original files again: a backfill rebuilds every curated table from here.
The manifest is append-only; the first sighting of a (raw_id, source_uri) pair keeps its
``fetched_at``, so re-ingesting the same file changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from cwingest.models import RawInput

CHUNK = 1 << 20


class RawStore:
    """The raw archive rooted at one folder."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.objects = self.root / "objects"
        self.manifest_path = self.root / "manifest.jsonl"

    # -- identity ------------------------------------------------------------------------
    def archive_id(self, create: bool = False) -> str | None:
        """The archive's id (``archive.json``), made on first write when ``create``.

        An output records the id of the archive it was built from, so a run pointed at
        another archive (a typo, a copy, an empty folder) is told apart from it.
        """
        path = self.root / "archive.json"
        try:
            data = json.loads(path.read_text("utf-8"))
            if isinstance(data, dict) and isinstance(data.get("archive_id"), str):
                return str(data["archive_id"])
        except FileNotFoundError:
            pass
        except (OSError, json.JSONDecodeError):
            return None
        if not create:
            return None
        self.root.mkdir(parents=True, exist_ok=True)
        record = {"archive_id": uuid.uuid4().hex, "created_at": datetime.now(UTC).isoformat()}
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".archive-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(record, fh)
        os.replace(tmp, path)
        return str(record["archive_id"])

    def writable(self) -> bool:
        """True when this process can write into the archive folder."""
        return self.root.is_dir() and os.access(self.root, os.W_OK | os.X_OK)

    # -- writing -------------------------------------------------------------------------
    def object_path(self, raw_id: str) -> Path:
        """Where the bytes of ``raw_id`` live (whether or not they exist yet)."""
        return self.objects / raw_id[:2] / raw_id

    def put_stream(
        self,
        stream: IO[bytes],
        source_uri: str,
        fetched_at: datetime | None = None,
        context: dict[str, Any] | None = None,
    ) -> RawInput:
        """Copy a byte stream into the archive (constant memory) and record it."""
        self.objects.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=self.objects, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            raw_id = digest.hexdigest()
            final = self.object_path(raw_id)
            final.parent.mkdir(parents=True, exist_ok=True)
            if final.exists():
                os.unlink(tmp)
            else:
                os.replace(tmp, final)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return self._record(raw_id, source_uri, size, fetched_at, context or {})

    def put_bytes(
        self,
        data: bytes,
        source_uri: str,
        fetched_at: datetime | None = None,
        context: dict[str, Any] | None = None,
    ) -> RawInput:
        """Archive bytes already in memory (e.g. an HTTP response body)."""
        import io

        return self.put_stream(io.BytesIO(data), source_uri, fetched_at, context)

    def _record(
        self,
        raw_id: str,
        source_uri: str,
        size: int,
        fetched_at: datetime | None,
        context: dict[str, Any],
    ) -> RawInput:
        known = self._index().get((raw_id, source_uri))
        if known is not None:
            return known
        entry = RawInput(
            raw_id=raw_id,
            source_uri=source_uri,
            fetched_at=(fetched_at or datetime.now(UTC)).astimezone(UTC),
            byte_size=size,
            stored_path=str(self.object_path(raw_id).relative_to(self.root)),
            context=context,
        )
        line = {
            "raw_id": raw_id,
            "source_uri": source_uri,
            "fetched_at": entry.fetched_at.isoformat(),
            "byte_size": size,
            "stored_path": entry.stored_path,
            "context": context,
        }
        with open(self.manifest_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(line, sort_keys=True, ensure_ascii=False) + "\n")
        self._cache[(raw_id, source_uri)] = entry
        return entry

    # -- reading -------------------------------------------------------------------------
    _cache: dict[tuple[str, str], RawInput]

    def _index(self) -> dict[tuple[str, str], RawInput]:
        if not hasattr(self, "_cache"):
            self._cache = {entry_key(e): e for e in self._read_manifest()}
        return self._cache

    def _read_manifest(self) -> Iterator[RawInput]:
        if not self.manifest_path.exists():
            return
        with open(self.manifest_path, encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                try:
                    d = json.loads(line)
                except json.JSONDecodeError:
                    # A torn last line from a killed run: the object may exist but its
                    # description is lost; the next ingest of that input records it again.
                    continue
                yield RawInput(
                    raw_id=d["raw_id"],
                    source_uri=d["source_uri"],
                    fetched_at=datetime.fromisoformat(d["fetched_at"]),
                    byte_size=int(d["byte_size"]),
                    stored_path=d["stored_path"],
                    context=d.get("context") or {},
                )

    def entries(self) -> list[RawInput]:
        """Every archived (raw_id, source_uri) pair, in a stable order."""
        return sorted(self._index().values(), key=entry_key)

    def open(self, raw_id: str) -> IO[bytes]:
        """Open the archived bytes of ``raw_id`` for reading."""
        return open(self.object_path(raw_id), "rb")


def entry_key(entry: RawInput) -> tuple[str, str]:
    """Primary key of a manifest entry."""
    return (entry.raw_id, entry.source_uri)
