"""How stored rows are shown: plain dicts shared by the JSON API, the web UI and the Atom feed.

Article HTML comes only from the stored, already nh3-sanitised `html` field, and is cleaned once
more on the way out (stored content is never trusted to be harmless).
"""

from __future__ import annotations

from datetime import datetime

import nh3

from storage.models import Article, Delivery, Feed, Subscription, Topic
from storage.search import ArticleHit
from storage.stories import Member
from wirewatch.cli.stories import story_json
from worker.compare import Changes

SNIPPET_CHARS = 280


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def safe_html(html: str | None) -> str | None:
    """Tags and attributes nh3 allows (no scripts, handlers or javascript: URLs)."""
    if not html:
        return None
    return nh3.clean(html, link_rel="noopener noreferrer nofollow")


def snippet(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + "…"


def article_item(hit: ArticleHit) -> dict:
    a = hit.article
    item = {
        "id": a.id,
        "url": a.canonical_url or a.url,
        "title": a.title or a.feed_title,
        "feed": hit.feed_title or hit.feed_url,
        "feed_id": a.feed_id,
        "published": iso(a.published or a.feed_published),
        "language": a.language,
        "wire_source": a.wire_source,
        "word_count": a.word_count,
        "state": a.state,
        "story_id": a.story_id,
        "snippet": snippet(a.text),
    }
    if hit.rank is not None:
        item["score"] = round(hit.rank, 6)
    return item


def article_detail(a: Article, feed: Feed | None, story: dict | None) -> dict:
    return {
        "id": a.id,
        "url": a.canonical_url or a.url,
        "entry_url": a.url,
        "title": a.title or a.feed_title,
        "feed": (feed.title or feed.url) if feed else None,
        "feed_id": a.feed_id,
        "published": iso(a.published or a.feed_published),
        "authors": a.authors or a.feed_author,
        "language": a.language,
        "site_name": a.site_name,
        "image_url": a.image_url,
        "word_count": a.word_count,
        "wire_source": a.wire_source,
        "state": a.state,
        "error": a.error,
        "created_at": iso(a.created_at),
        "processed_at": iso(a.processed_at),
        "text": a.text,
        "html": safe_html(a.html),
        "story": story,
    }


def story_item(story, members: list[Member], *, with_changes: bool = False) -> dict:  # noqa: ANN001
    """The CLI's story JSON (same field names), plus a one-line summary of each copy's changes."""
    out = story_json(story, members, with_changes=with_changes)
    if with_changes:
        rep = next((m.article for m in members if m.article.id == story.representative_article_id),
                   None)
        for item, m in zip(out["articles"], members, strict=True):
            a = m.article
            # story_json already compared each copy with the representative: reuse that.
            item["summary"] = (
                "representative"
                if rep is None or a.id == rep.id
                else Changes(**item["changes"]).summary()
            )
            item["snippet"] = snippet(a.text)
            item["site_name"] = a.site_name
    return out


def feed_item(feed: Feed, entries: int | None = None) -> dict:
    if feed.disabled:
        health = "disabled"
    elif feed.error_count:
        health = "failing"
    elif feed.last_success_at is None:
        health = "new"
    else:
        health = "ok"
    return {
        "id": feed.id,
        "url": feed.url,
        "title": feed.title,
        "site_url": feed.site_url,
        "format": feed.format,
        "entries": entries,
        "health": health,
        "interval_override": feed.interval_override,
        "poll_interval": feed.poll_interval,
        "last_polled_at": iso(feed.last_polled_at),
        "last_success_at": iso(feed.last_success_at),
        "next_poll_at": iso(feed.next_poll_at),
        "error_count": feed.error_count,
        "first_error_at": iso(feed.first_error_at),
        "last_error": feed.last_error,
        "disabled": feed.disabled,
        "disabled_reason": feed.disabled_reason,
    }


def topic_item(topic: Topic, *, base_url: str = "") -> dict:
    return {
        "id": topic.id,
        "name": topic.name,
        "query": topic.query,
        "private": topic.private,
        "feed_url": f"{base_url}/topics/{topic.id}/feed.atom?token={topic.feed_token}",
        "created_at": iso(topic.created_at),
        "updated_at": iso(topic.updated_at),
    }


def subscription_item(sub: Subscription) -> dict:
    """Everything but the secret, which is write-only."""
    return {
        "id": sub.id,
        "topic_id": sub.topic_id,
        "channel": sub.channel,
        "target": sub.target,
        "has_secret": bool(sub.secret),
        "digest_seconds": sub.digest_seconds,
        "last_digest_at": iso(sub.last_digest_at),
        "disabled": sub.disabled,
        "disabled_reason": sub.disabled_reason,
        "created_at": iso(sub.created_at),
    }


def delivery_item(d: Delivery) -> dict:
    return {
        "id": d.id,
        "subscription_id": d.subscription_id,
        "story_id": d.story_id,
        "topic_id": d.topic_id,
        "state": d.state,
        "attempts": d.attempts,
        "next_attempt_at": iso(d.next_attempt_at),
        "last_error": d.last_error,
        "created_at": iso(d.created_at),
        "sent_at": iso(d.sent_at),
    }
