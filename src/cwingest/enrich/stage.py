"""The enrich stage: what only the whole input set knows.

REST records name users and terms by id; the names are in other inputs (users and
terms listings, embedded objects, exports). Once every input is parsed, each document's
title, authors, terms and dates are resolved against all of them, and its shingle
signature is stored for the deduplicate stage (compact hashes on disk, not texts).

What a document's enrichment depends on is its spooled fields and labels, the code, and
the answers of the lookups it made; :class:`cwingest.cache.EnrichCache` keeps the result
with those answers, so a run enriches again only documents that are new or whose
lookups now answer differently (``runs.documents_enriched``).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import fields as dataclass_fields
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from cwingest.cache import EnrichCache, code_version
from cwingest.clean.boilerplate import Cleaned
from cwingest.clean.profiles import load_profiles
from cwingest.config import RunConfig
from cwingest.dedup.clusters import DocKey
from cwingest.dedup.shingles import HashStore, Signature, text_signature
from cwingest.enrich.lookups import LookupIndex
from cwingest.enrich.metadata import enrich_document
from cwingest.models import Document, document_fields, document_from_dict
from cwingest.report import StageReport
from cwingest.spool import Spool


def enrich_documents(
    spool: Spool, work: Path, config: RunConfig, out: Path | None = None
) -> tuple[list[DocKey], HashStore, StageReport]:
    """Enrich every spooled document in place; its grouping key and signature, in the
    spool's stable order (document number i is ``keys[i]`` in the hash store).

    With ``out`` and the run's cache on, what an earlier run made of an identical document
    is reused while the names it looked up are unchanged (:class:`EnrichCache`)."""
    started = time.perf_counter()
    index = LookupIndex.build(spool.lookups())
    profiles = load_profiles(config.profiles)
    hashes = HashStore(work / "shingles.bin")
    cache = (
        EnrichCache(
            out,
            f"{code_version(config.reader_options(), config.max_bytes)}"
            f"-k{config.dedup.shingle_size}",
        )
        if out is not None and config.cache
        else None
    )
    # Grouping keys wait in a file until every document is enriched: made afterwards, the
    # keys (kept until the posts are known) share memory pages with one another instead
    # of being scattered among each document's temporaries, which pinned those pages.
    key_file = open(work / "keys.jsonl", "w+", encoding="utf-8")  # noqa: SIM115 - closed below
    updates: list[tuple[str, str]] = []  # (enriched data, doc_id)
    deltas: list[tuple[str, str]] = []  # (cached delta, doc_id)
    for doc_id, data, labels_json in spool.docs():
        key = EnrichCache.key(data, labels_json) if cache is not None else ""
        hit = cache.get(key) if cache is not None else None
        if hit is not None and index.answers_unchanged(json.loads(hit[0])):
            assert cache is not None
            cache.used(key)
            deltas.append((hit[1], doc_id))  # applied when the publish stage reads it
            key_file.write(f"{doc_id}\t{hit[2]}\n")
            signature = Signature(
                np.frombuffer(hit[3], dtype=np.uint64),
                np.frombuffer(hit[4], dtype=np.uint64).reshape(-1, 3),
            )
        else:
            before = json.loads(data)  # its own copy: enrichment changes lists in place
            doc = document_from_dict(json.loads(data))
            found = json.loads(labels_json)
            cleaned = Cleaned([], [], found["labels"], found["excerpt_cut"])
            index.consulted = [] if cache is not None else None
            enrich_document(doc, index, profiles, cleaned)
            consulted, index.consulted = index.consulted, None
            after = document_fields(doc)
            updates.append((json.dumps(after, ensure_ascii=False, sort_keys=True), doc_id))
            group = _grouping(doc_id, doc)
            grouping_json = _grouping_to_json(group)
            key_file.write(f"{doc_id}\t{grouping_json}\n")
            signature = text_signature(doc.content_text, config.dedup.shingle_size)
            if cache is not None:
                delta = {k: v for k, v in after.items() if before.get(k) != v}
                cache.put(
                    key,
                    json.dumps(consulted),
                    json.dumps(delta, ensure_ascii=False),
                    grouping_json,
                    np.ascontiguousarray(signature.shingles, dtype=np.uint64).tobytes(),
                    np.ascontiguousarray(signature.paragraphs, dtype=np.uint64).tobytes(),
                )
        hashes.add(signature)
        if len(updates) + len(deltas) >= 2000:
            spool.update(updates, "data")
            spool.update(deltas, "delta")
            updates, deltas = [], []
    spool.update(updates, "data")
    spool.update(deltas, "delta")
    del updates, deltas
    if cache is not None:
        cache.finish()
    key_file.seek(0)
    keys: list[DocKey] = []
    for line in key_file:
        doc_id, _, text = line.rstrip("\n").partition("\t")
        keys.append(_grouping_from_json(doc_id, text))
    key_file.close()
    report = StageReport(
        "enrich",
        counts={
            "documents": len(keys),
            "cached": cache.hits if cache is not None else 0,
            "enriched": len(keys) - (cache.hits if cache is not None else 0),
        },
    )
    report.seconds = time.perf_counter() - started
    return keys, hashes, report


def _shared(value: str | None) -> str | None:
    """One copy of a value many documents repeat (site, format, post type): the keys of
    every document stay in memory until the posts are known."""
    return sys.intern(value) if value is not None else None


def _digest(sha256: str | None) -> bytes | None:
    """The text's sha256 as the 16 bytes grouping compares (a hex string takes 113)."""
    return bytes.fromhex(sha256[:32]) if sha256 else None


