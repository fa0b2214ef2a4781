"""WebSub push: subscribe to a feed's hub, answer the hub's verification, take pushed content.

Polling never stops: while a hub pushes, the feed is still polled (slowly), so a hub that fails
or forgets us costs only latency. Spec: https://www.w3.org/TR/websub/ (subscriber side).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlencode

from storage.db import session_scope
from storage.models import Feed, utcnow
from wirewatch.errors import FeedParseError, FetchError
from wirewatch.net import fetch
from worker.feeds import parse_feed

log = logging.getLogger(__name__)

RENEW_BEFORE = timedelta(days=1)  # renew a lease this long before it runs out
# A hub that accepted a subscription but never verified it is asked again after this long
# (while subscribing, websub_lease_until holds this deadline).
VERIFY_WITHIN = timedelta(hours=1)
HUB_MAX_BYTES = 64 * 1024
SIGNATURES = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}


def callback_url(public_url: str, feed_id: int) -> str:
    return f"{public_url.rstrip('/')}/websub/{feed_id}"


def wants_subscription(feed: Feed, *, public_url: str | None, now: datetime) -> bool:
    """A feed with a hub and no live lease (or one about to run out) should (re)subscribe."""
    if not public_url or not feed.hub_url or feed.disabled:
        return False
    if feed.websub_state == "active" and feed.websub_lease_until:
        return feed.websub_lease_until - now < RENEW_BEFORE
    if feed.websub_state == "subscribing":  # waiting for the hub's verification, until:
        return feed.websub_lease_until is None or feed.websub_lease_until <= now
    return feed.websub_state != "failed" or (feed.websub_lease_until or now) <= now


def subscribe(feed_id: int, *, settings) -> str:  # noqa: ANN001
    """Ask the feed's hub to push to us; the hub then verifies the intent at our callback."""
    secret = secrets.token_urlsafe(32)
    with session_scope(settings.database_url) as session:
        feed = session.get(Feed, feed_id)
        if feed is None or not feed.hub_url:
            return "no hub"
        hub, topic = feed.hub_url, feed.url
        feed.websub_state, feed.websub_secret, feed.websub_error = "subscribing", secret, None
        feed.websub_lease_until = utcnow() + VERIFY_WITHIN
        session.add(feed)
    body = urlencode(
        {
            "hub.mode": "subscribe",
            "hub.topic": topic,
            "hub.callback": callback_url(settings.public_url, feed_id),
            "hub.secret": secret,
            "hub.lease_seconds": str(settings.websub_lease),
        }
    ).encode()
    try:
        fetch(
            hub,
            settings=settings,
            max_bytes=HUB_MAX_BYTES,
            method="POST",
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            follow_redirects=False,
        )
    except FetchError as exc:
        _failed(settings, feed_id, f"hub {hub} refused the subscription: {exc}")
        return "failed"
    log.info("websub subscription requested", extra={"feed_id": feed_id, "hub": hub})
    return "subscribing"


def verify_intent(feed_id: int, params: dict[str, str], *, settings) -> str | None:  # noqa: ANN001
    """The hub's GET: echo the challenge when we asked for this (mode and topic match)."""
    mode, topic = params.get("hub.mode"), params.get("hub.topic")
    now = utcnow()
    with session_scope(settings.database_url) as session:
        feed = session.get(Feed, feed_id)
        if feed is None or topic != feed.url:
            return None
        if mode == "denied":
            feed.websub_state = "failed"
            feed.websub_error = f"hub denied the subscription: {params.get('hub.reason', '')}"
            feed.websub_lease_until = now + timedelta(days=1)  # try again tomorrow
            session.add(feed)
            return ""
        if mode == "subscribe" and feed.websub_state in ("subscribing", "active"):
            lease = _int(params.get("hub.lease_seconds")) or settings.websub_lease
            feed.websub_state, feed.websub_lease_until = "active", now + timedelta(seconds=lease)
            session.add(feed)
            log.info("websub active", extra={"feed_id": feed_id, "lease": lease})
            return params.get("hub.challenge")
        if mode == "unsubscribe" and feed.websub_state not in ("subscribing", "active"):
            return params.get("hub.challenge")
    return None


def receive(
    feed_id: int, body: bytes, *, signature: str | None, content_type: str | None, settings
) -> list[int] | None:  # noqa: ANN001
    """Pushed content: the new articles' ids, or None when it is not ours to take (unknown feed,
    bad or missing signature: the spec says acknowledge and ignore)."""
    with session_scope(settings.database_url, readonly=True) as session:
        feed = session.get(Feed, feed_id)
        secret, url = (feed.websub_secret, feed.url) if feed else (None, None)
    if not secret or not signature_ok(secret, body, signature):
        log.warning("websub push ignored: bad or missing signature", extra={"feed_id": feed_id})
        return None
    try:
        parsed = parse_feed(body, url=url, content_type=content_type)
    except FeedParseError as exc:
        log.warning("websub push ignored: %s", exc, extra={"feed_id": feed_id})
        return None
    from worker.pipeline import store_entries  # the same storing as a poll

    with session_scope(settings.database_url) as session:
        return store_entries(session=session, feed_id=feed_id, entries=parsed.entries, now=utcnow())


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    method, _, digest = (header or "").partition("=")
    algorithm = SIGNATURES.get(method.strip().lower())
    if algorithm is None or not digest:
        return False
    expected = hmac.new(secret.encode(), body, algorithm).hexdigest()
    return hmac.compare_digest(expected, digest.strip().lower())


def _failed(settings, feed_id: int, reason: str) -> None:  # noqa: ANN001
    with session_scope(settings.database_url) as session:
        feed = session.get(Feed, feed_id)
        if feed is not None:
            feed.websub_state, feed.websub_error = "failed", reason[:2000]
            feed.websub_lease_until = utcnow() + timedelta(days=1)  # try again tomorrow
            session.add(feed)
    log.warning("websub failed: %s", reason, extra={"feed_id": feed_id})


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
