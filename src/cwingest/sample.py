"""The bundled sample: a small publication in every shape cwingest reads, made up here.

``python -m cwingest.sample DIR`` (or ``make sample``) writes it; ``raw/sample`` in the
repository is its output, and a test checks that the two never drift apart. Every text
in it is invented by this module (no third-party content), deterministically: the same
call always writes the same bytes.

The sample holds the same few posts as a REST list page with ``_embed``, a term listing,
a REST dump cut off at both ends, WordPress core's JS fixture style, JSON Lines, a saved
HTML page, plain-text copies (one of them cp1252, one UTF-16) and a text copy of a
listing page, plus inputs that must be rejected with a reason (empty, binary, JSON with
nothing to salvage, JSON that is not UTF-8).
"""

from __future__ import annotations

import html
import json
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

SITE = "https://aurora-institute.org"

_OPENERS = [
    "When our district first talked about mastery, nobody agreed on what it meant.",
    "Teachers at Riverbend Middle School started the year with a simple question.",
    "The state’s new graduation framework gives schools room to experiment.",
    "Students in the pilot classrooms now track their own progress on a wall chart.",
    "Our visit to three rural schools changed how we think about pacing.",
]
_MIDDLES = [
    "Each learning target is written so that a student can explain it in their own words.",
    "Re-assessment is allowed, but only after the student shows new evidence of learning.",
    "Families receive a two-page guide that explains the new report card.",
    "Advisory periods give every student one adult who knows exactly where they stand.",
    "The school replaced its honor roll with a public exhibition of student work.",
    "Flexible pacing can become a polite way of letting some students fall behind.",
    "Coaches spent most of their time helping teachers write better feedback.",
    "The “why” behind each policy mattered more than the policy itself.",
    "Grades now describe what a student knows, not how compliant they were.",
    "Teachers meet every Thursday to calibrate their scoring against shared rubrics.",
]
_CLOSERS = [
    "There is still a long way to go, but the early results are encouraging.",
    "We will report back at the end of the school year.",
    "What would you do differently? Let us know in the comments.",
]
_ISSUES = [
    (396, "How to Get Started", "how-to-get-started"),
    (368, "Issues in Practice", "issues-in-practice"),
    (401, "Assessment & Grading", "assessment-grading"),
    (412, "Equity", "equity"),
]
_AUTHORS = [
    (7, "Maya Okafor", "mokafor"),
    (9, "Luis Ferreira", "lferreira"),
    (11, "Zoë Lindqvist", "zlindqvist"),
]


@dataclass
class SamplePost:
    """One invented post, with everything the formats below need."""

    wp_id: int
    slug: str
    title: str
    date_gmt: str
    modified_gmt: str
    author: tuple[int, str, str]
    issues: list[tuple[int, str, str]]
    paragraphs: list[str] = field(default_factory=list)

    @property
    def link(self) -> str:
        """The post's URL on the new site."""
        return f"{SITE}/cw_post/{self.slug}/"

    def html(self) -> str:
        """``content.rendered`` as WordPress would serve it."""
        return "".join(f"<p>{html.escape(p, quote=False)}</p>\n" for p in self.paragraphs)


def make_posts(seed: int = 20110301) -> list[SamplePost]:
    """The sample's posts (deterministic)."""
    rng = random.Random(seed)
    titles = [
        ("Learning Targets Students Can Explain", "learning-targets-students-can-explain"),
        ("Re-Assessment Without the Loopholes", "re-assessment-without-the-loopholes"),
        (
            "What Families Asked About the New Report Card",
            "what-families-asked-about-the-new-report-card",
        ),
        (
            "Flexible Pacing and the Students Who Fall Behind",
            "flexible-pacing-and-the-students-who-fall-behind",
        ),
        ("Calibrating Rubrics on Thursdays", "calibrating-rubrics-on-thursdays"),
    ]
    posts = []
    for i, (title, slug) in enumerate(titles):
        paragraphs = [rng.choice(_OPENERS)]
        for _ in range(3):
            paragraphs.append(" ".join(rng.sample(_MIDDLES, 3)))
        paragraphs.append(rng.choice(_CLOSERS))
        day = 3 + i * 5
        posts.append(
            SamplePost(
                wp_id=5800 + i,
                slug=slug,
                title=title,
                date_gmt=f"2019-0{1 + i}-{day:02d}T14:3{i}:00",
                modified_gmt=f"2019-0{1 + i}-{day + 1:02d}T09:00:00",
                author=_AUTHORS[i % len(_AUTHORS)],
                issues=[_ISSUES[i % 4], _ISSUES[(i + 1) % 4]] if i % 2 == 0 else [_ISSUES[i % 4]],
                paragraphs=paragraphs,
            )
        )
    return posts


