"""Site profiles: what is page chrome on one site, how its titles and bylines look.

One TOML file per site under ``cwingest/profiles/`` (and any folder named in
``CWINGEST_PROFILES``, separated by ``:``). ``generic.toml`` applies to every document;
a site profile applies on top of it when the document's site is one of its ``domains``
or, for copies that lost their URL, when one of its ``text_markers`` matches the first
lines of the text.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Profile:
    """Cleaning and extraction rules for one site (or the generic default)."""

    name: str
    domains: tuple[str, ...] = ()
    site_name: str | None = None
    text_markers: tuple[re.Pattern[str], ...] = ()
    title_suffixes: tuple[str, ...] = ()
    drop_lines: frozenset[str] = frozenset()
    drop_patterns: tuple[re.Pattern[str], ...] = ()
    share_item_pattern: re.Pattern[str] | None = None
    labels: dict[str, str] = field(default_factory=dict)
    listing_separators: tuple[str, ...] = ()
    content_selectors: tuple[str, ...] = ()  # main text of a saved page (CSS selectors)
    title_selectors: tuple[str, ...] = ()
    byline_selectors: tuple[str, ...] = ()  # elements holding author names
    issue_selectors: tuple[str, ...] = ()  # elements holding issue (term) names
    date_selectors: tuple[str, ...] = ()  # elements with the publication date
    source: str = ""


def _profile_from_dict(data: dict[str, Any], source: str) -> Profile:
    def patterns(key: str) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(p) for p in data.get(key, []))

    share = data.get("share_item_pattern")
    return Profile(
        name=str(data["name"]),
        domains=tuple(d.lower().removeprefix("www.") for d in data.get("domains", [])),
        site_name=data.get("site_name"),
        text_markers=tuple(re.compile(p, re.M) for p in data.get("text_markers", [])),
        title_suffixes=tuple(data.get("title_suffixes", [])),
        drop_lines=frozenset(s.strip().casefold() for s in data.get("drop_lines", [])),
        drop_patterns=patterns("drop_patterns"),
        share_item_pattern=re.compile(share) if share else None,
        labels={k.casefold(): v for k, v in data.get("labels", {}).items()},
        listing_separators=tuple(data.get("listing_separators", [])),
        content_selectors=tuple(data.get("content_selectors", [])),
        title_selectors=tuple(data.get("title_selectors", [])),
        byline_selectors=tuple(data.get("byline_selectors", [])),
        issue_selectors=tuple(data.get("issue_selectors", [])),
        date_selectors=tuple(data.get("date_selectors", [])),
        source=source,
    )


def load_profile_file(path: str | Path) -> Profile:
    """Read one profile file (raises ``ValueError`` with the file name when it is invalid)."""
    try:
        with open(path, "rb") as fh:
            return _profile_from_dict(tomllib.load(fh), str(path))
    except (tomllib.TOMLDecodeError, KeyError, re.error) as exc:
        raise ValueError(f"invalid site profile {path}: {exc}") from exc


@dataclass(frozen=True)
class ProfileSet:
    """The generic profile plus every site profile."""

    generic: Profile
    sites: tuple[Profile, ...]

    def for_site(self, site: str | None) -> Profile | None:
        """The site profile whose domains include ``site`` (or a parent domain of it)."""
        if not site:
            return None
        host = site.split(":")[0]
        for profile in self.sites:
            if any(host == d or host.endswith("." + d) for d in profile.domains):
                return profile
        return None

    def for_text(self, text: str) -> Profile | None:
        """The site profile whose markers match the first lines of a copy without URL."""
        head = "\n".join(text.lstrip().splitlines()[:8])
        for profile in self.sites:
            if any(m.search(head) for m in profile.text_markers):
                return profile
        # Else the site that the copy's chrome names on lines of its own: its name or
        # domain ("© 2014 Site", "site.org"), or a line only its profile drops ("Site
        # Blog"); the site with most such lines, none on a tie.
        own: dict[str, set[str]] = {}
        for profile in self.sites:
            names = {n.casefold() for n in (profile.site_name, *profile.domains) if n}
            names |= {"www." + d.casefold() for d in profile.domains}
            others = set(self.generic.drop_lines).union(
                *(o.drop_lines for o in self.sites if o is not profile)
            )
            own[profile.name] = names | (set(profile.drop_lines) - others)
        hits: dict[str, int] = {}
        for line in text.splitlines():
            line = line.strip()
            if not line or len(line) > 80:
                continue
            key = _CHROME_NAME.sub("", line).strip(" .,|-–—").casefold()
            for name, keys in own.items():
                if key in keys or line.casefold() in keys:
                    hits[name] = hits.get(name, 0) + 1
        ranked = sorted(hits.items(), key=lambda kv: -kv[1])
        if ranked and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
            return next(p for p in self.sites if p.name == ranked[0][0])
        return None

    def selectors(self, site_profile: Profile | None, kind: str) -> tuple[str, ...]:
        """A site profile's CSS selectors of one kind, then the generic profile's."""
        own: tuple[str, ...] = getattr(site_profile, kind) if site_profile else ()
        generic: tuple[str, ...] = getattr(self.generic, kind)
        return own + generic

    def all_title_suffixes(self) -> tuple[str, ...]:
        """Suffixes of every profile, longest first (safe: each names a site exactly)."""
        out = {s for p in self.sites for s in p.title_suffixes}
        return tuple(sorted(out, key=lambda s: (-len(s), s)))


_CHROME_NAME = re.compile(
    r"(?i)^(?:copyright|©|\(c\)|\s|\d{4}|[-–—,])*|(?:all rights reserved\.?|https?://|/)",
)


def _profile_dirs() -> list[Path]:
    dirs = [Path(str(files("cwingest") / "profiles"))]
    extra = os.environ.get("CWINGEST_PROFILES", "")
    dirs += [Path(p) for p in extra.split(":") if p]
    return dirs


# Profile folders a run names (``--profiles``), on top of the bundled ones and
# ``CWINGEST_PROFILES``: set for the duration of a parse or enrich call, so every reader
# sees them without each function passing them on.
_RUN_DIRS: ContextVar[tuple[str, ...]] = ContextVar("cwingest_profile_dirs", default=())


@contextmanager
def run_profiles(dirs: tuple[str, ...] | list[str]) -> Iterator[None]:
    """Use the profiles in ``dirs`` (besides the bundled ones) within this block."""
    token = _RUN_DIRS.set(tuple(dirs))
    try:
        yield
    finally:
        _RUN_DIRS.reset(token)


def active_profiles() -> ProfileSet:
    """The profiles in force: bundled, ``CWINGEST_PROFILES``, then the run's folders."""
    return load_profiles(_RUN_DIRS.get())


@lru_cache(maxsize=8)
def load_profiles(extra: tuple[str, ...] = ()) -> ProfileSet:
    """Load the generic profile and all site profiles (cached; profiles are immutable).

    Args:
        extra: more profile folders, read last (a site profile there overrides a shipped
            one of the same name).
    """
    generic: Profile | None = None
    sites: dict[str, Profile] = {}
    for folder in [*_profile_dirs(), *(Path(e) for e in extra)]:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            profile = load_profile_file(path)
            if profile.name == "generic":
                generic = profile
            else:
                sites[profile.name] = profile  # a later folder overrides a shipped profile
    if generic is None:
        raise ValueError("generic.toml profile not found")
    return ProfileSet(generic=generic, sites=tuple(sites[k] for k in sorted(sites)))
