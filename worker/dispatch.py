"""Handing work to whoever does it: threads in embedded mode, Celery in distributed mode.

Only ids travel; the database holds the state. Callers dispatch after their transaction commits.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

log = logging.getLogger(__name__)

# New articles are handed out this many at a time, to a Celery task or an embedded thread: a
# batch is claimed and stored in one transaction each (worker.pipeline.process_articles), and a
# Celery task costs its worker about as much CPU as storing an article. 8 rather than 4: about
# 1 ms less CPU per article in both modes (bench/pipeline.py); a slow host's batch does not
# hold its first articles back for the rest (worker.pipeline.STORE_AFTER).
ARTICLES_PER_TASK = 8

# What SQLite and PostgreSQL say when the database cannot take writes.
_UNWRITABLE = (
    "readonly database",
    "read-only",
    "disk is full",
    "no space left on device",
    "could not extend file",
    "disk i/o error",
)


def unwritable_reason(exc: BaseException) -> str | None:
    """The database's own words when `exc` means it cannot take writes (read-only, disk full)."""
    text = str(getattr(exc, "orig", None) or exc)
    lowered = text.lower()
    return text.strip().splitlines()[0] if any(m in lowered for m in _UNWRITABLE) else None


def batches(article_ids: list[int]) -> list[list[int]]:
    """New articles cut into batches of ARTICLES_PER_TASK."""
    ids = list(article_ids)
    return [ids[i : i + ARTICLES_PER_TASK] for i in range(0, len(ids), ARTICLES_PER_TASK)]


class Dispatcher(Protocol):
    def poll_feed(self, feed_id: int) -> None: ...

    def process_article(self, article_id: int, *, delay: float = 0) -> None: ...

    def process_articles(self, article_ids: list[int]) -> None: ...

    def deliver(self, delivery_ids: list[int], *, delay: float = 0) -> None: ...


class ThreadDispatcher:
    """Embedded mode: a pool of threads in this process runs the same pipeline functions."""

    def __init__(self, workers: int, *, max_delay: float | None = None) -> None:
        # max_delay: delayed work beyond it is not scheduled here (it stays pending in the
        # database for the sweep); `run --once` uses it so a host asking for an hour's pause
        # does not hold the run open.
        self.max_delay = max_delay
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wirewatch")
        self._lock = threading.Condition()
        self._in_flight = 0
        self._timers: set[threading.Timer] = set()
        self._closed = False
        # Bound late to break the import cycle with worker.pipeline.
        self.poll_handler: Callable[[int], None] | None = None
        self.article_handler: Callable[[int], None] | None = None
        self.articles_handler: Callable[[list[int]], None] | None = None
        self.delivery_handler: Callable[[list[int]], None] | None = None

    def poll_feed(self, feed_id: int) -> None:
        assert self.poll_handler is not None
        self._submit(self.poll_handler, feed_id)

    def process_article(self, article_id: int, *, delay: float = 0) -> None:
        assert self.article_handler is not None
        self._later(self.article_handler, article_id, delay)

    def process_articles(self, article_ids: list[int]) -> None:
        """ARTICLES_PER_TASK to a thread: a batch (worker.pipeline.process_articles)."""
        for chunk in batches(article_ids):
            assert self.articles_handler is not None
            self._submit(self.articles_handler, chunk)

    def deliver(self, delivery_ids: list[int], *, delay: float = 0) -> None:
        assert self.delivery_handler is not None
        self._later(self.delivery_handler, list(delivery_ids), delay)

    def _later(self, fn: Callable, item: object, delay: float) -> None:
        if delay <= 0:
            self._submit(fn, item)
            return
        if self.max_delay is not None and delay > self.max_delay:
            return
        with self._lock:
            if self._closed:
                return
            self._in_flight += 1
            timer = threading.Timer(delay, self._fire, (fn, item))
            timer.daemon = True
            self._timers.add(timer)
        timer.start()

    def _fire(self, fn: Callable, item: object) -> None:
        with self._lock:
            self._timers.discard(threading.current_thread())  # type: ignore[arg-type]
        self._submit(fn, item)
        self._done()

    def _submit(self, fn: Callable, item: object) -> None:
        with self._lock:
            if self._closed:
                return
            self._in_flight += 1
        try:
            self._pool.submit(self._run, fn, item)
        except RuntimeError:  # pool shut down
            self._done()

    def _run(self, fn: Callable, item: object) -> None:
        try:
            fn(item)
        except Exception as exc:  # the pipeline records its own failures; this is a bug guard
            reason = unwritable_reason(exc)
            if reason:  # the work stays in the database; the sweep hands it out again later
                log.error("database is not writable: %s", reason, extra={"item": item})
                return
            log.exception(
                "unhandled error in %s", getattr(fn, "__name__", fn), extra={"item": item}
            )
        finally:
            self._done()

    def _done(self) -> None:
        with self._lock:
            self._in_flight -= 1
            self._lock.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no work is queued, running or delayed; False on timeout."""
        with self._lock:
            return self._lock.wait_for(lambda: self._in_flight == 0, timeout=timeout)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for timer in self._timers:
                timer.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)


class CeleryDispatcher:
    """Distributed mode: Celery tasks on the Redis broker.

    Delays are capped below the broker's visibility timeout (Redis would otherwise hand a waiting
    task to a second worker); work that must wait longer simply waits again when it runs.
    """

    def __init__(self, *, max_delay: float) -> None:
        self.max_delay = max_delay

    def poll_feed(self, feed_id: int) -> None:
        from worker import tasks

        tasks.poll_feed.delay(feed_id)

    def process_article(self, article_id: int, *, delay: float = 0) -> None:
        from worker import tasks

        if delay > 0:
            tasks.process_article.apply_async((article_id,), countdown=min(delay, self.max_delay))
        else:
            tasks.process_article.delay(article_id)

    def process_articles(self, article_ids: list[int]) -> None:
        """New articles, ARTICLES_PER_TASK to a task (a batch: a few in one task still spread
        over the workers)."""
        from worker import tasks

        for chunk in batches(article_ids):
            if len(chunk) == 1:
                tasks.process_article.delay(chunk[0])
            else:
                tasks.process_articles.delay(chunk)

    def deliver(self, delivery_ids: list[int], *, delay: float = 0) -> None:
        from worker import tasks

        countdown = min(delay, self.max_delay) if delay > 0 else None
        tasks.deliver.apply_async((list(delivery_ids),), countdown=countdown)
