"""PostgreSQL pool: a connection idle longer than PING_AFTER_IDLE is pinged before use and replaced
when dead; one used a moment ago is handed out without a round trip."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from storage import db
from storage.db import get_engine, session_scope


def backend_pid(url: str) -> int:
    with session_scope(url) as session:
        return session.execute(text("SELECT pg_backend_pid()")).scalar_one()


def age_pool(url: str, seconds: float) -> None:
    """Make every idle pooled connection look `seconds` older."""
    for record in get_engine(url).pool._pool.queue:  # noqa: SLF001
        record.info["idle_since"] -= seconds


@pytest.fixture
def pings(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    dialect = get_engine(pg_url).dialect
    seen: list[int] = []
    original = dialect.do_ping

    def counted(dbapi_conn):  # noqa: ANN001, ANN202
        seen.append(1)
        return original(dbapi_conn)

    monkeypatch.setattr(dialect, "do_ping", counted)
    return seen


def test_a_connection_used_a_moment_ago_is_not_pinged(pg_url: str, pings: list[int]) -> None:
    first = backend_pid(pg_url)
    for _ in range(5):
        assert backend_pid(pg_url) == first  # the same pooled connection, each time
    assert pings == []


def test_an_idle_connection_is_pinged_and_a_dead_one_replaced(
    pg_url: str, pings: list[int]
) -> None:
    first = backend_pid(pg_url)
    age_pool(pg_url, db.PING_AFTER_IDLE + 1)
    assert backend_pid(pg_url) == first  # alive: pinged and kept
    assert len(pings) == 1

    outside = create_engine(pg_url, poolclass=NullPool)
    with outside.connect() as other:  # the server drops the pooled connection
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        other.commit()
    time.sleep(0.2)
    age_pool(pg_url, db.PING_AFTER_IDLE + 1)
    replaced = backend_pid(pg_url)  # no error reaches the caller
    assert replaced != first
    assert len(pings) >= 2
