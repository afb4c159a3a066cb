"""Parse and clean results kept per raw input, so a run re-reads only what is new.

What parsing and cleaning make of a raw input depends only on its bytes (its sha256 is
its ``raw_id``), on the entry it is read under (source URI and fetch time end up in its
documents), on the options readers take, and on the code, profiles and libraries that
did the work. Those are the cache key: ``code_version()`` hashes the package's sources,
its profiles (bundled and ``CWINGEST_PROFILES``), its schemas and the versions of the
libraries it depends on, so an upgrade or a profile edit reprocesses everything, as a
backfill does. The cache lives under the output (``.cache/parse/<version>/``); it is
safe to delete, and entries of other versions and of inputs the output no longer holds
are removed at the end of each run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from dataclasses import asdict
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cwingest import __version__
from cwingest.report import Reject

if TYPE_CHECKING:
    from cwingest.models import RawInput
    from cwingest.parse.stage import RawOutcome

CACHE_DIR = ".cache"


@lru_cache(maxsize=1)
def code_digest() -> str:
    """Hash of everything in the installed code that decides what a parse produces."""
    h = hashlib.sha256(__version__.encode())
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".toml", ".json", ".yaml", ".yml") and path.is_file():
            h.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    try:
        requires = metadata.requires("cwingest") or []
    except metadata.PackageNotFoundError:
        requires = []
    for req in sorted(requires):
        dist = req.split(";")[0].split("[")[0]
        for sep in "<>=!~ ":
            dist = dist.split(sep)[0]
        try:
            h.update(f"{dist}=={metadata.version(dist)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{dist}==absent".encode())
    return h.hexdigest()


def code_version(reader_options: dict[str, Any], max_bytes: int) -> str:
    """The cache version: code, extra profiles, and the options readers take."""
    h = hashlib.sha256(code_digest().encode())
    folders = [p for p in os.environ.get("CWINGEST_PROFILES", "").split(":") if p]
    # the run's own folders, in their order (a later one overrides an earlier profile)
    for folder in sorted(folders) + list(reader_options.get("profiles", [])):
        for path in sorted(Path(folder).glob("*.toml")):
            h.update(str(path).encode() + b"\0" + path.read_bytes())
    h.update(json.dumps({**reader_options, "max_bytes": max_bytes}, sort_keys=True).encode())
    return h.hexdigest()[:20]


# Caches are written only while the output's file system keeps this much free (bytes and
# share of its size): a cache is an optimisation and must never be what fills the disk the
# tables are published on.
CACHE_MIN_FREE = 64 * 2**20
CACHE_MIN_FREE_SHARE = 0.05


def room_for_cache(out: Path) -> bool:
    """True when caches may grow under ``out`` (see ``CACHE_MIN_FREE``)."""
    probe = out
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        usage = shutil.disk_usage(probe)
    except OSError:
        return False
    return usage.free >= max(CACHE_MIN_FREE, CACHE_MIN_FREE_SHARE * usage.total)


class ParseCache:
    """Outcomes and document spools of raw inputs, under ``out/.cache/parse/<version>``."""

    def __init__(self, out: Path, version: str) -> None:
        self.base = out / CACHE_DIR / "parse"
        self.root = self.base / version
        self.version = version
        self.hits = 0
        self.misses = 0
        self.failed = 0
        self.writable = room_for_cache(out)

    @staticmethod
    def key(raw: RawInput) -> str:
        """What the cached result depends on besides the code: bytes, URI, fetch time."""
        text = f"{raw.raw_id}\n{raw.source_uri}\n{raw.fetched_at.isoformat()}"
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def _paths(self, raw: RawInput) -> tuple[Path, Path]:
        key = self.key(raw)
        folder = self.root / key[:2]
        return folder / f"{key}.json", folder / f"{key}.jsonl"

    def get(self, raw: RawInput, work: Path) -> RawOutcome | None:
        """The cached outcome of ``raw``, its spool file linked into ``work``; or None."""
        from cwingest.parse.stage import RawOutcome

        meta_path, spool_path = self._paths(raw)
        try:
            meta = json.loads(meta_path.read_text("utf-8"))
            target = work / f"{raw.raw_id}.jsonl"
            _link_or_copy(spool_path, target)
        except (OSError, json.JSONDecodeError):
            self.misses += 1
            return None
        meta["rejects"] = [Reject(**r) for r in meta["rejects"]]
        meta["fatal"] = Reject(**meta["fatal"]) if meta["fatal"] else None
        meta["spool_file"] = str(target)
        self.hits += 1
        return RawOutcome(**meta)

    def put(self, raw: RawInput, outcome: RawOutcome) -> None:
        """Keep ``outcome`` (call before its spool file is consumed). The cache is an
        optimisation: when it cannot be written (disk full, permissions), the run goes on
        and the input is parsed again next time."""
        if outcome.fatal and outcome.fatal.error == "missing raw object":
            return  # says something about the archive, not about the input
        if not self.writable:
            self.failed += 1
            return
        try:
            self._put(raw, outcome)
        except OSError:
            self.failed += 1

    def _put(self, raw: RawInput, outcome: RawOutcome) -> None:
        meta_path, spool_path = self._paths(raw)
        meta_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = spool_path.with_suffix(f".tmp{os.getpid()}")
        source = Path(outcome.spool_file)
        if source.exists():
            _link_or_copy(source, tmp)
        else:
            tmp.write_bytes(b"")
        os.replace(tmp, spool_path)
        meta = asdict(outcome)
        meta.pop("spool_file")
        tmp_meta = meta_path.with_suffix(f".tmp{os.getpid()}")
        tmp_meta.write_text(json.dumps(meta), encoding="utf-8")
        os.replace(tmp_meta, meta_path)  # written last: a half-written entry is a miss

    def forget(self, raw: RawInput) -> None:
        """Drop the entry of ``raw`` (found damaged)."""
        for path in self._paths(raw):
            with contextlib.suppress(OSError):
                path.unlink()

    def prune(self, keep: list[RawInput]) -> None:
        """Remove other versions and inputs not in ``keep``."""
        if self.base.is_dir():
            for other in self.base.iterdir():
                if other.name != self.version:
                    shutil.rmtree(other, ignore_errors=True)
        if not self.root.is_dir():
            return
        wanted = {self.key(r) for r in keep}
        for folder in self.root.iterdir():
            for path in folder.iterdir():
                if path.name.split(".")[0] not in wanted or ".tmp" in path.name:
                    path.unlink(missing_ok=True)


def _link_or_copy(source: Path, target: Path) -> None:
    if target.exists():
        target.unlink()
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


class EnrichCache:
    """What the enrich stage made of each document, kept across runs by content.

    Enrichment is a function of the spooled document (its cleaned fields and labels), the
    code and profiles, and the names the document looked up in the run's users and terms.
    Each entry keeps the lookups its document consulted and their answers; a later run
    reuses the entry only when the same lookups give the same answers, so a new input
    re-enriches only the documents whose names it changes. Entries hold the fields the
    stage changed (a delta, not the document), the grouping key and the shingle
    signature. One SQLite file per code version under ``out/.cache/enrich/``; entries
    not used by a run are dropped at its end. Like the parse cache it is an optimisation:
    any error reading or writing it turns it off for the run.
    """

    def __init__(self, out: Path, version: str) -> None:
        import sqlite3

        self.base = out / CACHE_DIR / "enrich"
        self.path = self.base / f"{version}.sqlite"
        self.version = version
        self.hits = 0
        self.misses = 0
        self.failed = 0
        self._used: list[tuple[str]] = []
        self._pending: list[tuple[str, str, str, str, bytes, bytes]] = []
        self.db: sqlite3.Connection | None = None
        self.writable = room_for_cache(out)
        if not self.writable and not self.path.exists():
            self.failed += 1
            return
        for attempt in (1, 2):
            try:
                self.base.mkdir(parents=True, exist_ok=True)
                self.db = sqlite3.connect(self.path)
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=OFF")
                self.db.execute(
                    "CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, consults TEXT,"
                    " delta TEXT, grouping TEXT, shingles BLOB, paragraphs BLOB)"
                )
                return
            except sqlite3.DatabaseError:  # a damaged file: start the cache afresh
                if self.db is not None:
                    self.db.close()
                    self.db = None
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{self.path}{suffix}").unlink(missing_ok=True)
                if attempt == 2 or not self.writable:
                    self._off()
                    return
            except OSError:
                self._off()
                return

    def _off(self) -> None:
        self.failed += 1
        if self.db is not None:
            with contextlib.suppress(Exception):  # a broken cache must not stop the run
                self.db.close()
        self.db = None

    @staticmethod
    def key(data: str, labels: str) -> str:
        """The entry of a spooled document: its fields and its labels."""
        h = hashlib.sha256(data.encode())
        h.update(b"\0" + labels.encode())
        return h.hexdigest()[:32]

    def get(self, key: str) -> tuple[Any, ...] | None:
        """(consults, delta, grouping, shingles, paragraphs) of ``key``, or None."""
        import sqlite3

        if self.db is None:
            return None
        try:
            row = self.db.execute(
                "SELECT consults, delta, grouping, shingles, paragraphs FROM entries WHERE key=?",
                (key,),
            ).fetchone()
        except sqlite3.Error:
            self._off()
            return None
        return tuple(row) if row is not None else None

    def used(self, key: str) -> None:
        """Keep ``key`` at the end of the run."""
        self._used.append((key,))
        self.hits += 1

    def put(
        self, key: str, consults: str, delta: str, grouping: str, shingles: bytes, paras: bytes
    ) -> None:
        """Store one document's enrichment (written in batches)."""
        self.misses += 1
        if not self.writable:
            return
        self._used.append((key,))
        self._pending.append((key, consults, delta, grouping, shingles, paras))
        if len(self._pending) >= 500:
            self._flush()

    def _flush(self) -> None:
        import sqlite3

        if self.db is not None and self._pending:
            try:
                self.db.executemany(
                    "INSERT OR REPLACE INTO entries VALUES (?,?,?,?,?,?)", self._pending
                )
                self.db.commit()
            except sqlite3.Error:
                self._off()
        self._pending = []

    def finish(self) -> None:
        """Write what is pending, drop the entries this run did not use and the files of
        other versions."""
        import sqlite3

        self._flush()
        if self.db is not None:
            try:
                self.db.execute("CREATE TEMP TABLE used (key TEXT PRIMARY KEY)")
                self.db.executemany("INSERT OR IGNORE INTO used VALUES (?)", self._used)
                self.db.execute("DELETE FROM entries WHERE key NOT IN (SELECT key FROM used)")
                self.db.commit()
                self.db.close()
            except sqlite3.Error:
                self._off()
            self.db = None
        self._used = []
        try:
            for other in self.base.iterdir():
                if not other.name.startswith(self.version):
                    other.unlink(missing_ok=True)
        except OSError:
            pass
