"""Plain-text copies of rendered pages: one post, or a listing page of several.

A saved copy keeps the page around the post: "Skip to content", the site name, the title,
"Author(s): …" lines, the body, share lines. This reader finds the title and date in the
header and hands the rest to the clean stage. A listing (archive) page, recognised by
repeated date lines or entry separators such as "Print Friendly", becomes one document
per entry, each with its own title and date.
"""

from __future__ import annotations

import itertools
import re

from cwingest.clean.boilerplate import is_chrome, parse_label, split_names
from cwingest.clean.profiles import Profile, load_profiles
from cwingest.models import Document, ParseError, ParseResult
from cwingest.parse.base import Payload
from cwingest.util import MONTH_PATTERN

name = "text"

DATE_LINE = re.compile(
    r"^(?:(?:posted|published)(?: on)?:?\s+)?"
    rf"(?P<date>{MONTH_PATTERN}\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+{MONTH_PATTERN}\s+\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}})"
    r"(?:\s*(?:by|By|BY)\b\s*(?P<by>[^\n]{0,120}?))?\s*$",
    re.IGNORECASE,
)
_PROTECTED = re.compile(
    r"^(?:This (?:content|post) is password protected|Dieser Inhalt ist passwortgeschützt|"
    r"Ce contenu est protégé par un mot de passe|Este contenido está protegido por contraseña)",
    re.IGNORECASE | re.MULTILINE,
)
_BY_LINE = re.compile(r"^(?:by|By|BY)\s+(?P<by>[A-Z][^\n.!?]{1,100})$")
_NAME_LINE = re.compile(r"^(?:[A-Z][\w’'.-]*)(?:\s+[A-Z][\w’'.-]*){0,3}$")
_SENTENCE_START = frozenset(
    "A An And Are As At But By Do Does Each Every For From Have He Her Here His How I I'm "
    "I’m I've I’ve If In Is It It's It’s Last Let Many More Most My New No Not Now Of On "
    "One Our She So Some Students Teachers That The Their There These They This Those To "
    "Today Two We We're We’re What When Where Which While Who Why With You Your".split()
)


def sniff(payload: Payload) -> int:
    """Any text that decodes is a candidate, at the lowest confidence."""
    if not payload.looks_textual():
        return 0
    start = payload.head_text().lstrip("\ufeff \t\r\n")[:200]
    if start.startswith(("WARC/", "<?xml", "<rss", "<feed", "<urlset", "<sitemapindex")):
        return 0  # structured formats with readers of their own (or none yet): not prose
    return 10


def _title_like(line: str) -> bool:
    return 0 < len(line) <= 160 and not re.search(r"[.,;:]$", line) and len(line.split()) <= 25


def split_glued_caption(line: str) -> str:
    """Remove an image caption glued to the first sentence ("Student VoicesThis post …")."""
    for m in re.finditer(r"(?<=[a-z0-9.])(?=[A-Z])", line[:80]):
        prefix, rest = line[: m.start()], line[m.start() :]
        first = re.match(r"[A-Z][\w’']*", rest)
        if not first or len(prefix) < 3 or re.search(r"[,;:!?]", prefix):
            continue
        multiword = " " in prefix.strip() or any(ch.isdigit() for ch in prefix)
        if first.group(0) in _SENTENCE_START or (multiword and len(first.group(0)) > 1):
            return rest
    return line


def _strip_caption_residue(body: list[str]) -> list[str]:
    """Drop image captions left at the start of an entry (name lines, glued alt text)."""
    out = list(body)
    while out and (not out[0].strip() or _NAME_LINE.match(out[0].strip())):
        line = out[0].strip()
        nxt = next((ln.strip() for ln in out[1:] if ln.strip()), "")
        if line and nxt != line and len(nxt) < 60:
            break  # a short line followed by another short line: a heading, not a caption
        out.pop(0)
    for i, line in enumerate(out):
        if line.strip():
            out[i] = split_glued_caption(line.strip())
            break
    return out


def _profiles_for(text: str) -> tuple[list[Profile], Profile | None]:
    profiles = load_profiles()
    site_profile = profiles.for_text(text)
    plist = [profiles.generic] + ([site_profile] if site_profile else [])
    return plist, site_profile


