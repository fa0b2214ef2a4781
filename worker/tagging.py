"""Tagging a processed article with topics and creating the alerts its story now calls for.

Runs inside the transaction that stores the article and its story, so an article is never
processed without its topics, and an alert is created exactly once per (subscription, story):
the outbox's unique key decides, whatever the number of copies, workers or retries.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from storage import deliveries as delivery_store
from storage import subscriptions as subscription_store
from storage import topics as topic_store
from storage.models import Article, Feed
from worker.delivery import NewAlert, new_alerts
from worker.topics import Document, TopicIndex

FEED_NAME_TTL = 60.0  # seconds a renamed feed may still be matched under its old name


class TopicMatcher:
    """The compiled index of every topic, rebuilt when topics change (checked per article)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: tuple | None = None
        self._index = TopicIndex([])
        self._feeds: dict[int, tuple[float, str]] = {}

    def feed_name(self, session: Session, feed_id: int) -> str:
        """The feed's name as topics see it (`feed:` and `source:`), kept FEED_NAME_TTL seconds."""
        kept = self._feeds.get(feed_id)
        if kept is not None and time.monotonic() - kept[0] < FEED_NAME_TTL:
            return kept[1]
        row = session.execute(select(Feed.title, Feed.url).where(Feed.id == feed_id)).first()
        name = (row.title or row.url) if row is not None else ""
        if len(self._feeds) > 10_000:
            self._feeds.clear()
        self._feeds[feed_id] = (time.monotonic(), name)
        return name

    def index(self, session: Session) -> TopicIndex:
        version = topic_store.topics_version(session=session)
        with self._lock:
            if version != self._version:
                self._index = TopicIndex(topic_store.all_queries(session=session))
                self._version = version
            return self._index


def document_for(article: Article, feed_name: str) -> Document:
    return Document(
        title=article.title or article.feed_title or "",
        text=article.text or "",
        source=article.site_name or feed_name,
        wire=article.wire_source or "",
        lang=article.language or "",
        feed=feed_name,
    )


def match_topics(
    *, session: Session, article: Article, matcher: TopicMatcher, index: TopicIndex | None = None
) -> list[int]:
    """The ids of the topics the article matches, ascending (stored on its row and, by
    `tag_articles`, as its tags). `index`: `matcher.index(session)`, if the caller has it."""
    feed_name = matcher.feed_name(session, article.feed_id)
    index = index if index is not None else matcher.index(session)
    return sorted(index.match(document_for(article, feed_name)))


def tag_articles(
    *,
    session: Session,
    matches: list[tuple[int, int, list[int]]],
    now: datetime,
    inline: Callable[[Any], bool] = lambda sub: False,
) -> list[NewAlert]:
    """Record articles' topics (`match_topics`), (article id, story id, topic ids) each, and
    create the deliveries of topics new to their stories: a handful of statements however many
    articles. Returns the deliveries to send now; those of the subscriptions `inline` accepts
    (a subscription row: worker.delivery.sends_inline) are created claimed and built."""
    new_topics = topic_store.record_many_matches(session=session, matches=matches, now=now)
    if not new_topics:
        return []
    subscriptions = subscription_store.active_for_topics(
        session=session, topic_ids=sorted({t for ids in new_topics.values() for t in ids})
    )
    claimed = {sub.id for sub in subscriptions if inline(sub)}
    created = delivery_store.enqueue(
        session=session,
        new_topics=new_topics,
        subscriptions=subscriptions,
        now=now,
        sending=claimed,
    )
    return new_alerts(session, created, subscriptions, claimed=claimed, now=now)
