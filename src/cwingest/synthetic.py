"""An invented WordPress publication in every shape cwingest reads, with its ground truth.

Tests and benchmarks need a corpus whose right answer is known: how many posts there
are, which document is a copy of which post, and what each post's fields are. This
module invents one, deterministically (the same arguments always write the same bytes;
no third-party text), shaped like the CompetencyWorks archive: an old site
(``competencyworks.org``, WordPress posts with categories and tags, 2011-2019) whose posts
were migrated to a new one (``aurora-institute.org``, custom post type ``cw_post`` with an
``issue`` taxonomy), with the traps real blogs set for deduplication:

* every post of the new site ends with its author's bio (60-120 words) and the same
  newsletter block; migrated posts say where they first appeared;
* series posts open with the same paragraph; pairs of posts quote the same long block;
* distinct posts with the same title on the same day (long ones, and short templated
  ones such as "Office closed" notices with their own WordPress ids);
* reposts under a new id (exact or lightly edited, title kept or decorated) and "ICYMI"
  teaser posts, which *are* the same post as their original.

Shapes written (one folder each, so a test can leave one out): REST list pages with
``_embed`` (new site) and without (old site, with term and user listings), REST dumps cut
off mid-record, a WXR export of the old site, saved HTML pages (theme chrome, related-post
teasers in the sidebar), a WARC capture of old pages, plain-text copies of single pages,
HTML listing pages and text copies of old listing pages.

``write_publication(folder, posts=400)`` writes it and ``truth.json``; :func:`load_truth`
reads the truth back and maps each output document to its true post.
"""

from __future__ import annotations

import html
import io
import json
import random
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

OLD = "competencyworks.org"
NEW = "aurora-institute.org"

_DETERMINERS = ["the", "a", "every", "one", "our", "their", "each", "that", "this", "some"]
_ADJECTIVES = (
    "new old shared common clear small rural urban early final weekly honest local annual "
    "flexible public open careful formal quiet patient steady simple different better digital "
    "strong slow visible narrow broad"
).split()
_NOUNS = (
    "district teacher student rubric schedule policy report transcript portfolio family board "
    "principal coach target scale unit lesson cohort advisory pilot dashboard exhibition "
    "routine standard grade credit pathway conference feedback survey budget framework"
).split()
_PREPOSITIONS = [
    "with",
    "for",
    "after",
    "before",
    "during",
    "without",
    "beside",
    "around",
    "across",
]
_LINKS = ["and", "but", "while", "because", "so", "although", "until", "since"]
_VERBS = [
    "rewrote",
    "tested",
    "questioned",
    "started with",
    "spent a year on",
    "gave up on",
    "mapped out",
    "argued about",
    "returned to",
    "built",
    "shared",
    "measured",
    "reorganized",
    "published",
    "piloted",
    "simplified",
    "documented",
    "revisited",
]
_OPENERS = [
    "",
    "",
    "",
    "In {year}, ",
    "At first, ",
    "By spring, ",
    "Not surprisingly, ",
    "In practice, ",
    "Looking back, ",
    "According to {person}, ",
    "Over time, ",
]
_SCHOOLS = [
    "Riverbend Middle School",
    "North Harbor High School",
    "Summit Valley High School",
    "Oak Hill Middle School",
    "Bayside Early College",
    "Lakeshore Unified",
    "Prairie View",
    "Cedar Ridge Elementary",
    "Westfield Academy",
    "Northfield Public Schools",
]
_PLACES = [
    "Maine",
    "Iowa",
    "Oregon",
    "Michigan",
    "Colorado",
    "Rhode Island",
    "Alaska",
    "Kentucky",
    "Vermont",
    "New Mexico",
    "Hawaii",
    "Idaho",
]
_PEOPLE = [
    "Maya Okafor",
    "Luis Ferreira",
    "Zoë Lindqvist",
    "Omar Haddad",
    "Aoife O’Brien",
    "Ethan Park",
    "José Ramírez",
    "Priya Natarajan",
    "Grace Whitfield",
    "Tomás Villanueva",
]
_ISSUES = [
    "How to Get Started",
    "Issues in Practice",
    "Assessment & Grading",
    "Equity",
    "State Policy",
    "Meeting Students Where They Are",
    "Student Agency",
    "Rural Schools",
]
_CATEGORIES = ["Case Studies", "Policy", "Practice", "Announcements", "Analysis"]
_TAGS = ["mastery", "rubrics", "transcripts", "pacing", "feedback", "portfolios", "equity"]
_TOPICS = [
    "Learning Targets",
    "Mastery Transcripts",
    "Flexible Pacing",
    "Re-Assessment",
    "Student-Led Conferences",
    "Proficiency Scales",
    "Habits of Work",
    "Portfolio Defenses",
    "Standards-Based Report Cards",
    "Micro-Credentials",
    "Performance Tasks",
    "Advisory",
]
_TITLE_FORMS = [
    "{topic} at {school}",
    "What {place} Learned About {topic}",
    "{topic}: Lessons from {place}",
    "Five Questions About {topic}",
    "Why {topic} Matter in {place}",
    "A Year of {topic}",
    "{topic} and the Students Who Fall Behind",
    "Notes from {school} on {topic}",
    "Getting {topic} Right in {place}",
    "{topic} Without the Loopholes",
]
_NEWSLETTER = (
    "Subscribe to the CompetencyWorks newsletter to get new posts, case studies and"
    " resources on competency-based education delivered to your inbox every other"
    " Thursday, and follow us for updates from schools and districts across the country."
)


