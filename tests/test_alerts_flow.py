"""Alerts end to end: topics tag stories, a subscriber gets one signed webhook per story whatever
the number of copies; a new copy later sends nothing; a 410 disables; an outage is retried."""

from __future__ import annotations

import json
import threading

from sqlalchemy import select

from storage import deliveries as delivery_store
from storage import feeds as feed_store
from storage import subscriptions as subscription_store
from storage import topics as topic_store
from storage.db import session_scope
from storage.models import Article, ArticleTopic, Delivery, Story, StoryTopic, Subscription
from storage.users import get_or_create_user
from tests.conftest import make_settings
from tests.support.feeds import article_page, rss
from tests.support.wire import INDEPENDENT, republications
from wirewatch.service import run_once
from worker.alerts import new_webhook_secret, verify_webhook


class Receiver:
    """A webhook endpoint on the test server that records what it receives."""

    def __init__(self, server, path: str = "/hook", status: int = 200) -> None:
        self.calls: list[tuple[dict, bytes]] = []
        self.status = status
        self._lock = threading.Lock()
        self.url = server.route(path, handler=self._handle)

    def _handle(self, request):  # noqa: ANN001, ANN202
        with self._lock:
            self.calls.append(({k.lower(): v for k, v in request.headers.items()}, request.body))
        return self.status, {"Content-Type": "text/plain"}, b"ok"


def publish(server, outlet: str, headline: str, paragraphs: list[str]) -> str:
    link = server.route(f"/{outlet}/a.html", article_page(headline, paragraphs, site=outlet),
                        headers={"Content-Type": "text/html"})
    return server.route(f"/{outlet}/feed.xml", rss([{"title": headline, "link": link}],
                                                   title=outlet),
                        headers={"Content-Type": "application/rss+xml"})


def setup_topic(db_url: str, query: str, target: str, secret: str, **sub) -> int:
    with session_scope(db_url) as s:
        owner = get_or_create_user(session=s, name="ana").id
        topic = topic_store.create_topic(session=s, owner_id=owner, name="treaty", query=query)
        return subscription_store.create_subscription(
            session=s, owner_id=owner, topic_id=topic.id, channel="webhook", target=target,
            secret=secret, **sub).id


def add_feeds(db_url: str, urls: list[str]) -> None:
    with session_scope(db_url) as s:
        for url in urls:
            feed_store.add_feed(session=s, url=url)


def test_one_signed_alert_per_story_whatever_the_copies(db_url, server) -> None:
    receiver = Receiver(server)
    secret = new_webhook_secret()
    query = "(treaty OR pact) AND (livestock OR animal) AND NOT football"
    setup_topic(db_url, query, receiver.url, secret)
    copies = list(republications().items())
    add_feeds(db_url, [publish(server, o, h, p) for o, (h, p) in copies[:2]]
              + [publish(server, "own", "Geneva livestock pact agreed", INDEPENDENT)])
    settings = make_settings(db_url)
    run_once(settings, timeout=60)

    # Two stories match (the wire story, and the independent report): one alert each.
    assert len(receiver.calls) == 2
    ids = set()
    for headers, body in receiver.calls:
        assert verify_webhook(secret=secret, headers=headers, body=body)
        event = json.loads(body)
        assert event["type"] == "story.matched"
        assert {"story", "topic", "article"} <= set(event["data"])
        ids.add(event["data"]["story"]["id"])
    assert len(ids) == 2

    # A late copy joins the existing story: no new alert.
    outlet, (headline, paragraphs) = copies[2]
    add_feeds(db_url, [publish(server, outlet, headline, paragraphs)])
    run_once(settings, timeout=60)
    assert len(receiver.calls) == 2
    with session_scope(db_url) as s:
        assert s.execute(select(Delivery.state)).scalars().all() == ["sent", "sent"]
        wire = s.execute(select(Story).where(Story.member_count == 3)).scalars().one()
        assert s.execute(select(StoryTopic.topic_id).where(StoryTopic.story_id == wire.id)).all()
        # each article's row holds its tags (written with the cleaned article, in one UPDATE)
        tags: dict[int, list[int]] = {}
        for article_id, topic_id in s.execute(select(ArticleTopic.__table__)):
            tags.setdefault(article_id, []).append(topic_id)
        stored = dict(s.execute(select(Article.id, Article.topic_ids)).all())
        assert len(stored) == 4 and tags
        assert stored == {a: sorted(tags[a]) if a in tags else None for a in stored}


def test_gone_endpoint_disables_the_subscription(sqlite_url, server) -> None:
    receiver = Receiver(server, "/gone", status=410)
    sub_id = setup_topic(sqlite_url, "livestock", receiver.url, new_webhook_secret())
    outlet, (headline, paragraphs) = next(iter(republications().items()))
    add_feeds(sqlite_url, [publish(server, outlet, headline, paragraphs)])
    run_once(make_settings(sqlite_url), timeout=60)
    assert len(receiver.calls) == 1
    with session_scope(sqlite_url) as s:
        sub = s.get(Subscription, sub_id)
        assert sub.disabled and "410" in sub.disabled_reason
        (delivery,) = s.execute(select(Delivery)).scalars().all()
        assert delivery.state == "dead" and "410" in delivery.last_error


def test_an_endpoint_that_fails_is_retried_and_the_alert_arrives_once(sqlite_url, server) -> None:
    receiver = Receiver(server, "/flaky", status=500)
    secret = new_webhook_secret()
    setup_topic(sqlite_url, "livestock", receiver.url, secret)
    outlet, (headline, paragraphs) = next(iter(republications().items()))
    add_feeds(sqlite_url, [publish(server, outlet, headline, paragraphs)])
    settings = make_settings(sqlite_url)
    run_once(settings, timeout=60)  # attempt 1 fails; attempt 2 (5 s later) fails too
    assert len(receiver.calls) == 2
    with session_scope(sqlite_url) as s:
        (delivery,) = s.execute(select(Delivery)).scalars().all()
        assert delivery.state == "pending" and delivery.attempts == 2
        assert "500" in delivery.last_error
        # the endpoint is back; the retry is due
        delivery_store.finish(session=s, delivery_ids=[delivery.id], now=delivery.created_at,
                              state="pending", error=delivery.last_error,
                              next_attempt_at=delivery.created_at)
    receiver.status = 200
    run_once(settings, timeout=60)
    assert len(receiver.calls) == 3
    ids = {h["webhook-id"] for h, _ in receiver.calls}
    assert len(ids) == 1, "every attempt carries the same webhook-id"
    with session_scope(sqlite_url) as s:
        assert s.execute(select(Delivery.state)).scalar_one() == "sent"
