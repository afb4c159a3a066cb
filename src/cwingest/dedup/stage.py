"""The deduplicate stage: which documents are one post.

Boilerplate is counted over the run, then documents are grouped by identity, by text
and as teasers (:mod:`cwingest.dedup.clusters`); each post gets its stable id from its
primary copies, and every document its post, relation, similarity and rank in the spool.
"""

from __future__ import annotations

import time

from cwingest.config import RunConfig
from cwingest.dedup.clusters import DocKey, count_boilerplate, deduplicate, identity_units
from cwingest.dedup.merge import post_id_for
from cwingest.dedup.shingles import HashStore
from cwingest.dedup.similarity import Similarity
from cwingest.report import StageReport
from cwingest.spool import Spool


def deduplicate_documents(
    keys: list[DocKey], hashes: HashStore, spool: Spool, config: RunConfig
) -> tuple[dict[str, str], StageReport]:
    """Assign every document its post in the spool; returns doc_id -> post_id."""
    started = time.perf_counter()
    hashes.freeze()
    similarity = Similarity(hashes, [k.site for k in keys], config.dedup)
    units = identity_units(keys)
    count_boilerplate(keys, similarity, units)
    posts = deduplicate(keys, similarity, config.dedup, units)
    del units
    similarity.close()
    hashes.close()
    del similarity
    assignments: list[tuple[str, str, float | None, int, str]] = []
    new_ids: dict[str, str] = {}
    update = "UPDATE docs SET post_id=?, relation=?, similarity=?, is_primary=? WHERE doc_id=?"
    n_posts = len(posts)
    posts.reverse()  # consumed from the end, so each post's lists are freed once written
    while posts:
        post = posts.pop()
        primary = [keys[m] for m, p in zip(post.members, post.primary, strict=True) if p]
        pid = post_id_for(primary)
        for rank, (m, rel, sim, prim) in enumerate(
            zip(post.members, post.relations, post.similarities, post.primary, strict=True)
        ):
            assignments.append((f"{pid}:{rank:06d}", rel, sim, int(prim), keys[m].doc_id))
            new_ids[keys[m].doc_id] = pid
        if len(assignments) >= 5000:
            spool.db.executemany(update, assignments)
            assignments = []
    spool.db.executemany(update, assignments)
    # the publish stage reads documents in post order: an index, so SQLite walks it
    # instead of sorting every row with its text
    spool.db.execute("CREATE INDEX docs_by_post ON docs (post_id)")
    spool.db.commit()
    report = StageReport(
        "deduplicate",
        counts={"documents": len(keys), "posts": n_posts, "duplicates": len(keys) - n_posts},
    )
    report.seconds = time.perf_counter() - started
    return new_ids, report
