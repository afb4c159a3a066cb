"""The enrich stage: what only the whole input set knows.

REST records name users and terms by id; the names are in other inputs (users and
terms listings, embedded objects, exports). Once every input is parsed, each document's
title, authors, terms and dates are resolved against all of them, and its shingle
signature is stored for the deduplicate stage (compact hashes on disk, not texts).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from cwingest.clean.boilerplate import Cleaned
from cwingest.clean.profiles import load_profiles
from cwingest.config import RunConfig
from cwingest.dedup.clusters import DocKey
from cwingest.dedup.shingles import HashStore, text_signature
from cwingest.enrich.lookups import LookupIndex
from cwingest.enrich.metadata import enrich_document
from cwingest.models import document_from_json, document_to_json
from cwingest.report import StageReport
from cwingest.spool import Spool


def enrich_documents(
    spool: Spool, work: Path, config: RunConfig
) -> tuple[list[DocKey], HashStore, StageReport]:
    """Enrich every spooled document in place; its grouping key and signature, in the
    spool's stable order (document number i is ``keys[i]`` in the hash store)."""
    started = time.perf_counter()
    index = LookupIndex.build(spool.lookups())
    profiles = load_profiles()
    hashes = HashStore(work / "shingles.bin")
    keys: list[DocKey] = []
    updates: list[tuple[str, str]] = []
    for doc_id, data, labels_json in spool.docs():
        doc = document_from_json(data)
        found = json.loads(labels_json)
        cleaned = Cleaned([], [], found["labels"], found["excerpt_cut"])
        enrich_document(doc, index, profiles, cleaned)
        updates.append((document_to_json(doc), doc_id))
        keys.append(
            DocKey(
                doc_id,
                doc.content_sha256,
                doc.site,
                doc.wp_id,
                doc.url,
                doc.source_format,
                doc.is_excerpt_only,
                doc.modified_at,
                doc.word_count,
                fetched_at=doc.fetched_at,
                guid=doc.guid,
                title=doc.title,
                published_at=doc.published_at,
                slug=doc.slug,
                post_type=doc.post_type,
            )
        )
        hashes.add(text_signature(doc.content_text, config.dedup.shingle_size))
        if len(updates) >= 2000:
            spool.update(updates, "data")
            updates = []
    spool.update(updates, "data")
    report = StageReport("enrich", counts={"documents": len(keys)})
    report.seconds = time.perf_counter() - started
    return keys, hashes, report
