"""Authors from every place WordPress and its plugins put them, in the documented order.

Records are written here in the shapes the plugins produce (Yoast's REST fields, Rank
Math and All in One SEO heads, a site's own byline taxonomy in REST and WXR).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cwingest.pipeline import run_ingest
from tests.conftest import table

SITE = "https://news.example"


def _record(**extra: Any) -> dict[str, Any]:
    rec = {
        "id": 71,
        "date_gmt": "2023-04-05T06:07:08",
        "modified_gmt": "2023-04-05T06:07:08",
        "type": "post",
        "status": "publish",
        "link": f"{SITE}/2023/04/harbour-plans/",
        "slug": "harbour-plans",
        "title": {"rendered": "Harbour Plans Approved"},
        "content": {
            "rendered": "<p>The council approved the harbour plans after a long debate.</p>"
        },
        "author": 4,  # a user id only: saved without _embed
    }
    rec.update(extra)
    return rec


def _authors(tmp_path: Path, *records: dict[str, Any], extra: list[Path] = ()) -> list[list[str]]:  # type: ignore[assignment]
    (tmp_path / "in").mkdir(exist_ok=True)
    (tmp_path / "in" / "posts.json").write_text(json.dumps(list(records)), encoding="utf-8")
    run_ingest([str(tmp_path / "in"), *map(str, extra)], out=tmp_path / "out", raw=tmp_path / "raw")
    return [
        p["authors"] for p in sorted(table(tmp_path / "out", "posts"), key=lambda p: p["wp_id"])
    ]


GRAPH = {
    "@context": "https://schema.org",
    "@graph": [
        {"@type": "Organization", "@id": f"{SITE}/#organization", "name": "Example News"},
        {"@type": "WebSite", "@id": f"{SITE}/#website", "name": "Example News"},
        {
            "@type": "Article",
            "@id": f"{SITE}/2023/04/harbour-plans/#article",
            "author": {"name": "Lena Vogt", "@id": f"{SITE}/#/schema/person/ab12"},
            "publisher": {"@id": f"{SITE}/#organization"},
        },
        {"@type": "Person", "@id": f"{SITE}/#/schema/person/ab12", "name": "Lena Vogt"},
    ],
}


def test_yoast_head_json_author(tmp_path: Path) -> None:
    head = {
        "title": "Harbour Plans Approved - Example News",
        "og_site_name": "Example News",
        "author": "Lena Vogt",
    }
    assert _authors(tmp_path, _record(yoast_head_json=head)) == [["Lena Vogt"]]


def test_yoast_written_by_and_schema_person(tmp_path: Path) -> None:
    misc = {
        "og_site_name": "Example News",
        "twitter_misc": {"Geschrieben von": "Lena Vogt", "Geschätzte Lesezeit": "2 Minuten"},
    }
    schema = {"og_site_name": "Example News", "schema": GRAPH}
    got = _authors(
        tmp_path,
        _record(yoast_head_json=misc),
        _record(id=72, link=f"{SITE}/b/", yoast_head_json=schema),
    )
    assert got == [["Lena Vogt"], ["Lena Vogt"]]


def test_yoast_head_html_string_and_rank_math_head(tmp_path: Path) -> None:
    yoast = (
        "<title>Harbour Plans Approved - Example News</title>\n"
        '<meta property="og:site_name" content="Example News" />\n'
        f'<script type="application/ld+json" class="yoast-schema-graph">{json.dumps(GRAPH)}</script>\n'
    )
    rank_math = (
        '<meta name="twitter:label1" content="Written by" />'
        '<meta name="twitter:data1" content="Tomás Reyes" />'
    )
    got = _authors(
        tmp_path,
        _record(yoast_head=yoast),
        _record(id=72, link=f"{SITE}/b/", rank_math_head=rank_math),
    )
    assert got == [["Lena Vogt"], ["Tomás Reyes"]]


def test_an_organisation_or_the_site_name_is_never_an_author(tmp_path: Path) -> None:
    org_only = {
        "@graph": [
            {"@type": "Article", "@id": "#a", "author": {"@id": "#o"}},
            {"@type": "Organization", "@id": "#o", "name": "Example News"},
        ]
    }
    head = {"og_site_name": "Example News", "author": "Example News"}
    got = _authors(
        tmp_path,
        _record(yoast_head_json={"schema": org_only}),
        _record(id=72, link=f"{SITE}/b/", yoast_head_json=head),
    )
    assert got == [[], []]


def test_embed_and_content_byline_outrank_the_seo_plugin(tmp_path: Path) -> None:
    embedded = _record(
        yoast_head_json={"author": "Someone Else"},
        _embedded={
            "author": [
                {"id": 4, "name": "Lena Vogt", "slug": "lvogt", "link": f"{SITE}/author/lvogt/"}
            ]
        },
    )
    byline = _record(
        id=72,
        link=f"{SITE}/b/",
        yoast_head_json={"author": "Lena Vogt"},
        content={
            "rendered": "<p>By Ana Ruiz and Tomás Reyes</p><p>The council met again today.</p>"
        },
    )
    assert _authors(tmp_path, embedded, byline) == [["Lena Vogt"], ["Ana Ruiz", "Tomás Reyes"]]


def test_a_sites_own_byline_taxonomy_in_rest(tmp_path: Path) -> None:
    terms = [
        {
            "id": 5,
            "name": "Ana Ruiz",
            "slug": "ana-ruiz",
            "taxonomy": "writer",
            "link": f"{SITE}/writer/ana-ruiz/",
        },
        {
            "id": 6,
            "name": "Tomás Reyes",
            "slug": "tomas-reyes",
            "taxonomy": "writer",
            "link": f"{SITE}/writer/tomas-reyes/",
        },
    ]
    (tmp_path / "terms.json").write_text(json.dumps(terms), encoding="utf-8")
    got = _authors(
        tmp_path,
        _record(writer=[6, 5], yoast_head_json={"author": "Web Editor"}),
        extra=[tmp_path / "terms.json"],
    )
    assert got == [["Tomás Reyes", "Ana Ruiz"]]  # term order is byline order


def test_a_sites_own_byline_taxonomy_in_wxr(tmp_path: Path) -> None:
    export = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>Example</title><link>{SITE}</link>
<wp:author><wp:author_id>4</wp:author_id><wp:author_login><![CDATA[editor]]></wp:author_login>
<wp:author_display_name><![CDATA[Web Editor]]></wp:author_display_name></wp:author>
<item><title>Harbour Plans Approved</title><link>{SITE}/harbour-plans/</link>
<dc:creator><![CDATA[editor]]></dc:creator>
<content:encoded><![CDATA[The council approved the harbour plans after a long debate.]]></content:encoded>
<wp:post_id>71</wp:post_id><wp:post_date_gmt><![CDATA[2023-04-05 06:07:08]]></wp:post_date_gmt>
<wp:status><![CDATA[publish]]></wp:status><wp:post_type><![CDATA[post]]></wp:post_type>
<category domain="cw_author" nicename="ana-ruiz"><![CDATA[Ana Ruiz]]></category>
<category domain="cw_author" nicename="tomas-reyes"><![CDATA[Tomás Reyes]]></category>
<category domain="category" nicename="news"><![CDATA[News]]></category>
</item></channel></rss>"""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "export.xml").write_text(export, encoding="utf-8")
    run_ingest([str(tmp_path / "in")], out=tmp_path / "out", raw=tmp_path / "raw")
    [post] = table(tmp_path / "out", "posts")
    assert post["authors"] == ["Ana Ruiz", "Tomás Reyes"]  # above the WordPress user
    assert post["categories"] == ["News"]


