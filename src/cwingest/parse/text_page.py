"""Plain-text copies of rendered pages: a single post, or the entries of a listing.

A saved copy keeps the page around the post: the site's name and tagline, "Skip to
content", archive headings ("Tag Archives: …"), date and byline lines, image captions,
"Continue reading" links, comment forms, sidebars. The reader cuts the copy into lines
and gives each a kind, then reads entries with one grammar::

    entry := meta* title meta* body+ (meta | end)*

* **Titles** come from where pages put them: the line just before a date or byline
  block (or just after one, on pages that print the date above the title), the line
  after an entry's end ("Continue reading", "Read More", a "Posted in … | Leave a
  comment" footer, a profile's separator), the heading an entry repeats, and, for the
  first entry, the line after an archive heading or the last line before the text (the
  site's name and tagline come first). Captions and sentences are never titles. A line
  considered as a title and not chosen stays in the text.
* **Listings** are several entries: their starts are found as above, or, on a page that
  alternates short headings and one-paragraph teasers (cut with "[…]" or "…", or headed
  in title case), at every heading. A page whose headings lead several paragraphs each
  is one post with subheadings.
* **Meta lines** (dates, bylines, "Posted in", "Filed under", "Issue(s):") belong to the
  entry they sit in; archive headings to every entry of the page. Untitled teasers and
  entries without text are skipped and counted, never invented into posts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cwingest.clean.boilerplate import is_chrome, parse_label, split_names
from cwingest.clean.profiles import Profile, active_profiles
from cwingest.enrich.names import person_names
from cwingest.models import Document, ParseError, ParseResult
from cwingest.parse.base import Payload, new_document
from cwingest.util import MONTH_PATTERN

name = "text"
FORMATS = {"text": 2, "text_listing": 1}  # a text copy; a listing entry

# -- dates -----------------------------------------------------------------------------

_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for m in names
}
_WEEKDAY = r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?"
_MDY = re.compile(
    rf"\b{_WEEKDAY}(?P<m>{MONTH_PATTERN})\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>(?:19|20)\d\d)\b",
    re.IGNORECASE,
)
_DMY = re.compile(
    rf"\b{_WEEKDAY}(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\.?\s+(?P<m>{MONTH_PATTERN}),?\s+(?P<y>(?:19|20)\d\d)\b",
    re.IGNORECASE,
)
_ISO = re.compile(r"\b(?P<y>(?:19|20)\d\d)-(?P<m>\d\d)-(?P<d>\d\d)\b")
_SLASH = re.compile(r"\b(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>(?:19|20)\d\d)\b")
_DOTS = re.compile(r"\b(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>(?:19|20)\d\d)\b")
_SPACED = re.compile(r"^(?P<d>\d{1,2})\s+(?P<m>\d{1,2})\s+(?P<y>(?:19|20)\d\d)$")
_MONTH_YEAR = re.compile(rf"^(?P<m>{MONTH_PATTERN})\s+(?P<y>(?:19|20)\d\d)$", re.IGNORECASE)


def _month(value: str) -> int | None:
    return _MONTHS.get(value.lower().rstrip(".")[:9]) or _MONTHS.get(value.lower()[:3])


def _iso(y: str, m: int | None, d: str | int) -> str | None:
    try:
        day, month, year = int(d), int(m or 0), int(y)
    except ValueError:
        return None
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def find_date(text: str) -> tuple[str, tuple[int, int]] | None:
    """The first date written in ``text`` (ISO) and where it is, in the ways pages write
    them: "March 11, 2025", "Dec. 18, 2012", "Monday, June 25th, 2012", "12 Nov 2014",
    "2025-03-11", "11/26/2015" (month first unless the first number is above 12),
    "26.11.2015", "23 04 2010" alone on a line."""
    found = []
    for rx in (_MDY, _DMY):
        m = rx.search(text)
        if m:
            iso = _iso(m.group("y"), _month(m.group("m")), m.group("d"))
            if iso:
                found.append((m.start(), iso, m.span()))
    m = _ISO.search(text)
    if m:
        iso = _iso(m.group("y"), int(m.group("m")), m.group("d"))
        if iso:
            found.append((m.start(), iso, m.span()))
    m = _SLASH.search(text)
    if m:
        a, b = int(m.group("a")), int(m.group("b"))
        month, day = (b, a) if a > 12 else (a, b)
        iso = _iso(m.group("y"), month, day)
        if iso:
            found.append((m.start(), iso, m.span()))
    m = _DOTS.search(text)
    if m:
        iso = _iso(m.group("y"), int(m.group("m")), m.group("d"))
        if iso:
            found.append((m.start(), iso, m.span()))
    m = _SPACED.match(text.strip())
    if m:
        iso = _iso(m.group("y"), int(m.group("m")), m.group("d"))
        if iso:
            found.append((0, iso, (0, len(text))))
    if not found:
        return None
    _, iso, span = min(found)
    return iso, span


# -- the kinds of lines ------------------------------------------------------------------

_WORD = re.compile(r"[^\W\d_][\w’'\-]*")
_URL = re.compile(r"https?://|www\.\w", re.IGNORECASE)
_BULLET = re.compile(r"^(?:[-*•▪◦·]|\d{1,3}[.)]|[a-z][.)])\s+")
_EXCERPT_END = re.compile(r"(?:\[(?:…|\.\.\.|&hellip;)\]|…|\.\.\.)\s*$")
_MORE_GLUED = re.compile(r"\s*\((?:more|read more|continued)\s*(?:…|\.\.\.)?\)\s*$", re.IGNORECASE)
_TERMINATOR = re.compile(
    r"^(?:[…\s]*)(?:continue reading|read more|read post|read the (?:full|rest of the|whole) "
    r"(?:post|article|story)|keep reading|view post|read article|weiterlesen|lire la suite|"
    r"leer más|continua a leggere|lees verder|czytaj dalej)\b[\s»›→…\-–—:]*(?:[“\"'‘].*[”\"'’])?"
    r"[\s»›→…]*$|^\((?:more|read more)\s*(?:…|\.\.\.)?\)$|^\[(?:…|\.\.\.)\]$|"
    r"^leave a comment$|^\d+\s+comments?$|^no comments(?: yet)?$|^comments? off(?: on .*)?$",
    re.IGNORECASE,
)
_COMMENTS = re.compile(
    r"^(?:leave a reply|leave a response|\d+\s+(?:thoughts?|responses?|comments?|replies) "
    r"(?:on|to) .*|comments are closed\.?|join the (?:discussion|conversation)|add a comment|"
    r"post a comment|one (?:thought|response|comment) (?:on|to) .*)$",
    re.IGNORECASE,
)
_WIDGET = re.compile(
    r"^(?:featured posts?|related posts?|related articles?|related stories|recent posts?|"
    r"popular posts?|most popular|trending(?: now)?|you (?:may|might) also like:?|"
    r"more (?:from|stories|posts)(?: .{1,40})?|other articles of interest:?|browse by date|"
    r"recent comments|latest posts?|read next|further reading|from the blog)$",
    re.IGNORECASE,
)
_HEADING = re.compile(
    r"^(?:(?P<kind>tag|category|daily|monthly|yearly|author|date)\s+archives?\s*:?\s*(?P<v1>.+)|"
    r"archives?\s+(?:for|of)\s+(?P<v2>.+)|"
    r"posts?\s+tagged\s+[‘'\"“]?(?P<tag>.+?)[’'\"”]?|"
    r"posts?\s+(?:filed\s+)?(?:under|in)\s+(?:category\s+)?[‘'\"“](?P<cat>.+?)[’'\"”]|"
    r"(?:search\s+)?results\s+(?:for|of)\s*:?\s*(?P<search>.+)|"
    r"(?P<kind2>tag|category|author|archives?)\s*:\s*(?P<v3>.{1,80})|"
    r"tag(?P<glued>[a-z].{1,60}))$",
    re.IGNORECASE,
)
_POSTED_IN = re.compile(
    r"^(?:posted|filed|published)\s+(?:in|under)\s*:?\s+(?P<cats>[^|]+?)\s*(?:\|\s*(?P<rest>.*))?$",
    re.IGNORECASE,
)
_FILED = re.compile(
    r"^filed\s+under:?\s+(?P<cats>[^—–]+?)(?:\s+[—–-]\s+(?P<who>[^@]+?)\s*(?:@\s*.*)?)?$",
    re.IGNORECASE,
)
_BYLINE = re.compile(
    r"^(?:[~—–-]\s*)?(?:(?:posted|written|words|story|text)\s+)?by\s*:?\s*"
    r"(?P<who>[^|]*?)\s*(?:(?:\bon\b|\||,|[—–-]|@)\s*(?P<rest>.*))?$",
    re.IGNORECASE,
)
_POSTED = re.compile(r"^(?:posted|published|updated|date)\s*(?:on)?\s*:?\s*(?P<rest>.+)$", re.I)
# A label no profile reads ("Organization(s): X", "Resource Type: Report") and a resource's
# type line ("Report, CompetencyWorks"): page furniture, never a title or text.
_OTHER_LABEL = re.compile(
    r"^(?:[A-Z][A-Za-z]{2,20}(?: [A-Za-z]{2,20})?\(s\)\s*:.{0,200}|"
    r"(?:Resource|Content|Publication|Post) (?:Type|Format)s?\s*:.{0,80}|"
    r"(?:Report|Brief|Issue Brief|Policy Brief|Webinar|Podcast|Press Release|Case Study|"
    r"Toolkit|White Paper|Fact Sheet|Presentation)s?,\s+[^,.!?]{2,60})$"
)
_DATE_BY = re.compile(
    r"^\s*(?:[,|·•–—-]\s*)?(?:by|von|par|por|door|di|przez)\s*:?\s+(?P<who>[^|]{2,80}?)\s*$",
    re.IGNORECASE,
)
_POSTED_ON = re.compile(r"(?:posted|published|written|updated)(?:\s+on)?", re.IGNORECASE)
_DATELINE = re.compile(
    r"^[A-ZÀ-Ý][A-ZÀ-Ý.,' -]{1,60}\s*[(—–-]\s*(?P<date>[^()]{6,40}?)\s*\)?\s*[—–-]\s+\S"
)
_INLINE_BYLINE = re.compile(
    r"^(?P<title>.{3,200}?)\s+~\s+written by\s+(?P<rest>.+)$", re.IGNORECASE
)
_TRAILING_POSTED = re.compile(
    r"^(?P<title>.{3,200}?)\s+(?P<meta>(?:posted|published)\s+(?:by\s+.{0,60}?\s*)?on\s+.+)$",
    re.IGNORECASE,
)
_READ_MORE_GLUED = re.compile(r"^(?P<link>read more\s*[»›→]+)\s*(?P<rest>\S.+)$", re.IGNORECASE)
_LINK_GLUED = re.compile(
    r"(?<=[.!?…\"”)])\s+(?:Learn More|Read More|Read more|Continue Reading|Continue reading|"
    r"Keep Reading|Read the (?:full|rest of the) (?:post|article|story))\s*[»›→…]*\s*$"
)
_CONTINUE_GLUED = re.compile(r"\s*…?\s*continue reading\s+(?P<title>.{1,200})$", re.IGNORECASE)
_CAPTION = re.compile(
    r"\.(?:jpe?g|png|gif|webp|tiff?)\b|^(?:photo|image|picture|pic|foto|bild|credit|"
    r"source|courtesy|caption)\s*(?:by|:|credit)|©|\(c\)\s|\bscreen ?shot\b|\bbanner reads\b|"
    rf"^image (?:of|from)\b|\(\s*(?:{MONTH_PATTERN})\.?\s+\d{{1,2}},?\s+\d{{4}}\s*\)|\s#\d+\b",
    re.IGNORECASE,
)
_SENTENCE_START = frozenset(
    "A An And Are As At But By Do Does Each Every For From Have He Her Here His How I I'm "
    "I’m I've I’ve I'd I’d If In Is It It's It’s Last Let Many More Most My New No Not Now Of "
    "On One Our She So Some Students Teachers That The Their There These They This Those To "
    "Today Two We We're We’re What When Where Which While Who Why With You Your".split()
)


@dataclass
class Meta:
    """What a meta line says."""

    date: str | None = None
    authors: list[str] = field(default_factory=list)
    terms: dict[str, list[str]] = field(default_factory=dict)
    ends_entry: bool = False  # a footer ("| Leave a comment", "Comments Off")
    month: str | None = None  # a date line without a day ("November 2019"): no date is made up


@dataclass
class Line:
    """One non-empty line of the copy and what it is."""

    text: str
    kind: str = "body"  # chrome heading meta end comments widget caption title body
    meta: Meta | None = None
    weak: bool = False  # a title-like line that reads as a sentence (ends with ".")


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def title_case(text: str) -> float:
    """Share of a line's words of four letters or more that start with a capital."""
    long_words = [w for w in _words(text) if len(w) >= 4]
    if not long_words:
        return 1.0 if text[:1].isupper() else 0.0
    return sum(w[0].isupper() for w in long_words) / len(long_words)


