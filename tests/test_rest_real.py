"""Real REST API responses: WordPress core's recorded fixture, Frontity's captured mocks and
the recordings of a real WordPress 6 site (../shared/data). Expected values are computed
here, independently of cwingest, with plain ``json``."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REAL, RECORDED, need, table


def _post_records(value: Any) -> list[dict[str, Any]]:
    """Post-type records (post, page, custom) anywhere in a parsed JSON value."""
    found: list[dict[str, Any]] = []
    if isinstance(value, list):
        for v in value:
            found += _post_records(v)
    elif isinstance(value, dict) and (
        isinstance(value.get("id"), int)
        and isinstance(value.get("type"), str)
        and "content" in value
        and value["type"] not in ("attachment", "comment")
        and "post" not in value
    ):
        found.append(value)
    return found


def _utc(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=UTC)


def _sources_by_id(out: Path) -> dict[int, dict[str, Any]]:
    return {s["wp_id"]: s for s in table(out, "post_sources") if s["wp_id"] is not None}


def test_core_fixture_every_post_record_is_a_document(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = need(REAL / "wp-rest-core-fixture" / "wp-api-generated.js")
    text = path.read_text("utf-8")
    records: list[dict[str, Any]] = []
    terms: dict[int, str] = {}
    for m in re.finditer(r"^mockedApiResponse\.(\w+) = ", text, re.M):
        value, _ = json.JSONDecoder().raw_decode(text, m.end())
        records += _post_records(value)
        if m.group(1) == "CategoriesCollection":
            terms = {t["id"]: t["name"] for t in value}
    assert records, "the fixture holds post records"
    out, summary = run(path)
    assert summary.rejected == 0
    docs = [s for s in table(out, "post_sources")]
    assert len(docs) == len(records)  # revisions and autosaves are skipped, not documents
    by_id = {}
    for s in docs:
        by_id.setdefault(s["wp_id"], []).append(s)
    posts = {p["post_id"]: p for p in table(out, "posts")}
    for rec in records:
        [src, *_] = by_id[rec["id"]]
        assert src["title"] == rec["title"]["rendered"]
        assert src["published_at"] == _utc(rec["date_gmt"])
        assert src["modified_at"] == _utc(rec["modified_gmt"])
        post = posts[src["post_id"]]
        assert post["post_type"] == rec["type"]
        for cat in rec.get("categories", []):
            assert terms[cat] in post["categories"]


FRONTITY = [
    "post-60.json",
    "posts.json",
    "posts-from-category-7.json",
    "posts-from-category-7-page-2.json",
    "page-211.json",
    "page-with-subpage.json",
]


@pytest.mark.parametrize("name", FRONTITY)
def test_frontity_records_keep_title_dates_and_embedded_terms(run, name: str) -> None:  # type: ignore[no-untyped-def]
    path = need(REAL / "wp-rest-frontity" / name)
    records = _post_records(json.loads(path.read_text("utf-8")))
    out, _ = run(path)
    srcs = _sources_by_id(out)
    posts = {p["post_id"]: p for p in table(out, "posts")}
    assert set(srcs) == {r["id"] for r in records}
    for rec in records:
        src = srcs[rec["id"]]
        post = posts[src["post_id"]]
        title = rec["title"]["rendered"]
        assert post["title"] == html.unescape(title)
        assert src["published_at"] == _utc(rec["date_gmt"] if rec.get("date_gmt") else rec["date"])
        embedded = rec.get("_embedded", {})
        want: dict[str, list[str]] = {}
        for group in embedded.get("wp:term", []):
            for term in group:
                want.setdefault(term["taxonomy"], []).append(term["name"])
        assert post["categories"] == want.get("category", [])
        assert post["tags"] == want.get("post_tag", [])
        others = {(t["taxonomy"], t["name"]) for t in post["other_terms"]}
        for tax, names in want.items():
            if tax not in ("category", "post_tag"):
                assert {(tax, n) for n in names} <= others
        if embedded.get("author"):
            assert post["authors"] == [a["name"] for a in embedded["author"]]


def test_ids_resolve_through_listings_in_the_same_input_set(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Records saved without ``_embed`` carry only ids: the category, tag and user listings
    of the same site, found anywhere in the input set, resolve them to names."""
    folder = need(REAL / "wp-rest-frontity")
    page = json.loads((folder / "posts-from-category-7.json").read_text("utf-8"))
    bare = [{k: v for k, v in rec.items() if k != "_embedded"} for rec in page]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "posts-no-embed.json").write_text(json.dumps(bare))
    listings = [
        folder / f
        for f in (
            "categories-list.json",
            "categories-list-page-2.json",
            "tags-list.json",
            "author-list.json",
        )
    ]
    out, _ = run(tmp_path / "in", *listings)
    posts = {p["wp_id"]: p for p in table(out, "posts")}
    users = {
        u["id"]: u["name"] for u in json.loads((folder / "author-list.json").read_text("utf-8"))
    }
    cats = {c["id"]: c["name"] for f in listings[:2] for c in json.loads(f.read_text("utf-8"))}
    tags = {t["id"]: t["name"] for t in json.loads(listings[2].read_text("utf-8"))}
    for rec in page:
        post = posts[rec["id"]]
        # ids the listings know resolve, in the record's order (the content's own "Tags:"
        # line may add names the partial listing does not cover)
        want_cats = [cats[c] for c in rec["categories"] if c in cats]
        want_tags = [tags[t] for t in rec["tags"] if t in tags]
        assert post["categories"][: len(want_cats)] == want_cats
        assert post["tags"][: len(want_tags)] == want_tags
        assert want_cats or want_tags or not (set(rec["categories"]) & set(cats))
        if rec["author"] in users:
            assert post["authors"] == [users[rec["author"]]]


