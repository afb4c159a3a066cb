"""Resolve ids to names with the terms, users and co-author records of the input set."""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cwingest.models import Lookup


def _clean_name(name: str) -> str:
    # Term and user names arrive HTML-escaped ("Assessment &amp; Grading"), sometimes twice.
    for _ in range(2):
        name = html.unescape(name)
    return " ".join(name.split())


@dataclass
class LookupIndex:
    """Names by (site, taxonomy, id), by (site, taxonomy, slug), users and bylines."""

    terms: dict[tuple[str | None, str, int], str] = field(default_factory=dict)
    term_slugs: dict[tuple[str | None, str, str], str] = field(default_factory=dict)
    term_id_slugs: dict[tuple[str | None, str, int], str] = field(default_factory=dict)
    users: dict[tuple[str | None, int], str] = field(default_factory=dict)
    user_slugs: dict[tuple[str | None, str], str] = field(default_factory=dict)
    post_authors: dict[tuple[str | None, int], list[str]] = field(default_factory=dict)
    coauthor_slugs: dict[tuple[str | None, str], str] = field(default_factory=dict)

    @classmethod
    def build(cls, lookups: Iterable[Lookup]) -> LookupIndex:
        """Index lookups; on conflicting names the lexicographically smallest wins (stable)."""
        idx = cls()

        def put(d: dict[Any, Any], key: object, value: object) -> None:
            if key not in d or str(value) < str(d[key]):
                d[key] = value

        for lk in lookups:
            name = _clean_name(lk.name)
            if lk.kind == "term":
                put(idx.terms, (lk.site, lk.taxonomy, lk.id), name)
                if lk.slug:
                    put(idx.term_slugs, (lk.site, lk.taxonomy, lk.slug), name)
                    put(idx.term_id_slugs, (lk.site, lk.taxonomy, lk.id), lk.slug)
            elif lk.kind == "user":
                put(idx.users, (lk.site, lk.id), name)
                if lk.slug:
                    put(idx.user_slugs, (lk.site, lk.slug), name)
            elif lk.kind == "post_authors":
                put(idx.post_authors, (lk.site, lk.id), [_clean_name(n) for n in lk.names])
            elif lk.kind == "coauthor" and lk.slug:
                put(idx.coauthor_slugs, (lk.site, lk.slug), name)
        return idx

    # When a list, every lookup is recorded in it as [table, site, key, answer]: what a
    # document's enrichment depended on, so a cached enrichment is reused only while the
    # same lookups give the same answers (see cwingest.cache.EnrichCache).
    consulted: list[list[Any]] | None = field(default=None, compare=False)

    def _get(self, table: str, site: str | None, *key: object) -> object | None:
        d: dict[Any, Any] = getattr(self, table)
        value = d.get((site, *key))
        if value is None and site is not None:
            value = d.get((None, *key))
        if self.consulted is not None:
            self.consulted.append([table, site, list(key), value])
        return value

    def answers_unchanged(self, consulted: list[list[Any]]) -> bool:
        """True when every recorded lookup still gives its recorded answer."""
        for table, site, key, value in consulted:
            now = self._get(table, site, *key)
            if now != value:
                return False
        return True

    def term(self, site: str | None, taxonomy: str, term_id: int) -> str | None:
        """Name of a term id, from the same site (or a source with no site)."""
        v = self._get("terms", site, taxonomy, term_id)
        return v if isinstance(v, str) else None

    def term_by_slug(self, site: str | None, taxonomy: str, slug: str) -> str | None:
        """Name of a term slug."""
        v = self._get("term_slugs", site, taxonomy, slug)
        return v if isinstance(v, str) else None

    def term_slug(self, site: str | None, taxonomy: str, term_id: int) -> str | None:
        """Slug of a term id."""
        v = self._get("term_id_slugs", site, taxonomy, term_id)
        return v if isinstance(v, str) else None

    def user(self, site: str | None, user_id: int) -> str | None:
        """Display name of a user id."""
        v = self._get("users", site, user_id)
        return v if isinstance(v, str) else None

    def byline(self, site: str | None, post_id: int) -> list[str] | None:
        """Co-Authors Plus display names of a post, in byline order."""
        v = self._get("post_authors", site, post_id)
        return v if isinstance(v, list) else None

    def coauthor_display(self, site: str | None, term_slug: str) -> str | None:
        """Display name for a co-author term slug (``cap-<nicename>``), never the login."""
        nicename = term_slug.removeprefix("cap-")
        v = self._get("coauthor_slugs", site, nicename) or self._get("user_slugs", site, nicename)
        return v if isinstance(v, str) else None
