"""Cut plain text (a saved copy of a page) into paragraphs."""

from __future__ import annotations

import re

_BLANK = re.compile(r"\n[ \t\u00a0]*\n")


def _hard_wrapped(lines: list[str]) -> bool:
    body = lines[:-1]
    if len(body) < 4:
        return False
    wrapped = sum(
        1 for ln in body if 45 <= len(ln) <= 80 and not ln.rstrip().endswith((".", ":", "?", "!"))
    )
    return wrapped / len(body) >= 0.7


def text_to_paragraphs(text: str) -> list[str]:
    """Paragraphs of a text copy.

    Blank lines separate paragraphs when the text has them; a copy without any blank line
    (e-mail, some "save as text" tools) has one paragraph per line. Hard-wrapped lines
    (mail at 72 columns) are joined back into their paragraph.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks = _BLANK.split(text) if _BLANK.search(text) else text.split("\n")
    out: list[str] = []
    for block in blocks:
        lines = [ln.strip() for ln in block.split("\n") if ln.strip()]
        if not lines:
            continue
        out.append(" ".join(lines) if _hard_wrapped(lines) else "\n".join(lines))
    return out
