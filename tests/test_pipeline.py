"""Invariants of DESIGN.md on the bundled sample: conservation, determinism, idempotence,
atomicity, backfill from the raw archive alone."""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest

from cwingest import pipeline
from cwingest.models import Refused
from cwingest.publish import stage as publish_stage
from cwingest.publish.schemas import TABLES
from cwingest.sample import write_sample
from tests.conftest import table

STABLE = {"posts", "post_sources", "raw_records", "rejects", "authors", "issues"}


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    folder = tmp_path / "sample"
    write_sample(folder)
    return folder


def _snapshot(out: Path, *, drop_uri_prefix: str | None = None) -> dict[str, list[dict]]:  # type: ignore[type-arg]
    snap = {}
    for name in STABLE:
        rows = table(out, name)
        for r in rows:
            for key in ("fetched_at", "first_seen_at", "last_seen_at", "changed_at"):
                r.pop(key, None)  # ingest time of the raw copy, which differs between archives
            if drop_uri_prefix and isinstance(r.get("source_uri"), str):
                r["source_uri"] = r["source_uri"].replace(drop_uri_prefix, "")
            r.pop("stored_path", None)
        snap[name] = sorted(rows, key=repr)
    return snap


def test_every_table_is_published_with_its_schema(run, sample: Path) -> None:  # type: ignore[no-untyped-def]
    out, summary = run(sample)
    for name in TABLES:
        assert (out / name).is_symlink(), name
        table(out, name)  # readable
    assert summary.rejected == 4 and summary.posts > 0
    import pyarrow.parquet as pq

    from cwingest.publish.schemas import load_schema

    for name in TABLES:
        got = pq.read_schema(next((out / name).glob("*.parquet")))
        assert got.equals(load_schema(name).arrow, check_metadata=False), name


def test_conservation(run, sample: Path) -> None:  # type: ignore[no-untyped-def]
    out, summary = run(sample)
    files = sorted(p for p in sample.rglob("*") if p.is_file())
    raw = table(out, "raw_records")
    assert sorted(r["source_uri"] for r in raw) == sorted(p.resolve().as_uri() for p in files)
    sources = table(out, "post_sources")
    for r in raw:
        n = sum(1 for s in sources if s["raw_id"] == r["raw_id"])
        assert n == r["documents"], r["source_uri"]
    rejects = table(out, "rejects")
    rejected = {r["source_uri"] for r in raw if r["status"] == "rejected"}
    assert rejected <= {r["source_uri"] for r in rejects}
    assert summary.documents == len(sources)
    posts = table(out, "posts")
    assert {s["post_id"] for s in sources} == {p["post_id"] for p in posts}
    assert sum(p["source_count"] for p in posts) == len(sources)


def test_same_rows_whatever_the_order_and_worker_count(tmp_path: Path, sample: Path) -> None:
    files = sorted(str(p) for p in sample.rglob("*") if p.is_file())
    shuffled = files[:]
    random.Random(3).shuffle(shuffled)
    a = pipeline.run_ingest(files, out=tmp_path / "a", raw=tmp_path / "raw")
    b = pipeline.run_ingest(shuffled, out=tmp_path / "b", raw=tmp_path / "raw2", workers=2)
    assert a.posts == b.posts
    assert _snapshot(tmp_path / "a") == _snapshot(tmp_path / "b")


def test_rerun_changes_no_row(run, sample: Path) -> None:  # type: ignore[no-untyped-def]
    out, first = run(sample)
    before = {name: table(out, name) for name in STABLE}
    out, second = run(sample)
    assert second.posts_new == 0 and second.posts_updated == 0
    assert second.posts_unchanged == first.posts
    for name in STABLE:
        assert table(out, name) == before[name], name
    assert len(table(out, "runs")) == 2


