"""The WordPress crawler against a local WordPress REST API (tests/wpserver.py) on
127.0.0.1: discovery, pagination, faults, politeness, the archive and the cursor."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cwingest.acquire.crawl import (
    CrawlOptions,
    Fetcher,
    _retry_after,
    parse_robots_delay,
    post_types,
    taxonomy_bases,
)
from cwingest.cli import main
from cwingest.pipeline import run_backfill, run_crawl
from tests.conftest import RECORDED, need, table
from tests.wpserver import FakePost, make_site, serve

FAST = CrawlOptions(per_page=10, rate=100, read_timeout=1.0, connect_timeout=1.0)


def _truth(site: Any) -> dict[int, tuple[str, list[str], list[str]]]:
    return {
        p.id: (p.title, [site.users[p.author]], [site.issues[i] for i in p.issues])
        for p in site.posts
        if p.status == "publish"
    }


def _posts(out: Path) -> dict[int, tuple[str, list[str], list[str]]]:
    return {r["wp_id"]: (r["title"], r["authors"], r["issues"]) for r in table(out, "posts")}


def _last_run(out: Path) -> dict[str, Any]:
    return max(table(out, "runs"), key=lambda r: r["finished_at"])


def test_a_full_crawl_through_faults_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    site = make_site(25)
    site.faults = {
        "/wp-json/wp/v2/cw_post?page=2": ["503", "500", "503"],  # a burst of 5xx
        "/wp-json/wp/v2/users?page=1": ["429"],  # Retry-After: 1
        "/wp-json/wp/v2/cw_post?page=3": ["cut"],  # body cut off mid-JSON
        "/wp-json/wp/v2/issue?page=1": ["slow"],  # slower than the read timeout
    }
    site.redirect_home = "http://elsewhere.invalid/"  # the home page points off-site
    with serve(site) as base:
        summary = run_crawl(base, out=tmp_path / "out", raw=tmp_path / "raw", options=FAST)
    out = tmp_path / "out"
    assert _posts(out) == _truth(site)  # every visible post once, no draft
    assert 999 not in _posts(out)
    assert summary.crawl is not None and summary.crawl.retries >= 5
    assert any("another host" in r for r in summary.crawl.refused)
    assert table(out, "rejects") == []
    run = _last_run(out)
    assert run["command"] == "crawl" and run["crawl_records"] == 25
    assert run["crawl_requests"] == summary.crawl.requests and run["crawl_bytes"] > 0
    # the crawl is a WARC in the raw archive: a backfill rebuilds it offline
    [raw] = table(out, "raw_records")
    assert raw["source_format"] == "warc" and raw["source_uri"].startswith(base)
    run_backfill(out=tmp_path / "again", raw=tmp_path / "raw")
    assert _posts(tmp_path / "again") == _truth(site)


def test_the_next_crawl_fetches_only_what_changed(tmp_path: Path) -> None:
    site = make_site(25)
    out, raw = tmp_path / "out", tmp_path / "raw"
    with serve(site) as base:
        first = run_crawl(base, out=out, raw=raw, options=FAST)
        now = datetime.now(UTC).replace(microsecond=0)
        edited = site.posts[5]
        edited.title = "Field Note 5, Revised: What Mastery Looked Like"
        edited.modified_gmt = now - timedelta(minutes=30)
        site.posts.append(
            FakePost(
                id=300,
                title="A New Note on Advisory",
                paragraphs=["Advisory is where our students set goals and check them weekly."],
                author=2,
                issues=[11],
                date_gmt=now - timedelta(hours=1),
                modified_gmt=now - timedelta(hours=1),
            )
        )
        site.log.clear()
        second = run_crawl(base, out=out, raw=raw, options=FAST)
        asked = list(site.log)
    assert first.crawl and second.crawl
    # the window: modified_after = cursor - lag, with an explicit Z, up to the run start
    assert any("modified_after=" in q and "Z" in q for q in asked if "/cw_post" in q)
    assert second.crawl.records <= 3  # the edited and the new post (and the newest one
    # again, inside the lag window), not 26
    assert second.crawl.bytes < 0.4 * first.crawl.bytes
    # robots.txt came with an ETag: asked again conditionally, answered 304, still applied
    assert "304 /robots.txt" in asked and second.crawl.not_modified >= 1
    posts = _posts(out)
    assert posts == _truth(site)  # the edit is in, the new post too, each once
    assert posts[105][0] == "Field Note 5, Revised: What Mastery Looked Like"
    state = json.loads((out / ".cwingest-crawl.json").read_text())
    [cursors] = state.values()
    assert cursors["cw_post"] == (now - timedelta(minutes=30)).replace(tzinfo=None).isoformat()


def test_full_and_since_override_the_cursor(tmp_path: Path) -> None:
    site = make_site(12)
    out, raw = tmp_path / "out", tmp_path / "raw"
    with serve(site) as base:
        run_crawl(base, out=out, raw=raw, options=FAST)
        again = run_crawl(base, out=out, raw=raw, options=FAST)
        full = run_crawl(
            base, out=out, raw=raw, options=CrawlOptions(**{**FAST.__dict__, "full": True})
        )
        since = run_crawl(
            base,
            out=out,
            raw=raw,
            options=CrawlOptions(**{**FAST.__dict__, "since": datetime(2024, 3, 1, tzinfo=UTC)}),
        )
    assert again.crawl and full.crawl and since.crawl
    assert again.crawl.records == 1  # only the newest, inside the lag window
    assert full.crawl.records == 12
    assert since.crawl.records == sum(
        1 for p in site.posts if p.status == "publish" and p.modified_gmt > since_day()
    )
    assert len(table(out, "posts")) == 12


def since_day() -> datetime:
    return datetime(2024, 3, 1, tzinfo=UTC)


def test_the_cli_crawls(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = make_site(5)
    with serve(site) as base:
        code = main(
            [
                "crawl",
                base,
                "--out",
                str(tmp_path / "o"),
                "--raw",
                str(tmp_path / "r"),
                "--rate",
                "50",
            ]
        )
    assert code == 0
    assert "crawl:" in capsys.readouterr().out
    assert len(table(tmp_path / "o", "posts")) == 5


def test_robots_rules_delay_and_retry_after() -> None:
    assert parse_robots_delay("User-agent: *\nCrawl-delay: 0.5\n") == 0.5  # a fraction
    assert parse_robots_delay("User-agent: *\nRequest-rate: 1/5s\n") == 5.0
    text = "User-agent: *\nCrawl-delay: 10\n\nUser-agent: cwingest\nCrawl-delay: 2\n"
    assert parse_robots_delay(text) == 2.0  # our own group first
    assert parse_robots_delay("User-agent: *\nDisallow: /x\n") is None
    assert _retry_after("7") == 7.0
    later = (datetime.now(UTC) + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert 25 <= (_retry_after(later) or 0) <= 31
    site = make_site(1)
    with serve(site) as base:
        fetcher = Fetcher(base, FAST, io.BytesIO())
        fetcher.load_robots()
        assert fetcher.interval >= 0.01
        assert fetcher.get(base + "/private/page") is None
        assert any("robots.txt" in r for r in fetcher.stats.refused)
        assert "/private/page" not in site.log
        fetcher.close()


def test_discovery_on_a_real_wordpress_answer() -> None:
    """cw_post and issue are found from WordPress 6's own types and taxonomies answers."""
    types = json.loads(json.loads((need(RECORDED) / "18_types.json").read_text())["body"])
    taxes = json.loads(json.loads((RECORDED / "19_taxonomies.json").read_text())["body"])
    chosen, without = post_types(types)
    assert {t.slug: t.rest_base for t in chosen} == {
        "cw_post": "cw_post",
        "page": "pages",
        "post": "posts",
    }
    assert without == []
    used = {t for pt in chosen for t in pt.taxonomies}
    assert ("wp/v2", "issue") in taxonomy_bases(taxes, used)
    narrowed, _ = post_types(types, ("cw_post",))
    assert [t.slug for t in narrowed] == ["cw_post"]