def _candidate(text: str) -> tuple[bool, bool]:
    """(title-like, weak): short, no URL, not a list item; weak when it ends like a
    sentence."""
    words = _words(text)
    if not words or len(text) > 200 or len(words) > 16 or _URL.search(text) or _BULLET.match(text):
        return False, False
    if text.endswith((",", ";")):
        return False, False
    breaks = re.search(r"[.!?]\s+[A-Z“\"]", text)
    if breaks and (len(words) >= 14 or words[0] in _SENTENCE_START):
        return False, False  # two sentences: the start of a text, not a heading
    sentence = text.endswith(".") and not text.endswith(("..", "…")) and len(words) > 1
    return True, sentence


def _names(value: str) -> list[str]:
    return person_names(split_names(value.strip(" .,")))


def _meta_of(text: str, plist: list[Profile]) -> Meta | None:
    """The meta a line states (a date line, a byline, a footer, a label), or None."""
    m = _FILED.match(text)
    if m:
        meta = Meta(terms={"category": [c for c in split_names(m.group("cats"), terms=True) if c]})
        if m.group("who"):
            meta.authors = person_names([m.group("who")])
        return meta
    label = parse_label(text, plist)
    if label:
        target, values = label
        meta = Meta()
        if target == "authors":
            date = find_date(text)
            meta.date = date[0] if date else None
            meta.authors = person_names(values)
            if not meta.authors and values and not meta.date:
                return None
        else:
            meta.terms[target] = values
        return meta
    m = _POSTED_IN.match(text)
    if m:
        meta = Meta()
        cats = [c for c in split_names(m.group("cats"), terms=True) if c]
        if cats:
            meta.terms["category"] = cats
        rest = m.group("rest") or ""
        for part in rest.split("|"):
            part = part.strip()
            t = re.match(r"^tagged\s*:?\s*(.*)$", part, re.IGNORECASE)
            if t:
                tags = [x for x in split_names(t.group(1), terms=True) if x]
                if tags:
                    meta.terms["post_tag"] = tags
            elif _TERMINATOR.match(part) or re.match(
                r"(?i)^(?:leave a comment|comments? off)", part
            ):
                meta.ends_entry = True
        if rest:
            meta.ends_entry = True
        return meta
    if len(text) > 160:
        return None
    m = _BYLINE.match(text)
    if m:
        meta = Meta()
        who, rest = m.group("who") or "", m.group("rest") or ""
        date = find_date(who) or find_date(rest)
        if date:
            meta.date = date[0]
            who = who[: date[1][0]] if find_date(who) else who
        names = _names(re.split(r"\s+(?:from|of|in)\s+[A-Z]", who)[0]) if who.strip() else []
        meta.authors = names
        parts = [p.strip() for p in rest.split("|") if p.strip() and not find_date(p)]
        if parts and "|" in text:
            meta.terms["category"] = [c for c in split_names(parts[-1], terms=True) if c]
        if meta.authors or meta.date or not who.strip():
            return meta
        return None
    m = _POSTED.match(text)
    if m:
        rest = m.group("rest")
        date = find_date(rest)
        if date and not rest[: date[1][0]].strip(" ,|·•–—-:"):
            after = _DATE_BY.match(rest[date[1][1] :])  # "Posted on June 5, 2021 by Name"
            if after and _names(after.group("who")):
                return Meta(date=date[0], authors=_names(after.group("who")))
        if date and len(_words(rest.replace(rest[date[1][0] : date[1][1]], ""))) <= 3:
            return Meta(date=date[0])
    date = find_date(text)
    if date:
        leftover = (text[: date[1][0]] + text[date[1][1] :]).strip(" ,.|-–—·•:")
        if len(_words(leftover)) <= 1:  # "March 11, 2025", "Monday, 12 Nov 2014", "23 04 2010"
            return Meta(date=date[0])
        after = _DATE_BY.match(text[date[1][1] :])
        before = text[: date[1][0]].strip(" ,|·•–—-")
        if after and (not before or _POSTED_ON.fullmatch(before)):  # "April 9, 2018 by Name"
            names = _names(after.group("who"))
            if names:
                return Meta(date=date[0], authors=names)
    return None


