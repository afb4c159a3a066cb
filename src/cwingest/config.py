"""The typed configuration of a run, built the same way by the CLI and the flows.

Everything that decides what a run produces or how it behaves is here, so the stages
take one object instead of keyword arguments and an options dict, and the ``runs``
table records the same parameters whoever started the run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cwingest.dedup.similarity import DedupConfig
from cwingest.parse.base import DEFAULT_MAX_BYTES

DEFAULT_WAIT = 300.0


@dataclass(frozen=True)
class Guards:
    """What a run may do to an output that already holds posts.

    Args:
        allow_removals: publish even when posts the output holds would disappear (their
            raw inputs missing from the archive), or when the archive is not the one the
            output was built from.
        wait: seconds to wait for another run holding the output or the archive.
    """

    allow_removals: bool = False
    wait: float = DEFAULT_WAIT


@dataclass(frozen=True)
class RunConfig:
    """How a run parses, deduplicates and publishes.

    Args:
        workers: parse processes (results never depend on it).
        include_unpublished: keep drafts, private and pending items of exports.
        dedup: thresholds and canonical rule of the deduplicate stage.
        max_bytes: largest input a whole-file reader loads (streamed formats go beyond).
        cache: reuse what earlier runs parsed and skip a rebuild when nothing changed.
        guards: what the run may do to posts the output holds, and how long to wait.
        profiles: folders of site profiles used besides the bundled ones and
            ``CWINGEST_PROFILES`` (absolute paths; a later folder wins).
    """

    workers: int = 1
    include_unpublished: bool = False
    dedup: DedupConfig = field(default_factory=DedupConfig)
    max_bytes: int = DEFAULT_MAX_BYTES
    cache: bool = True
    guards: Guards = field(default_factory=Guards)
    profiles: tuple[str, ...] = ()

    def reader_options(self) -> dict[str, Any]:
        """The options readers take (they decide what parsing produces)."""
        options: dict[str, Any] = {"include_unpublished": self.include_unpublished}
        if self.profiles:
            options["profiles"] = list(self.profiles)
        return options

    def parameters(self) -> dict[str, Any]:
        """What ``runs.parameters`` records of this configuration."""
        return {
            "workers": self.workers,
            "include_unpublished": self.include_unpublished,
            "dedup": asdict(self.dedup),
            "cache": self.cache,
            "profiles": list(self.profiles),
        }


def build_config(
    *,
    workers: int = 1,
    include_unpublished: bool = False,
    near_threshold: float = DedupConfig.near_threshold,
    containment_threshold: float = DedupConfig.containment_threshold,
    canonical_rule: str | tuple[str, ...] | list[str] = DedupConfig.canonical_rule,
    keep_reposts: bool = False,
    no_cache: bool = False,
    allow_removals: bool = False,
    wait: float = DEFAULT_WAIT,
    profiles: tuple[str, ...] | list[str] = (),
) -> RunConfig:
    """A run configuration from the options the command line and the flows share, checked.

    Both build it here, with the same names (``--near-threshold`` is ``near_threshold``),
    so a deployment and a command given the same options run the same way.

    Raises:
        InputError: an option is out of range (one line naming it).
    """
    from cwingest.dedup.clusters import CANONICAL_CRITERIA
    from cwingest.models import InputError

    if workers < 1:
        raise InputError("--workers must be at least 1")
    if wait < 0:
        raise InputError("--wait must not be negative")
    for name, value in (
        ("near-threshold", near_threshold),
        ("containment-threshold", containment_threshold),
    ):
        if not 0.0 < value <= 1.0:
            raise InputError(f"--{name} must be in (0, 1]")
    rule = parse_rule(canonical_rule, CANONICAL_CRITERIA)
    folders = []
    for folder in profiles:
        path = Path(folder).expanduser().resolve()
        if not path.is_dir():
            raise InputError(f"--profiles {folder}: no such folder")
        folders.append(str(path))
    if folders:  # a broken profile stops the run before it starts, naming the file
        from cwingest.clean.profiles import load_profiles

        try:
            load_profiles(tuple(folders))
        except ValueError as exc:
            raise InputError(str(exc).splitlines()[0]) from exc
    return RunConfig(
        workers=workers,
        include_unpublished=include_unpublished,
        dedup=DedupConfig(
            near_threshold=near_threshold,
            containment_threshold=containment_threshold,
            canonical_rule=rule,
            merge_reposts=not keep_reposts,
        ),
        cache=not no_cache,
        guards=Guards(allow_removals=allow_removals, wait=wait),
        profiles=tuple(folders),
    )


def parse_rule(value: str | tuple[str, ...] | list[str], known: tuple[str, ...]) -> tuple[str, ...]:
    """Canonical-rule criteria from "a,b" or a sequence, each one of ``known``.

    Raises:
        InputError: an unknown criterion, or none.
    """
    from cwingest.models import InputError

    names = (
        tuple(v.strip() for v in value.split(",") if v.strip())
        if isinstance(value, str)
        else tuple(value)
    )
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise InputError(f"unknown canonical criteria {unknown}; choose from {', '.join(known)}")
    return names
