"""The one small contract every input format implements, and the registry that picks one.

A reader is a module with a ``name``, ``FORMATS`` (the ``source_format`` values its
documents carry, each with how much such a document usually knows about a post: its
rank when copies of one post are compared), a ``sniff()`` that scores how much an input
looks like its format (from content, never from the file name) and a ``parse()`` that
turns one raw input into documents. The helpers here do the rest: :func:`new_document`
starts a document from the payload, :func:`nested_payload` wraps the bytes a container
holds (a compressed file, a WARC record, an HTTP response) so any reader can parse them.
Adding a format means writing one module and listing it in
:data:`cwingest.parse.registry.READERS`; nothing else in the pipeline changes.
"""

from __future__ import annotations

import errno
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any, Protocol

from cwingest.models import Document, ParseError, ParseResult, RawInput
from cwingest.parse.encoding import Decoded, decode_bytes

HEAD_BYTES = 65536
DEFAULT_MAX_BYTES = 512 * 1024 * 1024


@dataclass
class Payload:
    """Lazy access to one raw input's bytes and text, shared by sniffing and parsing."""

    raw: RawInput
    opener: Callable[[], IO[bytes]]
    max_bytes: int = DEFAULT_MAX_BYTES
    # Run options readers may honour (e.g. include_unpublished for exports).
    options: dict[str, Any] = field(default_factory=dict)
    # Where readers hand documents (see ParseResult.sink); None keeps them in the result.
    sink: Callable[[Document], None] | None = None
    _data: bytes | None = field(default=None, repr=False)
    _decoded: Decoded | None = field(default=None, repr=False)
    _head: bytes | None = field(default=None, repr=False)

    @property
    def head(self) -> bytes:
        """The first 64 KiB, for sniffing without reading a huge file."""
        if self._head is None:
            if self._data is not None:
                self._head = self._data[:HEAD_BYTES]
            else:
                with self.opener() as fh:
                    self._head = fh.read(HEAD_BYTES)
        return self._head

    def data(self) -> bytes:
        """All bytes, refused with a reason above ``max_bytes`` (stream readers avoid this)."""
        if self._data is None:
            if self.raw.byte_size > self.max_bytes:
                raise ParseError(
                    f"input of {self.raw.byte_size} bytes exceeds the {self.max_bytes}-byte "
                    "limit for whole-file formats"
                )
            with self.opener() as fh:
                self._data = fh.read()
        return self._data

    def decoded(self, legacy: bool = True) -> Decoded:
        """The input as text (see :mod:`cwingest.parse.encoding`).

        Args:
            legacy: allow a detected legacy charset when the bytes are not UTF-8 (HTML and
                text); JSON must be Unicode, so its readers pass False.
        """
        if self._decoded is None:
            self._decoded = decode_bytes(
                self.data(), self.raw.context.get("content_type"), legacy=legacy
            )
        return self._decoded

    def text(self, legacy: bool = True) -> str:
        """Shorthand for ``decoded(legacy).text``."""
        return self.decoded(legacy).text

    def looks_textual(self) -> bool:
        """True when the head is text in some encoding (a BOM, UTF-16 without one, no NULs)."""
        from cwingest.parse.encoding import _BOMS, _utf16_without_bom, looks_binary

        head = self.head
        if any(head.startswith(bom) for bom, _ in _BOMS):
            return True
        if b"\x00" in head[:4096] and _utf16_without_bom(head):
            return True
        return bool(head.strip()) and not looks_binary(head)

    def head_text(self) -> str:
        """The head decoded leniently, for sniffing only."""
        from cwingest.parse.encoding import _BOMS, _utf16_without_bom

        head = self.head
        for bom, codec in _BOMS:
            if head.startswith(bom):
                return head.decode(codec, errors="ignore")
        if b"\x00" in head[:4096]:
            codec16 = _utf16_without_bom(head)
            if codec16:
                return head.decode(codec16, errors="ignore")
        return head.decode("utf-8", errors="replace")


class Reader(Protocol):
    """What an input-format module provides."""

    name: str
    FORMATS: dict[str, int]

    def sniff(self, payload: Payload) -> int:
        """0 when the input is not this format, else a confidence (higher wins)."""
        ...

    def parse(self, payload: Payload) -> ParseResult:
        """Turn the input into documents; raise :class:`ParseError` when nothing is usable."""
        ...


def new_document(
    payload: Payload, result: ParseResult, source_format: str, **fields: Any
) -> Document:
    """A document of ``payload``'s raw input, numbered after those ``result`` emitted."""
    fields.setdefault("index", result.emitted)
    return Document(
        raw_id=payload.raw.raw_id,
        source_uri=payload.raw.source_uri,
        source_format=source_format,
        fetched_at=payload.raw.fetched_at,
        **fields,
    )


def nested_payload(
    payload: Payload,
    data: bytes,
    context: dict[str, Any] | None = None,
    fetched_at: datetime | None = None,
    options: dict[str, Any] | None = None,
    sink: Callable[[Document], None] | None = None,
) -> Payload:
    """The bytes a container holds, as a payload of the same raw input (its documents
    keep the container's raw id and URI; ``context`` replaces its provenance)."""
    inner_raw = RawInput(
        raw_id=payload.raw.raw_id,
        source_uri=payload.raw.source_uri,
        fetched_at=fetched_at or payload.raw.fetched_at,
        byte_size=len(data),
        stored_path=payload.raw.stored_path,
        context=payload.raw.context if context is None else context,
    )
    inner = Payload(
        raw=inner_raw,
        opener=lambda: io.BytesIO(data),
        max_bytes=payload.max_bytes,
        options=payload.options if options is None else options,
        sink=payload.sink if sink is None else sink,
    )
    inner._data = data
    return inner


def format_ranks(readers: list[Reader]) -> dict[str, int]:
    """Every ``source_format`` the readers give, with its rank; a web-archive capture of
    a format (``warc_…``) knows what was served, at most what a saved page knows (4)."""
    ranks: dict[str, int] = {}
    for reader in readers:
        ranks.update(getattr(reader, "FORMATS", {}))
    ranks.update({f"warc_{f}": min(r, 4) for f, r in list(ranks.items())})
    return ranks


def detect(payload: Payload, readers: list[Reader]) -> Reader:
    """Pick the reader whose sniff scores highest; ties go to the earlier reader."""
    best: tuple[int, int] | None = None
    chosen: Reader | None = None
    for order, reader in enumerate(readers):
        score = reader.sniff(payload)
        if score > 0 and (best is None or (score, -order) > best):
            best = (score, -order)
            chosen = reader
    if chosen is None:
        raise ParseError("unrecognised format")
    return chosen


# Errors of the machine, not of an input (disk full, quota, read-only, I/O error): a
# reader that salvages damaged input must let them through, so the run stops with the
# reason instead of recording the input as damaged.
ENVIRONMENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO})


def is_environment_error(exc: BaseException) -> bool:
    """True for an OSError that says the machine failed, not the input."""
    return isinstance(exc, OSError) and exc.errno in ENVIRONMENT_ERRNOS
