"""Acquire local files and folders: walk them, archive each file's bytes in the raw store.

Format is never decided here (parse detects it from content); this stage only makes sure
every input is either archived or reported as unreadable.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cwingest.acquire.rawstore import RawStore
from cwingest.models import RawInput


@dataclass(slots=True)
class Unreadable:
    """A path that could not be read; it becomes a ``rejects`` row."""

    source_uri: str
    error: str
    detail: str


def iter_files(paths: Iterable[str | Path], exclude: Iterable[Path] = ()) -> Iterator[Path]:
    """Yield every regular file under ``paths`` in a stable (sorted) order.

    Hidden files and folders (``.git``, ``.DS_Store``) and the excluded folders (the raw
    archive itself) are skipped, so ingesting a folder that contains the archive does not
    feed the archive back into itself.
    """
    excluded = {p.resolve() for p in exclude}
    seen: set[Path] = set()
    for top in sorted(Path(p) for p in paths):
        if top.is_dir():
            for root, dirs, files in os.walk(top):
                root_path = Path(root)
                dirs[:] = sorted(
                    d
                    for d in dirs
                    if not d.startswith(".") and (root_path / d).resolve() not in excluded
                )
                for name in sorted(files):
                    if name.startswith("."):
                        continue
                    path = root_path / name
                    if path.resolve() not in seen:
                        seen.add(path.resolve())
                        yield path
        else:
            # Named explicitly: yield even if missing, so the failure is reported.
            if top.resolve() not in seen:
                seen.add(top.resolve())
                yield top


def file_uri(path: Path) -> str:
    """The ``file://`` URI recorded as a local input's source."""
    return path.resolve().as_uri()


def archive_files(
    paths: Iterable[str | Path], store: RawStore, fetched_at: datetime | None = None
) -> Iterator[RawInput | Unreadable]:
    """Archive every file under ``paths``; yield what was archived or why it was not.

    Every file of one run gets the same ``fetched_at`` (the run's start): which file was
    copied first is an accident of the order they were named in, and must not matter.
    """
    fetched_at = fetched_at or datetime.now(UTC)
    for path in iter_files(paths, exclude=[store.root / "objects"]):
        uri = file_uri(path) if path.exists() else f"file://{path}"
        try:
            if not path.is_file():
                yield Unreadable(uri, "unreadable input", "not a regular file or missing")
                continue
            mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            with open(path, "rb") as fh:
                yield store.put_stream(
                    fh, uri, fetched_at=fetched_at, context={"file_mtime": mtime.isoformat()}
                )
        except OSError as exc:
            yield Unreadable(uri, "unreadable input", f"{type(exc).__name__}: {exc.strerror}")