def test_backfill_rebuilds_from_the_raw_archive_alone(tmp_path: Path, sample: Path) -> None:
    pipeline.run_ingest([str(sample)], out=tmp_path / "ingested", raw=tmp_path / "raw")
    shutil.rmtree(sample)  # the originals are gone: only the archive remains
    pipeline.run_backfill(out=tmp_path / "rebuilt", raw=tmp_path / "raw")
    assert _snapshot(tmp_path / "ingested") == _snapshot(tmp_path / "rebuilt")


def test_a_failing_run_publishes_nothing(
    run, sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    out, _ = run(sample / "rest")
    before = {name: table(out, name) for name in TABLES}
    links = {name: os.readlink(out / name) for name in TABLES}

    def boom(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    # the publish stage fails after it staged some tables, before the switch
    monkeypatch.setattr(publish_stage, "_name_rows", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        run(sample)
    assert {name: os.readlink(out / name) for name in TABLES} == links
    assert {name: table(out, name) for name in TABLES} == before
    assert not list(out.glob(".work-*"))


def test_ingest_adds_to_what_the_output_holds(run, sample: Path) -> None:  # type: ignore[no-untyped-def]
    out, first = run(sample / "rest")
    out, second = run(sample / "text")
    uris = {r["source_uri"] for r in table(out, "raw_records")}
    assert any("/rest/" in u for u in uris) and any("/text/" in u for u in uris)
    assert second.posts >= first.posts
    assert second.posts_new + second.posts_updated + second.posts_unchanged == second.posts


def test_sample_posts_merge_their_copies(run, sample: Path) -> None:  # type: ignore[no-untyped-def]
    out, _ = run(sample)
    posts = {p["wp_id"]: p for p in table(out, "posts") if p["wp_id"] is not None}
    p = posts[5802]  # REST page, cut-off dump, cp1252 text copy
    assert p["title"] == "What Families Asked About the New Report Card"
    assert p["authors"] == ["Zoë Lindqvist"]
    assert p["issues"] == ["Assessment & Grading", "Equity"]
    assert p["source_count"] >= 3
    relations = sorted(
        s["relation"] for s in table(out, "post_sources") if s["post_id"] == p["post_id"]
    )
    assert relations.count("canonical") == 1 and "excerpt_of" in relations
    assert set(table(out, "issues")[0]) == {"name", "slug", "post_count", "variants"}
    authors = {a["name"]: a["post_count"] for a in table(out, "authors")}
    assert authors["Zoë Lindqvist"] >= 1


def test_an_input_missing_from_the_archive_is_reported_not_dropped(
    tmp_path: Path, sample: Path
) -> None:
    pipeline.run_ingest([str(sample / "rest")], out=tmp_path / "out", raw=tmp_path / "raw")
    before = {r["source_uri"] for r in table(tmp_path / "out", "raw_records")}
    shutil.rmtree(tmp_path / "raw" / "objects")  # the archive lost its bytes
    posts_before = table(tmp_path / "out", "posts")
    with pytest.raises(Refused, match="would remove 5 posts"):
        pipeline.run_ingest([str(sample / "text")], out=tmp_path / "out", raw=tmp_path / "raw")
    assert table(tmp_path / "out", "posts") == posts_before  # nothing was published
    summary = pipeline.run_ingest(
        [str(sample / "text")],
        out=tmp_path / "out",
        raw=tmp_path / "raw",
        guards=pipeline.Guards(allow_removals=True),
    )
    assert summary.posts_removed > 0 and "removed" in summary.render()
    assert table(tmp_path / "out", "runs")[-1]["posts_removed"] == summary.posts_removed
    raw = {r["source_uri"]: r for r in table(tmp_path / "out", "raw_records")}
    assert before <= set(raw)
    missing = [u for u in before if raw[u]["status"] == "rejected"]
    assert sorted(missing) == sorted(before)
    details = {r["source_uri"]: r["detail"] for r in table(tmp_path / "out", "rejects")}
    assert all("not in the raw archive" in details[u] for u in missing)