def rest_record(post: SamplePost, embed: bool = True) -> dict[str, object]:
    """A ``/wp/v2/cw_post`` record for a post."""
    record: dict[str, object] = {
        "id": post.wp_id,
        "date": post.date_gmt,
        "date_gmt": post.date_gmt,
        "guid": {"rendered": f"{SITE}/?post_type=cw_post&p={post.wp_id}"},
        "modified": post.modified_gmt,
        "modified_gmt": post.modified_gmt,
        "slug": post.slug,
        "status": "publish",
        "type": "cw_post",
        "link": post.link,
        "title": {"rendered": html.escape(post.title, quote=False).replace("’", "&#8217;")},
        "content": {"rendered": post.html(), "protected": False},
        "excerpt": {
            "rendered": f"<p>{html.escape(post.paragraphs[0], quote=False)} [&hellip;]</p>\n",
            "protected": False,
        },
        "author": post.author[0],
        "featured_media": 0,
        "issue": [t[0] for t in post.issues],
        "coauthors": [],
        "class_list": [
            f"post-{post.wp_id}",
            "cw_post",
            "type-cw_post",
            "status-publish",
            "hentry",
            *[f"issue-{t[2]}" for t in post.issues],
        ],
        "yoast_head": f"<title>{html.escape(post.title)} - Aurora Institute</title>\n"
        '<meta property="og:site_name" content="Aurora Institute" />\n',
    }
    if embed:
        record["_embedded"] = {
            "author": [
                {
                    "id": post.author[0],
                    "name": post.author[1],
                    "slug": post.author[2],
                    "link": f"{SITE}/author/{post.author[2]}/",
                    "avatar_urls": {},
                }
            ],
            "wp:term": [
                [
                    {
                        "id": t[0],
                        "name": html.escape(t[1]),
                        "slug": t[2],
                        "taxonomy": "issue",
                        "link": f"{SITE}/issue/{t[2]}/",
                    }
                    for t in post.issues
                ]
            ],
        }
    return record


def html_page(post: SamplePost) -> str:
    """A saved copy of the post's rendered page, theme chrome included."""
    issues = ", ".join(t[1] for t in post.issues)
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in post.paragraphs)
    classes = f"post-{post.wp_id} cw_post type-cw_post status-publish hentry " + " ".join(
        "issue-" + t[2] for t in post.issues
    )
    return f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="UTF-8">
