"""What each stage reports: one :class:`Reject` where a drop happens, one
:class:`StageReport` per stage, which the run summary only adds up."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Reject:
    """Something a stage could not use, with a one-line reason (a ``rejects`` row).

    Args:
        stage: acquire, parse or clean.
        error: the class of reason ("cut-off record", "no content").
        detail: the one-line reason, with the position or title when known.
    """

    stage: str
    error: str
    detail: str


@dataclass
class StageReport:
    """Counts, skips with their reasons, rejects and seconds of one stage of a run."""

    stage: str
    counts: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    seconds: float = 0.0