@dataclass
class Post:
    """One true post: what a correct pipeline publishes for it."""

    key: str
    title: str
    slug: str
    published: str  # ISO, UTC
    modified: str
    authors: list[str]
    issues: list[str]
    categories: list[str]
    tags: list[str]
    paragraphs: list[str]  # the body; bio and newsletter are added by the new site
    old_id: int | None = None  # WordPress id on competencyworks.org
    new_id: int | None = None  # WordPress id on aurora-institute.org
    kind: str = "original"  # original, series, quote, same_title, notice, repost, teaser_post
    same_as: str | None = None  # a repost or teaser post: the post it copies
    shapes: list[str] = field(default_factory=list)

    @property
    def old_url(self) -> str:
        """Permalink on the old site."""
        return f"https://www.{OLD}/{self.published[:4]}/{self.published[5:7]}/{self.slug}/"

    @property
    def new_url(self) -> str:
        """Permalink on the new site."""
        return f"https://{NEW}/cw_post/{self.slug}/"


class _Writer:
    """Sentences from the word banks above (the randomness lives here)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def fill(self, template: str) -> str:
        r = self.rng
        return template.format(
            school=r.choice(_SCHOOLS),
            place=r.choice(_PLACES),
            person=r.choice(_PEOPLE),
            year=r.randint(2011, 2025),
            topic=r.choice(_TOPICS),
        )

    def phrase(self) -> str:
        """A noun phrase: determiner, adjective, noun (thousands of combinations)."""
        r = self.rng
        noun = r.choice(_NOUNS)
        if r.random() < 0.2:
            return self.fill(r.choice(["{school}", "{person}", "{place}", "the staff at {school}"]))
        return f"{r.choice(_DETERMINERS)} {r.choice(_ADJECTIVES)} {noun}"

    def sentence(self) -> str:
        r = self.rng
        text = (
            f"{self.fill(r.choice(_OPENERS))}{self.phrase()} {r.choice(_VERBS)} {self.phrase()}"
            f" {r.choice(_PREPOSITIONS)} {self.phrase()}"
        )
        if r.random() < 0.4:
            text += f", {r.choice(_LINKS)} {self.phrase()} {r.choice(_VERBS)} {self.phrase()}"
        return text[0].upper() + text[1:] + "."

    def paragraph(self, lo: int = 3, hi: int = 6) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(lo, hi)))

    def words(self, n: int) -> str:
        out: list[str] = []
        while len(out) < n:
            out += self.sentence().split()
        return " ".join(out[:n]).rstrip(",") + "."


def _slug(title: str) -> str:
    import re
    import unicodedata

    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")


def _bio(w: _Writer, name: str) -> str:
    n = w.rng.randint(60, 120)
    return f"{name} " + w.words(n)


def make_posts(n: int = 400, seed: int = 2011) -> tuple[list[Post], dict[str, str]]:
    """The true posts and each author's bio (deterministic for ``n`` and ``seed``)."""
    rng = random.Random(seed)
    w = _Writer(rng)
    bios = {name: _bio(w, name) for name in _PEOPLE}
    posts: list[Post] = []
    used_titles: set[str] = set()
    old_ids = iter(range(100, 100000, 3))
    new_ids = iter(range(5000, 200000, 7))
    start_old, start_new = datetime(2011, 3, 1, tzinfo=UTC), datetime(2019, 7, 1, tzinfo=UTC)

    def title() -> str:
        for attempt in range(1000):
            t = w.fill(rng.choice(_TITLE_FORMS))
            if attempt > 20:  # the plain forms are used up: add who said it, or when
                t += w.fill(rng.choice([", with {person}", " in {year}", ": {person} Reports"]))
            if attempt > 200:
                t += f" ({attempt})"
            if t not in used_titles:
                used_titles.add(t)
                return t
        raise AssertionError("unreachable: numbered titles are unique")

    def when(i: int, old: bool) -> datetime:
        base = start_old if old else start_new
        span = 3000 if old else 2300
        day = base + timedelta(days=(i * 7919) % span)
        return day + timedelta(hours=rng.randint(7, 22), minutes=rng.randint(0, 59))

    def new_post(i: int, kind: str = "original") -> Post:
        old = rng.random() < 0.55
        migrated = old and rng.random() < 0.6
        t = title()
        pub = when(i, old)
        mod = pub + timedelta(days=rng.choice([0, 0, 3, 40, 400]))
        authors = rng.sample(_PEOPLE, 1 if rng.random() < 0.8 else 2)
        return Post(
            key=f"P{i:05d}",
            title=t,
            slug=_slug(t),
            published=pub.isoformat(),
            modified=mod.isoformat(),
            authors=authors,
            issues=rng.sample(_ISSUES, rng.randint(1, 3)) if (not old or migrated) else [],
            categories=rng.sample(_CATEGORIES, rng.randint(1, 2)) if old else [],
            tags=rng.sample(_TAGS, rng.randint(0, 3)) if old else [],
            paragraphs=[w.paragraph() for _ in range(rng.randint(3, 12))],
            old_id=next(old_ids) if old else None,
            new_id=next(new_ids) if (not old or migrated) else None,
            kind=kind,
        )

    # Traps, in numbers proportional to the size (at least one of each).
    plan = ["original"] * n
    k = 0
    for kind, share in (
        ("series", 100),
        ("quote", 80),
        ("same_title", 60),
        ("notice", 80),
        ("repost", 50),
        ("teaser_post", 80),
    ):
        for _ in range(max(1, n // share)):
            plan[(k * 37 + 11) % n] = kind
            k += 1
    i = 0
    while len(posts) < n:
        i += 1
        kind = plan[len(posts)]
        p = new_post(i)
        sources = [q for q in posts if q.new_id is not None and q.kind == "original"]
        if kind == "series" and len(posts) + 4 <= n:  # four posts opening alike
            topic = rng.choice(_TOPICS).lower()
            intro = f"This is part of our series on {topic}. " + w.paragraph(3, 4)
            p.kind = "series"
            p.paragraphs.insert(0, intro)
            posts.append(p)
            for part in range(2, 5):
                i += 1
                q = new_post(i, "series")
                q.title = f"{p.title} (Part {part})"
                q.slug = _slug(q.title)
                q.paragraphs.insert(0, intro)
                posts.append(q)
        elif kind == "quote" and len(posts) + 2 <= n:  # two posts quoting one long block
            block = "As the report put it: " + w.words(150)
            i += 1
            q = new_post(i, "quote")
            p.kind = "quote"
            p.paragraphs.insert(len(p.paragraphs) // 2, block)
            q.paragraphs.insert(1, block)
            posts += [p, q]
        elif kind == "same_title" and len(posts) + 2 <= n:  # one title, one day, two posts
            i += 1
            q = new_post(i, "same_title")
            p.kind = "same_title"
            q.title, q.slug = p.title, p.slug + "-2"
            pub = datetime.fromisoformat(p.published).replace(hour=rng.randint(7, 22))
            q.published = q.modified = pub.isoformat()
            q.old_id = next(old_ids) if p.old_id else None
            q.new_id = next(new_ids) if p.new_id else None
            q.issues = rng.sample(_ISSUES, 2) if q.new_id else []
            q.categories = rng.sample(_CATEGORIES, 1) if q.old_id else []
            q.tags = []
            posts += [p, q]
        elif kind == "notice" and len(posts) + 2 <= n:  # short templated notices, own ids
            day = when(i, False).replace(hour=9, minute=0)
            notice = rng.choice(["Office Closed", "Webinar Reminder", "Pause café"])
            for hour in range(2):
                i += 1
                text = (
                    f"Our team will be away on {day:%B %d, %Y}. Durée : 45 minutes. "
                    f"Room {rng.randint(1, 9)}."
                )
                at = (day + timedelta(hours=hour)).isoformat()
                posts.append(
                    Post(
                        key=f"P{i:05d}",
                        title=notice,
                        slug=_slug(notice) + f"-{i}",
                        published=at,
                        modified=at,
                        authors=["Grace Whitfield"],
                        issues=[],
                        categories=[],
                        tags=[],
                        paragraphs=[text],
                        new_id=next(new_ids),
                        kind="notice",
                    )
                )
        elif kind in ("repost", "teaser_post") and sources:  # the same post again, new id
            src = sources[(i * 13) % len(sources)]
            q = p
            q.kind, q.same_as = kind, src.key
            q.old_id, q.new_id = None, next(new_ids)
            q.authors, q.issues = list(src.authors), list(src.issues)
            q.categories, q.tags = [], []
            if kind == "repost":
                q.title = rng.choice(
                    [src.title, f"Revisited: {src.title}", f"{src.title} (Updated)"]
                )
                q.slug = _slug(q.title) + "-2"
                q.paragraphs = list(src.paragraphs)
                if rng.random() < 0.5:
                    q.paragraphs[-1] = q.paragraphs[-1].replace(".", ";", 1)
                days = 30
            else:
                q.title = f"ICYMI: {src.title}"
                q.slug = _slug(q.title)
                q.paragraphs = [src.paragraphs[0]]
                days = 9
            days += 17 * sum(1 for x in posts if x.same_as == src.key)  # never two on one day
            q.published = (datetime.fromisoformat(src.published) + timedelta(days=days)).isoformat()
            q.modified = q.published
            posts.append(q)
        else:
            posts.append(p)
    return posts[:n], bios


# -- how each site renders a post ---------------------------------------------------------


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _day(iso: str) -> str:
    d = datetime.fromisoformat(iso)
    return f"{d:%B} {d.day}, {d.year}"


def new_site_paragraphs(post: Post, bios: dict[str, str]) -> list[str]:
    """The post's body as the new site shows it: migration note, bios, newsletter."""
    paras = list(post.paragraphs)
    if post.kind == "teaser_post":
        return [*paras, "Read the full post…"]
    if post.old_id is not None:
        paras.append(f"This post originally appeared at CompetencyWorks on {_day(post.published)}.")
    if post.kind != "notice":
        paras += [bios[a] for a in post.authors]
        paras.append(_NEWSLETTER)
    return paras


def _user_id(name: str) -> int:
    return 10 + _PEOPLE.index(name) if name in _PEOPLE else 99


def _term_id(name: str, taxonomy: str) -> int:
    pool = {"issue": _ISSUES, "category": _CATEGORIES, "post_tag": _TAGS}[taxonomy]
    base = {"issue": 300, "category": 20, "post_tag": 60}[taxonomy]
    return base + pool.index(name)


def _gmt(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%Y-%m-%dT%H:%M:%S")


def rest_new(post: Post, bios: dict[str, str], embed: bool = True) -> dict[str, Any]:
    """A ``/wp/v2/cw_post`` record of the new site."""
    paras = new_site_paragraphs(post, bios)
    guid = (
        f"http://www.{OLD}/?p={post.old_id}"  # imports keep the GUID of the old site
        if post.old_id is not None
        else f"https://{NEW}/?post_type=cw_post&p={post.new_id}"
    )
    record: dict[str, Any] = {
        "id": post.new_id,
        "date": _gmt(post.published),
        "date_gmt": _gmt(post.published),
        "modified": _gmt(post.modified),
        "modified_gmt": _gmt(post.modified),
        "guid": {"rendered": guid},
        "slug": post.slug,
        "status": "publish",
        "type": "cw_post",
        "link": post.new_url,
        "title": {"rendered": _esc(post.title).replace("’", "&#8217;")},
        "content": {"rendered": "".join(f"<p>{_esc(p)}</p>\n" for p in paras), "protected": False},
        "excerpt": {"rendered": f"<p>{_esc(post.paragraphs[0][:200])} [&hellip;]</p>\n"},
        "author": _user_id(post.authors[0]),
        "issue": [_term_id(t, "issue") for t in post.issues],
        "class_list": [f"post-{post.new_id}", "type-cw_post", "status-publish", "hentry"]
        + [f"issue-{_slug(t)}" for t in post.issues],
    }
    if embed:
        record["_embedded"] = {
            "author": [
                {
                    "id": _user_id(a),
                    "name": a,
                    "slug": _slug(a),
                    "link": f"https://{NEW}/author/{_slug(a)}/",
                }
                for a in post.authors[:1]
            ],
            "wp:term": [
                [
                    {
                        "id": _term_id(t, "issue"),
                        "name": _esc(t),
                        "slug": _slug(t),
                        "taxonomy": "issue",
                        "link": f"https://{NEW}/issue/{_slug(t)}/",
                    }
                    for t in post.issues
                ]
            ],
        }
        if len(post.authors) > 1:  # a byline in the content names every author
            record["content"]["rendered"] = (
                f"<p>Author(s): {_esc(', '.join(post.authors))}</p>\n"
                + record["content"]["rendered"]
            )
    return record


def rest_old(post: Post) -> dict[str, Any]:
    """A ``/wp/v2/posts`` record of the old site, saved without ``_embed``."""
    body = "".join(f"<p>{_esc(p)}</p>\n" for p in post.paragraphs)
    if len(post.authors) > 1:
        body = f"<p>By {_esc(' and '.join(post.authors))}</p>\n" + body
    return {
        "id": post.old_id,
        "date_gmt": _gmt(post.published),
        "modified_gmt": _gmt(post.modified),
        "guid": {"rendered": f"http://www.{OLD}/?p={post.old_id}"},
        "slug": post.slug,
        "status": "publish",
        "type": "post",
        "link": post.old_url,
        "title": {"rendered": _esc(post.title)},
        "content": {"rendered": body},
        "author": _user_id(post.authors[0]),
        "categories": [_term_id(c, "category") for c in post.categories],
        "tags": [_term_id(t, "post_tag") for t in post.tags],
    }


def _old_listings() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for tax, pool in (("category", _CATEGORIES), ("post_tag", _TAGS)):
        for name in pool:
            out.append(
                {
                    "id": _term_id(name, tax),
                    "name": _esc(name),
                    "slug": _slug(name),
                    "taxonomy": tax,
                    "link": f"https://www.{OLD}/{'category' if tax == 'category' else 'tag'}/"
                    f"{_slug(name)}/",
                }
            )
    return out


def _users(site: str) -> list[dict[str, Any]]:
    return [
        {
            "id": _user_id(a),
            "name": a,
            "slug": _slug(a),
            "link": f"https://{site}/author/{_slug(a)}/",
            "avatar_urls": {},
        }
        for a in _PEOPLE
    ]


def wxr_old(posts: list[Post]) -> str:
    """A WXR 1.2 export of the old site (Tools → Export, all content)."""
    out = [
        '<?xml version="1.0" encoding="UTF-8" ?>',
        '<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"'
        ' xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:wp="http://wordpress.org/export/1.2/">',
        "<channel>",
        "<title>CompetencyWorks</title>",
        f"<link>https://www.{OLD}</link>",
        "<wp:wxr_version>1.2</wp:wxr_version>",
        f"<wp:base_site_url>https://www.{OLD}</wp:base_site_url>",
    ]
    for a in _PEOPLE:
        out.append(
            f"<wp:author><wp:author_id>{_user_id(a)}</wp:author_id>"
            f"<wp:author_login><![CDATA[{_slug(a)}]]></wp:author_login>"
            f"<wp:author_display_name><![CDATA[{a}]]></wp:author_display_name></wp:author>"
        )
    for p in posts:
        body = "\n\n".join(p.paragraphs)  # raw post_content: paragraphs as blank lines
        if len(p.authors) > 1:
            body = f"By {' and '.join(p.authors)}\n\n" + body
        cats = "".join(
            f'<category domain="category" nicename="{_slug(c)}"><![CDATA[{c}]]></category>'
            for c in p.categories
        ) + "".join(
            f'<category domain="post_tag" nicename="{_slug(t)}"><![CDATA[{t}]]></category>'
            for t in p.tags
        )
        local = datetime.fromisoformat(p.published) - timedelta(hours=5)
        gmt = datetime.fromisoformat(p.published)
        mod = datetime.fromisoformat(p.modified)
        out.append(
            f"<item><title>{_esc(p.title)}</title><link>{p.old_url}</link>"
            f'<guid isPermaLink="false">http://www.{OLD}/?p={p.old_id}</guid>'
            f"<dc:creator><![CDATA[{_slug(p.authors[0])}]]></dc:creator>"
            f"<content:encoded><![CDATA[{body}]]></content:encoded>"
            "<excerpt:encoded><![CDATA[]]></excerpt:encoded>"
            f"<wp:post_id>{p.old_id}</wp:post_id>"
            f"<wp:post_date><![CDATA[{local:%Y-%m-%d %H:%M:%S}]]></wp:post_date>"
            f"<wp:post_date_gmt><![CDATA[{gmt:%Y-%m-%d %H:%M:%S}]]>"
            "</wp:post_date_gmt>"
            f"<wp:post_modified_gmt><![CDATA[{mod:%Y-%m-%d %H:%M:%S}]]>"
            "</wp:post_modified_gmt>"
            f"<wp:post_name><![CDATA[{p.slug}]]></wp:post_name>"
            "<wp:status><![CDATA[publish]]></wp:status>"
            "<wp:post_type><![CDATA[post]]></wp:post_type>"
            f"{cats}</item>"
        )
    out += ["</channel>", "</rss>", ""]
    return "\n".join(out)


def _related(others: list[Post], new: bool) -> str:
    """A sidebar of related-post teasers, each an ``<article>`` (as many themes do)."""
    items = []
    for o in others:
        url = o.new_url if new else o.old_url
        items.append(
            f'<article class="post related-post"><h3><a href="{url}">{_esc(o.title)}</a></h3>'
            f"<p>{_esc(o.paragraphs[0][:120])}…</p></article>"
        )
    return '<aside class="widget related"><h2>Related posts</h2>' + "".join(items) + "</aside>"


def html_single(post: Post, bios: dict[str, str], new: bool, others: list[Post]) -> str:
    """A saved single-post page of either site, theme chrome and related teasers included."""
    site_name = "Aurora Institute" if new else "CompetencyWorks"
    wp_id = post.new_id if new else post.old_id
    url = post.new_url if new else post.old_url
    paras = new_site_paragraphs(post, bios) if new else post.paragraphs
    body = "\n".join(f"<p>{_esc(p)}</p>" for p in paras)
    terms = (
        f'<p class="cw-authors">Author(s): {_esc(", ".join(post.authors))}</p>'
        f'<p class="cw-issues">Issue(s): {_esc(", ".join(post.issues))}</p>'
        if new
        else f'<p class="byline">By <span class="author vcard"><a class="url fn" href="/author/'
        f'{_slug(post.authors[0])}/">{_esc(post.authors[0])}</a></span></p>'
    )
    ptype = "cw_post" if new else "post"
    tax = (
        "".join(f" issue-{_slug(t)}" for t in post.issues)
        if new
        else "".join(f" category-{_slug(c)}" for c in post.categories)
    )
    return f"""<!DOCTYPE html>
<html lang="en-US"><head><meta charset="UTF-8">
<title>{_esc(post.title)} - {site_name}</title>
<link rel="canonical" href="{url}">
<meta property="og:site_name" content="{site_name}">
<meta property="og:type" content="article">
<meta property="article:published_time" content="{_gmt(post.published)}+00:00">
</head>
<body class="{ptype}-template-default single single-{ptype} postid-{wp_id}">
<a class="skip-link" href="#content">Skip to content</a>
<header><p class="site-title">{site_name}</p><nav><a href="/">Home</a> <a href="/blog/">Blog</a>
<a href="/about/">About</a></nav></header>
<div id="content"><main>
<article id="post-{wp_id}" class="post-{wp_id} {ptype} type-{ptype} status-publish hentry{tax}">
<h1 class="entry-title">{_esc(post.title)}</h1>
<div class="entry-content">
{terms}
{body}
<div class="sharedaddy"><h3>Share this:</h3><a href="https://twitter.com/share">Twitter</a></div>
</div></article></main>
{_related(others, new)}
</div>
<footer><p>© 2024 {site_name}. Powered by WordPress</p></footer>
</body></html>
"""


def text_single(post: Post, bios: dict[str, str]) -> str:
    """A "save as text" copy of a new-site page (no URL kept), chrome and all."""
    body = "\n\n".join(new_site_paragraphs(post, bios))
    issues = ", ".join(post.issues)
    return (
        f"Skip to content\nAurora Institute\n\n{post.title}\n\nCompetencyWorks Blog\n\n"
        f"Author(s): {', '.join(post.authors)}\n\nIssue(s): {issues}\n\n\n{body}\n\n\nAuthor(s)\n"
    )


def _teaser(post: Post, words: int = 45) -> str:
    return " ".join(post.paragraphs[0].split()[:words])


def html_listing(posts: list[Post], page: int) -> str:
    """A saved page of the new site's blog listing: one teaser per post."""
    entries = []
    for p in posts:
        entries.append(
            f'<article id="post-{p.new_id}" class="post-{p.new_id} cw_post type-cw_post'
            f' status-publish hentry">'
            f'<h2 class="entry-title"><a href="{p.new_url}" rel="bookmark">{_esc(p.title)}</a></h2>'
            f'<time class="entry-date published" datetime="{_gmt(p.published)}+00:00">'
            f"{_day(p.published)}</time>"
            f'<div class="entry-summary"><p>{_esc(_teaser(p))} […]</p>'
            f'<a class="more-link" href="{p.new_url}">Continue reading</a></div></article>'
        )
    return f"""<!DOCTYPE html>
<html lang="en-US"><head><meta charset="UTF-8"><title>Blog - Page {page} - Aurora Institute</title>
<link rel="canonical" href="https://{NEW}/blog/page/{page}/"></head>
<body class="blog paged paged-{page}"><header><nav><a href="/">Home</a></nav></header>
<main>{"".join(entries)}</main><footer>© Aurora Institute</footer></body></html>
"""


def text_listing(posts: list[Post]) -> str:
    """A text copy of an old competencyworks.org listing page (teasers cut at "(more…)")."""
    parts = [
        "CompetencyWorks is an online resource dedicated to providing information and knowledge "
        "about competency education in the K-12 education system.",
        "a project of",
        "inacol logo",
    ]
    for p in posts:
        parts += [p.title, f"{_day(p.published)} by", _teaser(p, 60) + " (more…)", "Print Friendly"]
    parts.append("WordPress SEO fine-tune by Meta SEO Pack from Poradnik Webmastera")
    return "\n\n".join(parts) + "\n"


def _warc(pages: list[tuple[str, str, datetime]]) -> bytes:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    for url, page, when in pages:
        headers = StatusAndHeaders(
            "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
        )
        record = writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(page.encode("utf-8")),
            http_headers=headers,
            warc_headers_dict={"WARC-Date": when.strftime("%Y-%m-%dT%H:%M:%SZ")},
        )
        writer.write_record(record)
    return buf.getvalue()


def _cut_dump(records: list[dict[str, Any]], rng: random.Random) -> str:
    """A REST dump cut off at both ends, with escaped slashes as PHP writes them."""
    dump = json.dumps(records).replace("/", "\\/")
    first = dump.index('"rendered"', dump.index('"content"')) + 40
    last = dump.rindex('"content"') + rng.randint(200, 400)
    return dump[first : min(last, len(dump) - 10)]


# -- the whole publication --------------------------------------------------------------


def write_publication(
    folder: str | Path, posts: int = 400, seed: int = 2011, shapes: bool = True
) -> dict[str, Any]:
    """Write the publication under ``folder`` (one sub-folder per shape) and ``truth.json``.

    Returns the truth: ``posts`` (every true post) and ``files`` (for each file written,
    relative to ``folder``, the posts it holds in order: ``[key, title, published]``).
    """
    root = Path(folder)
    rng = random.Random(seed + 1)
    true_posts, bios = make_posts(posts, seed)
    files: dict[str, bytes] = {}
    holds: dict[str, list[Post]] = {}

    def put(rel: str, data: bytes, members: list[Post]) -> None:
        files[rel] = data
        holds[rel] = members

    new_posts = [p for p in true_posts if p.new_id is not None]
    old_posts = [p for p in true_posts if p.old_id is not None]
    # REST: 75 % of the new site in list pages with _embed; the old site without _embed.
    in_rest = [p for p in new_posts if rng.random() < 0.75]
    for k in range(0, len(in_rest), 20):
        page = in_rest[k : k + 20]
        put(
            f"rest/cw_post-page-{k // 20 + 1}.json",
            json.dumps([rest_new(p, bios) for p in page], indent=1).encode(),
            page,
        )
    old_rest = [p for p in old_posts if rng.random() < 0.5]
    for k in range(0, len(old_rest), 25):
        page = old_rest[k : k + 25]
        put(
            f"rest/posts-page-{k // 25 + 1}.json",
            json.dumps([rest_old(p) for p in page]).encode(),
            page,
        )
    put("rest/terms.json", json.dumps(_old_listings()).encode(), [])
    put("rest/users-old.json", json.dumps(_users("www." + OLD)).encode(), [])
    # Dumps cut off mid-record (the first and last records lose their heads and tails).
    for k in range(3):
        page = rng.sample(new_posts, 4)
        put(
            f"rest/cut-dump-{k + 1}.txt",
            _cut_dump([rest_new(p, bios, embed=False) for p in page], rng).encode(),
            page,
        )
    # The old site's export.
    put("wxr/competencyworks.wxr.xml", wxr_old(old_posts).encode(), old_posts)
    # Saved single pages of both sites, and a capture of old pages.
    for p in true_posts:
        others = rng.sample(true_posts, 3)
        if p.new_id is not None and rng.random() < 0.12:
            put(f"pages/new-{p.slug}.html", html_single(p, bios, True, others).encode(), [p])
        if p.old_id is not None and rng.random() < 0.08:
            put(f"pages/old-{p.slug}.html", html_single(p, bios, False, others).encode(), [p])
    captured = [p for p in old_posts if rng.random() < 0.1]
    put(
        "captures/old-site.warc.gz",
        _warc(
            [
                (
                    p.old_url,
                    html_single(p, bios, False, rng.sample(true_posts, 3)),
                    datetime(2018, 5, 1, tzinfo=UTC),
                )
                for p in captured
            ]
        ),
        captured,
    )
    # Text copies of new-site pages.
    for p in new_posts:
        if p.kind != "notice" and rng.random() < 0.1:
            put(f"text/{p.slug}.txt", text_single(p, bios).encode(), [p])
    # Listing teasers: the new blog's pages (HTML) and the old site's listings (text).
    listed_new = [p for p in new_posts if p.kind != "notice" and rng.random() < 0.3]
    for k in range(0, len(listed_new), 10):
        page = listed_new[k : k + 10]
        put(
            f"listings/blog-page-{k // 10 + 1}.html", html_listing(page, k // 10 + 1).encode(), page
        )
    listed_old = [p for p in old_posts if rng.random() < 0.3]
    for k in range(0, len(listed_old), 8):
        page = listed_old[k : k + 8]
        put(f"listings/old-listing-{k // 8 + 1}.txt", text_listing(page).encode(), page)
    for rel, data in sorted(files.items()):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    truth = {
        "posts": [asdict(p) for p in true_posts],
        "files": {
            rel: [[p.key, p.title, p.published, p.old_id, p.new_id] for p in members]
            for rel, members in sorted(holds.items())
        },
    }
    (root / "truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False))
    return truth


# -- scoring a run against the truth ------------------------------------------------------


def _norm(title: str | None) -> str:
    import re
    import unicodedata

    folded = unicodedata.normalize("NFKD", title or "").casefold()
    return " ".join(re.findall(r"[^\W_]+", folded))


@dataclass
class Score:
    """How a run's grouping compares with the truth."""

    true_posts: int
    posts: int
    mixed_posts: int  # posts holding documents of two or more true posts
    pair_precision: float
    pair_recall: float
    unmapped: int  # documents whose true post could not be told
    mixed: list[list[str]] = field(default_factory=list)


def truth_of_sources(
    folder: str | Path, sources: list[dict[str, Any]], truth: dict[str, Any] | None = None
) -> dict[tuple[str, int], str]:
    """Each ``post_sources`` row's true post (a repost's or teaser post's original).

    A document is matched to a post its file holds by title (then the nearest date),
    else by position.
    """
    root = Path(folder).resolve()
    truth = truth or json.loads((root / "truth.json").read_text("utf-8"))
    same_as = {p["key"]: p["same_as"] or p["key"] for p in truth["posts"]}
    out: dict[tuple[str, int], str] = {}
    for s in sources:
        uri = str(s["source_uri"])
        path = uri.removeprefix("file://")
        try:
            rel = str(Path(path).resolve().relative_to(root))
        except ValueError:
            continue
        members = truth["files"].get(rel, [])
        if not members:
            continue
        title = _norm(s.get("title"))
        wp_id = s.get("wp_id")
        matches = [m for m in members if wp_id is not None and wp_id in (m[3], m[4])]
        matches = matches or [m for m in members if _norm(m[1]) == title]
        if not matches:
            matches = [
                m for m in members if title and (_norm(m[1]) in title or title in _norm(m[1]))
            ]
        if len(matches) > 1:  # one title twice in a file: the entry at the document's place
            index = int(s["doc_index"])
            matches.sort(key=lambda m: abs(members.index(m) - index))
        if matches:
            key = matches[0][0]
        elif int(s["doc_index"]) < len(members):
            key = members[int(s["doc_index"])][0]
        else:
            continue
        out[(str(s["raw_id"]), int(s["doc_index"]))] = same_as[key]
    return out


def score(folder: str | Path, sources: list[dict[str, Any]]) -> Score:
    """Pair precision and recall of ``post_sources`` against the publication's truth."""
    from collections import Counter

    root = Path(folder)
    truth = json.loads((root / "truth.json").read_text("utf-8"))
    mapping = truth_of_sources(root, sources, truth)
    pairs: list[tuple[str, str]] = []
    unmapped = 0
    by_post: dict[str, set[str]] = {}
    for s in sources:
        key = mapping.get((str(s["raw_id"]), int(s["doc_index"])))
        if key is None:
            unmapped += 1
            continue
        pairs.append((key, str(s["post_id"])))
        by_post.setdefault(str(s["post_id"]), set()).add(key)

    def count(c: Counter[Any]) -> int:
        return sum(n * (n - 1) // 2 for n in c.values())

    both = count(Counter(pairs))
    pred = count(Counter(p for _, p in pairs))
    true = count(Counter(t for t, _ in pairs))
    mixed = [sorted(v) for v in by_post.values() if len(v) > 1]
    return Score(
        true_posts=len({t for t, _ in pairs}),
        posts=len(by_post),
        mixed_posts=len(mixed),
        pair_precision=both / pred if pred else 1.0,
        pair_recall=both / true if true else 1.0,
        unmapped=unmapped,
        mixed=sorted(mixed),
    )


def field_errors(
    folder: str | Path, posts: list[dict[str, Any]], sources: list[dict[str, Any]]
) -> list[str]:
    """Fields a post row borrowed from another post: one line per problem.

    Each row is compared with its true post (the one its documents belong to): title,
    publication day, and issues, categories and tags that the true post does not have.
    """
    root = Path(folder)
    truth = json.loads((root / "truth.json").read_text("utf-8"))
    by_key = {p["key"]: p for p in truth["posts"]}
    mapping = truth_of_sources(root, sources, truth)
    members: dict[str, set[str]] = {}
    for s in sources:
        key = mapping.get((str(s["raw_id"]), int(s["doc_index"])))
        if key:
            members.setdefault(str(s["post_id"]), set()).add(key)
    problems = []
    for row in posts:
        keys = members.get(row["post_id"], set())
        if len(keys) != 1:
            problems.append(f"{row['post_id']}: holds {sorted(keys) or 'no known post'}")
            continue
        want = by_key[next(iter(keys))]
        family = [want] + [p for p in truth["posts"] if p["same_as"] == want["key"]]
        if row["title"] is not None and _norm(row["title"]) not in {
            _norm(p["title"]) for p in family
        }:
            problems.append(f"{row['post_id']}: title {row['title']!r} != {want['title']!r}")
        published = row["published_at"]
        if published is not None and all(
            abs((published - datetime.fromisoformat(p["published"])).total_seconds()) > 36 * 3600
            for p in family
        ):
            problems.append(f"{row['post_id']}: published {published} != {want['published']}")
        for column, key in (("issues", "issues"), ("categories", "categories"), ("tags", "tags")):
            extra = {_norm(x) for x in row[column]} - {_norm(x) for p in family for x in p[key]}
            if extra:
                problems.append(f"{row['post_id']}: {column} {sorted(extra)} borrowed")
    return problems


# -- two more sites that set traps for deduplication ---------------------------------------


def write_security_blog(folder: str | Path, pairs: int = 40, seed: int = 7) -> dict[str, Any]:
    """A WXR export of a security blog where every "Solution" post repeats the code of its
    "Vulnerable code" post; every item is a post of its own.

    Returns ``{"posts": n, "titles": [...]}`` (one title per published item).
    """
    rng = random.Random(seed)
    w = _Writer(rng)
    idents = [
        f"{a}_{b}"
        for a in (
            "user",
            "order",
            "token",
            "query",
            "path",
            "file",
            "buffer",
            "session",
            "input",
            "record",
        )
        for b in ("id", "name", "data", "len", "buf", "ptr")
    ]

    def code(lines: int) -> list[str]:
        out = []
        for _ in range(lines):
            a, b, c = rng.sample(idents, 3)
            out.append(
                rng.choice(
                    [
                        f"{a} = read_{b}(request.args['{c}'])",
                        f"if len({a}) > MAX_{b.upper()}: return error('{c}')",
                        f'cursor.execute("SELECT * FROM {b} WHERE {c} = \'" + {a} + "\'")',
                        f"for {a} in {b}: {c}.append(escape({a}))",
                        f"strcpy({a}, {b}); /* {c} */",
                    ]
                )
            )
        return out

    items = []
    post_id = 100
    for k in range(pairs):
        flaw = rng.choice(["SQL injection", "buffer overflow", "path traversal", "XSS"])
        topic = f"{flaw} in {rng.choice(idents)}"
        vulnerable = code(rng.randint(14, 22))
        fixed = [
            line.replace("read_", "safe_read_").replace("strcpy", "strncpy") for line in vulnerable
        ]
        day = datetime(2018, 1, 3, 9, tzinfo=UTC) + timedelta(days=7 * k)
        listing = f"<pre><code>{_esc(chr(10).join(vulnerable))}</code></pre>"
        vuln_html = f"<p>{_esc(w.sentence())}</p>{listing}"
        sol_html = (
            f"<p>{_esc(w.sentence())}</p>{listing}<p>{_esc(w.paragraph(1, 2))}</p>"
            f"<pre><code>{_esc(chr(10).join(fixed))}</code></pre>"
        )
        items.append((post_id, f"Vulnerable code: {topic}", day, vuln_html))
        items.append((post_id + 1, f"Solution: {topic}", day + timedelta(days=3), sol_html))
        post_id += 2
    for k in range(pairs // 2):
        day = datetime(2018, 2, 1, 9, tzinfo=UTC) + timedelta(days=11 * k)
        body = "".join(f"<p>{_esc(w.paragraph())}</p>" for _ in range(rng.randint(3, 6)))
        items.append((post_id, w.fill(rng.choice(_TITLE_FORMS)) + f" ({k})", day, body))
        post_id += 1
    out = [
        '<?xml version="1.0" encoding="UTF-8" ?>',
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">',
        "<channel><title>Secure Coding Notes</title><link>https://securecoding.example</link>",
    ]
    for pid, title, day, body in items:
        slug = _slug(title)
        out.append(
            f"<item><title>{_esc(title)}</title>"
            f"<link>https://securecoding.example/{slug}/</link>"
            f'<guid isPermaLink="false">https://securecoding.example/?p={pid}</guid>'
            f"<dc:creator><![CDATA[editor]]></dc:creator>"
            f"<content:encoded><![CDATA[{body}]]></content:encoded>"
            f"<wp:post_id>{pid}</wp:post_id>"
            f"<wp:post_date_gmt><![CDATA[{day:%Y-%m-%d %H:%M:%S}]]></wp:post_date_gmt>"
            f"<wp:post_name><![CDATA[{slug}]]></wp:post_name>"
            "<wp:status><![CDATA[publish]]></wp:status>"
            "<wp:post_type><![CDATA[post]]></wp:post_type>"
            f'<category domain="category" nicename="c{pid % 5}">'
            f"<![CDATA[Topic {pid % 5}]]></category></item>"
        )
    out.append("</channel></rss>\n")
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    (root / "securecoding.wxr.xml").write_text("\n".join(out), encoding="utf-8")
    return {"posts": len(items), "titles": [t for _, t, _, _ in items]}


def write_conference(folder: str | Path, days: int = 3, seed: int = 11) -> dict[str, Any]:
    """A REST dump of a conference site: every session is a post of its own, and breaks
    share their title, their day and their templated text ("Durée : 45 minutes").

    Returns ``{"posts": n, "records": [(id, title, date)]}``.
    """
    rng = random.Random(seed)
    w = _Writer(rng)
    coffee = (
        "Café, thé et viennoiseries sont servis dans le hall d’accueil. Profitez de cette pause"
        " pour rencontrer les intervenants et les autres participants."
    )
    dinner = (
        "Le dîner est servi au restaurant du campus pour tous les participants inscrits. Merci"
        " de présenter votre badge à l’entrée. Les menus végétariens et sans gluten sont"
        " disponibles sur demande auprès de l’accueil, au plus tard la veille à midi. Le dîner"
        " se poursuit par une soirée musicale dans le jardin si le temps le permet."
    )
    records: list[dict[str, Any]] = []
    wp_id = 300
    for d in range(days):
        day = datetime(2024, 6, 10 + d, tzinfo=UTC)
        sessions = [
            (8, "Accueil des participants", f"<p>Durée : 30 minutes</p><p>{coffee}</p>"),
            (10, "Pause café", f"<p>Durée : 30 minutes</p><p>{coffee}</p>"),
            (12, "Déjeuner", "<p>Durée : 90 minutes</p><p>Déjeuner libre.</p>"),
            (15, "Pause café", f"<p>Durée : 30 minutes</p><p>{coffee}</p>"),
            (19, "Dîner", f"<p>Durée : 2 heures</p><p>{dinner}</p>"),
        ]
        for hour in (9, 11, 14, 16):
            abstract = "".join(f"<p>{_esc(w.paragraph())}</p>" for _ in range(2))
            sessions.append(
                (
                    hour,
                    f"Atelier : {rng.choice(_TOPICS)} ({d + 1}-{hour})",
                    f"<p>Durée : 45 minutes</p><p>Salle : {rng.choice('ABCD')}</p>{abstract}",
                )
            )
        for hour, title, body in sorted(sessions):
            wp_id += 1
            when = day.replace(hour=hour)
            records.append(
                {
                    "id": wp_id,
                    "date": when.strftime("%Y-%m-%dT%H:%M:%S"),
                    "date_gmt": when.strftime("%Y-%m-%dT%H:%M:%S"),
                    "modified_gmt": when.strftime("%Y-%m-%dT%H:%M:%S"),
                    "slug": _slug(title) + (f"-{wp_id}" if "Atelier" not in title else ""),
                    "status": "publish",
                    "type": "session",
                    "link": f"https://colloque.example/session/{_slug(title)}-{wp_id}/",
                    "title": {"rendered": _esc(title)},
                    "content": {"rendered": body, "protected": False},
                    "author": 1,
                }
            )
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    (root / "sessions.json").write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return {
        "posts": len(records),
        "records": [(r["id"], r["title"]["rendered"], r["date"]) for r in records],
    }
