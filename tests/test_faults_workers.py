"""Faults in distributed mode with real processes (`wirewatch worker` Celery workers, `wirewatch
scheduler`, a private Redis, PostgreSQL): killed pool processes, a killed worker, two schedulers.
Each test ends with every entry stored once (or failed with a reason), one alert per story and
subscription (counted by webhook-id at the receiver), and no duplicate rows."""

from __future__ import annotations

import signal
import time

import psutil
import pytest

from tests.support.faults import (
    PrivateRedis,
    SlowPages,
    Webhook,
    check_invariants,
    kill_children,
    pool_children,
    publish_feeds,
    settled,
    subscribe,
)
from tests.support.processes import Processes, wait_for, wirewatch_env

STUCK_AFTER = 10
SWEEP_INTERVAL = 1
TICK = 0.5
TOTAL_TIMEOUT = 4
# A killed worker's work is handed out again within stuck_after + sweep_interval + tick.
BOUND = STUCK_AFTER + SWEEP_INTERVAL + TICK


class Cluster:
    """A private Redis, a migrated database, and `wirewatch worker` / `scheduler` processes."""

    def __init__(self, db_url: str, redis: PrivateRedis, procs: Processes, **env: str) -> None:
        self.db_url, self.redis, self.procs = db_url, redis, procs
        self.env = wirewatch_env(
            db_url,
            WIREWATCH_BROKER_URL=redis.url(),
            WIREWATCH_STUCK_AFTER=str(STUCK_AFTER),
            WIREWATCH_SWEEP_INTERVAL=str(SWEEP_INTERVAL),
            WIREWATCH_SCHEDULER_TICK=str(TICK),
            WIREWATCH_POLL_LEASE="10",
            WIREWATCH_REDIS_VISIBILITY_TIMEOUT="60",
            WIREWATCH_TASK_TIME_LIMIT="30",
            WIREWATCH_CONNECT_TIMEOUT="2",
            WIREWATCH_READ_TIMEOUT=str(TOTAL_TIMEOUT),
            WIREWATCH_TOTAL_TIMEOUT=str(TOTAL_TIMEOUT),
            WIREWATCH_ALLOW_INSECURE_WEBHOOKS="true",
            **env,
        )

    def worker(self, name: str = "w0", concurrency: int = 2):  # noqa: ANN201
        return self.procs.start(
            name, ["worker", "-c", str(concurrency), "-n", f"{name}@%h"], self.env
        )

    def scheduler(self, name: str = "scheduler"):  # noqa: ANN201
        return self.procs.start(name, ["scheduler"], self.env)

    def kill_all(self) -> None:
        """End of test: SIGKILL every process group (a clean shutdown is not what is tested)."""
        for _, proc in self.procs.procs:
            self.procs.stop(proc, signal.SIGKILL)

    def wait_settled(self, *, articles: int, deliveries: int | None, timeout: float) -> float:
        began = time.monotonic()
        wait_for(
            lambda: settled(self.db_url, articles=articles, deliveries=deliveries),
            timeout=timeout,
            message=f"{articles} final articles, {deliveries} alerts sent",
            interval=0.2,
        )
        return time.monotonic() - began


@pytest.fixture
def redis_server(tmp_path):
    server = PrivateRedis(tmp_path / "redis")
    yield server
    server.close()


@pytest.fixture
def hook():
    hook = Webhook()
    yield hook
    hook.close()


@pytest.fixture
def cluster(pg_url, redis_server, tmp_path):
    cluster = Cluster(pg_url, redis_server, Processes(tmp_path))
    yield cluster
    cluster.kill_all()


def fetching(db_url: str) -> int:
    from sqlalchemy import func, select

    from storage.db import session_scope
    from storage.models import Article

    with session_scope(db_url) as s:
        return s.execute(
            select(func.count()).select_from(Article).where(Article.state == "fetching")
        ).scalar_one()


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
