"""The list of input-format readers, most specific first.

Adding a format: write ``parse/<format>.py`` with ``name``, ``sniff()`` and ``parse()``
(see :mod:`cwingest.parse.base`) and add it here.
"""

from __future__ import annotations

from typing import cast

from cwingest.parse import (
    compressed,
    feed,
    html_page,
    http_record,
    text_page,
    warc,
    wp_rest,
    wxr,
)
from cwingest.parse.base import Reader

READERS: list[Reader] = [
    cast(Reader, m)
    for m in (warc, compressed, wxr, feed, http_record, wp_rest, html_page, text_page)
]
