"""Archive formats on real files: every WXR export and WARC capture of ../shared/data/real.

Expected counts are computed here with a plain XML pass (ElementTree) and a plain warcio
pass, independently of cwingest's readers.
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import REAL, RECORDED, need, table

WXR_DIRS = ["wxr-wordpress-importer", "wxr-woocommerce-sample"]
NOT_CONTENT = {
    "attachment",
    "nav_menu_item",
    "revision",
    "guest-author",
    "product_variation",
    "wp_block",
    "wp_navigation",
    "wp_template",
    "wp_template_part",
    "wp_global_styles",
    "customize_changeset",
    "custom_css",
    "oembed_cache",
    "user_request",
}
WXR_NS = re.compile(r"^\{https?://wordpress\.org/export/1\.\d+/\}(.+)$")


def _wxr_files() -> list[Path]:
    files = [f for d in WXR_DIRS for f in sorted((REAL / d).glob("*.xml"))] if REAL.exists() else []
    if RECORDED.exists():
        files.append(RECORDED / "export.wxr.xml")
    return files


def _expected_published(path: Path) -> Counter[str] | None:
    """Published content items by post type, or None when XML is not well-formed."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError:
        return None
    counts: Counter[str] = Counter()
    for channel in root.iter("channel"):
        for item in channel.findall("item"):
            fields = {}
            for child in item:
                m = WXR_NS.match(child.tag)
                if m and m.group(1) not in fields:
                    fields[m.group(1)] = (child.text or "").strip()
            has_content = item.find("{http://purl.org/rss/1.0/modules/content/}encoded") is not None
            if "post_type" not in fields and not ("post_id" in fields and has_content):
                continue
            post_type = fields.get("post_type") or "post"
            if post_type in NOT_CONTENT or fields.get("status", "publish") != "publish":
                continue
            counts[post_type] += 1
    return counts


@pytest.fixture(scope="module")
def wxr_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cwingest.pipeline import run_ingest

    files = _wxr_files()
    if not files:
        pytest.skip("../shared absent")
    base = tmp_path_factory.mktemp("wxr")
    run_ingest([str(f) for f in files], out=base / "out", raw=base / "raw")
    return base / "out"


@pytest.mark.parametrize("path", _wxr_files(), ids=lambda p: p.name)
def test_wxr_counts_match_a_plain_xml_pass(wxr_out: Path, path: Path) -> None:
    uri = path.resolve().as_uri()
    expected = _expected_published(path)
    got = Counter(s["post_type"] for s in table(wxr_out, "post_sources") if s["source_uri"] == uri)
    [raw] = [r for r in table(wxr_out, "raw_records") if r["source_uri"] == uri]
    if expected is None:  # not well-formed XML: every readable item read, never a crash
        text = path.read_text("utf-8", errors="replace")
        blocks = re.findall(r"<item>(.*?)</item>", text, re.S)
        published = [
            b
            for b in blocks
            if re.search(r"<wp:status>(?:<!\[CDATA\[)?publish", b)
            and not re.search(r"<wp:post_type>(?:<!\[CDATA\[)?(?:attachment|nav_menu_item)", b)
        ]
        if not published:  # nothing to read: rejected with a reason
            reasons = [r["detail"] for r in table(wxr_out, "rejects") if r["source_uri"] == uri]
            assert raw["status"] == "rejected" and reasons
            assert not got
        else:
            assert sum(got.values()) == len(published) and raw["status"] in ("parsed", "partial")
    else:
        assert raw["source_format"] == "wxr" and raw["status"] == "parsed"
        assert got == expected