# fetch times: one per raw input at most, repeated by every document it holds
_TIMES: dict[datetime, datetime] = {}


def _shared_time(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if len(_TIMES) > 4096:
        _TIMES.clear()
    return _TIMES.setdefault(value, value)


def _grouping(doc_id: str, doc: Document) -> DocKey:
    return DocKey(
        doc_id,
        _digest(doc.content_sha256),
        _shared(doc.site),
        doc.wp_id,
        doc.url,
        sys.intern(doc.source_format),
        doc.is_excerpt_only,
        doc.modified_at,
        doc.word_count,
        fetched_at=_shared_time(doc.fetched_at),
        guid=doc.guid,
        title=doc.title,
        published_at=doc.published_at,
        slug=doc.slug,
        post_type=_shared(doc.post_type),
    )


# DocKey's fields after doc_id (the same document may be another raw input's next time),
# and which of them are datetimes (ISO strings in the cache)
_GROUPING_FIELDS = tuple(f.name for f in dataclass_fields(DocKey))[1:]
_GROUPING_DATES = tuple(
    i for i, name in enumerate(_GROUPING_FIELDS) if name.endswith(("_at", "fetched_at"))
)


_SHA = _GROUPING_FIELDS.index("content_sha256")
_FETCHED = _GROUPING_FIELDS.index("fetched_at")


def _grouping_to_json(key: DocKey) -> str:
    values: list[Any] = [getattr(key, name) for name in _GROUPING_FIELDS]
    for i in _GROUPING_DATES:
        if values[i] is not None:
            values[i] = values[i].isoformat()
    if values[_SHA] is not None:
        values[_SHA] = values[_SHA].hex()
    return json.dumps(values, ensure_ascii=False)


def _grouping_from_json(doc_id: str, text: str) -> DocKey:
    values = json.loads(text)
    for i in _GROUPING_DATES:
        if values[i] is not None:
            values[i] = datetime.fromisoformat(values[i])
    if values[_SHA] is not None:
        values[_SHA] = bytes.fromhex(values[_SHA])
    values[_FETCHED] = _shared_time(values[_FETCHED])
    key = DocKey(doc_id, *values)
    key.site, key.post_type = _shared(key.site), _shared(key.post_type)
    key.source_format = sys.intern(key.source_format)
    return key
