"""API figures: search latency (p50/p95) over N synthetic articles on SQLite and PostgreSQL, and
requests per second of `GET /api/stories` served by uvicorn with 2 workers.

    .venv/bin/python bench/api.py                 # 100k articles, both databases
    .venv/bin/python bench/api.py --full          # 1M articles
    .venv/bin/python bench/api.py --db postgres --articles 300000

Articles come from bench/api_data.py (Zipf-worded, in themed stories; bulk-loaded, not run
through the pipeline). Each search runs what `GET /api/articles` runs (storage.search with
limit+1 rows) for a mix of single common and rare terms, two-term AND, phrases, prefix, OR and
NOT, each without filters, with one filter (topic, feed, wire, since, lang), on its first page
and on the page its cursor names; story search is `GET /api/stories?q=`. Latency is wall time
and CPU time (this thread plus the PostgreSQL backend's, from /proc/PID/schedstat: the figure
that does not depend on what else the machine runs; the load average is printed beside them).

PostgreSQL: WIREWATCH_BENCH_PG (admin URL); the database is named PREFIX + random and dropped
afterwards (unless --keep); the SQLite file lives in a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import text as sql_text
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.query import text_query  # noqa: E402
from bench.api_data import Archive, archive_of, fill_postgres, fill_sqlite  # noqa: E402
from bench.benchdb import temp_database  # noqa: E402
from storage.db import session_scope  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.search import Filters, search_articles, search_stories  # noqa: E402
from storage.users import create_key  # noqa: E402

PG_ADMIN = os.environ.get("WIREWATCH_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PAGE = 20  # the API's default page; it asks storage for one row more to know there is a next
# (kind, search text); document frequencies at 1M are in the comments
QUERIES = [
    ("common", "w30"),  # ~50% of articles
    ("common", "w300"),  # ~7%
    ("common", "election"),  # the most popular theme, ~13%
    ("common", "inflation"),  # ~5%
    ("rare", "w20000"),  # ~0.1%
    ("rare", "w49999"),  # ~0.04%
    ("rare", "referendum"),  # the least popular theme, ~0.3%
    ("and", "w300 AND w500"),
    ("and", "election AND campaign"),
    ("and", "w30 AND w3000"),
    ("phrase", '"central bank"'),
    ("phrase", '"w1 w2"'),  # common words next to each other: ~60%
    ("phrase", '"polling stations"'),
    ("other", "elect*"),
    ("other", "storm OR flood"),
    ("other", "minister -sport"),
    ("other", "title:election"),
]


@dataclass(frozen=True)
class Case:
    kind: str
    q: str
    filters: Filters
    filter_name: str
    page: str  # "first" or "next" (the page the first page's cursor names)


def cases(archive: Archive) -> list[Case]:
    """Every query unfiltered and with each filter, on its first and its next page."""
    week = archive.newest - timedelta(days=7)
    filters = [
        ("none", Filters()),
        ("topic", Filters(topic_id=archive.topic_ids[0])),
        ("feed", Filters(feed_id=7)),
        ("wire", Filters(wire="reuters")),
        ("since", Filters(since=week)),
        ("lang", Filters(lang="de")),
    ]
    return [
        Case(kind, q, f, name, page)
        for kind, q in QUERIES
        for name, f in filters
        for page in ("first", "next")
    ]


def _run_ns(pid: int | None) -> int:
    """CPU time a local PostgreSQL backend has used (ns; /proc/PID/schedstat), 0 without one."""
    if pid is None:
        return 0
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])


@contextmanager
def _timed(session: Session, out: list[tuple[float, float]]) -> Iterator[None]:
    """Append (wall ms, CPU ms of this thread and of the database backend) of the block."""
    pid = None
    if session.get_bind().dialect.name == "postgresql":
        pid = session.execute(sql_text("SELECT pg_backend_pid()")).scalar()
    server, cpu, wall = _run_ns(pid), time.thread_time_ns(), time.perf_counter_ns()
    yield
    wall, cpu = time.perf_counter_ns() - wall, time.thread_time_ns() - cpu
    out.append((wall / 1e6, (cpu + _run_ns(pid) - server) / 1e6))


def run_case(url: str, case: Case) -> tuple[float, float]:
    """(wall, CPU) milliseconds of the storage work behind one `GET /api/articles` page."""
    out: list[tuple[float, float]] = []
    offset = PAGE if case.page == "next" else 0
    with session_scope(url, readonly=True) as session, _timed(session, out):
        search_articles(
            session=session,
            text=text_query(case.q),
            filters=case.filters,
            limit=PAGE + 1,
            offset=offset,
        )
    return out[0]


def run_story_search(url: str, q: str) -> tuple[float, float]:
    out: list[tuple[float, float]] = []
    with session_scope(url, readonly=True) as session, _timed(session, out):
        search_stories(session=session, text=text_query(q), limit=PAGE + 1)
    return out[0]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _p(values: list[float]) -> tuple[float, float]:
    return statistics.median(values), percentile(values, 95)


def search_latency(url: str, archive: Archive, rounds: int) -> dict:
    mix = cases(archive)
    for case in mix[:: max(1, len(mix) // 20)]:  # warm the caches a little
        run_case(url, case)
    timings: dict[Case, list[tuple[float, float]]] = {c: [] for c in mix}
    for r in range(rounds):
        for case in random.Random(r).sample(mix, len(mix)):
            timings[case].append(run_case(url, case))
    stories = {q: [run_story_search(url, q) for _ in range(rounds)] for _, q in QUERIES}

    def summary(select: Callable[[Case], bool], i: int) -> tuple[float, float]:
        return _p([t[i] for c, ts in timings.items() if select(c) for t in ts])

    kinds = dict.fromkeys(k for k, _ in QUERIES)
    filters = dict.fromkeys(c.filter_name for c in mix)
    worst = sorted(timings, key=lambda c: -statistics.median(t[1] for t in timings[c]))[:3]
    story_times = [t for ts in stories.values() for t in ts]
    return {
        "wall": summary(lambda c: True, 0),
        "cpu": summary(lambda c: True, 1),
        "count": sum(len(ts) for ts in timings.values()),
        "by_kind": {k: summary(lambda c, k=k: c.kind == k, 1) for k in kinds},
        "by_filter": {f: summary(lambda c, f=f: c.filter_name == f, 1) for f in filters},
        "worst": [(c, statistics.median(t[1] for t in timings[c])) for c in worst],
        "stories_wall": _p([t[0] for t in story_times]),
        "stories_cpu": _p([t[1] for t in story_times]),
        "stories_worst": max(stories, key=lambda q: statistics.median(t[1] for t in stories[q])),
    }


def requests_per_second(url: str, user_id: int, seconds: float = 10.0, threads: int = 8) -> float:
    with session_scope(url) as session:
        keys = [create_key(session=session, user_id=user_id) for _ in range(400)]
    port = 18000 + random.randint(0, 999)
    env = {**os.environ, "WIREWATCH_DATABASE_URL": url, "WIREWATCH_LOG_LEVEL": "WARNING"}
    env.pop("WIREWATCH_BROKER_URL", None)
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
        for _ in range(300):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("uvicorn did not start")
        with httpx.Client(base_url=base, timeout=30) as client:  # both workers up, keys used
            for key in keys:
                client.get("/api/stories", headers={"Authorization": f"Bearer {key}"})
        done, errors = [0] * threads, [0] * threads
        stop = time.monotonic() + seconds

        def worker(i: int) -> None:
            with httpx.Client(base_url=base, timeout=30) as client:
                n = 0
                while time.monotonic() < stop:
                    key = keys[(i * 1000 + n) % len(keys)]
                    r = client.get("/api/stories", headers={"Authorization": f"Bearer {key}"})
                    n += 1
                    if r.status_code == 200 and len(r.json()["items"]) == PAGE:
                        done[i] += 1
                    else:
                        errors[i] += 1

        pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        if sum(errors):
            print(f"  ({sum(errors)} answers not 200 with a full page)")
        return sum(done) / seconds
    finally:
        server.terminate()
        server.wait(timeout=20)


def fill(kind: str, url: str, n: int) -> Archive:
    if kind == "sqlite":
        return fill_sqlite(url.split(":///", 1)[1], n)
    return fill_postgres(url.replace("postgresql+psycopg://", "postgresql://"), n)


def report(kind: str, n: int, s: dict, load: tuple[float, ...]) -> None:
    (w50, w95), (c50, c95) = s["wall"], s["cpu"]
    print(
        f"{kind} {n:,} articles, {s['count']} searches (load {load[0]:.2f} {load[1]:.2f}):\n"
        f"  search       CPU p50 {c50:6.1f} ms  p95 {c95:6.1f} ms   "
        f"wall p50 {w50:6.1f} ms  p95 {w95:6.1f} ms"
    )
    (w50, w95), (c50, c95) = s["stories_wall"], s["stories_cpu"]
    print(
        f"  story search CPU p50 {c50:6.1f} ms  p95 {c95:6.1f} ms   "
        f"wall p50 {w50:6.1f} ms  p95 {w95:6.1f} ms  (slowest {s['stories_worst']!r})"
    )
    for title, part in (("query kind", "by_kind"), ("filter", "by_filter")):
        cells = "  ".join(f"{k} {p50:.1f}/{p95:.1f}" for k, (p50, p95) in s[part].items())
        print(f"  CPU p50/p95 ms by {title}: {cells}")
    slowest = "; ".join(f"{c.q!r} {c.filter_name} {c.page} {ms:.0f} ms" for c, ms in s["worst"])
    print(f"  slowest (CPU): {slowest}")
    print(
        "  (CPU: the client thread plus the PostgreSQL backend, from /proc/PID/schedstat; "
        "wall: as a caller waits, on a shared machine)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="1M articles")
    parser.add_argument("--articles", type=int, default=None)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=3, help="times each search runs")
    parser.add_argument("--seconds", type=float, default=10.0, help="of GET /api/stories")
    parser.add_argument("--no-rps", action="store_true", help="skip the requests/s figure")
    parser.add_argument("--pg-prefix", default="ww_bench_", help="PostgreSQL database name prefix")
    parser.add_argument("--tmp", default=None, help="folder for the SQLite file")
    parser.add_argument("--keep", action="store_true", help="keep the databases, print their URL")
    parser.add_argument("--url", default=None, help="measure a database kept by --keep (as is)")
    args = parser.parse_args()
    if args.url:
        kind = "sqlite" if args.url.startswith("sqlite") else "postgres"
        upgrade(args.url)  # a kept database gets the migrations written since
        measure(kind, args.url, archive_of(args.url), args)
        return
    n = args.articles or (1_000_000 if args.full else 100_000)
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for kind in kinds:
        with temp_database(kind, folder=args.tmp, prefix=args.pg_prefix, keep=args.keep) as url:
            start = time.perf_counter()
            archive = fill(kind, url, n)
            print(
                f"{kind}: {n:,} articles in {archive.stories:,} stories loaded in "
                f"{time.perf_counter() - start:.0f} s"
            )
            measure(kind, url, archive, args)


def measure(kind: str, url: str, archive: Archive, args: argparse.Namespace) -> None:
    s = search_latency(url, archive, args.rounds)
    report(kind, archive.articles, s, os.getloadavg())
    if not args.no_rps:
        rps = requests_per_second(url, archive.user_id, args.seconds)
        load = os.getloadavg()
        print(
            f"  GET /api/stories: {rps:.0f} requests/s (uvicorn, 2 workers, 8 client "
            f"threads; load {load[0]:.2f})"
        )


if __name__ == "__main__":
    main()
