"""The ``cwingest`` command, the bundled sample and the Prefect flows, as a user runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cwingest.sample import write_sample
from tests.conftest import ROOT, table


def test_bundled_sample_is_what_the_generator_writes(tmp_path: Path) -> None:
    written = write_sample(tmp_path)
    bundled = sorted(p for p in (ROOT / "raw" / "sample").rglob("*") if p.is_file())
    assert [p.relative_to(tmp_path) for p in written] == [
        p.relative_to(ROOT / "raw" / "sample") for p in bundled
    ]
    for new, old in zip(written, bundled, strict=True):
        assert new.read_bytes() == old.read_bytes(), old


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cwingest", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_ingest_then_backfill(tmp_path: Path) -> None:
    write_sample(tmp_path / "in")
    done = _cli("ingest", "in", "--out", "out", "--raw", "archive", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.strip().splitlines()
    assert line.startswith("cwingest ingest: 15 inputs") and "4 rejected" in line
    assert table(tmp_path / "out", "runs")[0]["command"] == "ingest"
    done = _cli(
        "backfill", "--out", "rebuilt", "--raw", "archive", "--since", "2000-01-01", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert len(table(tmp_path / "rebuilt", "posts")) == len(table(tmp_path / "out", "posts"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("backfill", "--since", "yesterday"), "not an ISO date"),
        (("ingest", "x", "--workers", "0"), "--workers must be at least 1"),
    ],
)
def test_cli_refuses_bad_arguments_in_one_line(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    done = _cli(*args, cwd=tmp_path)
    assert done.returncode != 0 and message in done.stderr


def test_cli_fails_loudly_when_the_run_cannot_complete(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "posts").mkdir()  # a folder where the table link must go
    (tmp_path / "in.txt").write_text("Title\n\nSome body text for the post.\n")
    done = _cli("ingest", "in.txt", "--out", "out", "--raw", "archive", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("cwingest: error:") and len(done.stderr.strip().splitlines()) == 1


def test_a_broken_profile_stops_the_run_before_it_starts(tmp_path: Path) -> None:
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "site.toml").write_text('name = "site"\ndomains = [\n')
    (tmp_path / "in.txt").write_text("Title\n\nSome body text for the post.\n")
    done = _cli("ingest", "in.txt", "--profiles", "profiles", "--out", "out", cwd=tmp_path)
    assert done.returncode == 2
    assert "invalid site profile" in done.stderr and "site.toml" in done.stderr
    assert not (tmp_path / "out" / "posts").exists()  # nothing was published