def test_a_sweep_marks_gone_posts_deleted_and_a_returning_post_lives_again(
    tmp_path: Path,
) -> None:
    site = make_site(10)
    out, raw = tmp_path / "out", tmp_path / "raw"
    sweep_now = CrawlOptions(**{**FAST.__dict__, "sweep": True})
    with serve(site) as base:
        first = run_crawl(base, out=out, raw=raw, options=FAST)  # first crawl: swept too
        trashed, deleted = site.posts[3], site.posts[4]
        trashed.status = "trash"
        site.posts.remove(deleted)
        site.log.clear()
        swept = run_crawl(base, out=out, raw=raw, options=sweep_now)
        asked = list(site.log)
        assert swept.posts_deleted == 2 and _last_run(out)["posts_deleted"] == 2
        rows = {r["wp_id"]: r for r in table(out, "posts")}
        assert len(rows) == 10  # tombstoned posts stay in the tables
        assert rows[103]["deleted_at"] is not None
        assert rows[103]["deleted_reason"] == "not public (401)"
        assert rows[104]["deleted_at"] is not None
        assert rows[104]["deleted_reason"] == "deleted (404)"
        assert all(rows[i]["deleted_at"] is None for i in rows if i not in (103, 104))
        # each missing id was confirmed by its own request; the others were not asked for
        assert {q for q in asked if re.search(r"/cw_post/\d+", q)} == {
            "/wp-json/wp/v2/cw_post/103",
            "/wp-json/wp/v2/cw_post/104",
        }
        # the tombstones are archived: a backfill finds them again
        run_backfill(out=tmp_path / "again", raw=raw)
        again = {r["wp_id"]: r["deleted_reason"] for r in table(tmp_path / "again", "posts")}
        assert again[103] == "not public (401)" and again[104] == "deleted (404)"
        # the trashed post is restored (and edited): it comes back to life
        trashed.status = "publish"
        trashed.modified_gmt = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
        run_crawl(base, out=out, raw=raw, options=FAST)
    rows = {r["wp_id"]: r for r in table(out, "posts")}
    assert rows[103]["deleted_at"] is None and rows[104]["deleted_at"] is not None
    assert first.crawl is not None


