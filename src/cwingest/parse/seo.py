"""Authors that SEO plugins write into a post: Yoast, Rank Math, All in One SEO.

A REST record saved without ``_embed`` names its author by user id only, but most sites
run an SEO plugin that names the author in the same record: Yoast's ``yoast_head_json``
(``author``, the ``twitter_misc`` "Written by" pair, the ``Person`` its ``schema`` graph
points the ``Article``'s ``author`` at) and the same JSON-LD and ``<meta name="author">``
inside the ``yoast_head`` HTML string; Rank Math and All in One SEO have heads of their
own (``rank_math_head``, ``aioseo_head``, ``aioseo_head_json``). Saved pages carry the same
JSON-LD and meta tags. An ``Organization`` or the site's own name is never an author.
"""

from __future__ import annotations

import json
import re
from typing import Any

from cwingest.enrich.names import person_names

# "Written by" in the languages Yoast is translated to (twitter:label1).
_WRITTEN_BY = re.compile(
    r"^(?:written by|geschrieben von|verfasst von|écrit par|rédigé par|escrito por|"
    r"scritto da|geschreven door|napisane przez|autor|auteur|author)$",
    re.IGNORECASE,
)
_ORGS = {"Organization", "NewsMediaOrganization", "Corporation", "WebSite", "Brand"}
_LD_SCRIPT = re.compile(
    r"<script[^>]*application/ld\+json[^>]*>(.*?)</script>", re.IGNORECASE | re.DOTALL
)
_META = re.compile(r"<meta\s+([^>]+?)/?>", re.IGNORECASE)
_ATTR = re.compile(r"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _types(node: dict[str, Any]) -> set[str]:
    t = node.get("@type")
    return {str(x) for x in (t if isinstance(t, list) else [t]) if x}


def graph_authors(data: Any) -> list[str]:
    """People named as the ``author`` of an article or page in a JSON-LD value."""
    nodes: list[dict[str, Any]] = []
    stack = [data]
    while stack and len(nodes) < 500:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            if "@graph" in item:
                stack.append(item["@graph"])
            nodes.append(item)
    by_id = {str(n["@id"]): n for n in nodes if isinstance(n.get("@id"), str)}
    articles = [
        n
        for n in nodes
        if _types(n)
        & {
            "Article",
            "BlogPosting",
            "NewsArticle",
            "Report",
            "ScholarlyArticle",
            "TechArticle",
            "WebPage",
        }
    ]
    articles.sort(key=lambda n: "WebPage" in _types(n))  # articles before the page
    for article in articles:
        found = article.get("author")
        names = []
        for a in found if isinstance(found, list) else [found]:
            if isinstance(a, dict) and isinstance(a.get("@id"), str) and a["@id"] in by_id:
                a = {**by_id[a["@id"]], **{k: v for k, v in a.items() if k != "@id"}}
            if isinstance(a, str):
                names.append(a)
            elif isinstance(a, dict) and not (_types(a) & _ORGS) and isinstance(a.get("name"), str):
                names.append(a["name"])
        if names:
            return names
    return []


def head_authors(head: str) -> list[str]:
    """Authors an HTML head (a plugin's ``*_head`` string) names: JSON-LD, then the
    twitter "Written by" pair, then ``<meta name="author">``."""
    for m in _LD_SCRIPT.finditer(head[:500_000]):
        try:
            names = graph_authors(json.loads(m.group(1), strict=False))
        except (json.JSONDecodeError, RecursionError):
            continue
        if names:
            return names
    metas: dict[str, str] = {}
    for m in _META.finditer(head[:500_000]):
        attrs = {k.lower(): (v1 or v2) for k, v1, v2 in _ATTR.findall(m.group(1))}
        key = attrs.get("name") or attrs.get("property")
        if key and "content" in attrs:
            metas.setdefault(key.lower(), attrs["content"])
    for k in range(1, 4):
        if _WRITTEN_BY.match(metas.get(f"twitter:label{k}", "").strip()):
            return [metas.get(f"twitter:data{k}", "")]
    if metas.get("author"):
        return [metas["author"]]
    return []


def seo_authors(record: dict[str, Any], site_names: list[str]) -> list[str]:
    """Authors an SEO plugin names in a REST record (checked names, site name refused)."""
    found: list[str] = []
    for key, value in record.items():
        if not isinstance(key, str):
            continue
        if key.endswith("_head_json") and isinstance(value, dict):
            if isinstance(value.get("author"), str):
                found = [value["author"]]
            misc = value.get("twitter_misc")
            if not found and isinstance(misc, dict):
                found = [str(v) for k, v in misc.items() if _WRITTEN_BY.match(str(k).strip())]
            if not found:
                found = graph_authors(value.get("schema"))
        elif key.endswith("_head") and isinstance(value, str):
            found = head_authors(value)
        if found:
            names = person_names(found, site_names)
            if names:
                return names
            found = []
    return []