<title>{html.escape(post.title)} - Aurora Institute</title>
<link rel="canonical" href="{post.link}">
<meta property="og:site_name" content="Aurora Institute">
<meta property="article:published_time" content="{post.date_gmt}+00:00">
<script>window.tracking = {{"id": 1}};</script>
</head>
<body class="cw_post-template-default single single-cw_post postid-{post.wp_id}">
<a class="skip-link screen-reader-text" href="#content">Skip to content</a>
<header><nav><a href="/">Home</a> <a href="/blog/">Blog</a></nav></header>
<main id="content">
<article id="post-{post.wp_id}" class="{classes}">
<h1 class="entry-title">{html.escape(post.title)}</h1>
<div class="entry-content">
<p class="cw-authors">Author(s): {html.escape(post.author[1])}</p>
<p class="cw-issues">Issue(s): {html.escape(issues)}</p>
{body}
<div class="sharedaddy"><h3>Share this:</h3><a href="https://twitter.com/share">Twitter</a></div>
</div>
</article>
</main>
<footer><p>Powered by WordPress</p></footer>
</body>
</html>
"""


def text_copy(post: SamplePost) -> str:
    """A "save as text" copy of the rendered page, chrome and all."""
    issues = ", ".join(t[1] for t in post.issues)
    body = "\n\n".join(post.paragraphs)
    return (
        f"Skip to content\nAurora Institute\n\n{post.title}\n\nCompetencyWorks Blog\n\n"
        f"Author(s): {post.author[1]}\n\nIssue(s): {issues}\n\n\n{body}\n\n\nAuthor(s)\n"
    )


def listing_text(posts: list[SamplePost]) -> str:
    """A text copy of an old competencyworks.org listing page (teasers cut at "(more…)")."""
    months = ["January", "February", "March", "April", "May", "June"]
    parts = [
        "CompetencyWorks is an online resource dedicated to providing information and knowledge "
        "about competency education in the K-12 education system. "
        "This sample was invented by cwingest.",
        "a project of",
        "inacol logo",
    ]
    for post in posts:
        y, m, d = post.date_gmt[:10].split("-")
        parts.append(post.title)
        parts.append(f"{months[int(m) - 1]} {int(d)}, {y} by")
        parts.append(post.paragraphs[0])
        parts.append(post.paragraphs[1] + " (more…)")
        parts.append("Print Friendly")
    parts.append("WordPress SEO fine-tune by Meta SEO Pack from Poradnik Webmastera")
    return "\n\n".join(parts) + "\n"


def write_sample(folder: str | Path) -> list[Path]:
    """Write the sample into ``folder``; returns the files written (sorted)."""
    root = Path(folder)
    posts = make_posts()
    files: dict[str, bytes] = {}
    page = [rest_record(p) for p in posts[:3]]
    files["rest/cw_post-page1-embed.json"] = json.dumps(page, indent=1).encode()
    terms = [
        {
            "id": t[0],
            "name": html.escape(t[1]),
            "slug": t[2],
            "taxonomy": "issue",
            "link": f"{SITE}/issue/{t[2]}/",
            "count": 1,
        }
        for t in _ISSUES
    ]
    files["rest/issue-terms.json"] = json.dumps(terms).encode()
    # A dump cut off at both ends, saved without a JSON extension: the first record starts
    # inside its content, the last one stops mid-sentence.
    dump = json.dumps([rest_record(p, embed=False) for p in posts[2:5]])
    start = dump.index("<p>", dump.index('"content"')) + 40
    cut = (
        dump.index("<\\/p>", dump.rindex('"content"')) - 25 if "<\\/p>" in dump else len(dump) - 200
    )
    files["rest/dump-cut-both-ends.html"] = dump.replace("/", "\\/")[start:cut].encode()
    fixture = (
        "var mockedApiResponse = {};\n\nmockedApiResponse.PostModel = "
        + json.dumps(rest_record(posts[3], embed=False), indent=4)
        + ";\n"
    )
    files["rest/wp-api-fixture.js"] = fixture.encode()
    files["rest/posts.jsonl"] = (
        "\n".join(json.dumps(rest_record(p, embed=False)) for p in posts[3:5]).encode() + b"\n"
    )
    files["rest/wrapped.json"] = json.dumps(
        {"exported": "2019-06-01", "posts": [rest_record(posts[4])]}
    ).encode()
    files["pages/" + posts[0].slug + ".html"] = html_page(posts[0]).encode()
    files["text/" + posts[1].slug + ".txt"] = text_copy(posts[1]).encode()
    files["text/" + posts[2].slug + "-cp1252.txt"] = text_copy(posts[2]).encode("cp1252")
    files["text/" + posts[3].slug + "-utf16.txt"] = text_copy(posts[3]).encode("utf-16")
    files["text/blog-listing-page.txt"] = listing_text(posts).encode()
    files["bad/empty.json"] = b""
    files["bad/garbage.bin"] = random.Random(7).randbytes(2048)
    files["bad/nothing-salvageable.json"] = b'{"id": [1, 2, {"unterminated": '
    files["bad/not-utf8.json"] = (
        json.dumps(
            {"id": 1, "title": {"rendered": "Caf\u00e9"}, "content": {"rendered": "<p>x</p>"}}
        )
        .replace("\\u00e9", "\u00e9")
        .encode("latin-1")
    )
    written = []
    for rel, data in sorted(files.items()):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """``python -m cwingest.sample DIR``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m cwingest.sample DIR", file=sys.stderr)
        return 2
    for path in write_sample(args[0]):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
