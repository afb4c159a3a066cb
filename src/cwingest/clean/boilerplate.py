"""Remove site boilerplate from paragraphs and lift metadata lines out of the text.

Rules come from the generic profile plus the document's site profile: whole lines of page
chrome ("Skip to content", "Print Friendly"), share blocks, plugin credits, "(more…)"
teaser links (which mark the document as an excerpt) and "Label: value" lines such as
"Author(s): Susan Patrick", whose values become metadata instead of text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from cwingest.clean.profiles import Profile

_MORE = re.compile(
    r"\s*(?:\((?:more|read more)\s*(?:…|\.\.\.)?\)|\[(?:…|\.\.\.|&hellip;)\]|"
    r"(?:continue reading|read more|keep reading"
    r"|read the (?:full|whole|entire|rest of the) (?:post|article|story))"
    r"\s*(?:→|»|…|\.\.\.)?(?:\s*[\"“].{0,200}[\"”])?)\s*$",
    re.IGNORECASE,
)
# Normalised text has no run of whitespace longer than one character, so a teaser link's
# match (at most about 260 characters) lies within the last _MORE_WINDOW: the regex, which
# is tried at every position, only needs to see them.
_MORE_WINDOW = 400


def _strip_more(text: str) -> str:
    """``text`` without a trailing teaser link ("Continue reading →", "[…]")."""
    if len(text) <= _MORE_WINDOW:
        return _MORE.sub("", text)
    cut = len(text) - _MORE_WINDOW
    return text[:cut] + _MORE.sub("", text[cut:])


_LABEL = re.compile(r"^\s*([A-Za-z][A-Za-z() ]{0,20}?)\s*:\s*(.+?)\s*$")
_BARE_LABEL = re.compile(r"^\s*([A-Za-z][A-Za-z() ]{0,20}?)\s*:?\s*$")
_SPLIT_NAMES = re.compile(r"\s*(?:,|;|\band\b|&|\|)\s*")
_SPLIT_TERMS = re.compile(r"\s*(?:,|;|\|)\s*")


@dataclass(slots=True)
class Cleaned:
    """Result of cleaning one document's paragraphs."""

    paragraphs: list[str]
    kept: list[int]  # indexes (into the input) of the paragraphs kept
    labels: dict[str, list[str]] = field(default_factory=dict)
    excerpt_cut: bool = False
    dropped: int = 0
    removed: list[str] = field(default_factory=list)  # the chrome and label lines dropped


def split_names(value: str, terms: bool = False) -> list[str]:
    """Split a byline ("A, B and C") or a term list ("Assessment & Grading, Equity").

    Term names may contain "&" and "and", so term lists split on commas only.
    """
    splitter = _SPLIT_TERMS if terms else _SPLIT_NAMES
    names = [n.strip(" .\t") for n in splitter.split(value)]
    return [n for n in names if n]


_BYLINE = re.compile(r"^(?:by|written by|posted by)\s+(?P<names>[^\n:]{2,160})$", re.IGNORECASE)
_NAME = re.compile(
    r"^(?:[A-Z][\w’'.\-]*|de|da|van|von|der|den|del|la|le|du|bin|al)"
    r"(?:\s+(?:[A-Z][\w’'.\-]*|de|da|van|von|der|den|del|la|le|du|bin|al)){0,4}$"
)


def looks_like_names(names: list[str]) -> bool:
    """True when every item reads as a person's or organisation's name (capitalised words)."""
    return bool(names) and all(_NAME.match(n) and not n.endswith("'s") for n in names)


def parse_byline(line: str) -> list[str] | None:
    """Names of a "By A and B" line (no colon), or None when the line is prose."""
    m = _BYLINE.match(line.strip())
    if not m:
        return None
    names = split_names(m.group("names").rstrip(". "))
    return names if looks_like_names(names) else None


def parse_label(line: str, profiles: Sequence[Profile]) -> tuple[str, list[str]] | None:
    """``("authors", ["Susan Patrick"])`` for "Author(s): Susan Patrick", else None."""
    if len(line) > 300 or "\n" in line:
        return None
    m = _LABEL.match(line)
    if not m:
        byline = parse_byline(line)
        return ("authors", byline) if byline else None
    key = m.group(1).strip().casefold()
    target = None
    for profile in profiles:
        target = profile.labels.get(key, target)
    if target is None:
        return None
    value = m.group(2).strip()
    if re.search(r"[.!?]\s*$", value) and len(value.split()) > 5:
        return None  # a sentence that happens to start with "Issues:", not a label
    names = split_names(value, terms=target != "authors")
    if not names or len(names) > 25 or any(len(n.split()) > 8 for n in names):
        return None
    return target, names


def is_bare_label(line: str, profiles: Sequence[Profile]) -> bool:
    """True for a label left without its value ("Author(s)" at the end of a page)."""
    m = _BARE_LABEL.match(line)
    return m is not None and any(m.group(1).strip().casefold() in p.labels for p in profiles)


