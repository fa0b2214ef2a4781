"""Finding articles and stories: full-text search (FTS5 / tsvector, ranked) with filters, paged.

The match expression arrives already translated (`TextQuery`: every term quoted by the caller),
so no user text reaches the SQL but as bound parameters. Pages are keyset (newest first, by id
or by first sighting) or, for ranked results, offset-based.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, func, literal_column, select, table
from sqlmodel import Session

from storage.db import is_postgres
from storage.models import Article, ArticleTopic, Feed, Story, StoryTopic

MAX_OFFSET = 10_000  # ranked pages go this deep; narrow the query or the filters beyond it


@dataclass(frozen=True)
class TextQuery:
    """One search in the syntax of each database: an FTS5 MATCH string and a to_tsquery one."""

    fts5: str
    tsquery: str


@dataclass(frozen=True)
class Filters:
    topic_id: int | None = None
    feed_id: int | None = None
    story_id: int | None = None
    wire: str | None = None
    lang: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class ArticleHit:
    article: Article
    feed_title: str | None
    feed_url: str
    rank: float | None


_FTS = table("article_fts")


def _matching_ids(session: Session, text: TextQuery) -> Select:
    """ids of the articles matching `text` (a subquery), with their relevance as `score`."""
    if is_postgres(session):
        vector = literal_column("article.search_vector")
        tsq = func.to_tsquery(literal_column("'simple'::regconfig"), text.tsquery)
        return select(
            Article.id.label("id"), func.ts_rank_cd(vector, tsq).label("score")
        ).where(vector.op("@@")(tsq))
    fts = literal_column("article_fts")
    return (
        select(
            literal_column("article_fts.rowid").label("id"),
            (-func.bm25(fts, 4.0, 1.0)).label("score"),
        )
        .select_from(_FTS)
        .where(fts.op("MATCH")(text.fts5))
    )


def _article_filters(query: Select, f: Filters) -> Select:
    if f.topic_id is not None:
        tagged = select(ArticleTopic.article_id).where(ArticleTopic.topic_id == f.topic_id)
        query = query.where(Article.id.in_(tagged))
    if f.feed_id is not None:
        query = query.where(Article.feed_id == f.feed_id)
    if f.story_id is not None:
        query = query.where(Article.story_id == f.story_id)
    if f.wire:
        query = query.where(func.lower(Article.wire_source) == f.wire.lower())
    if f.lang:
        query = query.where(func.lower(Article.language) == f.lang.lower())
    when = func.coalesce(Article.published, Article.feed_published, Article.created_at)
    if f.since is not None:
        query = query.where(when >= f.since)
    if f.until is not None:
        query = query.where(when < f.until)
    return query


def search_articles(
    *,
    session: Session,
    text: TextQuery | None = None,
    filters: Filters = Filters(),  # noqa: B008
    limit: int = 20,
    before_id: int | None = None,
    offset: int = 0,
    ranked: bool = True,
) -> list[ArticleHit]:
    """Articles matching `text` and `filters`: by relevance (`ranked`, paged by `offset`), else
    newest first (paged by `before_id`)."""
    base = select(Article, Feed.title, Feed.url).join(Feed, Feed.id == Article.feed_id)
    base = _article_filters(base, filters)
    if text is None:
        if before_id is not None:
            base = base.where(Article.id < before_id)
        rows = session.execute(base.order_by(Article.id.desc()).limit(limit)).all()
        return [ArticleHit(a, t, u, None) for a, t, u in rows]
    matched = _matching_ids(session, text).subquery()
    query = base.add_columns(matched.c.score).join(matched, matched.c.id == Article.id)
    if ranked:
        query = query.order_by(matched.c.score.desc(), Article.id.desc()).offset(offset)
    else:
        if before_id is not None:
            query = query.where(Article.id < before_id)
        query = query.order_by(Article.id.desc())
    rows = session.execute(query.limit(limit)).all()
    return [ArticleHit(a, t, u, float(s)) for a, t, u, s in rows]


def search_stories(
    *,
    session: Session,
    text: TextQuery | None = None,
    filters: Filters = Filters(),  # noqa: B008
    limit: int = 20,
    before: tuple[datetime, int] | None = None,
) -> list[Story]:
    """Live stories, newest first (by first sighting), having a member that matches `text` and
    the article filters; `topic_id` is the story's own topics."""
    query = select(Story).where(Story.merged_into_id.is_(None))
    if filters.topic_id is not None:
        query = query.where(
            Story.id.in_(select(StoryTopic.story_id).where(StoryTopic.topic_id == filters.topic_id))
        )
    if filters.story_id is not None:
        query = query.where(Story.id == filters.story_id)
    if filters.since is not None:
        query = query.where(Story.first_seen_at >= filters.since)
    if filters.until is not None:
        query = query.where(Story.first_seen_at < filters.until)
    if filters.wire:
        query = query.where(func.lower(Story.wire_source) == filters.wire.lower())
    member = Filters(feed_id=filters.feed_id, lang=filters.lang)
    if text is not None or member != Filters():
        # the stories of matching members (uncorrelated: the match is computed once)
        members = _article_filters(
            select(Article.story_id).where(Article.story_id.is_not(None)), member
        )
        if text is not None:
            matched = _matching_ids(session, text).subquery()
            members = members.where(Article.id.in_(select(matched.c.id)))
        query = query.where(Story.id.in_(members))
    if before is not None:
        seen, sid = before
        query = query.where(
            (Story.first_seen_at < seen) | and_(Story.first_seen_at == seen, Story.id < sid)
        )
    query = query.order_by(Story.first_seen_at.desc(), Story.id.desc()).limit(limit)
    return list(session.execute(query).scalars())


def recent_story_ids(*, session: Session, limit: int) -> list[int]:
    """The newest live stories (for dry-running a topic query)."""
    return list(
        session.execute(
            select(Story.id)
            .where(Story.merged_into_id.is_(None))
            .order_by(Story.first_seen_at.desc(), Story.id.desc())
            .limit(limit)
        ).scalars()
    )
