"""The clean stage: one document at a time, in the parse worker that read it.

A document is cleaned (:func:`cwingest.clean.document.clean_document`), checked for
content, given what its clean text alone decides (word count, language, hash,
``original_source``), and appended to its input's spool file. A document that cannot be
used is one :class:`~cwingest.report.Reject`, never a silent drop.
"""

from __future__ import annotations

import json
import re
from typing import IO, TYPE_CHECKING

from cwingest.clean.document import clean_document
from cwingest.clean.profiles import ProfileSet
from cwingest.enrich.metadata import enrich_text
from cwingest.models import Document, document_to_json
from cwingest.report import Reject

if TYPE_CHECKING:
    from cwingest.parse.stage import RawOutcome

_WORDS = re.compile(r"[^\W\d_]{2,}")
_POST_RECORDS = frozenset({"wp_rest_json", "wxr", "feed"})


def clean_to_spool(doc: Document, profiles: ProfileSet, fh: IO[str], outcome: RawOutcome) -> None:
    """Clean one document and append it to the input's spool file, or record why not."""
    try:
        cleaned = clean_document(doc, profiles)
    except Exception as exc:  # one bad document must not lose the rest of the input
        detail = f"document {doc.index}: {type(exc).__name__}: {exc}"
        outcome.rejects.append(Reject("clean", "cleaning failed", detail[:300]))
        return
    # A post record WordPress publishes (its own id, in an export or the API) is a post even
    # with no title and no text (an image, a gallery, an embed); anything else needs words.
    record = doc.wp_id is not None and doc.source_format in _POST_RECORDS
    if not record and not doc.content_text and not doc.excerpt and not doc.title_raw:
        detail = f"document {doc.index} has no text or title left after cleaning"
        outcome.rejects.append(Reject("clean", "no content", detail))
        return
    if not record and not doc.title_raw and len(_WORDS.findall(doc.content_text)) < 3:
        detail = f"document {doc.index} has no readable text (fewer than 3 words, no title)"
        outcome.rejects.append(Reject("clean", "no content", detail))
        return
    enrich_text(doc)
    found = {"labels": cleaned.labels, "excerpt_cut": cleaned.excerpt_cut}
    line = {"index": doc.index, "doc": document_to_json(doc), "found": found}
    fh.write(json.dumps(line) + "\n")
    outcome.docs_count += 1
