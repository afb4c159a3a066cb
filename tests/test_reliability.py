"""Never lose the corpus: real processes killed, run twice at once, pointed at the wrong
archive, out of disk, reading a read-only archive.

Every test runs ``python -m cwingest`` as a user would and checks the tables, files and
processes a user would look at afterwards.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cwingest.synthetic import write_publication
from tests.conftest import archive_rows, table

TABLES = ("posts", "post_sources", "raw_records", "rejects", "authors", "issues")
ENV = {**os.environ, "CI": "1", "PYTHONUNBUFFERED": "1"}


def cli(*args: str | Path, **kw: object) -> subprocess.CompletedProcess[str]:
    """Run the command line to completion."""
    return subprocess.run(
        [sys.executable, "-m", "cwingest", *map(str, args)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=600,
        **kw,  # type: ignore[call-overload]
    )


def start(*args: str | Path) -> subprocess.Popen[str]:
    """Start the command line without waiting."""
    return subprocess.Popen(
        [sys.executable, "-m", "cwingest", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )


def children(pid: int) -> set[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                found.add(int(entry.name))
    return found


def alive(pids: set[int]) -> set[int]:
    """Those of ``pids`` still running (zombies count as gone)."""
    out = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            out.add(pid)
    return out


def tables(out: Path) -> dict[str, list[str]]:
    """Every row of every table (but runs), in a comparable form."""
    return {name: sorted(map(repr, archive_rows(out, name))) for name in TABLES}


def wait_for(predicate, timeout: float = 120.0, step: float = 0.01) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return False


@pytest.fixture(scope="module")
def pub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An invented publication big enough that a run takes a few seconds."""
    folder = tmp_path_factory.mktemp("pub")
    write_publication(folder, posts=250, seed=9)
    return folder


def _kill_when(proc: subprocess.Popen[str], ready, timeout: float = 120.0) -> set[int]:  # type: ignore[no-untyped-def]
    """SIGKILL the run once ``ready()`` holds; returns the children it had."""
    kids: set[int] = set()

    def check() -> bool:
        kids.update(children(proc.pid))
        return bool(ready()) or proc.poll() is not None

    assert wait_for(check, timeout)
    assert proc.poll() is None, "the run finished before it could be killed"
    kids.update(children(proc.pid))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    return kids


def test_kill_during_parse_with_workers_leaves_nothing_behind(pub: Path, tmp_path: Path) -> None:
    out, raw = tmp_path / "out", tmp_path / "raw"
    proc = start("ingest", pub, "--out", out, "--raw", raw, "--workers", "2")

    def parsing() -> bool:  # both workers up and spooling documents
        spools = [p for w in out.glob(".work-*") for p in w.glob("*.jsonl")]
        return len(children(proc.pid)) >= 2 and len(spools) >= 3

    kids = _kill_when(proc, parsing)
    assert len(kids) >= 2
    assert wait_for(lambda: not alive(kids), timeout=10), f"workers survived: {alive(kids)}"
    assert not (out / "posts").exists()  # nothing was published
    assert list(out.glob(".work-*"))  # what the killed run left
    again = cli("ingest", pub, "--out", out, "--raw", raw, "--workers", "2")
    assert again.returncode == 0, again.stderr
    assert "did not finish" in again.stderr  # the dead holder's lock was taken over
    assert not list(out.glob(".work-*"))
    reference = cli("backfill", "--out", tmp_path / "ref", "--raw", raw)
    assert reference.returncode == 0, reference.stderr
    assert tables(out) == tables(tmp_path / "ref")


def test_kill_while_writing_tables_publishes_nothing_then_recovers(
    pub: Path, tmp_path: Path
) -> None:
    out, raw = tmp_path / "out", tmp_path / "raw"
    first = cli("ingest", pub / "rest", "--out", out, "--raw", raw)
    assert first.returncode == 0, first.stderr
    before = tables(out)
    proc = start("ingest", pub, "--out", out, "--raw", raw)
    runs = {r["run_id"] for r in table(out, "runs")}

    def writing() -> bool:  # a table of the new run is being written
        staged = (out / ".versions").glob("*-*")
        return any(p.name.split("-", 1)[1] not in runs for p in staged)

    _kill_when(proc, writing)
    assert tables(out) == before  # readers still see the previous complete version
    again = cli("ingest", pub, "--out", out, "--raw", raw)
    assert again.returncode == 0, again.stderr
    staged_runs = {p.name.split("-", 1)[1] for p in (out / ".versions").iterdir()}
    assert staged_runs <= {r["run_id"] for r in table(out, "runs")}  # leftovers removed
    reference = cli("backfill", "--out", tmp_path / "ref", "--raw", raw)
    assert reference.returncode == 0, reference.stderr
    assert tables(out) == tables(tmp_path / "ref")


