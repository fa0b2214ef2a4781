"""What the demo shows, read from the database: this run's feeds, articles, stories and alerts.

"This run" is every article of the demo's feeds created since the run started, and the stories
those articles belong to (in a reused folder, copies may join stories of an earlier run).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from storage.db import session_scope
from storage.models import Article, Delivery, Feed, Story, StoryTopic
from wirewatch.demo.folder import DemoTopic


@dataclass
class TopicFigures:
    name: str
    query: str
    hook: str
    matching_stories: int = 0  # stories of this run carrying the topic
    new_matches: int = 0  # of which the topic first matched during this run (they alert)
    alerts_sent: int = 0
    alerts_pending: int = 0
    alerts_failed: int = 0
    received: int = 0  # verified webhooks the newsroom's endpoint got (filled by the caller)


@dataclass
class StoryLine:
    id: int
    title: str
    members: int
    wire: str | None
    topics: list[str]


@dataclass
class Figures:
    feeds: int = 0
    feeds_polled: int = 0
    feeds_failing: int = 0
    articles: int = 0
    articles_by_state: dict[str, int] = field(default_factory=dict)
    wire_credited: int = 0
    stories: int = 0
    new_stories: int = 0
    joined_stories: int = 0  # stories of this run with more than one member
    copies_joined: int = 0  # this run's articles that joined a story another copy started
    topics: list[TopicFigures] = field(default_factory=list)
    latest: list[StoryLine] = field(default_factory=list)

    @property
    def processed(self) -> int:
        return self.articles_by_state.get("processed", 0)

    @property
    def unfinished(self) -> int:
        by = self.articles_by_state
        return by.get("pending", 0) + by.get("fetching", 0)

    @property
    def alerts_sent(self) -> int:
        return sum(t.alerts_sent for t in self.topics)

    @property
    def alerts_due(self) -> int:
        return sum(t.alerts_pending for t in self.topics)

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("latest")
        data["alerts_sent"] = self.alerts_sent
        return data


def read_figures(
    database_url: str,
    *,
    feed_ids: list[int],
    topics: list[DemoTopic],
    since: datetime,
    latest: int = 8,
) -> Figures:
    """The figures of the run that started at `since`."""
    f = Figures(feeds=len(feed_ids))
    names = {t.id: t.name for t in topics}
    with session_scope(database_url) as s:
        feeds = s.execute(
            select(Feed.last_polled_at, Feed.error_count).where(Feed.id.in_(feed_ids))
        ).all()
        f.feeds_polled = sum(1 for polled, _ in feeds if polled and polled >= since)
        f.feeds_failing = sum(1 for _, errors in feeds if errors)
        ours = (Article.feed_id.in_(feed_ids), Article.created_at >= since)
        f.articles_by_state = {
            state: int(n)
            for state, n in s.execute(
                select(Article.state, func.count()).where(*ours).group_by(Article.state)
            ).all()
        }
        f.articles = sum(f.articles_by_state.values())
        f.wire_credited = s.execute(
            select(func.count()).select_from(Article).where(*ours, Article.wire_source.is_not(None))
        ).scalar_one()
        rows = s.execute(
            select(Article.id, Story)
            .join(Story, Story.id == Article.story_id)
            .where(*ours, Article.state == "processed")
        ).all()
        stories = {story.id: story for _, story in rows}
        f.stories = len(stories)
        f.new_stories = sum(1 for st in stories.values() if st.first_seen_at >= since)
        f.joined_stories = sum(1 for st in stories.values() if st.member_count > 1)
        f.copies_joined = sum(1 for aid, st in rows if st.first_article_id != aid)
        matches = s.execute(
            select(StoryTopic.story_id, StoryTopic.topic_id, StoryTopic.first_matched_at).where(
                StoryTopic.story_id.in_(list(stories)), StoryTopic.topic_id.in_(list(names))
            )
        ).all()
        deliveries = s.execute(
            select(Delivery.subscription_id, Delivery.state, func.count())
            .where(
                Delivery.subscription_id.in_([t.subscription_id for t in topics]),
                Delivery.created_at >= since,
            )
            .group_by(Delivery.subscription_id, Delivery.state)
        ).all()
    by_topic: dict[int, list[str]] = {}
    for t in topics:
        tf = TopicFigures(name=t.name, query=t.query, hook=t.hook)
        tf.matching_stories = sum(1 for _, tid, _ in matches if tid == t.id)
        tf.new_matches = sum(1 for _, tid, when in matches if tid == t.id and when >= since)
        for sub_id, state, n in deliveries:
            if sub_id == t.subscription_id:
                if state == "sent":
                    tf.alerts_sent += n
                elif state == "dead":
                    tf.alerts_failed += n
                else:
                    tf.alerts_pending += n
        f.topics.append(tf)
    for story_id, topic_id, _ in matches:
        by_topic.setdefault(story_id, []).append(names[topic_id])
    recent = sorted(stories.values(), key=lambda st: st.updated_at, reverse=True)[:latest]
    f.latest = [
        StoryLine(st.id, st.title or "", st.member_count, st.wire_source, by_topic.get(st.id, []))
        for st in recent
    ]
    return f
