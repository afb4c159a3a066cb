"""Deduplication: one row per post across sources and domains, every copy traceable, stable
ids, results independent of order. Inputs are the seeds and documents written here."""

from __future__ import annotations

import json
import random
from pathlib import Path

from cwingest import pipeline
from cwingest.dedup.shingles import HashStore, text_signature
from cwingest.dedup.similarity import DedupConfig, Similarity
from cwingest.sample import make_posts, rest_record, write_sample
from tests.conftest import RECORDED, SEEDS, archive_rows, need, table

PARAS = [
    "Our district started its shift to mastery with a single question about what grades mean.",
    "Teachers wrote learning targets that students could explain in their own words and check.",
    "Families received a guide that explained the new report card in plain language, twice.",
    "Advisory periods gave every student one adult who knew exactly where they stood each week.",
    "By spring, attendance was up and the number of students retaking courses had fallen sharply.",
]


def _record(
    wp_id: int,
    paragraphs: list[str],
    site: str = "https://aurora-institute.org",
    title: str = "What Grades Mean",
    date: str = "2019-05-01T10:00:00",
) -> dict:  # type: ignore[type-arg]
    return {
        "id": wp_id,
        "date_gmt": date,
        "modified_gmt": date,
        "type": "cw_post",
        "status": "publish",
        "link": f"{site}/cw_post/post-{wp_id}/",
        "slug": f"post-{wp_id}",
        "title": {"rendered": title},
        "content": {"rendered": "".join(f"<p>{p}</p>" for p in paragraphs)},
    }


def _write(path: Path, value: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value) if not isinstance(value, str) else value)
    return path


def test_seed_000_and_001_are_one_post(seeds_out: Path) -> None:
    sources = table(seeds_out, "post_sources")
    by_file = {Path(s["source_uri"]).name[:3]: s for s in sources}
    assert by_file["000"]["post_id"] == by_file["001"]["post_id"]
    [post] = [p for p in table(seeds_out, "posts") if p["post_id"] == by_file["000"]["post_id"]]
    assert post["authors"] == ["Susan Patrick"]
    assert set(post["issues"]) == {"How to Get Started", "Issues in Practice"}
    assert post["content_text"].startswith("Over the last two years")  # 001's full text
    assert post["source_count"] == 2 and post["wp_id"] == 5780 and not post["is_excerpt_only"]
    assert by_file["001"]["relation"] == "canonical"
    assert by_file["000"]["relation"] == "excerpt_of" and by_file["000"]["similarity"] >= 0.9
    assert len(table(seeds_out, "posts")) == 10  # 000+001, 002, and 003's eight posts


