"""Finding articles and stories: full-text search (FTS5 / tsvector, ranked) with filters, paged.

The match expression arrives already translated (`TextQuery`: every term quoted by the caller),
so no user text reaches the SQL but as bound parameters. Pages are keyset (newest first, by id
or by first sighting) or, for ranked results, offset-based.

Relevance ranks the newest RANKED_MATCHES matches (after filters), not every match: ranking a
common word's hundreds of thousands of matches costs seconds, finding the newest few hundred
takes milliseconds. FTS5 walks its index newest first. PostgreSQL walks the newest articles
passing the filters and checks each one's tsvector (kept in the row, migration 0006); when
that finds too few, it searches a window of ids sized by the share that matched through a
bitmap of the GIN and filter indexes, then everything; phrases and fields are checked only on
the newest rows having their words (storage/search_newest.py: plans not left to estimates).
Older matches are reached with `ranked=False` (newest first, paged by id) or with narrower
filters (`until`...).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, func, literal_column, select, table
from sqlalchemy.dialects.postgresql import array
from sqlmodel import Session

from storage.db import is_postgres
from storage.models import Article, ArticleTopic, Feed, Story, StoryTopic
from storage.search_newest import (
    VECTOR,
    newest_matches,
    stories_with_matching_members,
    to_tsquery,
)

RANKED_MATCHES = 200  # relevance orders this many newest matches; pages go no deeper
MAX_OFFSET = RANKED_MATCHES


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


def _tsquery(text: TextQuery) -> ColumnElement:
    return to_tsquery(text.tsquery)


_FTS_ROWID = literal_column("article_fts.rowid")
_FTS_PLAIN_ROWID = literal_column("+article_fts.rowid")  # a value, not a constraint for FTS5


def _matching_ids(session: Session, text: TextQuery) -> Select:
    """ids of the articles matching `text` (a subquery), with their relevance as `score`."""
    if is_postgres(session):
        tsq = _tsquery(text)
        return select(Article.id.label("id"), func.ts_rank_cd(VECTOR, tsq).label("score")).where(
            VECTOR.op("@@")(tsq)
        )
    fts = literal_column("article_fts")
    return (
        select(_FTS_ROWID.label("id"), (-func.bm25(fts, 4.0, 1.0)).label("score"))
        .select_from(_FTS)
        .where(fts.op("MATCH")(text.fts5))
    )


def _newest_matches(
    session: Session, text: TextQuery, filters: Filters, *, limit: int, before_id: int | None
) -> list[int]:
    """ids of the newest `limit` articles matching `text` and `filters` (below `before_id`)."""
    if not is_postgres(session):
        query = (
            select(_FTS_ROWID)
            .select_from(_FTS)
            .join(Article, Article.id == _FTS_ROWID)
            .where(literal_column("article_fts").op("MATCH")(text.fts5))
        )
        if before_id is not None:
            query = query.where(Article.id < before_id)
        query = _article_filters(query, filters).order_by(_FTS_ROWID.desc()).limit(limit)
        return list(session.execute(query).scalars())
    return newest_matches(
        session,
        text.tsquery,
        lambda query, rows_first=False: _article_filters(query, filters, rows_first=rows_first),
        limit=limit,
        before_id=before_id,
    )


def _article_filters(query: Select, f: Filters, *, rows_first: bool = False) -> Select:
    """`query` of article with the filters' conditions. `rows_first` (PostgreSQL): the topic is
    a condition on the row's own topic_ids, which the GIN index of words and topics takes along
    with the words (migration 0008), not a join driven from the topic's tags."""
    if f.topic_id is not None and rows_first:
        query = query.where(Article.topic_ids.contains(array([f.topic_id])))
    elif f.topic_id is not None:
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
    """Articles matching `text` and `filters`: by relevance among the newest RANKED_MATCHES
    matches (`ranked`, paged by `offset`), else newest first (paged by `before_id`)."""
    base = select(Article, Feed.title, Feed.url).join(Feed, Feed.id == Article.feed_id)
    if text is None:
        base = _article_filters(base, filters)
        if before_id is not None:
            base = base.where(Article.id < before_id)
        rows = session.execute(base.order_by(Article.id.desc()).limit(limit)).all()
        return [ArticleHit(a, t, u, None) for a, t, u in rows]
    if ranked and offset >= RANKED_MATCHES:
        return []
    ids = _newest_matches(
        session, text, filters, limit=RANKED_MATCHES if ranked else limit, before_id=before_id
    )
    if not ids:
        return []
    if is_postgres(session):  # the ids match: only their rank is left to compute
        tsq = _tsquery(text)
        matched = select(Article.id.label("id"), func.ts_rank_cd(VECTOR, tsq).label("score"))
        matched = matched.where(Article.id.in_(ids)).subquery()
    else:  # bm25() needs the MATCH, in one FTS5 cursor: given `rowid IN (ids)`, FTS5 opens one
        # per id, and each counts every match of the query again for bm25 (seconds for a common
        # word); so the ids' range goes to FTS5 and the ids are checked by SQLite (+rowid)
        matched = _matching_ids(session, text).where(
            _FTS_ROWID.between(min(ids), max(ids)), _FTS_PLAIN_ROWID.in_(ids)
        )
        matched = matched.subquery()
    query = base.add_columns(matched.c.score).join(matched, matched.c.id == Article.id)
    if ranked:
        query = query.order_by(matched.c.score.desc(), Article.id.desc()).offset(offset)
    else:
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
    the article filters; `topic_id` is the story's own topics.

    With a text or member filters, the newest stories are checked first, in batches of
    STORY_WALK (two on SQLite), member by member (cheap when many stories match: a common
    word finds its page in the first batch); the stories older than the walk come from the index
    of matching articles (cheap when few match). Exact either way: one order.
    """
    member = Filters(feed_id=filters.feed_id, lang=filters.lang)
    if text is None and member == Filters():
        query = _story_filters(filters, before)
        return list(session.execute(query.limit(limit)).scalars())
    found: list[Story] = []
    # SQLite checks a batch with one FTS5 scan of the members' range of ids, which widens with
    # the batch: two batches find a common or a middling word's page (100k articles: 2-7 ms
    # instead of 20-120 ms); past them the index of matches is cheaper (rare words: 1-3 ms).
    for size in STORY_WALK if is_postgres(session) else STORY_WALK[:2]:
        batch = list(session.execute(_story_filters(filters, before).limit(size)).scalars())
        if not batch:
            return found
        hits = _with_matching_members(session, [s.id for s in batch], text, member)
        found += [s for s in batch if s.id in hits]
        if len(found) >= limit or len(batch) < size:
            return found[:limit]
        before = (batch[-1].first_seen_at, batch[-1].id)
    query = _story_filters(filters, before)
    # the stories of matching members (uncorrelated: the match is computed once)
    members = _article_filters(
        select(Article.story_id).where(Article.story_id.is_not(None)), member
    )
    if text is not None:
        matched = _matching_ids(session, text).subquery()
        members = members.where(Article.id.in_(select(matched.c.id)))
    query = query.where(Story.id.in_(members))
    return found + list(session.execute(query.limit(limit - len(found))).scalars())


STORY_WALK = (60, 240, 960)  # stories checked member by member before the index of matches


def _with_matching_members(
    session: Session, story_ids: list[int], text: TextQuery | None, member: Filters
) -> set[int]:
    """Which of `story_ids` have a member matching `text` and the member filters."""
    query = _article_filters(
        select(Article.id, Article.story_id).where(Article.story_id.in_(story_ids)), member
    )
    if text is not None and is_postgres(session):
        query = query.with_only_columns(Article.story_id).where(VECTOR.op("@@")(_tsquery(text)))
        return stories_with_matching_members(session, query.distinct())
    members = dict(session.execute(query).all())  # article id -> story id
    if text is None or not members:
        return set(members.values())
    # FTS5: the matches within the members' range of ids (one range scan of the words' lists,
    # not a seek per member), kept when they are members
    fts = literal_column("article_fts")
    in_range = session.execute(
        select(_FTS_ROWID)
        .select_from(_FTS)
        .where(
            fts.op("MATCH")(text.fts5),
            _FTS_ROWID.between(min(members), max(members)),
        )
    ).scalars()
    return {members[rowid] for rowid in in_range if rowid in members}


def _story_filters(filters: Filters, before: tuple[datetime, int] | None) -> Select:
    """Live stories passing the story-level filters, newest first, after the cursor `before`."""
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
    if before is not None:
        seen, sid = before
        query = query.where(
            (Story.first_seen_at < seen) | and_(Story.first_seen_at == seen, Story.id < sid)
        )
    return query.order_by(Story.first_seen_at.desc(), Story.id.desc())


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
