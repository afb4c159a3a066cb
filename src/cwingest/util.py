"""Small helpers shared across stages."""

from __future__ import annotations

import contextlib
import hashlib
import re
import sys
from urllib.parse import urlsplit

_WAYBACK = re.compile(r"^https?://(?:web\.)?archive\.org/web/\d{1,14}(?:[a-z]{2}_)?/+(.+)$", re.I)


def unwrap_wayback(url: str) -> str:
    """The original URL of a Wayback Machine capture URL (others unchanged)."""
    m = _WAYBACK.match(url.strip())
    if not m:
        return url
    inner = m.group(1)
    if not re.match(r"^https?://", inner, re.I):
        inner = "http://" + inner.lstrip("/")
    return inner


def site_of(url: str | None) -> str | None:
    """The site a URL belongs to: lower-case host (with port), without ``www.``.

    ``file://`` and relative URLs have no site; a Wayback capture URL belongs to the site
    it captured.
    """
    if not url or not isinstance(url, str):
        return None
    try:
        parts = urlsplit(unwrap_wayback(url.strip()))
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if host.startswith("www."):
        host = host[4:]
    return f"{host}:{parts.port}" if parts.port and parts.port not in (80, 443) else host


def sha256_text(text: str) -> str:
    """Hex sha256 of UTF-8 text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# Month names as English dates write them ("August 18, 2016", "Sept. 3, 2019").
MONTH_PATTERN = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)

_SLUG_STRIP = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """A URL slug for a name (``Susan Patrick`` -> ``susan-patrick``)."""
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _SLUG_STRIP.sub("-", ascii_text.lower()).strip("-")


def release_memory() -> None:
    """Give memory freed between stages back to the system: glibc's malloc keeps freed
    chunks inside its heap (each document's temporaries leave holes between the keys
    that live on), and Arrow's pool keeps buffers; the next stage's large arrays are then
    allocated beside them and the process's peak grows. Nothing happens where neither
    applies."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    arrow = sys.modules.get("pyarrow")  # only when already in use: importing it costs more
    if arrow is not None:
        with contextlib.suppress(Exception):
            arrow.default_memory_pool().release_unused()


def markdown_cell(text: str, limit: int = 200) -> str:
    """Text fit for one cell of a markdown table: one line, pipes escaped, at most
    ``limit`` characters (an ellipsis marks the cut)."""
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"
