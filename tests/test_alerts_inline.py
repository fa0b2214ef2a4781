"""A new webhook alert is sent by the worker that processed the article, right after its commit;
a failing or hanging endpoint costs that worker one short attempt, then goes through the queue."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from storage import deliveries as delivery_store
from storage.db import session_scope
from storage.models import Delivery, Feed, utcnow
from tests.conftest import make_settings
from tests.support.wire import INDEPENDENT, republications
from tests.test_alerts_flow import Receiver, add_feeds, publish, setup_topic
from worker import delivery, pipeline
from worker.alerts import new_webhook_secret
from worker.hostlimit import LocalHostLimiter


class Recorder:
    """A dispatcher that records the work handed to the queue instead of running it."""

    def __init__(self) -> None:
        self.articles: list[int] = []
        self.deliveries: list[tuple[list[int], float]] = []

    def poll_feed(self, feed_id: int) -> None:
        pass

    def process_article(self, article_id: int, *, delay: float = 0) -> None:
        self.articles.append(article_id)

    def process_articles(self, article_ids: list[int]) -> None:
        self.articles.extend(article_ids)

    def deliver(self, delivery_ids: list[int], *, delay: float = 0) -> None:
        self.deliveries.append((list(delivery_ids), delay))


def process_stories(db_url: str, server, count: int, ctx) -> None:  # noqa: ANN001
    """Publish `count` (1 or 2) unrelated stories that match the topic; poll and process each."""
    _outlet, wire = next(iter(republications().items()))
    stories = [wire, ("Geneva livestock pact agreed", INDEPENDENT)][:count]
    for n, (headline, paragraphs) in enumerate(stories):
        add_feeds(db_url, [publish(server, f"inline{n}", headline, paragraphs)])
    with session_scope(db_url) as s:
        feed_ids = s.execute(select(Feed.id).order_by(Feed.id)).scalars().all()
    for feed_id in feed_ids:
        for article_id in pipeline.refresh_feed(feed_id, ctx=ctx):
            assert pipeline.process_article(article_id, ctx=ctx) == "processed"


def deliveries(db_url: str) -> list[Delivery]:
    with session_scope(db_url) as s:
        return s.execute(select(Delivery).order_by(Delivery.id)).scalars().all()


@pytest.fixture
def ctx(sqlite_url: str) -> pipeline.Context:
    return pipeline.Context(
        settings=make_settings(sqlite_url),
        dispatcher=Recorder(),
        limiter=LocalHostLimiter(4),
    )


def test_a_new_alert_is_sent_inline(sqlite_url, server, ctx) -> None:
    receiver = Receiver(server, "/inline-ok")
    setup_topic(sqlite_url, "livestock", receiver.url, new_webhook_secret())
    process_stories(sqlite_url, server, 1, ctx)
    assert len(receiver.calls) == 1, "sent before process_article returned"
    assert ctx.dispatcher.deliveries == [], "nothing went through the queue"
    (row,) = deliveries(sqlite_url)
    assert (row.state, row.attempts) == ("sent", 1)


def test_a_failing_endpoint_is_retried_from_the_queue_and_paused_inline(
    sqlite_url, server, ctx
) -> None:
    receiver = Receiver(server, "/inline-fail", status=500)
    setup_topic(sqlite_url, "livestock", receiver.url, new_webhook_secret())
    process_stories(sqlite_url, server, 2, ctx)
    first, second = deliveries(sqlite_url)
    # the first story's alert: one inline attempt, its retry queued on the usual schedule
    assert len(receiver.calls) == 1
    assert (first.state, first.attempts) == ("pending", 1) and "500" in first.last_error
    # the second story's alert is not tried inline: straight to the queue, not yet attempted
    assert (second.state, second.attempts) == ("pending", 0)
    assert ctx.dispatcher.deliveries == [([first.id], delivery.RETRY_SCHEDULE[0]), ([second.id], 0)]


def test_a_hanging_endpoint_holds_the_article_for_the_inline_deadline_only(
    sqlite_url, server, ctx, monkeypatch
) -> None:
    monkeypatch.setattr(delivery, "INLINE_TIMEOUT", 0.5)

    def hang(request):  # noqa: ANN001, ANN202
        time.sleep(3)
        return 200, {"Content-Type": "text/plain"}, b"late"

    url = server.route("/inline-hang", handler=hang)
    setup_topic(sqlite_url, "livestock", url, new_webhook_secret())
    began = time.monotonic()
    process_stories(sqlite_url, server, 1, ctx)
    assert time.monotonic() - began < 2.5
    (row,) = deliveries(sqlite_url)
    assert (row.state, row.attempts) == ("pending", 1) and row.last_error
    assert ctx.dispatcher.deliveries == [([row.id], delivery.RETRY_SCHEDULE[0])]


def test_alerts_past_the_budget_go_back_to_the_queue_unattempted(
    sqlite_url, server, ctx, monkeypatch
) -> None:
    monkeypatch.setattr(delivery, "INLINE_BUDGET", -1.0)  # spent before the first alert
    receiver = Receiver(server, "/inline-late")
    setup_topic(sqlite_url, "livestock", receiver.url, new_webhook_secret())
    process_stories(sqlite_url, server, 1, ctx)
    (row,) = deliveries(sqlite_url)
    assert receiver.calls == []
    assert (row.state, row.attempts) == ("pending", 0), "claimed at creation, handed back"
    assert ctx.dispatcher.deliveries == [([row.id], 0)]
    assert delivery.deliver([row.id], ctx=ctx) == "sent"
    assert len(receiver.calls) == 1


def test_an_alert_claimed_by_a_worker_that_died_is_sent_after_its_lease(
    sqlite_url, server, ctx, monkeypatch
) -> None:
    receiver = Receiver(server, "/inline-orphan")
    setup_topic(sqlite_url, "livestock", receiver.url, new_webhook_secret())
    monkeypatch.setattr(delivery, "send_new", lambda alerts, **_: None)  # died after commit
    process_stories(sqlite_url, server, 1, ctx)
    (row,) = deliveries(sqlite_url)
    assert (row.state, row.attempts) == ("sending", 1), "created claimed, in the article's commit"
    lease = delivery.lease(ctx.settings)
    with session_scope(sqlite_url) as s:
        assert delivery_store.due(session=s, now=utcnow(), lease=lease) == []
        later = utcnow() + timedelta(seconds=lease + 1)
        assert [d.id for d in delivery_store.due(session=s, now=later, lease=lease)] == [row.id]
    monkeypatch.setattr(delivery, "utcnow", lambda: later)
    assert delivery.deliver([row.id], ctx=ctx) == "sent"
    assert len(receiver.calls) == 1
    (row,) = deliveries(sqlite_url)
    assert (row.state, row.attempts) == ("sent", 2)
