"""Sending alerts from the outbox: claim, build the message, send through the channel, record.

Retries follow the Standard Webhooks schedule (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
10 h), then the delivery is `dead` with its last error. A 410 disables the subscription. The
message id (`webhook-id`) is the outbox row's, so a receiver can drop repeats after a crash.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import NamedTuple

from sqlalchemy import bindparam, func, select

from storage import deliveries as delivery_store
from storage import subscriptions as subscription_store
from storage.db import session_scope
from storage.models import (
    Article,
    Delivery,
    DeliveryState,
    Feed,
    Story,
    Subscription,
    Topic,
    utcnow,
)
from wirewatch import metrics
from worker.alerts import Alert, TransportError, transport_for

log = logging.getLogger(__name__)

# Delay before attempt n+1 after attempt n failed (index n); past the end: dead.
RETRY_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)
LEASE = 300  # a delivery left in `sending` this long (its sender died) may be taken again

# New webhook alerts are sent by the worker that created them, right after its commit (see
# `send_new`): within these bounds, so a failing or hanging endpoint holds up articles little.
INLINE_TIMEOUT = 5.0  # seconds one such attempt may take (the queue's attempts take the full)
INLINE_BUDGET = 10.0  # seconds of sending per article; the rest go through the queue
INLINE_PAUSE = 600.0  # a subscription whose endpoint failed here goes through the queue so long


class NewAlert(NamedTuple):
    """A delivery just created for an article's story (see worker.tagging)."""

    delivery_id: int
    subscription_id: int
    channel: str


# (database, subscription id) -> when its last inline attempt failed
_failed_at: dict[tuple[str, int], float] = {}
_failed_lock = threading.Lock()


def send_new(alerts: list[NewAlert], *, ctx) -> None:  # noqa: ANN001
    """Send the webhooks an article's transaction just created from this worker, after its
    commit, without a hop through the queue (in distributed mode a Celery task per alert cost
    more CPU than sending it). Each attempt is an ordinary one (claim, send, record; a failure is
    retried from the queue on the usual schedule) with INLINE_TIMEOUT as its deadline. Other
    channels, a subscription that failed here in the last INLINE_PAUSE seconds, and whatever
    is left after INLINE_BUDGET seconds are handed to the queue."""
    began = time.monotonic()
    for alert in alerts:
        now = time.monotonic()
        key = (ctx.settings.database_url, alert.subscription_id)
        with _failed_lock:
            paused = now - _failed_at.get(key, -INLINE_PAUSE) < INLINE_PAUSE
        if alert.channel != "webhook" or paused or now - began > INLINE_BUDGET:
            ctx.dispatcher.deliver([alert.delivery_id])
            continue
        outcome = deliver([alert.delivery_id], ctx=ctx, settings=ctx.inline_settings)
        if outcome not in ("sent", None):
            with _failed_lock:
                if len(_failed_at) > 10_000:
                    _failed_at.clear()
                _failed_at[key] = time.monotonic()


def inline_settings(settings):  # noqa: ANN001, ANN201
    """`settings` with every timeout within INLINE_TIMEOUT (see `send_new`)."""
    return settings.model_copy(
        update={
            name: min(getattr(settings, name), INLINE_TIMEOUT)
            for name in ("connect_timeout", "read_timeout", "total_timeout")
        }
    )


def lease(settings) -> int:  # noqa: ANN001
    """The `sending` lease: LEASE, shortened to WIREWATCH_STUCK_AFTER (like every other unit of
    work) but never below one send's deadline, so a live sender is not raced."""
    return int(min(LEASE, max(settings.stuck_after, settings.total_timeout + 5)))


def deliver(delivery_ids: list[int], *, ctx, settings=None) -> str | None:  # noqa: ANN001
    """Send one alert (one id) or one digest (several ids of one subscription). `settings`:
    the sending's own (timeouts), if not the context's."""
    s = ctx.settings
    now = utcnow()
    with session_scope(s.database_url) as session:
        rows = delivery_store.claim(
            session=session, delivery_ids=delivery_ids, now=now, lease=lease(s)
        )
        if not rows:
            return None
        ids = [r.id for r in rows]
        sub = _subscription(session, rows[0].subscription_id)
        if sub is None or sub.disabled:
            reason = "subscription disabled" + (f": {sub.disabled_reason}" if sub else "")
            delivery_store.finish(
                session=session,
                delivery_ids=ids,
                now=now,
                state=DeliveryState.dead.value,
                error=reason,
            )
            return "dead"
        alert = build_alert(session, rows, sub)
        channel, target, secret = sub.channel, sub.target, sub.secret
        attempts = max(r.attempts for r in rows)
    extra = {"subscription_id": sub.id, "deliveries": ids, "channel": channel}
    try:
        transport = transport_for(channel, settings=settings or s)
        if channel == "webhook":
            transport.send(alert, url=target, secret=secret or "")
        elif channel == "email":
            transport.send(alert, address=target)
        else:
            transport.send(alert, url=target)
    except TransportError as exc:
        return _failed(ctx, ids, sub.id, attempts, exc, extra)
    with session_scope(s.database_url) as session:
        delivery_store.finish(
            session=session, delivery_ids=ids, now=utcnow(), state=DeliveryState.sent.value
        )
        if len(ids) > 1 or alert.is_digest:
            sub_row = session.get(Subscription, sub.id)
            sub_row.last_digest_at = now
            session.add(sub_row)
    log.info("alert sent", extra=extra)
    metrics.ALERTS.labels(outcome="sent", channel=channel).inc()
    return "sent"


