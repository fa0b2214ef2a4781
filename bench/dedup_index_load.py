"""Bulk-load synthetic processed articles into the dedup index: one story row per STORY_SIZE
articles, each article with BANDS random 63-bit band keys plus a content, a URL and a title key
(the shape of worker.assign.dedup_keys), created inside the dedup window.

PostgreSQL through COPY, SQLite through executemany in large transactions, in chunks so that the
loader's memory stays bounded. Runs in its own process (`load_in_child`), so that the measuring
process's memory reflects only the work it measures.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg

from bench.benchdb import libpq_url, sqlite_file
from storage.models import KeyKind
from worker.dedup import BANDS

CHUNK = 10_000  # articles per transaction
STORY_SIZE = 4  # articles per synthetic story
FEED_URL = "http://outlet.invalid/feed.xml"
KINDS = np.array(
    [KeyKind.band.value] * BANDS + [KeyKind.content.value, KeyKind.url.value, KeyKind.title.value],
    dtype=np.int64,
)


def _stamp(moment: datetime, kind: str) -> str:
    """A timestamp as the project's UTCDateTime stores it (naive UTC text on SQLite)."""
    if kind == "sqlite":
        return moment.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return moment.isoformat()


def _chunk_rows(
    first: int, n: int, *, story_base: int, now: datetime, window_days: float, kind: str, seed: int
):
    """(stories, articles, keys) rows for article ids first .. first+n-1 (n a multiple of
    STORY_SIZE), stories numbered from story_base + 1."""
    rng = np.random.default_rng(seed + first)
    ids = np.arange(first, first + n)
    ages = rng.uniform(0, window_days * 0.9 * 86400, n)
    stamps = [_stamp(now - timedelta(seconds=float(a)), kind) for a in ages]
    story_of = story_base + np.arange(n) // STORY_SIZE + 1
    stories = [
        (int(story_of[i]), stamps[i], stamps[i], STORY_SIZE) for i in range(0, n, STORY_SIZE)
    ]
    articles = [
        (int(a), 1, f"e{a}", "processed", stamps[i], 0, stamps[i], int(story_of[i]))
        for i, a in enumerate(ids)
    ]
    keys = rng.integers(0, 2**63 - 1, size=(n, len(KINDS)), dtype=np.int64)
    per = len(KINDS)
    key_rows = zip(
        keys.ravel().tolist(),
        np.tile(KINDS, n).tolist(),
        np.repeat(ids, per).tolist(),
        [s for s in stamps for _ in range(per)],
        strict=True,
    )
    return stories, articles, key_rows


def ensure_feed(url: str) -> None:
    """The one feed every synthetic article belongs to (id 1)."""
    now = datetime.now(UTC)
    if url.startswith("sqlite"):
        with sqlite3.connect(sqlite_file(url)) as conn:
            conn.execute(
                "INSERT OR IGNORE INTO feed (id, url, created_at, next_poll_at, error_count, "
                "disabled) VALUES (1, ?, ?, ?, 0, 0)",
                (FEED_URL, _stamp(now, "sqlite"), _stamp(now, "sqlite")),
            )
        return
    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute(
            "INSERT INTO feed (id, url, created_at, next_poll_at, error_count, disabled) "
            "VALUES (1, %s, %s, %s, 0, false) ON CONFLICT DO NOTHING",
            (FEED_URL, now, now),
        )


def _max_ids(url: str) -> tuple[int, int]:
    query = (
        "SELECT (SELECT coalesce(max(id), 0) FROM article), "
        "(SELECT coalesce(max(id), 0) FROM story)"
    )
    if url.startswith("sqlite"):
        with sqlite3.connect(sqlite_file(url)) as conn:
            return conn.execute(query).fetchone()
    with psycopg.connect(libpq_url(url)) as conn:
        return conn.execute(query).fetchone()


def load(url: str, *, count: int, now: datetime, window_days: float, seed: int) -> None:
    """Add `count` articles (with their stories and keys) after those already in `url`."""
    kind = "sqlite" if url.startswith("sqlite") else "postgres"
    ensure_feed(url)
    article_base, story_base = _max_ids(url)
    count -= count % STORY_SIZE

    def chunks():  # noqa: ANN202
        for lo in range(0, count, CHUNK):
            n = min(CHUNK, count - lo)
            yield _chunk_rows(
                article_base + lo + 1,
                n,
                story_base=story_base + lo // STORY_SIZE,
                now=now,
                window_days=window_days,
                kind=kind,
                seed=seed,
            )

    if kind == "sqlite":
        conn = sqlite3.connect(sqlite_file(url), isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-1000000")
        try:
            for stories, articles, keys in chunks():
                conn.execute("BEGIN")
                conn.executemany(
                    "INSERT INTO story (id, first_seen_at, updated_at, member_count) "
                    "VALUES (?, ?, ?, ?)",
                    stories,
                )
                conn.executemany(
                    "INSERT INTO article (id, feed_id, entry_key, state, state_changed_at, "
                    "attempts, created_at, story_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    articles,
                )
                conn.executemany(
                    "INSERT INTO dedup_key (key, kind, article_id, created_at) VALUES (?, ?, ?, ?)",
                    keys,
                )
                conn.execute("COMMIT")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        return
    with psycopg.connect(libpq_url(url)) as conn:
        for stories, articles, keys in chunks():
            with conn.cursor() as cur:
                for sql, rows in (
                    ("COPY story (id, first_seen_at, updated_at, member_count)", stories),
                    (
                        "COPY article (id, feed_id, entry_key, state, state_changed_at, attempts, "
                        "created_at, story_id)",
                        articles,
                    ),
                    ("COPY dedup_key (key, kind, article_id, created_at)", keys),
                ):
                    with cur.copy(f"{sql} FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
            conn.commit()
        # What autovacuum does on a live database: sequences past the loaded ids, fresh stats.
        conn.execute("SELECT setval('story_id_seq', (SELECT max(id) FROM story))")
        conn.execute("SELECT setval('article_id_seq', (SELECT max(id) FROM article))")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE story, article, dedup_key")


def load_in_child(url: str, **kwargs) -> None:  # noqa: ANN003
    """`load` in a fresh process (spawned: nothing of this process's memory is inherited)."""
    ctx = multiprocessing.get_context("spawn")
    proc = ctx.Process(target=load, args=(url,), kwargs=kwargs)
    proc.start()
    proc.join()
    if proc.exitcode != 0:
        raise RuntimeError(f"bulk load failed (exit code {proc.exitcode})")
