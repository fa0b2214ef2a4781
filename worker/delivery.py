"""Sending alerts from the outbox: claim, build the message, send through the channel, record.

Retries follow the Standard Webhooks schedule (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
10 h), then the delivery is `dead` with its last error. A 410 disables the subscription. The
message id (`webhook-id`) is the outbox row's, so a receiver can drop repeats after a crash.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection
from datetime import datetime, timedelta
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
INLINE_BUDGET = 10.0  # seconds of sending per batch of articles; the rest go through the queue
INLINE_PAUSE = 600.0  # a subscription whose endpoint failed here goes through the queue so long


class Outgoing(NamedTuple):
    """A claimed alert, built and ready to send (`deliver` or the article's transaction)."""

    ids: list[int]
    subscription_id: int
    channel: str
    target: str
    secret: str
    attempts: int
    claimed_at: datetime
    alert: Alert


class NewAlert(NamedTuple):
    """A delivery just created for an article's story (see worker.tagging); `outgoing`: claimed
    and built in that transaction, for `send_new` to send after its commit."""

    delivery_id: int
    subscription_id: int
    channel: str
    outgoing: Outgoing | None = None


# (database, subscription id) -> when its last inline attempt failed
_failed_at: dict[tuple[str, int], float] = {}
_failed_lock = threading.Lock()


def sends_inline(sub, *, database_url: str) -> bool:  # noqa: ANN001
    """Whether a new delivery of `sub` (a subscription row) is sent by the article's worker
    (`send_new`): a webhook whose endpoint has not failed there in the last INLINE_PAUSE seconds.
    Such deliveries are created claimed, so the send needs no transaction of its own to claim."""
    if sub.channel != "webhook" or sub.digest_seconds:
        return False
    with _failed_lock:
        failed = _failed_at.get((database_url, sub.id))
    return failed is None or time.monotonic() - failed >= INLINE_PAUSE


def new_alerts(
    session,  # noqa: ANN001
    created: list[tuple[int, int, int]],
    subscriptions: list,
    *,
    claimed: Collection[int],
    now: datetime,
) -> list[NewAlert]:
    """The NewAlerts of deliveries just created, (id, subscription id, story id) each
    (`storage.deliveries.enqueue`); those of the subscriptions in `claimed` were created claimed
    (see `sends_inline`) and are built here, in the creating transaction, their stories read in
    one statement. `subscriptions`: rows of `subscription_store.active_for_topics`."""
    by_id = {sub.id: sub for sub in subscriptions}
    stories = read_stories(session, sorted({s for _, sub_id, s in created if sub_id in claimed}))
    alerts = []
    for delivery_id, sub_id, story_id in created:
        sub = by_id[sub_id]
        outgoing = None
        if sub_id in claimed:
            row = _Created(delivery_id, story_id, now)
            outgoing = Outgoing(
                ids=[delivery_id],
                subscription_id=sub_id,
                channel=sub.channel,
                target=sub.target,
                secret=sub.secret or "",
                attempts=1,
                claimed_at=now,
                alert=build_alert(session, [row], sub, stories=stories),
            )
        alerts.append(NewAlert(delivery_id, sub_id, sub.channel, outgoing))
    return alerts


class _Created(NamedTuple):
    """What `build_alert` reads of a delivery row."""

    id: int
    story_id: int
    created_at: datetime


def send_new(alerts: list[NewAlert], *, ctx, began: float | None = None) -> None:  # noqa: ANN001
    """Send the webhooks an article's transaction just created and claimed (`new_alerts`), after
    its commit, from this worker, without a hop through the queue (in distributed mode a Celery
    task per alert cost more CPU than sending it). Each attempt is an ordinary one (send, record;
    a failure is retried from the queue on the usual schedule) with INLINE_TIMEOUT as its
    deadline. The others (other channels, a subscription that failed here in the last
    INLINE_PAUSE seconds) and whatever is left after INLINE_BUDGET seconds go to the queue.
    The alerts sent are recorded together after the last (a batch's: one transaction).
    `began`: when the batch started sending, if it sends in parts (one budget for the batch)."""
    began = time.monotonic() if began is None else began
    sent: list[Outgoing] = []  # recorded together, in one transaction, when all have gone
    try:
        for alert in alerts:
            out = alert.outgoing
            if out is None:
                ctx.dispatcher.deliver([alert.delivery_id])
                continue
            if time.monotonic() - began > INLINE_BUDGET:
                with session_scope(ctx.settings.database_url) as session:
                    delivery_store.release(session=session, delivery_ids=out.ids, now=utcnow())
                ctx.dispatcher.deliver(out.ids)
                continue
            if _send(out, ctx=ctx, settings=ctx.inline_settings, sent=sent) != "sent":
                with _failed_lock:
                    if len(_failed_at) > 10_000:
                        _failed_at.clear()
                    _failed_at[(ctx.settings.database_url, out.subscription_id)] = time.monotonic()
    finally:
        _record_sent(ctx, sent)


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
        out = Outgoing(
            ids=ids,
            subscription_id=sub.id,
            channel=sub.channel,
            target=sub.target,
            secret=sub.secret or "",
            attempts=max(r.attempts for r in rows),
            claimed_at=now,
            alert=build_alert(session, rows, sub),
        )
    return _send(out, ctx=ctx, settings=settings or s)


def _send(out: Outgoing, *, ctx, settings, sent: list[Outgoing] | None = None) -> str:  # noqa: ANN001
    """Send a claimed alert through its channel and record the outcome (`sent`: a success is
    added there, for the caller to record with others: `_record_sent`)."""
    try:
        transport = transport_for(out.channel, settings=settings)
        if out.channel == "webhook":
            transport.send(out.alert, url=out.target, secret=out.secret)
        elif out.channel == "email":
            transport.send(out.alert, address=out.target)
        else:
            transport.send(out.alert, url=out.target)
    except TransportError as exc:
        return _failed(ctx, out.ids, out.subscription_id, out.attempts, exc, _log_fields(out))
    if sent is None:
        _record_sent(ctx, [out])
    else:
        sent.append(out)
    return "sent"


def _record_sent(ctx, outs: list[Outgoing]) -> None:  # noqa: ANN001
    """Record alerts sent, in one transaction (a digest also moves its subscription's mark)."""
    if not outs:
        return
    with session_scope(ctx.settings.database_url) as session:
        delivery_store.finish(
            session=session,
            delivery_ids=[i for out in outs for i in out.ids],
            now=utcnow(),
            state=DeliveryState.sent.value,
        )
        for out in outs:
            if len(out.ids) > 1 or out.alert.is_digest:
                sub_row = session.get(Subscription, out.subscription_id)
                sub_row.last_digest_at = out.claimed_at
                session.add(sub_row)
    for out in outs:
        log.info("alert sent", extra=_log_fields(out))
        metrics.ALERTS.labels(outcome="sent", channel=out.channel).inc()


def _log_fields(out: Outgoing) -> dict:
    return {"subscription_id": out.subscription_id, "deliveries": out.ids, "channel": out.channel}


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
_STORY_COLUMNS = (
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
)
_STORY = _STORY_COLUMNS.where(Story.__table__.c.id == bindparam("id"))
_STORIES = _STORY_COLUMNS.where(Story.__table__.c.id.in_(bindparam("ids", expanding=True)))


def _subscription(session, subscription_id: int):  # noqa: ANN001, ANN202
    """The subscription with its topic's name and query (a Core row), or None."""
    return session.execute(_SUBSCRIPTION, {"id": subscription_id}).first()


def build_alert(session, rows: list[Delivery], sub, *, stories: dict | None = None) -> Alert:  # noqa: ANN001
    """`sub`: a subscription row with `topic_name` and `topic_query` (see `_subscription`);
    `stories`: story dicts already read by this transaction, by id (filled as they are read)."""
    topic_dict = {"id": sub.topic_id, "name": sub.topic_name, "query": sub.topic_query}
    stories = [_story(session, r.story_id, stories) for r in rows]
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


def _story(session, story_id: int, read: dict | None) -> dict:  # noqa: ANN001
    """`story_dict`, read once per transaction when `read` keeps them (each caller gets its own
    copy: `build_alert` takes the article out of it)."""
    if read is None:
        return story_dict(session, story_id)
    if story_id not in read:
        read[story_id] = story_dict(session, story_id)
    kept = read[story_id]
    return {**kept, "article": dict(kept["article"])}


def read_stories(session, story_ids: list[int]) -> dict[int, dict]:  # noqa: ANN001
    """`story_dict` of several stories, in one statement (a merged one is followed on its own)."""
    if not story_ids:
        return {}
    read = {}
    for row in session.execute(_STORIES, {"ids": story_ids}):
        read[row.id] = _story_of(row) if row.merged_into_id is None else story_dict(session, row.id)
    return read


def story_dict(session, story_id: int) -> dict:  # noqa: ANN001
    """The story (followed to the one it was merged into) with its representative article and
    outlet, in one query."""
    row = session.execute(_STORY, {"id": story_id}).first()
    seen = {story_id}
    while row.merged_into_id is not None and row.merged_into_id not in seen:
        seen.add(row.merged_into_id)  # merged: the story that lives on speaks for it
        row = session.execute(_STORY, {"id": row.merged_into_id}).first()
    return _story_of(row)


def _story_of(row) -> dict:  # noqa: ANN001
    """A story row of `_STORY_COLUMNS` as an alert shows it."""
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
