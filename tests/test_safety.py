"""Untrusted input: no entity expansion, no local file read, bounded decompression, no
file written outside the raw archive. The hostile files are written here by the test."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest

from tests.conftest import table

WXR_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
{doctype}
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>t</title><wp:wxr_version>1.2</wp:wxr_version>
<item><title>Hostile</title><wp:post_id>1</wp:post_id><wp:post_type>post</wp:post_type>
<wp:status>publish</wp:status><content:encoded>{body}</content:encoded></item>
</channel></rss>
"""

BILLION_LAUGHS = """<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>"""


def test_billion_laughs_is_refused_without_expanding(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "bomb.xml").write_text(
        WXR_HEAD.format(doctype=BILLION_LAUGHS, body="&lol9;")
    )
    out, summary = run(tmp_path / "in")
    [r] = table(out, "rejects")
    assert "entities" in r["detail"] and summary.documents == 0


def test_xxe_reads_no_local_file(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    xxe = f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "xxe.xml").write_text(WXR_HEAD.format(doctype=xxe, body="&xxe;"))
    html = (
        f'<!DOCTYPE html [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]><html><body><article>'
        "<h1>Post</h1><div class='entry-content'><p>Hello &xxe; world, a long enough text.</p>"
        "</div></article></body></html>"
    )
    (tmp_path / "in" / "xxe.html").write_text(html)
    out, _ = run(tmp_path / "in")
    for name in ("posts", "post_sources", "rejects"):
        for row in table(out, name):
            assert "TOP-SECRET" not in repr(row)
    assert any("entities" in r["detail"] for r in table(out, "rejects"))


def _warc_with_gzip_body(path: Path, body: bytes, uri: str = "http://example.org/post/") -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    compressed = gzip.compress(body)
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        headers = StatusAndHeaders(
            "200 OK",
            [("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip")],
            protocol="HTTP/1.1",
        )
        record = writer.create_warc_record(
            uri, "response", payload=io.BytesIO(compressed), http_headers=headers
        )
        writer.write_record(record)


def test_decompression_is_bounded(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from cwingest.parse import warc

    monkeypatch.setattr(warc, "MAX_BODY", 1 << 20)
    (tmp_path / "in").mkdir()
    _warc_with_gzip_body(tmp_path / "in" / "bomb.warc.gz", b"<p>" + b"a" * (8 << 20) + b"</p>")
    page = (
        b"<html><body><article><h1>Fine</h1><p>"
        + b"ok words " * 50
        + b"</p></article></body></html>"
    )
    _warc_with_gzip_body(tmp_path / "in" / "fine.warc.gz", page)
    out, _ = run(tmp_path / "in")
    [r] = table(out, "rejects")
    assert "bytes" in r["detail"] and r["source_uri"].endswith("bomb.warc.gz")
    assert [p["title"] for p in table(out, "posts")] == ["Fine"]


def test_names_from_archives_never_leave_the_raw_folder(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "in").mkdir()
    _warc_with_gzip_body(
        tmp_path / "in" / "evil.warc.gz",
        b"<html><body><article><h1>T</h1><p>text text text text</p></article></body></html>",
        uri="http://example.org/../../../../tmp/evil-file",
    )
    before = {p for p in tmp_path.rglob("*")}
    out, _ = run(tmp_path / "in")
    created = {p for p in tmp_path.rglob("*")} - before
    raw = tmp_path / "raw"
    for path in created:
        assert path.is_relative_to(raw) or path.is_relative_to(out), path
    for r in table(out, "raw_records"):
        assert r["stored_path"].startswith("objects/") and ".." not in r["stored_path"]
    assert not Path("/tmp/evil-file").exists()


def test_content_html_from_hostile_pages_is_safe(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "xss.html").write_text(
        "<html><body class='single'><article><h1>XSS</h1><div class='entry-content'>"
        "<p onclick='steal()'>Click <a href='javascript:alert(1)'>here</a> now.</p>"
        "<img src=x onerror=alert(1)><script>alert(2)</script><iframe src='http://e'></iframe>"
        "<p>More text <svg onload=alert(3)></svg> to read.</p></div></article></body></html>"
    )
    out, _ = run(tmp_path / "in")
    [post] = table(out, "posts")
    html = post["content_html"].lower()
    for bad in ("onclick", "javascript:", "onerror", "<script", "<iframe", "onload", "<svg"):
        assert bad not in html
    assert "Click here now." in post["content_text"]


def test_compressed_inputs_are_read_with_a_bound(tmp_path: Path) -> None:
    import bz2
    import json
    import lzma
    from datetime import UTC, datetime

    from cwingest.acquire.rawstore import RawStore
    from cwingest.config import RunConfig
    from cwingest.pipeline import RunSummary, build, new_run_id

    record = {
        "id": 7,
        "title": {"rendered": "Zipped"},
        "type": "post",
        "link": "https://z.example/zipped/",
        "content": {"rendered": "<p>" + "Words of a compressed post. " * 20 + "</p>"},
    }
    data = json.dumps([record]).encode()
    store = RawStore(tmp_path / "raw")
    entries = [
        store.put_bytes(gzip.compress(data), "file:///in/posts.json.gz"),
        store.put_bytes(bz2.compress(data), "file:///in/posts.json.bz2"),
        store.put_bytes(lzma.compress(data), "file:///in/posts.json.xz"),
        store.put_bytes(gzip.compress(data)[:-30], "file:///in/cut.json.gz"),  # truncated
        store.put_bytes(gzip.compress(b"[" + b" " * (5 << 20) + b"]"), "file:///in/bomb.json.gz"),
        store.put_bytes(b"\x1f\x8b\x08\x00garbage", "file:///in/damaged.gz"),
    ]
    summary = RunSummary(new_run_id(), "test", {}, datetime.now(UTC))
    build(entries, tmp_path / "out", store, summary, config=RunConfig(max_bytes=1 << 20))
    raw = {r["source_uri"].rsplit("/", 1)[1]: r for r in table(tmp_path / "out", "raw_records")}
    for name in ("posts.json.gz", "posts.json.bz2", "posts.json.xz"):
        assert (
            raw[name]["source_format"] == "compressed:wp_rest_json" and raw[name]["documents"] == 1
        )
    assert raw["cut.json.gz"]["documents"] == 1  # what decompressed before the cut is salvaged
    rejects = {
        r["source_uri"].rsplit("/", 1)[1]: r["detail"] for r in table(tmp_path / "out", "rejects")
    }
    assert "decompresses to more than 1048576 bytes" in rejects["bomb.json.gz"]
    assert "damaged gzip stream" in rejects["damaged.gz"]
    [post] = table(tmp_path / "out", "posts")
    assert post["title"] == "Zipped" and post["source_count"] == 4