def test_saved_page_meta_author_and_twitter_label(tmp_path: Path) -> None:
    page = """<!DOCTYPE html><html><head><title>Harbour Plans Approved</title>
<meta name="twitter:label1" content="Verfasst von"><meta name="twitter:data1" content="Lena Vogt">
<meta property="og:type" content="article"></head><body><article><h1>Harbour Plans Approved</h1>
<p>The council approved the harbour plans after a long debate about the old pier.</p></article></body></html>"""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "page.html").write_text(page, encoding="utf-8")
    run_ingest([str(tmp_path / "in")], out=tmp_path / "out", raw=tmp_path / "raw")
    [post] = table(tmp_path / "out", "posts")
    assert post["authors"] == ["Lena Vogt"]


def test_a_published_post_with_no_text_is_still_a_post(tmp_path: Path) -> None:
    """An image-only post with no title (REST) and a gallery-only item (WXR) are rows with
    their markup, no text and 0 words; an empty file stays a reject."""
    image = _record(
        title={"rendered": ""},
        content={
            "rendered": '<figure class="wp-block-image"><img src="https://news.example/a.jpg" alt=""></figure>'
        },
    )
    export = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>Example</title><link>{SITE}</link>
<item><title></title><link>{SITE}/?p=90</link>
<content:encoded><![CDATA[[gallery ids="3,4,5"]]]></content:encoded>
<wp:post_id>90</wp:post_id><wp:status><![CDATA[publish]]></wp:status>
<wp:post_type><![CDATA[post]]></wp:post_type></item></channel></rss>"""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "export.xml").write_text(export, encoding="utf-8")
    (tmp_path / "in" / "empty.json").write_text("", encoding="utf-8")
    (tmp_path / "in" / "posts.json").write_text(json.dumps([image]), encoding="utf-8")
    run_ingest([str(tmp_path / "in")], out=tmp_path / "out", raw=tmp_path / "raw")
    posts = {p["wp_id"]: p for p in table(tmp_path / "out", "posts")}
    assert set(posts) == {71, 90}
    assert posts[71]["content_text"] == "" and posts[71]["word_count"] == 0
    assert "<img" in posts[71]["content_html"] and posts[71]["title"] is None
    assert posts[90]["content_text"] == "" and posts[90]["word_count"] == 0
    rejects = table(tmp_path / "out", "rejects")
    assert [Path(r["source_uri"]).name for r in rejects] == ["empty.json"]
