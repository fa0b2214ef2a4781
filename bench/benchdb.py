"""Throwaway migrated databases for benchmarks: a SQLite file in a temporary folder, or a new
PostgreSQL database (trust auth on 127.0.0.1) that is dropped afterwards, whatever happens."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from storage.db import get_engine
from storage.migrate import upgrade

PG_ADMIN = os.environ.get("WIREWATCH_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def temp_database(kind: str, *, folder: Path | None = None, migrate: bool = True) -> Iterator[str]:
    """Yield the SQLAlchemy URL of a new database at the current schema ("sqlite" or "postgres")."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="ww-bench-", dir=folder) as tmp:
            url = f"sqlite:///{Path(tmp) / 'wirewatch.db'}"
            if migrate:
                upgrade(url)
            try:
                yield url
            finally:
                get_engine(url).dispose()
        return
    if kind != "postgres":
        raise ValueError(f"unknown database kind {kind!r}")
    name = f"ww_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    url = f"{base}/{name}"
    try:
        if migrate:
            upgrade(url)
        yield url
    finally:
        get_engine(url).dispose()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def libpq_url(url: str) -> str:
    """The psycopg (libpq) form of a SQLAlchemy PostgreSQL URL."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def sqlite_file(url: str) -> Path:
    return Path(url.split(":///", 1)[1])
