"""Saved HTTP exchanges: ``{"url", "status", "headers", "body"}`` JSON envelopes.

Recorders (and cwingest's own test fixtures) keep a response with its URL and headers.
The body is parsed by whichever reader recognises it, with the envelope's URL and
``Content-Type`` as context; error statuses are rejected with their status, and bodies
with nothing to extract (sitemaps, feeds with no reader) are skipped and counted.
"""

from __future__ import annotations

import json
import re
from typing import Any

from cwingest.models import ParseError, ParseResult
from cwingest.parse.base import Payload, detect, nested_payload

name = "http_record"
FORMATS: dict[str, int] = {}  # a container: its body keeps its own format

_ENVELOPE = re.compile(r'^\s*\{\s*"(?:url|method|status|reason|headers)"\s*:')


def sniff(payload: Payload) -> int:
    """An object whose first keys are those of a recorded exchange."""
    head = payload.head_text().lstrip("\ufeff")
    if (_ENVELOPE.match(head) and '"body"' in payload.head_text()) or (
        _ENVELOPE.match(head) and payload.raw.byte_size > len(payload.head)
    ):
        return 95
    return 0


def _envelope(payload: Payload) -> dict[str, Any]:
    try:
        value = json.loads(payload.text(legacy=False), strict=False)
    except json.JSONDecodeError as exc:
        raise ParseError(f"recorded HTTP exchange is not valid JSON: {exc.msg}") from exc
    if not isinstance(value, dict) or not isinstance(value.get("body"), str):
        raise ParseError("recorded HTTP exchange without a text body")
    return value


def parse(payload: Payload) -> ParseResult:
    """Parse the recorded body with the reader that recognises it."""
    from cwingest.parse.registry import READERS

    env = _envelope(payload)
    status = env.get("status")
    if isinstance(status, int) and status >= 400:
        raise ParseError(f"recorded HTTP {status} response: no content")
    headers: dict[str, Any] = env["headers"] if isinstance(env.get("headers"), dict) else {}
    content_type = env.get("content_type") or _header(headers, "content-type") or ""
    body = env["body"].encode("utf-8")
    context = {
        **payload.raw.context,
        "url": env.get("url"),
        "content_type": "text/plain; charset=utf-8",
    }
    inner = nested_payload(payload, body, context=context)
    readers = [r for r in READERS if r.name != name]
    try:
        reader = detect(inner, readers)
    except ParseError:
        result = ParseResult(source_format=name)
        kind = (
            "sitemap"
            if "sitemap" in body[:2000].decode("utf-8", "ignore")
            else content_type or "unknown"
        )
        result.skip(f"recorded response without posts ({kind.split(';')[0]})")
        return result
    return reader.parse(inner)


def _header(headers: dict[str, Any], key: str) -> str | None:
    for k, v in headers.items():
        if k.lower() == key:
            return str(v)
    return None
