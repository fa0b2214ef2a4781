"""The flow of work, one function per use case: refresh a feed, process an article.

Both modes run exactly these functions: embedded threads call them directly, Celery tasks are
thin shells around them. Each reads its row by id, calls the stages (plain functions), stores the
outcome with a conditional update, and dispatches follow-up work only after its commit.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

from scheduler.schedule import next_poll, retry_after_failure
from storage import articles as article_store
from storage import feeds as feed_store
from storage import hosts as host_store
from storage.db import session_scope
from storage.models import utcnow
from wirewatch import metrics
from wirewatch.errors import ExtractionError, FeedParseError, FetchError
from wirewatch.net import cache_lifetime, fetch, host_key
from wirewatch.settings import Settings
from worker import delivery, politeness, websub
from worker.assign import assign_story, prepare
from worker.dispatch import Dispatcher
from worker.extract import extract_article, extract_from_feed
from worker.feeds import parse_feed
from worker.politeness import Verdict
from worker.tagging import TopicMatcher, match_topics, tag_article

log = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
HTML_TYPES = {"", "text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml"}

# One thread at a time does an article's CPU work: claims it, cleans and fingerprints its page, and
# runs its transaction. Embedded mode's threads would otherwise pass the interpreter lock back
# and forth between cores in the middle of an article, which cost 5-10% more CPU per article for
# no more throughput (bench/pipeline.py); meanwhile the other threads fetch pages, send alerts or
# poll feeds. It is never taken inside a transaction (no thread holds a database lock while it
# waits for this one). A Celery pool process has one thread: the lock is always free there.
_CPU_STAGES = threading.Lock()


@dataclass
class Context:
    """What every pipeline function needs: settings, where to send follow-up work, host slots."""

    settings: Settings
    dispatcher: Dispatcher
    limiter: object  # LocalHostLimiter | RedisHostLimiter (has .slot(host))
    matcher: TopicMatcher = field(default_factory=TopicMatcher)

    @cached_property
    def inline_settings(self) -> Settings:
        """The settings of an alert sent by the article's worker (worker.delivery.send_new)."""
        return delivery.inline_settings(self.settings)

    def sends_inline(self, sub) -> bool:  # noqa: ANN001
        """Whether this worker sends a new alert of `sub` itself (worker.delivery.send_new)."""
        return delivery.sends_inline(sub, database_url=self.settings.database_url)


def refresh_feed(feed_id: int, *, ctx: Context) -> list[int]:
    """Poll one feed: conditional GET, parse, store new entries as pending articles.

    Returns the ids of the new articles (already dispatched). Failures are recorded on the feed.
    """
    s = ctx.settings
    now = utcnow()
    with session_scope(s.database_url) as session:
        feed = feed_store.get_feed(session=session, feed_id=feed_id)
        if feed is None or feed.disabled:
            return []
        url, etag, last_modified = feed.url, feed.etag, feed.last_modified
        override, ttl, error_count = feed.interval_override, feed.ttl_minutes, feed.error_count
        host = host_key(url)
        blocked = host_store.blocked_until(session=session, host=host)
        if blocked is not None and blocked > now:
            # The host asked us to wait: not an error of the feed, just come back then.
            feed.next_poll_at = blocked
            session.add(feed)
            log.info("host asked to wait", extra={"feed_id": feed_id, "host": host})
            metrics.POLLS.labels(outcome="blocked").inc()
            return []
    extra = {"feed_id": feed_id, "url": url}
    try:
        with ctx.limiter.slot(host):
            response = fetch(
                url,
                settings=s,
                max_bytes=s.feed_max_bytes,
                accept=FEED_ACCEPT,
                etag=etag,
                last_modified=last_modified,
            )
        parsed = (
            None
            if response.not_modified
            else parse_feed(
                response.content,
                url=response.url,
                content_type=response.content_type,
                charset=response.charset,
            )
        )
    except (FetchError, FeedParseError) as exc:
        _record_feed_failure(ctx, feed_id, host, exc, error_count, now)
        log.warning("poll failed: %s", exc, extra=extra)
        permanent = getattr(exc, "permanent", True)
        metrics.POLLS.labels(outcome="permanent_error" if permanent else "transient_error").inc()
        return []

    with session_scope(s.database_url) as session:
        new_ids: list[int] = []
        if parsed is not None:
            new_ids = store_entries(
                session=session, feed_id=feed_id, entries=parsed.entries, now=now
            )
            dates = [e.published for e in parsed.entries]
            ttl = parsed.ttl
        else:
            dates = article_store.recent_entry_dates(session=session, feed_id=feed_id)
        when, interval = next_poll(
            now=now,
            settings=s,
            entry_dates=dates,
            override=override,
            ttl_minutes=ttl,
            cache_lifetime=cache_lifetime(response.headers),
        )
        feed_store.record_poll_success(
            session=session,
            feed_id=feed_id,
            now=now,
            next_poll_at=when,
            interval=interval,
            not_modified=response.not_modified,
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
            title=parsed and parsed.title,
            site_url=parsed and parsed.site_url,
            hub_url=parsed and parsed.hub_url,
            ttl_minutes=parsed and parsed.ttl,
            format=parsed and parsed.format,
        )
        feed = feed_store.get_feed(session=session, feed_id=feed_id)
        push = websub.wants_subscription(feed, public_url=s.public_url, now=now)
    if push:
        websub.subscribe(feed_id, settings=s)
    log.info("polled", extra={**extra, "new": len(new_ids), "not_modified": response.not_modified})
    metrics.POLLS.labels(outcome="not_modified" if response.not_modified else "ok").inc()
    ctx.dispatcher.process_articles(new_ids)
    return new_ids


