"""Repair literal JSON escapes left in text (``\\u2019``, ``<\\/p>``, ``\\n``).

Text copied out of a REST dump without a JSON parser keeps its escapes as characters. A
cheap test decides whether the text carries them at all, so prose that merely contains a
backslash is left alone.
"""

from __future__ import annotations

import re

_UNICODE_ESC = re.compile(r"\\u([0-9a-fA-F]{4})")
_EVIDENCE = re.compile(r"\\u[0-9a-fA-F]{4}|<\\/|\\/|\\n|\\\"")
_SIMPLE_ESC = re.compile(r"\\([nrt\"/\\])")
_SIMPLE = {"n": "\n", "r": "\n", "t": "\t", '"': '"', "/": "/", "\\": "\\"}


def has_literal_escapes(text: str) -> bool:
    """True when the text shows JSON escapes as characters (at least two, or ``<\\/``)."""
    if "\\" not in text:
        return False
    if "<\\/" in text:
        return True
    return len(_EVIDENCE.findall(text, 0, 200000)) >= 2


def unescape_literals(text: str) -> str:
    """Turn literal ``\\uXXXX``, ``\\/``, ``\\n``, ``\\t`` and ``\\"`` into characters."""
    if not has_literal_escapes(text):
        return text

    def uni(m: re.Match[str]) -> str:
        return chr(int(m.group(1), 16))

    text = _UNICODE_ESC.sub(uni, text)
    text = _SIMPLE_ESC.sub(lambda m: _SIMPLE[m.group(1)], text)
    # Re-pair surrogate halves written as two escapes (emoji).
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
