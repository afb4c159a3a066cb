"""Repair mojibake (UTF-8 read as cp1252/latin-1, e.g. ``donâ€™t``) through ftfy.

ftfy runs at a few MB/s, so it only runs on paragraphs where a cheap regular expression
finds the signature of mojibake: a lead byte of a UTF-8 sequence rendered as a Latin-1 or
cp1252 letter, followed by a continuation byte rendered the same way.
"""

from __future__ import annotations

import re

import ftfy

# Mojibake is UTF-8 read through a single-byte code page: a lead byte (0xC2-0xF4) shown as
# that code page's character, then a continuation byte (0x80-0xBF) shown the same way. One
# character class pair per code page seen in the wild keeps the test exact and fast.
_CODEPAGES = (
    "latin-1",
    "cp1252",
    "cp1250",
    "cp1251",
    "cp1253",
    "cp1254",
    "cp1257",
    "mac_roman",
    "cp437",
    "cp850",
    "iso8859_2",
    "koi8_r",
)


def _chars(first: int, last: int) -> str:
    found = {
        ch for c in _CODEPAGES for ch in bytes(range(first, last + 1)).decode(c, errors="ignore")
    }
    return re.escape("".join(sorted(found)))


# One pair of classes over all code pages: a false alarm only costs an ftfy call on one line.
_SUSPECT = re.compile(f"[{_chars(0xC2, 0xF4)}][{_chars(0x80, 0xBF)}]")
# Latin-1 C1 controls left by a cp1252 mix-up, and the replacement character next to a
# lead letter (a byte that was lost on the way).
_SUSPECT_EXTRA = re.compile("[\u0080-\u009f]|[\u00c2-\u00f4\u0100-\u017f]\ufffd|\u00c3[ \u00a0]")

_CONFIG = ftfy.TextFixerConfig(
    unescape_html=False,  # entities are decoded by the HTML stage, with context
    fix_line_breaks=False,
    normalization=None,  # NFC is applied once, later
    explain=False,
    uncurl_quotes=False,  # curly quotes are the author’s, not damage
    remove_control_chars=False,  # normalisation removes them, once, later
    fix_character_width=False,  # full-width CJK forms are content
    fix_latin_ligatures=False,
)


def may_need_fix(text: str) -> bool:
    """Cheap test: could this text contain mojibake?"""
    return bool(_SUSPECT.search(text) or _SUSPECT_EXTRA.search(text))


def fix_mojibake(text: str) -> str:
    """Fix mojibake, running ftfy only on the lines the cheap test flags."""
    if not may_need_fix(text):
        return text
    lines = text.split("\n")
    return "\n".join(ftfy.fix_text(line, _CONFIG) if may_need_fix(line) else line for line in lines)