def _heading_of(text: str) -> Meta | None:
    """An archive heading's meta ("Tag Archives: X" gives every entry tag X)."""
    if _MONTH_YEAR.match(text):  # "April 2015": a monthly archive's heading
        return Meta()
    m = _HEADING.match(text)
    if not m:
        return None
    meta = Meta()
    kind = (m.group("kind") or m.group("kind2") or "").lower()
    value = (m.group("v1") or m.group("v2") or m.group("v3") or "").strip(" ‘’'\"“”")
    if m.group("tag") or kind == "tag":
        meta.terms["post_tag"] = [(m.group("tag") or value).strip()]
    elif m.group("glued"):
        meta.terms["post_tag"] = [m.group("glued").strip()]
    elif m.group("cat") or kind == "category":
        meta.terms["category"] = [(m.group("cat") or value).strip()]
    elif kind == "author":
        meta.authors = person_names([value])
    elif m.group("search"):
        pass
    else:  # daily, monthly, "Archives for April 23, 2017"
        date = find_date(value)
        if date:
            meta.date = date[0]
    return meta


def _split_glued(text: str) -> list[str]:
    """Undo what copying glued together: "Read More »Next teaser", "Title posted by on
    DATE", "12 Nov 2014 When I began…", "Title ~ Written by Name of Blog Text…"."""
    m = _READ_MORE_GLUED.match(text)
    if m:
        return [m.group("link"), m.group("rest")]
    m = _INLINE_BYLINE.match(text)
    if m:
        rest = m.group("rest")
        name_end = _name_end(rest)
        return [
            m.group("title"),
            "~ Written by " + rest[:name_end].strip(),
            rest[name_end:].strip(),
        ]
    m = _TRAILING_POSTED.match(text)
    if m and _meta_of(m.group("meta"), []) is not None and len(_words(m.group("title"))) <= 20:
        return [m.group("title"), m.group("meta")]
    date = find_date(text[:40])
    if date and date[1][0] == 0 and len(text) > 60:
        head = text[: date[1][1]]
        if _meta_of(head, []) is not None:
            return [head, text[date[1][1] :].strip()]
    return [text]


