"""Broken WXR exports keep every recoverable item.

Each defect real exports carry is injected into real exports from ``../shared`` at several
positions; the number of items read must equal an independent count (a plain XML pass
over the undamaged file) of the items the defect leaves readable.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from cwingest.pipeline import run_ingest
from tests.conftest import REAL, RECORDED, table

EXPORTS = [
    REAL / "wxr-wordpress-importer" / "theme-unit-test-data.xml",
    REAL / "wxr-wordpress-importer" / "a11y-unit-test-data.xml",
    REAL / "wxr-woocommerce-sample" / "sample_products.xml",
    RECORDED / "export.wxr.xml",
]
NOT_CONTENT = {
    "attachment",
    "nav_menu_item",
    "revision",
    "customize_changeset",
    "custom_css",
    "oembed_cache",
    "user_request",
    "wp_block",
    "wp_template",
    "wp_template_part",
    "wp_navigation",
    "wp_global_styles",
    "product_variation",
    "guest-author",
}
WP = re.compile(r"^\{https?://wordpress\.org/export/1\.\d+/\}(.+)$")
ITEM = re.compile(r"<item>.*?</item>", re.S)


def published_flags(text: str) -> list[bool]:
    """For each item of a well-formed export, whether it is a published content item
    (a plain ElementTree pass: independent of cwingest's reader)."""
    root = ET.fromstring(text.encode("utf-8"))
    flags = []
    for item in root.iter("item"):
        fields = {}
        for child in item:
            m = WP.match(child.tag)
            if m and m.group(1) not in fields:
                fields[m.group(1)] = (child.text or "").strip()
        has_content = item.find("{http://purl.org/rss/1.0/modules/content/}encoded") is not None
        ok = (
            fields.get("post_type", "post") not in NOT_CONTENT
            and fields.get("status", "publish") == "publish"
            # a comments-only stub of a post exported elsewhere has no type and no content
            and ("post_type" in fields or ("post_id" in fields and has_content))
        )
        flags.append(ok)
    return flags


def read_count(tmp_path: Path, text: str) -> tuple[int, list[dict[str, object]], str]:
    """Ingest one export; (documents read, rejects, raw status)."""
    folder = tmp_path / "in"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "export.xml").write_bytes(text.encode("utf-8"))
    run_ingest([str(folder)], out=tmp_path / "out", raw=tmp_path / "raw")
    [raw] = table(tmp_path / "out", "raw_records")
    return (
        len(table(tmp_path / "out", "post_sources")),
        table(tmp_path / "out", "rejects"),
        str(raw["status"]),
    )


def _items(text: str) -> list[re.Match[str]]:
    return list(ITEM.finditer(text))


def _at(text: str, k: int, edit: Callable[[str], str]) -> str:
    """The export with item ``k`` rewritten by ``edit``."""
    m = _items(text)[k]
    return text[: m.start()] + edit(m.group(0)) + text[m.end() :]


