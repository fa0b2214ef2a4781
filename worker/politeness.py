"""Before a request to a host: may we ask now (Retry-After, Crawl-delay), and may we ask for this
page at all (robots.txt)? Every answer comes from, and is recorded in, the shared database.

The check runs inside the transaction that claims the article (one round of statements, not
three sessions); parsed robots.txt rules are kept per process, keyed by the time the shared copy
was fetched, so each text is read and parsed once per process rather than once per page.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from storage import hosts as host_store
from storage.db import session_scope
from worker.robots import RobotsRules, fetch_robots, parse_robots, rules_for

ROBOTS_TTL = timedelta(hours=24)
PARSED_KEPT = 512  # hosts whose parsed robots.txt this process keeps


@dataclass(frozen=True)
class Verdict:
    wait: float = 0.0  # seconds to wait before asking this host again
    refused: str | None = None  # why this page must not be fetched (robots.txt)


def check_page(
    ctx,  # noqa: ANN001
    *,
    session: Session,
    url: str,
    host: str,
    now: datetime,
    states: dict | None = None,
) -> Verdict | None:
    """The verdict from what the database holds, inside the caller's write transaction (a turn
    is taken when the host has a Crawl-delay). None: the host's robots.txt must be fetched first,
    outside any transaction (`before_page_request`). `states`: host -> its state, read once per
    transaction (pages of one batch mostly share their host)."""
    s = ctx.settings
    if states is not None and host in states:
        state = states[host]
    else:
        state = host_store.politeness_state(session=session, host=host)
        if states is not None:
            states[host] = state
    if state is not None and state.blocked_until is not None and state.blocked_until > now:
        return Verdict(wait=(state.blocked_until - now).total_seconds())
    if not s.respect_robots:
        return Verdict()
    fetched = state.robots_fetched_at if state is not None else None
    if fetched is None or fetched < now - ROBOTS_TTL:
        return None
    rules = _rules(session, host, fetched, url, s.user_agent)
    return _judge(session, host, now, rules)


def before_page_request(ctx, *, url: str, host: str, now: datetime) -> Verdict:  # noqa: ANN001
    """The verdict for fetching an article page in sessions of its own, fetching the host's
    robots.txt when the shared copy is missing or stale."""
    s = ctx.settings
    with session_scope(s.database_url) as session:
        verdict = check_page(ctx, session=session, url=url, host=host, now=now)
    if verdict is not None:
        return verdict
    robots = _fetch_and_store_robots(ctx, url=url, host=host, now=now)
    rules = rules_for(robots, url, user_agent=s.user_agent)
    with session_scope(s.database_url) as session:
        return _judge(session, host, now, rules)


def _judge(session: Session, host: str, now: datetime, rules: RobotsRules) -> Verdict:
    if not rules.allowed:
        return Verdict(refused=f"robots.txt of {host} disallows this page for Wirewatch")
    if rules.crawl_delay:
        wait = host_store.take_turn(session=session, host=host, now=now)
        if wait > 0:
            return Verdict(wait=wait)
    return Verdict()


_parsed: OrderedDict[str, tuple[datetime, object]] = OrderedDict()
_parsed_guard = threading.Lock()


def _rules(session: Session, host: str, fetched: datetime, url: str, agent: str) -> RobotsRules:
    """Rules for `url` from the host's shared robots.txt of time `fetched`, parsed once."""
    with _parsed_guard:
        kept = _parsed.get(host)
        if kept is not None:
            _parsed.move_to_end(host)
    if kept is None or kept[0] != fetched:
        text = host_store.cached_robots(session=session, host=host, fresh_after=fetched) or ""
        kept = (fetched, parse_robots(text))
        with _parsed_guard:
            _parsed[host] = kept
            while len(_parsed) > PARSED_KEPT:
                _parsed.popitem(last=False)
    return kept[1].rules(url, user_agent=agent)


_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _fetch_and_store_robots(ctx, *, url: str, host: str, now: datetime) -> str:  # noqa: ANN001
    """One fetch of a host's robots.txt per process at a time: the threads that wait for it find
    it in the database when they get the lock (other processes may fetch it once more)."""
    s = ctx.settings
    with _locks_guard:
        lock = _locks.setdefault(host, threading.Lock())
    with lock:
        with session_scope(s.database_url, readonly=True) as session:
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
