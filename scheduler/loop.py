"""The polling loop: claim due feeds, hand out their ids, sweep stuck work. Nothing else.

Any number of these loops may run (two schedulers started by mistake, one per machine): claims
are atomic, so each due feed is polled once per interval.
"""

from __future__ import annotations

import logging
import threading
import time

from storage import articles as article_store
from storage import feeds as feed_store
from storage.db import session_scope
from storage.models import utcnow
from wirewatch.settings import Settings
from worker.dispatch import Dispatcher

log = logging.getLogger(__name__)

CLAIM_BATCH = 500


def schedule_due(
    *, settings: Settings, dispatcher: Dispatcher, all_enabled: bool = False
) -> list[int]:
    """Claim the feeds that are due (or every enabled one, in one statement) and dispatch them."""
    claimed: list[int] = []
    while True:
        with session_scope(settings.database_url) as session:
            ids = feed_store.claim_due_feeds(
                session=session,
                now=utcnow(),
                lease=settings.poll_lease,
                limit=None if all_enabled else CLAIM_BATCH,
                all_enabled=all_enabled,
            )
        for feed_id in ids:
            dispatcher.poll_feed(feed_id)
        claimed.extend(ids)
        if all_enabled or len(ids) < CLAIM_BATCH:
            return claimed


def sweep(*, settings: Settings, dispatcher: Dispatcher) -> list[int]:
    """Re-dispatch articles stuck in an unfinished state (lost message, killed worker)."""
    now = utcnow()
    with session_scope(settings.database_url) as session:
        ids = article_store.stuck_articles(
            session=session, now=now, stuck_after=settings.stuck_after
        )
        article_store.touch_articles(session=session, article_ids=ids, now=now)
    for article_id in ids:
        dispatcher.process_article(article_id)
    if ids:
        log.info("re-dispatched stuck articles", extra={"count": len(ids)})
    return ids


def run_loop(*, settings: Settings, dispatcher: Dispatcher, stop: threading.Event) -> None:
    """Until `stop` is set: claim due feeds every tick, sweep every sweep interval."""
    next_sweep = 0.0
    while not stop.is_set():
        try:
            schedule_due(settings=settings, dispatcher=dispatcher)
            if time.monotonic() >= next_sweep:
                sweep(settings=settings, dispatcher=dispatcher)
                next_sweep = time.monotonic() + settings.sweep_interval
        except Exception as exc:  # the database or broker away: say so, keep going
            log.error("scheduler pass failed: %s", exc)
        stop.wait(settings.scheduler_tick)
