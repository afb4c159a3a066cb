"""HTML site mirrors (wget/HTTrack folders, saved pages, Wayback captures) and site profiles.
The mirror is written here, the way a wget mirror of a WordPress blog looks."""

from __future__ import annotations

from pathlib import Path

import pytest

from cwingest.clean.profiles import load_profiles
from tests.conftest import table

BODY = (
    "Competency-based schools ask what a student knows, not how long they sat in class. "
    "Teachers meet to calibrate their rubrics every week. "
)


def _page(body_class: str, main: str, title: str = "Blog", head: str = "") -> str:
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>{head}
</head><body class="{body_class}"><a class="skip-link screen-reader-text" href="#c">Skip to content</a>
<nav class="main-navigation"><ul><li><a href="/">Home</a></li><li><a href="/about/">About</a></li></ul></nav>
<main id="c">{main}</main><footer>Proudly powered by WordPress</footer></body></html>"""


def _entry(n: int) -> str:
    return f"""<article id="post-{n}" class="post-{n} post type-post status-publish hentry category-practice issue-equity">
<h2 class="entry-title"><a href="https://www.competencyworks.org/practice/post-{n}/" rel="bookmark">Post number {n}</a></h2>
<div class="entry-meta"><time class="entry-date published" datetime="2016-08-1{n}T10:00:00+00:00">August 1{n}, 2016</time>
<span class="author vcard"><a class="url fn n" href="/author/chris/">Chris Sturgis</a></span></div>
<div class="entry-summary"><p>Entry {n}. {BODY} <a class="more-link" href="/practice/post-{n}/">(more…)</a></p></div>
</article>"""


def write_mirror(root: Path) -> None:
    """A wget-style mirror: a post, a category archive, a page that is neither, a capture."""
    site = root / "www.competencyworks.org"
    (site / "practice" / "post-1").mkdir(parents=True)
    (site / "category" / "practice").mkdir(parents=True)
    (site / "contact").mkdir()
    single = _page(
        "post-template-default single single-post postid-1 single-format-standard",
        f"""<article id="post-1" class="post-1 post type-post status-publish hentry category-practice issue-equity">