def is_chrome(line: str, profiles: Sequence[Profile]) -> bool:
    """True when a whole line is page chrome under any of the profiles."""
    stripped = line.strip()
    key = stripped.casefold()
    for profile in profiles:
        if key in profile.drop_lines:
            return True
        if profile.drop_patterns and _any_pattern(profile.drop_patterns)(stripped):
            return True
    return False


_LEADING_FLAGS = re.compile(r"^\(\?([aiLmsux]+)\)")


@lru_cache(maxsize=64)
def _any_pattern(patterns: tuple[re.Pattern[str], ...]) -> Callable[[str], bool]:
    """One alternation of a profile's patterns (one regex pass per line instead of one per
    pattern); a leading ``(?i)`` becomes a scoped ``(?i:...)``. Patterns that cannot be
    combined are tried one by one."""
    parts = []
    for p in patterns:
        m = _LEADING_FLAGS.match(p.pattern)
        parts.append(f"(?{m.group(1)}:{p.pattern[m.end() :]})" if m else f"(?:{p.pattern})")
    try:
        combined = re.compile("|".join(parts))
    except re.error:
        return lambda line: any(p.match(line) for p in patterns)
    return lambda line: combined.match(line) is not None


def clean_paragraphs(
    paragraphs: Sequence[str], profiles: Sequence[Profile], *, label_zone: int = 8
) -> Cleaned:
    """Drop chrome, lift labels near the top or bottom, strip and record teaser links.

    Args:
        paragraphs: normalised paragraphs in order.
        profiles: the generic profile first, then the site profile if any.
        label_zone: how many paragraphs at the top and bottom may hold label lines.
    """
    out: list[str] = []
    kept: list[int] = []
    labels: dict[str, list[str]] = {}
    removed: list[str] = []
    dropped = 0
    excerpt_cut = False
    in_share_block = False
    n = len(paragraphs)
    share_items = [p.share_item_pattern for p in profiles if p.share_item_pattern]
    for i, para in enumerate(paragraphs):
        lines = para.split("\n")
        kept_lines: list[str] = []
        for line in lines:
            if in_share_block and any(p.match(line) for p in share_items):
                dropped += 1
                continue
            in_share_block = False
            if i >= n - 3 and line.strip() and not _strip_more(line).strip():
                excerpt_cut = True  # a teaser link alone on its line ("Continue reading")
                dropped += 1
                continue
            if is_chrome(line, profiles):
                dropped += 1
                removed.append(line)
                in_share_block = line.strip().lower().startswith("share")
                continue
            near_edge = i < label_zone or i >= n - label_zone
            label = parse_label(line, profiles) if near_edge else None
            if label:
                target, names = label
                bucket = labels.setdefault(target, [])
                bucket.extend(nm for nm in names if nm not in bucket)
                dropped += 1
                removed.append(line)
                continue
            if i >= n - 3 and is_bare_label(line, profiles):
                dropped += 1
                removed.append(line)
                continue
            kept_lines.append(line)
        if not kept_lines:
            continue
        text = "\n".join(kept_lines)
        stripped = _strip_more(text)
        if stripped != text:
            if i >= n - 3:
                excerpt_cut = True
            text = stripped.rstrip()
        if text.strip():
            out.append(text)
            kept.append(i)
    return Cleaned(out, kept, labels, excerpt_cut, dropped, removed)


_OPENERS = "0123456789\"'“‘«¿¡([—–-"
_CLOSERS = ".!?…\"'”’»)]"


@lru_cache(maxsize=256)
def _glue_lines(removed: tuple[str, ...]) -> list[tuple[str, str]]:
    """Lines that may be glued to an excerpt, whitespace-normalised, longest first, each
    with its case-folded form."""
    lines = sorted({" ".join(r.split()) for r in removed if r.strip()}, key=len, reverse=True)
    return [(line, line.casefold()) for line in lines]


def strip_glued(paragraph: str, removed: Sequence[str]) -> str:
    """A paragraph without the chrome and label lines that were glued to its start or end.

    WordPress makes an automatic excerpt from the rendered content with its tags and line
    breaks taken out, so the content's "Author(s): A, B", "Print Friendly" or "By A"
    lines run into its first sentence ("Author(s): A, B In the first year…"): the lines
    cleaning dropped from the content are taken off the excerpt's ends, repeatedly.
    """
    lines = _glue_lines(tuple(removed))
    text = paragraph.strip()
    changed = True
    while changed and text:
        changed = False
        # only lines whose first (last) letter is the text's are looked at closely
        first, last = text[0].casefold(), text[-1].casefold()
        for line, folded in lines:
            n = len(line)
            # glued only where a sentence starts after it (or ended before it): "Share"
            # before "your thoughts" is the excerpt's own word
            if (
                folded[0] == first
                and text[:n].casefold() == folded
                and (len(text) == n or text[n].isspace())
            ):
                rest = text[n:].lstrip()
                if not rest or rest[0].isupper() or rest[0] in _OPENERS:
                    text, changed = rest, True
                    break
            if (
                folded[-1] == last
                and text[-n:].casefold() == folded
                and (len(text) == n or text[-n - 1].isspace())
            ):
                head = text[:-n].rstrip()
                if not head or head[-1] in _CLOSERS:
                    text, changed = head, True
                    break
    return text
