"""`/api/topics`, `/api/subscriptions`, `/api/deliveries`: each user's own, others' are 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from api import cursor
from api.deps import DB, DEFAULT_LIMIT, CurrentUser, Limit, clamp_limit
from api.errors import ApiError, not_found
from api.present import delivery_item, subscription_item, topic_item
from api.schemas import SubscriptionIn, SubscriptionPatch, TopicIn, TopicPatch, TopicTest
from storage import deliveries as delivery_store
from storage import stories as story_store
from storage import subscriptions as subscription_store
from storage import topics as topic_store
from storage.models import Topic, User, utcnow
from storage.search import recent_story_ids
from worker.topics import Document, DocView, QueryError, parse_query, validate_query

router = APIRouter(prefix="/api", tags=["topics and alerts"])


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def checked_query(query: str) -> str:
    """The normalised query, or 422 with the position and a hint."""
    try:
        return validate_query(query)
    except QueryError as exc:
        raise ApiError(
            422, f"query: {exc}", extra={"position": exc.position, "hint": exc.hint}
        ) from None


def _topic(session: Session, user: User, topic_id: int) -> Topic:
    topic = (
        topic_store.get_topic(session=session, topic_id=topic_id, owner_id=user.id)
        if 0 < topic_id < 2**31 else None
    )
    if topic is None:
        raise not_found("topic", topic_id)
    return topic


@router.get("/topics")
def list_topics(request: Request, session: DB, user: CurrentUser) -> list[dict]:
    """Your topics, each with the URL of its Atom feed."""
    return [topic_item(t, base_url=_base(request))
            for t in topic_store.list_topics(session=session, owner_id=user.id)]


@router.post("/topics", status_code=201)
def create_topic(body: TopicIn, request: Request, session: DB, user: CurrentUser) -> dict:
    """A new topic; the query is checked (422 says where it is wrong and how to fix it)."""
    query = checked_query(body.query)
    try:
        topic = topic_store.create_topic(session=session, owner_id=user.id, name=body.name,
                                         query=query, private=body.private)
    except topic_store.DuplicateTopicError as exc:
        raise ApiError(409, str(exc)) from None
    return topic_item(topic, base_url=_base(request))


@router.post("/topics/test")
def test_topic(body: TopicTest, session: DB, user: CurrentUser) -> dict:
    """Which of the last `limit` stories the query would match (nothing is stored)."""
    query = parse_query(checked_query(body.query))
    ids = recent_story_ids(session=session, limit=body.limit)
    members = story_store.members_of(session=session, story_ids=ids)
    matched = []
    for sid in ids:
        hits = [m for m in members[sid] if query.match(DocView(_document(m)))]
        if hits:
            first = hits[0].article
            matched.append({"story_id": sid, "title": first.title or first.feed_title,
                            "matching_articles": [m.article.id for m in hits]})
    return {"query": query.text, "tried": len(ids), "matched": matched}


def _document(m: story_store.Member) -> Document:
    a, feed = m.article, m.feed_title or m.feed_url
    return Document(title=a.title or a.feed_title or "", text=a.text or "",
                    source=a.site_name or feed, wire=a.wire_source or "",
                    lang=a.language or "", feed=feed)


@router.get("/topics/{topic_id}")
def get_topic(topic_id: int, request: Request, session: DB, user: CurrentUser) -> dict:
    return topic_item(_topic(session, user, topic_id), base_url=_base(request))


@router.patch("/topics/{topic_id}")
def change_topic(topic_id: int, body: TopicPatch, request: Request, session: DB,
                 user: CurrentUser) -> dict:
    """Rename a topic, change its query, or make it public / private."""
    topic = _topic(session, user, topic_id)
    fields = body.model_fields_set
    if "query" in fields and body.query is not None:
        topic.query = checked_query(body.query)
    if "name" in fields and body.name is not None:
        topic.name = body.name
    if "private" in fields and body.private is not None:
        topic.private = body.private
    topic.updated_at = utcnow()
    session.add(topic)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise ApiError(409, f"you already have a topic named {body.name!r}") from None
    return topic_item(topic, base_url=_base(request))


@router.delete("/topics/{topic_id}", status_code=204)
def delete_topic(topic_id: int, session: DB, user: CurrentUser) -> Response:
    """Delete a topic with its subscriptions and their delivery log."""
    _topic(session, user, topic_id)
    topic_store.delete_topic(session=session, topic_id=topic_id, owner_id=user.id)
    return Response(status_code=204)


def _target(channel: str, target: str, request: Request) -> str:
    try:
        from worker.alerts import validate_target
    except ImportError:  # the alerts package is optional for the API
        return target
    try:
        return validate_target(channel, target, settings=request.app.state.settings)
    except ValueError as exc:
        raise ApiError(422, f"target: {exc}") from None


def _secret(channel: str, secret: str | None) -> str | None:
    if secret is None:
        return None
    if channel != "webhook":
        raise ApiError(422, "secret: only webhook subscriptions have a signing secret")
    from worker.alerts.signing import secret_key

    try:
        secret_key(secret)
    except ValueError as exc:
        raise ApiError(422, f"secret: {exc}") from None
    return secret


def _subscription(session: Session, user: User, sub_id: int):  # noqa: ANN202
    sub = (
        subscription_store.get_subscription(session=session, subscription_id=sub_id,
                                            owner_id=user.id)
        if 0 < sub_id < 2**31 else None
    )
    if sub is None:
        raise not_found("subscription", sub_id)
    return sub


@router.get("/subscriptions")
def list_subscriptions(
    session: DB, user: CurrentUser, topic: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None
) -> list[dict]:
    """Your subscriptions (secrets are never shown)."""
    return [subscription_item(s) for s in subscription_store.list_subscriptions(
        session=session, owner_id=user.id, topic_id=topic)]


@router.post("/subscriptions", status_code=201)
def create_subscription(body: SubscriptionIn, request: Request, session: DB,
                        user: CurrentUser) -> dict:
    """Alerts for one of your topics by webhook, email or an Apprise URL, now or as a digest.
    A webhook's `secret` (whsec_…) signs its requests; it is stored and never shown again."""
    _topic(session, user, body.topic_id)
    sub = subscription_store.create_subscription(
        session=session, owner_id=user.id, topic_id=body.topic_id, channel=body.channel,
        target=_target(body.channel, body.target, request),
        secret=_secret(body.channel, body.secret), digest_seconds=body.digest_seconds,
    )
    return subscription_item(sub)


