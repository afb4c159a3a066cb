"""Read an RSS-shaped export item by item, repairing what real exports break.

Real WXR exports are often not well-formed XML: ``]]>`` written inside post content (so
a CDATA section ends early), a namespace prefix used but never declared, white space
before ``<?xml``, control characters XML 1.0 forbids (form feed, vertical tab, NUL from
old databases), a stray ``&`` or an HTML entity (``&nbsp;``) in a title or term, a file
cut off in the middle of an item. A parser that stops at the first error keeps only the
items before it. Here the stream is cut into its ``<item>`` … ``</item>`` pieces (CDATA
sections and comments are skipped while looking, so an item inside a post's text is not
an item), each piece is repaired and parsed on its own inside a copy of the root element
(so it keeps the export's namespaces), and one damaged item costs only itself.

Memory holds one item at a time (bounded by ``max_item_bytes``); entity declarations are
refused before anything is parsed, and the parser never loads a DTD, resolves an entity
or touches the network.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from lxml import etree

from cwingest.models import ParseError

CHUNK = 1 << 20
MAX_ITEM_BYTES = 256 * 1024 * 1024

_TOKENS = re.compile(rb"<!\[CDATA\[|<!--|<item[\s>/]|</item\s*>")
_CONTROLS = bytes(range(0, 9)) + b"\x0b\x0c" + bytes(range(0x0E, 0x20))
_AMP = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos|#\d{1,7}|#x[0-9A-Fa-f]{1,6});)")
_PREFIX_USE = re.compile(
    rb"</?([A-Za-z_][\w.-]*):[A-Za-z_]|\s([A-Za-z_][\w.-]*):[A-Za-z_][\w.-]*\s*="
)
_DECLARED = re.compile(rb"xmlns:([A-Za-z_][\w.-]*)\s*=")
_ROOT = re.compile(rb"<rss\b[^>]*>", re.I)
_XML_DECL = re.compile(rb"^\s*(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?\?>", re.I)
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""", re.I)
_OPEN_BEFORE = re.compile(rb"<([A-Za-z_][\w.:-]*)(?:\s[^<>]*)?>\s*$")
# Namespaces exports use without declaring them (well-known URIs keep matching by URI).
KNOWN_NAMESPACES = {
    b"atom": b"http://www.w3.org/2005/Atom",
    b"dc": b"http://purl.org/dc/elements/1.1/",
    b"content": b"http://purl.org/rss/1.0/modules/content/",
    b"wfw": b"http://wellformedweb.org/CommentAPI/",
    b"excerpt": b"http://wordpress.org/export/1.2/excerpt/",
    b"wp": b"http://wordpress.org/export/1.2/",
    b"media": b"http://search.yahoo.com/mrss/",
    b"slash": b"http://purl.org/rss/1.0/modules/slash/",
    b"sy": b"http://purl.org/rss/1.0/modules/syndication/",
    b"georss": b"http://www.georss.org/georss",
    b"itunes": b"http://www.itunes.com/dtds/podcast-1.0.dtd",
}


@dataclass(slots=True)
class Piece:
    """One part of the export: the header (root and channel elements) or one item."""

    kind: str  # "header" or "item"
    data: bytes
    offset: int  # byte offset in the file where the piece starts
    cdata: list[tuple[int, int]]  # (start, end) of each CDATA section inside ``data``
    problem: str | None = None  # why the piece is incomplete (cut off, too large)


def _cdata_end(buf: bytes, start: int, element: bytes | None) -> tuple[int, list[int]]:
    """End of the CDATA section opened at ``start`` and the positions of every ``]]>``
    inside it that is not its end (text that contains ``]]>``).

    The real end is the ``]]>`` followed by the closing tag of the element the section is
    in (or by another CDATA section); -1 when the buffer holds no such end yet.
    """
    close = re.compile(
        rb"\]\]>\s*(?:</" + re.escape(element) + rb"\s*>|<!\[CDATA\[)" if element else rb"\]\]>\s*<"
    )
    m = close.search(buf, start)
    if not m:
        return -1, []
    inner = []
    pos = buf.find(b"]]>", start, m.start())
    while pos != -1:
        inner.append(pos)
        pos = buf.find(b"]]>", pos + 3, m.start())
    return m.start() + 3, inner


