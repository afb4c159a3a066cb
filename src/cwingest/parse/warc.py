"""Web-archive captures: WARC and ARC files, gzipped or not, read through warcio.

Every ``response`` record with HTTP status 200 and an HTML or JSON body becomes
documents (through the HTML and REST readers), carrying its ``WARC-Target-URI`` and its
capture date. A ``revisit`` record (the same payload captured again) is resolved to the
original response in the same file, by payload digest or by the URI it refers to, and
yields the same page at the revisit's date. Bodies are de-chunked and decoded from gzip,
deflate or brotli by warcio, with a bound on the decoded size. Other statuses, media
types and record types are counted as skipped, not rejected.
"""

from __future__ import annotations

import contextlib
import re
import zlib
from datetime import datetime
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import BufferedReader
from warcio.exceptions import ArchiveLoadFailed

from cwingest.models import Lookup, ParseError, ParseResult
from cwingest.parse.base import Payload, is_environment_error, nested_payload
from cwingest.util import site_of

name = "warc"
FORMATS: dict[str, int] = {}  # a container: its records keep their own formats

MAX_BODY = 32 * 1024 * 1024  # decoded bytes per record; larger bodies are refused
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_JSON_TYPES = ("application/json", "application/ld+json", "text/json")


class _BrotliDecompressor:
    """warcio's decompressor interface over Google's ``brotli``, with a bounded output.

    warcio expects brotlipy's API (a writable ``unused_data``); this adapter gives it, and
    refuses a body that would decode to more than :data:`MAX_BODY` bytes.
    """

    def __init__(self) -> None:
        import brotli

        self._decompressor = brotli.Decompressor()
        self.unused_data: bytes | None = None
        self._produced = 0

    def decompress(self, data: bytes) -> bytes:
        out: bytes = self._decompressor.process(data, output_buffer_limit=MAX_BODY + 1)
        self._produced += len(out)
        if self._produced > MAX_BODY:
            raise ParseError(f"brotli body decodes to more than {MAX_BODY} bytes")
        return out

    def flush(self) -> bytes:
        return b""


BufferedReader.DECOMPRESSORS["br"] = _BrotliDecompressor


def _decompressed_head(head: bytes) -> bytes:
    if head[:2] != b"\x1f\x8b":
        return head
    try:
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 512)
    except zlib.error:
        return b""


def sniff(payload: Payload) -> int:
    """A WARC or ARC file, compressed or not (decompressing at most 512 bytes to look)."""
    start = _decompressed_head(payload.head).lstrip()
    if start.startswith((b"WARC/1.", b"WARC/0.", b"filedesc://")):
        return 95
    return 0


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _read_body(record: Any) -> bytes:
    body = record.content_stream().read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise ParseError(f"decoded body over {MAX_BODY} bytes")
    return bytes(body)


def parse(payload: Payload) -> ParseResult:
    """Turn every HTML/JSON 200 capture (and revisit of one) into documents."""
    result = ParseResult(source_format=name, sink=payload.sink)
    originals: dict[str, int] = {}  # payload digest or target URI -> record offset
    records = 0
    with payload.opener() as fh:
        try:
            iterator = ArchiveIterator(fh, arc2warc=True)
            for record in iterator:
                records += 1
                if record.rec_type == "response":
                    keys = _response(record, record, payload, result)
                    if keys:  # an HTML/JSON capture a later revisit may point to
                        offset = iterator.get_record_offset()  # valid once the body is read
                        for key in keys:
                            originals.setdefault(key, offset)
                elif record.rec_type == "revisit":
                    _revisit(record, payload, result, originals)
                else:
                    result.skip(f"{record.rec_type} record")
        except ParseError:
            raise
        except (ArchiveLoadFailed, zlib.error, EOFError, OSError, ValueError) as exc:
            if is_environment_error(exc):
                raise
            reason = f"damaged archive after {records} records: {type(exc).__name__}: {exc}"
            if records == 0:
                raise ParseError(reason[:300]) from exc
            result.rejects.append(("damaged archive", reason[:300]))
    if records == 0:
        raise ParseError("archive holds no record")
    return result


