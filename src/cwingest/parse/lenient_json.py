"""Salvage what is still whole in JSON that was cut off at either end.

Saved REST dumps are often truncated: a record that starts inside ``content.rendered`` or
a list page that stops mid-string. :func:`salvage` recovers every complete record and,
from the cut records at either end, every field whose value is still readable (an
unterminated string keeps the part that survived). Nothing here evaluates or expands
anything; it is a tolerant tokenizer, bounded by the input's length.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_DECODER = json.JSONDecoder(strict=False)
_scanstring: Any = getattr(json.decoder, "scanstring")  # noqa: B009 - untyped in typeshed
_WS = re.compile(r"[ \t\r\n]*")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|[\"\\/bfnrt])")
_SIMPLE = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def decode_partial_string(body: str) -> str:
    """Decode JSON escapes in a string body that may be cut anywhere (even mid-escape)."""
    body = re.sub(r"\\(u[0-9a-fA-F]{0,3})?$", "", body)  # dangling escape at the cut

    def repl(m: re.Match[str]) -> str:
        esc = m.group(1)
        if esc[0] == "u":
            return chr(int(esc[1:], 16))
        return _SIMPLE[esc]

    text = _ESCAPE.sub(repl, body)
    # Re-pair surrogates that \\uD83D\\uDE00-style escapes produce.
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


@dataclass
class Partial:
    """A value read up to the end of the input; ``complete`` is False when it was cut."""

    value: Any
    end: int
    complete: bool


def _skip_ws(s: str, i: int) -> int:
    m = _WS.match(s, i)
    return m.end() if m else i


def read_value(s: str, i: int, depth: int = 0) -> Partial:
    """Read one JSON value at ``s[i]`` tolerating a cut at the end of ``s``."""
    i = _skip_ws(s, i)
    if i >= len(s):
        return Partial(None, i, False)
    if depth > MAX_DEPTH:
        raise ValueError("nesting too deep")
    c = s[i]
    if c == '"':
        try:
            value, end = _scanstring(s, i + 1, False)
            return Partial(value, end, True)
        except json.JSONDecodeError:
            return Partial(decode_partial_string(s[i + 1 :]), len(s), False)
    if c == "{":
        obj, end, complete = read_members(s, i + 1, depth + 1)
        return Partial(obj, end, complete)
    if c == "[":
        items: list[Any] = []
        j = _skip_ws(s, i + 1)
        if j < len(s) and s[j] == "]":
            return Partial(items, j + 1, True)
        while j < len(s):
            part = read_value(s, j, depth + 1)
            if part.value is not None or part.complete:
                items.append(part.value)
            if not part.complete:
                return Partial(items, part.end, False)
            j = _skip_ws(s, part.end)
            if j < len(s) and s[j] == ",":
                j += 1
                continue
            if j < len(s) and s[j] == "]":
                return Partial(items, j + 1, True)
            return Partial(items, j, False)
        return Partial(items, j, False)
    m = _NUMBER.match(s, i)
    if m:
        text = m.group(0)
        if m.end() == len(s):  # a number at the very end may itself be cut
            return Partial(None, m.end(), False)
        number: Any = float(text) if any(ch in text for ch in ".eE") else int(text)
        return Partial(number, m.end(), True)
    for literal, constant in (("true", True), ("false", False), ("null", None)):
        if s.startswith(literal, i):
            return Partial(constant, i + len(literal), True)
    raise ValueError(f"unexpected character {c!r} at {i}")


def read_members(s: str, i: int, depth: int = 0) -> tuple[dict[str, Any], int, bool]:
    """Read ``"key": value`` pairs up to the closing brace (or the cut)."""
    obj: dict[str, Any] = {}
    j = _skip_ws(s, i)
    while j < len(s):
        if s[j] == "}":
            return obj, j + 1, True
        if s[j] == ",":
            j = _skip_ws(s, j + 1)
            continue
        if s[j] != '"':
            raise ValueError(f"expected a key at {j}")
        try:
            key, j = _scanstring(s, j + 1, False)
        except json.JSONDecodeError:
            return obj, len(s), False
        j = _skip_ws(s, j)
        if j >= len(s) or s[j] != ":":
            return obj, j, False
        part = read_value(s, j + 1, depth)
        if part.value is not None or part.complete:
            obj[key] = part.value
        if not part.complete:
            return obj, part.end, False
        j = _skip_ws(s, part.end)
    return obj, j, False


@dataclass
class Salvage:
    """What :func:`salvage` recovered: whole values and partial records."""

    complete: list[Any] = field(default_factory=list)
    partial: list[dict[str, Any]] = field(default_factory=list)
    leading_string: str | None = None  # text of the string the fragment starts inside
    leading_context: dict[str, Any] = field(default_factory=dict)  # its enclosing object
    gave_up: bool = False  # the search for whole records stopped at MAX_FAILURES


_OBJECT_START = re.compile(r'\{\s*"')
MAX_FAILURES = 20000
MAX_DEPTH = 64  # WordPress records nest about 6 deep; deeper text is not a record

_LEAD_END = re.compile(r'(?<!\\)((?:\\\\)*)"\s*[,}\]:]')


def _leading_string_end(s: str) -> int | None:
    """Where a fragment that starts inside a string closes that string, or None."""
    for m in _LEAD_END.finditer(s):
        # The quote must be preceded by an even number of backslashes (not escaped).
        return m.start() + len(m.group(1))
    return None


def salvage(s: str) -> Salvage:
    """Recover whole records and readable fields from a JSON fragment cut at either end."""
    out = Salvage()
    stripped = s.lstrip()
    pos = len(s) - len(stripped)
    if stripped and stripped[0] not in "{[":
        end = _leading_string_end(s)
        if end is not None and not re.match(r'\s*"?[\w-]+"?\s*:', s[pos:]):
            out.leading_string = decode_partial_string(s[pos:end])
            pos = end + 1
            # Members of the object the string sat in, then the levels above it: the
            # outermost level we climb to is the record the fragment was cut from.
            levels: list[dict[str, Any]] = []
            current, pos = _members_until_close(s, pos)
            levels.append(current)
            while pos < len(s) and s[pos] == "}":
                pos = _skip_ws(s, pos + 1)
                if pos < len(s) and s[pos] == ",":
                    after = _skip_ws(s, pos + 1)
                    if after < len(s) and s[after] == "{":
                        break  # the record ended inside a list: the rest is whole records
                    obj, pos = _members_until_close(s, after)
                    levels.append(obj)
                    continue
                if pos < len(s) and s[pos] == "}":
                    levels.append({})
                    continue
                break
            out.leading_context = levels[0]
            if len(levels) > 1:
                out.partial.append(levels[-1])
    # Whole values (records in a list page) and a cut record at the end. Only braces that
    # open an object with a key are tried, and failures are capped: hostile text full of
    # braces inside one long string must not make this quadratic. A whole record moves the
    # search past itself, so a long cut dump costs one pass.
    i = pos
    failures = 0
    while i < len(s):
        m = _OBJECT_START.search(s, i)
        if m is None:
            break
        brace = m.start()
        try:
            value, end = _DECODER.raw_decode(s, brace)
            out.complete.append(value)
            i = end
            continue
        except (json.JSONDecodeError, RecursionError):
            failures += 1
        if failures > MAX_FAILURES:
            out.gave_up = True
            break
        try:
            obj, end, complete = read_members(s, brace + 1)
        except (ValueError, RecursionError):
            i = brace + 1
            continue
        if not complete and obj:
            out.partial.append(obj)
            break
        i = max(end, brace + 1)
    return out


def _members_until_close(s: str, pos: int) -> tuple[dict[str, Any], int]:
    """Read ``,"key": value`` pairs of an object whose opening brace was cut off."""
    try:
        obj, end, complete = read_members(s, pos)
    except ValueError:
        return {}, len(s)
    # read_members consumed the closing brace; step back so the caller sees it.
    if complete:
        return obj, end - 1
    return obj, end
