"""The four seed inputs, asserted field by field against ../shared/data/seeds/README.md."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SEEDS, table


def _by_source(out: Path, prefix: str) -> list[dict[str, Any]]:
    sources = [
        s for s in table(out, "post_sources") if Path(s["source_uri"]).name.startswith(prefix)
    ]
    posts = {p["post_id"]: p for p in table(out, "posts")}
    return [
        posts[s["post_id"]] | {"_source": s} for s in sorted(sources, key=lambda s: s["doc_index"])
    ]


def test_seed_000_truncated_rest_record(seeds_out: Path, run) -> None:  # type: ignore[no-untyped-def]
    [doc] = _by_source(seeds_out, "000_")
    src = doc["_source"]
    assert src["source_format"] == "wp_rest_json"
    assert src["title"] == "Welcome to CompetencyWorks: Why We are Here"
    assert src["wp_id"] == 5780 and src["site"] == "aurora-institute.org"
    assert src["is_excerpt_only"] is True  # cut off at the start: only part of the post is known
    assert {"How to Get Started", "Issues in Practice"} <= set(doc["issues"])
    # Alone, the fragment's own clean text: real ’, no escape, tag or no-break space left.
    out, _ = run(next(SEEDS.glob("000_*")))
    [alone] = table(out, "posts")
    text = alone["content_text"]
    assert text.startswith("Why CompetencyWorks?\n\nWhen Chris Sturgis")
    assert "Chris’ background" in text and "We’ve co-authored" in text
    for residue in ("\\u", "<\\/", "\\n", "</p>", "<strong>", "\u00a0"):
        assert residue not in text
    assert alone["issues"] == ["How to Get Started", "Issues in Practice"]
    assert alone["authors"] == [] and alone["published_at"] is None


def test_seed_001_text_copy_of_the_page(seeds_out: Path) -> None:
    [doc] = _by_source(seeds_out, "001_")
    assert doc["_source"]["title"] == "Welcome to CompetencyWorks: Why We are Here"
    assert doc["authors"] == ["Susan Patrick"]
    assert doc["issues"] == ["How to Get Started", "Issues in Practice"]
    text = doc["content_text"]
    assert text.startswith("Over the last two years")
    for chrome in (
        "Skip to content",
        "Author(s)",
        "Issue(s)",
        "CompetencyWorks Blog",
        "Aurora Institute\n",
    ):
        assert chrome not in text
    assert "\n\n" in text  # paragraphs kept


def test_seed_002_press_release_invents_nothing(seeds_out: Path) -> None:
    [doc] = _by_source(seeds_out, "002_")
    assert doc["authors"] == []
    assert doc["published_at"] is None and doc["modified_at"] is None
    text = doc["content_text"]
    assert text.startswith("Dear Colleagues,")
    assert "Share these reports on Twitter" not in text
    assert "ow.ly" not in text
    assert not text.rstrip().endswith("|")
    assert "About iNACOL" in text  # real content is kept


EXPECTED_003 = [
    ("Student Voices: Moving Beyond “When I Grow Up…”", datetime(2016, 8, 18, tzinfo=UTC), True),
    (
        "San Antonio Here We Come: Competency Ed at the iNACOL Symposium",
        datetime(2016, 8, 17, tzinfo=UTC),
        False,
    ),
    ("Vote for Pop Up Problems of Practice in CBE", datetime(2016, 8, 15, tzinfo=UTC), False),
    ("Rethinking the Achievement Gap (Part 3)", None, True),
    ("Recommended Summer Reading 2016", datetime(2016, 8, 12, tzinfo=UTC), False),
    ("Talking Equity with John Duval", datetime(2016, 8, 11, tzinfo=UTC), True),
    ("Curious about Competency-Based Education?", datetime(2016, 8, 10, tzinfo=UTC), True),
    (
        "Anchoring the Learning: A Discussion with Joel Rose at New Classrooms",
        datetime(2016, 8, 9, tzinfo=UTC),
        True,
    ),
]


def test_seed_003_listing_page_gives_one_document_per_post(seeds_out: Path) -> None:
    docs = _by_source(seeds_out, "003_")
    assert [
        (d["_source"]["title"], d["_source"]["published_at"], d["_source"]["is_excerpt_only"])
        for d in docs
    ] == EXPECTED_003
    for d in docs:
        text = d["content_text"]
        for residue in (
            "Print Friendly",
            "(more…)",
            "WordPress SEO fine-tune",
            "inacol logo",
            "CompetencyWorks is an online resource",
            "a project of",
        ):
            assert residue not in text, (d["title"], residue)
        assert d["authors"] == []  # "Month D, YYYY by" lost the names: nothing is invented


@pytest.mark.parametrize(
    ("title", "starts"),
    [
        (
            "Student Voices: Moving Beyond “When I Grow Up…”",
            "This post originally appeared at Getting Smart",
        ),
        (
            "San Antonio Here We Come: Competency Ed at the iNACOL Symposium",
            "I’ve just been looking",
        ),
        ("Vote for Pop Up Problems of Practice in CBE", "We need your help"),
        (
            "Rethinking the Achievement Gap (Part 3)",
            "This post originally appeared at Next Generation",
        ),
        ("Talking Equity with John Duval", "This is the ninth post"),
        (
            "Anchoring the Learning: A Discussion with Joel Rose at New Classrooms",
            "This is the eighth post",
        ),
    ],
)
def test_seed_003_image_caption_residue_removed(seeds_out: Path, title: str, starts: str) -> None:
    [doc] = [d for d in _by_source(seeds_out, "003_") if d["_source"]["title"] == title]
    assert doc["content_text"].startswith(starts)


def test_seed_003_original_source(seeds_out: Path) -> None:
    docs = {d["_source"]["title"]: d for d in _by_source(seeds_out, "003_")}
    assert (
        docs["Student Voices: Moving Beyond “When I Grow Up…”"]["original_source"]
        == "Getting Smart"
    )
    assert (
        docs["Rethinking the Achievement Gap (Part 3)"]["original_source"]
        == "Next Generation Learning Challenges"
    )
    assert docs["Recommended Summer Reading 2016"]["original_source"] is None


def test_seed_content_is_clean(seeds_out: Path) -> None:
    for post in table(seeds_out, "posts"):
        text = post["content_text"]
        for bad in ("\u00a0", "<\\/", "Print Friendly", "(more…)", "\\u00", "\\n"):
            assert bad not in text, (post["title"], bad)
        assert not re.search(r"</?[a-zA-Z][\w-]*(?:\s[^<>]*)?/?>", text), post["title"]