def parse(payload: Payload) -> ParseResult:
    """Parse a text copy into one document, or one per entry of a listing page."""
    text = payload.text().replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ParseError("empty text")
    plist, site_profile = _profiles_for(text)
    lines = text.split("\n")
    separators = {s.casefold() for p in plist for s in p.listing_separators}
    sep_count = sum(1 for ln in lines if ln.strip().casefold() in separators)
    date_count = sum(1 for ln in lines if DATE_LINE.match(ln.strip()))
    result = ParseResult(source_format=name, sink=payload.sink)
    site = site_profile.domains[0] if site_profile and site_profile.domains else None
    if sep_count >= 2 or date_count >= 2:
        _parse_listing(lines, separators, plist, payload, result, site)
    if not result.emitted:
        result.skipped.clear()
        _parse_single(lines, plist, payload, result, site)
    return result


def _new_doc(payload: Payload, result: ParseResult, fmt: str, site: str | None) -> Document:
    return Document(
        raw_id=payload.raw.raw_id,
        source_uri=payload.raw.source_uri,
        source_format=fmt,
        index=result.emitted,
        fetched_at=payload.raw.fetched_at,
        site=site,
    )


def _parse_single(
    lines: list[str], plist: list[Profile], payload: Payload, result: ParseResult, site: str | None
) -> None:
    doc = _new_doc(payload, result, name, site)
    candidates: list[int] = []
    consumed: set[int] = set()
    seen = 0
    for i, raw_line in enumerate(lines):
        line = raw_line.strip()
        if not line:
            continue
        seen += 1
        if seen > 15:
            break
        if is_chrome(line, plist) or parse_label(line, plist):
            continue
        m = DATE_LINE.match(line)
        if m:
            doc.published_raw = doc.published_raw or m.group("date")
            if m.group("by"):
                doc.authors = doc.authors or _names(m.group("by"))
            consumed.add(i)
            continue
        mb = _BY_LINE.match(line)
        if mb and candidates:
            doc.authors = doc.authors or _names(mb.group("by"))
            consumed.add(i)
            continue
        if _title_like(line):
            candidates.append(i)
            continue
        break
    if candidates:
        best = max(candidates, key=lambda k: (len(lines[k].strip()), -k))
        doc.title_raw = lines[best].strip()
        consumed.add(best)
    doc.body_text = "\n".join(ln for k, ln in enumerate(lines) if k not in consumed)
    if _PROTECTED.search(doc.body_text):
        doc.is_protected = True  # the copy shows WordPress's password form, not the post
        doc.body_text = ""
    if not doc.body_text.strip() and not doc.title_raw:
        raise ParseError("text holds no content")
    result.add(doc)


def _names(value: str) -> list[str]:
    return split_names(value)


def _parse_listing(
    lines: list[str],
    separators: set[str],
    plist: list[Profile],
    payload: Payload,
    result: ParseResult,
    site: str | None,
) -> None:
    blocks: list[list[str]] = [[]]
    if any(ln.strip().casefold() in separators for ln in lines):
        for ln in lines:
            if ln.strip().casefold() in separators:
                blocks.append([])
            else:
                blocks[-1].append(ln)
    else:
        # No separators: an entry starts at the line before each date line.
        starts = [i - 1 for i, ln in enumerate(lines) if DATE_LINE.match(ln.strip()) and i > 0]
        bounds = [0, *starts, len(lines)]
        blocks = [lines[a:b] for a, b in itertools.pairwise(bounds)]
    for block in blocks:
        content = [
            (k, ln.strip()) for k, ln in enumerate(block) if ln.strip() and not is_chrome(ln, plist)
        ]
        if not content:
            continue
        date_pos = next((j for j, (_, ln) in enumerate(content[:40]) if DATE_LINE.match(ln)), None)
        doc = _new_doc(payload, result, "text_listing", site)
        if date_pos is not None and date_pos > 0:
            title_k, title = content[date_pos - 1]
            m = DATE_LINE.match(content[date_pos][1])
            assert m is not None
            doc.published_raw = m.group("date")
            if m.group("by"):
                doc.authors = _names(m.group("by"))
            if date_pos > 1:
                result.skip("listing preamble", 1)
            body_from = content[date_pos][0] + 1
        elif date_pos is None and _title_like(content[0][1]) and len(content) > 1:
            title_k, title = content[0]
            body_from = title_k + 1
        else:
            result.skip("listing residue")
            continue
        body = _strip_caption_residue(block[body_from:])
        if not any(ln.strip() for ln in body):
            result.skip("listing entry without body")
            continue
        doc.title_raw = title
        doc.body_text = "\n".join(body)
        result.add(doc)
