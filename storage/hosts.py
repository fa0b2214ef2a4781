"""Hosts: politeness shared by every worker through the database (Retry-After, Crawl-delay)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlmodel import Session

from storage.db import dialect_insert
from storage.models import Host


def blocked_until(*, session: Session, host: str) -> datetime | None:
    """When the host may be asked again, or None when it may be asked now."""
    return session.execute(select(Host.blocked_until).where(Host.name == host)).scalar()


def politeness_state(*, session: Session, host: str):  # noqa: ANN201
    """(blocked_until, robots_fetched_at, crawl_delay) of the host, or None: one small row,
    without the robots.txt text."""
    return session.execute(_POLITENESS, {"host": host}).first()


# Built once: every article page runs it (building a statement costs more than running it).
_POLITENESS = select(Host.blocked_until, Host.robots_fetched_at, Host.crawl_delay).where(
    Host.name == bindparam("host")
)


def block_host(*, session: Session, host: str, until: datetime) -> None:
    """Record that the host asked us to wait until `until` (the later of old and new wins)."""
    _upsert(session, host, {"blocked_until": until})
    row = session.get(Host, host)
    if row is not None and (row.blocked_until is None or row.blocked_until < until):
        row.blocked_until = until
        session.add(row)


def block_host_for(*, session: Session, host: str, now: datetime, seconds: float) -> datetime:
    until = now + timedelta(seconds=seconds)
    block_host(session=session, host=host, until=until)
    return until


def _upsert(session: Session, host: str, values: dict) -> None:
    insert = dialect_insert(session)
    session.execute(
        insert(Host).values(name=host, **values).on_conflict_do_nothing(index_elements=["name"])
    )


def cached_robots(*, session: Session, host: str, fresh_after: datetime) -> str | None:
    """The host's cached robots.txt (possibly empty) if fetched after `fresh_after`, else None."""
    row = session.execute(
        select(Host.robots_txt, Host.robots_fetched_at).where(Host.name == host)
    ).first()
    if row is None or row.robots_fetched_at is None or row.robots_fetched_at < fresh_after:
        return None
    return row.robots_txt or ""


def store_robots(
    *, session: Session, host: str, robots_txt: str, crawl_delay: float | None, now: datetime
) -> None:
    _upsert(session, host, {})
    row = session.get(Host, host)
    row.robots_txt = robots_txt[: 512 * 1024]
    row.robots_fetched_at = now
    row.crawl_delay = crawl_delay
    session.add(row)


def take_turn(*, session: Session, host: str, now: datetime) -> float:
    """For a host with a Crawl-delay: seconds to wait before our next request (0: go now, and
    the turn is taken). Hosts without one are never delayed."""
    row = session.get(Host, host, with_for_update=True)
    if row is None or not row.crawl_delay:
        return 0.0
    if row.last_request_at is not None:
        wait = (row.last_request_at + timedelta(seconds=row.crawl_delay) - now).total_seconds()
        if wait > 0:
            return wait
    row.last_request_at = now
    session.add(row)
    return 0.0
