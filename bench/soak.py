"""Sustained load with nothing lost: 2,000 feeds publishing continuously against distributed
Wirewatch (a scheduler and 2 Celery workers on PostgreSQL + Redis, a fresh database).

Usage: .venv/bin/python bench/soak.py [--minutes 30] [--feeds 2000] [--rate 4] [--interval 60]
       (--minutes 2 is the CI-sized run)

The newsdesk (bench/newsdesk_server.py, its own process, feeds spread over 20 loopback
addresses) publishes `--rate` events a second for `--minutes`: 55% new reports, 10% new wire
stories, 20% republished wire copies at other outlets, 10% edits (same guid, new text), 5%
deletions (the item leaves its feed and its page answers 404). Feeds keep their newest 20 items
and are polled every `--interval` seconds. 100 topics alert a webhook receiver in the newsdesk.
After publishing stops, the run waits (up to `--drain` s) until every feed has been polled again
and no article or alert is left unfinished, then checks the ledger (bench/soak_checks.py).

Reported: articles/s sustained, p95 feed-to-alert latency, RSS of every process at start (after
the first poll of every feed) and at the end (growth over 10% flagged), database size per 1,000
articles, and the ledger. Exits 1 if an item or alert was lost or duplicated.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from bench import deskrun  # noqa: E402
from bench.pipeline_modes import env_for  # noqa: E402
from bench.procs import start, stop  # noqa: E402
from bench.soak_checks import check  # noqa: E402
from storage.db import session_scope  # noqa: E402
from storage.models import Article, Delivery, Feed  # noqa: E402

REDIS = os.environ.get("WIREWATCH_BENCH_SOAK_REDIS", "redis://127.0.0.1:6379/13")
console = Console(width=int(os.environ.get("COLUMNS", "200")))


def counts(url: str) -> dict[str, int]:
    with session_scope(url) as s:
        states = dict(s.execute(select(Article.state, func.count()).group_by(Article.state)).all())
        due = s.execute(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.state.in_(("pending", "sending")))
        ).scalar_one()
        polled = s.execute(
            select(func.count()).select_from(Feed).where(Feed.last_polled_at.is_not(None))
        ).scalar_one()
    return {**states, "alerts_unsent": due, "feeds_polled": polled}


def snapshot(procs: dict[str, int]) -> dict[str, list[float]]:
    return {name: deskrun.rss_mib(pid) for name, pid in procs.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=4, help="newsdesk events per second")
    parser.add_argument("--interval", type=int, default=60, help="poll interval of every feed, s")
    parser.add_argument("--topics", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--drain", type=float, default=600, help="longest wait after publishing")
    parser.add_argument("--json", type=Path, help="also write the figures and ledger here")
    args = parser.parse_args()
    load, note = deskrun.load_note()
    console.rule("[bold]Wirewatch soak benchmark")
    console.print(
        f"{args.feeds} feeds polled every {args.interval} s, {args.rate} events/s for "
        f"{args.minutes:g} min, {args.topics} topics; distributed: scheduler + {args.workers} "
        f"workers × -c 1; load average {load:.2f} at start"
    )
    if note:
        console.print(f"[yellow]warning[/yellow]: {note}")
    import redis

    broker = redis.Redis.from_url(REDIS)
    broker.flushdb()
    with tempfile.TemporaryDirectory(prefix="ww-soak-") as tmp_name:
        tmp = Path(tmp_name)
        desk = deskrun.Newsdesk(feeds=args.feeds, topics=args.topics, window=20, logdir=tmp)
        cluster = scheduler = None
        try:
            with deskrun.temp_database("postgres", prefix="ww_soak") as url:
                env = env_for(
                    url,
                    WIREWATCH_BROKER_URL=REDIS,
                    WIREWATCH_POLL_MIN_INTERVAL=str(min(args.interval, 300)),
                    WIREWATCH_SCHEDULER_TICK="1",
                )
                feed_ids = deskrun.subscribe(url, desk, tag="soak", interval=args.interval)
                numbers = {fid: n for n, fid in enumerate(feed_ids)}
                cluster = deskrun.start_workers(
                    env, tmp, count=args.workers, concurrency=1, tag="soak"
                )
                scheduler = start(["scheduler"], env=env, log=tmp / "scheduler.log")
                procs = {f"worker {i + 1}": p for i, p in enumerate(cluster.pids)}
                procs["scheduler"] = scheduler.pid
                started = snapshot(procs)
                began = time.monotonic()
                while counts(url)["feeds_polled"] < args.feeds and time.monotonic() - began < 600:
                    time.sleep(2)
                console.print(f"first poll of every feed: {time.monotonic() - began:.0f} s")
                warm = snapshot(procs)
                result = soak(args, desk, url, procs)
                ledger = check(url, desk.state(), feed_numbers=numbers, tag="soak")
                end = snapshot(procs)
                with session_scope(url) as s:
                    size = s.execute(
                        text("SELECT pg_database_size(current_database())")
                    ).scalar_one()
                    articles = s.execute(select(func.count()).select_from(Article)).scalar_one()
            broker.flushdb()
        finally:
            if scheduler is not None:
                stop(scheduler)
            if cluster is not None:
                cluster.close()
            desk.close()
    return report(args, result, ledger, started, warm, end, size, articles)


def soak(args, desk: deskrun.Newsdesk, url: str, procs: dict[str, int]) -> dict:  # noqa: ANN001
    """Publish for the whole run, sampling progress; then drain. Returns the timeline."""
    seconds = args.minutes * 60
    before = counts(url)
    desk.soak(rate=args.rate, seconds=seconds)
    t0 = time.monotonic()
    timeline = []
    steady = None  # RSS once the article pipeline has run a while (its imports and caches made)
    steady_after = min(seconds * 0.2, 300)
    while time.monotonic() - t0 < seconds:
        time.sleep(min(30, max(1, seconds - (time.monotonic() - t0))))
        now = counts(url)
        timeline.append((time.monotonic() - t0, now))
        if steady is None and timeline[-1][0] >= steady_after:
            steady = snapshot(procs)
        console.print(
            f"  {timeline[-1][0]:6.0f} s  processed {now.get('processed', 0)}  failed "
            f"{now.get('failed', 0)}  pending {now.get('pending', 0) + now.get('fetching', 0)}  "
            f"alerts unsent {now['alerts_unsent']}  load {os.getloadavg()[0]:.1f}"
        )
    published_end = time.monotonic()
    at_end = counts(url)
    # Every feed must be polled once more after the last event, then the backlog must empty.
    time.sleep(args.interval * 1.3 + 5)
    while time.monotonic() - published_end < args.drain:
        now = counts(url)
        if now.get("pending", 0) + now.get("fetching", 0) + now["alerts_unsent"] == 0:
            break
        time.sleep(3)
    drained = time.monotonic() - published_end
    done = {k: v for k, v in counts(url).items()}
    return {
        "seconds": seconds,
        "before": before,
        "at_end": at_end,
        "done": done,
        "drain": drained,
        "timeline": timeline,
        "steady": steady or {},
        "steady_after": steady_after,
        "state": desk.state(),
    }


def report(args, result, ledger, started, warm, end, size, articles) -> int:  # noqa: ANN001, C901
    seconds = result["seconds"]
    finished = lambda c: c.get("processed", 0) + c.get("failed", 0)  # noqa: E731
    during = finished(result["at_end"]) - finished(result["before"])
    total = finished(result["done"]) - finished(result["before"])
    state = result["state"]
    latencies = sorted(
        h["at"] - state["first_published"][h["story"]]
        for h in {h["id"]: h for h in state["hooks"]}.values()
        if h["story"] in state["first_published"]
    )
    p = lambda q: latencies[min(len(latencies) - 1, round(q * (len(latencies) - 1)))]  # noqa: E731
    table = Table(title="Soak: throughput, latency, storage")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("newsdesk events", str(dict(state["soak"])))
    table.add_row(
        "articles finished during publishing",
        f"{during} in {seconds:.0f} s = {during / seconds:.2f}/s",
    )
    table.add_row(
        "articles finished including drain", f"{total} in {seconds + result['drain']:.0f} s"
    )
    table.add_row("drain after publishing stopped", f"{result['drain']:.0f} s")
    if latencies:
        table.add_row(
            "alert latency p50 / p95 / max (item in feed → webhook)",
            f"{p(0.5):.1f} / {p(0.95):.1f} / {latencies[-1]:.1f} s "
            f"(poll interval {args.interval} s)",
        )
    table.add_row(
        "database size per 1,000 articles",
        f"{size / 1024**2 / max(1, articles) * 1000:.1f} MiB "
        f"({size / 1024**2:.0f} MiB, {articles} articles)",
    )
    console.print(table)
    steady = result["steady"]
    mem = Table(
        title=f"RSS per process, MiB (start / after the first poll of every feed / "
        f"{result['steady_after']:.0f} s into publishing, the pipeline warmed up / end)"
    )
    for col in ("process", "start", "warm", "steady", "end", "growth since steady"):
        mem.add_column(col, justify="left" if col == "process" else "right")
    for name in end:
        s, w, st, e = (sum(x.get(name, [])) for x in (started, warm, steady, end))
        growth = _growth(st, e)
        flag = "[red]" if growth > 10 else ""
        mem.add_row(name, f"{s:.0f}", f"{w:.0f}", f"{st:.0f}", f"{e:.0f}", f"{flag}{growth:+.0f}%")
    console.print(mem)
    led = Table(title="Ledger: nothing lost, nothing duplicated")
    led.add_column("check")
    led.add_column("value", justify="right")
    led.add_row(
        "items published / served in a feed / never seen by a poll",
        f"{ledger.published} / {ledger.served} / {ledger.never_served}",
    )
    led.add_row("articles stored, by state", f"{ledger.stored} {ledger.by_state}")
    led.add_row("failure reasons", str(dict(ledger.failure_reasons.most_common(5))))
    led.add_row("lost items (served, not stored)", str(len(ledger.lost_items)))
    led.add_row("duplicated items", str(len(ledger.duplicated_items)))
    led.add_row("unfinished items", str(len(ledger.unfinished)))
    led.add_row("failed without a reason", str(len(ledger.failed_without_reason)))
    led.add_row("alerts in the outbox, by state", str(ledger.deliveries))
    led.add_row(
        "alerts received (distinct webhook-ids) / same id again",
        f"{ledger.alerts_received} / {ledger.redelivered}",
    )
    led.add_row("lost alerts", str(len(ledger.lost_alerts)))
    led.add_row("alerts still queued when the drain ended", str(len(ledger.unsent_alerts)))
    led.add_row(
        "duplicated alerts (one story, one subscription, two ids)",
        str(len(ledger.duplicated_alerts)),
    )
    led.add_row(
        "dedup misses (one newsdesk story alerted as two stories)", str(ledger.dedup_misses)
    )
    console.print(led)
    for name, items in (
        ("lost items", ledger.lost_items),
        ("duplicated items", ledger.duplicated_items),
        ("unfinished", ledger.unfinished),
        ("lost alerts", ledger.lost_alerts),
        ("alerts still queued", ledger.unsent_alerts),
        ("duplicated alerts", ledger.duplicated_alerts),
    ):
        if items:
            console.print(f"[red]{name}[/red] (first 10): {items[:10]}")
    if args.json:
        growth = {name: _growth(sum(steady.get(name, [])), sum(end.get(name, []))) for name in end}
        args.json.write_text(
            json.dumps(
                {
                    "minutes": args.minutes,
                    "feeds": args.feeds,
                    "articles_per_second": during / seconds,
                    "articles_finished": total,
                    "drain_seconds": result["drain"],
                    "alert_latency_p95": p(0.95) if latencies else None,
                    "alerts_received": ledger.alerts_received,
                    "rss_growth_percent": growth,
                    "db_mib_per_1000_articles": size / 1024**2 / max(1, articles) * 1000,
                    "ok": ledger.ok,
                    "ledger": {
                        "published": ledger.published,
                        "served": ledger.served,
                        "stored": ledger.stored,
                        "by_state": ledger.by_state,
                        "lost_items": ledger.lost_items,
                        "duplicated_items": ledger.duplicated_items,
                        "unfinished": ledger.unfinished,
                        "failed_without_reason": ledger.failed_without_reason,
                        "lost_alerts": ledger.lost_alerts,
                        "unsent_alerts": ledger.unsent_alerts,
                        "duplicated_alerts": ledger.duplicated_alerts,
                        "dedup_misses": ledger.dedup_misses,
                    },
                },
                indent=2,
                default=str,
            )
        )
    load, note = deskrun.load_note()
    console.print(f"load average at the end: {load:.2f}")
    if note:
        console.print(f"[yellow]warning[/yellow]: {note}")
    if not ledger.ok:
        console.print("[red]FAILED[/red]: something was lost, duplicated or not finished in time")
        return 1
    console.print("[green]OK[/green]: every served item stored once, every alert received once")
    return 0


def _growth(warm: float, end: float) -> float:
    """RSS growth from `warm` to `end`, in percent."""
    return (end - warm) / warm * 100 if warm else 0.0


if __name__ == "__main__":
    sys.exit(main())
