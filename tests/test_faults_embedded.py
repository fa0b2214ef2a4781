"""Faults in embedded mode (`wirewatch run`, one process on a SQLite file): SIGKILL mid-run then
a restart finishes everything once; a read-only or full disk is reported and corrupts nothing."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.db import session_scope
from storage.migrate import upgrade
from storage.models import Article
from tests.support.faults import (
    SlowPages,
    TinyDisk,
    Webhook,
    check_invariants,
    dispose_engine,
    publish_feeds,
    settled,
    subscribe,
)
from tests.support.processes import Processes, run_cli, wait_for, wirewatch_env

STUCK_AFTER = 10
SWEEP_INTERVAL = 1
# Recovery bound after a restart: stuck_after + sweep_interval + scheduler tick (+ the work).
BOUND = STUCK_AFTER + SWEEP_INTERVAL + 0.5


def embedded_env(db_url: str, **extra: str) -> dict[str, str]:
    return wirewatch_env(
        db_url,
        WIREWATCH_STUCK_AFTER=str(STUCK_AFTER),
        WIREWATCH_SWEEP_INTERVAL=str(SWEEP_INTERVAL),
        WIREWATCH_POLL_LEASE="10",
        WIREWATCH_EMBEDDED_WORKERS="4",
        WIREWATCH_TOTAL_TIMEOUT="8",
        WIREWATCH_ALLOW_INSECURE_WEBHOOKS="true",
        **extra,
    )


@pytest.fixture
def hook():
    hook = Webhook()
    yield hook
    hook.close()


def count_state(db_url: str, state: str) -> int:
    with session_scope(db_url) as s:
        return s.execute(
            select(func.count()).select_from(Article).where(Article.state == state)
        ).scalar_one()


def integrity(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def test_embedded_killed_mid_fetch_and_restarted_finishes_everything_once(
    sqlite_url, server, hook, tmp_path
) -> None:
    pages = SlowPages(delay=4)
    urls = publish_feeds(server, feeds=2, items=4, pages=pages)
    subscribe(sqlite_url, urls, hook_url=hook.url)
    env = embedded_env(sqlite_url)
    procs = Processes(tmp_path)
    try:
        first = procs.start("run1", ["run", "--no-api"], env)
        assert pages.started.wait(90), procs.log("run1")
        wait_for(
            lambda: count_state(sqlite_url, "fetching") >= 2,
            timeout=10,
            message="articles being fetched",
        )
        procs.stop(first, signal.SIGKILL)
        killed_at = time.monotonic()
        assert count_state(sqlite_url, "fetching") >= 2  # the kill left claimed work behind
        pages.slow = False
        procs.start("run2", ["run", "--no-api"], env)
        wait_for(
            lambda: settled(sqlite_url, articles=8, deliveries=8),
            timeout=BOUND + 20,
            message="every article and alert after the restart",
        )
        took = time.monotonic() - killed_at
        procs.stop_all()
    finally:
        procs.stop_all()
    summary = check_invariants(sqlite_url, articles=8, hook=hook)
    assert summary["failed"] == 0 and summary["deliveries"] == 8
    assert took < BOUND + 20
    dispose_engine(sqlite_url)
    assert integrity(Path(sqlite_url.split(":///", 1)[1])) == "ok"


@pytest.fixture
def disk(tmp_path):
    try:
        disk = TinyDisk(tmp_path / "disk", size="16m")
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {exc}")
    yield disk
    disk.close()


def test_full_disk_is_reported_and_nothing_is_lost_or_corrupted(disk, server, tmp_path) -> None:
    db_url = f"sqlite:///{disk.path / 'wirewatch.db'}"
    upgrade(db_url)
    pages = SlowPages(delay=2)
    subscribe(db_url, publish_feeds(server, feeds=2, items=3, pages=pages))
    procs = Processes(tmp_path)
    try:
        proc = procs.start("run", ["run", "--no-api"], embedded_env(db_url))
        assert pages.started.wait(90), procs.log("run")
        before = len(procs.log("run"))
        disk.fill()
        wait_for(
            lambda: "database is not writable" in procs.log("run")[before:],
            timeout=15,
            message="the service to say the database is not writable",
        )
        during = procs.log("run")[before:]
        assert "database or disk is full" in during and "Traceback" not in during, during
        assert proc.poll() is None, "the service waits for space rather than dying"
        disk.free()
        pages.slow = False
        wait_for(
            lambda: settled(db_url, articles=6),
            timeout=BOUND + 30,
            message="every article once there is space again",
        )
    finally:
        procs.stop_all()
    check_invariants(db_url, articles=6)
    dispose_engine(db_url)
    assert integrity(disk.path / "wirewatch.db") == "ok"


def test_read_only_database_stops_the_service_with_a_message(disk, tmp_path) -> None:
    db_url = f"sqlite:///{disk.path / 'wirewatch.db'}"
    upgrade(db_url)
    dispose_engine(db_url)
    disk.read_only()
    result = run_cli(["run", "--no-api"], embedded_env(db_url), timeout=120)
    assert result.returncode != 0
    assert "cannot open the database" in result.stderr or "not writable" in result.stderr, (
        result.stderr
    )
    disk.read_write()
    assert integrity(disk.path / "wirewatch.db") == "ok"