def test_wxr_special_files(wxr_out: Path) -> None:
    posts = table(wxr_out, "posts")
    sources = table(wxr_out, "post_sources")
    by_file: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    for s in sources:
        by_file.setdefault(Path(s["source_uri"]).name, []).append(s)
    post_by_id = {p["post_id"]: p for p in posts}
    # Custom post type with custom taxonomies (WooCommerce).
    products = [post_by_id[s["post_id"]] for s in by_file["sample_products.xml"]]
    assert len(products) == 18 and {p["post_type"] for p in products} == {"product"}
    taxonomies = {t["taxonomy"] for p in products for t in p["other_terms"]}
    assert {"product_cat", "product_type"} <= taxonomies
    # Hostile Unicode keeps its characters through cleaning.
    [utf] = [post_by_id[s["post_id"]] for s in by_file["wxr-utf-8-challenges.xml"]]
    source = (REAL / "wxr-wordpress-importer" / "wxr-utf-8-challenges.xml").read_text("utf-8")
    published = (utf["title"] or "") + utf["content_text"] + "".join(utf["authors"])
    published += "".join(utf["categories"])
    for ch in ("🎭", "🌲", "السلام"):  # letters and emoji survive
        assert ch in source and ch in published
    for ch in ("\u202e", "\u202d", "\u200b", "\u2063"):  # text disguises do not
        assert ch in source and ch not in published
    assert utf["title"] == '"The Road Not Taken" by Robert Frost 🌲'
    assert (
        "Admin"
        in unicodedata.normalize("NFKD", utf["authors"][0]).encode("ascii", "ignore").decode()
    )
    # CDATA split in several sections is one text; blank lines become paragraphs.
    [multi] = [post_by_id[s["post_id"]] for s in by_file["multiple-cdata.xml"]]
    assert "]]>" not in multi["content_text"] and "CDATA" not in multi["content_text"]
    [blank] = [post_by_id[s["post_id"]] for s in by_file["post-content-blank-lines.xml"]]
    assert blank["content_text"].count("\n\n") >= 1 and "<p>" not in blank["content_text"]


def test_wxr_authors_and_terms_match_the_recorded_site(run) -> None:  # type: ignore[no-untyped-def]
    import json

    path = need(RECORDED / "export.wxr.xml")
    truth = {
        p["id"]: p for p in json.loads((RECORDED / "ground_truth.json").read_text("utf-8"))["posts"]
    }
    out, _ = run(path)
    posts = table(out, "posts")
    assert len(posts) >= 30
    for post in posts:
        g = truth[post["wp_id"]]
        assert post["authors"] == g["authors"], post["wp_id"]  # logins never published
        assert sorted(post["issues"]) == sorted(g.get("issues", []))
        assert sorted(post["tags"]) == sorted(g.get("tags", []))


def test_wxr_unpublished_items_only_on_request(tmp_path: Path) -> None:
    from cwingest.pipeline import run_ingest

    path = need(REAL / "wxr-wordpress-importer" / "small-export.xml")
    default = run_ingest([str(path)], out=tmp_path / "a", raw=tmp_path / "raw")
    everything = run_ingest(
        [str(path)], out=tmp_path / "b", raw=tmp_path / "raw", include_unpublished=True
    )
    assert everything.documents == default.documents + 2  # one draft page, one private post
    statuses = Counter(s["status"] for s in table(tmp_path / "b", "post_sources"))
    assert statuses == Counter({"publish": default.documents, "draft": 1, "private": 1})


# -- WARC --------------------------------------------------------------------------------

WARCS = sorted(p for d in ("warc-warcio", "warc-pywb", "warc-ukwa") for p in (REAL / d).glob("*"))


def _expected_warc_documents(path: Path) -> int:
    """HTML/JSON 200 responses, plus revisits of one of them in the same file."""
    from warcio.archiveiterator import ArchiveIterator

    wanted: set[str] = set()
    uris: set[str] = set()
    n = 0
    revisits = []
    with open(path, "rb") as fh:
        for rec in ArchiveIterator(fh, arc2warc=True):
            if rec.rec_type == "response" and rec.http_headers:
                ctype = (rec.http_headers.get_header("Content-Type") or "").split(";")[0].strip()
                if rec.http_headers.get_statuscode() == "200" and (
                    ctype in ("text/html", "application/xhtml+xml") or "json" in ctype
                ):
                    n += 1
                    wanted.add(rec.rec_headers.get_header("WARC-Payload-Digest") or "")
                    uris.add(rec.rec_headers.get_header("WARC-Target-URI") or "")
            elif rec.rec_type == "revisit":
                revisits.append(
                    (
                        rec.rec_headers.get_header("WARC-Payload-Digest"),
                        rec.rec_headers.get_header("WARC-Refers-To-Target-URI")
                        or rec.rec_headers.get_header("WARC-Target-URI"),
                    )
                )
    n += sum(1 for digest, uri in revisits if digest in wanted or uri in uris)
    return n


