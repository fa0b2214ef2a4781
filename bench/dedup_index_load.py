"""Bulk-load synthetic processed articles into the dedup index: one story row per STORY_SIZE
articles, each article with BANDS random 63-bit band keys plus a content, a URL and a title key
(the shape of worker.assign.dedup_keys), created inside the dedup window.

Bulk loading the way one would restore such an index: the secondary indexes of dedup_key (on
PostgreSQL its primary key too) are dropped, the rows go in (PostgreSQL: COPY; SQLite: one
executemany per chunk, sorted by key so that the WITHOUT ROWID B-tree is appended to rather
than split at random), and the indexes are rebuilt from their own definitions, so the schema
is exactly the migrated one afterwards. Stories and articles are loaded in chunks; the keys of
the whole batch are generated first (sorting them needs all of them, about 40 bytes a row) in
this process, which runs on its own (`load_in_child`) so that the measuring process's memory
reflects only the work it measures.
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
KEY_BATCH = 1_000_000  # key rows per executemany / COPY batch
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
    """(stories, articles, stamps) rows for article ids first .. first+n-1 (n a multiple of
    STORY_SIZE), stories numbered from story_base + 1; stamps[i] is article i's created_at."""
    rng = np.random.default_rng(seed + first)
    ids = np.arange(first, first + n)
    ages = rng.uniform(0, window_days * 0.9 * 86400, n)
    moments = [now - timedelta(seconds=float(a)) for a in ages]
    stamps = [_stamp(m, kind) for m in moments]
    story_of = story_base + np.arange(n) // STORY_SIZE + 1
    stories = [
        (int(story_of[i]), stamps[i], stamps[i], STORY_SIZE) for i in range(0, n, STORY_SIZE)
    ]
    articles = [
        (int(a), 1, f"e{a}", "processed", stamps[i], 0, stamps[i], int(story_of[i]))
        for i, a in enumerate(ids)
    ]
    micros = [(m - _PG_EPOCH) // timedelta(microseconds=1) for m in moments]
    return stories, articles, stamps, micros


def _key_batches(first: int, n: int, *, seed: int):
    """(keys, article offsets, kinds) of articles first .. first+n-1 as numpy arrays, sorted by
    key, KEY_BATCH rows at a time (offset i is article first + i)."""
    rng = np.random.default_rng(seed + first + 1)
    per = len(KINDS)
    keys = rng.integers(0, 2**63 - 1, size=n * per, dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    row = order // per
    kinds = KINDS[order % per]
    del order
    for lo in range(0, len(keys), KEY_BATCH):
        yield keys[lo : lo + KEY_BATCH], row[lo : lo + KEY_BATCH], kinds[lo : lo + KEY_BATCH]


_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_PG_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags 0, no extension
_PG_KEY_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("key_len", ">i4"),
        ("key", ">i8"),
        ("article_len", ">i4"),
        ("article_id", ">i8"),
        ("created_len", ">i4"),
        ("created_at", ">i8"),  # timestamptz: microseconds since 2000-01-01 UTC
        ("kind_len", ">i4"),
        ("kind", ">i4"),
    ]
)


def _pg_binary_keys(keys, article_ids, micros, kinds) -> bytes:  # noqa: ANN001
    """Rows of dedup_key (key, article_id, created_at, kind) in COPY BINARY format, built by
    numpy (write_row per row would cost more than the server's own work)."""
    rows = np.empty(len(keys), dtype=_PG_KEY_ROW)
    rows["fields"] = 4
    rows["key_len"], rows["article_len"], rows["created_len"], rows["kind_len"] = 8, 8, 8, 4
    rows["key"], rows["article_id"], rows["created_at"], rows["kind"] = (
        keys,
        article_ids,
        micros,
        kinds,
    )
    return rows.tobytes()


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


def _secondary_indexes(conn, kind: str) -> list[tuple[str, str]]:  # noqa: ANN001
    """(name, CREATE statement) of dedup_key's indexes other than its primary key."""
    if kind == "sqlite":
        return conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'dedup_key' "
            "AND sql IS NOT NULL"
        ).fetchall()
    return conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'dedup_key' "
        "AND indexname <> 'dedup_key_pkey'"
    ).fetchall()


def load(url: str, *, count: int, now: datetime, window_days: float, seed: int) -> None:
    """Add `count` articles (with their stories and keys) after those already in `url`."""
    kind = "sqlite" if url.startswith("sqlite") else "postgres"
    ensure_feed(url)
    article_base, story_base = _max_ids(url)
    count -= count % STORY_SIZE
    stamps: list[str] = []  # created_at of each loaded article, as text (SQLite)
    micros: list[int] = []  # and as PostgreSQL's binary timestamptz

    def chunks():  # noqa: ANN202
        for lo in range(0, count, CHUNK):
            n = min(CHUNK, count - lo)
            stories, articles, chunk_stamps, chunk_micros = _chunk_rows(
                article_base + lo + 1,
                n,
                story_base=story_base + lo // STORY_SIZE,
                now=now,
                window_days=window_days,
                kind=kind,
                seed=seed,
            )
            stamps.extend(chunk_stamps)
            micros.extend(chunk_micros)
            yield stories, articles

    if kind == "sqlite":
        conn = sqlite3.connect(sqlite_file(url), isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-1000000")
        try:
            for stories, articles in chunks():
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
                conn.execute("COMMIT")
            indexes = _secondary_indexes(conn, kind)
            conn.execute("BEGIN")
            for name, _ in indexes:
                conn.execute(f"DROP INDEX {name}")
            for keys, rows, kinds in _key_batches(article_base + 1, count, seed=seed):
                conn.executemany(
                    "INSERT INTO dedup_key (key, article_id, created_at, kind) VALUES (?, ?, ?, ?)",
                    zip(
                        keys.tolist(),
                        (rows + article_base + 1).tolist(),
                        [stamps[i] for i in rows.tolist()],
                        kinds.tolist(),
                        strict=True,
                    ),
                )
            for _, create in indexes:
                conn.execute(create)
            conn.execute("COMMIT")
            conn.execute("PRAGMA analysis_limit=1000")
            conn.execute("ANALYZE")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        return
    with psycopg.connect(libpq_url(url)) as conn:
        for stories, articles in chunks():
            with conn.cursor() as cur:
                for sql, rows in (
                    ("COPY story (id, first_seen_at, updated_at, member_count)", stories),
                    (
                        "COPY article (id, feed_id, entry_key, state, state_changed_at, attempts, "
                        "created_at, story_id)",
                        articles,
                    ),
                ):
                    with cur.copy(f"{sql} FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
            conn.commit()
        indexes = _secondary_indexes(conn, kind)
        (pkey,) = conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'dedup_key_pkey'"
        ).fetchone()
        conn.execute("ALTER TABLE dedup_key DROP CONSTRAINT dedup_key_pkey")
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {name}")
        moments = np.array(micros, dtype=np.int64)
        with conn.cursor() as cur:
            copy_sql = (
                "COPY dedup_key (key, article_id, created_at, kind) FROM STDIN (FORMAT BINARY)"
            )
            with cur.copy(copy_sql) as copy:
                copy.write(_PG_COPY_HEADER)
                for keys, rows, kinds in _key_batches(article_base + 1, count, seed=seed):
                    copy.write(_pg_binary_keys(keys, rows + article_base + 1, moments[rows], kinds))
                copy.write(b"\xff\xff")  # end of data
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute(f"ALTER TABLE dedup_key ADD CONSTRAINT dedup_key_pkey {pkey}")
        for _, create in indexes:
            conn.execute(create)
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
