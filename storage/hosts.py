"""Hosts: politeness shared by every worker through the database (Retry-After, Crawl-delay)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from storage.db import dialect_insert
from storage.models import Host


def blocked_until(*, session: Session, host: str) -> datetime | None:
    """When the host may be asked again, or None when it may be asked now."""
    return session.execute(select(Host.blocked_until).where(Host.name == host)).scalar()


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
