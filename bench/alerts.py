"""Alert latency benchmark: from an article becoming `processed` (its `processed_at`) to its
webhook arriving at the receiver, p50/p95, embedded (`wirewatch run` on SQLite) and distributed
(2 `wirewatch worker` + `wirewatch scheduler` on PostgreSQL and Redis DB 12).

Stories are published one by one over `--seconds` on the local newsdesk server; feeds are polled
every second and the scheduler ticks every 0.25 s. Each alert is traced through its webhook-id
(`msg_<delivery id>`) to the delivery, its story and the article that created the story.

    .venv/bin/python -m bench.alerts [--items 40] [--seconds 30] [--modes embedded,distributed]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench import deskrun
from bench.procs import bench_env, start

GOAL_P95 = 1.0
TAG = "al"


@dataclass
class Measured:
    mode: str
    expected: int
    values: list[float]
    queued: list[float]
    load: float

    def q(self, fraction: float) -> float | None:
        ordered = sorted(self.values)
        return ordered[round(fraction * (len(ordered) - 1))] if ordered else None

    @property
    def p50(self) -> float | None:
        return statistics.median(self.values) if self.values else None


def _epoch(moment: datetime) -> float:
    """Seconds since the epoch; naive datetimes from the database are UTC."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def latencies(url: str, hooks: list[dict]) -> tuple[list[float], list[float]]:
    """Arrival time of each webhook-id (first receipt) minus `processed_at` of the article that
    created the delivery's story; and minus the delivery's `created_at` (outbox to receiver)."""
    from storage.db import session_scope
    from storage.models import Article, Delivery, Story

    first: dict[int, float] = {}
    for hook in hooks:
        ident = hook["id"]
        if ident.startswith("msg_"):
            key = int(ident[4:])
            first[key] = min(first.get(key, hook["at"]), hook["at"])
    values, queued = [], []
    with session_scope(url) as session:
        for delivery_id, arrived in first.items():
            delivery = session.get(Delivery, delivery_id)
            story = session.get(Story, delivery.story_id) if delivery else None
            origin = story and (story.first_article_id or story.representative_article_id)
            article = session.get(Article, origin) if origin else None
            if article is not None and article.processed_at is not None:
                values.append(arrived - _epoch(article.processed_at))
                queued.append(arrived - _epoch(delivery.created_at))
    return values, queued


def _wait_polled(url: str, feeds: int, timeout: float = 120) -> None:
    from sqlalchemy import func, select

    from storage.db import session_scope
    from storage.models import Feed

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope(url) as session:
            polled = session.execute(
                select(func.count()).select_from(Feed).where(Feed.last_polled_at.is_not(None))
            ).scalar_one()
        if polled >= feeds:
            return
        time.sleep(0.5)
    raise RuntimeError(f"only {polled}/{feeds} feeds polled after {timeout:.0f} s")


def measure(
    mode: str, tmp: Path, *, feeds: int, topics: int, items: int, seconds: float
) -> Measured:
    """One mode on a fresh database and a fresh newsdesk; processes stopped, database dropped."""
    import redis

    desk = deskrun.Newsdesk(feeds=feeds, topics=topics, logdir=tmp)
    procs, cluster = [], None
    kind = "sqlite" if mode == "embedded" else "postgres"
    try:
        with deskrun.temp_database(kind, prefix="ww_alerts", folder=tmp) as url:
            env = bench_env(
                url,
                WIREWATCH_POLL_MIN_INTERVAL="1",
                WIREWATCH_SCHEDULER_TICK="0.25",
                WIREWATCH_ALLOW_INSECURE_WEBHOOKS="true",
            )
            deskrun.subscribe(url, desk, tag=TAG, interval=1)
            if mode == "embedded":
                procs.append(start(["run", "--no-api"], env=env, log=tmp / "alerts-run.log"))
            else:
                redis.Redis.from_url(deskrun.REDIS_PIPELINE).flushdb()
                env["WIREWATCH_BROKER_URL"] = deskrun.REDIS_PIPELINE
                cluster = deskrun.start_workers(env, tmp, count=2, concurrency=1, tag=TAG)
                procs.append(start(["scheduler"], env=env, log=tmp / "alerts-scheduler.log"))
            _wait_polled(url, feeds)
            load = os.getloadavg()[0]
            expected, hooks = deskrun.publish_and_wait(
                desk, items=items, seconds=seconds, topics=topics, hook_prefix=f"{TAG}-"
            )
            deskrun.stop_all(procs, cluster)
            values, queued = latencies(url, hooks)
    finally:
        deskrun.stop_all(procs, cluster)
        desk.close()
    label = "embedded" if mode == "embedded" else "distributed"
    return Measured(label, expected, values, queued, load)


def table(results: list[Measured]) -> Table:
    out = Table(title=f"processed → webhook received (goal p95 ≤ {GOAL_P95:.1f} s)")
    names = ("mode", "alerts", "p50 s", "p95 s", "max s", "outbox→hook p95/max s", "load", "goal")
    for name in names:
        out.add_column(name, justify="left" if name == "mode" else "right")
    for r in results:
        p95 = r.q(0.95)
        out.add_row(
            r.mode,
            f"{len(r.values)}/{r.expected}",
            f"{r.p50:.3f}" if r.p50 is not None else "-",
            f"{p95:.3f}" if p95 is not None else "-",
            f"{max(r.values):.3f}" if r.values else "-",
            f"{sorted(r.queued)[round(0.95 * (len(r.queued) - 1))]:.3f}/{max(r.queued):.3f}"
            if r.queued
            else "-",
            f"{r.load:.2f}",
            "met" if p95 is not None and p95 <= GOAL_P95 else "missed",
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=40, help="stories published")
    parser.add_argument("--seconds", type=float, default=30, help="publishing spread over")
    parser.add_argument("--feeds", type=int, default=10)
    parser.add_argument("--topics", type=int, default=20)
    parser.add_argument("--modes", default="embedded,distributed")
    args = parser.parse_args()
    console = Console(width=max(100, Console().width))
    results = []
    for mode in args.modes.split(","):
        with tempfile.TemporaryDirectory(prefix="ww-alerts-") as tmp:
            console.print(f"[bold]{mode}[/]: {args.items} stories over {args.seconds:.0f} s …")
            results.append(
                measure(
                    mode,
                    Path(tmp),
                    feeds=args.feeds,
                    topics=args.topics,
                    items=args.items,
                    seconds=args.seconds,
                )
            )
    console.print(table(results))
    load1, load5, load15 = os.getloadavg()
    console.print(
        f"load average now: {load1:.2f} {load5:.2f} {load15:.2f} on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
