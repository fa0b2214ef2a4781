"""The polling loop: claim due feeds, hand out their ids, sweep stuck work. Nothing else.

Any number of these loops may run (two schedulers started by mistake, one per machine): claims
are atomic, so each due feed is polled once per interval.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from storage import articles as article_store
from storage import deliveries as delivery_store
from storage import feeds as feed_store
from storage import stories as story_store
from storage import subscriptions as subscription_store
from storage.db import session_scope
from storage.models import utcnow
from wirewatch.settings import Settings
from worker.delivery import lease
from worker.dispatch import Dispatcher, unwritable_reason

log = logging.getLogger(__name__)

CLAIM_BATCH = 500
# A pending alert younger than this was just handed out; the sweep leaves it to that message.
DELIVERY_GRACE = 10


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
    """Re-dispatch articles stuck in an unfinished state (lost message, killed worker), and
    prune the dedup index outside its window."""
    now = utcnow()
    with session_scope(settings.database_url) as session:
        ids = article_store.stuck_articles(
            session=session, now=now, stuck_after=settings.stuck_after
        )
        for article_id in ids:
            # A claim whose worker died: give it back (the attempt counts), or the touch below
            # would renew the dead claim and the re-dispatched message could never take it.
            article_store.release_article(
                session=session,
                article_id=article_id,
                now=now,
                error=f"the worker handling it stopped (no outcome after {settings.stuck_after}s)",
            )
        article_store.touch_articles(session=session, article_ids=ids, now=now)
        # The dedup index only needs the lookup window (and a day's margin).
        pruned = story_store.prune_keys(
            session=session, before=now - timedelta(days=settings.dedup_window_days + 1)
        )
    dispatcher.process_articles(ids)
    if ids:
        log.info("re-dispatched stuck articles", extra={"count": len(ids)})
    if pruned:
        log.info("pruned dedup keys outside the window", extra={"count": pruned})
    return ids


def sweep_deliveries(
    *, settings: Settings, dispatcher: Dispatcher, grace: float = DELIVERY_GRACE
) -> int:
    """Hand out alerts that are due: retries whose message was lost, senders that died, and
    digests whose time has come (all of one subscription's due stories in one message)."""
    now = utcnow()
    with session_scope(settings.database_url) as session:
        rows = delivery_store.due(
            session=session, now=now - timedelta(seconds=grace), lease=lease(settings)
        )
        subs = {s.id: s for s in subscription_store.list_subscriptions(session=session)}
    digests: dict[int, list[int]] = {}
    for row in rows:
        sub = subs.get(row.subscription_id)
        if sub is not None and sub.digest_seconds:
            digests.setdefault(sub.id, []).append(row.id)
        else:
            dispatcher.deliver([row.id])
    for ids in digests.values():
        dispatcher.deliver(ids)
    return len(rows)


def run_loop(*, settings: Settings, dispatcher: Dispatcher, stop: threading.Event) -> None:
    """Until `stop` is set: claim due feeds and hand out due alerts every tick; sweep stuck
    articles every sweep interval."""
    next_sweep = 0.0
    while not stop.is_set():
        try:
            schedule_due(settings=settings, dispatcher=dispatcher)
            if time.monotonic() >= next_sweep:
                sweep(settings=settings, dispatcher=dispatcher)
                next_sweep = time.monotonic() + settings.sweep_interval
            sweep_deliveries(settings=settings, dispatcher=dispatcher)
        except Exception as exc:  # the database or broker away: say so, keep going
            reason = unwritable_reason(exc)
            if reason:
                log.error("database is not writable: %s; no work is taken until it is", reason)
            else:
                log.error("scheduler pass failed: %s", exc)
        stop.wait(settings.scheduler_tick)
