"""Incremental runs: what earlier runs parsed is reused, a run with nothing new changes
nothing, and after any sequence of runs the tables equal a full rebuild's, row by row."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from cwingest.pipeline import run_backfill, run_ingest
from cwingest.synthetic import write_publication
from tests.conftest import archive_rows, table

COMPARED = ("posts", "post_sources", "raw_records", "rejects", "authors", "issues")


def _rows(out: Path, name: str) -> list[str]:
    """A table's rows as sorted JSON lines (order-free, every column compared)."""
    return sorted(json.dumps(r, sort_keys=True, default=str) for r in archive_rows(out, name))


@pytest.fixture(scope="module")
def publication(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A synthetic publication of 60 posts in every shape, cut into three batches of files."""
    root = tmp_path_factory.mktemp("publication")
    write_publication(root / "pub", posts=60, seed=5)
    files = sorted(p for p in (root / "pub").rglob("*") if p.is_file() and p.name != "truth.json")
    batches = [root / f"batch{i}" for i in range(3)]
    for i, f in enumerate(files):
        target = batches[i % 3] / f.relative_to(root / "pub")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, target)
    return batches


def _last_run(out: Path) -> dict[str, Any]:
    return max(table(out, "runs"), key=lambda r: r["finished_at"])


def test_incremental_runs_equal_a_full_rebuild(publication: list[Path], tmp_path: Path) -> None:
    out, raw = tmp_path / "inc", tmp_path / "raw"
    first = run_ingest([str(publication[0])], out=out, raw=raw)
    assert first.inputs_parsed == first.inputs > 0
    second = run_ingest([str(publication[1])], out=out, raw=raw)
    # only the new batch is parsed; the first one comes from the cache
    assert 0 < second.inputs_parsed < second.inputs
    assert second.inputs_parsed == second.inputs - first.inputs
    third = run_ingest([str(publication[2]), str(publication[0])], out=out, raw=raw)
    assert third.inputs_parsed == third.inputs - second.inputs
    versions = {p.name for p in (out / ".versions").iterdir()}
    # nothing new: nothing parsed, no table but runs rewritten, every post unchanged
    again = run_ingest([str(publication[1])], out=out, raw=raw)
    assert again.inputs_parsed == 0 and again.posts == third.posts
    assert again.posts_unchanged == again.posts and again.posts_new == again.posts_updated == 0
    changed = {p.name for p in (out / ".versions").iterdir()} - versions
    assert changed and all(name.startswith("runs-") for name in changed)
    assert json.loads(_last_run(out)["stage_seconds"]).keys() == {"publish"}
    assert _last_run(out)["inputs_parsed"] == 0

    full = tmp_path / "full"
    rebuilt = run_backfill(out=full, raw=raw, cache=False)
    assert rebuilt.inputs_parsed == rebuilt.inputs == third.inputs
    for name in COMPARED:
        assert _rows(out, name) == _rows(full, name), name
    assert json.loads(_last_run(full)["stage_seconds"]).keys() == {
        "parse",
        "enrich",
        "deduplicate",
        "publish",
    }


def test_a_code_or_profile_change_reprocesses_everything(
    publication: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, raw = tmp_path / "out", tmp_path / "raw"
    first = run_ingest([str(publication[0])], out=out, raw=raw)
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "example.toml").write_text(
        'name = "example.org"\ndomains = ["example.org"]\ndrop_lines = ["Example footer"]\n'
    )
    monkeypatch.setenv("CWINGEST_PROFILES", str(profiles))
    from cwingest.clean.profiles import load_profiles

    load_profiles.cache_clear()
    try:
        again = run_ingest([str(publication[0])], out=out, raw=raw)
    finally:
        load_profiles.cache_clear()
    assert again.inputs_parsed == again.inputs == first.inputs  # a new version: all parsed
    # the old version's cache entries are gone, the new ones are there
    versions = list((out / ".cache" / "parse").iterdir())
    assert len(versions) == 1 and any(versions[0].rglob("*.json"))


def test_a_damaged_or_deleted_cache_is_only_slower(publication: list[Path], tmp_path: Path) -> None:
    out, raw = tmp_path / "out", tmp_path / "raw"
    run_ingest([str(publication[0])], out=out, raw=raw)
    before = {name: _rows(out, name) for name in COMPARED}
    metas = sorted((out / ".cache").rglob("*.json"))
    metas[0].write_text('{"raw_id": ')  # a cut entry
    metas[1].unlink()
    (enrich,) = (out / ".cache" / "enrich").glob("*.sqlite")
    enrich.write_bytes(b"not a database" * 100)
    spools = [
        p for p in (out / ".cache").rglob("*.jsonl") if p.stem not in {m.stem for m in metas[:2]}
    ]
    cut = max(spools, key=lambda p: p.stat().st_size)
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])  # cut mid-line
    # a new input forces a rebuild: the damaged entries are parsed again, not trusted
    extra = tmp_path / "extra.txt"
    extra.write_text(
        "A New Note on Advisory\n\nPosted on May 1, 2024 by Kim Alvarez\n\n"
        "Advisory is where our students set their goals for the year and check them weekly.\n"
    )
    summary = run_ingest([str(extra)], out=out, raw=raw)
    assert summary.inputs_parsed == 4  # the two damaged entries, the cut copy, the new one
    assert summary.documents_enriched == summary.documents  # the damaged cache was started anew
    shutil.rmtree(out / ".cache")
    summary = run_ingest([str(extra)], out=out, raw=raw, cache=False)
    assert summary.inputs_parsed == summary.inputs
    posts = {r["title"] for r in table(out, "posts")}
    assert "A New Note on Advisory" in posts
    for name in ("raw_records",):
        assert len(_rows(out, name)) == len(before[name]) + 1
    assert pq.read_table(out / "posts").num_rows == len(before["posts"]) + 1


def _old_record(wp_id: int, author: int, title: str) -> dict[str, Any]:
    return {
        "id": wp_id,
        "date_gmt": f"2019-03-0{wp_id % 9 + 1}T10:00:00",
        "modified_gmt": f"2019-03-0{wp_id % 9 + 1}T10:00:00",
        "slug": f"note-{wp_id}",
        "status": "publish",
        "type": "post",
        "link": f"https://blog.example.org/note-{wp_id}/",
        "title": {"rendered": title},
        "content": {
            "rendered": f"<p>{title} is about how advisory works at school number {wp_id}, "
            "where every student meets an adult each week to look at goals, evidence and "
            f"the next step; this note {wp_id} says what changed over the year.</p>"
        },
        "author": author,
    }


def test_a_new_users_listing_re_enriches_only_the_posts_it_names(tmp_path: Path) -> None:
    posts = tmp_path / "posts"
    posts.mkdir()
    records = [_old_record(100 + i, 7 if i < 2 else 8, f"Field Note {i}") for i in range(6)]
    (posts / "posts.json").write_text(json.dumps(records))
    users = tmp_path / "users"
    users.mkdir()
    user = {
        "id": 8,
        "name": "Dana Okafor",
        "slug": "dana",
        "link": "https://blog.example.org/author/x/",
    }
    (users / "users.json").write_text(json.dumps([user]))
    out, raw = tmp_path / "out", tmp_path / "raw"
    first = run_ingest([str(posts), str(users)], out=out, raw=raw)
    assert first.documents_enriched == first.documents == 6
    by_title = {p["title"]: p for p in table(out, "posts")}
    assert by_title["Field Note 5"]["authors"] == ["Dana Okafor"]
    assert by_title["Field Note 0"]["authors"] in ([], None)  # user 7 is not known yet

    # a listing naming user 7: only the two posts by user 7 are enriched again
    (tmp_path / "more").mkdir()
    more = {
        "id": 7,
        "name": "Kim Alvarez",
        "slug": "kim",
        "link": "https://blog.example.org/author/x/",
    }
    (tmp_path / "more" / "users.json").write_text(json.dumps([more]))
    second = run_ingest([str(tmp_path / "more")], out=out, raw=raw)
    assert second.documents == 6 and second.documents_enriched == 2
    assert _last_run(out)["documents_enriched"] == 2
    by_title = {p["title"]: p for p in table(out, "posts")}
    assert by_title["Field Note 0"]["authors"] == ["Kim Alvarez"]
    assert by_title["Field Note 5"]["authors"] == ["Dana Okafor"]

    # another listing spells user 8 differently: the smaller name wins (as in any
    # rebuild, whatever the order), so the four posts by user 8 are enriched again
    (tmp_path / "renamed").mkdir()
    renamed = {**user, "name": "Dana A. Okafor"}
    (tmp_path / "renamed" / "users.json").write_text(json.dumps([renamed]))
    third = run_ingest([str(tmp_path / "renamed")], out=out, raw=raw)
    assert third.documents_enriched == 4
    by_title = {p["title"]: p for p in table(out, "posts")}
    assert by_title["Field Note 5"]["authors"] == ["Dana A. Okafor"]
    assert by_title["Field Note 0"]["authors"] == ["Kim Alvarez"]
    rebuilt = run_backfill(out=tmp_path / "full", raw=raw, cache=False)
    assert rebuilt.documents_enriched == rebuilt.documents
    for name in COMPARED:
        assert _rows(out, name) == _rows(tmp_path / "full", name), name


def test_kept_row_hashes_count_changes_as_hashing_the_table_does(
    publication: list[Path], tmp_path: Path
) -> None:
    counts = []
    for name, drop in (("kept", False), ("hashed", True)):
        out, raw = tmp_path / name, tmp_path / f"raw-{name}"
        run_ingest([str(publication[0])], out=out, raw=raw)
        kept = out / ".cache" / "post-digests"
        assert [p.stem for p in kept.iterdir()] == [(out / "posts").resolve().name]
        if drop:
            shutil.rmtree(kept)  # an older output, or a deleted cache: the table is hashed
        second = run_ingest([str(publication[1])], out=out, raw=raw)
        counts.append((second.posts_new, second.posts_updated, second.posts_unchanged))
        # the published version's hashes, and at most the previous version's (kept until
        # the switch, in case the run failed)
        stems = {p.stem for p in kept.iterdir()}
        assert (out / "posts").resolve().name in stems and len(stems) <= 2
    assert counts[0] == counts[1]
    assert counts[0][2] > 0  # posts of the first batch the second leaves as they were