<header><h1 class="entry-title">Post number 1</h1>
<div class="entry-meta">by <span class="author vcard"><a class="url fn n" href="/author/chris/">Chris Sturgis</a></span></div></header>
<div class="entry-content"><p>{BODY}</p><p>{BODY}</p><p>Print Friendly</p></div></article>""",
        title="Post number 1 | CompetencyWorks",
        head='<link rel="canonical" href="https://www.competencyworks.org/practice/post-1/">'
        '<meta property="article:published_time" content="2016-08-11T10:00:00+00:00">',
    )
    (site / "practice" / "post-1" / "index.html").write_text(single)
    listing = _page(
        "archive category category-practice",
        "".join(_entry(n) for n in (1, 2, 3)),
        head='<link rel="canonical" href="https://www.competencyworks.org/category/practice/">',
    )
    (site / "category" / "practice" / "index.html").write_text(listing)
    contact = _page(
        "page-template-default",
        "<form><input name='email'></form><p>Write to us.</p>",
        title="Contact",
    )
    (site / "contact" / "index.html").write_text(
        contact.replace("page-template-default", "contact")
    )
    wayback = single.replace(
        '<link rel="canonical" href="https://www.competencyworks.org/practice/post-1/">',
        '<link rel="canonical" href="https://web.archive.org/web/20160901000000/'
        'https://www.competencyworks.org/practice/post-1/">',
    ).replace(
        "<body",
        '<!-- BEGIN WAYBACK TOOLBAR INSERT --><div id="wm-ipp-base">Wayback toolbar '
        "text that must go</div><!-- END WAYBACK TOOLBAR INSERT --><body",
        1,
    )
    (root / "wayback-post-1.html").write_text(wayback)


@pytest.fixture
def mirror_out(run, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    write_mirror(tmp_path / "mirror")
    out, _ = run(tmp_path / "mirror")
    return out


def test_mirror_pages_are_classified(mirror_out: Path) -> None:
    raw = {
        Path(r["source_uri"]).parent.name + "/" + Path(r["source_uri"]).name: r
        for r in table(mirror_out, "raw_records")
    }
    assert raw["post-1/index.html"]["documents"] == 1
    assert raw["practice/index.html"]["documents"] == 3  # one excerpt per entry
    assert raw["contact/index.html"]["documents"] == 0 and raw["contact/index.html"]["skipped"] == 1
    assert raw["contact/index.html"]["status"] == "parsed"  # skipped and counted, not rejected
    formats = sorted(s["source_format"] for s in table(mirror_out, "post_sources"))
    assert formats == ["html", "html", "html_listing", "html_listing", "html_listing"]


def test_mirror_metadata_and_text(mirror_out: Path) -> None:
    posts = {p["url"]: p for p in table(mirror_out, "posts")}
    post = posts["https://www.competencyworks.org/practice/post-1/"]
    assert post["title"] == "Post number 1" and post["site"] == "competencyworks.org"
    assert post["authors"] == ["Chris Sturgis"] and post["issues"] == ["Equity"]
    assert post["wp_id"] == 1 and not post["is_excerpt_only"]
    assert "Print Friendly" not in post["content_text"] and "Wayback" not in post["content_text"]
    assert post["source_count"] >= 2  # the mirror copy, its Wayback capture (and its excerpt)
    teaser = [s for s in table(mirror_out, "post_sources") if s["url"].endswith("/post-2/")]
    assert teaser and teaser[0]["is_excerpt_only"]
    assert posts["https://www.competencyworks.org/practice/post-2/"]["authors"] == ["Chris Sturgis"]


def test_a_user_adds_a_site_with_one_profile_file(
    run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "example.toml").write_text(
        'name = "example.org"\ndomains = ["example.org"]\nsite_name = "Example Blog"\n'
        "text_markers = ['^Example Blog$']\n"
        'drop_lines = ["Subscribe to our newsletter", "Example Blog"]\n'
        '[labels]\n"Contributors" = "authors"\n"Topics" = "issue"\n'
    )
    monkeypatch.setenv("CWINGEST_PROFILES", str(profiles))
    load_profiles.cache_clear()
    try:
        (tmp_path / "in").mkdir()
        (tmp_path / "in" / "copy.txt").write_text(
            "Example Blog\n\nA Post About Rubrics\n\nContributors: Ana Lima, Bo Chen\n\nTopics: Equity\n\n"
            f"{BODY}\n\nSubscribe to our newsletter\n"
        )
        out, _ = run(tmp_path / "in")
        [post] = table(out, "posts")
        assert post["site"] == "example.org" and post["title"] == "A Post About Rubrics"
        assert post["authors"] == ["Ana Lima", "Bo Chen"] and post["issues"] == ["Equity"]
        assert (
            "Subscribe" not in post["content_text"] and "Example Blog" not in post["content_text"]
        )
    finally:
        monkeypatch.delenv("CWINGEST_PROFILES")
        load_profiles.cache_clear()


def test_shipped_profiles_load() -> None:
    profiles = load_profiles()
    names = {p.name for p in profiles.sites}
    assert {"aurora-institute.org", "competencyworks.org"} <= names
    assert profiles.for_site("www.aurora-institute.org") is not None
    assert profiles.for_site("sub.competencyworks.org").name == "competencyworks.org"  # type: ignore[union-attr]


def test_site_profile_selectors_find_byline_issues_and_date(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A saved aurora-institute.org page whose theme puts authors and issues in links."""
    page = _page(
        "cw_post-template-default single single-cw_post postid-77",
        f"""<article class="post-77 cw_post type-cw_post status-publish hentry">
<h1 class="cw-post-title">Grading for Learning</h1>
<div class="cw-post-authors">Author(s): <a href="/author/a/">Ana Lima</a>, <a href="/author/b/">Bo Chen</a></div>
<div class="cw-post-issues">Issue(s): <a href="/issue/equity/">Equity</a>, <a href="/issue/ag/">Assessment &amp; Grading</a></div>
<div class="cw-post-date"><time datetime="2021-03-04T15:00:00+00:00">March 4, 2021</time></div>
<div class="cw-post-content"><p>{BODY}</p><p>{BODY}</p></div></article>""",
        title="Grading for Learning - Aurora Institute",
        head='<link rel="canonical" href="https://aurora-institute.org/cw_post/grading-for-learning/">',
    )
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "page.html").write_text(page)
    out, _ = run(tmp_path / "in")
    [post] = table(out, "posts")
    assert post["title"] == "Grading for Learning" and post["post_type"] == "cw_post"
    assert post["authors"] == ["Ana Lima", "Bo Chen"]
    assert post["issues"] == ["Equity", "Assessment & Grading"]
    assert post["published_at"].isoformat() == "2021-03-04T15:00:00+00:00"
    assert (
        post["content_text"].startswith("Competency-based schools")
        and "Author(s)" not in post["content_text"]
    )
