"""Stories: the shared dedup index (one row per key), candidate lookup, joining and merging.

Concurrency: on PostgreSQL the article's keys are locked (transaction advisory locks, in key
order, so two writers never deadlock) before candidates are looked up, so copies of one story
processed at the same moment by different workers see each other and end in one story. SQLite
serialises writers (BEGIN IMMEDIATE), which gives the same guarantee.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import defer
from sqlmodel import Session

from storage.db import is_postgres, pg_ints
from storage.deliveries import move_to_story as move_deliveries
from storage.models import Article, DedupKey, Feed, Story
from storage.topics import move_story_topics


@dataclass(frozen=True)
class Candidate:
    article_id: int
    story_id: int
    kind: int
    shared: int  # how many keys it shares with the new article


@dataclass(frozen=True)
class Member:
    article: Article
    feed_title: str | None
    feed_url: str


# The index statements run for every processed article, so they go to the driver as plain SQL
# (SQLAlchemy's per-parameter processing of ~70 keys cost more than the database's own work).
_LOCK_PG = (
    "SELECT count(pg_advisory_xact_lock(k)) FROM "
    "(SELECT unnest(%(keys)s::bigint[]) AS k ORDER BY 1) AS ordered_keys"
)
# The lookup reads the key index alone, then the candidates' stories by primary key: two plans
# that stay right whatever the planner's statistics say. (As one join, a PostgreSQL table not yet
# analysed by autovacuum got a hash join over a full scan of `article`, growing with the table:
# seen in the soak as 0.7 s per lookup at 5,000 articles.)
_LOOKUP = (
    "SELECT article_id, kind, key FROM dedup_key "
    "WHERE key {match} AND created_at >= {since} AND article_id {exclude}"
)
_LOOKUP_PG = _LOOKUP.format(
    match="= ANY(%(keys)s::bigint[])", since="%(since)s", exclude="!= ALL(%(exclude)s::bigint[])"
)
_STORIES = "SELECT id, story_id FROM article WHERE id {match} AND story_id IS NOT NULL"
_STORIES_PG = _STORIES.format(match="= ANY(%(ids)s::bigint[])")
_STORIES_SQLITE = _STORIES.format(match="IN (SELECT value FROM json_each(?))")
_INSERT_PG = (
    "INSERT INTO dedup_key (key, article_id, created_at, kind) "
    "SELECT k, (%(ids)s::bigint[])[i], (%(stamps)s::timestamptz[])[i], t "
    "FROM unnest(%(keys)s::bigint[], %(kinds)s::int[], %(at)s::int[]) AS u(k, t, i)"
)
_INSERT_SQLITE = "INSERT INTO dedup_key (key, article_id, created_at, kind) VALUES (?, ?, ?, ?)"


def _stamp(session: Session, moment: datetime):  # noqa: ANN202
    """`moment` as the driver receives dedup_key.created_at (naive UTC on SQLite)."""
    dialect = session.get_bind().dialect
    process = DedupKey.__table__.c.created_at.type.dialect_impl(dialect).bind_processor(dialect)
    return process(moment) if process else moment


def lock_keys(*, session: Session, keys: Iterable[int]) -> None:
    """Serialise writers whose articles share a key (PostgreSQL; SQLite is serial already).

    The locks are taken in one statement of their own: the lookup that follows must take its
    snapshot after they are granted (READ COMMITTED), so the two cannot be one statement.
    """
    ordered = sorted(set(keys))
    if not ordered or not is_postgres(session):
        return
    session.connection().exec_driver_sql(_LOCK_PG, {"keys": pg_ints(ordered)})


def find_candidates(
    *, session: Session, keys: Iterable[tuple[int, int]], since: datetime, exclude: int
) -> list[Candidate]:
    """Articles of the window sharing any key, with the story each belongs to, most shared first.

    One probe of the (key, article_id) primary key per key.
    """
    keys = list(keys)
    rows, story_of = key_rows(
        session=session, keys={k for _, k in keys}, since=since, exclude=[exclude]
    )
    return rank_candidates(keys=keys, rows=rows, story_of=story_of)


def key_rows(
    *, session: Session, keys: Collection[int], since: datetime, exclude: Collection[int]
) -> tuple[list[tuple[int, int, int]], dict[int, int]]:
    """The window's index rows holding any of `keys`, as (article_id, kind, key), leaving out the
    articles in `exclude`; and the story of each article they name that is in one."""
    if not keys:
        return [], {}
    wanted = sorted(keys)
    conn = session.connection()
    if is_postgres(session):
        keyed = conn.exec_driver_sql(
            _LOOKUP_PG,
            {"keys": pg_ints(wanted), "since": since, "exclude": pg_ints(sorted(exclude))},
        ).all()
        ids = sorted({row[0] for row in keyed})
        story_of = (
            dict(conn.exec_driver_sql(_STORIES_PG, {"ids": pg_ints(ids)}).all()) if ids else {}
        )
    else:
        query = _LOOKUP.format(
            match=f"IN ({', '.join('?' * len(wanted))})",
            since="?",
            exclude=f"NOT IN ({', '.join('?' * len(exclude))})",
        )
        keyed = conn.exec_driver_sql(query, (*wanted, _stamp(session, since), *exclude)).all()
        ids = sorted({row[0] for row in keyed})
        story_of = (
            dict(conn.exec_driver_sql(_STORIES_SQLITE, (json.dumps(ids),)).all()) if ids else {}
        )
    return [tuple(row) for row in keyed], story_of


def rank_candidates(
    *,
    keys: Iterable[tuple[int, int]],
    rows: Iterable[tuple[int, int, int]],
    story_of: Mapping[int, int | None],
) -> list[Candidate]:
    """The articles of `rows` (see `key_rows`) sharing any of the (kind, key) pairs `keys`, with
    their stories (`story_of`; those in none are left out), most shared first."""
    by_kind: dict[int, set[int]] = {}
    for kind, key in keys:
        by_kind.setdefault(kind, set()).add(key)
    shared: dict[int, list] = {}
    for article_id, kind, key in rows:
        story_id = story_of.get(article_id)
        if story_id is None:
            continue  # not in a story yet (its own transaction has not finished)
        if key not in by_kind.get(kind, ()):
            continue  # another of the rows' keys, or the same number under another kind
        entry = shared.setdefault(article_id, [story_id, set(), 0])
        entry[1].add(kind)
        entry[2] += 1
    candidates = [
        Candidate(article_id=aid, story_id=sid, kind=min(kinds), shared=n)
        for aid, (sid, kinds, n) in shared.items()
    ]
    return sorted(candidates, key=lambda c: (c.kind not in (1, 2), -c.shared, c.article_id))


def add_keys(
    *, session: Session, article_id: int, keys: Iterable[tuple[int, int]], now: datetime
) -> None:
    """Insert the article's keys (see `add_many_keys`)."""
    add_many_keys(session=session, items=[(article_id, keys, now)])


