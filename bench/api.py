"""API figures: search latency (p50/p95) over N synthetic articles on SQLite and PostgreSQL, and
requests per second of `GET /api/stories` served by uvicorn with 2 workers.

    .venv/bin/python bench/api.py                 # 100k articles, both databases
    .venv/bin/python bench/api.py --full          # 1M articles
    .venv/bin/python bench/api.py --db postgres --articles 300000

Articles are generated (Zipf-distributed words, a few topical terms) and bulk INSERTed, not run
through the pipeline; 4 articles per story. PostgreSQL: WIREWATCH_TEST_PG (admin URL).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.query import text_query  # noqa: E402
from storage.db import get_engine, session_scope  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Article, Feed, Story  # noqa: E402
from storage.search import search_articles, search_stories  # noqa: E402
from storage.users import create_key, create_user  # noqa: E402

PG_ADMIN = os.environ.get("WIREWATCH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
QUERIES = [
    "treaty",
    "inflation",
    "parliament AND budget",
    '"central bank"',
    "elect*",
    "storm OR flood",
    "minister -sport",
    "title:election",
    "w123",
    "w5 AND w77",
]
TOPICAL = [
    "treaty",
    "inflation",
    "parliament",
    "budget",
    "central",
    "bank",
    "election",
    "elections",
    "elected",
    "storm",
    "flood",
    "minister",
    "sport",
]


def words(rng: random.Random, n: int) -> str:
    out = []
    for _ in range(n):
        if rng.random() < 0.002:
            out.append(rng.choice(TOPICAL))
        else:
            out.append(f"w{min(int(rng.paretovariate(1.1)), 20000)}")
    return " ".join(out)


def fill(url: str, n: int) -> None:
    rng = random.Random(7)
    engine = get_engine(url)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(Feed),
            [
                {
                    "url": f"https://f{i}.test/rss",
                    "title": f"Outlet {i}",
                    "next_poll_at": t0,
                    "created_at": t0,
                    "error_count": 0,
                    "disabled": False,
                }
                for i in range(1, 21)
            ],
        )
        stories = n // 4
        for start in range(0, stories, 10_000):
            conn.execute(
                insert(Story),
                [
                    {
                        "id": i + 1,
                        "title": f"story {i}",
                        "first_seen_at": t0 + timedelta(minutes=i),
                        "updated_at": t0 + timedelta(minutes=i),
                        "member_count": 4,
                    }
                    for i in range(start, min(stories, start + 10_000))
                ],
            )
    batch = 5_000
    for start in range(0, n, batch):
        rows = []
        for i in range(start, min(n, start + batch)):
            when = t0 + timedelta(minutes=i // 4)
            rows.append(
                {
                    "id": i + 1,
                    "feed_id": i % 20 + 1,
                    "entry_key": f"e{i}",
                    "url": f"https://x/{i}",
                    "title": words(rng, 8),
                    "text": words(rng, 250),
                    "state": "processed",
                    "state_changed_at": when,
                    "created_at": when,
                    "published": when,
                    "attempts": 1,
                    "story_id": i // 4 + 1 if i // 4 < n // 4 else None,
                    "language": "en",
                    "word_count": 250,
                }
            )
        with engine.begin() as conn:
            conn.execute(insert(Article), rows)
    if url.startswith("postgresql"):
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def search_latency(url: str, rounds: int) -> dict:
    timings: dict[str, list[float]] = {q: [] for q in QUERIES}
    for _ in range(rounds):
        for q in QUERIES:
            text = text_query(q)
            start = time.perf_counter()
            with session_scope(url) as session:
                search_articles(session=session, text=text, limit=21)
            timings[q].append((time.perf_counter() - start) * 1000)
    every = [t for ts in timings.values() for t in ts]
    stories = []
    for _ in range(rounds):
        start = time.perf_counter()
        with session_scope(url) as session:
            search_stories(session=session, text=text_query("treaty"), limit=21)
        stories.append((time.perf_counter() - start) * 1000)
    return {
        "p50": statistics.median(every),
        "p95": percentile(every, 95),
        "worst_query": max(timings, key=lambda q: percentile(timings[q], 95)),
        "worst_p95": max(percentile(ts, 95) for ts in timings.values()),
        "stories_p95": percentile(stories, 95),
    }


def requests_per_second(url: str, seconds: float = 10.0, threads: int = 8) -> float:
    with session_scope(url) as session:
        user = create_user(session=session, name=f"bench-{uuid.uuid4().hex[:6]}")
        keys = [create_key(session=session, user_id=user.id) for _ in range(400)]
    port = 18000 + random.randint(0, 999)
    env = {**os.environ, "WIREWATCH_DATABASE_URL": url, "WIREWATCH_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "api.server:app_from_env",
            "--workers",
            "2",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        done, errors = [0] * threads, [0] * threads
        stop = time.monotonic() + seconds

        def worker(i: int) -> None:
            with httpx.Client(base_url=base, timeout=30) as client:
                n = 0
                while time.monotonic() < stop:
                    key = keys[(i * 1000 + n) % len(keys)]
                    r = client.get("/api/stories", headers={"Authorization": f"Bearer {key}"})
                    n += 1
                    if r.status_code == 200:
                        done[i] += 1
                    else:
                        errors[i] += 1

        pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        if sum(errors):
            print(f"  ({sum(errors)} non-200 answers)")
        return sum(done) / seconds
    finally:
        server.terminate()
        server.wait(timeout=20)


def database(kind: str, tmp: Path):  # noqa: ANN201
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'bench.db'}", lambda: None
    name = f"ww_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)

    def drop() -> None:
        get_engine(f"{base}/{name}").dispose()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{base}/{name}", drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="1M articles")
    parser.add_argument("--articles", type=int, default=None)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    n = args.articles or (1_000_000 if args.full else 100_000)
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for kind in kinds:
        with tempfile.TemporaryDirectory() as tmp:
            url, drop = database(kind, Path(tmp))
            try:
                upgrade(url)
                start = time.perf_counter()
                fill(url, n)
                print(f"{kind}: {n} articles inserted in {time.perf_counter() - start:.0f} s")
                s = search_latency(url, args.rounds)
                print(
                    f"  search p50 {s['p50']:.1f} ms, p95 {s['p95']:.1f} ms "
                    f"(slowest query {s['worst_query']!r}: p95 {s['worst_p95']:.1f} ms); "
                    f"story search p95 {s['stories_p95']:.1f} ms"
                )
                rps = requests_per_second(url, args.seconds)
                print(f"  GET /api/stories: {rps:.0f} requests/s (uvicorn, 2 workers)")
            finally:
                drop()


if __name__ == "__main__":
    main()
