"""Dedup index speed curve: fingerprint + lock + candidate lookup + key insert per article, as the
number of articles in the window grows, on SQLite and PostgreSQL.

    .venv/bin/python -m bench.dedup_scale [--sizes 10000,100000] [--full] [--samples 300]
                                          [--databases sqlite,postgres] [--pg-prefix ww_bench_]

The index is filled with synthetic articles (bench/dedup_index_load.py: BANDS = 32 band keys +
content, URL and title keys each, 35 rows per article; COPY on PostgreSQL, key-sorted
executemany on SQLite, indexes rebuilt after). Then each measured article, a real ~800-word text
of the extraction benchmark with its words shuffled (so that its keys are its own), has 0-3
planted candidates (articles sharing 16 of its band keys, one also its title key) and goes
through exactly what worker.assign.assign_story does with the index, inside an open
transaction: fingerprint, dedup_keys, lock_keys, find_candidates, add_keys, then commit.
Reported per size: p50/p95 wall time of the stage (fingerprint..add_keys) and of the whole
transaction, this process's CPU time for both, the p50 of each step, the dedup_key table with
its indexes, and this process's resident memory (the bulk loads run in a child process).
`--full` adds 1M articles (35M key rows, about 5 GB per database). On a shared machine read the
CPU columns: wall time there is mostly waiting for a core (the load average is printed).
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
from bench.dedup_index_load import KINDS, load_in_child
from storage import stories as story_store
from storage.db import session_scope
from storage.models import Article, Story
from worker.assign import dedup_keys
from worker.dedup import fingerprint

WINDOW_DAYS = 14.0
ROWS_PER_ARTICLE = len(KINDS)
BYTES_PER_ROW = 140  # dedup_key row with its indexes, PostgreSQL (SQLite takes less)
PLANTED_BANDS = 16
WARMUP = 20


STEPS = ("fingerprint", "lock", "lookup", "insert", "commit")


@dataclass
class Point:
    database: str
    articles: int
    stage_p50: float  # fingerprint + keys + lock + lookup + add_keys, wall ms
    stage_p95: float
    total_p50: float  # stage + commit
    total_p95: float
    stage_cpu_p50: float  # this process's CPU ms for the stage
    cpu_p50: float  # this process's CPU ms for the whole transaction
    server_cpu_p50: float  # the PostgreSQL backend's CPU ms for the stage (0 on SQLite)
    steps_p50: dict[str, float]  # wall ms per step (STEPS)
    steps_cpu_p50: dict[str, float]  # this process's CPU ms per step
    key_rows: int
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
                    "(SELECT name FROM sqlite_master WHERE tbl_name = 'dedup_key')"
                )
            ).scalar()
        else:
            n = s.execute(sql("SELECT pg_total_relation_size('dedup_key')")).scalar()
    return (n or 0) / 1e6


def explain_lookup(url: str, *, keys: list[int]) -> str:
    """The plan of find_candidates' query for `keys` (PostgreSQL: with timings and buffers)."""
    since = datetime.now(UTC) - timedelta(days=WINDOW_DAYS)
    listed = ", ".join(str(k) for k in keys)
    match = (
        f"dedup_key.key IN ({listed})"
        if url.startswith("sqlite")
        else f"dedup_key.key = ANY(ARRAY[{listed}]::bigint[])"
    )
    query = (
        "SELECT dedup_key.article_id, dedup_key.kind, dedup_key.key, article.story_id "
        f"FROM dedup_key JOIN article ON article.id = dedup_key.article_id WHERE {match} "
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


def _backend_pid(session) -> int | None:  # noqa: ANN001
    """Begin the transaction (assign_story runs inside one) and return the PostgreSQL backend's
    process id (None on SQLite, whose work is done in this process)."""
    if session.get_bind().dialect.name != "postgresql":
        session.connection()
        return None
    return session.execute(sql("SELECT pg_backend_pid()")).scalar()


def _cpu_ns(pid: int | None) -> int:
    """CPU time of a local process in ns (/proc/PID/schedstat; 0 for None)."""
    if pid is None:
        return 0
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])


def measure(url: str, *, base_text: str, samples: int, seed: int) -> dict:
    """Time `samples` articles (after WARMUP unreported ones) against the current index."""
    words = base_text.split()
    rng = random.Random(seed)
    stage, total, stage_cpu, cpu, server_cpu, ok = [], [], [], [], [], True
    steps: dict[str, list[float]] = {step: [] for step in STEPS}
    steps_cpu: dict[str, list[float]] = {step: [] for step in STEPS}
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
        with session_scope(url) as s:
            # assign_story runs inside the transaction that stores the article: begin it (and
            # check the pooled connection out) before the clock starts.
            backend = _backend_pid(s)
            b0, c0, t0 = _cpu_ns(backend), time.process_time(), time.perf_counter()
            fp = fingerprint(text, title=title)
            keys = dedup_keys(
                fp, text=text, canonical_url=f"http://o.invalid/{seed}/{j}", title=title
            )
            t1, c1 = time.perf_counter(), time.process_time()
            story_store.lock_keys(session=s, keys=[k for _, k in keys])
            t2, c2 = time.perf_counter(), time.process_time()
            found = story_store.find_candidates(
                session=s, keys=keys, since=now - timedelta(days=WINDOW_DAYS), exclude=article_id
            )
            t3, c3 = time.perf_counter(), time.process_time()
            story_store.add_keys(session=s, article_id=article_id, keys=keys, now=now)
            t4, c4, b4 = time.perf_counter(), time.process_time(), _cpu_ns(backend)
        t5, c5 = time.perf_counter(), time.process_time()
        ok &= len({c.story_id for c in found}) == planted
        if j >= WARMUP:
            stage.append(t4 - t0)
            total.append(t5 - t0)
            stage_cpu.append(c4 - c0)
            cpu.append(c5 - c0)
            server_cpu.append((b4 - b0) / 1e9)
            walls = (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)
            cpus = (c1 - c0, c2 - c1, c3 - c2, c4 - c3, c5 - c4)
            for step, dt, dc in zip(STEPS, walls, cpus, strict=True):
                steps[step].append(dt)
                steps_cpu[step].append(dc)

    def q(xs: list[float], p: int) -> float:
        return float(np.percentile(xs, p) * 1000)

    return {
        "stage_p50": q(stage, 50),
        "stage_p95": q(stage, 95),
        "total_p50": q(total, 50),
        "total_p95": q(total, 95),
        "stage_cpu_p50": q(stage_cpu, 50),
        "cpu_p50": q(cpu, 50),
        "server_cpu_p50": q(server_cpu, 50),
        "steps_p50": {step: q(xs, 50) for step, xs in steps.items()},
        "steps_cpu_p50": {step: q(xs, 50) for step, xs in steps_cpu.items()},
        "candidates_ok": ok,
        "planted_key": bands[0],
    }