def _capital_run(words: list[str]) -> int:
    """How many leading words are capitalised (names, initials, particles)."""
    n = 0
    for w in words:
        if w[:1].isupper() or re.fullmatch(r"(?:de|da|van|von|der|le|la|du|al|[A-Z]\.)", w):
            n += 1
        else:
            break
    return n


def _name_end(text: str) -> int:
    """Where a byline's name (and a "from/of Blog" after it) ends in "Name from Blog Body…":
    the capitalised words run into the text's first sentence, whose first word is the
    run's last ("Lusi Austin I love…", "of Small World Ask a homeschooled kid…")."""
    words = text.split()
    run = _capital_run(words)
    if run < len(words) and words[run].lower() in ("from", "of"):
        blog = _capital_run(words[run + 1 :])
        cut = run + 1 + max(blog - 1, 0) if blog < len(words) - run - 1 else len(words)
    else:
        cut = max(run - 1, 1) if run < len(words) else run
    return len(" ".join(words[:cut]))


def split_glued_caption(line: str, strict: bool = False) -> str:
    """Remove an image caption glued to the first sentence ("Student VoicesThis post …",
    "usflagIt’s that time…", "Screenshot 2016-08-15 10.49.52We need…"). ``strict`` asks
    for a word that starts sentences (or digits in the caption) at the seam, for lines
    that are not known to open a text."""
    for m in re.finditer(r"(?<=[a-z0-9.])(?=[A-Z])", line[:80]):
        prefix, rest = line[: m.start()], line[m.start() :]
        first = re.match(r"[A-Z][\w’']*", rest)
        if not first or len(prefix) < 3 or re.search(r"[,;:!?]", prefix):
            continue
        multiword = " " in prefix.strip() or any(ch.isdigit() for ch in prefix)
        if first.group(0) in _SENTENCE_START and (not strict or len(_words(rest)) >= 6):
            return rest
        digits = any(ch.isdigit() for ch in prefix)
        if (not strict and multiword and len(first.group(0)) > 1) or (strict and digits):
            return rest
    return line


