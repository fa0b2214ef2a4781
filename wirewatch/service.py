"""Running Wirewatch: the always-on service and `run --once`, in embedded or distributed mode."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from scheduler.loop import run_loop, schedule_due, sweep, sweep_deliveries
from storage.db import session_scope
from storage.migrate import check_migrated
from storage.models import Article, Delivery, Feed, utcnow
from wirewatch.settings import Settings
from worker import delivery, pipeline
from worker.dispatch import CeleryDispatcher, Dispatcher, ThreadDispatcher
from worker.hostlimit import LocalHostLimiter

log = logging.getLogger(__name__)

# `run --once` leaves work that must wait longer than this (a host's Retry-After) pending in the
# database, for the next run, instead of holding the run open.
ONCE_MAX_DELAY = 30.0
API_START_TIMEOUT = 10.0  # seconds the service waits for its API to listen before polling


@dataclass
class RunSummary:
    feeds: int = 0
    feeds_failed: int = 0
    new_articles: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    finished: bool = True

    def as_dict(self) -> dict:
        return {
            "feeds": self.feeds,
            "feeds_failed": self.feeds_failed,
            "new_articles": self.new_articles,
            "articles_by_state": self.by_state,
            "seconds": round(self.seconds, 3),
            "finished": self.finished,
        }


def embedded_dispatcher(settings: Settings, *, max_delay: float | None = None) -> ThreadDispatcher:
    """Threads in this process running the pipeline, with in-process host slots."""
    dispatcher = ThreadDispatcher(settings.embedded_workers, max_delay=max_delay)
    ctx = pipeline.Context(
        settings=settings,
        dispatcher=dispatcher,
        limiter=LocalHostLimiter(settings.host_concurrency),
    )
    dispatcher.poll_handler = lambda feed_id: pipeline.refresh_feed(feed_id, ctx=ctx)
    dispatcher.article_handler = lambda article_id: pipeline.process_article(article_id, ctx=ctx)
    dispatcher.articles_handler = lambda ids: pipeline.process_articles(ids, ctx=ctx)
    dispatcher.delivery_handler = lambda ids: delivery.deliver(ids, ctx=ctx)
    return dispatcher


def celery_dispatcher(settings: Settings) -> CeleryDispatcher:
    return CeleryDispatcher(max_delay=settings.redis_visibility_timeout / 2)


def run_once(
    settings: Settings,
    *,
    timeout: float = 3600,
    on_progress: Callable[[int, int], None] | None = None,
) -> RunSummary:
    """Poll every enabled feed once and wait until all the work that follows is finished."""
    check_migrated(settings.database_url)
    start = utcnow()
    began = time.monotonic()
    if settings.embedded:
        dispatcher: Dispatcher = embedded_dispatcher(settings, max_delay=ONCE_MAX_DELAY)
    else:
        dispatcher = celery_dispatcher(settings)
    try:
        sweep(settings=settings, dispatcher=dispatcher)
        sweep_deliveries(settings=settings, dispatcher=dispatcher, grace=0)
        feed_ids = schedule_due(settings=settings, dispatcher=dispatcher, all_enabled=True)
        finished = _wait_until_done(settings, dispatcher, feed_ids, start, timeout, on_progress)
    finally:
        if isinstance(dispatcher, ThreadDispatcher):
            dispatcher.close()
    summary = summarise(settings, feed_ids, start)
    summary.seconds = time.monotonic() - began
    summary.finished = finished
    return summary


def _wait_until_done(settings, dispatcher, feed_ids, start, timeout, on_progress) -> bool:  # noqa: ANN001
    """Embedded: until this process has nothing queued, running or shortly due. Distributed: the
    database says when the run is done (every feed polled, no new article or due alert left)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if isinstance(dispatcher, ThreadDispatcher):
            idle = dispatcher.wait_idle(timeout=0.5)
            if on_progress:
                on_progress(*_progress(settings, feed_ids, start)[:1], len(feed_ids))
            if idle:
                return True
            continue
        polled, unfinished = _progress(settings, feed_ids, start)
        if on_progress:
            on_progress(polled, len(feed_ids))
        if polled >= len(feed_ids) and unfinished == 0:
            return True
        time.sleep(0.5)
    return False