def _failed(ctx, ids, subscription_id, attempts, exc, extra) -> str:  # noqa: ANN001
    now = utcnow()
    dead = exc.permanent or exc.disable or attempts > len(RETRY_SCHEDULE)
    with session_scope(ctx.settings.database_url) as session:
        if exc.disable:
            subscription_store.disable_subscription(
                session=session, subscription_id=subscription_id, reason=str(exc)
            )
        if dead:
            delivery_store.finish(
                session=session,
                delivery_ids=ids,
                now=now,
                state=DeliveryState.dead.value,
                error=str(exc),
            )
        else:
            delay = RETRY_SCHEDULE[attempts - 1]
            delivery_store.finish(
                session=session,
                delivery_ids=ids,
                now=now,
                state=DeliveryState.pending.value,
                error=str(exc),
                next_attempt_at=now + timedelta(seconds=delay),
            )
    log.warning("alert failed: %s", exc, extra={**extra, "dead": dead})
    metrics.ALERTS.labels(outcome="dead" if dead else "retry", channel=extra["channel"]).inc()
    if not dead:
        ctx.dispatcher.deliver(ids, delay=RETRY_SCHEDULE[attempts - 1])
    return "dead" if dead else "retry"


# Built once: every alert runs these (building a statement costs more than running it).
_SUBSCRIPTION = (
    select(
        Subscription.__table__,
        Topic.__table__.c.name.label("topic_name"),
        Topic.__table__.c.query.label("topic_query"),
    )
    .join(Topic.__table__, Topic.__table__.c.id == Subscription.__table__.c.topic_id)
    .where(Subscription.__table__.c.id == bindparam("id"))
)
_STORY = (
    select(
        Story.__table__.c.id,
        Story.__table__.c.title,
        Story.__table__.c.first_seen_at,
        Story.__table__.c.wire_source.label("story_wire"),
        Story.__table__.c.member_count,
        Story.__table__.c.merged_into_id,
        Article.__table__.c.id.label("article_id"),
        Article.__table__.c.url,
        Article.__table__.c.canonical_url,
        Article.__table__.c.title.label("article_title"),
        Article.__table__.c.feed_title,
        Article.__table__.c.published,
        Article.__table__.c.site_name,
        Article.__table__.c.wire_source,
        func.substr(Article.__table__.c.text, 1, 500).label("summary"),
        Feed.__table__.c.title.label("feed"),
    )
    .outerjoin(
        Article.__table__,
        Article.__table__.c.id == Story.__table__.c.representative_article_id,
    )
    .outerjoin(Feed.__table__, Feed.__table__.c.id == Article.__table__.c.feed_id)
    .where(Story.__table__.c.id == bindparam("id"))
)


def _subscription(session, subscription_id: int):  # noqa: ANN001, ANN202
    """The subscription with its topic's name and query (a Core row), or None."""
    return session.execute(_SUBSCRIPTION, {"id": subscription_id}).first()


def build_alert(session, rows: list[Delivery], sub) -> Alert:  # noqa: ANN001
    """`sub`: a subscription row with `topic_name` and `topic_query` (see `_subscription`)."""
    topic_dict = {"id": sub.topic_id, "name": sub.topic_name, "query": sub.topic_query}
    stories = [story_dict(session, r.story_id) for r in rows]
    first = stories[0]
    if sub.digest_seconds:
        return Alert(
            delivery_id=f"msg_{rows[0].id}",
            story=first,
            topic=topic_dict,
            article=first.get("article", {}),
            stories=stories,
            created_at=rows[0].created_at,
        )
    return Alert(
        delivery_id=f"msg_{rows[0].id}",
        story=first,
        topic=topic_dict,
        article=first.pop("article", {}),
        created_at=rows[0].created_at,
    )


def story_dict(session, story_id: int) -> dict:  # noqa: ANN001
    """The story (followed to the one it was merged into) with its representative article and
    outlet, in one query."""
    row = session.execute(_STORY, {"id": story_id}).first()
    seen = {story_id}
    while row.merged_into_id is not None and row.merged_into_id not in seen:
        seen.add(row.merged_into_id)  # merged: the story that lives on speaks for it
        row = session.execute(_STORY, {"id": row.merged_into_id}).first()
    article_dict = {}
    if row.article_id is not None:
        article_dict = {
            "id": row.article_id,
            "url": row.canonical_url or row.url,
            "title": row.article_title or row.feed_title,
            "published": row.published,
            "source": row.site_name or row.feed,
            "wire_source": row.wire_source,
            "summary": row.summary or "",
        }
    return {
        "id": row.id,
        "title": row.title,
        "url": article_dict.get("url"),
        "first_seen": row.first_seen_at,
        "wire_source": row.story_wire,
        "members": row.member_count,
        "article": article_dict,
    }
