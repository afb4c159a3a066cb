"""The ``cwingest`` command line: ingest, crawl, backfill."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import UTC, datetime, timedelta

from cwingest import __version__
from cwingest.acquire.crawl import CrawlOptions
from cwingest.config import build_config
from cwingest.dedup.clusters import CANONICAL_CRITERIA
from cwingest.dedup.similarity import DedupConfig
from cwingest.models import RunError
from cwingest.pipeline import DEFAULT_WAIT


def _iso_date(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO date: {value!r}") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(
        prog="cwingest",
        description="Turn WordPress dumps, exports, pages and captures into a clean corpus.",
    )
    parser.add_argument("--version", action="version", version=f"cwingest {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--out", default="curated", help="folder of the curated tables (default: curated)"
        )
        p.add_argument("--raw", default="raw", help="raw archive folder (default: raw)")
        p.add_argument("--workers", type=int, default=1, help="parallel parse workers (default: 1)")
        p.add_argument(
            "--near-threshold",
            type=float,
            default=DedupConfig.near_threshold,
            help="shingle Jaccard at which two texts are one post (default: %(default)s)",
        )
        p.add_argument(
            "--containment-threshold",
            type=float,
            default=DedupConfig.containment_threshold,
            help="share of an excerpt found in a full text to join them (default: %(default)s)",
        )
        p.add_argument(
            "--canonical-rule",
            default=",".join(DedupConfig.canonical_rule),
            help="criteria choosing a post's canonical copy, in order, from "
            + ", ".join(CANONICAL_CRITERIA)
            + " (default: %(default)s)",
        )
        p.add_argument(
            "--allow-removals",
            action="store_true",
            help="publish even when posts the output holds would disappear (their raw inputs "
            "are missing from --raw), or when --raw is not the archive the output was built from",
        )
        p.add_argument(
            "--wait",
            type=float,
            default=DEFAULT_WAIT,
            metavar="SECONDS",
            help="how long to wait for another run using the same output or archive "
            "(default: %(default)s)",
        )
        p.add_argument(
            "--keep-reposts",
            action="store_true",
            help="keep a repost of a post on the same site (another WordPress id, the same "
            "writing) as a post of its own instead of a member of the original",
        )
        p.add_argument(
            "--no-cache",
            action="store_true",
            help="parse every input again and rebuild every table, ignoring the parse cache "
            "under --out/.cache and the check that nothing changed since the last run",
        )
        p.add_argument(
            "--include-unpublished",
            action="store_true",
            help="keep drafts, private and pending items of exports, marked with their status",
        )
        p.add_argument(
            "--profiles",
            action="append",
            default=[],
            metavar="DIR",
            help="a folder of site profiles (*.toml) to use besides the bundled ones and "
            "CWINGEST_PROFILES (repeatable; a later folder wins)",
        )

    ingest = sub.add_parser("ingest", help="ingest files and folders of any supported format")
    ingest.add_argument(
        "paths", nargs="+", help="files or folders (formats are detected from content)"
    )
    common(ingest)

    crawl = sub.add_parser(
        "crawl", help="crawl a WordPress site's REST API (politely, archived as WARC)"
    )
    crawl.add_argument("site", help="the site's home URL, e.g. https://aurora-institute.org")
    crawl.add_argument(
        "--post-type",
        action="append",
        default=[],
        metavar="TYPE",
        help="only this post type (slug or rest_base; repeat for several; default: every "
        "content type the site lists)",
    )
    crawl.add_argument(
        "--since", type=_iso_date, help="fetch what was modified since this date (not the cursor)"
    )
    crawl.add_argument("--full", action="store_true", help="fetch every post (not the cursor)")
    crawl.add_argument(
        "--rate",
        type=float,
        default=CrawlOptions.rate,
        help="requests per second at most (robots.txt may ask for less; default: %(default)s)",
    )
    crawl.add_argument(
        "--lag-hours",
        type=float,
        default=CrawlOptions.lag.total_seconds() / 3600,
        help="how far before the cursor each incremental crawl looks again (default: %(default)s)",
    )
    crawl.add_argument(
        "--sweep",
        action="store_true",
        help="look for deleted posts now (otherwise once a week): list every id, confirm "
        "each one gone by its own request, mark it deleted",
    )
    crawl.add_argument(
        "--contact",
        default=CrawlOptions.contact,
        help="URL or e-mail in the User-Agent, so site owners can reach you",
    )
    common(crawl)

    backfill = sub.add_parser(
        "backfill", help="rebuild curated tables from the raw archive, no network"
    )
    backfill.add_argument(
        "--since", type=_iso_date, help="only inputs fetched at or after this date"
    )
    backfill.add_argument("--until", type=_iso_date, help="only inputs fetched before this date")
    common(backfill)

    changes = sub.add_parser(
        "changes", help="the posts runs added, updated, deleted or restored (the change feed)"
    )
    changes.add_argument(
        "--since", metavar="RUN_ID", help="only the runs after this one (default: every run)"
    )
    changes.add_argument(
        "--format",
        choices=("text", "jsonl", "csv"),
        default="text",
        help="text (one line each), jsonl or csv (default: text)",
    )
    changes.add_argument("--output", metavar="FILE", help="write there instead of stdout")
    changes.add_argument("--out", default="curated", help="folder of the curated tables")

    export = sub.add_parser("export", help="write a curated table as JSON lines or CSV")
    export.add_argument("--table", default="posts", help="which table (default: posts)")
    export.add_argument("--format", choices=("jsonl", "csv"), required=True)
    export.add_argument("--output", metavar="FILE", help="write there instead of stdout")
    export.add_argument("--out", default="curated", help="folder of the curated tables")

    report = sub.add_parser(
        "report", help="write a one-page HTML report of the corpus (OUT/report/index.html)"
    )
    report.add_argument("--out", default="curated", help="folder of the curated tables")
    return parser


def _read_command(args: argparse.Namespace) -> int:
    """``changes``, ``export`` and ``report``: they read the published tables only."""
    from cwingest import corpus

    if args.command == "export":
        corpus.export_main(args.out, args.table, args.format, args.output)
        return 0
    if args.command == "report":
        from cwingest.corpus_report import write_report

        print(write_report(args.out))
        return 0
    rows = corpus.changes_since(args.out, args.since)
    columns = ["run_id", "changed_at", "change", "post_id", "fields", "title", "replaced_by"]
    fh = open(args.output, "w", encoding="utf-8", newline="") if args.output else sys.stdout  # noqa: SIM115
    try:
        if args.format == "text":
            for r in rows:
                what = ", ".join(r["fields"]) or (
                    f"merged into {r['replaced_by']}" if r["replaced_by"] else ""
                )
                fh.write(
                    f"{r['run_id']}\t{r['change']}\t{r['post_id']}\t{what}\t{r['title'] or ''}\n"
                )
        else:
            corpus.write_rows(iter(rows), args.format, fh, columns)
    finally:
        if fh is not sys.stdout:
            fh.close()
    return 0


def _show_warnings() -> None:
    """Warnings of the library (a lock taken over, a wait, a site that failed) on stderr,
    one line each, as ``cwingest: …``."""
    logger = logging.getLogger("cwingest")
    if not any(getattr(h, "cwingest_cli", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("cwingest: %(message)s"))
        handler.setLevel(logging.WARNING)
        handler.cwingest_cli = True  # type: ignore[attr-defined]
        logger.addHandler(handler)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    from cwingest import pipeline

    _show_warnings()
    if args.command in ("changes", "export", "report"):
        try:
            return _read_command(args)
        except RunError as exc:
            print(f"cwingest: error: {exc}".splitlines()[0], file=sys.stderr)
            return exc.exit_code
        except OSError as exc:
            print(f"cwingest: error: {exc}".splitlines()[0], file=sys.stderr)
            return 1
    try:
        config = build_config(
            workers=args.workers,
            include_unpublished=args.include_unpublished,
            near_threshold=args.near_threshold,
            containment_threshold=args.containment_threshold,
            canonical_rule=args.canonical_rule,
            keep_reposts=args.keep_reposts,
            no_cache=args.no_cache,
            allow_removals=args.allow_removals,
            wait=args.wait,
            profiles=args.profiles,
        )
        if args.command == "ingest":
            summary = pipeline.run_ingest(args.paths, out=args.out, raw=args.raw, config=config)
        elif args.command == "crawl":
            options = CrawlOptions(
                post_types=tuple(args.post_type),
                since=args.since,
                full=args.full,
                rate=args.rate,
                lag=timedelta(hours=args.lag_hours),
                contact=args.contact,
                sweep=True if args.sweep else None,
            )
            summary = pipeline.run_crawl(
                args.site, out=args.out, raw=args.raw, options=options, config=config
            )
        else:
            summary = pipeline.run_backfill(
                out=args.out, raw=args.raw, since=args.since, until=args.until, config=config
            )
    except KeyboardInterrupt:
        print("cwingest: interrupted; nothing was published", file=sys.stderr)
        return 130
    except RunError as exc:  # a reason the user can act on: one line, its own status
        print(f"cwingest: error: {exc}".splitlines()[0], file=sys.stderr)
        return exc.exit_code
    except OSError as exc:  # disk full, permissions: one line, nothing published
        print(
            f"cwingest: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
            file=sys.stderr,
        )
        return 1
    except Exception as exc:  # the run could not complete: one line, non-zero
        print(f"cwingest: error: {type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr)
        return 1
    print(summary.render())
    return 0
