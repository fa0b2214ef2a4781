"""Feeds: adding, listing, claiming due feeds atomically, and recording poll outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from storage.db import dialect_insert, is_postgres
from storage.models import Article, Feed, utcnow


class DuplicateFeedError(ValueError):
    """The feed URL is already subscribed."""


@dataclass(frozen=True)
class FeedStatus:
    feed: Feed
    entries: int


def add_feed(*, session: Session, url: str, title: str | None = None) -> Feed:
    """Insert a feed, due now. Raises DuplicateFeedError when the URL is already there."""
    feed = Feed(url=url, title=title)
    session.add(feed)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise DuplicateFeedError(f"already subscribed: {url}") from None
    return feed


def get_feed(*, session: Session, feed_id: int) -> Feed | None:
    return session.get(Feed, feed_id)


def get_feed_by_url(*, session: Session, url: str) -> Feed | None:
    return session.execute(select(Feed).where(Feed.url == url)).scalars().first()


def existing_urls(*, session: Session) -> set[str]:
    return set(session.execute(select(Feed.url)).scalars())


def list_feeds(*, session: Session) -> list[FeedStatus]:
    """Every feed with its number of stored entries, oldest first."""
    counts = select(Article.feed_id, func.count().label("n")).group_by(Article.feed_id).subquery()
    rows = session.execute(
        select(Feed, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.feed_id == Feed.id)
        .order_by(Feed.id)
    ).all()
    return [FeedStatus(feed=row[0], entries=int(row[1])) for row in rows]


def remove_feed(*, session: Session, feed_id: int) -> bool:
    feed = session.get(Feed, feed_id)
    if feed is None:
        return False
    session.delete(feed)
    return True


def claim_due_feeds(
    *,
    session: Session,
    now: datetime,
    lease: int,
    limit: int | None = 500,
    all_enabled: bool = False,
) -> list[int]:
    """Atomically claim feeds due at `now` by pushing their `next_poll_at` one lease ahead.

    Only one caller can claim a feed: on PostgreSQL the candidate rows are locked with
    `FOR UPDATE SKIP LOCKED`; SQLite serialises writers. A claimed feed whose poll never reports
    back becomes due again when the lease runs out, so a lost message or a killed worker only
    delays it. `all_enabled` claims every enabled feed (used by `run --once`).
    """
    lease_until = now + timedelta(seconds=lease)
    candidates = select(Feed.id).where(Feed.disabled.is_(False))
    if not all_enabled:
        candidates = candidates.where(Feed.next_poll_at <= now)
    candidates = candidates.order_by(Feed.next_poll_at)
    if limit is not None:
        candidates = candidates.limit(limit)
    if is_postgres(session):
        candidates = candidates.with_for_update(skip_locked=True)
    rows = session.execute(
        update(Feed)
        .where(Feed.id.in_(candidates.scalar_subquery()))
        .values(next_poll_at=lease_until)
        .returning(Feed.id),
        execution_options={"synchronize_session": False},
    ).all()
    return sorted(r[0] for r in rows)


def record_poll_success(
    *,
    session: Session,
    feed_id: int,
    now: datetime,
    next_poll_at: datetime,
    interval: int,
    not_modified: bool,
    etag: str | None = None,
    last_modified: str | None = None,
    title: str | None = None,
    site_url: str | None = None,
    hub_url: str | None = None,
    ttl_minutes: int | None = None,
    format: str | None = None,
) -> None:
    """A poll worked: reset the error state and schedule the next one."""
    values: dict = {
        "last_polled_at": now,
        "last_success_at": now,
        "next_poll_at": next_poll_at,
        "poll_interval": interval,
        "error_count": 0,
        "first_error_at": None,
        "last_error": None,
    }
    if not not_modified:
        values.update(etag=etag, last_modified=last_modified, ttl_minutes=ttl_minutes)
        if format:
            values["format"] = format
        if hub_url:
            values["hub_url"] = hub_url
        if site_url:
            values["site_url"] = site_url
    session.execute(update(Feed).where(Feed.id == feed_id).values(**values))
    if title:
        # A title the user set by hand is kept; only fill an empty one.
        session.execute(
            update(Feed).where(Feed.id == feed_id, Feed.title.is_(None)).values(title=title)
        )


def record_poll_failure(
    *,
    session: Session,
    feed_id: int,
    now: datetime,
    error: str,
    next_poll_at: datetime,
    disable_after: timedelta,
) -> Feed | None:
    """A poll failed: count it, keep the reason, and disable a feed failing for too long."""
    feed = session.get(Feed, feed_id, with_for_update=is_postgres(session))
    if feed is None:
        return None
    feed.last_polled_at = now
    feed.error_count += 1
    feed.first_error_at = feed.first_error_at or now
    feed.last_error = error[:2000]
    feed.next_poll_at = next_poll_at
    if now - feed.first_error_at >= disable_after:
        feed.disabled = True
        days = disable_after.total_seconds() / 86400
        feed.disabled_reason = f"failing for more than {days:g} days; last error: {feed.last_error}"
    session.add(feed)
    return feed


def set_feed_enabled(*, session: Session, feed_id: int, enabled: bool) -> Feed | None:
    feed = session.get(Feed, feed_id)
    if feed is None:
        return None
    feed.disabled = not enabled
    if enabled:
        feed.disabled_reason = None
        feed.error_count = 0
        feed.first_error_at = None
        feed.next_poll_at = utcnow()
    session.add(feed)
    return feed


def count_polled_since(*, session: Session, feed_ids: list[int], since: datetime) -> int:
    """How many of these feeds have finished a poll (success or failure) at or after `since`."""
    if not feed_ids:
        return 0
    return int(
        session.execute(
            select(func.count())
            .select_from(Feed)
            .where(Feed.id.in_(feed_ids), Feed.last_polled_at >= since)
        ).scalar_one()
    )


def add_feeds(*, session: Session, feeds: list[tuple[str, str | None]]) -> int:
    """Insert many feeds at once, skipping URLs already there; returns how many were added."""
    if not feeds:
        return 0
    insert = dialect_insert(session)
    now = utcnow()
    rows = [
        {
            "url": url,
            "title": title,
            "next_poll_at": now,
            "created_at": now,
            "error_count": 0,
            "disabled": False,
        }
        for url, title in feeds
    ]
    result = session.execute(
        insert(Feed).values(rows).on_conflict_do_nothing(index_elements=["url"]).returning(Feed.id)
    )
    return len(result.all())