def _progress(settings: Settings, feed_ids: list[int], start: datetime) -> tuple[int, int]:
    """(feeds polled since start, work still unfinished: new articles and due alerts)."""
    with session_scope(settings.database_url) as session:
        polled = session.execute(
            select(func.count()).select_from(Feed).where(Feed.last_polled_at >= start)
        ).scalar_one()
        unfinished = session.execute(
            select(func.count())
            .select_from(Article)
            .where(Article.created_at >= start, Article.state.in_(("pending", "fetching")))
        ).scalar_one()
        alerts = session.execute(
            select(func.count())
            .select_from(Delivery)
            .where(
                Delivery.created_at >= start,
                Delivery.state.in_(("pending", "sending")),
                Delivery.next_attempt_at <= utcnow(),
            )
        ).scalar_one()
    return min(int(polled), len(feed_ids)), int(unfinished) + int(alerts)


def summarise(settings: Settings, feed_ids: list[int], start: datetime) -> RunSummary:
    with session_scope(settings.database_url) as session:
        failed = session.execute(
            select(func.count())
            .select_from(Feed)
            .where(Feed.last_polled_at >= start, Feed.error_count > 0)
        ).scalar_one()
        rows = session.execute(
            select(Article.state, func.count())
            .where(Article.created_at >= start)
            .group_by(Article.state)
        ).all()
    by_state = {state: int(n) for state, n in rows}
    return RunSummary(
        feeds=len(feed_ids),
        feeds_failed=int(failed),
        new_articles=sum(by_state.values()),
        by_state=by_state,
    )


def run_forever(settings: Settings, *, with_api: bool = True) -> None:
    """The always-on service: the scheduler loop plus, in embedded mode, the worker threads."""
    check_migrated(settings.database_url)
    stop = threading.Event()

    def _stop(signum, _frame):  # noqa: ANN001
        log.info("stopping", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    if settings.embedded:
        dispatcher: Dispatcher = embedded_dispatcher(settings)
        mode = f"embedded, {settings.embedded_workers} worker threads"
    else:
        dispatcher = celery_dispatcher(settings)
        mode = "distributed, work goes to Celery"
    server = start_api_thread(settings, dispatcher) if with_api else None
    if server is not None:
        mode += f"; API and web UI on http://{settings.api_host}:{settings.api_port}/"
    log.info("wirewatch running (%s)", mode, extra={"database": _db_name(settings)})
    try:
        run_loop(settings=settings, dispatcher=dispatcher, stop=stop)
    finally:
        if isinstance(dispatcher, ThreadDispatcher):
            dispatcher.close()
        if server is not None:
            server.should_exit = True
    log.info("stopped")


def start_api_thread(settings: Settings, dispatcher: Dispatcher | None = None):  # noqa: ANN201
    """The REST API and web UI, served from a thread of this process; articles pushed by WebSub
    hubs go to `dispatcher`."""
    from api.server import make_server

    server = make_server(settings, dispatcher=dispatcher)
    thread = threading.Thread(target=server.run, name="wirewatch-api", daemon=True)
    thread.start()
    # Listening before the first poll: a WebSub hub verifies a subscription the moment it is
    # asked, at this API, and one that finds no one listening gives up.
    deadline = time.monotonic() + API_START_TIMEOUT
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        log.error("the API did not start listening on %s:%s", settings.api_host, settings.api_port)
    return server


def _db_name(settings: Settings) -> str:
    path = settings.sqlite_path()
    return str(path) if path else settings.database_url.rsplit("@", 1)[-1]