def test_two_runs_at_once_on_one_output_both_land(pub: Path, tmp_path: Path) -> None:
    out, raw = tmp_path / "out", tmp_path / "raw"
    first = [pub / d for d in ("rest", "pages", "listings", "captures", "text", "wxr")]
    (tmp_path / "late").mkdir()
    (tmp_path / "late" / "note.txt").write_text("A Late Note\n\nWritten while the first run ran.\n")
    a = start("ingest", *first, "--out", out, "--raw", raw)
    lock = out / ".cwingest.lock"
    assert wait_for(lambda: lock.exists() and lock.stat().st_size > 0)
    os.kill(a.pid, signal.SIGSTOP)  # the first holds the lock until the second has seen it
    try:
        b = start("ingest", tmp_path / "late", "--out", out, "--raw", raw)
        assert b.stderr is not None
        ready, _, _ = select.select([b.stderr], [], [], 120)
        said = b.stderr.readline() if ready else ""
    finally:
        os.kill(a.pid, signal.SIGCONT)
    results = [(p.wait(300), *p.communicate()) for p in (a, b)]
    assert [r[0] for r in results] == [0, 0], results
    assert f"waiting for run PID {a.pid}" in said + results[1][2]  # the second waited
    alone = tmp_path / "alone"
    both = cli("ingest", *first, tmp_path / "late", "--out", alone, "--raw", raw)
    assert both.returncode == 0
    assert len(table(out, "posts")) == len(table(alone, "posts"))
    assert "A Late Note" in {p["title"] for p in table(out, "posts")}


def test_two_runs_with_different_archives_never_drop_posts(pub: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    a = start("ingest", pub / "rest", "--out", out, "--raw", tmp_path / "raw1")
    time.sleep(0.3)
    b = start("ingest", pub / "text", "--out", out, "--raw", tmp_path / "raw2")
    codes = sorted([a.wait(300), b.wait(300)])
    assert codes == [0, 3]  # the second is refused: another archive built this output
    err = a.communicate()[1] + b.communicate()[1]
    assert "was built from the raw archive" in err
    assert len(table(out, "posts")) > 0


def test_a_busy_output_makes_the_run_wait_then_give_up(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (tmp_path / "in.txt").write_text("A Title\n\nSome body text long enough to count.\n")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from cwingest.acquire import locks\n"
            "with locks.hold(Path(sys.argv[1]), 'x', command='test'):\n"
            "    print('held', flush=True); time.sleep(30)",
            str(out / ".cwingest.lock"),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        run = cli(
            "ingest", tmp_path / "in.txt", "--out", out, "--raw", tmp_path / "raw", "--wait", "4"
        )
        assert run.returncode == 4
        assert f"in use by run PID {holder.pid}" in run.stderr
        assert "waiting for run PID" in run.stderr and time.monotonic() - started >= 4
        assert not (out / "posts").exists()
    finally:
        holder.kill()
        holder.wait()
    # The holder was killed: the kernel released its lock, and the next run says so.
    done = cli("ingest", tmp_path / "in.txt", "--out", out, "--raw", tmp_path / "raw")
    assert done.returncode == 0
    assert f"(PID {holder.pid}" in done.stderr and "taking over" in done.stderr
    calm = cli("ingest", tmp_path / "in.txt", "--out", out, "--raw", tmp_path / "raw")
    assert calm.returncode == 0 and calm.stderr == ""  # a finished run leaves no warning


def test_a_mistyped_or_empty_archive_never_empties_the_corpus(pub: Path, tmp_path: Path) -> None:
    out, raw = tmp_path / "out", tmp_path / "raw"
    assert cli("ingest", pub / "rest", "--out", out, "--raw", raw).returncode == 0
    before = tables(out)
    typo = cli("backfill", "--out", out, "--raw", tmp_path / "raw_typo")
    assert typo.returncode == 2 and "no raw archive at" in typo.stderr
    (tmp_path / "empty").mkdir()
    empty = cli("backfill", "--out", out, "--raw", tmp_path / "empty")
    assert empty.returncode == 2 and typo.stderr.count("\n") == 1
    other = cli("ingest", pub / "text", "--out", out, "--raw", tmp_path / "raw2")
    assert other.returncode == 3 and "--allow-removals" in other.stderr
    assert tables(out) == before  # every refused run published nothing
    forced = cli(
        "ingest", pub / "text", "--out", out, "--raw", tmp_path / "raw2", "--allow-removals"
    )
    assert forced.returncode == 0, forced.stderr
    removed = table(out, "runs")[-1]["posts_removed"]
    assert removed and f"{removed} removed" in forced.stdout


def test_missing_raw_objects_stop_the_run_unless_allowed(pub: Path, tmp_path: Path) -> None:
    out, raw = tmp_path / "out", tmp_path / "raw"
    assert cli("ingest", pub / "rest", "--out", out, "--raw", raw).returncode == 0
    before = tables(out)
    victim = next(p for p in sorted((raw / "objects").rglob("*")) if p.is_file())
    victim.unlink()
    run = cli("ingest", pub / "text", "--out", out, "--raw", raw)
    assert run.returncode == 3 and "missing from" in run.stderr and "would remove" in run.stderr
    assert tables(out) == before


def test_path_errors_and_bad_inputs_have_distinct_exit_codes(tmp_path: Path) -> None:
    missing = cli("ingest", tmp_path / "no" / "such" / "path", "--out", tmp_path / "o")
    assert missing.returncode == 2
    assert (
        missing.stderr.strip()
        == f"cwingest: error: no such file or directory: {tmp_path}/no/such/path"
    )
    (tmp_path / "bad.json").write_bytes(b"\x00\x01garbage")
    bad = cli("ingest", tmp_path / "bad.json", "--out", tmp_path / "o", "--raw", tmp_path / "r")
    assert bad.returncode == 0 and "1 rejected" in bad.stdout  # a bad input is a reject


def test_a_folder_that_cannot_be_read_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cwingest.cli import main

    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "a.txt").write_text("x")
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):  # root reads every folder: deny it as a user would be
            real = os.access
            monkeypatch.setattr(
                os, "access", lambda p, mode, **kw: False if Path(p) == locked else real(p, mode)
            )
        code = main(
            ["ingest", str(locked), "--out", str(tmp_path / "o"), "--raw", str(tmp_path / "r")]
        )
        assert code == 2
        assert capsys.readouterr().err.strip() == (
            f"cwingest: error: cannot read {locked}: permission denied"
        )
        assert not (tmp_path / "o" / "posts").exists()
    finally:
        locked.chmod(0o755)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1.5 MB file system (tmpfs) for the output, when this machine lets us mount one."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1536k", "tmpfs", str(mount)], capture_output=True
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_disk_full_keeps_the_previous_version(pub: Path, tmp_path: Path, small_disk: Path) -> None:
    out, raw = small_disk / "out", tmp_path / "raw"
    small = cli("ingest", pub / "text", "--out", out, "--raw", raw)
    assert small.returncode == 0, small.stderr
    before = tables(out)
    full = cli("ingest", pub, "--out", out, "--raw", raw)
    assert full.returncode == 1
    assert "No space left on device" in full.stderr and full.stderr.count("\n") == 1
    assert tables(out) == before
    assert not list(out.glob(".work-*"))  # the failed run cleaned up after itself


