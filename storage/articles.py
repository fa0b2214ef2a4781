"""Articles: inserting feed entries once, claiming work, recording outcomes, finding stuck work."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, func, select, update
from sqlmodel import Session

from storage.db import dialect_insert_for, is_postgres
from storage.models import Article, ArticleState

UNFINISHED = (ArticleState.pending.value, ArticleState.fetching.value)
# Hot-path statements are Core statements on the table: the ORM's bulk-DML layer costs about as
# much again as the statement itself, and nothing here needs objects in the session.
_A = Article.__table__.c


@dataclass(frozen=True)
class NewEntry:
    """What a feed says about one entry; `key` is its identity within the feed."""

    key: str
    url: str | None
    title: str | None
    content: str | None
    author: str | None
    published: datetime | None


def insert_entries(
    *, session: Session, feed_id: int, entries: Iterable[NewEntry], now: datetime
) -> list[int]:
    """Store entries not seen before as `pending` articles; return the new ids.

    `INSERT … ON CONFLICT DO NOTHING` on the (feed_id, entry_key) unique key: polling the same
    feed twice, or two workers racing on it, never stores a duplicate.
    """
    rows = []
    seen: set[str] = set()
    for e in entries:
        if e.key in seen:  # a feed that lists one entry twice
            continue
        seen.add(e.key)
        rows.append(
            {
                "feed_id": feed_id,
                "entry_key": e.key,
                "url": e.url,
                "feed_title": e.title,
                "feed_content": e.content,
                "feed_author": (e.author or None) and e.author[:512],
                "feed_published": e.published,
                "state": ArticleState.pending.value,
                "state_changed_at": now,
                "created_at": now,
                "attempts": 0,
            }
        )
    if not rows:
        return []
    # One statement built once, run over all the rows (SQLAlchemy sends them as multi-row
    # INSERTs): building a statement of N rows each time cost more than inserting them.
    new_ids = session.execute(_insert_entries_statement(is_postgres(session)), rows).scalars()
    return sorted(new_ids)


@cache
def _insert_entries_statement(postgres: bool):  # noqa: ANN202
    return (
        dialect_insert_for(postgres)(Article.__table__)
        .on_conflict_do_nothing(index_elements=["feed_id", "entry_key"])
        .returning(_A.id)
    )


@dataclass(frozen=True)
class Claim:
    """What processing a claimed article needs, read by the claiming statement itself."""

    url: str | None
    attempts: int
    feed_id: int
    feed_title: str | None
    feed_content: str | None
    feed_published: datetime | None
    error: str | None


def claim_article(
    *, session: Session, article_id: int, now: datetime, lease: int, token: str | None = None
) -> Claim | None:
    """Take a pending article (or one whose claim lease ran out) for processing.

    A conditional update with a rowcount check: two workers handed the same id never both work.
    `token` names the unit of work (a Celery task id survives the task's retries), so a retry of
    the same task may take back the claim its interrupted attempt left behind.
    """
    return claim_articles(
        session=session, article_ids=[article_id], now=now, lease=lease, token=token
    ).get(article_id)


def claim_articles(
    *,
    session: Session,
    article_ids: list[int],
    now: datetime,
    lease: int,
    token: str | None = None,
) -> dict[int, Claim]:
    """`claim_article` for several articles in one statement: id -> claim, for those taken."""
    if not article_ids:
        return {}
    params = {
        "ids": sorted(set(article_ids)),
        "now": now,
        "expired": now - timedelta(seconds=lease),
        "token": token,
    }
    rows = session.execute(_claim_statement(token is not None), params).all()
    return {row[0]: Claim(*row[1:]) for row in rows}


# The statements every article runs are built once, with bound parameters: building one with
# SQLAlchemy costs more than the database takes to run it.
@cache
def _claim_statement(with_token: bool):  # noqa: ANN202
    reclaimable = _A.state_changed_at < bindparam("expired")
    if with_token:
        reclaimable = reclaimable | (_A.claim_token == bindparam("token"))
    return (
        update(Article.__table__)
        .where(
            _A.id.in_(bindparam("ids", expanding=True)),
            (_A.state == ArticleState.pending.value)
            | ((_A.state == ArticleState.fetching.value) & reclaimable),
        )
        .values(
            state=ArticleState.fetching.value,
            state_changed_at=bindparam("now"),
            attempts=_A.attempts + 1,
            claim_token=bindparam("token"),
        )
        .returning(
            _A.id,
            _A.url,
            _A.attempts,
            _A.feed_id,
            _A.feed_title,
            _A.feed_content,
            _A.feed_published,
            _A.error,
        )
    )


def release_article(
    *, session: Session, article_id: int, now: datetime, error: str, deferred: bool = False
) -> None:
    """Back to pending, to be picked up again by a retry or the sweep. `deferred`: nothing
    failed, the host asked us to wait, so the attempt does not count."""
    values: dict = {
        "state": ArticleState.pending.value,
        "state_changed_at": now,
        "error": error[:2000],
    }
    if deferred:
        values["attempts"] = _A.attempts - 1
    session.execute(
        update(Article.__table__)
        .where(_A.id == article_id, _A.state == ArticleState.fetching.value)
        .values(**values)
    )


def fail_article(*, session: Session, article_id: int, now: datetime, error: str) -> None:
    session.execute(
        update(Article.__table__)
        .where(_A.id == article_id)
        .values(state=ArticleState.failed.value, state_changed_at=now, error=error[:2000])
    )


def complete_article(*, session: Session, article_id: int, now: datetime, **fields: object) -> bool:
    """Store the cleaned article and mark it processed (only from `fetching`); False when the
    article was no longer ours.

    One UPDATE of the row with everything (text, story, content hash, topic ids): on PostgreSQL
    every update writes a new version of the row, with new entries in its indexes (hundreds in the
    GIN index of words and topics), on SQLite the full-text trigger re-indexes a changed text, so
    the pipeline writes the row once.
    """
    names = tuple(sorted(fields))
    params = {"article_id": article_id, "now": now, **{f"v_{n}": fields[n] for n in names}}
    return session.execute(_complete_statement(names), params).first() is not None


@cache
def _complete_statement(names: tuple[str, ...]):  # noqa: ANN202
    return (
        update(Article.__table__)
        .where(_A.id == bindparam("article_id"), _A.state == ArticleState.fetching.value)
        .values(
            state=ArticleState.processed.value,
            state_changed_at=bindparam("now"),
            processed_at=bindparam("now"),
            error=None,
            **{n: bindparam(f"v_{n}") for n in names},
        )
        .returning(_A.id)
    )


@dataclass(frozen=True)
class Processed:
    """A cleaned article as the story and topic stages read it, before its row is written
    (the pipeline writes the row once, with its story: see `complete_article`)."""

    id: int
    feed_id: int
    url: str | None
    canonical_url: str | None
    title: str | None
    feed_title: str | None
    text: str | None
    site_name: str | None
    wire_source: str | None
    language: str | None
    word_count: int | None
    published: datetime | None
    processed_at: datetime


def get_article(*, session: Session, article_id: int) -> Article | None:
    return session.get(Article, article_id)


def stuck_articles(
    *, session: Session, now: datetime, stuck_after: int, limit: int = 1000
) -> list[int]:
    """Articles left in an unfinished state longer than `stuck_after` seconds (lost messages,
    killed workers): the sweep hands them out again."""
    cutoff = now - timedelta(seconds=stuck_after)
    return list(
        session.execute(
            select(Article.id)
            .where(Article.state.in_(UNFINISHED), Article.state_changed_at < cutoff)
            .order_by(Article.id)
            .limit(limit)
        ).scalars()
    )


def count_unfinished(*, session: Session) -> int:
    return int(
        session.execute(
            select(func.count()).select_from(Article).where(Article.state.in_(UNFINISHED))
        ).scalar_one()
    )


def unfinished_ids(*, session: Session, limit: int = 10000) -> list[int]:
    return list(
        session.execute(
            select(Article.id)
            .where(Article.state.in_(UNFINISHED))
            .order_by(Article.id)
            .limit(limit)
        ).scalars()
    )


def count_by_state(*, session: Session) -> dict[str, int]:
    rows = session.execute(select(Article.state, func.count()).group_by(Article.state)).all()
    return {state: int(n) for state, n in rows}


def list_articles(
    *, session: Session, feed_id: int | None = None, state: str | None = None, limit: int = 50
) -> list[Article]:
    query = select(Article).order_by(Article.id.desc()).limit(limit)
    if feed_id is not None:
        query = query.where(Article.feed_id == feed_id)
    if state is not None:
        query = query.where(Article.state == state)
    return list(session.execute(query).scalars())


def recent_entry_dates(*, session: Session, feed_id: int, limit: int = 20) -> list[datetime]:
    """Publication dates of the feed's newest entries (for the adaptive polling interval)."""
    return list(
        session.execute(
            select(Article.feed_published)
            .where(Article.feed_id == feed_id, Article.feed_published.is_not(None))
            .order_by(Article.feed_published.desc())
            .limit(limit)
        ).scalars()
    )


def touch_articles(*, session: Session, article_ids: list[int], now: datetime) -> None:
    """Restart the stuck clock of re-dispatched articles, so one sweep does not resend them."""
    if article_ids:
        session.execute(
            update(Article)
            .where(Article.id.in_(article_ids), Article.state.in_(UNFINISHED))
            .values(state_changed_at=now)
            .execution_options(synchronize_session=False)
        )
