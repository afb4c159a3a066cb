"""The clean stage for one document: markup to paragraphs, repairs, boilerplate, safe HTML."""

from __future__ import annotations

import html as htmllib
import re

from cwingest.clean.boilerplate import Cleaned, clean_paragraphs, strip_glued
from cwingest.clean.escapes import unescape_literals
from cwingest.clean.html_text import html_to_paragraphs, parse_html, remove_element, to_html
from cwingest.clean.mojibake import fix_mojibake
from cwingest.clean.normalize import normalize_line, normalize_paragraph
from cwingest.clean.profiles import Profile, ProfileSet
from cwingest.clean.sanitize import paragraphs_to_html, sanitize_html
from cwingest.clean.text_blocks import text_to_paragraphs
from cwingest.clean.wordpress import strip_shortcodes, wpautop
from cwingest.models import Document

_TAG = re.compile(r"<[^>]{0,2000}>")
_MEDIA = re.compile(r"<(?:img|figure|picture|video|audio|iframe|embed|object|svg)\b", re.I)
_MORE_HTML = re.compile(r"\s*\((?:more|read more)\s*(?:…|\.\.\.)?\)", re.I)


def profiles_for(doc: Document, profiles: ProfileSet) -> list[Profile]:
    """The generic profile plus the document's site profile (by site, else by its text)."""
    site_profile = profiles.for_site(doc.site)
    if site_profile is None and doc.site is None and doc.body_text:
        site_profile = profiles.for_text(doc.body_text)
    return [profiles.generic] + ([site_profile] if site_profile else [])


def clean_inline(value: str | None) -> str | None:
    """Clean a one-line field (title, term name): escapes, mojibake, tags, entities, spaces."""
    if value is None:
        return None
    value = fix_mojibake(unescape_literals(value))
    value = _TAG.sub("", value)
    for _ in range(2):  # titles are sometimes entity-encoded twice (&amp;#8217;)
        if "&" not in value:
            break
        value = htmllib.unescape(value)
    value = normalize_line(value.replace("\n", " "))
    return value or None


def clean_document(doc: Document, profiles: ProfileSet) -> Cleaned:
    """Fill ``content_text``, ``content_html`` and ``excerpt`` of a document.

    Returns what cleaning found (label lines, teaser cut) for the enrich stage.
    """
    plist = profiles_for(doc, profiles)
    cleaned = Cleaned([], [])
    if doc.is_protected:  # only what WordPress shows an anonymous visitor
        doc.body_html = doc.body_text = doc.excerpt_raw = None
        doc.content_html = ""
    if doc.body_html and doc.needs_autop:
        doc.body_html = wpautop(strip_shortcodes(doc.body_html))
    elif doc.body_html:
        doc.body_html = strip_shortcodes(doc.body_html)
    if doc.body_html:
        markup = fix_mojibake(unescape_literals(doc.body_html))
        low = markup.lower()
        # Raw WordPress content (no <p>, paragraphs as blank lines) gets wpautop's reading.
        raw_content = "<p" not in low and "<div" not in low and "<br" not in low
        root = parse_html(markup)
        paras = html_to_paragraphs(root, newlines_break=raw_content)
        texts = [normalize_paragraph(p.text) for p in paras]
        cleaned = clean_paragraphs(texts, plist)
        if raw_content:
            doc.content_html = paragraphs_to_html(cleaned.paragraphs)
        else:
            kept = set(cleaned.kept)
            for i, p in enumerate(paras):
                if i not in kept and p.element is not None:
                    remove_element(p.element)
            rendered = to_html(root)
            if cleaned.excerpt_cut:
                rendered = _MORE_HTML.sub("", rendered)
            doc.content_html = sanitize_html(rendered)
    elif doc.body_text:
        text = fix_mojibake(unescape_literals(doc.body_text))
        paras_text = [normalize_paragraph(p) for p in text_to_paragraphs(text)]
        cleaned = clean_paragraphs([p for p in paras_text if p], plist)
        doc.content_html = paragraphs_to_html(cleaned.paragraphs)
    doc.content_text = "\n\n".join(cleaned.paragraphs)
    if not doc.content_text and doc.body_html and _MEDIA.search(doc.body_html):
        # A post that is only an image, a gallery or an embed: no text, but its markup is
        # what it publishes.
        doc.content_html = sanitize_html(doc.body_html)
    if doc.excerpt_raw:
        excerpt_root = parse_html(fix_mojibake(unescape_literals(doc.excerpt_raw)))
        ex_paras = [normalize_paragraph(p.text) for p in html_to_paragraphs(excerpt_root)]
        ex = clean_paragraphs([p for p in ex_paras if p], plist)
        # what cleaning took off the content, and the profiles' own chrome lines
        glued = cleaned.removed + ex.removed + [d for p in plist for d in p.drop_lines]
        excerpt = [strip_glued(p, glued) for p in ex.paragraphs] if glued else ex.paragraphs
        doc.excerpt = "\n\n".join(p for p in excerpt if p) or None
    return cleaned
