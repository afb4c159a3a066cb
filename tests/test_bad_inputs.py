"""Bad input never stops a run: each becomes a ``rejects`` row with stage and reason."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import table

BAD = {
    "empty.json": (b"", "empty input"),
    "blank.txt": (b"  \n\n \t", "empty input"),
    "garbage.bin": (bytes(range(256)) * 8, "binary content"),
    "not-utf8.json": (
        '{"id": 1, "title": {"rendered": "Café"}}'.encode("latin-1"),
        "invalid UTF-8",
    ),
    "nothing.json": (b'{"id": [1, 2, {"x": ', "cut-off record"),
    "not-wordpress.json": (json.dumps({"hello": ["world"]}).encode(), "holds no WordPress"),
    "html-saved-as.txt": (b"\x00\x00\xff\xfe" * 300, "binary content"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_is_rejected_with_a_reason(run, tmp_path: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    data, reason = BAD[name]
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / name).write_bytes(data)
    (folder / "good.txt").write_text(
        "A Good Title\n\nThis paragraph is a real one, with words enough to count.\n"
    )
    out, summary = run(folder)
    rejects = table(out, "rejects")
    assert len(rejects) == 1 and summary.rejected == 1
    [r] = rejects
    assert r["source_uri"].endswith(name) and r["stage"] == "parse"
    assert reason in r["detail"] and "\n" not in r["detail"]
    raw = {Path(x["source_uri"]).name: x for x in table(out, "raw_records")}
    assert raw[name]["status"] == "rejected" and raw["good.txt"]["status"] == "parsed"
    assert [p["title"] for p in table(out, "posts")] == ["A Good Title"]


def test_unreadable_file_inside_a_folder_is_reported_and_the_run_goes_on(
    run, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "in"
    folder.mkdir()
    os.symlink(tmp_path / "nowhere", folder / "dangling.json")
    (folder / "good.txt").write_text(
        "Title Here\n\nBody text that is long enough to be a paragraph.\n"
    )
    out, summary = run(folder)
    rejects = table(out, "rejects")
    assert {Path(r["source_uri"]).name for r in rejects} == {"dangling.json"}
    assert all(r["stage"] == "acquire" and r["raw_id"] is None for r in rejects)
    raw = table(out, "raw_records")
    assert len(raw) == 2 and summary.inputs == 2
    assert len(table(out, "posts")) == 1


def test_a_named_path_that_does_not_exist_is_an_error_not_a_reject(tmp_path: Path) -> None:
    from cwingest.cli import main
    from cwingest.models import InputError
    from cwingest.pipeline import run_ingest

    (tmp_path / "good.txt").write_text("Title Here\n\nBody text long enough to be a post.\n")
    with pytest.raises(InputError, match=r"no such file or directory: .*missing-file\.json"):
        run_ingest(
            [str(tmp_path / "good.txt"), str(tmp_path / "missing-file.json")],
            out=tmp_path / "out",
            raw=tmp_path / "raw",
        )
    assert not (tmp_path / "out" / "posts").exists()  # nothing published, nothing archived
    assert not (tmp_path / "raw" / "manifest.jsonl").exists()
    assert main(["ingest", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2


def test_huge_input_over_the_limit_is_rejected_not_loaded(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from cwingest.acquire.rawstore import RawStore
    from cwingest.config import RunConfig
    from cwingest.pipeline import RunSummary, build, new_run_id

    store = RawStore(tmp_path / "raw")
    entry = store.put_bytes(b"<p>" + b"x" * 5000 + b"</p>", "file:///big.html")
    summary = RunSummary(new_run_id(), "test", {}, datetime.now(UTC))
    build([entry], tmp_path / "out", store, summary, config=RunConfig(max_bytes=1000))
    [r] = table(tmp_path / "out", "rejects")
    assert "exceeds the 1000-byte limit" in r["detail"]


def test_skipped_items_are_counted_with_their_reason(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    record = {
        "id": 1,
        "type": "post",
        "title": {"rendered": "Deep"},
        "content": {"rendered": "<p>x</p>"},
    }
    deep: object = record
    for _ in range(9):
        deep = {"wrap": deep}
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "deep.json").write_text(json.dumps(deep))
    (folder / "media.json").write_text(
        json.dumps(
            [
                {
                    "id": 5,
                    "type": "attachment",
                    "title": {"rendered": "a"},
                    "content": {"rendered": ""},
                }
            ]
            * 2
        )
    )
    out, summary = run(folder)
    raw = {Path(r["source_uri"]).name: r for r in table(out, "raw_records")}
    assert raw["deep.json"]["skip_reasons"] == "value nested deeper than 6 levels=1"
    assert raw["media.json"]["skip_reasons"] == "attachment=2" and raw["media.json"]["skipped"] == 2
    assert summary.skipped == 3 and summary.rejected == 0
