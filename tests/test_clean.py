"""The clean stage: escapes, mojibake (on ftfy's own cases), markup, boilerplate, safe HTML."""

from __future__ import annotations

import json

import ftfy
import pytest

from cwingest.clean.boilerplate import clean_paragraphs, parse_byline, parse_label
from cwingest.clean.escapes import unescape_literals
from cwingest.clean.html_text import html_to_paragraphs, parse_html
from cwingest.clean.mojibake import fix_mojibake, may_need_fix
from cwingest.clean.normalize import normalize_paragraph
from cwingest.clean.profiles import load_profiles
from cwingest.clean.sanitize import sanitize_html
from tests.conftest import REAL, need


def _ftfy_cases() -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    folder = REAL / "ftfy-test-cases"
    if not folder.exists():
        return []
    return [
        (f"{f.stem}:{i}", c)
        for f in sorted(folder.glob("*.json"))
        for i, c in enumerate(json.loads(f.read_text("utf-8")))
    ]


@pytest.mark.parametrize(
    ("label", "case"),
    _ftfy_cases() or [pytest.param("none", {}, marks=pytest.mark.skip(reason="../shared absent"))],
)
def test_mojibake_gate_never_hides_what_ftfy_fixes(label: str, case: dict) -> None:  # type: ignore[type-arg]
    original = case["original"]
    repaired = ftfy.fix_encoding(original)
    if repaired != original:
        assert may_need_fix(original), label
    if case["expect"] == "pass":
        assert fix_mojibake(original) == repaired, label


def test_mojibake_gate_lets_clean_text_through() -> None:
    clean = "Teachers’ “why” — naïve café, 新宿御苑, Ελληνικά, Čeština, русский текст, emoji 🎉"
    assert not may_need_fix(clean)
    assert fix_mojibake(clean) == clean
    assert fix_mojibake("the district\u00e2\u20ac\u2122s own review") == "the district’s own review"


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("Chris\\u2019 background<\\/p>\\nNext", "Chris’ background</p>\nNext"),
        ("emoji \\ud83c\\udf89 and \\u00a0space", "emoji 🎉 and \u00a0space"),
        ("C:\\new folder is a path", "C:\\new folder is a path"),  # one stray escape: left alone
    ],
)
def test_literal_escapes(raw: str, want: str) -> None:
    assert unescape_literals(raw) == want


def test_html_to_paragraphs_keeps_paragraphs_and_drops_scripts() -> None:
    root = parse_html(
        "<div><p>One <b>bold</b>\n word.</p><script>alert(1)</script><p>Two<br>lines</p>"
        "<ul><li>a</li><li>b</li></ul><div class='sharedaddy'>Share this: Twitter</div></div>"
    )
    assert [p.text for p in html_to_paragraphs(root)] == ["One bold word.", "Two\nlines", "a", "b"]


def test_raw_wordpress_content_without_p_tags_keeps_its_paragraphs() -> None:
    root = parse_html("First paragraph.\n\nSecond <em>one</em>.\nThird.")
    paras = [p.text for p in html_to_paragraphs(root, newlines_break=True)]
    assert paras == ["First paragraph.", "Second one.", "Third."]


def test_normalize_spaces_and_unicode() -> None:
    assert normalize_paragraph("a\u00a0\u00a0b\u200a c\ufeff e\u0301") == "a b c é"


def test_boilerplate_and_labels() -> None:
    profiles = [load_profiles().generic]
    paras = [
        "Skip to content",
        "Author(s): Susan Patrick and Chris Sturgis",
        "Issue(s): Assessment & Grading, Equity",
        "Body text here.",
        "Share this:",
        "Print Friendly",
        "More text, then a teaser (more…)",
        "Author(s)",
    ]
    cleaned = clean_paragraphs(paras, profiles)
    assert cleaned.paragraphs == ["Body text here.", "More text, then a teaser"]
    assert cleaned.labels == {
        "authors": ["Susan Patrick", "Chris Sturgis"],
        "issue": ["Assessment & Grading", "Equity"],
    }
    assert cleaned.excerpt_cut


def test_labels_are_not_read_out_of_prose() -> None:
    profiles = [load_profiles().generic]
    assert (
        parse_label("Issues: we had many of them, and they were hard to fix in one year.", profiles)
        is None
    )
    assert parse_byline("By the end of the year, every student had a portfolio.") is None
    assert parse_byline("By Thomas Eberhardt") == ["Thomas Eberhardt"]
    assert parse_byline("by Ben O'Malley and Zoë Castellanos") == [
        "Ben O'Malley",
        "Zoë Castellanos",
    ]


@pytest.mark.parametrize(
    "hostile",
    [
        "<p>x</p><script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        '<a href="javascript:alert(1)">click</a>',
        '<a href="JaVaScRiPt:alert(1)">click</a>',
        '<iframe src="https://evil.example"></iframe>',
        "<svg onload=alert(1)><p>x</p></svg>",
        '<p style="background:url(javascript:alert(1))">x</p>',
        '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
        '<form action="https://evil.example"><input name=q></form>',
    ],
)
def test_content_html_is_safe(hostile: str) -> None:
    safe = sanitize_html(hostile).lower()
    for bad in (
        "<script",
        "onerror",
        "onload",
        "javascript:",
        "<iframe",
        "<svg",
        "style=",
        "data:",
        "<form",
        "<input",
    ):
        assert bad not in safe


def test_wxr_utf8_challenges_keep_their_characters() -> None:
    """Hostile Unicode from WordPress's importer tests survives cleaning (bidi, ZWJ, emoji)."""
    path = need(REAL / "wxr-wordpress-importer" / "wxr-utf-8-challenges.xml")
    text = path.read_text("utf-8")
    start = text.index("<content:encoded><![CDATA[") + len("<content:encoded><![CDATA[")
    body = text[start : text.index("]]></content:encoded>", start)]
    paras = [
        normalize_paragraph(p.text) for p in html_to_paragraphs(parse_html(fix_mojibake(body)))
    ]
    joined = "\n".join(paras)
    assert "\u202e" in body and "\u200d" in body  # bidi override and zero-width joiner
    # Every visible character of the source survives: only spaces, controls, BOMs, soft
    # hyphens and the invisible characters that disguise text (bidi overrides, zero-width
    # spaces and joiners outside a joining script) are normalised away.
    import unicodedata

    from lxml import html as lxml_html

    source_chars = set(lxml_html.fromstring(f"<div>{body}</div>").text_content())
    dropped = {c for c in source_chars if c.isspace() or unicodedata.category(c) == "Cc"}
    dropped |= {"\ufeff", "\u00ad"} | {c for c in source_chars if unicodedata.category(c) == "Cf"}
    lost = {c for c in source_chars - dropped if c not in joined}
    assert not lost, sorted(lost)
    assert not {
        c for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b" if c in joined
    }
