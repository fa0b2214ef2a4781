"""Faults of what the workers stand on: Redis restarted (append-only file) or flushed mid-run,
PostgreSQL restarted mid-run, a webhook endpoint down, failing, hanging, then back. Real
`wirewatch worker` and `scheduler` processes; the same end-state checks as every fault test."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from storage.db import session_scope
from storage.models import Delivery
from tests.support.faults import (
    BOUND,
    TOTAL_TIMEOUT,
    Cluster,
    PrivatePostgres,
    SlowPages,
    check_invariants,
    fetching,
    make_deliveries_due,
    publish_feeds,
    subscribe,
)
from tests.support.processes import Processes, wait_for


@pytest.fixture
def private_pg():
    """A PostgreSQL of this test's own, stopped and removed at the end even if the test fails."""
    try:
        pg = PrivatePostgres()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"cannot start a private PostgreSQL: {exc}")
    yield pg
    pg.close()


def run_with_slow_pages(cluster: Cluster, server, hook, *, concurrency: int = 1) -> SlowPages:  # noqa: ANN001
    pages = SlowPages(delay=3)
    subscribe(
        cluster.db_url, publish_feeds(server, feeds=2, items=3, pages=pages), hook_url=hook.url
    )
    cluster.worker(concurrency=concurrency)
    cluster.scheduler()
    assert pages.started.wait(90), cluster.procs.log("w0")
    wait_for(lambda: fetching(cluster.db_url) >= 1, timeout=5, message="a fetch in flight")
    return pages


def test_redis_restarted_mid_run(cluster, server, hook) -> None:
    pages = run_with_slow_pages(cluster, server, hook)
    cluster.redis.restart(down_for=2)
    pages.slow = False
    took = cluster.wait_settled(articles=6, deliveries=6, timeout=BOUND + 45)
    summary = check_invariants(cluster.db_url, articles=6, hook=hook)
    print(f"settled {took:.1f}s after Redis came back", summary)


def test_redis_flushed_mid_run(cluster, server, hook) -> None:
    pages = run_with_slow_pages(cluster, server, hook)
    cluster.redis.flushall()  # every queued message is gone; the database still knows the work
    pages.slow = False
    took = cluster.wait_settled(articles=6, deliveries=6, timeout=BOUND + 45)
    summary = check_invariants(cluster.db_url, articles=6, hook=hook)
    print(f"settled {took:.1f}s after FLUSHALL", summary)


def test_postgres_restarted_mid_run(private_pg, redis_server, server, hook, tmp_path) -> None:
    db_url = private_pg.create_database()
    procs = Processes(tmp_path)
    cluster = Cluster(db_url, redis_server, procs)
    try:
        pages = run_with_slow_pages(cluster, server, hook, concurrency=2)
        private_pg.restart(down_for=3)
        pages.slow = False
        took = cluster.wait_settled(articles=6, deliveries=6, timeout=BOUND + 60)
        summary = check_invariants(db_url, articles=6, hook=hook)
        assert all(p.poll() is None for _, p in procs.procs), "a process died with the database"
        print(f"settled {took:.1f}s after PostgreSQL came back", summary)
    finally:
        cluster.kill_all()


def delivery_row(db_url: str) -> Delivery | None:
    with session_scope(db_url) as s:
        return s.execute(select(Delivery)).scalars().first()


def test_webhook_down_then_failing_then_hanging_then_back(cluster, server, hook) -> None:
    hook.down()
    subscribe(cluster.db_url, publish_feeds(server, feeds=1, items=1), hook_url=hook.url)
    cluster.worker()
    cluster.scheduler()

    def attempts(n: int):  # noqa: ANN202
        def check():  # noqa: ANN202
            row = delivery_row(cluster.db_url)
            return row is not None and row.attempts >= n and row.state == "pending" and row

        return check

    row = wait_for(attempts(1), timeout=90, message="a refused attempt")
    assert "refused" in (row.last_error or "").lower() or row.last_error, row.last_error
    hook.up()
    hook.set_mode("fail")
    row = wait_for(attempts(2), timeout=20, message="the 5 s retry, answered 500")
    assert "500" in row.last_error
    hook.set_mode("hang")
    make_deliveries_due(cluster.db_url)  # the 5 min step of the schedule has passed
    began = time.monotonic()
    row = wait_for(attempts(3), timeout=30, message="an attempt that hangs")
    assert time.monotonic() - began >= TOTAL_TIMEOUT - 1
    hook.set_mode("ok")
    make_deliveries_due(cluster.db_url)
    cluster.wait_settled(articles=1, deliveries=1, timeout=30)
    summary = check_invariants(cluster.db_url, articles=1, hook=hook)
    assert set(hook.receipts) == {f"msg_{row.id}"}, "every attempt carries the same webhook-id"
    assert hook.accepted == [f"msg_{row.id}"], "the alert arrived once"
    assert delivery_row(cluster.db_url).attempts == 4
    print(summary)