def test_recorded_site_authors_and_terms_match_ground_truth(run) -> None:  # type: ignore[no-untyped-def]
    """Every visible post of the recorded real WordPress site: byline authors (co-authors,
    in-content bylines, guest authors), issues, categories and tags."""
    folder = need(RECORDED)
    truth = json.loads((folder / "ground_truth.json").read_text("utf-8"))
    out, _ = run(folder)
    site = "127.0.0.1:8089"
    posts = [p for p in table(out, "posts") if p["site"] == site]
    expected = {p["id"]: p for p in truth["posts"]}
    members: dict[str, set[int]] = {}
    for s in table(out, "post_sources"):
        if s["wp_id"] is not None:
            members.setdefault(s["post_id"], set()).add(s["wp_id"])
    checked = 0
    for post in posts:
        g = expected[post["wp_id"]]
        assert post["authors"] == g["authors"], post["wp_id"]
        merged = any(
            expected[m].get("duplicate_of") for m in members[post["post_id"]] if m in expected
        )
        for column, key in (("issues", "issues"), ("categories", "categories"), ("tags", "tags")):
            want = set(g.get(key, []))
            if merged:  # a repost merged into its original: terms are the union of both
                assert want <= set(post[column]), (post["wp_id"], column)
            else:
                assert sorted(post[column]) == sorted(want), (post["wp_id"], column)
        checked += 1
    assert checked >= 20
    logins = {t["name"] for t in truth["coauthor_terms"]} if truth.get("coauthor_terms") else set()
    for post in posts:
        assert not set(post["authors"]) & (
            logins - {a for g in expected.values() for a in g["authors"]}
        )


def test_recorded_error_responses_are_rejected_with_their_status(run) -> None:  # type: ignore[no-untyped-def]
    folder = need(RECORDED)
    out, _ = run(folder / "04_cw_post_past_end_400.json", folder / "09_hidden_post_401.json")
    rejects = table(out, "rejects")
    assert sorted(r["detail"] for r in rejects) == [
        "recorded HTTP 400 response: no content",
        "recorded HTTP 401 response: no content",
    ]


def test_older_api_shapes_wp_api_v1_and_wordpress_com(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Responses saved from WP-API v1 (``/wp-json/posts``) and WordPress.com REST v1.1."""
    v1 = [
        {
            "ID": 12,
            "title": "Old API &#8211; Post",
            "status": "publish",
            "type": "post",
            "author": {"ID": 3, "username": "jdoe", "name": "Jane Doe", "slug": "jdoe"},
            "content": "<p>Content written in the era of the first REST plugin, long enough.</p>",
            "link": "http://old.example/2014/05/old-api-post/",
            "date": "2014-05-01T10:00:00",
            "date_gmt": "2014-05-01T14:00:00",
            "modified_gmt": "2014-05-02T14:00:00",
            "slug": "old-api-post",
            "guid": "http://old.example/?p=12",
            "terms": {
                "category": [{"ID": 5, "name": "News", "slug": "news"}],
                "post_tag": [{"ID": 8, "name": "api", "slug": "api"}],
            },
        }
    ]
    com = {
        "found": 1,
        "posts": [
            {
                "ID": 99,
                "site_ID": 1234,
                "author": {"ID": 7, "login": "bsmith", "name": "Bo Smith"},
                "date": "2016-02-03T09:30:00+00:00",
                "modified": "2016-02-04T09:30:00+00:00",
                "title": "Hosted on WordPress.com",
                "URL": "https://blog.example.com/2016/02/03/hosted/",
                "content": "<p>A post served by the WordPress.com API, with its own shape.</p>",
                "excerpt": "<p>A post served</p>",
                "slug": "hosted",
                "status": "publish",
                "type": "post",
                "categories": {"Education": {"ID": 2, "name": "Education", "slug": "education"}},
                "tags": {"K-12": {"ID": 4, "name": "K-12", "slug": "k-12"}},
            }
        ],
    }
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "v1.json").write_text(json.dumps(v1))
    (tmp_path / "in" / "wpcom.json").write_text(json.dumps(com))
    out, summary = run(tmp_path / "in")
    assert summary.rejected == 0
    posts = {p["wp_id"]: p for p in table(out, "posts")}
    old, hosted = posts[12], posts[99]
    assert (old["title"], old["authors"], old["categories"], old["tags"]) == (
        "Old API – Post",
        ["Jane Doe"],
        ["News"],
        ["api"],
    )
    assert old["published_at"] == datetime(2014, 5, 1, 14, tzinfo=UTC)
    assert (hosted["site"], hosted["authors"], hosted["categories"], hosted["tags"]) == (
        "blog.example.com",
        ["Bo Smith"],
        ["Education"],
        ["K-12"],
    )
    assert hosted["published_at"] == datetime(2016, 2, 3, 9, 30, tzinfo=UTC)
