"""`/api/articles` and `/api/stories`: search, filters, cursor pages, one article, one story."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlalchemy import select
from sqlmodel import Session

from api import cursor
from api.deps import DB, DEFAULT_LIMIT, CurrentUser, Limit, clamp_limit
from api.errors import ApiError, not_found
from api.present import article_detail, article_item, story_item
from api.query import SearchSyntaxError, text_query
from storage import stories as story_store
from storage import topics as topic_store
from storage.models import Feed, StoryTopic, Topic, User
from storage.search import MAX_OFFSET, Filters, TextQuery, search_articles, search_stories

router = APIRouter(prefix="/api", tags=["articles and stories"])

Q = Annotated[
    str | None,
    Query(max_length=2000, description='Search text: words, "phrases", prefix*, AND, OR, NOT, '
          "-word, (groups), title: and text:."),
]
Id = Annotated[int | None, Query(ge=1, le=2**31 - 1)]
Text = Annotated[str | None, Query(max_length=64)]
When = Annotated[datetime | None, Query(description="ISO 8601 date or time (UTC if no zone).")]


def _utc(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ApiError(422, f"{name} (query): date out of range") from None
    if not 1970 <= value.year <= 9998:
        raise ApiError(422, f"{name} (query): date out of range (years 1970 to 9998)")
    return value


def parse_text(q: str | None) -> TextQuery | None:
    if q is None or not q.strip():
        return None
    try:
        return text_query(q)
    except SearchSyntaxError as exc:
        raise ApiError(400, f"q: {exc}") from None


def filters_for(
    session: Session, user: User, *, topic, feed, story, wire, lang, since, until  # noqa: ANN001
) -> Filters:
    if topic is not None and topic_store.get_topic(
        session=session, topic_id=topic, owner_id=user.id
    ) is None:
        raise not_found("topic", topic)
    return Filters(
        topic_id=topic, feed_id=feed, story_id=story, wire=wire, lang=lang,
        since=_utc(since, "since"), until=_utc(until, "until"),
    )


@router.get("/articles")
def list_articles(
    session: DB,
    user: CurrentUser,
    q: Q = None,
    topic: Id = None,
    feed: Id = None,
    story: Id = None,
    wire: Text = None,
    lang: Text = None,
    since: When = None,
    until: When = None,
    sort: Literal["relevance", "newest"] = "relevance",
    limit: Limit = DEFAULT_LIMIT,
    cursor_: Annotated[str | None, Query(alias="cursor", max_length=500)] = None,
) -> dict:
    """Articles matching the search text and filters: by relevance among the newest 200 matches
    when `q` is given (unless `sort=newest`), else newest first. Relevance pages end after those
    200; `sort=newest`, `until` or other filters reach older matches. Follow `next_cursor` for
    the next page."""
    limit = clamp_limit(limit)
    text = parse_text(q)
    f = filters_for(session, user, topic=topic, feed=feed, story=story, wire=wire, lang=lang,
                    since=since, until=until)
    ranked = text is not None and sort == "relevance"
    page = cursor.decode(cursor_, "ar" if ranked else "an")
    offset = cursor.integer(page, "o", maximum=MAX_OFFSET) if page and ranked else 0
    before = cursor.integer(page, "b", minimum=1) if page and not ranked else None
    hits = search_articles(session=session, text=text, filters=f, limit=limit + 1,
                           offset=offset, before_id=before, ranked=ranked)
    more = len(hits) > limit
    hits = hits[:limit]
    next_cursor = None
    if more and ranked and offset + limit <= MAX_OFFSET:
        next_cursor = cursor.encode("ar", o=offset + limit)
    elif more and not ranked:
        next_cursor = cursor.encode("an", b=hits[-1].article.id)
    return {"items": [article_item(h) for h in hits], "next_cursor": next_cursor}


@router.get("/articles/{article_id}")
def get_article(article_id: int, session: DB, user: CurrentUser) -> dict:
    """One article: text, metadata, sanitised HTML and the story it belongs to."""
    from storage.articles import get_article as load

    article = load(session=session, article_id=article_id) if 0 < article_id < 2**62 else None
    if article is None:
        raise not_found("article", article_id)
    feed = session.get(Feed, article.feed_id)
    story = None
    if article.story_id is not None:
        s = story_store.get_story(session=session, story_id=article.story_id)
        if s is not None:
            story = {"id": s.id, "title": s.title, "member_count": s.member_count,
                     "first_seen": s.first_seen_at.isoformat()}
    return article_detail(article, feed, story)


@router.get("/stories")
def list_stories(
    session: DB,
    user: CurrentUser,
    q: Q = None,
    topic: Id = None,
    feed: Id = None,
    wire: Text = None,
    lang: Text = None,
    since: When = None,
    until: When = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor_: Annotated[str | None, Query(alias="cursor", max_length=500)] = None,
) -> dict:
    """Stories newest first (by first sighting), with their copies; filters apply to copies."""
    limit = clamp_limit(limit)
    f = filters_for(session, user, topic=topic, feed=feed, story=None, wire=wire, lang=lang,
                    since=since, until=until)
    page = cursor.decode(cursor_, "s")
    before = None
    if page:
        before = (cursor.timestamp(page, "t"), cursor.integer(page, "i", maximum=2**31 - 1))
    rows = search_stories(session=session, text=parse_text(q), filters=f, limit=limit + 1,
                          before=before)
    more = len(rows) > limit
    rows = rows[:limit]
    members = story_store.members_of(
        session=session, story_ids=[r.id for r in rows], with_text=False
    )
    next_cursor = (
        cursor.encode("s", t=rows[-1].first_seen_at.isoformat(), i=rows[-1].id) if more else None
    )
    return {"items": [story_item(r, members[r.id]) for r in rows], "next_cursor": next_cursor}


def load_story(session: Session, user: User, story_id: int) -> dict:
    story = (
        story_store.get_story(session=session, story_id=story_id) if 0 < story_id < 2**31 else None
    )
    if story is None:
        raise not_found("story", story_id)
    members = story_store.members(session=session, story_id=story.id)
    out = story_item(story, members, with_changes=True)
    topics = session.execute(
        select(Topic.id, Topic.name)
        .join(StoryTopic, StoryTopic.topic_id == Topic.id)
        .where(StoryTopic.story_id == story.id, Topic.owner_id == user.id)
        .order_by(Topic.id)
    ).all()
    out["topics"] = [{"id": tid, "name": name} for tid, name in topics]
    return out


@router.get("/stories/{story_id}")
def get_story(story_id: int, session: DB, user: CurrentUser) -> dict:
    """One story: every copy with its outlet, time, headline and what it changed."""
    return load_story(session, user, story_id)
