"""Is this an author's name? Bylines as pages and plugins give them, made into names.

Themes and SEO plugins hand over bylines with their labels ("Autor: Petra Ruland", "By
Ana Ruiz"), as links ("Zeige alle Beiträge von Simon Dückert →", "View all posts by
Ethan Park"), as unrendered templates ("{{ post.publishers[0].display_name }}"), as
author-page URLs, dates ("On August 3") or form labels ("Name"). :func:`person_name`
turns the first kinds into the name and refuses the others, in any of the languages the
real pages use. A site's own name is never an author's.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from cwingest.util import MONTH_PATTERN

# A site's own byline taxonomy ("cw_author", "writer", "authors", "contributor", "byline");
# "author" alone is Co-Authors Plus's, whose term names are logins.
AUTHOR_TAXONOMY = re.compile(
    r"^(?!author$)(?:.*[_-])?(?:authors?|writers?|contributors?|bylines?)$", re.IGNORECASE
)

# "View all posts by X" and its translations (the name is captured).
_VIEW_ALL = re.compile(
    r"^(?:view all (?:posts|articles|entries) (?:by|of|from)|all posts by|more posts by|"
    r"posts by|articles by|"
    r"(?:zeige |alle )?(?:alle )?beiträge (?:von|anzeigen von)|alle artikel von|"
    r"voir (?:tous )?les articles de|tous les articles de|articles de|"
    r"ver (?:todas las )?(?:entradas|publicaciones|artículos) de|todas las entradas de|"
    r"tutti gli articoli di|articoli di|"
    r"bekijk alle berichten van|alle berichten van|berichten van|"
    r"wszystkie wpisy(?: autora)?|wpisy autora|"
    r"ver todos os (?:posts|artigos) de|todos os posts de)\s+(?P<name>.+?)"
    r"(?:\s+anzeigen)?(?:['’]s)?(?: posts)?\s*[→»›>.]*\s*$",
    re.IGNORECASE,
)
# Labels before a name, in the languages of the shared real pages and then some.
_LABEL = re.compile(
    r"^(?:(?:written|posted|published|edited|reviewed|reported|photos?|text|story|words)\s+by|"
    r"by|author\(?s?\)?|authors?|autor(?:in|es|a)?|autorzy|verfasst von|geschrieben von|"
    r"écrit par|publié par|rédigé par|auteur|auteurs|auteure|escrito por|publicado por|"
    r"autore|autori|scritto da|pubblicato da|geschreven door|geplaatst door|"
    r"napisane przez|opublikowane przez|skrevet af|skrivet av)\s*[:：\-–—]?\s+",
    re.IGNORECASE,
)
# Short words that are labels before a full name but particles of some surnames ("von
# Goethe", "Di Maria"): removed only when two words or more follow.
_PARTICLE = re.compile(
    r"^(?:von|di|par|por|door|av|af|from|przez|de la)\s*[:：]?\s+(?=\S+\s+\S)", re.IGNORECASE
)
_TEMPLATE = re.compile(r"\{\{|\}\}|\{%|%\}|\$\{|%s\b|<%|%>|\[\[|\]\]")
_URL = re.compile(r"(?:https?:|www[.\s]|://|^/|\.(?:com|org|net|de|fr|es|html?|php)(?:/|$))", re.I)
_EMAIL = re.compile(r"\S+@\S+\.\w+")
_DATE = re.compile(
    rf"(?:\b{MONTH_PATTERN}\s+\d{{1,2}}\b|\b\d{{1,2}}\.?\s+{MONTH_PATTERN}|\b\d{{1,4}}[./-]\d{{1,2}}[./-]\d{{1,4}}\b"
    r"|^(?:on|am|le|el|il|op|dnia)\s+\S+\s+\d)",
    re.IGNORECASE,
)
_NOT_A_NAME = frozenset(
    "name names author authors autor autoren auteur auteurs autore by admin-ajax unknown "
    "n/a none null undefined anonymous guest user profile redaktion unbenannt untitled "
    "sans titre sin título senza titolo".split()
) | {"no author", "article by", "unknown author", "kein autor", "posted by", "written by"}
# "Art Edwards says" is a comment's author line.
_SAYS = re.compile(r"\s+(?:says|said|sagt|schreibt|dit|dice|zegt|pisze)\s*:?$", re.IGNORECASE)
_TRAILING = re.compile(r"[\s→»›>|,;:.·•\-–—]+$")
_LEADING = re.compile(r"^[\s|,;:·•\-–—]+")


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def person_name(value: str | None, not_names: Iterable[str] = ()) -> str | None:
    """The author's name a byline holds, or None when it holds no name.

    Args:
        value: a byline as a page or a plugin gives it.
        not_names: names that are never an author here (the site's own name).
    """
    if not value:
        return None
    text = " ".join(str(value).split())
    m = _VIEW_ALL.match(text)
    if m:
        text = m.group("name")
    for _ in range(2):  # "By: Autor: X" happens
        text = _LABEL.sub("", text, count=1)
        text = _PARTICLE.sub("", text, count=1)
    text = _TRAILING.sub("", _LEADING.sub("", text)).strip()
    if _SAYS.search(text):
        return None
    if not text or len(text) > 80 or len(text.split()) > 8:
        return None
    if _TEMPLATE.search(text) or _URL.search(text) or _EMAIL.search(text) or _DATE.search(text):
        return None
    if not any(ch.isalpha() for ch in text) or sum(ch.isdigit() for ch in text) > 2:
        return None
    folded = _fold(text)
    if folded in _NOT_A_NAME or folded in {_fold(n) for n in not_names if n}:
        return None
    return text


def person_names(values: Iterable[str], not_names: Iterable[str] = ()) -> list[str]:
    """:func:`person_name` of each value, refused ones left out, duplicates once."""
    out: list[str] = []
    banned = list(not_names)
    for v in values:
        name = person_name(v, banned)
        if name and _fold(name) not in {_fold(n) for n in out}:
            out.append(name)
    return out
