"""Locks that keep two runs from writing one output (or one archive) at the same time.

A lock is an ``flock`` on a small file that also says who holds it (pid, command, start
time), so a run that has to wait can say for whom, and a run that finds the file still
naming a holder that is gone knows the last run was killed (the kernel releases an
``flock`` when its holder dies, so a dead holder never blocks anyone). Worker processes
never inherit the lock: they are started fresh (``spawn``), not forked.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from cwingest.models import RunError

BUSY_EXIT = 4


class Busy(RunError):
    """Another run held the lock for longer than we were willing to wait."""

    exit_code = BUSY_EXIT


def _say(message: str) -> None:
    # the command line shows warnings on stderr ("cwingest: …"); flows send them to
    # Prefect's run log
    logging.getLogger("cwingest").warning(message)


def _holder(text: str) -> dict[str, object]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def hold(
    path: Path,
    what: str,
    *,
    command: str,
    wait: float = 300.0,
    shared: bool = False,
    say: Callable[[str], None] = _say,
    notice_after: float = 2.0,
) -> Iterator[bool]:
    """Hold the lock at ``path`` for the block; yields whether the previous holder died.

    Args:
        path: the lock file (created if missing).
        what: what it protects, for messages ("output curated/").
        command: this run's command, written into the file for others to read.
        wait: seconds to wait for another holder before giving up with :class:`Busy`.
        shared: take a shared lock (readers of an archive) instead of an exclusive one.
        say: where waiting and takeover messages go.
        notice_after: seconds of waiting before saying whom we wait for.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        started = time.monotonic()
        told = False
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = time.monotonic() - started
                info = _holder(os.pread(fd, 4096, 0).decode("utf-8", "replace"))
                who = f"run PID {info.get('pid', '?')} (started {info.get('started_at', '?')})"
                if waited >= wait:
                    raise Busy(
                        f"{what} is in use by {who}; gave up after {wait:.0f} s "
                        "(try again later, or give --wait more seconds)"
                    ) from None
                if waited >= notice_after and not told:
                    say(f"waiting for {who} to finish with {what} (up to {wait:.0f} s)")
                    told = True
                time.sleep(0.2)
        previous = _holder(os.pread(fd, 4096, 0).decode("utf-8", "replace"))
        died = bool(previous.get("pid")) and not shared and not _alive(previous.get("pid"))
        if died:
            say(
                f"the last run on {what} (PID {previous.get('pid')}, started "
                f"{previous.get('started_at', '?')}) did not finish; taking over its lock"
            )
        if not shared:
            record = {
                "pid": os.getpid(),
                "command": command,
                "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(record).encode(), 0)
        try:
            yield died
        finally:
            if not shared:
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