def _response(capture: Any, source: Any, payload: Payload, result: ParseResult) -> list[str]:
    """Parse the body of ``source`` as captured by ``capture`` (itself, or a revisit).

    Returns the keys (payload digest, target URI) under which a revisit can find it, when
    it is an HTML or JSON 200 response.
    """
    headers = source.http_headers
    if headers is None:
        result.skip("response without HTTP headers")
        return []
    status = headers.get_statuscode()
    if status != "200":
        _tombstone(capture, status, payload, result)
        result.skip(f"HTTP {status} response")
        return []
    media = _media_type(headers.get_header("Content-Type"))
    if media not in _HTML_TYPES and media not in _JSON_TYPES and not media.endswith("+json"):
        result.skip(f"{media or 'untyped'} response")
        return []
    uri = capture.rec_headers.get_header("WARC-Target-URI")
    try:
        body = _read_body(source)
        if not body.strip():  # a HEAD request's answer, an empty 200
            result.skip("empty response")
            return []
        _parse_body(body, media, uri, capture, payload, result, headers.get_header("Content-Type"))
    except ParseError as exc:
        result.rejects.append(("unusable capture", f"{uri}: {exc}"[:300]))
    digest = source.rec_headers.get_header("WARC-Payload-Digest")
    return [k for k in (digest, f"uri:{uri}" if uri else None) if k]


_POST_BY_ID = re.compile(
    r"(?:/wp-json|rest_route=(?:/|%2F))(?:/)?wp(?:/|%2F)v2(?:/|%2F)"
    r"(?P<base>[\w-]+)(?:/|%2F)(?P<id>\d+)(?:[/?&#]|$)"
)
_GONE = {
    "404": "deleted (404)",
    "410": "deleted (410)",
    "401": "not public (401)",
    "403": "not public (403)",
}


def _tombstone(capture: Any, status: str, payload: Payload, result: ParseResult) -> None:
    """A post asked for by its own REST URL that answers 404/410 (deleted) or 401/403
    (unpublished, private, trashed): its tombstone, with the capture's time."""
    uri = capture.rec_headers.get_header("WARC-Target-URI") or ""
    m = _POST_BY_ID.search(uri)
    if status not in _GONE or not m:
        return
    when = capture.rec_headers.get_header("WARC-Date") or payload.raw.fetched_at.isoformat()
    result.lookups.append(
        Lookup(site_of(uri), "deleted", m.group("base"), int(m.group("id")), _GONE[status], when)
    )


def _revisit(record: Any, payload: Payload, result: ParseResult, originals: dict[str, int]) -> None:
    digest = record.rec_headers.get_header("WARC-Payload-Digest")
    refers = record.rec_headers.get_header(
        "WARC-Refers-To-Target-URI"
    ) or record.rec_headers.get_header("WARC-Target-URI")
    offset = originals.get(digest or "") if digest else None
    if offset is None and refers:
        offset = originals.get("uri:" + refers)
    if offset is None:
        result.skip("revisit of a capture not in this file (or not HTML/JSON)")
        return
    with payload.opener() as fh:
        fh.seek(offset)
        original = next(iter(ArchiveIterator(fh, arc2warc=True)), None)
        if original is None or original.rec_type != "response":
            result.skip("revisit whose original cannot be read")
            return
        _response(record, original, payload, result)


def _parse_body(
    body: bytes,
    media: str,
    uri: str | None,
    capture: Any,
    payload: Payload,
    result: ParseResult,
    content_type: str | None,
) -> None:
    from cwingest.parse import html_page, wp_rest

    reader: Any = html_page if media in _HTML_TYPES else wp_rest
    date = capture.rec_headers.get_header("WARC-Date")
    fetched_at = payload.raw.fetched_at
    if date:
        with contextlib.suppress(ValueError):
            fetched_at = datetime.fromisoformat(date.replace("Z", "+00:00"))

    def forward(doc: Any) -> None:
        doc.url = doc.url or uri
        doc.source_format = "warc_" + doc.source_format
        result.add(doc)

    inner = nested_payload(
        payload,
        body,
        context={"url": uri, "content_type": content_type or media},
        fetched_at=fetched_at,
        options={**payload.options, "classify_pages": False},
        sink=forward,
    )
    inner_result = reader.parse(inner)
    for doc in inner_result.documents:
        forward(doc)
    result.lookups.extend(inner_result.lookups)
    for reason, n in inner_result.skipped.items():
        result.skip(reason, n)
    result.rejects.extend(inner_result.rejects)
