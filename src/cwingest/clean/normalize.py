"""Unicode and white-space normalisation of one paragraph.

NFC; no-break and other exotic spaces become a plain space; control characters and stray
byte-order marks go; runs of spaces collapse. Letters, emoji, bidi and zero-width joiners
are content and are kept.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile("[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_CONTROLS = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ufeff\ufffe\uffff]")
_SURROGATES = re.compile("[\ud800-\udfff]")


def normalize_line(text: str) -> str:
    """Normalise one line of text (no newlines inside)."""
    text = _SURROGATES.sub("\ufffd", text)
    text = _CONTROLS.sub("", text)
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\u00ad", "")  # soft hyphen: invisible, breaks word matching
    return _SPACES.sub(" ", text).strip()


def normalize_paragraph(text: str) -> str:
    """Normalise a paragraph, keeping its internal line breaks (from ``<br>``)."""
    lines = [
        normalize_line(line) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    ]
    return "\n".join(line for line in lines if line)