def classify(lines: list[str], plist: list[Profile]) -> list[Line]:
    """Give each line its kind (entry ends, comments, sidebars, headings and meta lines are
    recognised before the profiles' chrome, which would drop them unread)."""
    out: list[Line] = []
    for text in lines:
        if _COMMENTS.match(text):
            out.append(Line(text, "comments"))
            continue
        if _WIDGET.match(text):
            out.append(Line(text, "widget"))
            continue
        if _TERMINATOR.match(text):
            out.append(Line(text, "end"))
            continue
        if text.casefold() in _separators(plist):
            out.append(Line(text, "separator"))  # closes an entry, cuts nothing
            continue
        heading = _heading_of(text)
        if heading is not None:
            out.append(Line(text, "heading", heading))
            continue
        meta = _meta_of(text, plist)
        if meta is not None:
            out.append(Line(text, "meta", meta))
            continue
        if is_chrome(text, plist) or _OTHER_LABEL.match(text):
            out.append(Line(text, "chrome"))
            continue
        if _CAPTION.search(text) and len(_words(text)) <= 20:
            out.append(Line(text, "caption"))
            continue
        if _URL.search(text) and len(_words(text)) <= 30:
            out.append(Line(text, "caption"))  # a tagline of links, not a title or text
            continue
        title_like, weak = _candidate(text)
        if title_like:
            rest = split_glued_caption(text, strict=True)
            if rest != text:  # "Student VoicesThis post originally appeared…": a caption
                title_like, weak = False, False  # glued to a sentence is text, never a title
        out.append(Line(text, "title" if title_like else "body", weak=weak))
    return out


def _separators(plist: list[Profile]) -> set[str]:
    return {s.casefold() for p in plist for s in p.listing_separators}


# -- reading entries -------------------------------------------------------------------------


@dataclass
class Entry:
    """One entry read from the copy."""

    title: str | None
    metas: list[Meta] = field(default_factory=list)
    body: list[str] = field(default_factory=list)
    ended: bool = False  # closed by "Continue reading" & co: a teaser


def _next(lines: list[Line], i: int, skip: tuple[str, ...] = ("chrome",)) -> int:
    while i < len(lines) and lines[i].kind in skip:
        i += 1
    return i


def _excerpt_ended(text: str) -> bool:
    return bool(_EXCERPT_END.search(text))


def _listing_by_alternation(lines: list[Line]) -> bool:
    """True when the page alternates short headings and short bodies like a listing: at
    least two runs, most with one or two paragraphs, teasers cut or headings in title
    case (a post with subheadings has sections of several paragraphs)."""
    runs: list[tuple[list[Line], list[Line]]] = []
    i = 0
    while i < len(lines):
        if lines[i].kind == "title":
            heads = []
            while i < len(lines) and lines[i].kind in ("title", "caption", "chrome"):
                if lines[i].kind == "title":
                    heads.append(lines[i])
                i += 1
            bodies = []
            while i < len(lines) and lines[i].kind in ("body", "chrome", "caption"):
                if lines[i].kind == "body":
                    bodies.append(lines[i])
                i += 1
            if bodies:
                runs.append((heads, bodies))
        else:
            i += 1
    if len(runs) < 2:
        return False
    # A text that opens with paragraphs of its own (a letter, a press release) is one
    # document with section headings, not a listing.
    first_title = next((i for i, ln in enumerate(lines) if ln.kind == "title"), len(lines))
    opening = [ln for ln in lines[:first_title] if ln.kind == "body"]
    if len(opening) >= 2 or sum(len(_words(ln.text)) for ln in opening) >= 80:
        return False
    short = sum(1 for _, b in runs if len(b) <= 2)
    cut = sum(1 for _, b in runs if _excerpt_ended(b[-1].text))
    capital = sum(1 for h, _ in runs if title_case(h[-1].text) >= 0.5)
    return short >= 0.6 * len(runs) and (cut >= 0.5 * len(runs) or capital >= 0.6 * len(runs))