def store_entries(*, session, feed_id: int, entries, now) -> list[int]:  # noqa: ANN001
    """Store a feed document's entries (polled or pushed) as pending articles; the new ids."""
    return article_store.insert_entries(
        session=session,
        feed_id=feed_id,
        now=now,
        entries=[
            article_store.NewEntry(
                key=e.key,
                url=e.url,
                title=e.title,
                content=e.content or e.summary,
                author=e.author,
                published=e.published,
            )
            for e in entries
        ],
    )


def _record_feed_failure(
    ctx: Context, feed_id: int, host: str, exc: Exception, error_count: int, now
) -> None:  # noqa: ANN001
    s = ctx.settings
    permanent = getattr(exc, "permanent", True)
    retry_after = getattr(exc, "retry_after", None)
    with session_scope(s.database_url) as session:
        if retry_after:
            host_store.block_host_for(
                session=session, host=host, now=now, seconds=min(retry_after, s.retry_after_cap)
            )
        feed_store.record_poll_failure(
            session=session,
            feed_id=feed_id,
            now=now,
            error=str(exc),
            next_poll_at=retry_after_failure(
                now=now,
                error_count=error_count + 1,
                settings=s,
                permanent=permanent,
                retry_after=retry_after,
            ),
            disable_after=timedelta(days=s.disable_after_days),
        )


def process_article(article_id: int, *, ctx: Context, token: str | None = None) -> str | None:
    """Fetch one article's page and clean it; returns the final state (None if not ours).

    `token` identifies the unit of work across retries (see `claim_article`).
    """
    s = ctx.settings
    now = utcnow()
    with _CPU_STAGES, session_scope(s.database_url) as session:
        claim = article_store.claim_article(
            session=session, article_id=article_id, now=now, lease=s.stuck_after, token=token
        )
        if claim is None:
            return None
        url, attempts, feed_id = claim.url, claim.attempts, claim.feed_id
        feed_title, feed_content = claim.feed_title, claim.feed_content
        feed_published = claim.feed_published
        if attempts > s.max_attempts:
            article_store.fail_article(
                session=session,
                article_id=article_id,
                now=now,
                error=f"gave up after {attempts - 1} attempts; last error: {claim.error}",
            )
            return "failed"
        host = host_key(url) if url else None
        verdict = (
            politeness.check_page(ctx, session=session, url=url, host=host, now=now)
            if url
            else Verdict()
        )
    if verdict is None:  # the host's robots.txt is not known yet: fetched outside the claim
        verdict = politeness.before_page_request(ctx, url=url, host=host, now=now)
    if verdict.wait > 0:
        with session_scope(s.database_url) as session:
            article_store.release_article(
                session=session,
                article_id=article_id,
                now=now,
                error=f"{host} asked us to wait {verdict.wait:.0f}s",
                deferred=True,
            )
        ctx.dispatcher.process_article(article_id, delay=verdict.wait)
        return "pending"

    extra = {"article_id": article_id, "url": url}
    feed_kwargs = {
        "feed_title": feed_title,
        "feed_content": feed_content,
        "feed_published": feed_published,
    }
    try:
        if not url:
            raise FetchError("the feed entry has no link", permanent=True)
        if verdict.refused:
            raise FetchError(verdict.refused, permanent=True)
        with ctx.limiter.slot(host):
            response = fetch(url, settings=s, max_bytes=s.page_max_bytes, accept=PAGE_ACCEPT)
        if response.content_type not in HTML_TYPES:
            raise ExtractionError(f"not an HTML page ({response.content_type})")
        with _CPU_STAGES:
            result = extract_article(
                response.content, url=response.url, charset=response.charset, **feed_kwargs
            )
    except FetchError as exc:
        if not exc.permanent:
            return _retry_article(ctx, article_id, attempts, exc, host, now)
        result = _from_feed_or_none(url, feed_kwargs)
        if result is None:
            return _fail_article(ctx, article_id, str(exc), extra)
    except ExtractionError as exc:
        result = _from_feed_or_none(url, feed_kwargs)
        if result is None:
            return _fail_article(ctx, article_id, str(exc), extra)

    now = utcnow()
    cleaned = {  # what the stages read and the row stores
        "title": result.title,
        "text": result.text,
        "canonical_url": result.canonical_url,
        "site_name": result.site_name,
        "wire_source": result.wire_source,
        "language": result.language,
        "word_count": result.word_count,
        "published": result.published or feed_published,
    }
    article = article_store.Processed(
        id=article_id, feed_id=feed_id, url=url, feed_title=feed_title, processed_at=now, **cleaned
    )
    try:
        with _CPU_STAGES:  # never taken inside a transaction (see _CPU_STAGES)
            prepared = prepare(article)
            assignment, deliveries = _store(ctx, article, prepared, result, cleaned, now)
    except _ClaimLost:
        return None  # its lease ran out and another worker took it: nothing of ours is kept
    extra.update(story_id=assignment.story_id, joined=assignment.matched > 0)
    metrics.ARTICLES_PROCESSED.labels(outcome="processed").inc()
    if assignment.matched:
        metrics.DUPLICATES_JOINED.labels(kind="story").inc()
    metrics.STORIES_MERGED.inc(len(assignment.merged))
    log.info("processed", extra={**extra, "method": result.method, "wire": result.wire_source})
    delivery.send_new(deliveries, ctx=ctx)
    return "processed"


