"""The outbox: one delivery per (subscription, story), claimed, retried and finished by state."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, delete, select, update
from sqlmodel import Session

from storage.db import dialect_insert_for, is_postgres
from storage.models import Delivery, DeliveryState, Subscription, utcnow

UNFINISHED = (DeliveryState.pending.value, DeliveryState.sending.value)


def enqueue(
    *,
    session: Session,
    new_topics: Mapping[int, Collection[int]],
    subscriptions: list[Subscription],
    now: datetime,
    sending: Collection[int] = (),
) -> list[tuple[int, int, int]]:
    """Create the deliveries the stories' new topics call for (`new_topics`: story id -> the
    topics new to it), in one statement; returns (id, subscription id, story id) of the
    immediate ones created now, by id (digest deliveries wait for their subscription's next
    digest). `subscriptions`: objects or rows with Subscription's columns. The deliveries of
    the subscriptions in `sending` are created already claimed (as `claim` leaves them), for the
    caller to send after its commit."""
    rows = []
    for story_id, topic_ids in new_topics.items():
        for sub in subscriptions:
            if sub.topic_id not in topic_ids or sub.disabled:
                continue
            when = now
            claimed = sub.id in sending and not sub.digest_seconds
            if sub.digest_seconds:
                last = sub.last_digest_at or sub.created_at
                when = max(now, last + timedelta(seconds=sub.digest_seconds))
            rows.append(
                {
                    "subscription_id": sub.id,
                    "story_id": story_id,
                    "topic_id": sub.topic_id,
                    "state": (DeliveryState.sending if claimed else DeliveryState.pending).value,
                    "attempts": int(claimed),
                    "next_attempt_at": when,
                    "state_changed_at": now,
                    "created_at": now,
                }
            )
    if not rows:
        return []
    created = session.execute(_enqueue_statement(is_postgres(session)), rows).all()
    # Digest rows always wait for the sweep, which sends each subscription's due stories in one
    # message; only immediate ones go out now.
    digests = {sub.id for sub in subscriptions if sub.digest_seconds}
    return sorted(tuple(row) for row in created if row[1] not in digests)


@cache
def _enqueue_statement(postgres: bool):  # noqa: ANN202
    """INSERT of one delivery per parameter set, skipping (subscription, story) pairs already
    there, returning the created rows' ids: built once, run for every batch that alerts."""
    d = Delivery.__table__
    return (
        dialect_insert_for(postgres)(d)
        .on_conflict_do_nothing(index_elements=["subscription_id", "story_id"])
        .returning(d.c.id, d.c.subscription_id, d.c.story_id)
    )


def claim(*, session: Session, delivery_ids: list[int], now: datetime, lease: int) -> list:
    """Take due deliveries for sending (or ones whose sender died: lease ran out); the claimed
    rows (Core rows with Delivery's columns), by id."""
    if not delivery_ids:
        return []
    params = {"ids": list(delivery_ids), "now": now, "stale": now - timedelta(seconds=lease)}
    rows = session.execute(_CLAIM, params).all()
    return sorted(rows, key=lambda row: row.id)


_D = Delivery.__table__.c
# Built once: every alert runs these (building a statement costs more than running it).
_CLAIM = (
    update(Delivery.__table__)
    .where(
        _D.id.in_(bindparam("ids", expanding=True)),
        ((_D.state == DeliveryState.pending.value) & (_D.next_attempt_at <= bindparam("now")))
        | ((_D.state == DeliveryState.sending.value) & (_D.state_changed_at < bindparam("stale"))),
    )
    .values(
        state=DeliveryState.sending.value,
        state_changed_at=bindparam("now"),
        attempts=_D.attempts + 1,
    )
    .returning(Delivery.__table__)
)


def release(*, session: Session, delivery_ids: list[int], now: datetime) -> None:
    """Hand claimed deliveries back unsent: due now, their claim's attempt not counted."""
    session.execute(
        update(Delivery.__table__)
        .where(_D.id.in_(delivery_ids), _D.state == DeliveryState.sending.value)
        .values(
            state=DeliveryState.pending.value,
            state_changed_at=now,
            next_attempt_at=now,
            attempts=_D.attempts - 1,
        )
    )


@cache
def _finish_statement(names: tuple[str, ...]):  # noqa: ANN202
    return (
        update(Delivery.__table__)
        .where(_D.id.in_(bindparam("ids", expanding=True)))
        .values(**{n: bindparam(f"v_{n}") for n in names})
    )


def finish(
    *,
    session: Session,
    delivery_ids: list[int],
    now: datetime,
    state: str,
    error: str | None = None,
    next_attempt_at: datetime | None = None,
) -> None:
    values: dict = {"state": state, "state_changed_at": now, "last_error": error}
    if state == DeliveryState.sent.value:
        values["sent_at"] = now
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    names = tuple(sorted(values))
    session.execute(
        _finish_statement(names),
        {"ids": list(delivery_ids), **{f"v_{n}": values[n] for n in names}},
    )


def due(*, session: Session, now: datetime, lease: int, limit: int = 1000) -> list[Delivery]:
    """Deliveries to hand out: pending and due, or stuck in `sending` past the lease."""
    stale = now - timedelta(seconds=lease)
    return list(
        session.execute(
            select(Delivery)
            .where(
                (
                    (Delivery.state == DeliveryState.pending.value)
                    & (Delivery.next_attempt_at <= now)
                )
                | (
                    (Delivery.state == DeliveryState.sending.value)
                    & (Delivery.state_changed_at < stale)
                )
            )
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(limit)
        ).scalars()
    )


def list_deliveries(
    *,
    session: Session,
    owner_id: int | None = None,
    failed_only: bool = False,
    limit: int = 50,
    before_id: int | None = None,
) -> list[Delivery]:
    query = select(Delivery).order_by(Delivery.id.desc()).limit(limit)
    if owner_id is not None:
        query = query.join(Subscription, Subscription.id == Delivery.subscription_id).where(
            Subscription.owner_id == owner_id
        )
    if failed_only:
        query = query.where(
            (Delivery.state == DeliveryState.dead.value) | (Delivery.last_error.is_not(None))
        )
    if before_id is not None:
        query = query.where(Delivery.id < before_id)
    return list(session.execute(query).scalars())


def count_unfinished(*, session: Session) -> int:
    from sqlalchemy import func

    return int(
        session.execute(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.state.in_(UNFINISHED), Delivery.next_attempt_at <= utcnow())
        ).scalar_one()
    )


def move_to_story(*, session: Session, from_ids: list[int], to_id: int) -> None:
    """After a merge: the surviving story keeps every delivery already made, so no subscriber is
    alerted again for the same news (a delivery both stories had stays once)."""
    if not from_ids:
        return
    taken = set(
        session.execute(
            select(Delivery.subscription_id).where(Delivery.story_id == to_id)
        ).scalars()
    )
    rows = session.execute(select(Delivery).where(Delivery.story_id.in_(from_ids))).scalars().all()
    for row in rows:
        if row.subscription_id in taken:
            session.execute(delete(Delivery).where(Delivery.id == row.id))
        else:
            taken.add(row.subscription_id)
            row.story_id = to_id
            session.add(row)
