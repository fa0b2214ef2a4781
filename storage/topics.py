"""Topics and what they matched: articles, and the stories carrying their members' topics."""

from __future__ import annotations

import secrets
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from storage.db import dialect_insert, is_postgres, pg_ints
from storage.models import ArticleTopic, StoryTopic, Topic, utcnow

# Statements every processed article runs, built once (building one costs more than running it).
_VERSION = select(func.count(Topic.id), func.max(Topic.id), func.max(Topic.updated_at))


# SQLite: (article_topic insert, story_topic insert returning the (story, topic) pairs it
# added), each ignoring rows already there; executed with one parameter set per row.
_MATCH_INSERTS_SQLITE = (
    sqlite_insert(ArticleTopic.__table__).on_conflict_do_nothing(),
    sqlite_insert(StoryTopic.__table__)
    .on_conflict_do_nothing()
    .returning(StoryTopic.__table__.c.story_id, StoryTopic.__table__.c.topic_id),
)
# PostgreSQL: the same, each row of a batch an element of arrays.
_ARTICLE_TOPICS_PG = (
    "INSERT INTO article_topic (article_id, topic_id) "
    "SELECT a, t FROM unnest(%(articles)s::bigint[], %(topics)s::bigint[]) AS u(a, t) "
    "ON CONFLICT DO NOTHING"
)
_STORY_TOPICS_PG = (
    "INSERT INTO story_topic (story_id, topic_id, first_matched_at, article_id) "
    "SELECT s, t, %(now)s, a FROM unnest(%(stories)s::bigint[], %(topics)s::bigint[], "
    "%(articles)s::bigint[]) AS u(s, t, a) "
    "ON CONFLICT DO NOTHING RETURNING story_id, topic_id"
)


class DuplicateTopicError(ValueError):
    """The owner already has a topic of that name."""


def create_topic(
    *, session: Session, owner_id: int, name: str, query: str, private: bool = True
) -> Topic:
    """Store a topic; the caller has validated the query (worker.topics.validate_query)."""
    topic = Topic(
        owner_id=owner_id,
        name=name.strip(),
        query=query,
        private=private,
        feed_token=secrets.token_urlsafe(24),
    )
    session.add(topic)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise DuplicateTopicError(f"you already have a topic named {name.strip()!r}") from None
    return topic


def get_topic(*, session: Session, topic_id: int, owner_id: int | None = None) -> Topic | None:
    """The topic, or None when it does not exist or belongs to someone else."""
    topic = session.get(Topic, topic_id)
    if topic is None or (owner_id is not None and topic.owner_id != owner_id):
        return None
    return topic


def get_topic_by_name(*, session: Session, owner_id: int, name: str) -> Topic | None:
    return (
        session.execute(select(Topic).where(Topic.owner_id == owner_id, Topic.name == name))
        .scalars()
        .first()
    )


def list_topics(*, session: Session, owner_id: int | None = None) -> list[Topic]:
    query = select(Topic).order_by(Topic.id)
    if owner_id is not None:
        query = query.where(Topic.owner_id == owner_id)
    return list(session.execute(query).scalars())


def all_queries(*, session: Session) -> list[tuple[int, str]]:
    """(id, query) of every topic: what the matcher's index is built from."""
    return [(r[0], r[1]) for r in session.execute(select(Topic.id, Topic.query).order_by(Topic.id))]


def topics_version(*, session: Session) -> tuple:
    """Changes whenever a topic is added, changed or removed (cache key of the matcher)."""
    return tuple(session.execute(_VERSION).one())


def delete_topic(*, session: Session, topic_id: int, owner_id: int | None = None) -> bool:
    topic = get_topic(session=session, topic_id=topic_id, owner_id=owner_id)
    if topic is None:
        return False
    session.delete(topic)
    return True


def record_matches(
    *,
    session: Session,
    article_id: int,
    story_id: int,
    topic_ids: Collection[int],
    now: datetime | None = None,
) -> list[int]:
    """Store an article's topics and add them to its story; returns the topics that are new to
    the story (each alerts its subscribers once). The same ids go on the article's row, in
    `topic_ids` (storage.articles.complete_article)."""
    new = record_many_matches(session=session, matches=[(article_id, story_id, topic_ids)], now=now)
    return new.get(story_id, [])


def record_many_matches(
    *,
    session: Session,
    matches: list[tuple[int, int, Collection[int]]],
    now: datetime | None = None,
) -> dict[int, list[int]]:
    """`record_matches` for several articles at once, (article id, story id, topic ids) each,
    in two statements; returns the topics new to each story, by story (stories with none left
    out). Where two articles bring one topic to one story, the first is recorded as its source."""
    now = now or utcnow()
    article_rows, story_rows = [], {}
    for article_id, story_id, topic_ids in matches:
        for t in sorted(topic_ids):
            article_rows.append((article_id, t))
            story_rows.setdefault((story_id, t), article_id)
    if not article_rows:
        return {}
    if is_postgres(session):  # two plain statements over arrays (see storage.db.pg_ints)
        conn = session.connection()
        articles, topics = zip(*article_rows, strict=True)
        conn.exec_driver_sql(
            _ARTICLE_TOPICS_PG, {"articles": pg_ints(articles), "topics": pg_ints(topics)}
        )
        stories, topics = zip(*story_rows, strict=True)
        added = conn.exec_driver_sql(
            _STORY_TOPICS_PG,
            {
                "stories": pg_ints(stories),
                "topics": pg_ints(topics),
                "articles": pg_ints(story_rows.values()),
                "now": now,
            },
        ).all()
    else:
        add_to_articles, add_to_stories = _MATCH_INSERTS_SQLITE
        session.execute(
            add_to_articles, [{"article_id": a, "topic_id": t} for a, t in article_rows]
        )
        added = session.execute(
            add_to_stories,
            [
                {"story_id": s, "topic_id": t, "first_matched_at": now, "article_id": a}
                for (s, t), a in story_rows.items()
            ],
        ).all()
    new: dict[int, list[int]] = {}
    for story_id, topic_id in added:
        new.setdefault(story_id, []).append(topic_id)
    return {story_id: sorted(ids) for story_id, ids in new.items()}


def story_topics(*, session: Session, story_ids: list[int]) -> dict[int, list[StoryTopic]]:
    if not story_ids:
        return {}
    rows = session.execute(select(StoryTopic).where(StoryTopic.story_id.in_(story_ids))).scalars()
    out: dict[int, list[StoryTopic]] = {}
    for row in rows:
        out.setdefault(row.story_id, []).append(row)
    return out


def move_story_topics(*, session: Session, from_ids: list[int], to_id: int) -> None:
    """After a merge: the surviving story carries the topics of the stories it absorbed (the
    earliest match time wins), so a topic already alerted is not new to it."""
    if not from_ids:
        return
    rows = (
        session.execute(select(StoryTopic).where(StoryTopic.story_id.in_([*from_ids, to_id])))
        .scalars()
        .all()
    )
    earliest: dict[int, StoryTopic] = {}
    for row in rows:
        kept = earliest.get(row.topic_id)
        if kept is None or row.first_matched_at < kept.first_matched_at:
            earliest[row.topic_id] = row
    values = [
        {
            "story_id": to_id,
            "topic_id": t,
            "first_matched_at": r.first_matched_at,
            "article_id": r.article_id,
        }
        for t, r in earliest.items()
    ]
    session.execute(delete(StoryTopic).where(StoryTopic.story_id.in_([*from_ids, to_id])))
    if values:
        session.execute(dialect_insert(session)(StoryTopic).values(values))