def _store(ctx: Context, article, prepared, result, cleaned: dict, now):  # noqa: ANN001, ANN202
    """The article's transaction: its topics, its story, its row and the alerts it calls for
    (raises _ClaimLost, rolled back, when the article is no longer ours)."""
    with session_scope(ctx.settings.database_url) as session:
        # (before the story's locks; the ids go on the row, with the rest of the article)
        topic_ids = match_topics(session=session, article=article, matcher=ctx.matcher)
        assignment = assign_story(
            session=session,
            article=article,
            now=now,
            window_days=ctx.settings.dedup_window_days,
            prepared=prepared,
            pending=True,
        )
        if not article_store.complete_article(
            session=session,
            article_id=article.id,
            now=now,
            **cleaned,
            html=result.html,
            authors=", ".join(result.authors)[:1024] or None,
            image_url=result.image_url,
            extraction_method=result.method,
            story_id=assignment.story_id,
            content_hash=prepared.content_hash,
            topic_ids=topic_ids or None,
        ):
            raise _ClaimLost
        deliveries = tag_article(
            session=session,
            article=article,
            story_id=assignment.story_id,
            topic_ids=topic_ids,
            now=now,
            inline=ctx.sends_inline,
        )
    return assignment, deliveries


class _ClaimLost(Exception):
    """The article left `fetching` while we worked on it: the transaction is rolled back."""


def _from_feed_or_none(url: str | None, feed_kwargs: dict):  # noqa: ANN202
    """Feed-provided content stands in when the page cannot be had."""
    if not feed_kwargs.get("feed_content"):
        return None
    try:
        return extract_from_feed(url=url, **feed_kwargs)
    except ExtractionError:
        return None


def _fail_article(ctx: Context, article_id: int, reason: str, extra: dict) -> str:
    metrics.ARTICLES_PROCESSED.labels(outcome="failed").inc()
    with session_scope(ctx.settings.database_url) as session:
        article_store.fail_article(
            session=session, article_id=article_id, now=utcnow(), error=reason
        )
    log.warning("article failed: %s", reason, extra=extra)
    return "failed"


def _retry_article(
    ctx: Context, article_id: int, attempts: int, exc: FetchError, host: str | None, now
) -> str:  # noqa: ANN001
    s = ctx.settings
    delay = min(30 * 2 ** (attempts - 1), 3600)
    with session_scope(s.database_url) as session:
        if exc.retry_after and host:
            host_store.block_host_for(
                session=session, host=host, now=now, seconds=min(exc.retry_after, s.retry_after_cap)
            )
            delay = max(delay, min(exc.retry_after, s.retry_after_cap))
        if attempts >= s.max_attempts:
            article_store.fail_article(
                session=session,
                article_id=article_id,
                now=utcnow(),
                error=f"gave up after {attempts} attempts: {exc}",
            )
            return "failed"
        article_store.release_article(
            session=session, article_id=article_id, now=utcnow(), error=str(exc)
        )
    ctx.dispatcher.process_article(article_id, delay=delay)
    return "pending"
