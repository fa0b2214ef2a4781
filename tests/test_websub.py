"""WebSub push against a local hub: subscribe, verified intent, signed pushes stored at once
(no poll needed), unsigned pushes ignored, and a failing hub leaves the feed on polling."""

from __future__ import annotations

import hashlib
import hmac
import socket
import threading
import urllib.parse
import urllib.request

import pytest
from sqlalchemy import func, select

from storage.db import session_scope
from storage.models import Article, Feed
from tests.support.feeds import PARAGRAPHS, article_page
from tests.support.processes import Processes, run_cli, wait_for, wirewatch_env


def atom(server, hub: str, count: int) -> bytes:
    entries = "".join(
        f"<entry><id>urn:story:{i}</id><title>Story {i}</title>"
        f'<link href="{server.url(f"/push/{i}.html")}"/><updated>2026-11-27T10:0{i}:00Z</updated>'
        "</entry>"
        for i in range(count)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Pushy outlet</title><id>urn:pushy</id><updated>2026-11-27T10:00:00Z</updated>"
        f'<link rel="hub" href="{hub}"/><link rel="self" href="{server.url("/push.xml")}"/>'
        f"{entries}</feed>"
    ).encode()


class Hub:
    """A minimal WebSub hub: takes subscriptions, verifies them, publishes signed content."""

    def __init__(self, server, status: int = 202) -> None:
        self.status = status
        self.subscriptions: list[dict] = []
        self.verified = threading.Event()
        self.url = server.route("/hub", handler=self._subscribe)

    def _subscribe(self, request):  # noqa: ANN001, ANN202
        form = dict(urllib.parse.parse_qsl(request.body.decode()))
        self.subscriptions.append(form)
        if self.status < 300:
            threading.Thread(target=self._verify, args=(form,), daemon=True).start()
        return self.status, {"Content-Type": "text/plain"}, b""

    def _verify(self, form: dict) -> None:
        query = urllib.parse.urlencode(
            {
                "hub.mode": "subscribe",
                "hub.topic": form["hub.topic"],
                "hub.challenge": "c-42",
                "hub.lease_seconds": "3600",
            }
        )
        with urllib.request.urlopen(f"{form['hub.callback']}?{query}", timeout=10) as r:
            if r.read() == b"c-42":
                self.verified.set()

    def publish(self, body: bytes, *, secret: str | None = None) -> int:
        form = self.subscriptions[-1]
        key = (secret or form["hub.secret"]).encode()
        signature = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
        request = urllib.request.Request(
            form["hub.callback"],
            data=body,
            method="POST",
            headers={"Content-Type": "application/atom+xml", "X-Hub-Signature": signature},
        )
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def service(sqlite_url, tmp_path):
    port = free_port()
    env = wirewatch_env(
        sqlite_url, WIREWATCH_API_PORT=str(port), WIREWATCH_PUBLIC_URL=f"http://127.0.0.1:{port}"
    )
    procs = Processes(tmp_path)
    yield env, procs
    procs.stop_all()


def count_articles(db_url: str) -> int:
    with session_scope(db_url) as s:
        return s.execute(
            select(func.count()).select_from(Article).where(Article.state == "processed")
        ).scalar_one()


def test_pushed_content_is_stored_without_waiting_for_a_poll(sqlite_url, server, service) -> None:
    env, procs = service
    hub = Hub(server)
    for i in range(3):
        server.route(
            f"/push/{i}.html",
            article_page(f"Story {i}", PARAGRAPHS),
            headers={"Content-Type": "text/html"},
        )
    server.route(
        "/push.xml", atom(server, hub.url, 1), headers={"Content-Type": "application/atom+xml"}
    )
    added = run_cli(["feeds", "add", "--interval", "1h", server.url("/push.xml")], env)
    assert added.returncode == 0
    procs.start("run", ["run"], env)

    assert hub.verified.wait(60), procs.log("run")
    form = hub.subscriptions[0]
    assert form["hub.mode"] == "subscribe" and form["hub.topic"] == server.url("/push.xml")
    with session_scope(sqlite_url) as s:
        feed = s.execute(select(Feed)).scalars().one()
        assert feed.websub_state == "active" and feed.websub_lease_until is not None
    wait_for(lambda: count_articles(sqlite_url) == 1, timeout=30, message="the polled article")

    # A push with a wrong signature is acknowledged and ignored.
    assert hub.publish(atom(server, hub.url, 3), secret="not-the-secret") == 202
    # The real push: two new entries arrive without any new poll of the feed.
    assert hub.publish(atom(server, hub.url, 3)) == 202
    wait_for(lambda: count_articles(sqlite_url) == 3, timeout=30, message="pushed articles")
    assert len(server.hits_for("/push.xml")) == 1


def test_a_failing_hub_leaves_the_feed_on_polling(sqlite_url, server, service) -> None:
    env, procs = service
    hub = Hub(server, status=500)
    server.route(
        "/push/0.html", article_page("Story 0", PARAGRAPHS), headers={"Content-Type": "text/html"}
    )
    server.route(
        "/push.xml", atom(server, hub.url, 1), headers={"Content-Type": "application/atom+xml"}
    )
    assert run_cli(["feeds", "add", server.url("/push.xml")], env).returncode == 0
    procs.start("run", ["run"], env)
    wait_for(lambda: count_articles(sqlite_url) == 1, timeout=60, message="the polled article")

    def failed() -> bool:
        with session_scope(sqlite_url) as s:
            return s.execute(select(Feed.websub_state)).scalar_one() == "failed"

    wait_for(failed, timeout=30, message="websub marked failed")
    with session_scope(sqlite_url) as s:
        feed = s.execute(select(Feed)).scalars().one()
    assert "500" in feed.websub_error and feed.error_count == 0 and not feed.disabled


def test_a_subscription_never_verified_is_asked_again() -> None:
    """A hub that answers 202 but never calls back leaves the feed `subscribing` only until the
    verification deadline; then the next poll asks again (before, it stayed so for ever)."""
    from datetime import timedelta

    from storage.models import utcnow
    from worker.websub import VERIFY_WITHIN, wants_subscription

    now = utcnow()
    feed = Feed(url="http://news.test/feed", hub_url="http://hub.test/", websub_state="subscribing")
    public = "http://wirewatch.test"
    feed.websub_lease_until = now + VERIFY_WITHIN - timedelta(minutes=1)
    assert not wants_subscription(feed, public_url=public, now=now)
    assert wants_subscription(feed, public_url=public, now=now + VERIFY_WITHIN)
    feed.websub_lease_until = None  # rows left subscribing by earlier versions
    assert wants_subscription(feed, public_url=public, now=now)
