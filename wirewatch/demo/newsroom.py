"""The demo newsroom: outlets' feeds and pages on 127.0.0.1, items appearing as the clock runs.

One threaded HTTP server (standard library) on a free port serves every outlet under its own
path, publishes the plan progressively once `open()` starts the clock (an item is in its feed
and its page exists from its publication time on), answers conditional GETs with 304, and
receives the demo's alert webhooks into an Inbox.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from wirewatch.demo.inbox import Inbox
from wirewatch.demo.pages import render_feed, render_page
from wirewatch.demo.plan import OUTLET_BY_SLUG, OUTLETS, Item

FEED = re.compile(r"^/([a-z-]+)/feed\.xml$")
PAGE = re.compile(r"^/([a-z-]+)/e(\d+)/([a-z0-9-]+)\.html$")
HOOK = re.compile(r"^/hooks/([a-z-]+)$")
MAX_BODY = 1024 * 1024


class Newsroom:
    """`Newsroom(plan, window=…, edition=…)`; `open()` starts publishing; `close()` stops."""

    def __init__(self, plan: list[Item], *, window: float, edition: int, inbox: Inbox) -> None:
        self.plan, self.window, self.edition, self.inbox = plan, window, edition, inbox
        self.stats: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._opened: float | None = None
        self._opened_at: datetime | None = None
        self._caught_up: set[str] = set()  # outlets whose complete feed has been fetched
        newsroom = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "WirewatchDemoNewsroom"

            def do_GET(self) -> None:  # noqa: N802
                newsroom._get(self)

            def do_POST(self) -> None:  # noqa: N802
                newsroom._post(self)

            def log_message(self, *args) -> None:  # noqa: ANN002
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="demo-newsroom", daemon=True
        )
        self._thread.start()

    # --- the clock --------------------------------------------------------------------------

    def open(self) -> None:
        """Start the publishing clock: item i appears `plan[i].at * window` seconds from now."""
        self._opened, self._opened_at = time.monotonic(), datetime.now(UTC)

    def published_at(self, item: Item) -> datetime | None:
        if self._opened is None or self._opened_at is None:
            return None
        delay = item.at * self.window
        if time.monotonic() - self._opened < delay:
            return None
        return self._opened_at + timedelta(seconds=delay)

    def published(self) -> list[tuple[Item, datetime]]:
        return [(i, when) for i in self.plan if (when := self.published_at(i)) is not None]

    @property
    def all_published(self) -> bool:
        return len(self.published()) == len(self.plan)

    @property
    def caught_up(self) -> bool:
        """Every outlet's feed has been fetched since its last item appeared."""
        with self._lock:
            return self.all_published and self._caught_up >= {i.outlet for i in self.plan}

    # --- addresses --------------------------------------------------------------------------

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def feed_url(self, slug: str) -> str:
        return self.url(f"/{slug}/feed.xml")

    def hook_url(self, name: str) -> str:
        return self.url(f"/hooks/{name}")

    def page_url(self, item: Item) -> str:
        return self.url(f"/{item.outlet}/e{self.edition}/{item.key}.html")

    # --- serving ----------------------------------------------------------------------------

    def _count(self, name: str) -> None:
        with self._lock:
            self.stats[name] += 1

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self.stats)

    def _get(self, request: BaseHTTPRequestHandler) -> None:
        path = request.path.split("?", 1)[0]
        if path == "/robots.txt":
            return self._send(request, 200, "text/plain", b"User-agent: *\nAllow: /\n")
        if match := FEED.match(path):
            return self._feed(request, match.group(1))
        if (match := PAGE.match(path)) and int(match.group(2)) == self.edition:
            slug, key = match.group(1), match.group(3)
            for item, when in self.published():
                if item.outlet == slug and item.key == key:
                    self._count("pages")
                    html = render_page(
                        item, outlet=OUTLET_BY_SLUG[slug], published=when, url=self.page_url(item)
                    )
                    return self._send(request, 200, "text/html; charset=utf-8", html.encode())
        self._count("not_found")
        self._send(request, 404, "text/plain", b"not found")

    def _feed(self, request: BaseHTTPRequestHandler, slug: str) -> None:
        outlet = OUTLET_BY_SLUG.get(slug)
        if outlet is None:
            return self._send(request, 404, "text/plain", b"no such outlet")
        entries = [(i, when, self.page_url(i)) for i, when in self.published() if i.outlet == slug]
        complete = self.all_published
        etag = f'"{slug}-e{self.edition}-{len(entries)}"'
        with self._lock:
            if complete:
                self._caught_up.add(slug)
        if request.headers.get("if-none-match") == etag:
            self._count("feeds_304")
            return self._send(request, 304, None, b"", etag=etag)
        self._count("feeds_200")
        body = render_feed(outlet, entries, site_url=self.url(f"/{slug}/")).encode()
        self._send(request, 200, "application/rss+xml; charset=utf-8", body, etag=etag)

    def _post(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("content-length") or 0)
        if length > MAX_BODY:
            return self._send(request, 413, "text/plain", b"too large")
        body = request.rfile.read(length)
        match = HOOK.match(request.path)
        if not match:
            return self._send(request, 404, "text/plain", b"not found")
        headers = {k.lower(): v for k, v in request.headers.items()}
        status = self.inbox.accept(match.group(1), headers, body)
        self._count("alerts_received")
        self._send(request, status, None, b"")

    @staticmethod
    def _send(
        request: BaseHTTPRequestHandler,
        status: int,
        content_type: str | None,
        body: bytes,
        *,
        etag: str | None = None,
    ) -> None:
        request.send_response(status)
        if content_type:
            request.send_header("Content-Type", content_type)
        if etag:
            request.send_header("ETag", etag)
        if status not in (204, 304):
            request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        if body and status not in (204, 304):
            request.wfile.write(body)

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def outlets_in(plan: list[Item]) -> list[str]:
    """The outlets publishing in `plan`, in the order of OUTLETS."""
    used = {i.outlet for i in plan}
    return [o.slug for o in OUTLETS if o.slug in used]
