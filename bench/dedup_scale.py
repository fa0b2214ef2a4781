"""Dedup index speed curve: fingerprint + lock + candidate lookup + key insert per article, as the
number of articles in the window grows, on SQLite and PostgreSQL.

    .venv/bin/python -m bench.dedup_scale [--sizes 10000,100000] [--full] [--samples 300]
                                          [--databases sqlite,postgres]

The index is filled with synthetic articles (bench/dedup_index_load.py: 64 band keys + content,
URL and title keys each, 67 rows per article). Then each measured article, a real ~800-word text
of the extraction benchmark with its words shuffled (so that its keys are its own), has 0-3
planted candidates (articles sharing 16 of its band keys, one also its title key) and goes
through exactly what worker.assign.assign_story does with the index, in one transaction:
fingerprint, dedup_keys, lock_keys, find_candidates, add_keys, commit. Reported per size:
p50/p95 of the stage (fingerprint..add_keys) and of the whole transaction, the size of the
dedup_key table with its indexes, and this process's resident memory (the bulk loads run in a
child process). `--full` adds 1M articles (67M key rows, ~10 GB on PostgreSQL).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table
from sqlalchemy import text as sql

from bench.benchdb import sqlite_file, temp_database
from bench.dedup import corpora_path
from bench.dedup_index_load import load_in_child
from storage import stories as story_store
from storage.db import session_scope
from storage.models import Article, Story
from worker.assign import dedup_keys
from worker.dedup import fingerprint

WINDOW_DAYS = 14.0
PLANTED_BANDS = 16
WARMUP = 20


@dataclass
class Point:
    database: str
    articles: int
    stage_p50: float
    stage_p95: float
    total_p50: float
    total_p95: float
    fingerprint_p50: float
    lookup_p50: float
    cpu_p50: float
    table_mb: float
    rss_mb: float
    load_s: float
    candidates_ok: bool
    planted_key: int


def sample_text(corpora: Path, *, words: int = 800) -> str:
    """The extraction-benchmark article body closest to `words` words."""
    truth = json.loads((corpora / "article-extraction-benchmark" / "ground-truth.json").read_text())
    bodies = [item["articleBody"] for item in truth.values()]
    return min(bodies, key=lambda b: abs(len(b.split()) - words))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def table_mb(url: str) -> float:
    """dedup_key with its indexes, in MB."""
    with session_scope(url) as s:
        if url.startswith("sqlite"):
            n = s.execute(
                sql(
                    "SELECT sum(pgsize) FROM dbstat WHERE name IN "
                    "('dedup_key', 'ix_dedup_key_key_created', 'ix_dedup_key_article_id')"
                )
            ).scalar()
        else:
            n = s.execute(sql("SELECT pg_total_relation_size('dedup_key')")).scalar()
    return (n or 0) / 1e6


def explain_lookup(url: str, *, keys: list[int]) -> str:
    """The plan of find_candidates' query for `keys` (PostgreSQL: with timings and buffers)."""
    since = datetime.now(UTC) - timedelta(days=WINDOW_DAYS)
    query = (
        "SELECT dedup_key.article_id, dedup_key.kind, dedup_key.key, article.story_id "
        "FROM dedup_key JOIN article ON article.id = dedup_key.article_id "
        f"WHERE dedup_key.key IN ({', '.join(str(k) for k in keys)}) "
        "AND dedup_key.created_at >= :since AND dedup_key.article_id != 0 "
        "AND article.story_id IS NOT NULL"
    )
    with session_scope(url) as s:
        if url.startswith("sqlite"):
            stamp = since.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
            rows = s.execute(sql("EXPLAIN QUERY PLAN " + query), {"since": stamp}).all()
            return "\n".join(str(r[-1]) for r in rows)
        rows = s.execute(sql("EXPLAIN (ANALYZE, BUFFERS) " + query), {"since": since}).all()
        return "\n".join(r[0] for r in rows)


def _new_article(session, *, key: str, now: datetime, story: bool) -> Article:  # noqa: ANN001
    story_id = None
    if story:
        st = Story(first_seen_at=now, updated_at=now)
        session.add(st)
        session.flush()
        story_id = st.id
    a = Article(feed_id=1, entry_key=key, state="processed", story_id=story_id, processed_at=now)
    session.add(a)
    session.flush()
    return a


