"""Compressed inputs (gzip, bzip2, xz): a dump saved as ``posts.json.gz`` or ``export.xml.bz2``.

The bytes are decompressed with a bound (the run's whole-file limit) and handed to
whichever reader recognises what is inside, so a decompression bomb is refused with a
reason instead of filling memory. Gzipped WARC files are not for this reader: the WARC
reader reads them record by record.
"""

from __future__ import annotations

import bz2
import io
import lzma
import zlib
from collections.abc import Iterator
from typing import IO, Any

from cwingest.models import ParseError, ParseResult
from cwingest.parse.base import Payload, detect, is_environment_error, nested_payload

name = "compressed"
FORMATS: dict[str, int] = {}  # a container: its content keeps its own format

_MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz"}
CHUNK = 1 << 16


def _kind(head: bytes) -> str | None:
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return kind
    return None


def sniff(payload: Payload) -> int:
    """A gzip, bzip2 or xz stream (the WARC reader outbids this for gzipped WARC)."""
    return 60 if _kind(payload.head) else 0


def _decompressor(kind: str) -> Any:
    if kind == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if kind == "bzip2":
        return bz2.BZ2Decompressor()
    return lzma.LZMADecompressor()


def _pieces(kind: str, raw: IO[bytes]) -> Iterator[bytes]:
    """Decompressed output in pieces of at most CHUNK bytes, whatever the ratio."""
    d = _decompressor(kind)
    while chunk := raw.read(CHUNK):
        while chunk:
            if kind == "gzip":
                yield d.decompress(chunk, CHUNK)
                chunk = d.unconsumed_tail
                if d.eof and d.unused_data:  # a multi-member gzip file: next member
                    chunk, d = d.unused_data + chunk, _decompressor(kind)
            else:
                yield d.decompress(chunk, max_length=CHUNK)
                chunk = b""
                while not d.needs_input and not d.eof:
                    yield d.decompress(b"", max_length=CHUNK)
    if not d.eof:
        raise EOFError("compressed stream ended before its end marker")


def decompress(payload: Payload) -> bytes:
    """All decompressed bytes, refused once they pass ``payload.max_bytes``.

    Decompression runs in bounded pieces, so a bomb is stopped at the limit, not after
    it filled memory. A stream cut short keeps what it held (a truncated dump is still
    salvageable); one that yields nothing is refused.
    """
    kind = _kind(payload.head) or "gzip"
    out = io.BytesIO()
    try:
        with payload.opener() as raw:
            for piece in _pieces(kind, raw):
                out.write(piece)
                if out.tell() > payload.max_bytes:
                    raise ParseError(
                        f"{kind} input decompresses to more than {payload.max_bytes} bytes: refused"
                    )
    except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError) as exc:
        if is_environment_error(exc):
            raise
        if out.tell() == 0:
            raise ParseError(f"damaged {kind} stream: {exc}") from exc
    return out.getvalue()


def parse(payload: Payload) -> ParseResult:
    """Decompress, then parse with the reader that recognises the content."""
    from cwingest.parse.registry import READERS

    data = decompress(payload)
    if not data.strip():
        raise ParseError("compressed input is empty")
    inner = nested_payload(payload, data)
    try:
        reader = detect(inner, [r for r in READERS if r.name != name])
    except ParseError:
        inner.decoded()  # a precise reason (binary, undecodable) when there is one
        raise
    return reader.parse(inner)
