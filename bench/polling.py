"""Polls per second against a local newsroom answering 304, embedded and distributed; a 10k run.

Usage: .venv/bin/python bench/polling.py [--quick] [--feeds 2000] [--big 10000] [--no-distributed]

Every figure comes from real processes: `wirewatch feeds import` and `wirewatch run --once --json`
as subprocesses (wall time, and peak RSS of that process from wait4), two `wirewatch worker`
processes on PostgreSQL + Redis for distributed mode (peak RSS of both process trees, sampled).
The feeds are served by bench/newsroom_server.py (uvicorn, its own process). A first pass
populates (every feed answers 200), then the 304 pass is measured: every feed claimed by
`run --once`, every feed answering 304 Not Modified.

  polls/s = feeds / "run s", the seconds run_once itself reports (claim, dispatch, wait until
  the database says every feed is polled and every new article finished). "wall s" adds the
  start-up of the process (imports, settings, migration check).

The big run (--big, default 10,000 feeds) times the OPML import and one full `run --once` per
kind of feed (--big-kinds), each in a fresh SQLite database: `feed` entries link to article pages
that are fetched and cleaned (the whole pipeline), `empty` feeds isolate polling. Every story has
its own text (bench/newsroom_server.py), so the dedup stage does not join them all into one.

Settings: WIREWATCH_ALLOW_PRIVATE_NETWORKS=true (everything is on 127.0.0.1);
WIREWATCH_HOST_CONCURRENCY high (--host-concurrency, default 64, the highest allowed) and the
default 4, since every feed is on one host. PostgreSQL at 127.0.0.1:5432 (user postgres, a fresh
database, dropped afterwards) and Redis 127.0.0.1:6379 DB 11 (flushed before and after).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bench.procs import Newsroom, TreeRSS, bench_env, checked, run_measured, start, stop  # noqa: E402

PG_ADMIN = os.environ.get("WIREWATCH_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("WIREWATCH_BENCH_REDIS", "redis://127.0.0.1:6379/11")
console = Console(width=int(os.environ.get("COLUMNS", "200")))


@dataclass
class Row:
    mode: str
    feeds: int
    step: str
    settings: str
    wall: float
    run_s: float | None = None
    rss_mib: float | None = None
    served: str = ""
    load: float = 0.0

    @property
    def per_second(self) -> float | None:
        return self.feeds / self.run_s if self.run_s else None


def write_opml(path: Path, urls: list[str]) -> Path:
    lines = [
        f'<outline type="rss" text="feed {i}" xmlUrl={quoteattr(u)}/>' for i, u in enumerate(urls)
    ]
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0"><head><title>bench</title>'
        "</head><body>\n" + "\n".join(lines) + "\n</body></opml>\n"
    )
    return path


def served_delta(before: dict, after: dict) -> str:
    d = {
        k: after.get(k, 0) - before.get(k, 0)
        for k in ("feed_200", "feed_304", "page_200", "page_410")
    }
    return f"{d['feed_200']}/{d['feed_304']}/{d['page_200'] + d['page_410']}"


def import_feeds(
    env: dict, newsroom: Newsroom, tmp: Path, *, kind: str, feeds: int, items: int, mode: str
) -> Row:
    """`wirewatch feeds import` of an OPML file listing `feeds` newsroom feeds of one kind."""
    path = "feed" if kind == "empty" else kind
    count = 0 if kind == "empty" else items
    opml = write_opml(
        tmp / f"{mode}-{kind}-{feeds}.opml",
        [newsroom.url(f"/{path}/{n}.xml?items={count}") for n in range(feeds)],
    )
    load = os.getloadavg()[0]
    result = checked(run_measured(["feeds", "import", str(opml)], env=env), "feeds import")
    assert f"imported {feeds} feeds" in result.stdout, result.stdout
    return Row(
        mode, feeds, "feeds import (OPML)", "", result.wall, rss_mib=result.peak_rss_mib, load=load
    )


def poll_pass(
    env: dict,
    newsroom: Newsroom,
    *,
    mode: str,
    feeds: int,
    step: str,
    settings: str,
    workers: list | None = None,
) -> Row:
    """One `run --once` over every feed; RSS of the run process or, with workers, of theirs."""
    before, load = newsroom.stats(), os.getloadavg()[0]
    if workers:
        with TreeRSS([w.pid for w in workers]) as sampled:
            result = run_measured(["run", "--once", "--json"], env=env)
        rss = sampled.peak_mib
    else:
        result = run_measured(["run", "--once", "--json"], env=env)
        rss = result.peak_rss_mib
    checked(result, f"run --once ({mode}, {step})")
    summary = result.json()
    if summary["feeds"] != feeds or summary["feeds_failed"]:
        console.print(f"[yellow]warning[/yellow]: {mode} {step}: {summary}")
    row = Row(
        mode,
        feeds,
        step,
        settings,
        result.wall,
        summary["seconds"],
        rss,
        served_delta(before, newsroom.stats()),
        load,
    )
    console.print(
        f"  {mode:12s} {step:28s} {settings:22s} {row.run_s:7.2f} s  "
        f"{row.per_second:8.1f} polls/s  {rss:6.1f} MiB  served {row.served}"
    )
    return row


def embedded(
    newsroom: Newsroom, tmp: Path, *, feeds: int, items: int, hc: int, threads: int
) -> list[Row]:
    url = f"sqlite:///{tmp / 'embedded.db'}"

    def env(hosts: int, workers: int) -> dict:
        return bench_env(
            url, WIREWATCH_HOST_CONCURRENCY=str(hosts), WIREWATCH_EMBEDDED_WORKERS=str(workers)
        )

    checked(run_measured(["db", "upgrade"], env=env(hc, 4)), "db upgrade")
    rows = [
        import_feeds(
            env(hc, 4), newsroom, tmp, kind="gone", feeds=feeds, items=items, mode="embedded"
        )
    ]
    common = {"newsroom": newsroom, "mode": "embedded", "feeds": feeds}
    rows.append(
        poll_pass(
            env(hc, 4),
            step=f"populate: 200, {items}/feed, pages 410",
            settings=f"4 threads, hc {hc}",
            **common,
        )
    )
    for hosts, workers in ((hc, 4), (4, 4), (hc, threads)):
        rows.append(
            poll_pass(
                env(hosts, workers),
                step="304 pass",
                settings=f"{workers} threads, hc {hosts}",
                **common,
            )
        )
    return rows


def distributed(
    newsroom: Newsroom, tmp: Path, *, feeds: int, items: int, hc: int, concurrency: int | None
) -> list[Row]:
    import psycopg
    import redis

    name = f"ww_bench_poll_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    broker = redis.Redis.from_url(REDIS)
    broker.flushdb()
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    per_worker = f"-c {concurrency}" if concurrency else "-c cores"
    rows: list[Row] = []
    try:

        def env(hosts: int) -> dict:
            return bench_env(url, WIREWATCH_BROKER_URL=REDIS, WIREWATCH_HOST_CONCURRENCY=str(hosts))

        checked(run_measured(["db", "upgrade"], env=env(hc)), "db upgrade (PostgreSQL)")
        rows.append(
            import_feeds(
                env(hc), newsroom, tmp, kind="gone", feeds=feeds, items=items, mode="distributed"
            )
        )
        common = {"newsroom": newsroom, "mode": "distributed", "feeds": feeds}
        for hosts, steps in (
            (hc, (f"populate: 200, {items}/feed, pages 410", "304 pass")),
            (4, ("304 pass",)),
        ):
            workers = start_workers(env(hosts), tmp, concurrency, tag=f"hc{hosts}")
            try:
                for step in steps:
                    rows.append(
                        poll_pass(
                            env(hosts),
                            step=step,
                            workers=workers,
                            settings=f"2 workers {per_worker}, hc {hosts}",
                            **common,
                        )
                    )
            finally:
                for worker in workers:
                    stop(worker)
    finally:
        broker.flushdb()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return rows


def start_workers(env: dict, tmp: Path, concurrency: int | None, *, tag: str) -> list:
    workers = []
    for i in range(2):
        args = ["worker", "-n", f"bench{i}-{tag}@%h"]
        if concurrency:
            args += ["-c", str(concurrency)]
        workers.append(start(args, env=env, log=tmp / f"worker{i}-{tag}.log"))
    deadline = time.monotonic() + 90
    for i, worker in enumerate(workers):
        log = tmp / f"worker{i}-{tag}.log"
        while "ready" not in log.read_text(errors="replace"):
            if worker.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"worker {i} did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
    return workers


def big(
    newsroom: Newsroom, tmp: Path, *, feeds: int, items: int, hc: int, kinds: list[str]
) -> list[Row]:
    """One import and one full `run --once` over many feeds, each kind in a fresh database."""
    rows = []
    for kind in kinds:
        url = f"sqlite:///{tmp / f'big-{kind}.db'}"
        env = bench_env(url, WIREWATCH_HOST_CONCURRENCY=str(hc))
        checked(run_measured(["db", "upgrade"], env=env), "db upgrade")
        rows.append(
            import_feeds(env, newsroom, tmp, kind=kind, feeds=feeds, items=items, mode="embedded")
        )
        step = {
            "feed": f"200, {items}/feed, pages fetched + cleaned",
            "gone": f"200, {items}/feed, pages 410 (feed text)",
            "nolink": f"200, {items}/feed, entries without links",
            "empty": "200, empty feeds (polling alone)",
        }[kind]
        rows.append(
            poll_pass(
                env,
                newsroom,
                mode="embedded",
                feeds=feeds,
                step=step,
                settings=f"4 threads, hc {hc}",
            )
        )
    return rows


def show(rows: list[Row], title: str) -> None:
    table = Table(title=title, title_justify="left")
    for column in (
        "mode",
        "feeds",
        "step",
        "settings",
        "wall s",
        "run s",
        "polls/s",
        "peak RSS MiB",
        "served 200/304/pages",
        "load",
    ):
        table.add_column(
            column, justify="left" if column in ("mode", "step", "settings") else "right"
        )
    for r in rows:
        table.add_row(
            r.mode,
            str(r.feeds),
            r.step,
            r.settings,
            f"{r.wall:.1f}",
            f"{r.run_s:.1f}" if r.run_s else "",
            f"{r.per_second:.0f}" if r.per_second else "",
            f"{r.rss_mib:.0f}" if r.rss_mib else "",
            r.served,
            f"{r.load:.1f}",
        )
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="100 feeds, 1 entry each (a minute or two)"
    )
    parser.add_argument("--feeds", type=int, help="feeds of the 304 benchmark (default 2000)")
    parser.add_argument("--big", type=int, help="feeds of the import + full run (default 10000)")
    parser.add_argument(
        "--items", type=int, default=1, help="entries per feed of the 304 benchmark (default 1)"
    )
    parser.add_argument(
        "--big-items", type=int, help="entries per feed of the big run (default 3; 1 with --quick)"
    )
    parser.add_argument("--host-concurrency", type=int, default=64)
    parser.add_argument(
        "--threads",
        type=int,
        default=16,
        help="embedded worker threads of the extra 304 pass (default 16)",
    )
    parser.add_argument(
        "--worker-concurrency",
        type=int,
        help="processes per Celery worker (default: celery's, the cores)",
    )
    parser.add_argument(
        "--big-kinds",
        default="feed,empty",
        help="comma-separated, each in a fresh database: feed (article pages "
        "fetched and cleaned), gone (pages answer 410, text from the feed), "
        "nolink (entries without links), empty (no entries: polling alone)",
    )
    parser.add_argument("--no-embedded", action="store_true")
    parser.add_argument("--no-distributed", action="store_true")
    parser.add_argument("--no-big", action="store_true")
    args = parser.parse_args()
    feeds = args.feeds or (100 if args.quick else 2000)
    big_feeds = args.big or (100 if args.quick else 10000)
    big_items = args.big_items if args.big_items is not None else (1 if args.quick else 3)
    hc = args.host_concurrency

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="wirewatch-bench-") as tmpdir:
        tmp = Path(tmpdir)
        newsroom = Newsroom(items=args.items, logdir=tmp)
        console.print(
            f"newsroom on {newsroom.url('/')}; "
            f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
        )
        try:
            if not args.no_embedded:
                rows += embedded(
                    newsroom, tmp, feeds=feeds, items=args.items, hc=hc, threads=args.threads
                )
            if not args.no_distributed:
                rows += distributed(
                    newsroom,
                    tmp,
                    feeds=feeds,
                    items=args.items,
                    hc=hc,
                    concurrency=args.worker_concurrency,
                )
            if not args.no_big:
                rows += big(
                    newsroom,
                    tmp,
                    feeds=big_feeds,
                    items=big_items,
                    hc=hc,
                    kinds=[k for k in args.big_kinds.split(",") if k],
                )
        finally:
            newsroom.close()
    show(
        rows,
        "Polling (polls/s = feeds / run s; hc = WIREWATCH_HOST_CONCURRENCY; "
        "RSS: the run --once process, or both worker trees in distributed mode)",
    )


if __name__ == "__main__":
    main()