@router.get("/subscriptions/{sub_id}")
def get_subscription(sub_id: int, session: DB, user: CurrentUser) -> dict:
    return subscription_item(_subscription(session, user, sub_id))


@router.patch("/subscriptions/{sub_id}")
def change_subscription(sub_id: int, body: SubscriptionPatch, request: Request, session: DB,
                        user: CurrentUser) -> dict:
    """Change the target, secret or digest interval; `disabled: false` turns it back on."""
    sub = _subscription(session, user, sub_id)
    fields = body.model_fields_set
    if "target" in fields and body.target is not None:
        sub.target = _target(sub.channel, body.target, request)
    if "secret" in fields:
        sub.secret = _secret(sub.channel, body.secret)
    if "digest_seconds" in fields:
        sub.digest_seconds = body.digest_seconds
    if "disabled" in fields and body.disabled is not None:
        sub.disabled = body.disabled
        sub.disabled_reason = "disabled by its owner" if body.disabled else None
    session.add(sub)
    return subscription_item(sub)


@router.delete("/subscriptions/{sub_id}", status_code=204)
def delete_subscription(sub_id: int, session: DB, user: CurrentUser) -> Response:
    _subscription(session, user, sub_id)
    subscription_store.delete_subscription(session=session, subscription_id=sub_id,
                                           owner_id=user.id)
    return Response(status_code=204)


@router.get("/deliveries")
def list_deliveries(
    session: DB,
    user: CurrentUser,
    failed: bool = False,
    limit: Limit = DEFAULT_LIMIT,
    cursor_: Annotated[str | None, Query(alias="cursor", max_length=500)] = None,
) -> dict:
    """The delivery log of your subscriptions, newest first; `failed=true` for problems only."""
    limit = clamp_limit(limit)
    page = cursor.decode(cursor_, "d")
    before = cursor.integer(page, "b", minimum=1) if page else None
    rows = delivery_store.list_deliveries(session=session, owner_id=user.id, failed_only=failed,
                                          limit=limit + 1, before_id=before)
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [delivery_item(d) for d in rows],
            "next_cursor": cursor.encode("d", b=rows[-1].id) if more else None}