def split(stream: IO[bytes], max_item_bytes: int = MAX_ITEM_BYTES) -> Iterator[Piece]:
    """Cut an export into its header and its items, in file order, reading in chunks.

    Inner ``]]>`` are rewritten as ``]]]]><![CDATA[>`` (the way XML spells them inside
    CDATA). A piece the file ends inside, or one larger than ``max_item_bytes``, comes
    with its ``problem`` set.
    """
    buf = b""
    base = 0  # file offset of buf[0]
    eof = False
    start = 0  # where the current piece starts in buf
    kind = "header"
    pos = 0
    cdata: list[tuple[int, int]] = []
    fixed: list[int] = []  # inner "]]>" positions to rewrite in the current piece

    def fill() -> bool:
        nonlocal buf, eof
        if eof:
            return False
        more = stream.read(CHUNK)
        if not more:
            eof = True
            return False
        buf += more
        return True

    def emit(end: int, problem: str | None = None) -> Piece:
        data = buf[start:end]
        spans = [(a - start, b - start) for a, b in cdata]
        if fixed:  # rewrite inner "]]>" and move the CDATA spans by what was inserted
            inner = sorted(p - start for p in fixed)
            out = bytearray()
            last = 0
            for p in inner:
                out += data[last:p] + b"]]]]><![CDATA[>"
                last = p + 3
            out += data[last:]
            grow = len(b"]]]]><![CDATA[>") - 3
            spans = [
                (a + grow * sum(p < a for p in inner), b + grow * sum(p < b for p in inner))
                for a, b in spans
            ]
            data = bytes(out)
        return Piece(kind, data, base + start, spans, problem)

    fill()
    while True:
        m = _TOKENS.search(buf, pos)
        if m is None or (m.end() >= len(buf) - 16 and not eof):
            if len(buf) - start > max_item_bytes and kind == "item":
                yield emit(pos, f"item larger than {max_item_bytes} bytes: skipped")
                skip = buf.find(b"</item>", pos)
                while skip == -1 and fill():
                    skip = buf.find(b"</item>", pos)
                if skip == -1:
                    return
                buf, base, pos, start = buf[skip + 7 :], base + skip + 7, 0, 0
                kind, cdata, fixed = "between", [], []
                continue
            if fill():
                continue
            if m is None:
                break
        token = m.group(0)
        if token.startswith(b"<![CDATA["):
            before = _OPEN_BEFORE.search(buf, max(start, m.start() - 512), m.start())
            element = before.group(1) if before else None
            end, inner = _cdata_end(buf, m.end(), element)
            while end == -1 and fill():
                end, inner = _cdata_end(buf, m.end(), element)
            if end == -1:  # the file ends inside this section
                if kind == "item":
                    yield emit(len(buf), "cut off inside the item")
                return
            cdata.append((m.start(), end))
            fixed.extend(inner)
            pos = end
        elif token.startswith(b"<!--"):
            end = buf.find(b"-->", m.end())
            while end == -1 and fill():
                end = buf.find(b"-->", m.end())
            if end == -1:
                break
            pos = end + 3
        elif token.startswith(b"</item"):
            if kind == "item":
                yield emit(m.end())
                kind = "between"
            pos = m.end()
            start = pos
            cdata, fixed = [], []
            # drop what was read: memory holds one item at a time
            buf, base, pos, start = buf[pos:], base + pos, 0, 0
        else:  # <item
            if kind == "header":
                yield emit(m.start())
            elif kind == "item":  # an item that never closed: cut, the next one begins
                yield emit(m.start(), "item not closed before the next one")
            kind, start, cdata, fixed = "item", m.start(), [], []
            pos = m.end()
    if kind == "item":
        yield emit(len(buf), "cut off inside the item")
    elif kind == "header":
        yield emit(len(buf))


def repair(data: bytes, cdata: list[tuple[int, int]]) -> bytes:
    """Drop control characters XML forbids; escape stray ``&`` and HTML entities outside
    CDATA (``&nbsp;`` becomes the text ``&nbsp;``, which cleaning decodes later)."""
    out = bytearray()
    last = 0
    for a, b in [*cdata, (len(data), len(data))]:
        out += _AMP.sub(b"&amp;", data[last:a].translate(None, _CONTROLS))
        out += data[a:b].translate(None, _CONTROLS)
        last = b
    return bytes(out)


@dataclass
class Root:
    """The export's root element, as a wrapper to parse pieces in."""

    start: bytes  # "<?xml …?><rss …>"
    end: bytes = b"</channel></rss>"
    encoding: str = "utf-8"

    @staticmethod
    def of(header: bytes) -> Root:
        """The root from the header: its declaration's encoding and the ``<rss>`` tag."""
        decl = _XML_DECL.match(header)
        encoding = "utf-8"
        if decl:
            enc = _ENCODING.search(decl.group(0))
            encoding = enc.group(1).decode("ascii").lower() if enc else "utf-8"
        root = _ROOT.search(header)
        tag = root.group(0) if root else b"<rss>"
        return Root(
            f'<?xml version="1.0" encoding="{encoding}"?>'.encode() + tag, encoding=encoding
        )

    def wrap(self, body: bytes, channel: bool = True) -> bytes:
        """``body`` inside the root (and a channel), with every prefix it uses declared."""
        declared = set(_DECLARED.findall(self.start))
        used = {a or b for a, b in _PREFIX_USE.findall(body)} - {b"xml", b"xmlns"}
        extra = b"".join(
            b' xmlns:%s="%s"' % (p, KNOWN_NAMESPACES.get(p, b"urn:cwingest:undeclared:" + p))
            for p in sorted(used - declared)
        )
        start = self.start[:-1] + extra + b">" if extra else self.start
        return start + (b"<channel>" if channel else b"") + body + self.end


_PARSER_SETTINGS = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}


def parse_piece(root: Root, piece: Piece, channel: bool = True) -> tuple[etree._Element, bool]:
    """Parse one repaired piece; returns (channel element, whether recovery was needed).

    Raises:
        ParseError: nothing of the piece could be read.
    """
    data = repair(piece.data, piece.cdata)
    if piece.kind == "header":
        data = _XML_DECL.sub(b"", data.lstrip(b"\xef\xbb\xbf \t\r\n"), count=1)
        data = _ROOT.sub(b"", data, count=1)
        data = re.sub(rb"<channel(?:\s[^>]*)?>", b"", data, count=1)
        channel = True
    wrapped = root.wrap(data, channel=channel)
    try:
        tree = etree.fromstring(wrapped, etree.XMLParser(**_PARSER_SETTINGS))
        recovered = False
    except etree.XMLSyntaxError as exc:
        lax = etree.XMLParser(recover=True, **_PARSER_SETTINGS)
        tree = etree.fromstring(wrapped, lax)
        if tree is None:
            raise ParseError(f"XML not well-formed: {exc.msg}") from exc
        recovered = True
    found = tree.find("channel")
    return (found if found is not None else tree), recovered
