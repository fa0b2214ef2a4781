"""The newsdesk's WebSub hub (bench/newsdesk_server.py --hub): feeds advertise it, subscriptions
are verified at the subscriber's callback, and every change of a feed is pushed there, signed."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

import httpx

from bench import newsdesk

if TYPE_CHECKING:
    from bench.newsdesk_server import Desk

TOPIC = re.compile(r"^/f(\d+)/feed\.xml$")  # the path of a newsdesk feed
RSS_OPEN = b'<rss version="2.0"><channel>'
HUB_TIMEOUT = httpx.Timeout(10.0)
HUB_MAX_LEASE = 30 * 86400
HUB_RETRIES = (0.5, 1, 2, 4, 8)  # seconds before each new attempt at an unreachable callback


def feed_document(desk: Desk, feed: int, origin: str) -> bytes:
    """The feed as served from `origin`; with a hub, it names the hub and its own URL (WebSub
    discovery: <atom:link rel="hub"> and rel="self", spliced in here so that
    bench/newsdesk.render_feed stays the one renderer of the items)."""
    body = newsdesk.render_feed(feed, desk.entries(feed, origin), site_url=origin + "/")
    if desk.hub is None:
        return body
    links = (
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
        f'<atom:link rel="hub" href="{desk.hub.url}"/>'
        f'<atom:link rel="self" href="{origin}/f{feed}/feed.xml" type="application/rss+xml"/>'
    )
    return body.replace(RSS_OPEN, links.encode(), 1)


@dataclass
class Hub:
    """A WebSub hub for the desk's feeds (the spec's publisher and hub side; the subscriber side
    is worker/websub.py). Subscriptions are taken with 202 and verified afterwards by a GET on
    the callback that must echo hub.challenge; each change of a feed is then POSTed to its
    verified subscribers, signed with X-Hub-Signature: sha256=HMAC(secret, body). Verification
    and pushes run as tasks on the server's event loop, so publishing never waits for them.
    Written here by hand: a hub is ~100 lines and no maintained Python hub library fits in an
    ASGI test server."""

    url: str  # where feeds say the hub is
    # feed -> callback -> (topic, secret): verified subscriptions only
    subscribers: dict[int, dict[str, tuple[str, str]]] = field(default_factory=dict)
    stats: Counter = field(default_factory=Counter)
    tasks: set[asyncio.Task] = field(default_factory=set)
    client: httpx.AsyncClient | None = None

    def _spawn(self, coroutine) -> None:  # noqa: ANN001
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _client(self) -> httpx.AsyncClient:
        if self.client is None:
            limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
            self.client = httpx.AsyncClient(timeout=HUB_TIMEOUT, limits=limits)
        return self.client

    def request(self, body: bytes) -> tuple[int, bytes]:
        """POST /hub: a (un)subscription request, answered at once; verified in the background."""
        form = dict(parse_qsl(body.decode("utf-8", "replace")))
        mode, topic, callback = (form.get(k, "") for k in ("hub.mode", "hub.topic", "hub.callback"))
        match = TOPIC.match(urlsplit(topic).path)
        if mode not in ("subscribe", "unsubscribe") or not match:
            self.stats["refused"] += 1
            return 400, b"hub.mode must be subscribe or unsubscribe, hub.topic one of our feeds"
        if urlsplit(callback).scheme not in ("http", "https"):
            self.stats["refused"] += 1
            return 400, b"hub.callback must be an http(s) URL"
        lease = min(int(form.get("hub.lease_seconds") or 864000), HUB_MAX_LEASE)
        feed = int(match.group(1))
        self._spawn(self._verify(feed, mode, topic, callback, form.get("hub.secret", ""), lease))
        return 202, b""

    async def _verify(
        self, feed: int, mode: str, topic: str, callback: str, secret: str, lease: int
    ) -> None:
        challenge = f"c-{feed}-{time.monotonic_ns()}"
        params = {"hub.mode": mode, "hub.topic": topic, "hub.challenge": challenge}
        if mode == "subscribe":
            params["hub.lease_seconds"] = str(lease)
        confirmed = False
        for delay in HUB_RETRIES:  # a subscriber's server may still be starting
            try:
                response = await self._client().get(callback, params=params)
                confirmed = response.status_code < 300 and response.text == challenge
                break
            except httpx.TransportError:
                await asyncio.sleep(delay)
        if not confirmed:
            self.stats[f"{mode}_unconfirmed"] += 1
            return
        self.stats[f"{mode}_verified"] += 1
        if mode == "subscribe":
            self.subscribers.setdefault(feed, {})[callback] = (topic, secret)
        else:
            self.subscribers.get(feed, {}).pop(callback, None)

    def notify(self, desk: Desk, feed: int) -> None:
        """The feed changed: push its document, as of now, to each verified subscriber."""
        for callback, (topic, secret) in self.subscribers.get(feed, {}).items():
            desk.served.update(desk.by_feed.get(feed, []))
            parts = urlsplit(topic)
            body = feed_document(desk, feed, f"{parts.scheme}://{parts.netloc}")
            self._spawn(self._push(callback, topic, body, secret))

    async def _push(self, callback: str, topic: str, body: bytes, secret: str) -> None:
        signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/rss+xml; charset=utf-8",
            "Link": f'<{self.url}>; rel="hub", <{topic}>; rel="self"',
            "X-Hub-Signature": f"sha256={signature}",
        }
        try:
            response = await self._client().post(callback, content=body, headers=headers)
            self.stats["push_ok" if response.status_code < 300 else "push_refused"] += 1
        except httpx.HTTPError:
            self.stats["push_failed"] += 1
