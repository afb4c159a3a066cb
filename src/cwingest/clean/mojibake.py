"""Repair mojibake (UTF-8 read as cp1252/latin-1, e.g. ``donâ€™t``) through ftfy.

ftfy runs at a few MB/s, so it only runs on paragraphs where a cheap regular expression
finds the signature of mojibake: a lead byte of a UTF-8 sequence rendered as a Latin-1 or
cp1252 letter, followed by a continuation byte rendered the same way.
"""

from __future__ import annotations

import re

import ftfy

# A UTF-8 lead byte (0xC2-0xF4) seen as Latin-1/cp1252, then a continuation byte
# (0x80-0xBF) seen as Latin-1 or as the cp1252 punctuation that occupies 0x80-0x9F.
_CONT = "\u0080-\u00bf\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u017d\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u017e\u0178"
_SUSPECT = re.compile(f"[\u00c2-\u00f4][{_CONT}]")
# Latin-1-read-as-cp1252 artefacts and double-encoded sequences ftfy also fixes.
_SUSPECT_EXTRA = re.compile("[\u0080-\u009f]|\u00c3\u0192|\u00e2\u20ac")

_CONFIG = ftfy.TextFixerConfig(
    unescape_html=False,  # entities are decoded by the HTML stage, with context
    fix_line_breaks=False,
    normalization=None,  # NFC is applied once, later
    explain=False,
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
