"""Real article pages are single posts, with their text, a real title and real authors.

The 200 real WordPress article pages of trafilatura's evaluation set (in ``../shared``)
are scored with the shared snippet scorer's rules, beside bare trafilatura; the pages and
bylines written here show each rule on its own.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from cwingest.enrich.names import person_name
from cwingest.pipeline import run_ingest
from tests.conftest import REAL, ROOT, need, table

EVAL = REAL / "trafilatura-eval-wp"


def _bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "bench_pages", ROOT / "benchmarks" / "bench_pages.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_real_article_pages_at_least_as_good_as_bare_trafilatura(
    capsys: pytest.CaptureFixture[str],
) -> None:
    need(EVAL / "pages")
    import json

    assert _bench().main([str(EVAL / "pages"), str(EVAL / "evaldata.json")]) == 0
    ours, bare = (json.loads(line) for line in capsys.readouterr().out.strip().splitlines())
    assert ours["empty"] == 0  # every article page gives its text
    assert ours["f1"] >= bare["f1"], (ours, bare)


ARTICLE = """<!DOCTYPE html><html><head><title>Example News</title>
<meta property="og:site_name" content="Example News"><meta property="og:type" content="article">
<script type="application/ld+json">{"@context":"https://schema.org","@graph":[
 {"@type":"NewsArticle","@id":"#a","headline":"Rivers Rise After a Week of Rain",
  "author":{"@id":"#p"},"publisher":{"@id":"#o"},"datePublished":"2024-03-01T08:00:00Z"},
 {"@type":"Person","@id":"#p","name":"Ana Ruiz"},
 {"@type":"Organization","@id":"#o","name":"Example News"}]}</script></head>
<body><header class="site-header"><h1 class="site-title">Example News</h1></header>
<main><div class="story">{paras}</div>
<section class="more">{teasers}</section></main></body></html>"""


def _page(words: int, teasers: int) -> str:
    paras = "".join(
        f"<p>On day {k} the river rose through the night, and volunteers from street {k} filled"
        f" {k * 7} sandbags before the bridge on road {k + 2} closed at {k % 12 + 1} o'clock, as"
        f" the mayor had warned in her letter number {k} to the families along the bank.</p>"
        for k in range(max(1, words // 40))
    )
    items = "".join(
        f'<article class="post"><h3><a href="/story-{k}/">Other story {k}</a></h3><p>Teaser {k}.</p></article>'
        for k in range(teasers)
    )
    return ARTICLE.replace("{paras}", paras).replace("{teasers}", items)


def test_an_article_with_related_story_teasers_is_one_post(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "story.html").write_text(_page(400, teasers=6), encoding="utf-8")
    run_ingest([str(tmp_path / "in")], out=tmp_path / "out", raw=tmp_path / "raw")
    [post] = table(tmp_path / "out", "posts")
    assert post["title"] == "Rivers Rise After a Week of Rain"  # not the site's name
    assert post["authors"] == ["Ana Ruiz"]  # the Person, never the Organization
    assert post["word_count"] >= 300 and "Other story" not in post["content_text"]


def test_a_listing_page_is_split_into_its_entries(tmp_path: Path) -> None:
    entries = "".join(
        f'<article class="post type-post hentry"><h2 class="entry-title"><a href="/p{k}/">Post {k}</a></h2>'
        f'<div class="entry-summary"><p>Summary of post number {k}, a short teaser.</p></div></article>'
        for k in range(4)
    )
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "home.html").write_text(
        f'<!DOCTYPE html><html><head><title>Blog</title></head><body class="home blog">{entries}</body></html>',
        encoding="utf-8",
    )
    run_ingest([str(tmp_path / "in")], out=tmp_path / "out", raw=tmp_path / "raw")
    assert sorted(p["title"] for p in table(tmp_path / "out", "posts")) == [
        f"Post {k}" for k in range(4)
    ]


def test_a_page_printed_after_a_php_warning_is_still_a_page(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "warned.html").write_text(
        "<br />\n<b>Warning</b>: mysql_get_server_info(): Access denied in <b>/www/x.php</b><br />\n"
        + _page(300, teasers=0),
        encoding="utf-8",
    )
    run_ingest([str(tmp_path / "in")], out=tmp_path / "out", raw=tmp_path / "raw")
    [post] = table(tmp_path / "out", "posts")
    assert post["title"] == "Rivers Rise After a Week of Rain" and post["word_count"] >= 250


@pytest.mark.parametrize(
    ("byline", "name"),
    [
        ("Autor: Petra Ruland", "Petra Ruland"),
        ("Zeige alle Beiträge von Simon Dückert →", "Simon Dückert"),
        ("View all posts by Ethan Park", "Ethan Park"),
        ("Von Anna Schmidt", "Anna Schmidt"),
        ("par Jean Dupont", "Jean Dupont"),
        ("von Goethe", "von Goethe"),
        ("Name", None),
        ("{{ post.publishers[0].display_name }}", None),
        ("https://example.org/author/jane/", None),
        ("On August 3", None),
        ("Art Edwards says", None),
        ("No Author", None),
        ("Example News", None),  # the site's own name
    ],
)
def test_bylines_become_names_or_nothing(byline: str, name: str | None) -> None:
    assert person_name(byline, ["Example News"]) == name


def test_real_article_pages_publish_no_non_names(tmp_path: Path) -> None:
    pages = need(EVAL / "pages")
    run_ingest([str(pages)], out=tmp_path / "out", raw=tmp_path / "raw")
    for post in table(tmp_path / "out", "posts"):
        for author in post["authors"]:
            assert person_name(author) == author, author
        assert post["title"] and post["title"] not in ("WordPress.com", "ICON Magazine")
