"""The record types that move through the pipeline.

One typed :class:`Document` travels from parse to publish; parsers fill what their format
knows, the clean and enrich stages fill the rest. Parsers never raise for bad content: they
raise :class:`ParseError` with a one-line reason, which the pipeline turns into a ``rejects``
row, so a bad input is never silently dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any


class ParseError(Exception):
    """An input (or one record in it) cannot be used; the message is the one-line reason."""


class RunError(Exception):
    """A run cannot complete: the message is the one-line reason, nothing is published.

    ``exit_code`` is what the command line exits with (README "Exit status").
    """

    exit_code = 1


class InputError(RunError):
    """A path the run was given does not exist or cannot be read at all."""

    exit_code = 2


class Refused(RunError):
    """The run would lose data the output holds (posts removed, another archive)."""

    exit_code = 3


@dataclass(slots=True)
class RawInput:
    """One raw input as archived: bytes addressed by sha256, and where/when they came from."""

    raw_id: str
    source_uri: str
    fetched_at: datetime
    byte_size: int
    stored_path: str
    # Extra provenance some sources carry (HTTP headers of a recorded response, a WARC
    # target URI and capture date). Parsers may use it; it is never required.
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Lookup:
    """A name for an id found in the input set: a term, a user or a co-author.

    REST records often carry only ids (``categories: [7]``, ``author: 3``); listings of
    terms and users elsewhere in the same input set resolve them to names.
    """

    site: str | None
    kind: str  # "term", "user" or "post_authors"
    taxonomy: str  # taxonomy name for terms ("category", "issue", "author"), "" for users
    id: int
    name: str
    slug: str | None = None
    # For kind "post_authors" (Co-Authors Plus ``coauthors/v1``): display names in byline
    # order for the post whose id is ``id``.
    names: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Document:
    """One post-shaped document parsed from a raw input.

    Fields hold raw values after parsing (``body_html`` or ``body_text``, term ids) and
    clean values after the clean and enrich stages (``content_text``, names, UTC dates).
    """

    raw_id: str
    source_uri: str
    source_format: str
    index: int = 0  # position of the document inside its raw input
    fetched_at: datetime | None = None

    # identity
    site: str | None = None
    wp_id: int | None = None
    post_type: str | None = None
    status: str | None = None
    url: str | None = None
    slug: str | None = None
    guid: str | None = None

    # raw content as found (exactly one of these is usually set)
    title_raw: str | None = None
    body_html: str | None = None
    body_text: str | None = None
    excerpt_raw: str | None = None
    head_title: str | None = None  # <title> or yoast title, still with its site suffix
    site_name: str | None = None  # og:site_name, to strip " - Site Name" from titles

    # metadata, raw or resolved
    author_ids: list[int] = field(default_factory=list)
    coauthor_ids: list[int] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    seo_authors: list[str] = field(default_factory=list)  # from SEO plugins' heads and schema
    term_ids: dict[str, list[int]] = field(default_factory=dict)
    term_slugs: dict[str, list[str]] = field(default_factory=dict)
    terms: dict[str, list[str]] = field(default_factory=dict)
    published_raw: str | None = None
    published_is_gmt: bool = False
    modified_raw: str | None = None
    modified_is_gmt: bool = False

    # results of clean and enrich
    title: str | None = None
    content_text: str = ""
    content_html: str | None = None
    excerpt: str | None = None
    published_at: datetime | None = None
    modified_at: datetime | None = None
    original_source: str | None = None
    language: str | None = None
    word_count: int = 0
    is_excerpt_only: bool = False
    is_protected: bool = False  # password-protected: only what an anonymous visitor sees
    truncated: bool = False  # the record itself was cut off (salvaged fragment)
    needs_autop: bool = False  # raw post_content (exports): shortcodes and wpautop to apply
    author_login: str | None = None  # a login (WXR dc:creator): resolved, never published
    content_sha256: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def doc_id(self) -> str:
        """Stable id of this document: its raw input and position in it."""
        return f"{self.raw_id}:{self.index}"

    def to_dict(self) -> dict[str, Any]:
        """A plain dict of the fields (shallow: lists and dicts are shared, not copied)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(slots=True)
class ParseResult:
    """What one parser made of one raw input."""

    source_format: str
    documents: list[Document] = field(default_factory=list)
    # When set, documents go straight to it (cleaned and spooled to disk by the pipeline),
    # so a reader streaming a huge export never holds its documents in memory.
    sink: Callable[[Document], None] | None = None
    emitted: int = 0
    lookups: list[Lookup] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count, not rejects
    rejects: list[tuple[str, str]] = field(default_factory=list)  # (error, detail) per record
    partial: bool = False  # part of the input could not be read (its rejects say which)
    repaired: int = 0  # records read only after repairing their markup

    def add(self, doc: Document) -> None:
        """Hand over one document (numbered in the order the reader found it)."""
        doc.index = self.emitted
        self.emitted += 1
        if self.sink is not None:
            self.sink(doc)
        else:
            self.documents.append(doc)

    def skip(self, reason: str, n: int = 1) -> None:
        """Count something deliberately not turned into a document (e.g. an attachment)."""
        self.skipped[reason] = self.skipped.get(reason, 0) + n


_DATETIME_FIELDS = ("fetched_at", "published_at", "modified_at")


def document_fields(doc: Document) -> dict[str, Any]:
    """The fields of a document as JSON values (datetimes as ISO strings)."""
    data = doc.to_dict()
    for key in _DATETIME_FIELDS:
        if data[key] is not None:
            data[key] = data[key].isoformat()
    return data


def document_to_json(doc: Document) -> str:
    """Serialise a document for the on-disk spool between stages."""
    import json

    return json.dumps(document_fields(doc), ensure_ascii=False, sort_keys=True)


def document_from_dict(data: dict[str, Any]) -> Document:
    """Inverse of :func:`document_fields` (``data`` is consumed): the JSON read back from
    :func:`document_to_json` makes the document again."""
    for key in _DATETIME_FIELDS:
        if data.get(key):
            data[key] = datetime.fromisoformat(data[key])
    return Document(**data)
