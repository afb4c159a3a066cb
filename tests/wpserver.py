"""A small WordPress REST API on 127.0.0.1 for crawler tests, written by the project.

It serves invented posts with the semantics of WordPress 6 that a crawler depends on
(the REST root in the home page's Link header, ``wp/v2/types`` and ``taxonomies`` with
``rest_base``, ``per_page``/``page`` with ``X-WP-Total``, ``X-WP-TotalPages`` and
``Link: rel="next"``, a 400 ``rest_post_invalid_page_number`` past the end,
``modified_after``/``modified_before``/``after`` read as UTC with a ``Z`` and as site
time without one, ``orderby``/``order``, ``_embed`` of author and terms, only published
posts for an anonymous visitor), and injects faults on demand: 503 bursts, 429 with
``Retry-After``, responses slower than the client's timeout, bodies cut off mid-JSON and
a redirect to another host. Every request is logged for the tests to count.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

SITE_OFFSET = timedelta(hours=-5)  # the site's time zone (like America/New_York in winter)


@dataclass
class FakePost:
    id: int
    title: str
    paragraphs: list[str]
    author: int
    issues: list[int]
    date_gmt: datetime
    modified_gmt: datetime
    type: str = "cw_post"
    status: str = "publish"


@dataclass
class FakeSite:
    posts: list[FakePost] = field(default_factory=list)
    users: dict[int, str] = field(default_factory=dict)
    issues: dict[int, str] = field(default_factory=dict)
    # faults: request key ("path?page=N" or "path") -> list of fault names, used in order
    faults: dict[str, list[str]] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    redirect_home: str | None = None
    rest_closed: bool = False  # the REST API answers 401 (a security plugin): sitemaps only
    before_5_7: bool = False  # WordPress before 5.7: modified_after/_before are ignored

    def fault(self, key: str) -> str | None:
        queue = self.faults.get(key)
        return queue.pop(0) if queue else None


def make_site(n: int = 25) -> FakeSite:
    """n invented cw_post posts by three authors, in four issues, a week apart."""
    site = FakeSite(
        users={1: "Dana Whitfield", 2: "Lee Okafor", 3: "Priya Raman"},
        issues={10: "Assessment", 11: "Student Agency", 12: "Equity", 13: "Quality"},
    )
    start = datetime(2024, 1, 8, 15, 0, tzinfo=UTC)
    for i in range(n):
        when = start + timedelta(days=7 * i)
        site.posts.append(
            FakePost(
                id=100 + i,
                title=f"Field Note {i}: What Mastery Looked Like in Week {i + 1}",
                paragraphs=[
                    f"In week {i + 1} the teachers of school {i % 5} tried something new "
                    f"with {10 + i} students and wrote down what they saw, day by day.",
                    f"They kept portfolios, met on Friday {i} and compared evidence of "
                    f"learning target {i * 3 + 1} across classrooms and grades.",
                ],
                author=1 + i % 3,
                issues=[10 + i % 4],
                date_gmt=when,
                modified_gmt=when + timedelta(hours=2),
            )
        )
    site.posts.append(
        FakePost(
            id=999,
            title="A draft nobody should see",
            paragraphs=["Not published yet."],
            author=1,
            issues=[10],
            date_gmt=start,
            modified_gmt=start,
            status="draft",
        )
    )
    return site


def _site_time(value: datetime) -> str:
    return (value + SITE_OFFSET).replace(tzinfo=None).isoformat(timespec="seconds")


def _gmt(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def _read_time(value: str) -> datetime:
    """As WordPress reads a date query: UTC with an offset, site time without one."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = (parsed - SITE_OFFSET).replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


