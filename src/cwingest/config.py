"""The typed configuration of a run, built the same way by the CLI and the flows.

Everything that decides what a run produces or how it behaves is here, so the stages
take one object instead of keyword arguments and an options dict, and the ``runs``
table records the same parameters whoever started the run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
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
    """

    workers: int = 1
    include_unpublished: bool = False
    dedup: DedupConfig = field(default_factory=DedupConfig)
    max_bytes: int = DEFAULT_MAX_BYTES
    cache: bool = True
    guards: Guards = field(default_factory=Guards)

    def reader_options(self) -> dict[str, Any]:
        """The options readers take (they decide what parsing produces)."""
        return {"include_unpublished": self.include_unpublished}

    def parameters(self) -> dict[str, Any]:
        """What ``runs.parameters`` records of this configuration."""
        return {
            "workers": self.workers,
            "include_unpublished": self.include_unpublished,
            "dedup": asdict(self.dedup),
            "cache": self.cache,
        }
