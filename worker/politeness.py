"""Before a request to a host: may we ask now (Retry-After, Crawl-delay), and may we ask for this
page at all (robots.txt)? Every answer comes from, and is recorded in, the shared database."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage import hosts as host_store
from storage.db import session_scope
from worker.robots import fetch_robots, rules_for

ROBOTS_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class Verdict:
    wait: float = 0.0  # seconds to wait before asking this host again
    refused: str | None = None  # why this page must not be fetched (robots.txt)


def before_page_request(ctx, *, url: str, host: str, now: datetime) -> Verdict:  # noqa: ANN001
    """The verdict for fetching an article page: pause, refusal, or go (turn taken)."""
    s = ctx.settings
    with session_scope(s.database_url) as session:
        blocked = host_store.blocked_until(session=session, host=host)
        if blocked is not None and blocked > now:
            return Verdict(wait=(blocked - now).total_seconds())
        robots = (
            host_store.cached_robots(session=session, host=host, fresh_after=now - ROBOTS_TTL)
            if s.respect_robots
            else ""
        )
    if robots is None:
        robots = _fetch_and_store_robots(ctx, url=url, host=host, now=now)
    rules = rules_for(robots, url, user_agent=s.user_agent)
    if not rules.allowed:
        return Verdict(refused=f"robots.txt of {host} disallows this page for Wirewatch")
    if rules.crawl_delay:
        with session_scope(s.database_url) as session:
            wait = host_store.take_turn(session=session, host=host, now=now)
        if wait > 0:
            return Verdict(wait=wait)
    return Verdict()


_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _fetch_and_store_robots(ctx, *, url: str, host: str, now: datetime) -> str:  # noqa: ANN001
    """One fetch of a host's robots.txt per process at a time: the threads that wait for it find
    it in the database when they get the lock (other processes may fetch it once more)."""
    s = ctx.settings
    with _locks_guard:
        lock = _locks.setdefault(host, threading.Lock())
    with lock:
        with session_scope(s.database_url) as session:
            cached = host_store.cached_robots(
                session=session, host=host, fresh_after=now - ROBOTS_TTL
            )
        if cached is not None:
            return cached
        with ctx.limiter.slot(host):
            robots = fetch_robots(url, settings=s)
        delay = rules_for(robots, url, user_agent=s.user_agent).crawl_delay
        with session_scope(s.database_url) as session:
            host_store.store_robots(
                session=session,
                host=host,
                robots_txt=robots,
                now=now,
                crawl_delay=min(delay, s.retry_after_cap) if delay else None,
            )
        return robots
