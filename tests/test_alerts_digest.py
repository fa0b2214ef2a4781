"""Digests end to end: a digest subscription gets one `story.digest` message listing every
matching story once its time comes, an immediate subscription of the same topic gets one message
per story, and a second run sends nothing again."""

from __future__ import annotations

import json
import time

from sqlalchemy import select

from storage import subscriptions as subscription_store
from storage import topics as topic_store
from storage.db import session_scope
from storage.models import Delivery, Subscription
from storage.users import get_or_create_user
from tests.conftest import make_settings
from tests.support.wire import INDEPENDENT, republications
from tests.test_alerts_flow import Receiver, add_feeds, publish
from wirewatch.service import run_once
from worker.alerts import new_webhook_secret, verify_webhook

DIGEST_SECONDS = 5

MARKET = [
    "Cattle prices at the northern auction yards rose for a third week running as buyers from the "
    "coast competed for a shrinking supply of young livestock after a dry summer.",
    "Auctioneers said heifers fetched record bids on Tuesday, while sheep sold steadily and pig "
    "numbers were too small to set a reliable price for the district.",
    "Feed merchants reported that hay stocks were running low and that several farmers had begun "
    "moving herds to rented pasture in the river valleys until the autumn rains arrive.",
    "The regional farmers' union asked the council to delay a planned rise in yard fees, arguing "
    "that small breeders were already paying far more to keep their animals through the drought.",
]


def subscribe_both(db_url: str, *, immediate: str, digest: str) -> tuple[str, str]:
    """One topic, two webhook subscriptions: one immediate, one digest; returns their secrets."""
    secrets = (new_webhook_secret(), new_webhook_secret())
    with session_scope(db_url) as s:
        owner = get_or_create_user(session=s, name="ana").id
        topic = topic_store.create_topic(session=s, owner_id=owner, name="herds", query="livestock")
        subscription_store.create_subscription(
            session=s,
            owner_id=owner,
            topic_id=topic.id,
            channel="webhook",
            target=immediate,
            secret=secrets[0],
        )
        subscription_store.create_subscription(
            session=s,
            owner_id=owner,
            topic_id=topic.id,
            channel="webhook",
            target=digest,
            secret=secrets[1],
            digest_seconds=DIGEST_SECONDS,
        )
    return secrets


def test_a_digest_lists_the_stories_in_one_message_once(db_url, server) -> None:
    now_hook, digest_hook = Receiver(server, "/now"), Receiver(server, "/digest")
    wire_outlet, (wire_headline, wire_text) = next(iter(republications().items()))
    urls = [
        publish(server, wire_outlet, wire_headline, wire_text),
        publish(server, "own", "Geneva livestock pact agreed", INDEPENDENT),
        publish(server, "farm-weekly", "Cattle prices climb at northern yards", MARKET),
    ]
    now_secret, digest_secret = subscribe_both(
        db_url, immediate=now_hook.url, digest=digest_hook.url
    )
    began = time.monotonic()
    add_feeds(db_url, urls)
    settings = make_settings(db_url)
    run_once(settings, timeout=60)
    assert time.monotonic() - began < DIGEST_SECONDS, "the first run outlasted the digest interval"

    # Immediate: one message per story. Digest: nothing yet, its time has not come.
    assert len(now_hook.calls) == 3
    story_ids = set()
    for headers, body in now_hook.calls:
        assert verify_webhook(secret=now_secret, headers=headers, body=body)
        event = json.loads(body)
        assert event["type"] == "story.matched"
        story_ids.add(event["data"]["story"]["id"])
    assert len(story_ids) == 3
    assert digest_hook.calls == []

    # Past the interval the sweep hands out the digest: one message listing the three stories.
    time.sleep(max(0.0, DIGEST_SECONDS + 0.5 - (time.monotonic() - began)))
    run_once(settings, timeout=60)
    assert len(digest_hook.calls) == 1
    headers, body = digest_hook.calls[0]
    assert verify_webhook(secret=digest_secret, headers=headers, body=body)
    event = json.loads(body)
    assert event["type"] == "story.digest"
    assert {s["id"] for s in event["data"]["stories"]} == story_ids
    assert len(now_hook.calls) == 3

    # A second run sends nothing again; every delivery is sent and the digest time recorded.
    run_once(settings, timeout=60)
    assert len(now_hook.calls) == 3 and len(digest_hook.calls) == 1
    with session_scope(db_url) as s:
        assert s.execute(select(Delivery.state)).scalars().all() == ["sent"] * 6
        digest_sub = s.execute(
            select(Subscription).where(Subscription.digest_seconds.is_not(None))
        ).scalar_one()
        assert digest_sub.last_digest_at is not None
