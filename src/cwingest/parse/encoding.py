"""Turn bytes into text, the way DESIGN.md orders it.

A byte-order mark wins; then a declaration (XML prolog, HTML meta charset, the HTTP
``Content-Type`` of a recorded response); then strict UTF-8; then a detected legacy
charset (cp1252 and the like). Only bytes that decode as nothing sensible are refused,
with a reason.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from cwingest.models import ParseError

_BOMS: list[tuple[bytes, str]] = [
    (codecs.BOM_UTF32_LE, "utf-32"),  # must precede UTF-16 LE: it starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]

_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._:-]+)""")
_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,300}?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE
)
_HTTP_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.IGNORECASE)

# What browsers (WHATWG Encoding) actually use for these labels: pages that say latin-1
# are nearly always cp1252, and decoding them as latin-1 turns “ into C1 controls.
_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "windows-1252": "cp1252",
    "iso-8859-9": "cp1254",
    "x-sjis": "shift_jis",
    "utf8": "utf-8",
}


@dataclass(slots=True)
class Decoded:
    """Text and how it was obtained (recorded for provenance and tests)."""

    text: str
    encoding: str
    method: str  # bom, declared, utf-8, detected


def normalise_label(label: str) -> str | None:
    """Map a charset label to a Python codec name, or None when Python knows no such codec."""
    name = _ALIASES.get(label.strip().lower(), label.strip().lower())
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def declared_charset(data: bytes, http_content_type: str | None = None) -> str | None:
    """The charset the input declares about itself, if any (XML prolog, meta, HTTP)."""
    head = data[:4096]
    m = _XML_DECL.search(head)
    if m:
        return m.group(1).decode("ascii")
    m = _META_CHARSET.search(head)
    if m:
        return m.group(1).decode("ascii")
    if http_content_type:
        mh = _HTTP_CHARSET.search(http_content_type)
        if mh:
            return mh.group(1)
    return None


def looks_binary(data: bytes) -> bool:
    """True when bytes are not text in any 8-bit or UTF-8 encoding (NULs, many controls)."""
    sample = data[:65536]
    if not sample:
        return False
    if b"\x00" in sample:
        return True
    controls = len(sample) - len(sample.translate(None, _CONTROLS))
    return controls / len(sample) > 0.02


# C0 controls other than tab, newline, form feed, carriage return and escape (bytes
# translate counts them at C speed: sniffing reads every input's head)
_CONTROLS = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 saved without a BOM shows as ASCII interleaved with NULs."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    even_nuls = even.count(0) / len(even)
    odd_nuls = odd.count(0) / len(odd)

    def printable(chars: bytes) -> bool:
        return sum(1 for b in chars if b >= 32 or b in (9, 10, 13)) >= 0.95 * len(chars)

    if odd_nuls > 0.4 and even_nuls < 0.05 and printable(even):
        return "utf-16-le"
    if even_nuls > 0.4 and odd_nuls < 0.05 and printable(odd):
        return "utf-16-be"
    return None


def decode_bytes(data: bytes, http_content_type: str | None = None, legacy: bool = True) -> Decoded:
    """Decode input bytes; raise :class:`ParseError` when nothing sensible decodes them.

    Args:
        data: the raw bytes.
        http_content_type: the ``Content-Type`` header the bytes were served with, if known.
        legacy: fall back to a detected legacy charset (HTML and text); when False, bytes
            that are not valid UTF-8 (and carry no BOM or declaration) are refused.
    """
    if not data or not data.strip():
        raise ParseError("empty input")
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data.decode(codec), codec, "bom")
            except UnicodeDecodeError as exc:
                raise ParseError(f"byte-order mark says {codec} but bytes do not decode") from exc
    if b"\x00" in data[:4096]:
        codec16 = _utf16_without_bom(data)
        if codec16:
            try:
                return Decoded(data.decode(codec16), codec16, "detected")
            except UnicodeDecodeError:
                pass
    if looks_binary(data):
        raise ParseError("binary content, not text (NUL or control bytes)")
    label = declared_charset(data, http_content_type)
    declared = normalise_label(label) if label else None
    if declared:
        try:
            return Decoded(data.decode(declared), declared, "declared")
        except UnicodeDecodeError:
            pass  # declarations lie (a cp1252 page that says utf-8): fall through
    try:
        return Decoded(data.decode("utf-8"), "utf-8", "utf-8")
    except UnicodeDecodeError as exc:
        if not legacy:
            raise ParseError(f"invalid UTF-8 at byte {exc.start} (JSON must be Unicode)") from exc
    return _detect_legacy(data)


def _detect_legacy(data: bytes) -> Decoded:
    from charset_normalizer import from_bytes

    matches = from_bytes(data[: 1 << 20])
    best = matches.best()
    if best is None or best.encoding is None:
        raise ParseError("undecodable bytes: not UTF-8 and no legacy charset fits")
    codec: str = best.encoding
    # Western text with a few curly quotes fits several code pages equally well; WordPress
    # content saved on Windows is overwhelmingly cp1252, so it wins a near tie.
    for m in matches:
        if "cp1252" in (m.encoding, *m.could_be_from_charset) and m.chaos <= best.chaos + 0.05:
            codec = "cp1252"
            break
    # Mostly-UTF-8 text with a few broken bytes is better read as UTF-8 with replacement
    # than as a legacy charset that garbles every accented letter.
    try:
        utf8_text = data.decode("utf-8", errors="replace")
        if utf8_text.count("\ufffd") <= max(2, len(utf8_text) // 2000) and _has_utf8_runs(data):
            return Decoded(utf8_text, "utf-8", "utf-8-lossy")
    except UnicodeDecodeError:  # pragma: no cover - errors=replace never raises
        pass
    try:
        return Decoded(data.decode(codec), codec, "detected")
    except (UnicodeDecodeError, LookupError) as exc:
        raise ParseError(f"undecodable bytes: detected {codec} does not decode") from exc


_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")


def _has_utf8_runs(data: bytes) -> bool:
    return len(_UTF8_MULTIBYTE.findall(data[: 1 << 20])) >= 3
