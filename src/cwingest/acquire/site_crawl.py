"""One site's crawl into the raw archive, and the state kept for the next one.

:func:`crawl_one` runs the crawler (:mod:`cwingest.acquire.crawl`) for one site and
archives what it fetched: the crawl's WARC, plus the WARC of an earlier crawl of the site
that was cut off. What lets the next crawl start where this one ended lives under the
output: the cursors (``.cwingest-crawl.json``, saved by the caller once the tables are
published), the resume checkpoints and the cut-off WARC (``.crawl-partial/``), and the
validators of conditional requests (``.crawl-validators/``), settled by
:meth:`SiteCrawl.finish` after publishing. Several sites can be crawled this way before one
curation step builds the tables from all of them (the nightly flow does).

A site list for scheduled crawls is a TOML file (:func:`load_sites`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import time
import tomllib
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cwingest.acquire.crawl import CrawlOptions, CrawlStats, Fetcher, crawl_site
from cwingest.acquire.rawstore import RawStore
from cwingest.models import InputError, RawInput
from cwingest.publish.writer import read_table
from cwingest.util import site_of

CRAWL_STATE = ".cwingest-crawl.json"


@dataclass(frozen=True)
class CrawlTarget:
    """A site to crawl and how (``cwingest crawl URL`` and its options)."""

    url: str
    options: CrawlOptions = field(default_factory=CrawlOptions)

    @property
    def base(self) -> str:
        """The site's key with a trailing slash: where its REST API is looked for."""
        return site_key(self.url) + "/"


@dataclass
class SiteCrawl:
    """What one site's crawl put in the raw archive, and what to save once published."""

    target: CrawlTarget
    entries: list[RawInput]  # this crawl's WARC, and cut-off crawls' WARCs it archived
    cursors: dict[str, str]  # per post type: to be saved once the tables are published
    notes: list[str]
    stats: CrawlStats
    partial: Path
    validators: dict[str, Any]
    # the digests of every answer the archive holds of the site (this crawl's too)
    contents: dict[str, Any]

    def finish(self, out: Path) -> None:
        """After publishing: keep the validators and the digests of what the site said;
        drop what a resume would need, unless pages were lost (then the next crawl
        resumes from the checkpoints)."""
        for folder, data in (
            (".crawl-validators", self.validators),
            (".crawl-contents", self.contents),
        ):
            path = out / folder / f"{self.partial.name}.json"
            path.parent.mkdir(exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data), encoding="utf-8")
            os.replace(tmp, path)
        if self.stats.errors:  # some pages are missing: resume from the checkpoints
            for warc in self.partial.glob("*.warc.gz"):
                warc.unlink()
        else:
            shutil.rmtree(self.partial, ignore_errors=True)  # published: nothing to resume