class _Handler(BaseHTTPRequestHandler):
    site: FakeSite
    base: str

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _send(
        self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(data).encode()
        self._send(status, body, "application/json; charset=UTF-8", headers)

    def do_HEAD(self) -> None:
        self.site.log.append("HEAD " + self.path)
        if self.site.rest_closed:
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.site.redirect_home:
            self.send_response(301)
            self.send_header("Location", self.site.redirect_home)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=UTF-8")
        self.send_header("Content-Length", "0")
        self.send_header("Link", f'<{self.base}/wp-json/>; rel="https://api.w.org/"')
        self.end_headers()

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        self.site.log.append(self.path)
        key = path + (f"?page={params['page']}" if "page" in params else "")
        fault = self.site.fault(key) or self.site.fault(path)
        if fault == "500":
            return self._json(500, {"code": "internal_server_error"})
        if fault == "503":
            return self._json(503, {"code": "unavailable"}, {"Retry-After": "0"})
        if fault == "429":
            return self._json(429, {"code": "too_many"}, {"Retry-After": "1"})
        if fault == "slow":
            time.sleep(1.5)
        if fault == "cut":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "5000")
            self.end_headers()
            self.wfile.write(b'[{"id": 1, "title": {"rendered": "cut')
            self.wfile.flush()
            self.close_connection = True
            return None
        api = {"Link": f'<{self.base}/wp-json/>; rel="https://api.w.org/"'}
        if path == "/":
            if self.site.redirect_home:
                return self._send(301, b"", "text/html", {"Location": self.site.redirect_home})
            return self._send(200, b"<html><body>Home</body></html>", "text/html", api)
        if path == "/robots.txt":  # a static file: the server offers an ETag
            if self.headers.get("If-None-Match") == '"robots-1"':
                self.site.log.append("304 /robots.txt")
                self.send_response(304)
                self.send_header("ETag", '"robots-1"')
                self.end_headers()
                return None
            body = b"User-agent: *\nCrawl-delay: 0.01\nDisallow: /private/\n"
            body += f"Sitemap: {self.base}/wp-sitemap.xml\n".encode()
            return self._send(200, body, "text/plain", {"ETag": '"robots-1"'})
        if self.site.rest_closed and (path.startswith("/wp-json") or "rest_route" in params):
            return self._json(401, {"code": "rest_login_required", "data": {"status": 401}})
        if path == "/wp-sitemap.xml":
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.'
                'sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>'
                f"{self.base}/wp-sitemap-posts-cw_post-1.xml</loc></sitemap></sitemapindex>"
            ).encode()
            return self._send(200, body, "application/xml")
        if path == "/wp-sitemap-posts-cw_post-1.xml":
            urls = "".join(
                f"<url><loc>{self.base}/cw_post/note-{p.id}/</loc>"
                f"<lastmod>{_gmt(p.modified_gmt)}+00:00</lastmod></url>"
                for p in self.site.posts
                if p.status == "publish" and p.type == "cw_post"
            )
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps'
                f'.org/schemas/sitemap/0.9">{urls}</urlset>'
            ).encode()
            return self._send(200, body, "application/xml")
        page = re.fullmatch(r"/cw_post/note-(\d+)/", path)
        if page:
            found = [p for p in self.site.posts if p.id == int(page.group(1))]
            if not found or found[0].status != "publish":
                return self._send(404, b"<html><body>Not found</body></html>", "text/html")
            return self._send(200, self._page(found[0]).encode(), "text/html; charset=UTF-8")
        if path == "/wp-json/":
            return self._json(200, {"name": "Fake", "namespaces": ["wp/v2"]}, api)
        if path == "/wp-json/wp/v2/types":
            types = {
                "post": {"slug": "post", "rest_base": "posts", "taxonomies": ["category"]},
                "cw_post": {
                    "slug": "cw_post",
                    "rest_base": "cw_post",
                    "rest_namespace": "wp/v2",
                    "taxonomies": ["issue"],
                },
                "attachment": {"slug": "attachment", "rest_base": "media", "taxonomies": []},
                "wp_block": {"slug": "wp_block", "rest_base": "blocks", "taxonomies": []},
            }
            return self._json(200, types, api)
        if path == "/wp-json/wp/v2/taxonomies":
            taxes = {
                "category": {"slug": "category", "rest_base": "categories", "types": ["post"]},
                "issue": {"slug": "issue", "rest_base": "issue", "types": ["cw_post"]},
            }
            return self._json(200, taxes, api)
        if path == "/wp-json/wp/v2/issue":
            terms = [
                {"id": i, "name": n, "slug": n.lower().replace(" ", "-"), "taxonomy": "issue"}
                for i, n in sorted(self.site.issues.items())
            ]
            return self._collection(terms, params, api)
        if path == "/wp-json/wp/v2/categories":
            return self._collection([], params, api)
        if path == "/wp-json/wp/v2/users":
            users = [
                {
                    "id": i,
                    "name": n,
                    "url": "",
                    "description": "",
                    "link": f"{self.base}/author/{n.lower().replace(' ', '-')}/",
                    "slug": n.lower().replace(" ", "-"),
                    "avatar_urls": {"24": "https://secure.gravatar.com/avatar/0?s=24"},
                }
                for i, n in sorted(self.site.users.items())
            ]
            return self._collection(users, params, api)
        one = re.fullmatch(r"/wp-json/wp/v2/(cw_post|posts)/(\d+)", path)
        if one:
            found = [p for p in self.site.posts if p.id == int(one.group(2))]
            if not found:
                return self._json(404, {"code": "rest_post_invalid_id", "data": {"status": 404}})
            if found[0].status != "publish":
                return self._json(401, {"code": "rest_forbidden", "data": {"status": 401}})
            return self._json(200, self._record(found[0], False), api)
        if path in ("/wp-json/wp/v2/cw_post", "/wp-json/wp/v2/posts"):
            kind = "cw_post" if path.endswith("cw_post") else "post"
            posts = [p for p in self.site.posts if p.type == kind and p.status == "publish"]
            if self.site.before_5_7:
                params = {k: v for k, v in params.items() if not k.startswith("modified_")}
            if "modified_after" in params:
                after = _read_time(params["modified_after"])
                posts = [p for p in posts if p.modified_gmt > after]
            if "modified_before" in params:
                before = _read_time(params["modified_before"])
                posts = [p for p in posts if p.modified_gmt < before]
            if "after" in params:
                after = _read_time(params["after"])
                posts = [p for p in posts if p.date_gmt > after]
            order_by = params.get("orderby", "date")
            field_ = {"modified": "modified_gmt", "id": "id"}.get(order_by, "date_gmt")
            posts.sort(key=lambda p: (getattr(p, field_), p.id))
            if params.get("order", "desc") == "desc":
                posts.reverse()
            records = [self._record(p, "_embed" in params) for p in posts]
            if params.get("_fields") == "id":
                records = [{"id": r["id"]} for r in records]
            return self._collection(records, params, api)
        return self._json(404, {"code": "rest_no_route"})

    def _page(self, p: FakePost) -> str:
        """The post as a twentytwentyone single page renders it."""
        body = "".join(f"<p>{t}</p>\n" for t in p.paragraphs)
        issues = ", ".join(self.site.issues[i] for i in p.issues)
        return (
            f"<!doctype html><html><head><title>{p.title} &#8211; Fake</title>"
            f'<meta property="og:type" content="article"></head>'
            f'<body class="cw_post-template-default single single-cw_post postid-{p.id}">'
            f'<article id="post-{p.id}" class="post-{p.id} cw_post type-cw_post '
            f'status-publish hentry entry"><header class="entry-header">'
            f'<h1 class="entry-title">{p.title}</h1></header>'
            f'<div class="entry-content"><p>Author(s): {self.site.users[p.author]}</p>'
            f"<p>Issue(s): {issues}</p>{body}</div>"
            f'<footer class="entry-footer"><span class="posted-on">Published '
            f'<time class="entry-date published" datetime="{_gmt(p.date_gmt)}+00:00">'
            f"{p.date_gmt:%B %d, %Y}</time></span></footer></article></body></html>"
        )

    def _record(self, p: FakePost, embed: bool) -> dict[str, Any]:
        link = f"{self.base}/{p.type}/note-{p.id}/"
        rec: dict[str, Any] = {
            "id": p.id,
            "date": _site_time(p.date_gmt),
            "date_gmt": _gmt(p.date_gmt),
            "modified": _site_time(p.modified_gmt),
            "modified_gmt": _gmt(p.modified_gmt),
            "slug": f"note-{p.id}",
            "status": "publish",
            "type": p.type,
            "link": link,
            "guid": {"rendered": f"{self.base}/?p={p.id}"},
            "title": {"rendered": p.title},
            "content": {
                "rendered": "".join(f"<p>{t}</p>\n" for t in p.paragraphs),
                "protected": False,
            },
            "excerpt": {"rendered": f"<p>{p.paragraphs[0][:80]}</p>", "protected": False},
            "author": p.author,
            "issue": p.issues,
        }
        if embed:
            rec["_embedded"] = {
                "author": [{"id": p.author, "name": self.site.users[p.author]}],
                "wp:term": [
                    [{"id": i, "name": self.site.issues[i], "taxonomy": "issue"} for i in p.issues]
                ],
            }
        return rec

    def _collection(
        self, items: list[dict[str, Any]], params: dict[str, str], headers: dict[str, str]
    ) -> None:
        per_page = int(params.get("per_page", "10"))
        if per_page > 100:
            return self._json(400, {"code": "rest_invalid_param"})
        page = int(params.get("page", "1"))
        total_pages = max(1, -(-len(items) // per_page))
        if page > total_pages:
            return self._json(400, {"code": "rest_post_invalid_page_number"})
        out = dict(headers)
        out["X-WP-Total"] = str(len(items))
        out["X-WP-TotalPages"] = str(total_pages)
        if page < total_pages:
            nxt = {**params, "page": str(page + 1)}
            out["Link"] = f'<{self.base}{urlsplit(self.path).path}?{urlencode(nxt)}>; rel="next"'
        return self._json(200, items[(page - 1) * per_page : page * per_page], out)


@contextmanager
def serve(site: FakeSite) -> Iterator[str]:
    """Serve ``site`` on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    handler = type("Handler", (_Handler,), {"site": site, "base": ""})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    handler.base = base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
