"""Password-protected posts keep only what WordPress shows an anonymous visitor, and text
cannot be disguised with bidi overrides or zero-width characters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cwingest.clean.normalize import normalize_line
from cwingest.pipeline import run_ingest
from tests.conftest import RECORDED, need, table

PROTECTED_ID = 42  # the recorded site's password-protected cw_post


def _protected_rows(out: Path) -> list[dict[str, object]]:
    return [p for p in table(out, "posts") if p["wp_id"] == PROTECTED_ID]


@pytest.mark.parametrize("include_unpublished", [False, True])
def test_export_of_a_protected_post_publishes_no_text(
    tmp_path: Path, include_unpublished: bool
) -> None:
    """The export holds the full text behind the password; the corpus must not."""
    export = need(RECORDED / "export.wxr.xml")
    assert "<![CDATA[competency]]></wp:post_password>" in export.read_text("utf-8")
    run_ingest(
        [str(export)],
        out=tmp_path / "out",
        raw=tmp_path / "raw",
        include_unpublished=include_unpublished,
    )
    [post] = _protected_rows(tmp_path / "out")
    assert post["is_protected"] is True
    assert post["content_text"] == "" and post["content_html"] == "" and post["excerpt"] is None
    assert post["word_count"] == 0 and post["content_sha256"] is None
    assert post["title"] == "Q&A with Derek Haines on Common Rubrics"
    assert post["authors"] and post["issues"]  # what a visitor sees stays
    others = [p for p in table(tmp_path / "out", "posts") if p["wp_id"] != PROTECTED_ID]
    assert others and not any(p["is_protected"] for p in others)


def test_rest_record_listing_entry_and_export_of_a_protected_post_stay_protected(
    tmp_path: Path,
) -> None:
    folder = need(RECORDED)
    run_ingest(
        [
            str(folder / "07_password_protected.json"),
            str(folder / "29_html_cw_post_archive_page2.json"),
            str(folder / "export.wxr.xml"),
        ],
        out=tmp_path / "out",
        raw=tmp_path / "raw",
    )
    [post] = _protected_rows(tmp_path / "out")
    assert post["is_protected"] and post["content_text"] == "" and post["source_count"] == 3
    assert post["title"] == "Q&A with Derek Haines on Common Rubrics"  # no "Protected: "
    listed = [s for s in table(tmp_path / "out", "post_sources") if s["wp_id"] == PROTECTED_ID]
    assert {s["source_format"] for s in listed} == {"wp_rest_json", "html_listing", "wxr"}


def test_text_copy_of_a_password_form_is_protected(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "copy.txt").write_text(
        "Skip to content\n\nProtected: Budget Notes for 2024\n\nMarch 3, 2024 by Ana Ruiz\n\n"
        "This content is password protected. To view it please enter your password below:\n\n"
        "Password:\n\nEnter\n",
        encoding="utf-8",
    )
    run_ingest([str(tmp_path / "in")], out=tmp_path / "out", raw=tmp_path / "raw")
    [post] = table(tmp_path / "out", "posts")
    assert post["is_protected"] and post["content_text"] == ""
    assert post["title"] == "Budget Notes for 2024"


def test_disguising_characters_are_removed_but_spellings_are_kept() -> None:
    assert normalize_line("Pay \u202eyad\u202c now") == "Pay yad now"  # bidi override
    assert normalize_line("ad\u200bmin\u2066\u2069") == "admin"  # zero-width space, isolates
    assert normalize_line("می\u200cخواهم") == "می\u200cخواهم"  # Persian ZWNJ is spelling
    assert normalize_line("क्\u200dष") == "क्\u200dष"  # Devanagari ZWJ
    assert normalize_line("👩\u200d🔬 lab") == "👩\u200d🔬 lab"  # an emoji sequence
    assert normalize_line("Cafe\u200d latte") == "Cafe latte"


def test_authors_and_titles_lose_disguising_characters(tmp_path: Path) -> None:
    record = {
        "id": 9,
        "date_gmt": "2020-01-02T03:04:05",
        "type": "post",
        "link": "https://blog.example/hello/",
        "title": {"rendered": "Hello \u202eWorld\u202c"},
        "content": {"rendered": "<p>Plain words, enough of them to be a post about nothing.</p>"},
        "_embedded": {"author": [{"id": 3, "name": "ad\u200bmin\u200e", "slug": "admin"}]},
    }
    (tmp_path / "r.json").write_text(json.dumps(record), encoding="utf-8")
    run_ingest([str(tmp_path / "r.json")], out=tmp_path / "out", raw=tmp_path / "raw")
    [post] = table(tmp_path / "out", "posts")
    assert post["title"] == "Hello World" and post["authors"] == ["admin"]