def test_copies_across_domains_and_versions_are_one_post(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    old = _record(77, PARAS, site="https://www.competencyworks.org", date="2016-03-01T10:00:00")
    edited = [*PARAS[:-1], PARAS[-1].replace("sharply", "a lot"), "A note added in 2019."]
    new = _record(5801, edited, date="2019-05-01T10:00:00") | {
        "modified_gmt": "2019-06-01T00:00:00"
    }
    teaser = (
        "What Grades Mean\n\nMarch 1, 2016 by\n\n" + PARAS[0] + " (more…)\n\nPrint Friendly\n\n"
        "Another Post Entirely\n\nMarch 2, 2016 by\n\nSomething else, written for another day. (more…)\n\nPrint Friendly\n"
    )
    _write(tmp_path / "in" / "old.json", old)
    _write(tmp_path / "in" / "new.json", [new])
    _write(tmp_path / "in" / "listing.txt", teaser)
    out, summary = run(tmp_path / "in")
    posts = table(out, "posts")
    [post] = [p for p in posts if p["title"] == "What Grades Mean"]
    assert post["source_count"] == 3
    assert post["site"] == "aurora-institute.org" and post["wp_id"] == 5801  # newest richest copy
    assert post["published_at"].year == 2016  # the earliest publication
    relations = sorted(
        s["relation"] for s in table(out, "post_sources") if s["post_id"] == post["post_id"]
    )
    assert relations == ["canonical", "excerpt_of", "near_duplicate"]
    assert len(posts) == 2 and summary.duplicates == 2


def test_a_date_only_copy_does_not_move_the_publication_to_midnight() -> None:
    from datetime import UTC, datetime

    from cwingest.dedup.merge import earliest

    day_only = datetime(2019, 3, 13, tzinfo=UTC)
    precise = datetime(2019, 3, 13, 14, 32, tzinfo=UTC)
    assert earliest([day_only, precise]) == precise
    # 03:00 UTC on the 14th is the evening of the 13th in New York: the same local day
    evening = datetime(2019, 3, 14, 3, tzinfo=UTC)
    assert earliest([day_only, evening]) == evening
    assert earliest([day_only, datetime(2019, 3, 15, 9, tzinfo=UTC)]) == day_only
    assert earliest([]) is None


def test_two_ids_on_one_site_merge_on_a_repost_not_on_a_short_text(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    short = ["Happy holidays from all of us."]
    _write(
        tmp_path / "in" / "a.json",
        [
            _record(1, short, title="Holidays 2018", date="2018-12-20T00:00:00"),
            _record(2, short, title="Holidays 2019", date="2019-12-20T00:00:00"),
            _record(3, PARAS),
            _record(4, PARAS, title="Repost: What Grades Mean", date="2019-08-01T10:00:00"),
        ],
    )
    out, _ = run(tmp_path / "in")
    groups = sorted(
        sorted(s["wp_id"] for s in table(out, "post_sources") if s["post_id"] == p["post_id"])
        for p in table(out, "posts")
    )
    assert groups == [[1], [2], [3, 4]]


def test_post_id_is_kept_when_a_richer_copy_arrives_later(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sample = tmp_path / "sample"
    write_sample(sample)
    out, _ = run(sample / "text" / "blog-listing-page.txt")
    [first] = [p for p in table(out, "posts") if p["title"] == "Calibrating Rubrics on Thursdays"]
    assert first["is_excerpt_only"]
    out, _ = run(sample / "rest")
    [later] = [p for p in table(out, "posts") if p["title"] == "Calibrating Rubrics on Thursdays"]
    assert later["post_id"] == first["post_id"]  # the REST record joined the existing post
    assert later["wp_id"] == 5804 and not later["is_excerpt_only"] and later["source_count"] >= 2
    assert not table(out, "post_id_map")  # no id had to change


def test_post_id_map_says_which_ids_merged(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    head = "Part One\n\n" + "\n\n".join(PARAS[:3]) + "\n"
    tail = "Part Two\n\n" + "\n\n".join(PARAS[2:]) + "\n"
    _write(tmp_path / "a" / "head.txt", head)
    _write(tmp_path / "b" / "tail.txt", tail)
    out, _ = run(tmp_path / "a", tmp_path / "b")
    before = {p["post_id"] for p in table(out, "posts")}
    assert len(before) == 2
    _write(tmp_path / "c" / "full.json", _record(9, PARAS))
    out, _ = run(tmp_path / "c")
    after = {p["post_id"] for p in table(out, "posts")}
    assert len(after) == 1
    [row] = table(out, "post_id_map")
    assert (
        row["old_post_id"] in before and row["new_post_id"] in after and row["reason"] == "merged"
    )
    # the change feed says the same to an app that holds the old id
    [gone] = [c for c in table(out, "changes") if c["post_id"] == row["old_post_id"]][1:]
    assert gone["change"] == "deleted" and gone["replaced_by"] == row["new_post_id"]
    assert gone["title"] == "Part One" or gone["title"] == "Part Two"


def test_every_table_is_the_same_whatever_the_order(tmp_path: Path) -> None:
    sample = tmp_path / "sample"
    write_sample(sample)
    files = sorted(str(p) for p in sample.rglob("*") if p.is_file())
    if SEEDS.exists():
        files += sorted(str(p) for p in SEEDS.glob("0*"))
    if RECORDED.exists():
        files += [
            str(RECORDED / n)
            for n in (
                "01_cw_post_page1_embed.json",
                "export.wxr.xml",
                "27_html_issue_archive.json",
                "25_html_cw_post_single.json",
            )
        ]
    runs = []
    for seed, workers in ((0, 1), (1, 2), (2, 1)):
        order = files[:]
        random.Random(seed).shuffle(order)
        out = tmp_path / f"out{seed}"
        pipeline.run_ingest(order, out=out, raw=tmp_path / "raw", workers=workers)
        runs.append(
            {
                name: sorted(map(repr, archive_rows(out, name)))
                for name in ("posts", "post_sources", "authors", "issues", "raw_records", "rejects")
            }
        )
    assert runs[0] == runs[1] == runs[2]


def test_thresholds_and_rule_are_configurable(tmp_path: Path) -> None:
    edited = [
        *PARAS[:-1],
        "Something quite different ends this version of the post, in many new words that the"
        " first version never had, and it goes on for a little longer than the first one did.",
    ]
    _write(tmp_path / "in" / "a.json", _record(1, PARAS, site="https://one.example"))
    _write(
        tmp_path / "in" / "b.json", _record(2, edited, site="https://two.example", title="Retitled")
    )
    loose = pipeline.run_ingest(
        [str(tmp_path / "in")],
        out=tmp_path / "loose",
        raw=tmp_path / "raw",
        dedup=DedupConfig(near_threshold=0.5),
    )
    strict = pipeline.run_ingest(
        [str(tmp_path / "in")],
        out=tmp_path / "strict",
        raw=tmp_path / "raw",
        dedup=DedupConfig(near_threshold=0.95),
    )
    assert (loose.posts, strict.posts) == (1, 2)
    pipeline.run_ingest(
        [str(tmp_path / "in")],
        out=tmp_path / "oldest",
        raw=tmp_path / "raw",
        dedup=DedupConfig(near_threshold=0.5, canonical_rule=("longest",)),
    )
    [post] = table(tmp_path / "oldest", "posts")
    assert post["site"] == "two.example"  # the longest copy, as the rule asks


def test_similarity_finds_near_duplicates_and_excerpts(tmp_path: Path) -> None:
    texts = [
        " ".join(PARAS * 3),
        " ".join(PARAS * 3).replace("single", "one"),  # near duplicate
        " ".join(PARAS[1:3]),  # excerpt (from the middle)
        "An unrelated text about school buses and lunch menus in the county, again and again.",
    ]
    store = HashStore(tmp_path / "h.bin")
    for t in texts:
        store.add(text_signature(t))
    store.freeze()
    sim = Similarity(store, ["a.example"] * 4, DedupConfig())
    sim.count_units([[i] for i in range(4)])
    assert [(i, j) for i, j, _ in sim.near_pairs([0, 1, 2, 3])] == [(0, 1)]
    found = {(p, w) for p, w, _ in sim.containment_pairs([2, 3], [0, 1])}
    assert found == {(2, 0), (2, 1)}
    assert sim.containment(2, 0) == 1.0 and sim.containment(3, 0) == 0.0
    assert 0.6 < sim.jaccard(0, 1) < 1.0


def test_boilerplate_shared_by_many_posts_does_not_count(tmp_path: Path) -> None:
    """A bio ending every post of a site is left out of similarity: two short posts that
    share only it are not alike. It is boilerplate for every site's documents, so a copy
    on another domain is compared on the same shingles (and is still the same text)."""
    bio = (
        "Maya Okafor is a former teacher and principal who now writes about assessment, grading"
        " and the design of schools where every student moves on when ready, from her home in"
        " a small town on the coast where she also coaches the debate team on weekends."
    )
    rng = random.Random(7)
    words = " ".join(PARAS).split()
    texts = [" ".join(rng.sample(words, 25)) + " " + bio for _ in range(12)]
    store = HashStore(tmp_path / "h.bin")
    for t in texts:
        store.add(text_signature(t))
    store.add(text_signature(texts[0]))  # on another site
    store.freeze()
    sites = ["a.example"] * 12 + ["b.example"]
    sim = Similarity(store, sites, DedupConfig())
    sim.count_units([[i] for i in range(13)])
    assert sim.jaccard(0, 1) < 0.2  # only the bio was shared: nothing left in common
    assert sim.jaccard(0, 12) == 1.0 and sim.sizes()[12] == sim.sizes()[0] < len(store.get(0))
    assert not sim.near_pairs(list(range(12)))


def test_recorded_site_duplicates_are_found(run) -> None:  # type: ignore[no-untyped-def]
    """The recorded site planted exact, near and excerpt duplicates: each joins its original."""
    folder = need(RECORDED)
    truth = json.loads((folder / "ground_truth.json").read_text("utf-8"))
    out, _ = run(folder / "export.wxr.xml")
    post_of = {s["wp_id"]: s["post_id"] for s in table(out, "post_sources")}
    planted = [p for p in truth["posts"] if p.get("duplicate_of") and p["status"] == "publish"]
    assert planted
    for p in planted:
        if p["id"] in post_of and p["duplicate_of"] in post_of:
            assert post_of[p["id"]] == post_of[p["duplicate_of"]], (p["id"], p["duplicate_kind"])


def test_sample_generator_posts_are_distinct() -> None:
    records = [rest_record(p) for p in make_posts()]
    assert len({r["content"]["rendered"] for r in records}) == len(records) == 5  # type: ignore[index]