def measure(url: str, *, base_text: str, samples: int, seed: int) -> dict:
    """Time `samples` articles (after WARMUP unreported ones) against the current index."""
    words = base_text.split()
    rng = random.Random(seed)
    stage, total, fp_ms, lookup_ms, cpu, ok = [], [], [], [], [], True
    for j in range(samples + WARMUP):
        rng.shuffle(words)
        text, title = " ".join(words), f"Sample report {seed}-{j} on the regional budget vote"
        planted = j % 4
        now = datetime.now(UTC)
        fp = fingerprint(text, title=title)
        keys = dedup_keys(fp, text=text, canonical_url=f"http://o.invalid/{seed}/{j}", title=title)
        bands = [k for kind, k in keys if kind == 0]
        title_keys = [(kind, k) for kind, k in keys if kind == 3]
        with session_scope(url) as s:
            for p in range(planted):
                other = _new_article(s, key=f"planted-{seed}-{j}-{p}", now=now, story=True)
                shared = [(0, k) for k in rng.sample(bands, PLANTED_BANDS)]
                story_store.add_keys(
                    session=s,
                    article_id=other.id,
                    keys=shared + (title_keys if p == 0 else []),
                    now=now,
                )
            article_id = _new_article(s, key=f"measured-{seed}-{j}", now=now, story=False).id
        c0, t0 = time.process_time(), time.perf_counter()
        with session_scope(url) as s:
            fp = fingerprint(text, title=title)
            keys = dedup_keys(
                fp, text=text, canonical_url=f"http://o.invalid/{seed}/{j}", title=title
            )
            t1 = time.perf_counter()
            story_store.lock_keys(session=s, keys=[k for _, k in keys])
            found = story_store.find_candidates(
                session=s, keys=keys, since=now - timedelta(days=WINDOW_DAYS), exclude=article_id
            )
            t2 = time.perf_counter()
            story_store.add_keys(session=s, article_id=article_id, keys=keys, now=now)
            t3 = time.perf_counter()
        t4, c4 = time.perf_counter(), time.process_time()
        ok &= len({c.story_id for c in found}) == planted
        if j >= WARMUP:
            stage.append(t3 - t0)
            total.append(t4 - t0)
            fp_ms.append(t1 - t0)
            lookup_ms.append(t2 - t1)
            cpu.append(c4 - c0)

    def q(xs: list[float], p: int) -> float:
        return float(np.percentile(xs, p) * 1000)

    return {
        "stage_p50": q(stage, 50),
        "stage_p95": q(stage, 95),
        "total_p50": q(total, 50),
        "total_p95": q(total, 95),
        "fingerprint_p50": q(fp_ms, 50),
        "lookup_p50": q(lookup_ms, 50),
        "cpu_p50": q(cpu, 50),
        "candidates_ok": ok,
        "planted_key": bands[0],
    }


def curve(
    kind: str,
    sizes: list[int],
    *,
    base_text: str,
    samples: int,
    folder: Path | None,
    explain: bool = False,
):
    """Grow one fresh database through `sizes`, measuring at each; yields Points."""
    with temp_database(kind, folder=folder) as url:
        loaded = 0
        now = datetime.now(UTC)
        for size in sizes:
            t0 = time.perf_counter()
            load_in_child(url, count=size - loaded, now=now, window_days=WINDOW_DAYS, seed=size)
            load_s = time.perf_counter() - t0
            loaded = size
            m = measure(url, base_text=base_text, samples=samples, seed=size)
            yield Point(kind, size, table_mb=table_mb(url), rss_mb=rss_mb(), load_s=load_s, **m)
            if explain:
                keys = random.Random(size).sample(range(2**62), 66) + [m["planted_key"]]
                print(
                    f"-- {kind}, {size:,} articles: find_candidates plan\n"
                    + explain_lookup(url, keys=keys)
                )
            if url.startswith("sqlite"):
                assert sqlite_file(url).exists()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000", help="articles in the window, ascending")
    ap.add_argument("--full", action="store_true", help="also 1,000,000 articles")
    ap.add_argument("--samples", type=int, default=300)
    ap.add_argument("--databases", default="sqlite,postgres")
    ap.add_argument("--explain", action="store_true", help="print the lookup's query plan")
    ap.add_argument("--folder", type=Path, help="where the SQLite file goes (default: /tmp)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")] + ([1_000_000] if args.full else [])
    console = Console(width=130)
    free = shutil.disk_usage(args.folder or "/tmp").free / 1e9
    need = max(sizes) * 67 * 160 / 1e9  # ~160 bytes per key row with its indexes
    console.print(f"disk free {free:.0f} GB; largest size needs about {need:.1f} GB per database")
    if need * 1.5 > free:
        raise SystemExit("not enough disk space for the largest size; pass smaller --sizes")
    base_text = sample_text(corpora_path())
    console.print(f"measured text: {len(base_text.split())} words, {args.samples} articles/size")
    table = Table(title="Dedup index: per-article cost as the window grows")
    cols = (
        "database",
        "articles",
        "key rows",
        "stage p50",
        "stage p95",
        "txn p50",
        "txn p95",
        "fingerprint p50",
        "lock+lookup p50",
        "table+idx MB",
        "RSS MB",
        "load s",
        "candidates",
    )
    for col in cols:
        table.add_column(col, justify="left" if col == "database" else "right")
    for kind in args.databases.split(","):
        for p in curve(
            kind,
            sizes,
            base_text=base_text,
            samples=args.samples,
            folder=args.folder,
            explain=args.explain,
        ):
            console.print(
                f"{p.database} {p.articles:,} articles: stage p50 {p.stage_p50:.2f} ms, "
                f"p95 {p.stage_p95:.2f} ms; txn p50 {p.total_p50:.2f} ms; "
                f"{p.table_mb:,.0f} MB; RSS {p.rss_mb:.0f} MB"
            )
            table.add_row(
                p.database,
                f"{p.articles:,}",
                f"{p.articles * 67:,}",
                f"{p.stage_p50:.2f}",
                f"{p.stage_p95:.2f}",
                f"{p.total_p50:.2f}",
                f"{p.total_p95:.2f}",
                f"{p.fingerprint_p50:.2f}",
                f"{p.lookup_p50:.2f}",
                f"{p.cpu_p50:.2f}",
                f"{p.table_mb:,.0f}",
                f"{p.rss_mb:.0f}",
                f"{p.load_s:.0f}",
                "ok" if p.candidates_ok else "WRONG",
            )
    console.print(table)
    console.print(
        "times in ms per article (wall clock unless CPU); stage = fingerprint + keys + lock + "
        "lookup + add_keys; txn = stage + commit; txn CPU = this process's CPU time for the txn"
    )
    console.print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
