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

    def _get(self, d: dict[Any, Any], site: str | None, *key: object) -> object | None:
        value = d.get((site, *key))
        if value is None and site is not None:
            value = d.get((None, *key))
        return value

    def term(self, site: str | None, taxonomy: str, term_id: int) -> str | None:
        """Name of a term id, from the same site (or a source with no site)."""
        v = self._get(self.terms, site, taxonomy, term_id)
        return v if isinstance(v, str) else None

    def term_by_slug(self, site: str | None, taxonomy: str, slug: str) -> str | None:
        """Name of a term slug."""
        v = self._get(self.term_slugs, site, taxonomy, slug)
        return v if isinstance(v, str) else None

    def term_slug(self, site: str | None, taxonomy: str, term_id: int) -> str | None:
        """Slug of a term id."""
        v = self._get(self.term_id_slugs, site, taxonomy, term_id)
        return v if isinstance(v, str) else None

    def user(self, site: str | None, user_id: int) -> str | None:
        """Display name of a user id."""
        v = self._get(self.users, site, user_id)
        return v if isinstance(v, str) else None

    def byline(self, site: str | None, post_id: int) -> list[str] | None:
        """Co-Authors Plus display names of a post, in byline order."""
        v = self._get(self.post_authors, site, post_id)
        return v if isinstance(v, list) else None

    def coauthor_display(self, site: str | None, term_slug: str) -> str | None:
        """Display name for a co-author term slug (``cap-<nicename>``), never the login."""
        nicename = term_slug.removeprefix("cap-")
        v = self._get(self.coauthor_slugs, site, nicename) or self._get(
            self.user_slugs, site, nicename
        )
        return v if isinstance(v, str) else None
