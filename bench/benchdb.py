"""Throwaway migrated databases for benchmarks: a SQLite file in a temporary folder, or a new
PostgreSQL database (trust auth on 127.0.0.1) that is dropped afterwards, whatever happens."""

from __future__ import annotations

import os
import shutil
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
def temp_database(
    kind: str,
    *,
    folder: Path | str | None = None,
    migrate: bool = True,
    prefix: str = "ww_bench_",
    keep: bool = False,
) -> Iterator[str]:
    """Yield the SQLAlchemy URL of a new database at the current schema ("sqlite" or "postgres"),
    removed afterwards unless `keep` (then its URL is printed). PostgreSQL databases are named
    `prefix` + a random suffix."""
    if kind == "sqlite":
        tmp = tempfile.mkdtemp(prefix="ww-bench-", dir=folder)
        url = f"sqlite:///{Path(tmp) / 'wirewatch.db'}"
        try:
            if migrate:
                upgrade(url)
            yield url
        finally:
            get_engine(url).dispose()
            _forget(url, keep, lambda: shutil.rmtree(tmp, ignore_errors=True))
        return
    if kind != "postgres":
        raise ValueError(f"unknown database kind {kind!r}")
    name = f"{prefix}{uuid.uuid4().hex[:12]}"
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
        _forget(url, keep, lambda: _drop(name))


def _forget(url: str, keep: bool, remove) -> None:  # noqa: ANN001
    if keep:
        print(f"  kept: --url {url}")
    else:
        remove()


def _drop(name: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def libpq_url(url: str) -> str:
    """The psycopg (libpq) form of a SQLAlchemy PostgreSQL URL."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def sqlite_file(url: str) -> Path:
    return Path(url.split(":///", 1)[1])