def test_backfill_from_a_read_only_archive(pub: Path, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    assert cli("ingest", pub / "rest", "--out", tmp_path / "first", "--raw", raw).returncode == 0
    ro = tmp_path / "ro"
    ro.mkdir()
    made = subprocess.run(["mount", "--bind", "-o", "ro", str(raw), str(ro)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot make a read-only bind mount here: {made.stderr.decode().strip()}")
    try:
        assert not os.access(ro, os.W_OK)
        run = cli("backfill", "--out", tmp_path / "out", "--raw", ro)
        assert run.returncode == 0, run.stderr
        assert tables(tmp_path / "out") == tables(tmp_path / "first")
        assert not (ro / ".lock").exists() or (raw / ".lock").exists()
        state = json.loads((tmp_path / "out" / ".cwingest.json").read_text())
        assert state["archive_id"] == json.loads((raw / "archive.json").read_text())["archive_id"]
    finally:
        subprocess.run(["umount", str(ro)], check=False)


@pytest.mark.parametrize("shape", ["captures", "pages", "rest"])
def test_a_full_disk_while_spooling_stops_the_run_instead_of_rejecting_the_input(
    pub: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    """ENOSPC inside a reader that salvages damaged input (a WARC's record loop, a
    decompressor) is the machine's failure: the run stops with it, nothing is published,
    and the input is not recorded as damaged."""
    import errno

    import cwingest.parse.stage as parse_stage
    from cwingest.pipeline import run_ingest

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(parse_stage, "clean_to_spool", full)
    out = tmp_path / "out"
    with pytest.raises(OSError, match="No space left on device"):
        run_ingest([str(pub / shape)], out=out, raw=tmp_path / "raw")
    assert not (out / "posts").exists() and not (out / "rejects").exists()