def add_many_keys(
    *, session: Session, items: Iterable[tuple[int, Iterable[tuple[int, int]], datetime]]
) -> None:
    """Insert the keys of several articles, (article id, its (kind, key) pairs, when), in one
    statement: on PostgreSQL one INSERT over arrays, on SQLite one executemany."""
    ids, stamps, rows = [], [], []  # rows: (key, kind, index of the article in ids)
    for article_id, keys, now in items:
        kinds: dict[int, int] = {}
        for kind, key in keys:
            kinds[key] = min(kind, kinds.get(key, kind))  # one row per key and article
        rows += [(key, kinds[key], len(ids)) for key in sorted(kinds)]
        ids.append(article_id)
        stamps.append(now)
    if not rows:
        return
    conn = session.connection()
    if is_postgres(session):
        conn.exec_driver_sql(
            _INSERT_PG,
            {
                "keys": pg_ints(r[0] for r in rows),
                "kinds": pg_ints(r[1] for r in rows),
                "at": pg_ints(r[2] + 1 for r in rows),  # PostgreSQL arrays count from 1
                "ids": pg_ints(ids),
                "stamps": stamps,
            },
        )
        return
    stamps = [_stamp(session, now) for now in stamps]
    conn.exec_driver_sql(_INSERT_SQLITE, [(k, ids[i], stamps[i], kind) for k, kind, i in rows])


