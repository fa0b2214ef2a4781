"""A publishing newsroom for the pipeline and soak benchmarks, with a webhook receiver.

Usage: .venv/bin/python bench/newsdesk_server.py --fd 5 --fd 6 … --feeds 20 --articles 2000

Feeds /f<n>/feed.xml (RSS, ETag, 304), pages /f<n>/<story>.html (bench/newsdesk.py), and
control routes for the benchmark driving it:
  POST /_ctl/publish?count=N   the next N items of the pipeline plan appear in their feeds
  POST /_ctl/live?count=N      N new single stories (keys l0, l1, …), one feed after another
  POST /_ctl/soak?rate=R&seconds=S  publish continuously: new stories, wire copies, edits,
                               deletions (items leaving the feed; their pages then answer 404)
  POST /hooks/<name>           a webhook receiver: records arrival time and webhook-id
  GET  /_ctl/state             everything as JSON: items, guids served, alerts received
  POST /hub                    with --hub: a WebSub hub (https://www.w3.org/TR/websub/); feeds
                               then advertise it and their self URL, and every change of a feed
                               is pushed, signed, to its verified subscribers (class Hub)
Feeds list their newest `--window` items. A bare ASGI app under uvicorn, in its own process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import socket
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import newsdesk  # noqa: E402
from bench.newsdesk_hub import Hub, feed_document  # noqa: E402

FEED = re.compile(r"^/f(\d+)/feed\.xml$")
PAGE = re.compile(r"^/f(\d+)/([a-z]\d+)\.html$")
HOOK = re.compile(r"^/hooks/([\w-]+)$")


@dataclass
class Live:
    feed: int
    story: str
    form: str
    order: int
    published: datetime
    version: int = 0
    deleted: bool = False

    @property
    def guid(self) -> str:
        return f"f{self.feed}-{self.story}"


@dataclass
class Desk:
    feeds: int
    topics: int
    window: int
    seed: int
    pages: str = "lean"  # newsdesk.PAGE_WEIGHTS
    plan: list = field(default_factory=list)
    next_planned: int = 0
    items: dict[str, Live] = field(default_factory=dict)  # by guid, every item ever published
    by_feed: dict[int, list[str]] = field(default_factory=dict)  # guids in the feed, oldest first
    versions: Counter = field(default_factory=Counter)  # feed -> changes (its ETag)
    first_published: dict[str, float] = field(default_factory=dict)  # story -> time.time()
    served: set[str] = field(default_factory=set)  # guids that were in a 200 feed response
    hooks: list[dict] = field(default_factory=list)
    stats: Counter = field(default_factory=Counter)
    live_count: int = 0
    soak_counts: Counter = field(default_factory=Counter)
    hub: Hub | None = None  # with --hub: changes are pushed to the feed's subscribers

    def changed(self, feed: int) -> None:
        """A feed's document changed: new ETag, and a push to its subscribers (with --hub)."""
        self.versions[feed] += 1
        if self.hub is not None:
            self.hub.notify(self, feed)

    def publish(self, feed: int, story: str, form: str, order: int) -> Live:
        item = Live(feed, story, form, order, datetime.now(UTC))
        self.items[item.guid] = item
        guids = self.by_feed.setdefault(feed, [])
        guids.append(item.guid)
        if len(guids) > self.window:
            del guids[0]  # the oldest item drops out of the feed (its page stays)
        self.first_published.setdefault(story, time.time())
        self.changed(feed)
        return item

    def entries(self, feed: int, origin: str) -> list[newsdesk.FeedEntry]:
        out = []
        for guid in self.by_feed.get(feed, []):
            item = self.items[guid]
            story = story_text(item.story, self.topics, self.seed, item.version)
            title, _, paragraphs = newsdesk.copy_text(story, item.form, item.order)
            url = origin + newsdesk.page_path(feed, item.story)
            out.append(
                newsdesk.FeedEntry(
                    guid, url, title, newsdesk.summary_of(paragraphs), item.published
                )
            )
        return out


@lru_cache(maxsize=8192)
def story_text(key: str, topics: int, seed: int, version: int) -> newsdesk.Story:
    return newsdesk.make_story(key, topics=topics, seed=seed, version=version)