@pytest.mark.parametrize("path", WARCS, ids=lambda p: p.name)
def test_warc_one_document_per_html_or_json_capture(run, path: Path) -> None:  # type: ignore[no-untyped-def]
    out, summary = run(path)
    [raw] = table(out, "raw_records")
    assert raw["source_format"] == "warc" and raw["status"] == "parsed"
    assert raw["documents"] == _expected_warc_documents(path) > 0
    assert summary.rejected == 0  # non-200 and other media types are skipped, not rejected
    for s in table(out, "post_sources"):
        assert s["url"] and s["url"].startswith("http")
        assert s["source_format"] == "warc_html"


@pytest.mark.parametrize(
    "name",
    [
        "transfer_compression_gzip.warc.gz",
        "transfer_compression_brotli.warc.gz",
        "example-iana.org-chunked.warc",
    ],
)
def test_warc_bodies_are_decoded(run, name: str) -> None:  # type: ignore[no-untyped-def]
    path = need(next((p for p in WARCS if p.name == name), REAL / "missing"))
    out, _ = run(path)
    [post] = table(out, "posts")
    assert post["word_count"] > 3 and "\ufffd" not in post["content_text"], name
    assert post["title"], name


def test_warc_capture_date_is_kept(run) -> None:  # type: ignore[no-untyped-def]
    path = need(REAL / "warc-warcio" / "example.warc.gz")
    out, _ = run(path)
    dates = sorted(s["fetched_at"].year for s in table(out, "post_sources"))
    assert dates and all(y < 2020 for y in dates)  # the capture dates, not today


def test_ingest_of_all_real_data_completes_with_every_file_recorded(tmp_path: Path) -> None:
    import subprocess
    import sys

    folder = need(REAL)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cwingest",
            "ingest",
            str(folder),
            "--out",
            str(tmp_path / "out"),
            "--raw",
            str(tmp_path / "raw"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    files = {p.resolve().as_uri() for p in folder.rglob("*") if p.is_file()}
    assert {r["source_uri"] for r in table(tmp_path / "out", "raw_records")} == files
    reasons = {r["error"] for r in table(tmp_path / "out", "rejects")}
    assert not any("reader failure" in r for r in reasons)  # no crash hidden as a reject


def test_feeds_rss_and_atom(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import json

    atom = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Example</title>
<entry><title type="html">Atom &amp;amp; Eve</title><link rel="alternate" href="https://atom.example/2020/01/atom-eve/"/>
<id>https://atom.example/?p=41</id><published>2020-01-02T03:04:05-05:00</published><updated>2020-02-01T00:00:00Z</updated>
<author><name>Eve Adams</name></author><category term="Equity"/>
<content type="html">&lt;p&gt;Full content of the atom entry, with enough words to count.&lt;/p&gt;</content></entry>
<entry><title>Summary only</title><link href="https://atom.example/2020/01/summary/"/><id>https://atom.example/?p=42</id>
<updated>2020-01-05T00:00:00Z</updated><summary>Just the start of it…</summary></entry>
</feed>"""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "atom.xml").write_text(atom)
    paths = [tmp_path / "in"]
    rss = RECORDED / "30_rss_feed.json"
    if rss.exists():
        paths.append(rss)
    out, summary = run(*paths)
    assert summary.rejected == 0
    posts = {p["url"]: p for p in table(out, "posts")}
    eve = posts["https://atom.example/2020/01/atom-eve/"]
    assert (eve["title"], eve["authors"], eve["wp_id"]) == ("Atom & Eve", ["Eve Adams"], 41)
    assert eve["published_at"].isoformat() == "2020-01-02T08:04:05+00:00"
    assert {"taxonomy": "feed_category", "name": "Equity"} in eve["other_terms"]
    assert posts["https://atom.example/2020/01/summary/"]["is_excerpt_only"]
    if rss.exists():
        body = json.loads(rss.read_text("utf-8"))["body"]
        items = body.count("<item>")
        assert (
            sum(1 for s in table(out, "post_sources") if s["source_format"] == "feed") == items + 2
        )


def test_wxr_skip_reasons_are_recorded(wxr_out: Path) -> None:
    [raw] = [
        r
        for r in table(wxr_out, "raw_records")
        if r["source_uri"].endswith("/a11y-unit-test-data.xml")
    ]
    reasons = dict(part.split("=") for part in raw["skip_reasons"].split("; "))
    assert reasons["attachment"] == "39" and reasons["nav_menu_item"] == "50"
    assert sum(int(v) for v in reasons.values()) == raw["skipped"]
