"""Safe, streamed XML for the readers of XML formats (WXR exports, feeds).

One set of parser settings (no DTD, no entity resolution, no network, no huge text
nodes), one check that refuses documents declaring entities before any parsing, element
freeing for constant memory, and one policy for XML that breaks part-way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO, Any

from lxml import etree

from cwingest.models import ParseError, ParseResult

_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
# libxml2 warns about a non-ASCII namespace URI (an IRI) and raises it only once the whole
# document was read: nothing is lost (XML_WAR_NS_URI, XML_WAR_NS_URI_RELATIVE).
_NS_URI_WARNINGS = {99, 100}


def local_name(tag: Any) -> str:
    """``item`` for ``{ns}item`` (and "" for comments and processing instructions)."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def namespace(tag: Any) -> str:
    """The namespace URI of a tag, "" when it has none."""
    if isinstance(tag, str) and tag.startswith("{"):
        return tag[1 : tag.index("}")]
    return ""


def refuse_entity_declarations(stream: IO[bytes]) -> None:
    """Refuse documents that declare entities (billion laughs, XXE) before parsing them."""
    head = stream.read(65536)
    stream.seek(0)
    if _DOCTYPE.search(head) and _ENTITY_DECL.search(head):
        raise ParseError("XML declares entities (possible entity expansion or XXE attack): refused")


def iter_end_elements(stream: IO[bytes]) -> Iterator[etree._Element]:
    """Every element as it closes, parsed with no DTD, entities or network."""
    refuse_entity_declarations(stream)
    for _event, el in etree.iterparse(
        stream,
        events=("end",),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    ):
        yield el


def free(el: etree._Element) -> None:
    """Drop an element that was read, and the siblings before it (constant memory)."""
    el.clear(keep_tail=False)
    parent = el.getparent()
    while parent is not None and el.getprevious() is not None:
        del parent[0]


def broken_xml(exc: etree.XMLSyntaxError, items: int, result: ParseResult) -> None:
    """Apply the policy for XML that breaks part-way (or raise when nothing was read).

    A namespace warning raised at the end loses nothing and is ignored; a break after some
    items keeps them and records a reject for the rest; a break before any is fatal.
    """
    if exc.code in _NS_URI_WARNINGS:
        return
    reason = f"XML not well-formed: {exc.msg} (line {exc.lineno})"
    if items == 0:
        raise ParseError(reason) from exc
    result.rejects.append(("broken XML", f"{reason}; the {items} items before it were kept"))
