"""Subscriptions: who gets a topic's alerts, through which channel, immediately or as a digest."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlmodel import Session

from storage.models import Subscription, Topic


def create_subscription(
    *,
    session: Session,
    owner_id: int,
    topic_id: int,
    channel: str,
    target: str,
    secret: str | None = None,
    digest_seconds: int | None = None,
) -> Subscription:
    """Store a subscription; the caller has validated the channel's target."""
    sub = Subscription(
        owner_id=owner_id,
        topic_id=topic_id,
        channel=channel,
        target=target,
        secret=secret,
        digest_seconds=digest_seconds,
    )
    session.add(sub)
    session.flush()
    return sub


def get_subscription(
    *, session: Session, subscription_id: int, owner_id: int | None = None
) -> Subscription | None:
    sub = session.get(Subscription, subscription_id)
    if sub is None or (owner_id is not None and sub.owner_id != owner_id):
        return None
    return sub


def list_subscriptions(
    *, session: Session, owner_id: int | None = None, topic_id: int | None = None
) -> list[Subscription]:
    query = select(Subscription).order_by(Subscription.id)
    if owner_id is not None:
        query = query.where(Subscription.owner_id == owner_id)
    if topic_id is not None:
        query = query.where(Subscription.topic_id == topic_id)
    return list(session.execute(query).scalars())


_ACTIVE = (
    select(
        Subscription.__table__,
        Topic.__table__.c.name.label("topic_name"),
        Topic.__table__.c.query.label("topic_query"),
    )
    .join(Topic.__table__, Topic.__table__.c.id == Subscription.__table__.c.topic_id)
    .where(
        Subscription.__table__.c.topic_id.in_(bindparam("topic_ids", expanding=True)),
        Subscription.__table__.c.disabled.is_(False),
    )
    .order_by(Subscription.__table__.c.id)
)


def active_for_topics(*, session: Session, topic_ids: list[int]) -> list:
    """The enabled subscriptions of `topic_ids`, as Core rows with Subscription's columns and
    their topic's `topic_name` and `topic_query` (the tagging stage runs this for every article
    that matched, and builds the alerts it sends at once from these rows)."""
    if not topic_ids:
        return []
    return list(session.execute(_ACTIVE, {"topic_ids": list(topic_ids)}).all())


def disable_subscription(*, session: Session, subscription_id: int, reason: str) -> None:
    sub = session.get(Subscription, subscription_id)
    if sub is not None:
        sub.disabled = True
        sub.disabled_reason = reason[:2000]
        session.add(sub)


def delete_subscription(
    *, session: Session, subscription_id: int, owner_id: int | None = None
) -> bool:
    sub = get_subscription(session=session, subscription_id=subscription_id, owner_id=owner_id)
    if sub is None:
        return False
    session.delete(sub)
    return True
