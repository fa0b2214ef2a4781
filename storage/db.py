"""Engine and sessions: the same code on SQLite (WAL, busy timeout) and PostgreSQL."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import event, exc
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

_engines: list[Engine] = []
# A pooled PostgreSQL connection idle longer than this is pinged before use (a server restart or
# a dropped connection then costs nothing); one back in the pool for less was working moments
# ago, and a busy worker takes one every few milliseconds: pinging those would add a round trip
# to every transaction. A server lost within that second fails one transaction, which is
# retried like any transient database error (worker.tasks.TRANSIENT).
PING_AFTER_IDLE = 1.0


def _forget_connections_after_fork() -> None:
    """A forked child (Celery's prefork pool) must not use its parent's pooled connections."""
    for engine in _engines:
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_connections_after_fork)


def get_engine(database_url: str, *, readonly: bool = False) -> Engine:
    """One engine per URL and process (connection pool). On SQLite, `readonly` sessions begin
    deferred, so readers never wait for the write lock (WAL lets them read alongside a writer)."""
    engine = _make_engine(database_url, readonly and database_url.startswith("sqlite"))
    if engine not in _engines:
        _engines.append(engine)
    return engine


@lru_cache(maxsize=8)
def _make_engine(database_url: str, readonly: bool) -> Engine:
    if database_url.startswith("sqlite"):
        engine = create_engine(
            database_url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=16,
            max_overflow=16,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            # autocommit off in the driver; we issue BEGIN IMMEDIATE ourselves so that a writer
            # takes the lock up front and never fails half-way with "database is locked".
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # noqa: ANN001
            conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

        return engine
    engine = create_engine(database_url, pool_size=10, max_overflow=20)
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """pool_pre_ping, for connections idle longer than PING_AFTER_IDLE only."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn, record):  # noqa: ANN001
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn, record, _proxy):  # noqa: ANN001
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since <= PING_AFTER_IDLE:
            return  # new, or working a moment ago
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as error:  # the pool replaces it with a new connection
            raise exc.DisconnectionError(str(error)) from error


@contextmanager
def session_scope(database_url: str, *, readonly: bool = False) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on error. A `readonly`
    session must not write (on SQLite a write there could fail against a concurrent writer)."""
    engine = get_engine(database_url, readonly=readonly)
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def pg_ints(values: Iterable[int]) -> str:
    """A PostgreSQL array literal of integers, for a `%(name)s::bigint[]` parameter: one string
    for the driver to send, where a list costs it ~60 us more (it checks every element)."""
    return "{" + ",".join(str(int(v)) for v in values) + "}"


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def dialect_insert(session: Session):  # noqa: ANN201
    """`insert` with `on_conflict_do_nothing` for the session's database."""
    return dialect_insert_for(is_postgres(session))


def dialect_insert_for(postgres: bool):  # noqa: ANN201
    return pg_insert if postgres else sqlite_insert