@lru_cache(maxsize=4096)
def page_bytes(desk_id: int, guid: str, version: int, url: str) -> bytes:
    item = DESKS[desk_id].items[guid]
    desk = DESKS[desk_id]
    story = story_text(item.story, desk.topics, desk.seed, version)
    return newsdesk.render_copy_page(
        story,
        feed=item.feed,
        form=item.form,
        order=item.order,
        published=item.published,
        url=url,
        weight=desk.pages,
    )


DESKS: dict[int, Desk] = {}


async def soak(desk: Desk, *, rate: float, seconds: float, seed: int) -> None:
    """Publish `rate` events a second for `seconds`: 55% new reports, 10% new wire stories,
    20% republished wire copies, 10% edits (same guid, new text), 5% deletions."""
    rng = random.Random(seed)
    wire: list[tuple[str, set[int]]] = []  # recent wire stories and the feeds that carry them
    started = time.monotonic()
    n = 0
    while time.monotonic() - started < seconds:
        due = int((time.monotonic() - started) * rate)
        while n < due:
            n += 1
            r = rng.random()
            feed = rng.randrange(desk.feeds)
            live = [g for g in desk.by_feed.get(feed, []) if not desk.items[g].deleted]
            if r < 0.55 or (r >= 0.65 and r < 0.85 and not wire) or (r >= 0.85 and not live):
                desk.publish(feed, f"s{desk.soak_counts['own']}", "own", 0)
                desk.soak_counts["own"] += 1
            elif r < 0.65:
                key = f"w{desk.soak_counts['wire']}"
                desk.soak_counts["wire"] += 1
                desk.publish(feed, key, "full", 0)
                wire.append((key, {feed}))
                wire[:] = wire[-200:]
            elif r < 0.85:
                key, carried = wire[rng.randrange(len(wire))]
                if feed in carried:
                    continue
                carried.add(feed)
                desk.publish(feed, key, newsdesk.FORMS[len(carried) % 4], len(carried) - 1)
                desk.soak_counts["copy"] += 1
            elif r < 0.95:
                guid = live[rng.randrange(len(live))]
                desk.items[guid].version += 1
                desk.changed(feed)
                desk.soak_counts["edit"] += 1
            else:
                guid = live[rng.randrange(len(live))]
                desk.items[guid].deleted = True
                desk.by_feed[feed].remove(guid)
                desk.changed(feed)
                desk.soak_counts["delete"] += 1
        await asyncio.sleep(0.05)
    desk.soak_counts["finished"] = 1


