"""Unicode and white-space normalisation of one paragraph.

NFC; no-break and other exotic spaces become a plain space; control characters and stray
byte-order marks go; runs of spaces collapse. Invisible characters that can disguise
text (bidi overrides and isolates U+202A-U+202E and U+2066-U+2069, zero-width spaces,
invisible operators) go too, except where a script's normal spelling needs them: a
zero-width (non-)joiner between two letters of a joining script (Arabic, Persian, the
Indic scripts, Sinhala, Myanmar, Khmer, Mongolian…) or a joiner inside an emoji sequence,
and a left-to-right or right-to-left mark next to right-to-left text.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile("[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_CONTROLS = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ufeff\ufffe\uffff]")
_SURROGATES = re.compile("[\ud800-\udfff]")
_INVISIBLE = re.compile("[\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069]")
# Scripts whose spelling uses ZWJ/ZWNJ between letters (code point ranges).
_JOINING = (
    (0x0600, 0x08FF),  # Arabic, Syriac, Thaana, N'Ko, Samaritan, Mandaic, Arabic Extended
    (0x0900, 0x0DFF),  # Devanagari, Bengali, Gurmukhi, Gujarati, Oriya, Tamil, Telugu,
    #                    Kannada, Malayalam, Sinhala
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x18AF),  # Khmer, Mongolian
    (0xA8E0, 0xA8FF),  # Devanagari Extended
    (0xFB50, 0xFDFF),  # Arabic Presentation Forms-A
    (0xFE70, 0xFEFF),  # Arabic Presentation Forms-B
)
_RTL = ((0x0590, 0x08FF), (0xFB1D, 0xFDFF), (0xFE70, 0xFEFF))


def _in(ch: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    return bool(ch) and any(lo <= ord(ch) <= hi for lo, hi in ranges)


def _emoji(ch: str) -> bool:
    return bool(ch) and (
        0x1F000 <= ord(ch) <= 0x1FAFF or 0x2600 <= ord(ch) <= 0x27BF or ord(ch) in (0xFE0F, 0x20E3)
    )


def strip_invisible(text: str) -> str:
    """Remove bidi controls and zero-width characters that are not part of a spelling."""
    if not _INVISIBLE.search(text):
        return text

    def keep(m: re.Match[str]) -> str:
        ch = m.group(0)
        before = text[m.start() - 1] if m.start() else ""
        after = text[m.end()] if m.end() < len(text) else ""
        if ch in "\u200c\u200d" and _in(before, _JOINING) and _in(after, _JOINING):
            return ch
        if ch == "\u200d" and _emoji(before) and _emoji(after):
            return ch  # 👩‍🔬, 🏳️‍🌈
        if ch in "\u200e\u200f" and (_in(before, _RTL) or _in(after, _RTL)):
            return ch
        return ""

    return _INVISIBLE.sub(keep, text)


def normalize_line(text: str) -> str:
    """Normalise one line of text (no newlines inside)."""
    text = _SURROGATES.sub("\ufffd", text)
    text = _CONTROLS.sub("", text)
    text = strip_invisible(text)
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\u00ad", "")  # soft hyphen: invisible, breaks word matching
    return _SPACES.sub(" ", text).strip()


def normalize_paragraph(text: str) -> str:
    """Normalise a paragraph, keeping its internal line breaks (from ``<br>``)."""
    lines = [
        normalize_line(line) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    ]
    return "\n".join(line for line in lines if line)