def key_rows(url: str) -> int:
    with session_scope(url) as s:
        return s.execute(sql("SELECT count(*) FROM dedup_key")).scalar()


def curve(
    kind: str,
    sizes: list[int],
    *,
    base_text: str,
    samples: int,
    folder: Path | None,
    explain: bool = False,
    prefix: str = "ww_bench_",
):
    """Grow one fresh database through `sizes`, measuring at each; yields Points."""
    with temp_database(kind, folder=folder, prefix=prefix) as url:
        loaded = 0
        now = datetime.now(UTC)
        for size in sizes:
            t0 = time.perf_counter()
            load_in_child(url, count=size - loaded, now=now, window_days=WINDOW_DAYS, seed=size)
            load_s = time.perf_counter() - t0
            loaded = size
            m = measure(url, base_text=base_text, samples=samples, seed=size)
            yield Point(
                kind,
                size,
                key_rows=key_rows(url),
                table_mb=table_mb(url),
                rss_mb=rss_mb(),
                load_s=load_s,
                **m,
            )
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
    ap.add_argument("--pg-prefix", default="ww_bench_", help="PostgreSQL database name prefix")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")] + ([1_000_000] if args.full else [])
    console = Console(width=160)
    free = shutil.disk_usage(args.folder or "/tmp").free / 1e9
    need = max(sizes) * ROWS_PER_ARTICLE * BYTES_PER_ROW / 1e9
    console.print(f"disk free {free:.0f} GB; largest size needs about {need:.1f} GB per database")
    if need * 1.5 > free:
        raise SystemExit("not enough disk space for the largest size; pass smaller --sizes")
    base_text = sample_text(corpora_path())
    console.print(f"measured text: {len(base_text.split())} words, {args.samples} articles/size")
    table = Table(title="Dedup index: per-article cost as the window grows (ms, p50 unless said)")
    cols = (
        "database",
        "articles",
        "key rows",
        "stage",
        "stage p95",
        "txn",
        "txn p95",
        "stage CPU",
        "PG server CPU",
        "txn CPU",
        *STEPS,
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
            prefix=args.pg_prefix,
        ):
            steps = ", ".join(
                f"{k} {v:.2f} (CPU {p.steps_cpu_p50[k]:.2f})" for k, v in p.steps_p50.items()
            )
            console.print(
                f"{p.database} {p.articles:,} articles: stage p50 {p.stage_p50:.2f} ms, "
                f"p95 {p.stage_p95:.2f} ms (CPU {p.stage_cpu_p50:.2f}, "
                f"server {p.server_cpu_p50:.2f}); "
                f"txn p50 {p.total_p50:.2f} ms (CPU {p.cpu_p50:.2f}); "
                f"{steps}; {p.table_mb:,.0f} MB; RSS {p.rss_mb:.0f} MB; "
                f"load {p.load_s:.0f} s; load average {os.getloadavg()[0]:.1f}"
            )
            table.add_row(
                p.database,
                f"{p.articles:,}",
                f"{p.key_rows:,}",
                f"{p.stage_p50:.2f}",
                f"{p.stage_p95:.2f}",
                f"{p.total_p50:.2f}",
                f"{p.total_p95:.2f}",
                f"{p.stage_cpu_p50:.2f}",
                f"{p.server_cpu_p50:.2f}" if p.database == "postgres" else "-",
                f"{p.cpu_p50:.2f}",
                *(f"{v:.2f}" for v in p.steps_p50.values()),
                f"{p.table_mb:,.0f}",
                f"{p.rss_mb:.0f}",
                f"{p.load_s:.0f}",
                "ok" if p.candidates_ok else "WRONG",
            )
    console.print(table)
    console.print(
        "wall-clock ms per article unless CPU; stage = fingerprint (with dedup_keys) + lock + "
        "lookup + insert (add_keys), inside an open transaction; txn = stage + commit; CPU = "
        "this process's CPU time; PG server CPU = the PostgreSQL backend's CPU time for the stage "
        "(/proc/PID/schedstat); RSS = this process "
        "(the bulk loads run in a child)"
    )
    console.print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