def read_entries(lines: list[Line]) -> tuple[list[Entry], Meta, dict[str, int]]:
    """Entries of the page, the page's own meta (archive headings), and what was skipped."""
    page = Meta()
    skipped: dict[str, int] = {}

    def skip(reason: str) -> None:
        skipped[reason] = skipped.get(reason, 0) + 1

    # Stop at a sidebar of other posts once an entry began; drop comment sections.
    kept: list[Line] = []
    in_comments = False
    seen_title = False
    for ln in lines:
        if ln.kind == "widget" and seen_title:
            break
        if ln.kind == "comments":
            in_comments = True
            continue
        if in_comments:
            continue  # a comment's text is not the post's
        if ln.kind == "title":
            seen_title = True
        kept.append(ln)
    lines = kept

    # The copy's last line, cut off after a heading, is the start of that entry's text.
    if (
        len(lines) >= 2
        and lines[-1].kind == "title"
        and lines[-2].kind == "title"
        and not re.search(r"[.!?…:)\]]$", lines[-1].text)
    ):
        lines[-1].kind = "body"
    # Sentences in a row are paragraphs, not headings.
    for i in range(len(lines) - 1):
        if lines[i].kind == "title" and lines[i].weak:
            j = _next(lines, i + 1)
            if j < len(lines) and lines[j].kind == "title" and lines[j].weak:
                lines[i].kind = lines[j].kind = "body"
    # A sentence after a heading starts its text ("A review of …." under "Book Review").
    for i in range(1, len(lines)):
        after = _next(lines, i + 1)
        if (
            lines[i].kind == "title"
            and lines[i].weak
            and lines[i - 1].kind == "title"
            and not lines[i - 1].weak
            and (after == len(lines) or lines[after].kind in ("body", "end", "separator"))
        ):
            lines[i].kind = "body"
    # "November 2019" under a title is that entry's date line (a day is not made up);
    # elsewhere it heads a monthly archive.
    for i, ln in enumerate(lines):
        m = _MONTH_YEAR.match(ln.text)
        if ln.kind == "heading" and m and 0 < i < len(lines) - 1:
            j = _next(lines, i + 1)
            if lines[i - 1].kind == "title" and j < len(lines) and lines[j].kind == "body":
                ln.kind, ln.meta = (
                    "meta",
                    Meta(month=m.group("y") + "-" + str(_month(m.group("m"))).zfill(2)),
                )
    # Meta above or below titles: how this page lays entries out.
    above = below = 0
    for i, ln in enumerate(lines):
        if ln.kind == "meta" and (ln.meta and (ln.meta.date or ln.meta.authors or ln.meta.month)):
            j = i - 1
            while j >= 0 and lines[j].kind in ("chrome", "meta"):
                j -= 1
            k = _next(lines, i + 1, ("chrome", "meta"))
            if j >= 0 and lines[j].kind == "title":
                below += 1
            elif k < len(lines) and lines[k].kind == "title":
                above += 1
    meta_above = above > below
    alternating = _listing_by_alternation(lines)

    starts: dict[int, list[int]] = {}  # title index -> meta indexes attached before it
    # 1. titles next to their meta blocks ("the line just before the byline or date": a
    #    sentence-like line too, when a date follows it; the line after it on pages that
    #    print the date first; the line between two meta lines on pages that do both)
    for i, ln in enumerate(lines):
        if ln.kind != "meta" or not ln.meta:
            continue
        if not (ln.meta.date or ln.meta.authors or ln.meta.terms or ln.meta.month):
            continue
        j = i - 1
        while j >= 0 and lines[j].kind in ("chrome", "meta"):
            j -= 1
        k = _next(lines, i + 1, ("chrome", "meta"))
        before_is_title = (
            j >= 0
            and (
                lines[j].kind == "title"
                or (
                    lines[j].kind == "body"
                    and len(_words(lines[j].text)) <= 40
                    and bool(ln.meta.date or ln.meta.month)
                )
            )
            and (j == 0 or lines[j - 1].kind != "body" or lines[j].kind == "title")
        )
        after_is_title = k < len(lines) and lines[k].kind == "title"
        after_has_body = after_is_title and _has_body_after(lines, k)
        sandwich = (
            after_is_title
            and _next(lines, k + 1) < len(lines)
            and lines[_next(lines, k + 1)].kind == "meta"
        )
        if after_is_title and after_has_body and (meta_above or not before_is_title or sandwich):
            starts.setdefault(k, []).append(i)
        elif before_is_title and not (ln.meta.ends_entry and not ln.meta.date):
            if lines[j].kind == "body":
                lines[j].kind = "title"
            starts.setdefault(j, [])
    # 2. the line after an entry's end
    for i, ln in enumerate(lines):
        if ln.kind in ("end", "separator") or (
            ln.kind == "meta" and ln.meta and ln.meta.ends_entry
        ):
            k = _next(lines, i + 1, ("chrome", "caption", "end", "separator"))
            run_end = k
            while run_end < len(lines) and lines[run_end].kind in ("title", "caption", "chrome"):
                run_end += 1
            if (
                k < len(lines)
                and lines[k].kind == "title"
                and run_end < len(lines)
                and lines[run_end].kind in ("body", "meta")
                and not any(s in starts for s in range(k, run_end))
            ):
                heads = [x for x in range(k, run_end) if lines[x].kind == "title"]
                # a person's name by the title is the photo's caption, not the title
                named = [x for x in heads if not _name_like(lines[x].text)] or heads
                pick = named[-1]
                starts.setdefault(pick, [])
                _captions_before(lines, k, pick)
                for x in heads:
                    if x > pick and _name_like(lines[x].text):
                        lines[x].kind = "caption"
    # 3. a heading repeated as it starts ("Title", "Title" or "Title ~ Written by …")
    for i in range(len(lines) - 1):
        if lines[i].kind == "title" and lines[i + 1].text == lines[i].text:
            lines[i + 1].kind = "chrome"
            if not any(abs(s - i) <= 1 for s in starts):
                starts.setdefault(i, [])
    # 4. a listing page that alternates headings and teasers (when its entries are not
    #    already marked by dates, bylines or ends: their subheadings are not entries)
    if alternating and len(starts) < 2:
        i = 0
        while i < len(lines):
            if lines[i].kind == "title":
                run = i
                while run < len(lines) and lines[run].kind in ("title", "caption", "chrome"):
                    run += 1
                if run < len(lines) and lines[run].kind in ("body", "meta"):
                    last = max(x for x in range(i, run) if lines[x].kind == "title")
                    if not any(s in starts for s in range(i, run + 1)):
                        starts.setdefault(last, [])
                        _captions_before(lines, i, last)
                i = run
            else:
                i += 1
    # 5. the first entry: an archive heading, then its title; else the last heading line
    #    before the text (the site's name and tagline come first)
    first_body = next((i for i, ln in enumerate(lines) if ln.kind == "body"), None)
    if first_body is not None and not any(s < first_body for s in starts):
        heads = [i for i in range(first_body) if lines[i].kind == "heading"]
        pool = [
            i for i in range(heads[-1] + 1 if heads else 0, first_body) if lines[i].kind == "title"
        ]
        strong = [i for i in pool if not lines[i].weak]
        if pool:
            pick = (strong or pool)[0] if heads else (strong or pool)[-1]
            starts.setdefault(pick, [])
    # 6. the page's own title, when the copy kept it ("Title | Site" on top): the heading
    #    that repeats it is the title, not a subtitle or a caption next to it
    repeated = _page_title_line(lines)
    if repeated is not None:
        page_line, k = repeated
        lines[page_line].kind = "chrome"
        later = [s_ for s_ in sorted(starts) if s_ > k]
        between = later and all(
            lines[x].kind in ("title", "chrome", "caption") for x in range(k + 1, later[0])
        )
        if later and between:
            starts[k] = starts.pop(later[0])
        elif not any(s_ <= k for s_ in starts) or k in starts:
            starts.setdefault(k, [])
        starts.pop(page_line, None)
    for ln in lines:
        if ln.kind == "heading" and ln.meta:
            _merge(page, ln.meta)

    # A person's name between an entry's date or byline and its text is a photo caption
    # ("Title", "August 11, 2016 by", "John Duval", "This is the ninth post…").
    for t in starts:
        x = _next(lines, t + 1, ("chrome", "caption"))
        if x < len(lines) and lines[x].kind == "meta":
            x = _next(lines, x + 1, ("chrome", "caption", "meta"))
            while x < len(lines) and lines[x].kind == "title" and _name_like(lines[x].text):
                if not _has_body_after(lines, x):
                    break
                lines[x].kind = "caption"
                x += 1

    # Build the entries.
    order = sorted(starts)
    entries: list[Entry] = []
    for n, t in enumerate(order):
        end = order[n + 1] if n + 1 < len(order) else len(lines)
        # metas printed above the next title belong to it, not to this entry
        if n + 1 < len(order):
            end = min([end, *starts[order[n + 1]]]) if starts[order[n + 1]] else end
        entry = Entry(lines[t].text)
        for i in starts[t]:
            meta_i = lines[i].meta
            if meta_i:
                entry.metas.append(meta_i)
        for x in range(t + 1, end):
            ln = lines[x]
            if ln.kind == "meta" and ln.meta:
                entry.metas.append(ln.meta)
                if ln.meta.ends_entry:
                    entry.ended = True
            elif ln.kind == "end":
                entry.ended = True
                break
            elif ln.kind == "separator":
                break
            elif ln.kind in ("body", "title") and not entry.ended:
                entry.body.append(ln.text)
        entries.append(entry)
    untitled = [
        i for i, ln in enumerate(lines) if ln.kind == "body" and (not order or i < order[0])
    ]
    if untitled and order:
        skip("teaser without a title")
    return entries, page, skipped