def test_an_incomplete_id_list_deletes_nothing(tmp_path: Path) -> None:
    site = make_site(12)
    out, raw = tmp_path / "out", tmp_path / "raw"
    with serve(site) as base:
        run_crawl(base, out=out, raw=raw, options=FAST)
        site.posts.remove(site.posts[0])
        # the second page of the id list fails every time: nothing can be concluded
        site.faults = {"/wp-json/wp/v2/cw_post?page=2": ["503"] * 10}
        options = CrawlOptions(**{**FAST.__dict__, "sweep": True, "retries": 1})
        run_crawl(base, out=out, raw=raw, options=options)
    assert all(r["deleted_at"] is None for r in table(out, "posts"))


def test_a_closed_rest_api_falls_back_on_the_sitemaps(tmp_path: Path) -> None:
    site = make_site(8)
    site.rest_closed = True  # a security plugin answers 401 to anonymous REST requests
    out, raw = tmp_path / "out", tmp_path / "raw"
    with serve(site) as base:
        first = run_crawl(base, out=out, raw=raw, options=FAST)
        assert first.crawl is not None and first.crawl.records == 8
        assert any("closed" in n for n in first.notes)
        rows = _posts(out)
        assert {i: t[0] for i, t in rows.items()} == {
            p.id: p.title for p in site.posts if p.status == "publish"
        }
        assert all(t[1] and t[2] for t in rows.values())  # authors and issues from the page
        # the next crawl fetches only the page whose lastmod moved
        edited = site.posts[2]
        edited.title = "Field Note 2, Revised"
        edited.modified_gmt = datetime.now(UTC).replace(microsecond=0)
        site.log.clear()
        second = run_crawl(base, out=out, raw=raw, options=FAST)
        pages_asked = [q for q in site.log if q.startswith("/cw_post/")]
    assert second.crawl is not None
    # the edited page, and the newest one again (inside the lag window)
    assert "/cw_post/note-102/" in pages_asked and len(pages_asked) <= 2
    assert _posts(out)[102][0] == "Field Note 2, Revised"


