"""Crawl a WordPress site through its REST API, politely, into a WARC file.

Every request and response (robots.txt, discovery, each page, retries and errors) is
written as a WARC request/response pair; the WARC file is the crawl's raw input, so the
curated tables come from it through the same readers as any capture, and a backfill
rebuilds them offline. What the crawl does:

* **Discovery**: the REST root from the home page's ``Link: <…>; rel="https://api.w.org/"``
  header, else ``/wp-json/``, else ``/?rest_route=/``; post types and taxonomies from
  ``wp/v2/types`` and ``wp/v2/taxonomies``, addressed by their ``rest_base`` (so a custom
  type such as ``cw_post`` and its ``issue`` taxonomy are found, not configured).
* **Fetching**: ``per_page=100`` pages in ``orderby=modified&order=asc`` order, following
  ``Link: rel="next"`` (else ``X-WP-TotalPages``); a 400 ``rest_post_invalid_page_number``
  past the end is the end. ``_embed=author,wp:term`` brings names and terms; terms and
  users are also fetched from their collections, and Co-Authors Plus bylines from
  ``coauthors/v1/coauthors?post_id=N`` when the site offers that namespace. Only what an
  anonymous visitor sees is asked for.
* **Incremental**: with a cursor (the newest ``modified_gmt`` stored, per site and type),
  only ``modified_after = cursor − lag`` (an explicit ``Z``: without an offset WordPress
  reads site time) is asked for, plus a publish window (``after=``) for scheduled posts
  that went live with an old ``modified``. The caller advances the cursor only once
  the whole window is stored.
* **No REST API** (401/403 at the root, or none found): the pages the sitemaps list
  (robots.txt ``Sitemap:`` lines, ``/wp-sitemap.xml``, Yoast's ``/sitemap_index.xml``)
  are fetched instead, with the same politeness and archive, and read by the HTML
  reader; a cursor on ``lastmod`` keeps later crawls to what changed.
* **Deletions**: now and then (``sweep_every``, or on demand) the full list of ids of each
  type is fetched (``_fields=id``); a post the output holds that is not in it is asked
  for by id, and a 404 (deleted) or 401 (unpublished, private, trashed) is archived as
  its tombstone. Nothing is concluded from an incomplete listing.
* **Politeness**: robots.txt (fetched with this client, so it is archived; ``Crawl-delay``
  and ``Request-rate`` parsed here, fractions included), at most ``rate`` requests per
  second, one at a time; retries with exponential backoff and jitter on timeouts, 429,
  502, 503 and 504, honouring ``Retry-After`` (seconds or an HTTP date) up to a cap; a
  descriptive User-Agent with a contact; connect and read timeouts on the client; a cap
  on response size; only the site's own host (a redirect elsewhere is refused and
  reported).
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import io
import json
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib import robotparser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
)
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from cwingest import __version__

API_REL = "https://api.w.org/"
# Post types that are never content (WordPress core's internal types).
_INTERNAL_TYPES = frozenset({"attachment", "nav_menu_item"})
# Worth asking again: rate limited, a gateway or a server briefly down, a PHP fatal error
# under load (500 is transient on WordPress hosts often enough to retry a few times).
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class CrawlOptions:
    """How to crawl (CLI: ``cwingest crawl --help``)."""

    post_types: tuple[str, ...] = ()  # narrow to these slugs or rest_bases
    since: datetime | None = None  # override the cursor: everything modified since
    full: bool = False  # ignore the cursor: every post
    per_page: int = 100
    embed: str = "author,wp:term"
    rate: float = 2.0  # requests per second to the host, at most
    lag: timedelta = timedelta(hours=6)
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_bytes: int = 64 * 1024 * 1024  # per response
    retries: int = 5
    max_retry_wait: float = 300.0
    contact: str = "https://github.com/cwingest/cwingest"
    coauthors: bool = True
    sweep: bool | None = None  # look for deleted posts: None = when the last sweep is old
    sweep_every: timedelta = timedelta(days=7)

    @property
    def user_agent(self) -> str:
        return f"cwingest/{__version__} (WordPress archiver; +{self.contact})"


class CrawlError(Exception):
    """The crawl cannot go on (no REST API, the host refuses us): a one-line reason."""


@dataclass
class CrawlStats:
    """Counts of one crawl, for the summary and ``runs``."""

    requests: int = 0
    bytes: int = 0
    retries: int = 0
    errors: int = 0
    wait_seconds: float = 0.0
    not_modified: int = 0  # conditional requests answered 304
    records: int = 0  # post records fetched
    refused: list[str] = field(default_factory=list)  # URLs not fetched, with why


@dataclass
class Fetched:
    """One response as the crawl used it (the bytes are in the WARC too)."""

    url: str
    status: int
    headers: httpx.Headers
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


# Query parameters that page or window a collection: the same record answers under any.
_WINDOW_PARAMS = frozenset(
    {"page", "per_page", "modified_after", "modified_before", "after", "orderby", "order"}
)
GONE_STATUSES = (401, 403, 404, 410)


def content_digests(url: str, got: Fetched) -> dict[str, str]:
    """What one answer says, as digests keyed by what it is about: each record of a REST
    collection (by path, the query parameters that shape a record, and its id), any other
    successful answer (by URL without paging), and an answer that a post is gone (by URL).

    Two crawls that fetched the same records and the same answers give the same keys and
    digests, however the windows and pages fell: a crawl whose digests are all known
    brought nothing new.
    """
    parts = urlsplit(url)
    # decoded and sorted: a Link header's next URL encodes what the first page's did not
    query = urlencode(
        sorted(
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if k not in _WINDOW_PARAMS
        ),
        safe=",:/",
    )
    where = f"{parts.path}?{query}"
    if got.status in GONE_STATUSES:
        return {f"status {where}": str(got.status)}
    if got.status != 200:
        return {}
    data = got.json() if got.body[:1] in (b"[", b"{") else None
    if (
        isinstance(data, list)
        and data
        and all(isinstance(r, dict) and isinstance(r.get("id"), int) for r in data)
    ):
        return {
            f"{where}#{r['id']}": hashlib.sha256(
                json.dumps(r, sort_keys=True).encode()
            ).hexdigest()[:24]
            for r in data
        }
    if data == []:
        return {}  # an empty page (a window with nothing in it) says nothing
    return {where: hashlib.sha256(got.body).hexdigest()[:24]}


def _retry_after(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def parse_robots_delay(text: str, agent: str = "cwingest") -> float | None:
    """The delay robots.txt asks of us: ``Crawl-delay`` (fractions too, which
    ``urllib.robotparser`` drops) or ``Request-rate: n/s``, from our group or ``*``."""
    groups: dict[str, dict[str, float]] = {}
    current: list[str] = []
    last_was_agent = False
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        key, _, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if key == "user-agent":
            if not last_was_agent:
                current = []
            current.append(value.lower())
            groups.setdefault(value.lower(), {})
            last_was_agent = True
            continue
        last_was_agent = False
        for name in current:
            if key == "crawl-delay":
                with contextlib.suppress(ValueError):
                    groups[name]["delay"] = float(value)
            elif key == "request-rate":
                m = re.match(r"(\d+)\s*/\s*(\d+)\s*([smh]?)", value)
                if m and int(m.group(1)) > 0:
                    unit = {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(3)]
                    groups[name]["delay"] = int(m.group(2)) * unit / int(m.group(1))
    for name in (agent.lower(), "*"):
        if name in groups and "delay" in groups[name]:
            return groups[name]["delay"]
    return None


class Fetcher:
    """An HTTP client for one host that is polite and writes everything to a WARC."""

    def __init__(self, base_url: str, options: CrawlOptions, warc: io.BufferedIOBase) -> None:
        self.base = base_url.rstrip("/") + "/"
        self.host = urlsplit(self.base).netloc.lower()
        self.options = options
        self.stats = CrawlStats()
        self.interval = 1.0 / options.rate if options.rate > 0 else 0.0
        self._last = 0.0
        self._writer = WARCWriter(warc, gzip=True, warc_version="1.1")  # µs dates
        self._robots: robotparser.RobotFileParser | None = None
        self.sitemaps: list[str] = []  # robots.txt's Sitemap: lines
        self.on_request: Callable[[CrawlStats], None] | None = None  # progress display
        # url -> ETag / Last-Modified and body of the last 200, for conditional requests
        self.validators: dict[str, dict[str, Any]] = {}
        self.started = time.monotonic()
        # what the answers said (content_digests), to tell a crawl that brought nothing new
        self.contents: dict[str, str] = {}
        self.client = httpx.Client(
            timeout=httpx.Timeout(options.read_timeout, connect=options.connect_timeout),
            headers={"User-Agent": options.user_agent, "Accept": "application/json, */*"},
            follow_redirects=False,
        )

    def close(self) -> None:
        self.client.close()

    # -- politeness ---------------------------------------------------------------------

    def load_robots(self) -> None:
        """Fetch robots.txt (archived like any response) and apply its rules and delay."""
        got = self._get_once(urljoin(self.base, "/robots.txt"))
        parser = robotparser.RobotFileParser()
        if got is not None and got.status == 200:
            text = got.body.decode("utf-8", errors="replace")
            parser.parse(text.splitlines())
            self.sitemaps = list(parser.site_maps() or [])
            delay = parse_robots_delay(text)
            if delay is not None:
                self.interval = max(self.interval, delay)
        else:
            parser.parse([])  # no robots.txt (or an error): everything is allowed
        self._robots = parser

    def _throttle(self) -> None:
        wait = self._last + self.interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
            self.stats.wait_seconds += wait
        self._last = time.monotonic()

    # -- requests -----------------------------------------------------------------------

    def get(
        self, url: str, params: dict[str, Any] | None = None, method: str = "GET"
    ) -> Fetched | None:
        """GET with retries; None when the URL is refused (robots, another host) or every
        attempt failed (reported in ``stats``)."""
        if params:
            url = url + ("&" if "?" in url else "?") + urlencode(params, safe=",:/")
        if urlsplit(url).netloc.lower() != self.host:
            self.stats.refused.append(f"{url}: another host")
            return None
        if self._robots is not None and not self._robots.can_fetch(self.options.user_agent, url):
            self.stats.refused.append(f"{url}: disallowed by robots.txt")
            return None

        def wait(state: RetryCallState) -> float:
            outcome = state.outcome
            result = outcome.result() if outcome is not None and not outcome.failed else None
            asked = _retry_after(result.headers.get("Retry-After")) if result else None
            backoff = min(self.options.max_retry_wait, 2.0 ** (state.attempt_number - 1))
            delay = asked if asked is not None else backoff * (0.5 + random.random() / 2)
            self.stats.retries += 1
            delay = min(delay, self.options.max_retry_wait)
            self.stats.wait_seconds += delay
            return delay

        retrying = Retrying(
            stop=stop_after_attempt(self.options.retries + 1),
            wait=wait,
            retry=(
                retry_if_exception_type((httpx.TimeoutException, httpx.TransportError))
                | retry_if_result(lambda r: r is not None and r.status in RETRY_STATUSES)
            ),
            retry_error_callback=lambda state: (
                state.outcome.result()
                if state.outcome is not None and not state.outcome.failed
                else None
            ),
            reraise=False,
        )
        got: Fetched | None = retrying(self._get_once, url, 0, method)
        if got is None:
            self.stats.errors += 1
        elif method == "GET":
            self.contents.update(content_digests(url, got))
        return got

    def _get_once(self, url: str, hops: int = 0, method: str = "GET") -> Fetched | None:
        self._throttle()
        self.stats.requests += 1
        known = self.validators.get(url) if method == "GET" else None
        headers = {}
        if known and known.get("etag"):
            headers["If-None-Match"] = known["etag"]
        if known and known.get("last_modified"):
            headers["If-Modified-Since"] = known["last_modified"]
        request = self.client.build_request(method, url, headers=headers)
        try:
            response = self.client.send(request, stream=True)
            try:
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.options.max_bytes:
                        self.stats.refused.append(
                            f"{url}: response larger than {self.options.max_bytes} bytes"
                        )
                        return None
                    chunks.append(chunk)
                body = b"".join(chunks)
            finally:
                response.close()
        except httpx.HTTPError as exc:
            self._write_request(request)
            self._write_error(url, exc)
            raise
        self.stats.bytes += len(body)
        self._write(request, response, body)
        if self.on_request is not None:
            self.on_request(self.stats)
        got = Fetched(str(response.url), response.status_code, response.headers, body)
        if response.status_code == 304 and known is not None:
            # unchanged since the last crawl (WordPress core's REST answers carry no
            # validators; robots.txt and sitemaps served as files often do)
            self.stats.not_modified += 1
            return Fetched(got.url, 200, response.headers, bytes.fromhex(known["body"]))
        if response.status_code == 200 and method == "GET" and len(body) <= 1 << 20:
            etag, modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
            if etag or modified:
                self.validators[url] = {"etag": etag, "last_modified": modified, "body": body.hex()}
        if response.is_redirect and hops < 5:
            target = urljoin(url, response.headers.get("Location", ""))
            if urlsplit(target).netloc.lower() != self.host:
                self.stats.refused.append(f"{url}: redirected to another host ({target})")
                return None
            return self._get_once(target, hops + 1, method)
        return got

    # -- WARC ---------------------------------------------------------------------------

    def _write_request(self, request: httpx.Request) -> None:
        target = request.url.raw_path.decode("ascii", errors="replace")
        headers = [(k, v) for k, v in request.headers.items()]
        http = StatusAndHeaders(
            f"{request.method} {target} HTTP/1.1", headers, is_http_request=True
        )
        record = self._writer.create_warc_record(
            str(request.url), "request", payload=io.BytesIO(b""), http_headers=http
        )
        self._writer.write_record(record)

    def _write(self, request: httpx.Request, response: httpx.Response, body: bytes) -> None:
        self._write_request(request)
        # The body is stored decoded: its Content-Encoding and framing headers go.
        skip = {"content-encoding", "transfer-encoding", "content-length"}
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in skip]
        headers.append(("Content-Length", str(len(body))))
        status = f"{response.status_code} {response.reason_phrase or ''}".strip()
        http = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
        record = self._writer.create_warc_record(
            str(request.url), "response", payload=io.BytesIO(body), http_headers=http
        )
        self._writer.write_record(record)

    def _write_error(self, url: str, exc: Exception) -> None:
        """A failed attempt, as a WARC metadata record (so the night's log is complete)."""
        text = f"error: {type(exc).__name__}: {exc}".encode()
        record = self._writer.create_warc_record(
            url,
            "metadata",
            payload=io.BytesIO(text),
            warc_content_type="text/plain",
        )
        self._writer.write_record(record)


# -- the REST API -------------------------------------------------------------------------


@dataclass
class Api:
    """Where a site's REST API answers, and how to address a route there."""

    root: str  # ".../wp-json/" or ".../?rest_route=/"
    namespaces: list[str] = field(default_factory=list)

    def url(self, route: str) -> str:
        route = route.lstrip("/")
        if "rest_route=" in self.root:
            return self.root.split("rest_route=")[0] + "rest_route=/" + route
        return self.root.rstrip("/") + "/" + route


_LINK = re.compile(r"<(?P<url>[^>]*)>(?P<params>(?:\s*;\s*[^;,<]+)*)")


def _link(headers: httpx.Headers, rel: str) -> str | None:
    """The target of ``rel`` in ``Link`` headers (URLs may hold commas: read by ``<…>``)."""
    for m in _LINK.finditer(",".join(headers.get_list("link"))):
        rels = re.findall(r'rel\s*=\s*"?([^";]+)"?', m.group("params"))
        if any(rel in r.split() for r in rels):
            return m.group("url")
    return None


def discover(fetcher: Fetcher) -> Api:
    """Find the REST root (Link header of the home page, /wp-json/, /?rest_route=/)."""
    candidates: list[str] = []
    home = fetcher.get(fetcher.base, method="HEAD")  # the Link header, not the page
    if home is not None:
        found = _link(home.headers, API_REL)
        if found:
            candidates.append(found)
    candidates += [urljoin(fetcher.base, "wp-json/"), urljoin(fetcher.base, "?rest_route=/")]
    for root in candidates:
        # the index lists every route (hundreds of KB): ask only for what is used
        got = fetcher.get(root, {"_fields": "name,url,home,namespaces,gmt_offset,timezone_string"})
        data = got.json() if got is not None and got.status == 200 else None
        if isinstance(data, dict) and "namespaces" in data:
            return Api(root=root, namespaces=[str(n) for n in data.get("namespaces", [])])
        if got is not None and got.status in (401, 403):
            raise CrawlError(f"the REST API of {fetcher.base} is closed ({got.status} at {root})")
    raise CrawlError(f"no WordPress REST API found at {fetcher.base}")


@dataclass(frozen=True)
class PostType:
    """A post type as the site describes it."""

    slug: str
    rest_base: str
    namespace: str
    taxonomies: tuple[str, ...]


def post_types(
    types: dict[str, Any], wanted: tuple[str, ...] = ()
) -> tuple[list[PostType], list[str]]:
    """Content types from ``wp/v2/types`` (those with a REST route), and the slugs of
    the types skipped because they have none."""
    chosen: list[PostType] = []
    without: list[str] = []
    for slug, info in sorted(types.items()):
        if not isinstance(info, dict) or slug in _INTERNAL_TYPES or slug.startswith("wp_"):
            continue
        base = info.get("rest_base")
        if wanted and slug not in wanted and base not in wanted:
            continue
        if not base:
            without.append(slug)
            continue
        chosen.append(
            PostType(
                slug=slug,
                rest_base=str(base),
                namespace=str(info.get("rest_namespace") or "wp/v2"),
                taxonomies=tuple(str(t) for t in info.get("taxonomies") or []),
            )
        )
    return chosen, without


def taxonomy_bases(taxonomies: dict[str, Any], used: set[str]) -> list[tuple[str, str]]:
    """(namespace, rest_base) of the taxonomies the chosen types use."""
    out = []
    for slug, info in sorted(taxonomies.items()):
        if isinstance(info, dict) and slug in used and info.get("rest_base"):
            out.append((str(info.get("rest_namespace") or "wp/v2"), str(info["rest_base"])))
    return out


def pages(fetcher: Fetcher, url: str, params: dict[str, Any]) -> Iterator[Fetched]:
    """Every page of a collection: ``Link: rel="next"``, else ``X-WP-TotalPages``; a 400
    past the last page is the end."""
    page = 1
    next_url: str | None = None
    while True:
        got = fetcher.get(next_url) if next_url else fetcher.get(url, {**params, "page": page})
        if got is None:
            return
        if got.status == 400:
            data = got.json()
            if isinstance(data, dict) and data.get("code") == "rest_post_invalid_page_number":
                return
        if got.status != 200:
            fetcher.stats.errors += 1
            return
        yield got
        next_url = _link(got.headers, "next")
        if next_url:
            page += 1
            continue
        total = got.headers.get("X-WP-TotalPages")
        if total and total.isdigit() and page < int(total):
            page += 1
            continue
        return


def _iso_z(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


SWEPT = "_swept_at"  # the cursors' entry for the time of the last deletion sweep


def sweep(fetcher: Fetcher, url: str, known: set[int], options: CrawlOptions) -> list[int]:
    """Ids of ``known`` posts that are gone: missing from the full list of ids
    (``_fields=id``) and confirmed by a request of their own (404: deleted; 401/403/410:
    unpublished, private or trashed). The answers are in the WARC, where the reader
    finds them as tombstones. An incomplete listing confirms nothing."""
    errors = fetcher.stats.errors
    live: set[int] = set()
    params = {"per_page": options.per_page, "_fields": "id", "orderby": "id", "order": "asc"}
    for got in pages(fetcher, url, params):
        for rec in got.json() or []:
            if isinstance(rec, dict) and isinstance(rec.get("id"), int):
                live.add(rec["id"])
    if fetcher.stats.errors != errors:
        return []
    gone = []
    for wp_id in sorted(known - live):
        answer = fetcher.get(f"{url}/{wp_id}")
        if answer is not None and answer.status in (401, 403, 404, 410):
            gone.append(wp_id)
    return gone


def crawl_site(
    fetcher: Fetcher,
    options: CrawlOptions,
    cursors: dict[str, str],
    known: dict[str, set[int]] | None = None,
    resume: dict[str, str] | None = None,
    checkpoint: Callable[[str, str], None] | None = None,
) -> tuple[dict[str, str], list[str]]:
    """Crawl one site; returns the new cursors (per post type: the newest modified_gmt
    stored, to be saved once the crawl's WARC is in the archive) and notes. ``known`` is
    the ids the output holds per post type, for the deletion sweep. ``checkpoint(type,
    modified_gmt)`` is told, page after page of the ``modified`` window (oldest first),
    how far the stored records reach, and ``resume`` (the checkpoints of a crawl that was
    cut off, whose WARC is archived) starts each window there instead of refetching.

    A post type whose pages could not all be fetched keeps its old cursor."""
    notes: list[str] = []
    fetcher.load_robots()
    try:
        api = discover(fetcher)
    except CrawlError as closed:
        # no REST API to read (closed by a plugin, or none): the sitemaps' pages
        new_cursors, notes = crawl_sitemaps(fetcher, options, cursors, fetcher.sitemaps)
        return new_cursors, [str(closed), *notes]
    types_got = fetcher.get(api.url("wp/v2/types"))
    types = types_got.json() if types_got is not None and types_got.status == 200 else None
    if not isinstance(types, dict):
        raise CrawlError(f"{api.url('wp/v2/types')} did not list the post types")
    chosen, without = post_types(types, options.post_types)
    if without:
        notes.append("post types without a REST route: " + ", ".join(without))
    tax_got = fetcher.get(api.url("wp/v2/taxonomies"))
    taxonomies = tax_got.json() if tax_got is not None and tax_got.status == 200 else {}
    used = {t for pt in chosen for t in pt.taxonomies}
    for namespace, base in taxonomy_bases(taxonomies or {}, used):
        for _ in pages(fetcher, api.url(f"{namespace}/{base}"), {"per_page": options.per_page}):
            pass  # archived: term names for ids (read back from the WARC)
    for _ in pages(fetcher, api.url("wp/v2/users"), {"per_page": options.per_page}):
        pass
    coauthors = options.coauthors and "coauthors/v1" in api.namespaces
    started = datetime.now(UTC)
    last_sweep = cursors.get(SWEPT)
    do_sweep = (
        options.sweep
        if options.sweep is not None
        else last_sweep is None
        or datetime.fromisoformat(last_sweep.replace("Z", "+00:00")) + options.sweep_every
        <= started
    )
    new_cursors = dict(cursors)
    for pt in chosen:
        url = api.url(f"{pt.namespace}/{pt.rest_base}")
        base_params: dict[str, Any] = {
            "per_page": options.per_page,
            "orderby": "modified",
            "order": "asc",
        }
        if options.embed:
            base_params["_embed"] = options.embed
        since: datetime | None = None
        if options.since is not None:
            since = options.since
        elif not options.full and pt.slug in cursors:
            since = _aware(cursors[pt.slug]) - options.lag  # a modified_gmt (UTC)
        if resume and pt.slug in resume:  # stored by the crawl that was cut off
            resumed = _aware(resume[pt.slug]) - timedelta(seconds=1)  # ties of that second
            since = resumed if since is None else max(since, resumed)
        errors = fetcher.stats.errors
        windows = [base_params]
        if since is not None:
            windows = [
                {
                    **base_params,
                    "modified_after": _iso_z(since),
                    # up to the run's start, rounded up: dates have whole seconds
                    "modified_before": _iso_z(started + timedelta(seconds=1)),
                },
                {**base_params, "after": _iso_z(since), "orderby": "date"},
            ]
        newest = cursors.get(pt.slug)
        seen: set[int] = set()
        for n, params in enumerate(windows):
            ignored = False
            for got in pages(fetcher, url, params):
                records = [
                    r
                    for r in (got.json() or [])
                    if isinstance(r, dict) and isinstance(r.get("id"), int)
                ]
                if n == 0 and since is not None and _older(records, since):
                    ignored = True  # WordPress before 5.7 ignores modified_after
                    break
                reach = _store(records, seen, fetcher, api, coauthors)
                if reach and (newest is None or reach > newest):
                    newest = reach
                if n == 0 and reach and checkpoint is not None and "orderby" in params:
                    checkpoint(pt.slug, reach)
            if ignored and since is not None:
                notes.append(f"{pt.slug}: modified_after is not supported; newest first")
                newest = _newest_first(
                    fetcher, url, base_params, since, seen, api, coauthors, newest
                )
        if fetcher.stats.errors != errors:
            notes.append(f"{pt.slug}: some pages could not be fetched; its cursor stays")
        elif newest:
            new_cursors[pt.slug] = newest
        if do_sweep and known and known.get(pt.slug):
            gone = sweep(fetcher, url, known[pt.slug], options)
            if gone:
                notes.append(f"{len(gone)} {pt.slug} posts gone: " + ", ".join(map(str, gone)))
    if do_sweep:
        new_cursors[SWEPT] = _iso_z(started)
    return new_cursors, notes


def _older(records: list[dict[str, Any]], since: datetime) -> bool:
    """True when a record of a ``modified_after`` answer is not after it (ignored)."""
    limit = _iso_z(since).rstrip("Z")
    return any(str(r.get("modified_gmt") or "9") <= limit for r in records)


def _store(
    records: list[dict[str, Any]], seen: set[int], fetcher: Fetcher, api: Api, coauthors: bool
) -> str | None:
    """Count new records (their bytes are in the WARC already), ask for their co-author
    bylines; the newest ``modified_gmt`` among them."""
    reach: str | None = None
    for rec in records:
        if rec["id"] in seen:
            continue
        seen.add(rec["id"])
        fetcher.stats.records += 1
        modified = rec.get("modified_gmt")
        if isinstance(modified, str) and (reach is None or modified > reach):
            reach = modified
        if coauthors:
            fetcher.get(api.url("coauthors/v1/coauthors"), {"post_id": rec["id"]})
    return reach


def _newest_first(
    fetcher: Fetcher,
    url: str,
    base_params: dict[str, Any],
    since: datetime,
    seen: set[int],
    api: Api,
    coauthors: bool,
    newest: str | None,
) -> str | None:
    """Older sites: ``orderby=modified&order=desc`` until the records are older than
    ``since``."""
    limit = _iso_z(since).rstrip("Z")
    for got in pages(fetcher, url, {**base_params, "order": "desc"}):
        records = [
            r for r in (got.json() or []) if isinstance(r, dict) and isinstance(r.get("id"), int)
        ]
        fresh = [r for r in records if str(r.get("modified_gmt") or "") > limit]
        reach = _store(fresh, seen, fetcher, api, coauthors)
        if reach and (newest is None or reach > newest):
            newest = reach
        if len(fresh) < len(records):
            break
    return newest


# -- when the REST API is closed: sitemaps ----------------------------------------------

_LOC = re.compile(rb"<(sitemap|url)>\s*(.*?)</\1>", re.S | re.I)
_TAG = re.compile(rb"<(loc|lastmod)>\s*(?:<!\[CDATA\[)?\s*(.*?)\s*(?:\]\]>)?\s*</\1>", re.S | re.I)
SITEMAP_CURSOR = "_sitemap"


def sitemap_entries(body: bytes) -> tuple[list[str], list[tuple[str, str | None]]]:
    """(sitemaps an index lists, (page URL, lastmod) pairs a urlset lists)."""
    children: list[str] = []
    urls: list[tuple[str, str | None]] = []
    for m in _LOC.finditer(body):
        fields = {
            k.decode().lower(): v.decode("utf-8", "replace").strip()
            for k, v in _TAG.findall(m.group(2))
        }
        loc = fields.get("loc")
        if not loc:
            continue
        if m.group(1).lower() == b"sitemap":
            children.append(html.unescape(loc))
        else:
            urls.append((html.unescape(loc), fields.get("lastmod")))
    return children, urls


def crawl_sitemaps(
    fetcher: Fetcher, options: CrawlOptions, cursors: dict[str, str], robots_sitemaps: list[str]
) -> tuple[dict[str, str], list[str]]:
    """The fallback when the REST API is closed: the pages the sitemaps list (robots.txt
    ``Sitemap:`` lines, ``/wp-sitemap.xml``, Yoast's ``/sitemap_index.xml``), fetched with
    the same politeness into the same WARC and read by the HTML reader. With a cursor
    (the newest ``lastmod`` stored), only pages whose ``lastmod`` is newer than
    ``cursor − lag`` are fetched."""
    notes: list[str] = []
    queue = list(robots_sitemaps) or [
        urljoin(fetcher.base, "wp-sitemap.xml"),
        urljoin(fetcher.base, "sitemap_index.xml"),
    ]
    since: datetime | None = options.since
    if since is None and not options.full and SITEMAP_CURSOR in cursors:
        since = _aware(cursors[SITEMAP_CURSOR]) - options.lag
    seen: set[str] = set()
    pages_: list[tuple[str, str | None]] = []
    found_any = False
    while queue and len(seen) < 1000:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        got = fetcher.get(url)
        if got is None or got.status != 200:
            continue
        children, urls = sitemap_entries(got.body)
        found_any = found_any or bool(children or urls)
        queue += [c for c in children if c not in seen]
        pages_ += urls
        if found_any and not robots_sitemaps and url.endswith("wp-sitemap.xml"):
            queue = [q for q in queue if not q.endswith("sitemap_index.xml")]
    if not found_any:
        raise CrawlError(f"{fetcher.base}: no REST API and no sitemap to fall back on")
    newest = cursors.get(SITEMAP_CURSOR)
    fetched = 0
    for url, lastmod in sorted(set(pages_)):
        when = _aware(lastmod) if lastmod else None
        if since is not None and when is not None and when <= since:
            continue
        got = fetcher.get(url)
        if got is not None and got.status == 200:
            fetched += 1
            stamp = _iso_z(when) if when else None
            if stamp and (newest is None or stamp > newest):
                newest = stamp
    fetcher.stats.records += fetched
    notes.append(f"REST API closed: {fetched} pages from {len(seen)} sitemaps")
    out = dict(cursors)
    if newest:
        out[SITEMAP_CURSOR] = newest
    return out, notes


def _aware(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