_TITLE_SEP = re.compile(r"\s+(?:[|–—:«»·•]|-|::)\s+")


def _page_title_line(lines: list[Line]) -> tuple[int, int] | None:
    """(index of a kept page title "Post Title | Site Name" among the first lines, index
    of the heading that repeats its first part), or None."""
    for i, ln in enumerate(lines[:4]):
        parts = _TITLE_SEP.split(ln.text)
        if len(parts) < 2:
            continue
        for k in range(i + 1, min(len(lines), i + 40)):
            if lines[k].kind == "title" and lines[k].text in parts[:-1]:
                return i, k
            if lines[k].kind == "title" and lines[k].text == " ".join(parts[:-1]):
                return i, k
    return None


def _name_like(text: str) -> bool:
    """A person's name alone ("Matt Riggan", "Dr. Kristen Brittingham"): two to four
    capitalised words, nothing else."""
    words = text.replace(".", ". ").split()
    if not 2 <= len(words) <= 5 or len(text) > 50:
        return False
    if any(w in _SENTENCE_START for w in words) or re.search(r"[\d:;!?,()\[\]“”\"]", text):
        return False
    return all(w[:1].isupper() for w in words) and bool(person_names([text]))


def _captions_before(lines: list[Line], first: int, title: int) -> None:
    """Heading-like lines right before a listing entry's title are its image's alt text
    or caption (a sentence there still closes the entry before)."""
    for x in range(first, title):
        if (
            lines[x].kind == "title"
            and not lines[x].weak
            and not re.search(r"[.!?…]$", lines[x].text)
        ):
            lines[x].kind = "caption"


def _has_body_after(lines: list[Line], k: int) -> bool:
    i = k + 1
    while i < len(lines) and lines[i].kind in ("chrome", "meta", "caption", "title"):
        if lines[i].kind == "title" and i > k + 2:
            return False
        i += 1
    return i < len(lines) and lines[i].kind == "body"


def _merge(into: Meta, meta: Meta) -> None:
    into.date = into.date or meta.date
    for a in meta.authors:
        if a not in into.authors:
            into.authors.append(a)
    for tax, values in meta.terms.items():
        bucket = into.terms.setdefault(tax, [])
        bucket.extend(v for v in values if v not in bucket)


def _photo_captions(body: list[str]) -> set[int]:
    """Captions of a photo post: three or more short unpunctuated lines between paragraphs,
    mostly not in title case (a post's subheadings are few, or capitalised)."""
    short = [
        i
        for i, t in enumerate(body)
        if 0 < i < len(body) - 1
        and len(_words(t)) <= 12
        and not re.search(r"[.!?:;,…]$", t)
        and not _BULLET.match(t)
        and (len(body[i - 1]) > 80 or re.search(r"[.!?…\"”]$", body[i - 1]) is not None)
    ]
    if len(short) >= 3 and sum(title_case(body[i]) < 0.5 for i in short) >= 0.6 * len(short):
        return set(short)
    return set()


# -- the reader ------------------------------------------------------------------------------


def sniff(payload: Payload) -> int:
    """Any text that decodes is a candidate, at the lowest confidence."""
    if not payload.looks_textual():
        return 0
    start = payload.head_text().lstrip("\ufeff \t\r\n")[:200]
    if start.startswith(("WARC/", "<?xml", "<rss", "<feed", "<urlset", "<sitemapindex")):
        return 0  # structured formats with readers of their own (or none yet): not prose
    return 10