def test_real_wordpress_sitemaps_and_link_headers_are_read() -> None:
    """WordPress 6's own sitemap index, a sitemap of cw_post URLs and a Link header."""
    import httpx

    from cwingest.acquire.crawl import _link, sitemap_entries

    def recorded(name: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((need(RECORDED) / name).read_text())
        return data

    children, urls = sitemap_entries(recorded("21_sitemap_index.json")["body"].encode())
    assert urls == [] and "http://127.0.0.1:8089/wp-sitemap-posts-cw_post-1.xml" in children
    children, urls = sitemap_entries(recorded("22_sitemap_cw_post.json")["body"].encode())
    assert children == [] and len(urls) == 22  # X-WP-Total of cw_post
    assert all(u.startswith("http://127.0.0.1:8089/cw_post/") for u, _ in urls)
    page1 = recorded("01_cw_post_page1_embed.json")
    headers = httpx.Headers(page1["header_list"])
    assert _link(headers, "next") == (
        "http://127.0.0.1:8089/wp-json/wp/v2/cw_post?per_page=10&page=2&_embed"
    )
    assert _link(httpx.Headers(recorded("02_cw_post_page2.json")["header_list"]), "next")
    assert (
        _link(httpx.Headers(recorded("03_cw_post_last_page.json")["header_list"]), "next") is None
    )


def test_a_cut_off_crawl_resumes_without_refetching(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site(25)
    out, raw = tmp_path / "out", tmp_path / "raw"
    real_get = Fetcher.get

    def dies_on_page_3(self, url, params=None, method="GET"):  # type: ignore[no-untyped-def]
        page3 = (params or {}).get("page") == 3 or re.search(r"[?&]page=3(?:&|$)", url)
        if "/cw_post" in url and page3:
            raise KeyboardInterrupt  # the run is killed here
        return real_get(self, url, params, method)

    with serve(site) as base:
        monkeypatch.setattr(Fetcher, "get", dies_on_page_3)
        with pytest.raises(KeyboardInterrupt):
            run_crawl(base, out=out, raw=raw, options=FAST)
        assert not (out / "posts").exists()  # nothing published, the cursor not moved
        assert not (out / ".cwingest-crawl.json").exists()
        monkeypatch.setattr(Fetcher, "get", real_get)
        site.log.clear()
        resumed = run_crawl(base, out=out, raw=raw, options=FAST)
        asked = [q for q in site.log if q.startswith("/wp-json/wp/v2/cw_post?")]
    assert resumed.crawl is not None
    # the pages stored before the cut were not fetched again: the window starts after them
    assert asked and all("modified_after=" in q or "after=" in q for q in asked)
    assert resumed.crawl.records <= 6
    assert _posts(out) == _truth(site)
    assert not list((out / ".crawl-partial").glob("*/*"))


def test_a_wordpress_without_modified_after_is_read_newest_first(tmp_path: Path) -> None:
    site = make_site(30)
    site.before_5_7 = True
    out, raw = tmp_path / "out", tmp_path / "raw"
    with serve(site) as base:
        first = run_crawl(base, out=out, raw=raw, options=FAST)
        edited = site.posts[7]
        edited.title = "Field Note 7, Revised"
        edited.modified_gmt = datetime.now(UTC).replace(microsecond=0)
        second = run_crawl(base, out=out, raw=raw, options=FAST)
    assert first.crawl and second.crawl and first.crawl.records == 30
    assert any("not supported" in n for n in second.notes)
    assert second.crawl.records <= 3  # the edit and the newest ones inside the lag window
    assert _posts(out) == _truth(site)


def test_a_crawl_with_nothing_new_archives_nothing_and_changes_no_row(tmp_path: Path) -> None:
    from cwingest.config import Guards, RunConfig

    site = make_site(8)
    out, raw = tmp_path / "out", tmp_path / "raw"
    names = ("posts", "post_sources", "raw_records", "rejects", "authors", "issues", "changes")
    with serve(site) as base:
        run_crawl(base, out=out, raw=raw, options=FAST)
        before = {n: table(out, n) for n in names}
        objects = sorted((raw / "objects").rglob("*"))
        again = run_crawl(base, out=out, raw=raw, options=FAST)
        assert {n: table(out, n) for n in names} == before
        assert sorted((raw / "objects").rglob("*")) == objects  # no WARC archived
        assert any("nothing new" in note for note in again.notes)
        assert again.crawl is not None and again.crawl.requests > 0
        assert len(table(out, "runs")) == 2  # the crawl is recorded all the same
        # pointed at another archive, what the output knew says nothing about it: archived
        other = run_crawl(
            base,
            out=out,
            raw=tmp_path / "other",
            options=FAST,
            config=RunConfig(guards=Guards(allow_removals=True)),
        )
    assert not any("nothing new" in note for note in other.notes)
    assert [p for p in (tmp_path / "other" / "objects").rglob("*") if p.is_file()]
