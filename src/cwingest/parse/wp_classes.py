"""What WordPress writes into CSS classes: ``class_list`` in REST records, the ``<body>``
and ``<article>`` classes of rendered pages.

``post-25`` / ``postid-25`` / ``page-id-25`` name the post, ``type-cw_post`` its type,
``status-publish`` its status, and ``{taxonomy}-{slug}`` its terms (``category-news``,
``tag-iceland`` for post_tag, ``issue-how-to-get-started`` for custom taxonomies). The REST
and HTML readers both read them here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_ID_CLASS = re.compile(r"(?:postid|post|page-id)-(\d+)")


def wp_id_from_classes(classes: Iterable[str]) -> int | None:
    """The post id a class list names, if any."""
    for cls in classes:
        m = _ID_CLASS.fullmatch(cls)
        if m:
            return int(m.group(1))
    return None


def is_protected_class(classes: Iterable[str]) -> bool:
    """True when WordPress marks the post password-protected (``post-password-required``)."""
    return "post-password-required" in set(classes)


def class_value(classes: Iterable[str], prefix: str) -> str | None:
    """The value of the first ``{prefix}-value`` class (``type``, ``status``)."""
    for cls in classes:
        if cls.startswith(prefix + "-") and len(cls) > len(prefix) + 1:
            return cls[len(prefix) + 1 :]
    return None


def term_slugs_from_classes(
    classes: Iterable[str], taxonomies: Iterable[str] = ()
) -> dict[str, list[str]]:
    """Term slugs by taxonomy from ``{taxonomy}-{slug}`` classes.

    ``category-`` and ``tag-`` (post_tag) are always known; other taxonomies must be named,
    since any class has a dash. The longest matching prefix wins (``issue_area-x`` is not
    ``issue``'s).
    """
    prefixes = {"category": "category", "tag": "post_tag", **{t: t for t in taxonomies}}
    ordered = sorted(prefixes.items(), key=lambda kv: -len(kv[0]))
    out: dict[str, list[str]] = {}
    for cls in classes:
        for prefix, tax in ordered:
            if cls.startswith(prefix + "-") and len(cls) > len(prefix) + 1:
                out.setdefault(tax, []).append(cls[len(prefix) + 1 :])
                break
    return out
