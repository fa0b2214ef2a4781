"""The soak benchmark's ledger: nothing lost, nothing duplicated, from the newsdesk's record of
what it served and received and from the database.

Items: every guid the newsdesk served in a feed answer must be stored exactly once for its feed
and end `processed`, or `failed` with a reason. Alerts: every outbox row must be sent and
received; no (subscription, story) may arrive under two webhook-ids; every topic a story
carries must have its outbox row (an alert never created is lost too). Republished copies that
were not joined to their story show up as a second alert for the same newsdesk story: counted
apart (a dedup miss, not a lost or repeated message).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select, text

from storage.db import session_scope
from storage.models import Article, Delivery, Feed, StoryTopic, Subscription


@dataclass
class Ledger:
    published: int = 0
    served: int = 0
    never_served: int = 0  # left the feed (deleted or pushed out) before any poll saw it
    stored: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    lost_items: list[str] = field(default_factory=list)
    duplicated_items: list[str] = field(default_factory=list)
    unfinished: list[str] = field(default_factory=list)
    failed_without_reason: list[str] = field(default_factory=list)
    failure_reasons: Counter = field(default_factory=Counter)
    deliveries: dict[str, int] = field(default_factory=dict)
    alerts_received: int = 0  # distinct webhook-ids
    redelivered: int = 0  # the same webhook-id received again (a retry the receiver drops)
    lost_alerts: list[str] = field(default_factory=list)
    unsent_alerts: list[str] = field(default_factory=list)  # still queued when the drain ended
    duplicated_alerts: list[str] = field(default_factory=list)
    unexpected_alerts: list[str] = field(default_factory=list)
    dedup_misses: int = 0  # (topic, newsdesk story) alerted under more than one story

    @property
    def ok(self) -> bool:
        return not (
            self.lost_items
            or self.duplicated_items
            or self.unfinished
            or self.failed_without_reason
            or self.lost_alerts
            or self.unsent_alerts
            or self.duplicated_alerts
        )


def check(url: str, state: dict, *, feed_numbers: dict[int, int], tag: str) -> Ledger:
    """`feed_numbers` maps feed ids to newsdesk feed numbers; `tag` names the receiver's hooks."""
    ledger = Ledger(published=len(state["items"]))
    served = set(state["served"])
    ledger.served = len(served)
    ledger.never_served = len(set(state["items"]) - served)
    with session_scope(url) as session:
        rows = session.execute(
            select(Article.feed_id, Article.entry_key, Article.state, Article.error)
        ).all()
        deliveries = session.execute(
            select(Delivery.id, Delivery.subscription_id, Delivery.story_id, Delivery.state)
        ).all()
        subs = dict(session.execute(select(Subscription.topic_id, Subscription.id)).all())
        story_topics = session.execute(select(StoryTopic.story_id, StoryTopic.topic_id)).all()
        merged = dict(
            session.execute(
                text("SELECT id, merged_into_id FROM story WHERE merged_into_id IS NOT NULL")
            ).all()
        )
        ledger.stored = session.execute(select(func.count()).select_from(Article)).scalar_one()
        assert session.execute(select(func.count()).select_from(Feed)).scalar_one() >= len(
            feed_numbers
        )
    counts: Counter = Counter()
    for feed_id, key, state_, error in rows:
        guid = key if key.startswith(f"f{feed_numbers.get(feed_id)}-") else f"?{feed_id}:{key}"
        counts[guid] += 1
        ledger.by_state[state_] = ledger.by_state.get(state_, 0) + 1
        if state_ in ("pending", "fetching"):
            ledger.unfinished.append(guid)
        elif state_ == "failed":
            if not (error or "").strip():
                ledger.failed_without_reason.append(guid)
            ledger.failure_reasons[(error or "").split(":")[0][:60]] += 1
    ledger.lost_items = sorted(served - set(counts))
    ledger.duplicated_items = sorted(g for g, n in counts.items() if n > 1 or g.startswith("?"))

    hooks = [h for h in state["hooks"] if h["hook"].startswith(f"{tag}-")]
    ids = Counter(h["id"] for h in hooks)
    ledger.alerts_received = len(ids)
    ledger.redelivered = sum(n - 1 for n in ids.values())
    ledger.deliveries = dict(Counter(d.state for d in deliveries))
    for d in deliveries:
        if d.state in ("pending", "sending") and f"msg_{d.id}" not in ids:
            ledger.unsent_alerts.append(f"delivery {d.id} ({d.state})")
        elif d.state != "sent" or f"msg_{d.id}" not in ids:
            ledger.lost_alerts.append(
                f"delivery {d.id} ({d.state}, received: {f'msg_{d.id}' in ids})"
            )
    known = {f"msg_{d.id}" for d in deliveries}
    ledger.unexpected_alerts = sorted(set(ids) - known)
    per_story: dict[tuple[str, int], set[str]] = defaultdict(set)
    per_desk_story: dict[tuple[str, str], set[int]] = defaultdict(set)
    for h in hooks:
        per_story[(h["hook"], h["story_id"])].add(h["id"])
        per_desk_story[(h["hook"], h["story"])].add(h["story_id"])
    ledger.duplicated_alerts = sorted(
        f"{k}: {sorted(v)}" for k, v in per_story.items() if len(v) > 1
    )
    ledger.dedup_misses = sum(1 for v in per_desk_story.values() if len(v) > 1)
    have = {(d.subscription_id, d.story_id) for d in deliveries}
    for story_id, topic_id in story_topics:
        final = story_id
        while final in merged:
            final = merged[final]
        sub = subs.get(topic_id)
        if sub is not None and (sub, story_id) not in have and (sub, final) not in have:
            ledger.lost_alerts.append(f"story {story_id} topic {topic_id}: no outbox row")
    return ledger
