"""The crawler against a real WordPress 6 (Debian's package, MariaDB, PHP's server) on
127.0.0.1, started by ``../shared/tools/realwp/setup.sh`` for this session and stopped by
pid afterwards (``teardown.sh``). Skipped when ``../shared`` is absent or the machine
cannot install and run it (not root, no apt).

A full crawl must equal the site's ground truth; after ``lib/mutate.php`` edits, adds and
trashes posts, the next crawl must pick up exactly those changes for a small fraction of
the first crawl's bytes, and mark the trashed post deleted.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cwingest.acquire.crawl import CrawlOptions
from cwingest.pipeline import run_crawl
from tests.conftest import SHARED, table

REALWP = SHARED / "tools" / "realwp"
OPTIONS = CrawlOptions(rate=25, read_timeout=60.0)
_MAP = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"}
)


def _norm(text: str | None) -> str:
    text = unicodedata.normalize("NFKC", text or "").translate(_MAP).replace("--", "-")
    return " ".join(text.replace("\u2026", "...").split()).casefold()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def realwp() -> Iterator[dict[str, Any]]:
    """A seeded real WordPress on a free port of 127.0.0.1, for this module only."""
    if not (REALWP / "setup.sh").exists():
        pytest.skip(f"{REALWP} not available (../shared is absent)")
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("installing the realwp packages needs root and apt-get")
    port = _free_port()
    # MariaDB runs as its own user: the data dir cannot sit in pytest's private tmp dirs
    data = Path(tempfile.gettempdir()) / f"cwingest-realwp-{port}"
    env = {
        **os.environ,
        "WP_PORT": str(port),
        "REALWP_DATA": str(data),
        "SEED_N": "300",
        "SEED": "31337",
    }
    done = subprocess.run(
        [str(REALWP / "setup.sh")], env=env, capture_output=True, text=True, timeout=900
    )
    try:
        if done.returncode != 0:
            pytest.skip(f"realwp could not start here: {done.stderr.strip().splitlines()[-1:]}")
        truth = json.loads((data / "ground_truth.json").read_text())
        yield {"url": f"http://127.0.0.1:{env['WP_PORT']}", "data": data, "truth": truth}
    finally:
        subprocess.run(
            [str(REALWP / "teardown.sh")], env={**env, "PURGE": "1"}, capture_output=True
        )


def _by_wp_id(out: Path) -> dict[int, dict[str, Any]]:
    posts = {p["post_id"]: p for p in table(out, "posts")}
    return {s["wp_id"]: posts[s["post_id"]] for s in table(out, "post_sources") if s["wp_id"]}


def _mismatches(truth: dict[str, Any], out: Path) -> tuple[list[Any], list[int], int]:
    """(wrong fields, hidden posts that leaked, visible posts checked)."""
    rows = _by_wp_id(out)
    wrong: list[Any] = []
    checked = 0
    for p in truth["posts"]:
        if not p["visible_anonymous"]:
            continue
        row = rows.get(p["id"])
        if row is None:
            wrong.append((p["id"], "missing"))
            continue
        if p.get("duplicate_of"):
            continue  # a copy of another post: its row is the original's
        checked += 1
        if _norm(row["title"]) != _norm(p["title_clean"]):
            wrong.append((p["id"], "title", row["title"], p["title_clean"]))
        want = datetime.fromisoformat(p["date_gmt"]).replace(tzinfo=UTC)
        if row["published_at"] != want:
            wrong.append((p["id"], "date", row["published_at"], want))
        if p["type"] == "cw_post" and sorted(map(_norm, row["issues"])) != sorted(
            map(_norm, p.get("issues") or [])
        ):
            wrong.append((p["id"], "issues", row["issues"], p.get("issues")))
        # a protected post's in-content byline is behind its password
        byline = p.get("coauthors") or (
            [p["wp_author"]] if p.get("password_protected") else p.get("authors")
        )
        if [_norm(a) for a in row["authors"]] != [_norm(a) for a in byline or []]:
            wrong.append((p["id"], "authors", row["authors"], byline))
    leaked = [p["id"] for p in truth["posts"] if not p["visible_anonymous"] and p["id"] in rows]
    return wrong, leaked, checked


def test_full_then_incremental_crawl_of_a_real_wordpress(
    realwp: dict[str, Any], tmp_path: Path
) -> None:
    out, raw = tmp_path / "out", tmp_path / "raw"
    first = run_crawl(realwp["url"], out=out, raw=raw, options=OPTIONS)
    wrong, leaked, checked = _mismatches(realwp["truth"], out)
    assert leaked == []  # no draft, private, pending, future or trashed post
    assert checked >= 200
    assert len(wrong) <= 0.02 * checked, wrong
    assert not [w for w in wrong if w[1] == "missing"], wrong
    assert first.crawl is not None and first.crawl.retries == 0

    # edits, new posts and a trashed one, "now"
    mutated = subprocess.run(
        [
            "php",
            str(REALWP / "lib" / "mutate.php"),
            f"--wp={realwp['data'] / 'www'}",
            "--edit=4",
            "--new=2",
            "--trash=1",
            "--seed=5",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert mutated.returncode == 0, mutated.stderr
    changes = json.loads(mutated.stdout)
    second = run_crawl(
        realwp["url"],
        out=out,
        raw=raw,
        options=CrawlOptions(**{**OPTIONS.__dict__, "sweep": True}),
    )
    assert second.crawl is not None
    assert second.crawl.bytes < 0.2 * first.crawl.bytes  # a small fraction of the first
    edited, created, trashed = changes["edited"], changes["created"], changes["trashed"]
    assert len(edited) == 4 and len(created) == 2 and len(trashed) == 1
    # the changed posts were fetched again (and few others, inside the lag window)
    assert second.crawl.records <= len(edited) + len(created) + 5
    rows = _by_wp_id(out)
    copies = {p["id"] for p in realwp["truth"]["posts"] if p.get("duplicate_of")}
    copies |= {p["duplicate_of"] for p in realwp["truth"]["posts"] if p.get("duplicate_of")}
    for change in edited:
        # the edit is in the post's row, unless the post is one of a set of reposts (whose
        # row is the original's); its own new copy is among the row's sources either way
        sources = [s for s in table(out, "post_sources") if s["wp_id"] == change["id"]]
        assert any(
            s["modified_at"] and s["modified_at"].isoformat().startswith(change["modified_gmt"])
            for s in sources
        ), (change, sources)
        if change["id"] not in copies:
            assert _norm(change["added_paragraph"]) in _norm(rows[change["id"]]["content_text"])
    for change in created:
        row = rows[change["id"]]
        assert row["title"] == change["title"] and row["deleted_at"] is None
        assert row["issues"] == ["Issues in Practice"]
    for change in trashed:
        assert rows[change["id"]]["deleted_at"] is not None
        assert rows[change["id"]]["deleted_reason"] == "not public (401)"
    gone_rows = {rows[c["id"]]["post_id"] for c in trashed}
    untouched = {c["id"] for c in edited + created + trashed}
    untouched |= {i for i, r in rows.items() if r["post_id"] in gone_rows}  # its reposts
    wrongly = {
        i: r["deleted_reason"] for i, r in rows.items() if i not in untouched and r["deleted_at"]
    }
    assert wrongly == {}, (wrongly, second.notes)