def site_key(url: str) -> str:
    """``scheme://host/path`` of a site URL, lower-case host, no trailing slash."""
    parts = urlsplit(url if "://" in url else f"https://{url}")
    return f"{parts.scheme}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def crawl_one(
    target: CrawlTarget, out: Path, store: RawStore, run_id: str, started: datetime
) -> SiteCrawl:
    """Crawl one site into a WARC and archive it (the caller holds the output's lock).

    A crawl that brought nothing new (every record and answer the same as those of the
    crawls the output already holds, no cut-off crawl to archive) archives nothing: the
    tables stay as they were and only ``runs`` records the crawl.

    Raises:
        CrawlError: the site cannot be crawled (no API and no sitemap, refused).
    """
    base = target.base
    cursors = read_crawl_state(out).get(site_key(target.url), {})
    # A crawl writes its WARC and checkpoints where a killed run leaves them: the next
    # crawl of the site archives what was stored and starts each window there.
    partial = out / ".crawl-partial" / hashlib.sha256(base.encode()).hexdigest()[:16]
    partial.mkdir(parents=True, exist_ok=True)
    _keep_partial(partial)  # a cut-off crawl's WARC: archived with this one's below
    marks_path = partial / "checkpoint.json"
    marks: dict[str, str] = {}
    with contextlib.suppress(OSError, ValueError):
        marks = json.loads(marks_path.read_text("utf-8"))
    warc_path = partial / "crawl.warc.gz"
    with open(warc_path, "wb") as fh:
        fetcher = Fetcher(base, target.options, fh)
        with contextlib.suppress(OSError, ValueError):
            validators_path = out / ".crawl-validators" / f"{partial.name}.json"
            fetcher.validators = json.loads(validators_path.read_text("utf-8"))

        def checkpoint(post_type: str, reach: str) -> None:
            fh.flush()  # what the checkpoint says is stored is on disk first
            os.fsync(fh.fileno())
            marks[post_type] = max(reach, marks.get(post_type, ""))
            tmp = marks_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(marks), encoding="utf-8")
            os.replace(tmp, marks_path)

        status = _crawl_status(base)
        if status is not None:
            fetcher.on_request = lambda st: status.update(_crawl_line(base, st, fetcher))
        try:
            known = _known_ids(out, site_of(base))
            new_cursors, notes = crawl_site(
                fetcher, target.options, cursors, known, resume=marks, checkpoint=checkpoint
            )
        finally:
            fetcher.close()
            if status is not None:
                status.stop()
    resumed = _archive_earlier(partial, store, base)
    notes += [f"resumed a cut-off crawl: {e.source_uri}" for e in resumed]
    # what earlier crawls of the site answered, as long as they went into this archive
    archive = store.archive_id()
    known_contents: dict[str, str] = {}
    with contextlib.suppress(OSError, ValueError, AttributeError):
        kept = json.loads((out / ".crawl-contents" / f"{partial.name}.json").read_text("utf-8"))
        if kept.get("archive") == archive and isinstance(kept.get("digests"), dict):
            known_contents = kept["digests"]
    new = {k: v for k, v in fetcher.contents.items() if known_contents.get(k) != v}
    entries = list(resumed)
    if new or resumed or not known_contents:
        with open(warc_path, "rb") as stored:
            entries.append(store.put_stream(stored, f"{base}#crawl-{run_id}", fetched_at=started))
    else:
        notes.append(f"{base}: nothing new (the crawl's WARC is not archived)")
    return SiteCrawl(
        target,
        entries,
        new_cursors,
        notes,
        fetcher.stats,
        partial,
        fetcher.validators,
        {"archive": archive, "digests": {**known_contents, **fetcher.contents}},
    )


def combined_stats(crawls: list[SiteCrawl]) -> CrawlStats:
    """The figures of several sites' crawls added up (the run's ``crawl_*`` columns)."""
    total = CrawlStats()
    for c in crawls:
        for f in fields(CrawlStats):
            value = getattr(c.stats, f.name)
            setattr(total, f.name, getattr(total, f.name) + value)
    return total


def _keep_partial(partial: Path) -> None:
    """Set the WARC of a crawl that was cut off aside (``earlier-*.warc.gz``): its
    complete records are data the checkpoints count as stored."""
    left = partial / "crawl.warc.gz"
    if left.exists() and left.stat().st_size > 0:
        when = datetime.fromtimestamp(left.stat().st_mtime, UTC)
        os.replace(left, partial / f"earlier-{when:%Y%m%dT%H%M%S%fZ}.warc.gz")


