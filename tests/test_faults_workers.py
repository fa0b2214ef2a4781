"""Faults in distributed mode with real processes (`wirewatch worker` Celery workers, `wirewatch
scheduler`, a private Redis, PostgreSQL): killed pool processes, a killed worker, two schedulers.
Each test ends with every entry stored once (or failed with a reason), one alert per story and
subscription (counted by webhook-id at the receiver), and no duplicate rows."""

from __future__ import annotations

import signal
import time

import psutil

from tests.support.faults import (
    BOUND,
    Cluster,
    SlowPages,
    check_invariants,
    fetching,
    kill_children,
    pool_children,
    publish_feeds,
    subscribe,
)
from tests.support.processes import Processes, wait_for


def test_pool_process_killed_mid_fetch(cluster, server, hook) -> None:
    pages = SlowPages(delay=3)
    subscribe(
        cluster.db_url, publish_feeds(server, feeds=2, items=3, pages=pages), hook_url=hook.url
    )
    worker = cluster.worker()
    cluster.scheduler()
    assert pages.started.wait(90), cluster.procs.log("w0")
    wait_for(lambda: fetching(cluster.db_url) >= 1, timeout=5, message="a fetch in flight")
    assert kill_children(worker) >= 1
    pages.slow = False
    took = cluster.wait_settled(articles=6, deliveries=6, timeout=BOUND + 20)
    summary = check_invariants(cluster.db_url, articles=6, hook=hook)
    assert summary["failed"] == 0
    assert worker.poll() is None, "the worker itself survives the loss of a pool process"
    print(f"recovered in {took:.1f}s", summary)


def test_pool_process_killed_mid_delivery(cluster, server, hook) -> None:
    subscribe(cluster.db_url, publish_feeds(server, feeds=1, items=3), hook_url=hook.url)
    hook.set_mode("slow", delay=3)
    worker = cluster.worker()
    cluster.scheduler()
    assert hook.arrived.wait(90), cluster.procs.log("w0")
    time.sleep(0.3)
    assert kill_children(worker) >= 1
    hook.set_mode("ok")
    took = cluster.wait_settled(articles=3, deliveries=3, timeout=BOUND + 20)
    summary = check_invariants(cluster.db_url, articles=3, hook=hook)
    print(f"recovered in {took:.1f}s", summary)


def test_whole_worker_killed_then_restarted_recovers_within_the_bound(
    cluster, server, hook
) -> None:
    pages = SlowPages(delay=5)
    subscribe(
        cluster.db_url, publish_feeds(server, feeds=2, items=3, pages=pages), hook_url=hook.url
    )
    worker = cluster.worker()
    cluster.scheduler()
    assert pages.started.wait(90), cluster.procs.log("w0")
    wait_for(lambda: fetching(cluster.db_url) >= 1, timeout=5, message="a fetch in flight")
    children = pool_children(worker)
    cluster.procs.stop(worker, signal.SIGKILL)  # the whole process group, main process too
    _, alive = psutil.wait_procs(children, timeout=5)
    assert all(c.status() == psutil.STATUS_ZOMBIE for c in alive), alive
    killed = time.monotonic()
    pages.slow = False
    cluster.worker("w1")
    took = cluster.wait_settled(articles=6, deliveries=6, timeout=BOUND + 25)
    summary = check_invariants(cluster.db_url, articles=6, hook=hook)
    total = time.monotonic() - killed
    # worker start-up and the work itself come on top of the bound
    assert total < BOUND + 20, total
    print(f"recovered {total:.1f}s after the kill (bound {BOUND}s + start-up)", took, summary)


def test_two_schedulers_poll_each_feed_once_per_interval(
    pg_url, redis_server, server, tmp_path
) -> None:
    interval = 3
    procs = Processes(tmp_path)
    cluster = Cluster(
        pg_url,
        redis_server,
        procs,
        WIREWATCH_POLL_MIN_INTERVAL=str(interval),
        WIREWATCH_POLL_MAX_INTERVAL=str(interval),
        WIREWATCH_POLL_DEFAULT_INTERVAL=str(interval),
        WIREWATCH_POLL_JITTER="0",
    )
    try:
        polls: dict[int, list[float]] = {}
        urls = publish_feeds(server, feeds=3, items=2, polls=polls)
        subscribe(pg_url, urls)
        cluster.worker(concurrency=2)
        cluster.scheduler("s1")
        cluster.scheduler("s2")
        cluster.scheduler("s3")
        wait_for(lambda: all(polls[i] for i in range(3)), timeout=90, message="first polls")
        time.sleep(4 * interval)
    finally:
        cluster.kill_all()
    for i in range(3):
        times = polls[i]
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        assert 4 <= len(times) <= 6, (i, len(times), gaps)
        assert min(gaps) >= interval - 0.5, f"feed {i} polled twice within one interval: {gaps}"
    check_invariants(pg_url, articles=6)