def make_app(desk: Desk):  # noqa: ANN201, C901
    DESKS[id(desk)] = desk
    tasks: set[asyncio.Task] = set()

    async def read_body(receive) -> bytes:  # noqa: ANN001
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        return body

    async def app(scope, receive, send) -> None:  # noqa: ANN001, C901
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        query = dict(p.split("=", 1) for p in scope["query_string"].decode().split("&") if "=" in p)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        status, out_headers, body = 404, [(b"content-type", b"text/plain")], b"not found"
        origin = f"http://{headers.get('host', '127.0.0.1')}"
        if method == "GET" and (m := FEED.match(path)):
            feed = int(m.group(1))
            etag = f'"f{feed}-{desk.versions[feed]}"'
            out_headers = [(b"etag", etag.encode())]
            if etag in headers.get("if-none-match", ""):
                status, body = 304, b""
                desk.stats["feed_304"] += 1
            else:
                desk.served.update(desk.by_feed.get(feed, []))
                status, body = 200, feed_document(desk, feed, origin)
                out_headers.append((b"content-type", b"application/rss+xml; charset=utf-8"))
                desk.stats["feed_200"] += 1
        elif method == "GET" and (m := PAGE.match(path)):
            guid = f"f{m.group(1)}-{m.group(2)}"
            item = desk.items.get(guid)
            if item is not None and not item.deleted:
                status = 200
                body = page_bytes(id(desk), guid, item.version, origin + path)
                out_headers = [(b"content-type", b"text/html; charset=utf-8")]
                desk.stats["page_200"] += 1
            else:
                desk.stats["page_404"] += 1
        elif path == "/robots.txt":
            status, body = 200, b"User-agent: *\nAllow: /\n"
        elif method == "POST" and path == "/hub" and desk.hub is not None:
            status, body = desk.hub.request(await read_body(receive))
        elif method == "POST" and (m := HOOK.match(path)):
            raw = await read_body(receive)
            arrived = time.time()
            try:
                data = json.loads(raw)["data"]
                url = (data.get("story") or {}).get("url") or ""
                record = {
                    "hook": m.group(1),
                    "id": headers.get("webhook-id", ""),
                    "at": arrived,
                    "story_id": (data.get("story") or {}).get("id"),
                    "story": newsdesk.story_of_url(url),
                    "topic": (data.get("topic") or {}).get("name"),
                }
                desk.hooks.append(record)
                status, body = 204, b""
            except (ValueError, KeyError, TypeError, AttributeError):
                status, body = 400, b"bad payload"
        elif method == "POST" and path == "/_ctl/publish":
            count = int(query.get("count", "0"))
            end = min(len(desk.plan), desk.next_planned + count)
            for planned in desk.plan[desk.next_planned : end]:
                desk.publish(planned.feed, planned.story, planned.form, planned.order)
            published, desk.next_planned = end - desk.next_planned, end
            status, body = 200, json.dumps({"published": published, "next": end}).encode()
        elif method == "POST" and path == "/_ctl/live":
            keys = []
            for _ in range(int(query.get("count", "1"))):
                key = f"l{desk.live_count}"
                desk.publish(desk.live_count % desk.feeds, key, "own", 0)
                desk.live_count += 1
                keys.append(key)
            status, body = 200, json.dumps({"stories": keys}).encode()
        elif method == "POST" and path == "/_ctl/soak":
            task = asyncio.create_task(
                soak(
                    desk,
                    rate=float(query["rate"]),
                    seconds=float(query["seconds"]),
                    seed=desk.seed,
                )
            )
            tasks.add(task)
            status, body = 200, b"{}"
        elif method == "GET" and path == "/_ctl/state":
            items = {
                g: {"feed": i.feed, "story": i.story, "version": i.version, "deleted": i.deleted}
                for g, i in desk.items.items()
            }
            state = {
                "items": items,
                "served": sorted(desk.served),
                "first_published": desk.first_published,
                "hooks": desk.hooks,
                "stats": desk.stats,
                "soak": desk.soak_counts,
                "hub": None
                if desk.hub is None
                else {
                    "stats": desk.hub.stats,
                    "subscribers": {f: len(s) for f, s in desk.hub.subscribers.items()},
                },
                "topics": {
                    s: list(story_text(s, desk.topics, desk.seed, 0).topics)
                    for s in desk.first_published
                },
            }
            status, body = 200, json.dumps(state).encode()
            out_headers = [(b"content-type", b"application/json")]
        out_headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": out_headers})
        await send({"type": "http.response.body", "body": body})

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fd", type=int, action="append", required=True)
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--articles", type=int, default=0, help="items of the pipeline plan")
    parser.add_argument("--topics", type=int, default=100)
    parser.add_argument("--window", type=int, default=150, help="items listed per feed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pages", choices=newsdesk.PAGE_WEIGHTS, default="lean")
    parser.add_argument("--hub", action="store_true", help="serve a WebSub hub at /hub")
    args = parser.parse_args()
    desk = Desk(
        feeds=args.feeds, topics=args.topics, window=args.window, seed=args.seed, pages=args.pages
    )
    sockets = [socket.socket(fileno=fd) for fd in args.fd]
    if args.hub:
        host, port = sockets[0].getsockname()[:2]
        desk.hub = Hub(f"http://{host}:{port}/hub")
    if args.articles:
        desk.plan = newsdesk.pipeline_plan(feeds=args.feeds, articles=args.articles, seed=args.seed)
    newsdesk.vocabulary(), newsdesk.topic_words()
    config = uvicorn.Config(
        make_app(desk),
        loop="uvloop",
        http="httptools",
        lifespan="off",
        log_level="warning",
        access_log=False,
        backlog=4096,
        timeout_keep_alive=30,
    )
    uvicorn.Server(config).run(sockets=sockets)


if __name__ == "__main__":
    main()
