"""Deduplication never merges distinct posts: the traps real archives set, on real exports
and on invented corpora whose truth is known (``cwingest.synthetic``).

Each test ingests a corpus and checks what a researcher would: the number of posts, and
that every post's fields are its own (no date, term or title borrowed from another post).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cwingest.dedup.similarity import DedupConfig
from cwingest.pipeline import run_ingest
from cwingest.synthetic import (
    field_errors,
    score,
    write_conference,
    write_publication,
    write_security_blog,
)
from tests.conftest import REAL, archive_rows, need, table


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """400 invented posts in every shape, ingested once: (publication folder, output)."""
    base = tmp_path_factory.mktemp("archive")
    write_publication(base / "pub", posts=400, seed=2011)
    run_ingest([str(base / "pub")], out=base / "out", raw=base / "raw")
    return base / "pub", base / "out"


def test_an_archive_in_every_shape_gives_one_row_per_post(archive: tuple[Path, Path]) -> None:
    pub, out = archive
    sources, posts = table(out, "post_sources"), table(out, "posts")
    s = score(pub, sources)
    assert s.unmapped == 0
    assert s.mixed_posts == 0, s.mixed  # no row holds two posts
    assert s.pair_precision == 1.0 and s.posts == len(posts)
    # Every post is one row, but for the odd copy whose evidence is ambiguous (a repost on
    # the new domain and the migrated original known only by a teaser): a missed merge
    # leaves two rows, never fewer rows than posts.
    assert s.true_posts <= s.posts <= s.true_posts * 1.01 and s.pair_recall >= 0.99
    assert field_errors(pub, posts, sources) == []


def test_every_relation_is_supported_by_its_similarity(archive: tuple[Path, Path]) -> None:
    _, out = archive
    config = DedupConfig()
    relations = {r["relation"] for r in table(out, "post_sources")}
    assert {"canonical", "exact_duplicate", "near_duplicate", "excerpt_of", "repost"} <= relations
    for row in table(out, "post_sources"):
        rel, sim = row["relation"], row["similarity"]
        if rel == "canonical":
            assert sim is None
        elif rel == "exact_duplicate":
            assert sim == 1.0
        elif rel == "near_duplicate":
            assert sim >= config.near_threshold, row
        elif rel == "excerpt_of":
            assert sim >= config.containment_threshold, row
        elif rel == "repost":
            assert sim >= config.repost_threshold or row["is_excerpt_only"], row


def test_reposts_can_be_kept_apart_without_moving_the_original(
    archive: tuple[Path, Path], tmp_path: Path
) -> None:
    pub, merged_out = archive
    apart = tmp_path / "apart"
    run_ingest(
        [str(pub)],
        out=apart,
        raw=tmp_path / "raw",
        dedup=DedupConfig(merge_reposts=False),
    )
    merged = table(merged_out, "post_sources")
    reposts = {(r["raw_id"], r["doc_index"]) for r in merged if r["relation"] == "repost"}
    assert reposts
    kept = table(apart, "post_sources")
    assert not [r for r in kept if r["relation"] == "repost"]
    post_of = {(r["raw_id"], r["doc_index"]): r["post_id"] for r in kept}
    originals = {r["post_id"] for r in merged if r["relation"] == "canonical"}
    for r in merged:
        key = (r["raw_id"], r["doc_index"])
        if key in reposts:  # a repost is a post of its own now
            assert post_of[key] != r["post_id"]
        elif r["post_id"] in originals:  # everything else keeps its post id
            assert post_of[key] == r["post_id"]
    assert len(table(apart, "posts")) == len(table(merged_out, "posts")) + len(
        {post_of[k] for k in reposts}
    )


def test_listing_teasers_do_not_change_the_full_posts(
    archive: tuple[Path, Path], tmp_path: Path
) -> None:
    pub, with_teasers = archive
    bare = tmp_path / "pub"
    shutil.copytree(pub, bare, ignore=shutil.ignore_patterns("listings"))
    run_ingest([str(bare)], out=tmp_path / "out", raw=tmp_path / "raw")

    def full_posts(out: Path) -> dict[str, tuple[object, ...]]:
        columns = ("title", "wp_id", "url", "published_at", "content_sha256", "issues", "authors")
        return {
            p["content_sha256"]: tuple(p[c] for c in columns)
            for p in table(out, "posts")
            if not p["is_excerpt_only"]
        }

    without = full_posts(tmp_path / "out")
    assert without == full_posts(with_teasers)
    assert len(without) > 300


def test_security_blog_solutions_stay_apart_from_the_code_they_quote(tmp_path: Path) -> None:
    """Each "Solution" post repeats the code of its "Vulnerable code" post: two posts."""
    made = write_security_blog(tmp_path / "in")
    run_ingest([str(tmp_path / "in")], out=tmp_path / "out", raw=tmp_path / "raw")
    posts = table(tmp_path / "out", "posts")
    assert sorted(p["title"] for p in posts) == sorted(made["titles"])
    assert all(p["source_count"] == 1 for p in posts)


def test_conference_sessions_of_one_title_and_day_are_each_a_post(tmp_path: Path) -> None:
    """Breaks share their title, day and templated text ("Durée : 30 minutes"); dinners
    share a 60-word text across days: every session is its own WordPress post."""
    made = write_conference(tmp_path / "in")
    run_ingest([str(tmp_path / "in")], out=tmp_path / "out", raw=tmp_path / "raw")
    posts = table(tmp_path / "out", "posts")
    assert sorted(p["wp_id"] for p in posts) == sorted(r[0] for r in made["records"])
    for p in posts:
        [want] = [r for r in made["records"] if r[0] == p["wp_id"]]
        assert p["published_at"].strftime("%Y-%m-%dT%H:%M:%S") == want[2]


def test_woocommerce_products_with_one_templated_text_are_each_a_post(tmp_path: Path) -> None:
    export = need(REAL / "wxr-woocommerce-sample" / "sample_products.xml")
    run_ingest([str(export)], out=tmp_path / "out", raw=tmp_path / "raw")
    posts = table(tmp_path / "out", "posts")
    products = [p for p in posts if p["post_type"] == "product"]
    assert len(products) == 18  # 18 products, 17 of which share a description
    assert len({p["title"] for p in products}) == 18
    assert {s["relation"] for s in table(tmp_path / "out", "post_sources")} == {"canonical"}


def test_theme_unit_test_short_posts_are_not_merged_on_nothing(tmp_path: Path) -> None:
    """An image-only post (0 words) and a 12-word video post share a GUID or little text
    with another post: different WordPress ids, so different posts."""
    export = need(REAL / "wxr-wordpress-importer" / "theme-unit-test-data.xml")
    run_ingest([str(export)], out=tmp_path / "out", raw=tmp_path / "raw")
    post_of = {s["title"]: s["post_id"] for s in table(tmp_path / "out", "post_sources")}
    assert post_of["Post Format: Image"] != post_of["Post Format: Image (Linked)"]
    assert post_of["Post Format: Video (YouTube)"] != post_of["Post Format: Video (WordPress.tv)"]
    ids = [s["wp_id"] for s in table(tmp_path / "out", "post_sources")]
    assert len(ids) == len(set(ids)) == 77  # every published item once
    for s in table(tmp_path / "out", "post_sources"):
        assert s["relation"] in ("canonical", "repost"), s  # the page copies of two posts
        if s["relation"] == "repost":
            assert s["similarity"] >= DedupConfig().repost_threshold


def test_results_do_not_depend_on_order_or_workers(tmp_path: Path) -> None:
    write_publication(tmp_path / "pub", posts=120, seed=5)
    files = sorted(str(p) for p in (tmp_path / "pub").rglob("*") if p.is_file())
    tables = []
    for k, (order, workers) in enumerate(((files, 1), (files[::-1], 2))):
        out = tmp_path / f"out{k}"
        run_ingest(order, out=out, raw=tmp_path / "raw", workers=workers)
        tables.append(
            {
                n: sorted(map(repr, archive_rows(out, n)))
                for n in ("posts", "post_sources", "authors")
            }
        )
    assert tables[0] == tables[1]


def test_relations_written_are_the_contract() -> None:
    from cwingest.dedup.clusters import RELATIONS
    from cwingest.publish.schemas import load_schema

    assert load_schema("post_sources").allowed["relation"] == RELATIONS


def test_cli_keeps_reposts_apart_on_request(tmp_path: Path) -> None:
    from cwingest.cli import main

    write_publication(tmp_path / "pub", posts=80, seed=3)
    args = [str(tmp_path / "pub"), "--raw", str(tmp_path / "raw")]
    assert main(["ingest", *args, "--out", str(tmp_path / "a")]) == 0
    assert main(["ingest", *args, "--out", str(tmp_path / "b"), "--keep-reposts"]) == 0
    merged = [s for s in table(tmp_path / "a", "post_sources") if s["relation"] == "repost"]
    assert merged and not [
        s for s in table(tmp_path / "b", "post_sources") if s["relation"] == "repost"
    ]
    assert len(table(tmp_path / "b", "posts")) > len(table(tmp_path / "a", "posts"))
