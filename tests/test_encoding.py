"""Bytes to text in DESIGN.md's order: BOM, declaration, UTF-8, legacy charset."""

from __future__ import annotations

import codecs

import pytest

from cwingest.models import ParseError
from cwingest.parse.encoding import decode_bytes

TEXT = "Zoë’s “report” — café"


@pytest.mark.parametrize(
    ("data", "encoding", "method"),
    [
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig", "bom"),
        (TEXT.encode("utf-16"), "utf-16", "bom"),
        (TEXT.encode("utf-32"), "utf-32", "bom"),
        (
            ("Saved without a byte-order mark. " * 10 + TEXT).encode("utf-16-le"),
            "utf-16-le",
            "detected",
        ),
        (TEXT.encode("utf-8"), "utf-8", "utf-8"),
        (
            ("<?xml version='1.0' encoding='windows-1252'?><a>" + TEXT + "</a>").encode("cp1252"),
            "cp1252",
            "declared",
        ),
        (
            ('<html><head><meta charset="iso-8859-1"></head><p>' + TEXT + "</p>").encode("cp1252"),
            "cp1252",
            "declared",
        ),
        (
            ("A plain copy: " + TEXT + " and more words in English here. " * 3).encode("cp1252"),
            "cp1252",
            "detected",
        ),
    ],
)
def test_decode_order(data: bytes, encoding: str, method: str) -> None:
    decoded = decode_bytes(data)
    assert TEXT in decoded.text
    assert (decoded.encoding, decoded.method) == (encoding, method)


def test_a_lying_declaration_falls_back_to_what_decodes() -> None:
    data = ('<meta charset="utf-8"><p>' + TEXT + " and enough English words to detect.</p>").encode(
        "cp1252"
    )
    assert TEXT in decode_bytes(data).text


def test_http_header_charset_is_a_declaration() -> None:
    data = ("Plain " + TEXT).encode("cp1252")
    assert decode_bytes(data, "text/html; charset=windows-1252").method == "declared"


@pytest.mark.parametrize(("data", "reason"), [(b"", "empty"), (b"\x00\x01\x02\x03" * 50, "binary")])
def test_refused(data: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        decode_bytes(data)


def test_json_must_be_unicode() -> None:
    with pytest.raises(ParseError, match="invalid UTF-8"):
        decode_bytes('{"t": "café"}'.encode("latin-1"), legacy=False)


@pytest.mark.parametrize(
    ("charset", "text"),
    [
        ("windows-1251", "Компетентностное обучение в школах: первые итоги года"),
        ("iso-8859-1", "Évaluation par compétences : ce que disent les élèves"),
        ("shift_jis", "習熟度に基づく学習の取り組みについての報告"),
    ],
)
def test_pages_in_legacy_charsets_end_to_end(run, tmp_path, charset: str, text: str) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import table

    page = (
        f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
        f"<title>{text}</title></head><body class='single'><article><h1>{text}</h1>"
        f"<div class='entry-content'><p>{text}. {text}.</p></div></article></body></html>"
    )
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "page.html").write_bytes(
        page.encode(charset if charset != "iso-8859-1" else "cp1252")
    )
    out, _ = run(tmp_path / "in")
    [post] = table(out, "posts")
    assert post["title"] == text and text in post["content_text"]