def _positions(n: int) -> list[int]:
    return sorted({1, n // 2, n - 2})


def _exports() -> list[Path]:
    return [p for p in EXPORTS if p.exists()]


@pytest.fixture(
    params=_exports() or [None], ids=lambda p: p.parent.name + "/" + p.name if p else "none"
)
def export(request: pytest.FixtureRequest) -> str:
    if request.param is None:
        pytest.skip("../shared absent")
    return request.param.read_text("utf-8")


def _content_cdata(item: str, insert: str) -> str:
    """Put ``insert`` inside the item's content CDATA (after its first word)."""
    return re.sub(
        r"(<content:encoded><!\[CDATA\[)",
        lambda m: m.group(1) + insert,
        item,
        count=1,
    )


DEFECTS: dict[str, Callable[[str], str]] = {
    # a "]]>" written inside the content ends the CDATA section early
    "cdata-end-in-content": lambda it: _content_cdata(
        it, "Code: x[a[1]]> y <b>bold</b> and ]]> more "
    ),
    # a namespace prefix used but never declared
    "undeclared-prefix": lambda it: it.replace(
        "</title>", "</title><atom:link href='x'/><geo:lat>1.5</geo:lat>", 1
    ),
    # control characters XML 1.0 forbids (form feed, vertical tab, NUL from old databases)
    "control-characters": lambda it: _content_cdata(
        it.replace("</title>", "\x0c\x0b</title>", 1), "\x00Old\x0bdb "
    ),
    # a stray ampersand and an HTML entity in a title and a term
    "stray-ampersand": lambda it: re.sub(
        r"<category ([^>]*)><!\[CDATA\[([^\]]*)\]\]></category>",
        r"<category \1>\2 & more &nbsp;</category>",
        it.replace("<title>", "<title>Fish & Chips &eacute; ", 1),
        count=1,
    ),
}


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_a_repairable_defect_loses_no_item(tmp_path: Path, export: str, defect: str) -> None:
    flags = published_flags(export)
    for k in _positions(len(flags)):
        damaged = _at(export, k, DEFECTS[defect])
        got, rejects, status = read_count(tmp_path / f"{defect}-{k}", damaged)
        assert got == sum(flags), (defect, k)
        assert not rejects and status == "parsed"


def test_text_written_with_a_cdata_end_is_kept(tmp_path: Path, export: str) -> None:
    flags = published_flags(export)
    k = next(
        i
        for i, f in enumerate(flags)
        if f and "<content:encoded><![CDATA[" in _items(export)[i].group(0)
    )
    damaged = _at(export, k, DEFECTS["cdata-end-in-content"])
    read_count(tmp_path, damaged)
    texts = [p["content_text"] for p in table(tmp_path / "out", "posts")]
    assert any("and ]]> more" in t for t in texts)


def test_white_space_before_the_declaration(tmp_path: Path, export: str) -> None:
    got, _, status = read_count(tmp_path, "\n\n  " + export)
    assert got == sum(published_flags(export)) and status == "parsed"


def test_an_undeclared_prefix_in_the_header(tmp_path: Path, export: str) -> None:
    damaged = export.replace(
        "<channel>", "<channel>\n<atom:link href='https://x/feed/' rel='self'/>", 1
    )
    damaged = re.sub(
        r'\s+xmlns:dc="[^"]+"', "", damaged, count=1
    )  # dc: used everywhere, never declared
    got, rejects, _ = read_count(tmp_path, damaged)
    assert got == sum(published_flags(export)) and not rejects


def test_a_file_cut_off_inside_an_item_keeps_the_items_before_it(
    tmp_path: Path, export: str
) -> None:
    flags = published_flags(export)
    items = _items(export)
    for k in _positions(len(flags)):
        cut = items[k].start() + (items[k].end() - items[k].start()) // 2
        got, rejects, status = read_count(tmp_path / f"cut-{k}", export[:cut])
        assert got == sum(flags[:k]), k
        assert status == "partial" and len(rejects) == 1
        assert f"item {k + 1} (byte" in str(rejects[0]["detail"])
        assert "cut off" in str(rejects[0]["detail"])


def test_every_defect_at_once(tmp_path: Path, export: str) -> None:
    flags = published_flags(export)
    n = len(flags)
    damaged = export
    for k, defect in zip((1, n // 4, n // 3, n // 2), sorted(DEFECTS), strict=True):
        damaged = _at(damaged, k, DEFECTS[defect])
    damaged = re.sub(r'\s+xmlns:dc="[^"]+"', "", damaged, count=1)
    items = _items(damaged)
    last = (2 * n) // 3
    cut = items[last].start() + 40
    got, rejects, status = read_count(tmp_path, "\n \n" + damaged[:cut])
    assert got == sum(flags[:last])
    assert status == "partial" and len(rejects) == 1  # only the cut item is lost


def test_a_damaged_item_costs_only_itself(tmp_path: Path, export: str) -> None:
    """An item that never closes (its end tag lost) is one reject, with its position and
    title; every other item is read."""
    flags = published_flags(export)
    k = next(i for i, f in enumerate(flags) if f and i > 0)
    damaged = _at(export, k, lambda it: it.replace("</item>", ""))
    got, rejects, status = read_count(tmp_path, damaged)
    assert got == sum(flags) - 1
    assert status == "partial" and len(rejects) == 1
    m = re.search(
        r"<title>(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?</title>", _items(export)[k].group(0), re.S
    )
    title = m.group(1).strip() if m else ""
    assert f"item {k + 1} (byte" in str(rejects[0]["detail"])
    assert title[:30] in str(rejects[0]["detail"])