def _archive_earlier(partial: Path, store: RawStore, base: str) -> list[RawInput]:
    """Archive the WARCs of earlier cut-off crawls of the site, each a raw input."""
    entries = []
    for path in sorted(partial.glob("earlier-*.warc.gz")):
        stamp = path.name[len("earlier-") : -len(".warc.gz")]
        when = datetime.strptime(stamp, "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
        with open(path, "rb") as fh:
            entries.append(store.put_stream(fh, f"{base}#crawl-cut-off-{stamp}", fetched_at=when))
    return entries


def _crawl_status(base: str) -> Any:
    """A one-line live status on a terminal (not in CI), else None."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        return None
    from rich.console import Console

    status = Console(stderr=True).status(f"crawling {base}")
    status.start()
    return status


def _crawl_line(base: str, st: CrawlStats, fetcher: Fetcher) -> str:
    took = max(time.monotonic() - fetcher.started, 1e-6)
    return (
        f"crawling {base}: {st.requests} requests ({st.requests / took:.1f}/s), "
        f"{st.records} posts, {st.bytes / 1e6:.1f} MB, {st.retries} retries, "
        f"{st.wait_seconds:.0f} s waited"
    )


def _known_ids(out: Path, site: str | None) -> dict[str, set[int]]:
    """The WordPress ids the output holds for ``site``, per post type (not deleted)."""
    posts = read_table(out, "posts", columns=["site", "wp_id", "post_type", "deleted_at"])
    known: dict[str, set[int]] = {}
    if posts is None:
        return known
    for r in posts.to_pylist():
        if r["site"] == site and r["wp_id"] is not None and r["deleted_at"] is None:
            known.setdefault(r["post_type"] or "post", set()).add(r["wp_id"])
    return known


def read_crawl_state(out: Path) -> dict[str, dict[str, str]]:
    """Every site's cursors (site key -> post type -> newest ``modified_gmt`` stored)."""
    try:
        data = json.loads((out / CRAWL_STATE).read_text("utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def save_cursors(out: Path, crawls: list[SiteCrawl]) -> None:
    """Save the cursors of published crawls (the others keep theirs)."""
    state = read_crawl_state(out)
    for c in crawls:
        state[site_key(c.target.url)] = c.cursors
    tmp = out / f"{CRAWL_STATE}.tmp"
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, out / CRAWL_STATE)


# Options a site list may set per site (or for all in [defaults]), as the CLI names them.
_SITE_OPTIONS = {
    "post_types": "post_types",
    "since": "since",
    "full": "full",
    "rate": "rate",
    "lag_hours": "lag",
    "contact": "contact",
    "sweep": "sweep",
}


def load_sites(path: str | Path, **overrides: Any) -> list[CrawlTarget]:
    """The sites of a site list (TOML), each with its crawl options.

    ::

        [defaults]                  # every site, unless it says otherwise
        contact = "mailto:data@example.org"
        rate = 2

        [[site]]
        url = "https://aurora-institute.org"
        post_types = ["cw_post"]    # slug or rest_base; default: every content type
        lag_hours = 6

    ``overrides`` (the flow's parameters, e.g. ``full=True``) apply to every site.

    Raises:
        InputError: the file is missing, not TOML, lists no site, or has an unknown or
            ill-typed option (one line naming the file and the option).
    """
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise InputError(f"site list {path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"site list {path} is not valid TOML: {exc}") from exc
    defaults = data.get("defaults", {})
    sites = data.get("site", [])
    if not isinstance(sites, list) or not sites:
        raise InputError(f"site list {path} has no [[site]] entry")
    targets = []
    for number, entry in enumerate(sites, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            raise InputError(f"site list {path}: site {number} has no url")
        merged = {**defaults, **{k: v for k, v in entry.items() if k != "url"}}
        merged.update({k: v for k, v in overrides.items() if v is not None})
        try:
            options = _options(merged)
        except (TypeError, ValueError) as exc:
            raise InputError(f"site list {path}: site {entry['url']}: {exc}") from exc
        targets.append(CrawlTarget(entry["url"], options))
    return targets


def _options(values: dict[str, Any]) -> CrawlOptions:
    unknown = sorted(set(values) - set(_SITE_OPTIONS))
    if unknown:
        raise ValueError(f"unknown option {unknown[0]!r} (known: {', '.join(_SITE_OPTIONS)})")
    options = CrawlOptions()
    changes: dict[str, Any] = {}
    for key, value in values.items():
        if key == "post_types":
            if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                raise TypeError("post_types must be a list of names")
            changes["post_types"] = tuple(value)
        elif key == "since":
            when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
            changes["since"] = when if when.tzinfo else when.replace(tzinfo=UTC)
        elif key == "lag_hours":
            changes["lag"] = timedelta(hours=float(value))
        elif key == "rate":
            if float(value) <= 0:
                raise ValueError("rate must be positive")
            changes["rate"] = float(value)
        elif key in ("full", "sweep"):
            if not isinstance(value, bool):
                raise TypeError(f"{key} must be true or false")
            changes[key] = value
        else:
            changes[_SITE_OPTIONS[key]] = str(value)
    return replace(options, **changes)
