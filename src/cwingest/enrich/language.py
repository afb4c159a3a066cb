"""A small, dependency-free language guess from function words.

Good enough to tell the languages a WordPress blog is likely written in apart (English,
Spanish, French, German, Portuguese, Italian, Dutch); returns None for short or
undecided text rather than guessing.
"""

from __future__ import annotations

import re
from collections import Counter

_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        "the and of to in is that for it with as was on are be this by not or have from at".split()
    ),
    "es": frozenset("el la de que y en los se del las un por con no una su para es al lo".split()),
    "fr": frozenset(
        "le la de et les des en un une du que est pour qui dans pas au sur ne se".split()
    ),
    "de": frozenset(
        "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine".split()
    ),
    "pt": frozenset(
        "de a o que e do da em um para com não uma os no se na por mais as dos".split()
    ),
    "it": frozenset("di e il la che in un per non una sono del della le si con da è gli".split()),
    "nl": frozenset("de en van het een in is dat op te zijn met voor niet aan er ook als".split()),
}
_WORD = re.compile(r"[^\W\d_]+")


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the most likely language, or None when unsure."""
    counts = Counter(_WORD.findall(text[:20000].lower()))
    words = sum(counts.values())
    if words < 8:
        return None
    scores = {lang: sum(counts[w] for w in sw if w in counts) for lang, sw in _STOPWORDS.items()}
    best = max(scores, key=lambda k: (scores[k], k))
    ranked = sorted(scores.values(), reverse=True)
    if ranked[0] < max(3, words * 0.05) or ranked[0] < 1.3 * ranked[1]:
        return None
    return best