def _profiles_for(text: str) -> tuple[list[Profile], Profile | None]:
    profiles = active_profiles()
    site_profile = profiles.for_text(text)
    plist = [profiles.generic] + ([site_profile] if site_profile else [])
    return plist, site_profile


_PROTECTED = re.compile(
    r"^(?:This (?:content|post) is password protected|Dieser Inhalt ist passwortgeschützt|"
    r"Ce contenu est protégé par un mot de passe|Este contenido está protegido por contraseña)",
    re.IGNORECASE | re.MULTILINE,
)
_ESCAPED_MARKUP = re.compile(r"<\\?/p>|<p>|&lt;/?p&gt;|<br\s*/?>|<\\/", re.IGNORECASE)


_JSON_TAIL = re.compile(r'(?<!\\)"\s*[,}]\s*(?:"[a-z_]+"\s*:|$)')


def parse(payload: Payload) -> ParseResult:
    """Parse a text copy into one document per titled entry (one for a single post)."""
    text = payload.text().replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ParseError("empty text")
    plist, site_profile = _profiles_for(text)
    site = site_profile.domains[0] if site_profile and site_profile.domains else None
    result = ParseResult(source_format=name, sink=payload.sink)
    if len(_ESCAPED_MARKUP.findall(text[:20000])) >= 2:
        # Escaped markup left by a cut JSON record: it is markup, cleaning removes it.
        doc = _new_doc(payload, result, name, site)
        tail = _JSON_TAIL.search(text)  # '","protected":false}' after the cut field
        text = text[: tail.start()] if tail else text
        doc.body_html = text.replace("<\\/", "</").replace("\\n", "\n").replace('\\"', '"')
        result.add(doc)
        return result
    raw_lines: list[str] = []
    for ln in text.split("\n"):
        ln = ln.strip()
        if not ln:
            continue
        parts = [p for p in _split_glued(ln) if p]
        # "Title" then "Title ~ Written by …": the heading the entry repeats is said once
        if len(parts) > 1 and raw_lines and raw_lines[-1].startswith(parts[0]):
            parts = parts[1:]
        raw_lines.extend(parts)
    lines = classify(raw_lines, plist)
    protected = bool(_PROTECTED.search(text))
    entries, page, skipped = read_entries(lines)
    for reason, n in skipped.items():
        result.skip(reason, n)
    many = len(entries) > 1
    for entry in entries:
        body = [split_glued_caption(b) if k == 0 else b for k, b in enumerate(entry.body)]
        captions = _photo_captions(body)
        body = [b for k, b in enumerate(body) if k not in captions]
        if body and _MORE_GLUED.search(body[-1]):  # "… to learn and apply algebra. (more…)"
            body[-1] = _MORE_GLUED.sub("", body[-1])
            entry.ended = True
        if body and entry.title:
            body[-1], cut = _strip_continue(body[-1], entry.title)
            entry.ended = entry.ended or cut
        if body and _LINK_GLUED.search(body[-1]):  # "… changed for them. Learn More"
            body[-1] = _LINK_GLUED.sub("", body[-1])
            entry.ended = True
        if not body and not protected:
            result.skip("entry without text")
            continue
        doc = _new_doc(payload, result, "text_listing" if many else name, site)
        doc.title_raw = entry.title
        meta = Meta()
        for m in entry.metas:
            _merge(meta, m)
        _merge(meta, page) if not meta.date or not meta.authors else None
        if not meta.date and page.date:
            meta.date = page.date
        dateline = _DATELINE.match(body[0]) if body and not meta.date else None
        if dateline:  # "WASHINGTON, D.C. (Dec. 18, 2012) - …": a press release's date
            found = find_date(dateline.group("date"))
            meta.date = found[0] if found else None
        for tax, values in page.terms.items():
            if tax not in meta.terms:
                meta.terms[tax] = list(values)
        doc.published_raw = meta.date
        doc.authors = meta.authors or list(page.authors)
        for tax, values in meta.terms.items():
            doc.terms[tax] = values
        doc.body_text = "\n\n".join(body)
        if protected:
            doc.is_protected = True
            doc.body_text = ""
        doc.is_excerpt_only = entry.ended or (many and bool(body) and _excerpt_ended(body[-1]))
        result.add(doc)
    if not result.emitted:
        if not entries and not any(ln.kind == "body" for ln in lines):
            raise ParseError("text holds no content")
        metas = sum(
            1 for ln in lines if ln.kind == "meta" and ln.meta and (ln.meta.date or ln.meta.authors)
        )
        if not entries and metas >= 2:  # dated teasers with no titles: not a set of posts
            result.skip("teaser without a title", metas)
            return result
        if not entries:  # text with no title at all (an e-mail, a press release): one post
            doc = _new_doc(payload, result, name, site)
            doc.body_text = "\n\n".join(ln.text for ln in lines if ln.kind in ("body", "title"))
            result.skipped.clear()
            result.add(doc)
    return result


def _strip_continue(text: str, title: str) -> tuple[str, bool]:
    """Remove "… Continue reading <title>" glued to a teaser's end."""
    m = _CONTINUE_GLUED.search(text)
    if m and (m.group("title").strip(" “”\"'") == title or len(m.group("title")) < 120):
        return text[: m.start()].rstrip(" …") + " …", True
    return text, False


def _new_doc(payload: Payload, result: ParseResult, fmt: str, site: str | None) -> Document:
    return new_document(
        payload,
        result,
        fmt,
        site=site,
    )
