"""Tagging a processed article with topics and creating the alerts its story now calls for.

Runs inside the transaction that stores the article and its story, so an article is never
processed without its topics, and an alert is created exactly once per (subscription, story):
the outbox's unique key decides, whatever the number of copies, workers or retries.
"""

from __future__ import annotations

import threading
from datetime import datetime

from sqlmodel import Session

from storage import deliveries as delivery_store
from storage import subscriptions as subscription_store
from storage import topics as topic_store
from storage.models import Article, Feed
from worker.topics import Document, TopicIndex


class TopicMatcher:
    """The compiled index of every topic, rebuilt when topics change (checked per article)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: tuple | None = None
        self._index = TopicIndex([])

    def index(self, session: Session) -> TopicIndex:
        version = topic_store.topics_version(session=session)
        with self._lock:
            if version != self._version:
                self._index = TopicIndex(topic_store.all_queries(session=session))
                self._version = version
            return self._index


def document_for(article: Article, feed: Feed | None) -> Document:
    feed_name = (feed.title or feed.url) if feed else ""
    return Document(
        title=article.title or article.feed_title or "",
        text=article.text or "",
        source=article.site_name or feed_name,
        wire=article.wire_source or "",
        lang=article.language or "",
        feed=feed_name,
    )


def tag_article(
    *, session: Session, article: Article, story_id: int, matcher: TopicMatcher, now: datetime
) -> list[int]:
    """Match the article against every topic, record the matches, and create the deliveries of
    topics new to its story. Returns the ids of deliveries to send now."""
    feed = session.get(Feed, article.feed_id)
    topic_ids = matcher.index(session).match(document_for(article, feed))
    new_topics = topic_store.record_matches(
        session=session, article_id=article.id, story_id=story_id, topic_ids=topic_ids, now=now
    )
    if not new_topics:
        return []
    subscriptions = subscription_store.active_for_topics(session=session, topic_ids=new_topics)
    return delivery_store.enqueue(
        session=session,
        story_id=story_id,
        topic_ids=new_topics,
        subscriptions=subscriptions,
        now=now,
    )