def attach(
    *, session: Session, article: Article, story_ids: set[int], now: datetime, pending: bool = False
) -> tuple[int, list[int]]:
    """Put the article into a story: a new one, the one it matched, or, when it bridges several,
    the oldest of them after merging the others into it (deterministic: lowest id wins).

    `pending`: the caller writes the article's row (with its story) later in this transaction
    (`storage.articles.complete_article`), so its `story_id` is not set here and the story
    counts it as a member from what `article` says. Returns (story id, ids of stories merged
    away).
    """
    live = {_resolve(session, sid) for sid in story_ids}
    if not live:
        story_id = session.execute(
            _NEW_STORY,
            {
                "title": article.title or article.feed_title,
                "representative_article_id": article.id,
                "first_article_id": article.id,
                "origin_feed_id": article.feed_id,
                "wire_source": article.wire_source,
                "first_seen_at": now,
                "updated_at": now,
                "member_count": 1,
                "merged_into_id": None,
            },
        ).scalar_one()
        if not pending:
            _set_story(session, [article.id], story_id)
        return story_id, []
    target, *others = sorted(live)
    if others:
        session.execute(
            update(Article)
            .where(Article.story_id.in_(others))
            .values(story_id=target)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(Story)
            .where(Story.id.in_(others))
            .values(merged_into_id=target, member_count=0, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        # Topics and deliveries follow the news: nothing already alerted is alerted again.
        move_story_topics(session=session, from_ids=others, to_id=target)
        move_deliveries(session=session, from_ids=others, to_id=target)
    if pending:
        refresh_story(session=session, story_id=target, now=now, joining=article)
    else:
        _set_story(session, [article.id], target)
        refresh_story(session=session, story_id=target, now=now)
    return target, others


_S, _A = Story.__table__.c, Article.__table__.c
# Built once: every processed article runs some of these (building a statement with SQLAlchemy
# costs more than the database takes to run it).
_NEW_STORY = Story.__table__.insert().returning(_S.id)
_MEMBERS = select(
    _A.id,
    _A.feed_id,
    _A.title,
    _A.feed_title,
    _A.word_count,
    _A.wire_source,
    _A.published,
    _A.processed_at,
).where(_A.story_id == bindparam("story_id"))
_REFRESH = (
    update(Story.__table__)
    .where(_S.id == bindparam("story_id"))
    .values(
        member_count=bindparam("members"),
        first_article_id=bindparam("first"),
        origin_feed_id=bindparam("origin"),
        representative_article_id=bindparam("rep"),
        title=bindparam("v_title"),
        wire_source=bindparam("wire"),
        updated_at=bindparam("now"),
    )
)
_SET_STORY = (
    update(Article.__table__)
    .where(_A.id.in_(bindparam("ids", expanding=True)))
    .values(story_id=bindparam("story_id"))
)
_MERGED_INTO = select(_S.merged_into_id).where(_S.id == bindparam("id"))
_CANDIDATES = select(_A.id, _A.feed_id, _A.title, _A.feed_title, _A.text, _A.site_name).where(
    _A.id.in_(bindparam("ids", expanding=True))
)


def refresh_story(
    *, session: Session, story_id: int, now: datetime, joining: Article | None = None
) -> None:
    """Recompute what a story says of its members: count, first copy, representative, wire.
    `joining`: an article whose row does not name the story yet (see `attach`)."""
    members = session.execute(_MEMBERS, {"story_id": story_id}).all()
    if joining is not None and all(m.id != joining.id for m in members):
        members.append(joining)
    first = min(members, key=lambda m: (m.published or m.processed_at or now, m.id))
    # The representative is the fullest copy (copies are often trimmed), the earliest on ties.
    rep = max(members, key=lambda m: (m.word_count or 0, -(m.published or now).timestamp(), -m.id))
    wire = next((m.wire_source for m in sorted(members, key=lambda m: m.id) if m.wire_source), None)
    session.execute(
        _REFRESH,
        {
            "story_id": story_id,
            "members": len(members),
            "first": first.id,
            "origin": first.feed_id,
            "rep": rep.id,
            "v_title": rep.title or rep.feed_title,
            "wire": wire,
            "now": now,
        },
    )


def _set_story(session: Session, article_ids: list[int], story_id: int) -> None:
    session.execute(_SET_STORY, {"ids": list(article_ids), "story_id": story_id})


def _resolve(session: Session, story_id: int) -> int:
    """Follow merges to the story that lives on."""
    seen = set()
    while story_id not in seen:
        seen.add(story_id)
        merged = session.execute(_MERGED_INTO, {"id": story_id}).scalar()
        if merged is None:
            return story_id
        story_id = merged
    return story_id


def candidate_articles(*, session: Session, article_ids: list[int]) -> dict[int, Article]:
    """id -> the candidate's id, feed_id, title, feed_title, text and site_name (Core rows:
    what verifying a match reads)."""
    if not article_ids:
        return {}
    rows = session.execute(_CANDIDATES, {"ids": list(article_ids)}).all()
    return {a.id: a for a in rows}


def get_story(*, session: Session, story_id: int) -> Story | None:
    story = session.get(Story, story_id)
    if story is not None and story.merged_into_id is not None:
        return session.get(Story, _resolve(session, story_id))
    return story


def members(*, session: Session, story_id: int) -> list[Member]:
    rows = session.execute(
        select(Article, Feed.title, Feed.url)
        .join(Feed, Feed.id == Article.feed_id)
        .where(Article.story_id == story_id)
        .order_by(func.coalesce(Article.published, Article.processed_at), Article.id)
    ).all()
    return [Member(article=a, feed_title=t, feed_url=u) for a, t, u in rows]


def list_stories(
    *,
    session: Session,
    since: datetime | None = None,
    limit: int = 50,
    before_id: int | None = None,
) -> list[Story]:
    """Live stories, newest first (by first sighting)."""
    query = select(Story).where(Story.merged_into_id.is_(None))
    if since is not None:
        query = query.where(Story.first_seen_at >= since)
    if before_id is not None:
        query = query.where(Story.id < before_id)
    query = query.order_by(Story.first_seen_at.desc(), Story.id.desc()).limit(limit)
    return list(session.execute(query).scalars())


def members_of(
    *, session: Session, story_ids: list[int], with_text: bool = True
) -> dict[int, list[Member]]:
    """The copies of each story, oldest first. Without `with_text` the articles come without
    their text, HTML and feed content (a list of stories shows none of them; they are most of
    the bytes): reading one of those attributes then raises rather than loading it."""
    if not story_ids:
        return {}
    query = (
        select(Article, Feed.title, Feed.url)
        .join(Feed, Feed.id == Article.feed_id)
        .where(Article.story_id.in_(story_ids))
        .order_by(Article.id)
    )
    if not with_text:
        query = query.options(
            *(defer(c, raiseload=True) for c in (Article.text, Article.html, Article.feed_content))
        )
    rows = session.execute(query).all()
    out: dict[int, list[Member]] = {sid: [] for sid in story_ids}
    for a, t, u in rows:
        out[a.story_id].append(Member(article=a, feed_title=t, feed_url=u))
    return out


def prune_keys(*, session: Session, before: datetime, limit: int = 10_000) -> int:
    """Drop index rows older than the lookup window (they can never match again), a batch of
    about `limit` rows at a time (whole articles: all keys of one article share created_at),
    so a large backlog never holds the database for long. Reads the created_at index only."""
    dk = DedupKey.__table__.c
    old = (
        select(dk.article_id)
        .where(dk.created_at < before)
        .order_by(dk.created_at)
        .limit(limit)
        .scalar_subquery()
    )
    result = session.execute(
        DedupKey.__table__.delete().where(dk.article_id.in_(old), dk.created_at < before)
    )
    return result.rowcount or 0
