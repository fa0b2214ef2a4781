"""The flow of work, one function per use case: refresh a feed, process an article.

Both modes run exactly these functions: embedded threads call them directly, Celery tasks are
thin shells around them. Each reads its row by id, calls the stages (plain functions), stores the
outcome with a conditional update, and dispatches follow-up work only after its commit.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from sqlalchemy.exc import DBAPIError, OperationalError

from scheduler.schedule import next_poll, retry_after_failure
from storage import articles as article_store
from storage import feeds as feed_store
from storage import hosts as host_store
from storage.db import session_scope
from storage.models import utcnow
from wirewatch import metrics
from wirewatch.errors import ExtractionError, FeedParseError, FetchError
from wirewatch.net import Response, cache_lifetime, fetch, host_key
from wirewatch.settings import Settings
from worker import delivery, politeness, websub
from worker.assign import Assignment, BatchIndex, Prepared, assign_story, prepare
from worker.dispatch import Dispatcher
from worker.extract import ExtractedArticle, extract_article, extract_from_feed
from worker.feeds import parse_feed
from worker.politeness import Verdict
from worker.tagging import TopicMatcher, match_topics, tag_articles

log = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
HTML_TYPES = {"", "text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml"}

# The database briefly away (restart, failover): never taken for a fault of the article, it ends
# a batch of articles rather than one of them (see process_articles). A Celery worker adds the
# broker's errors and its time limit (worker.tasks.ENDS_BATCH), imported only there: embedded
# mode and the CLI start without Celery and Redis.
DATABASE_AWAY = (OperationalError, DBAPIError)

# A batch fetches its pages, then cleans, fingerprints and stores them one after the other (see
# process_articles). It goes on to clean the pages it has as soon as the first of them has waited
# this long for the others (a slow host's pages): batching saves CPU, and this bounds what it may
# cost an alert's latency. It does so too once the pages it holds pass HELD_BYTES.
STORE_AFTER = 1.0
HELD_BYTES = 4 * 1024 * 1024

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
    ends_batch: tuple[type[BaseException], ...] = DATABASE_AWAY  # errors that end a batch

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

    `token` identifies the unit of work across retries (see `storage.articles.claim_article`)."""
    return process_articles([article_id], ctx=ctx, token=token)[0]


def process_articles(
    article_ids: list[int], *, ctx: Context, token: str | None = None
) -> list[str | None]:
    """Several new articles (a feed's, handed out together): claimed in one transaction, their
    pages fetched, then cleaned and fingerprinted one after the other, stored in one transaction,
    their alerts sent after its commit. Returns each one's final state, in order (None: not ours,
    or left to the sweep). When a slow host keeps the first page fetched waiting longer than
    STORE_AFTER (or the pages held pass HELD_BYTES), those fetched so far are cleaned, stored
    and alerted without waiting for the rest.

    A transaction's fixed cost (begin and commit, a session, on SQLite the write of the pages
    every article touches) is paid once a batch rather than once an article. Cleaning the pages
    in a row, with no network wait between them, keeps the cleaner's code and data in the
    processor's cache: each wait lets the operating system move the thread to another core. When
    one article spoils the common transaction (its claim was lost, or an error), each is stored
    in a transaction of its own, so the others are kept. An unexpected error in one article's
    stages is logged and the next goes on (the article is handed out again by the sweep); the
    database or the broker being away, or the task's time limit, ends the batch (`ctx.ends_batch`:
    a Celery task is retried, and the articles already done are skipped as no longer ours).
    """
    outcomes: dict[int, str | None] = {}
    alone = len(article_ids) == 1
    waiting = deque(_claim(ctx, article_ids, token, outcomes))
    sending = None  # when the batch first sent alerts: one INLINE_BUDGET for all its parts
    while waiting:
        pages = _fetch_some(ctx, waiting, outcomes, alone=alone)
        ready: list[_Ready] = []
        for page in pages:
            done = _each(ctx, page.work.article_id, _clean, ctx, page, alone=alone)
            page.response = None  # the raw page is no longer needed
            if isinstance(done, _Ready):
                ready.append(done)
            else:
                outcomes[page.work.article_id] = done
        if ready:
            sending = _finish(ctx, ready, outcomes, sending, alone=alone)
    return [outcomes.get(article_id) for article_id in article_ids]


def _fetch_some(ctx: Context, waiting: deque, outcomes: dict, *, alone: bool) -> list[_Page]:
    """Fetch the pages of the claimed articles in `waiting`, taking them from there: all of
    them, or those fetched before the first has waited STORE_AFTER or they pass HELD_BYTES.
    The final state of those that go no further is put in `outcomes`."""
    pages: list[_Page] = []
    first = 0.0
    held = 0
    with _HostSlot(ctx.limiter) as slot:
        while waiting:
            work = waiting.popleft()
            page = _each(ctx, work.article_id, _fetch_page, ctx, work, slot, alone=alone)
            if not isinstance(page, _Page):
                outcomes[work.article_id] = page
                continue
            if not pages:
                first = time.monotonic()
            pages.append(page)
            held += page.size
            if time.monotonic() - first > STORE_AFTER or held > HELD_BYTES:
                break
    return pages


class _HostSlot:
    """A batch's slot of the per-host limit (`ctx.limiter`), kept from one page to the next of
    the same host: the batch fetches one page at a time, so it is still one request in flight,
    and in distributed mode two Redis round trips a page become two a host. Given back when a
    page of another host comes, before a robots.txt fetch (which takes a slot of its own), and
    when the fetching stops."""

    def __init__(self, limiter) -> None:  # noqa: ANN001
        self._limiter = limiter
        self._host: str | None = None
        self._held = ExitStack()

    def take(self, host: str) -> None:
        if self._host == host:
            return
        self.give_back()
        self._held.enter_context(self._limiter.slot(host))
        self._host = host

    def give_back(self) -> None:
        self._host = None
        self._held.close()

    def __enter__(self) -> _HostSlot:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.give_back()


def _each(ctx: Context, article_id: int, stage, *args, alone: bool):  # noqa: ANN001, ANN002, ANN202
    """`stage(*args)` for one article of a batch: an unexpected error is logged and the article
    left to the sweep (None), unless it is alone or the error ends the batch."""
    try:
        return stage(*args)
    except ctx.ends_batch:
        raise
    except Exception as exc:
        if alone:
            raise
        _unexpected(exc, article_id)
        return None


def _finish(
    ctx: Context, ready: list[_Ready], outcomes: dict, sending: float | None, *, alone: bool
) -> float:
    """Fingerprint cleaned articles and store them in one transaction, then send the alerts
    they created (`sending`: when the batch's earlier parts began sending, else now); returns
    when sending began."""
    ready = _fingerprint_all(ctx, ready, alone=alone)
    assignments, alerts = _store_all(ctx, ready)
    for item, assignment in zip(ready, assignments, strict=True):
        if assignment is None:
            continue  # no longer ours (or, in a batch, it hit a bug): nothing of it is kept
        outcomes[item.article.id] = "processed"
        metrics.ARTICLES_PROCESSED.labels(outcome="processed").inc()
        if assignment.matched:
            metrics.DUPLICATES_JOINED.labels(kind="story").inc()
        metrics.STORIES_MERGED.inc(len(assignment.merged))
        log.info(
            "processed",
            extra={
                "article_id": item.article.id,
                "url": item.article.url,
                "story_id": assignment.story_id,
                "joined": assignment.matched > 0,
                "method": item.result.method,
                "wire": item.result.wire_source,
            },
        )
    sending = time.monotonic() if sending is None else sending
    delivery.send_new(alerts, ctx=ctx, began=sending)
    return sending


@dataclass
class _Work:
    """A claimed article: what its claim read and the host's verdict (None: robots.txt first)."""

    article_id: int
    claim: article_store.Claim
    host: str | None
    verdict: Verdict | None
    now: datetime


@dataclass
class _Page:
    """A claimed article's fetched page, waiting to be cleaned (`error`: why there is none)."""

    work: _Work
    response: Response | None
    error: Exception | None

    @property
    def size(self) -> int:
        return len(self.response.content) if self.response is not None else 0


@dataclass
class _Ready:
    """A cleaned article, waiting for its transaction (fingerprinted just before it)."""

    article: article_store.Processed
    result: ExtractedArticle
    cleaned: dict
    prepared: Prepared | None = None


def _claim(ctx: Context, article_ids: list[int], token: str | None, outcomes: dict) -> list[_Work]:
    """Claim the articles and check their hosts, in one transaction; those given up on are
    failed there, those not ours left out."""
    s = ctx.settings
    now = utcnow()
    claimed: list[_Work] = []
    hosts: dict = {}  # each host's state, read once
    with _CPU_STAGES, session_scope(s.database_url) as session:
        claims = article_store.claim_articles(
            session=session, article_ids=article_ids, now=now, lease=s.stuck_after, token=token
        )
        for article_id in article_ids:
            claim = claims.get(article_id)
            if claim is None:
                continue
            if claim.attempts > s.max_attempts:
                article_store.fail_article(
                    session=session,
                    article_id=article_id,
                    now=now,
                    error=f"gave up after {claim.attempts - 1} attempts; last error: {claim.error}",
                )
                outcomes[article_id] = "failed"
                continue
            url = claim.url
            host = host_key(url) if url else None
            verdict = (
                politeness.check_page(
                    ctx, session=session, url=url, host=host, now=now, states=hosts
                )
                if url
                else Verdict()
            )
            claimed.append(_Work(article_id, claim, host, verdict, now))
    return claimed


def _fetch_page(ctx: Context, work: _Work, slot: _HostSlot) -> _Page | str:
    """Fetch a claimed article's page in the batch's host `slot`; its final state when it goes
    no further (its host asked us to wait, or a transient failure: tried again later)."""
    s = ctx.settings
    article_id, claim, host, now = work.article_id, work.claim, work.host, work.now
    url = claim.url
    verdict = work.verdict
    if verdict is None:  # the host's robots.txt is not known yet: fetched outside the claim
        slot.give_back()
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
    try:
        if not url:
            raise FetchError("the feed entry has no link", permanent=True)
        if verdict.refused:
            raise FetchError(verdict.refused, permanent=True)
        slot.take(host)
        response = fetch(url, settings=s, max_bytes=s.page_max_bytes, accept=PAGE_ACCEPT)
        if response.content_type not in HTML_TYPES:
            raise ExtractionError(f"not an HTML page ({response.content_type})")
    except FetchError as exc:
        if not exc.permanent:
            return _retry_article(ctx, article_id, claim.attempts, exc, host, now)
        return _Page(work, None, exc)
    except ExtractionError as exc:
        return _Page(work, None, exc)
    return _Page(work, response, None)


def _clean(ctx: Context, page: _Page) -> _Ready | str:
    """Clean a fetched page (or the feed's content, when the page could not be had); its final
    state when it goes no further."""
    work = page.work
    article_id, claim = work.article_id, work.claim
    url = claim.url
    feed_kwargs = {
        "feed_title": claim.feed_title,
        "feed_content": claim.feed_content,
        "feed_published": claim.feed_published,
    }
    error, response = page.error, page.response
    if response is not None:
        try:
            with _CPU_STAGES:
                result = extract_article(
                    response.content, url=response.url, charset=response.charset, **feed_kwargs
                )
        except ExtractionError as exc:
            error = exc
    if error is not None:
        result = _from_feed_or_none(url, feed_kwargs)
        if result is None:
            extra = {"article_id": article_id, "url": url}
            return _fail_article(ctx, article_id, str(error), extra)

    cleaned = {  # what the stages read and the row stores
        "title": result.title,
        "text": result.text,
        "canonical_url": result.canonical_url,
        "site_name": result.site_name,
        "wire_source": result.wire_source,
        "language": result.language,
        "word_count": result.word_count,
        "published": result.published or claim.feed_published,
    }
    article = article_store.Processed(
        id=article_id,
        feed_id=claim.feed_id,
        url=url,
        feed_title=claim.feed_title,
        processed_at=utcnow(),
        **cleaned,
    )
    return _Ready(article, result, cleaned)


def _fingerprint_all(ctx: Context, ready: list[_Ready], *, alone: bool) -> list[_Ready]:
    """Fingerprint the cleaned articles one after the other, just before their transaction;
    those whose fingerprinting hit a bug are logged and left out (see `process_articles`).

    Fingerprinting a batch in a row rather than each page right after its cleaning keeps the
    token codes and the MinHash tables in the processor's cache: about 0.3 ms less per article
    (`bench/pipeline.py`'s stage table)."""
    with _CPU_STAGES:
        for item in ready:
            item.prepared = _each(ctx, item.article.id, prepare, item.article, alone=alone)
    return [item for item in ready if item.prepared is not None]


def _store_all(ctx: Context, ready: list[_Ready]) -> tuple[list, list[delivery.NewAlert]]:
    """Store the articles in one transaction (see `process_articles`); returns each one's story
    assignment (None when it was no longer ours or, in a batch, failed: logged) and the new
    alerts to send."""
    url = ctx.settings.database_url
    with _CPU_STAGES:  # never taken inside a transaction (see _CPU_STAGES)
        if len(ready) > 1:
            try:
                with session_scope(url) as session:
                    topics = ctx.matcher.index(session)  # checked once for the batch
                    topic_ids = [
                        match_topics(
                            session=session, article=r.article, matcher=ctx.matcher, index=topics
                        )
                        for r in ready
                    ]
                    index = BatchIndex(  # locks the batch's keys, then looks them up
                        session,
                        [(r.article.id, r.prepared) for r in ready],
                        since=min(r.article.processed_at for r in ready)
                        - timedelta(days=ctx.settings.dedup_window_days),
                    )
                    assignments = [
                        _store(ctx, session, r, topic_ids=t, index=index)
                        for r, t in zip(ready, topic_ids, strict=True)
                    ]
                    index.write(session)
                    alerts = _tag(ctx, session, ready, assignments, topic_ids)
                return assignments, alerts
            except _ClaimLost:
                pass
            except ctx.ends_batch:
                raise
            except Exception as exc:
                log.warning("a batch's transaction failed (%s): storing one by one", exc)
        stored: list = []
        alerts = []
        for item in ready:
            try:
                with session_scope(url) as session:
                    topic_ids = match_topics(
                        session=session, article=item.article, matcher=ctx.matcher
                    )
                    assignment = _store(ctx, session, item, topic_ids=topic_ids)
                    new = _tag(ctx, session, [item], [assignment], [topic_ids])
            except _ClaimLost:
                stored.append(None)
            except ctx.ends_batch:
                raise
            except Exception as exc:
                if len(ready) == 1:
                    raise
                _unexpected(exc, item.article.id)
                stored.append(None)
            else:  # committed
                stored.append(assignment)
                alerts += new
        return stored, alerts


def _store(
    ctx: Context,
    session,  # noqa: ANN001
    item: _Ready,
    *,
    topic_ids: list[int],
    index: BatchIndex | None = None,
) -> Assignment:
    """An article's part of a transaction: its story and its row (raises _ClaimLost when the
    article is no longer ours). `topic_ids`: its topics, matched in this transaction before its
    story's locks (they go on the row); `index`: the batch's (see `BatchIndex`)."""
    article, prepared, result = item.article, item.prepared, item.result
    now = article.processed_at
    assignment = assign_story(
        session=session,
        article=article,
        now=now,
        window_days=ctx.settings.dedup_window_days,
        prepared=prepared,
        pending=True,
        index=index,
    )
    if not article_store.complete_article(
        session=session,
        article_id=article.id,
        now=now,
        **item.cleaned,
        html=result.html,
        authors=", ".join(result.authors)[:1024] or None,
        image_url=result.image_url,
        extraction_method=result.method,
        story_id=assignment.story_id,
        content_hash=prepared.content_hash,
        topic_ids=topic_ids or None,
    ):
        raise _ClaimLost(article.id)
    return assignment


def _tag(
    ctx: Context,
    session,  # noqa: ANN001
    items: list[_Ready],
    assignments: list[Assignment],
    topic_ids: list[list[int]],
) -> list[delivery.NewAlert]:
    """The stored articles' topics and the alerts they call for, all at once, after their
    stories (an article's story may have been merged into a later one's meanwhile: its topics
    go to the story that lives on, where the merge moved those already there)."""
    moved = {old: a.story_id for a in assignments for old in a.merged}

    def living(story_id: int) -> int:
        while story_id in moved:
            story_id = moved[story_id]
        return story_id

    matches = [
        (item.article.id, living(a.story_id), t)
        for item, a, t in zip(items, assignments, topic_ids, strict=True)
        if t
    ]
    if not matches:
        return []
    return tag_articles(
        session=session,
        matches=matches,
        now=max(item.article.processed_at for item in items),
        inline=ctx.sends_inline,
    )


def _unexpected(exc: Exception, article_id: int) -> None:
    """A bug's trace, for an article of a batch: the others go on; this one is handed out again
    by the sweep when its claim runs out."""
    log.error(
        "unhandled error processing an article",
        exc_info=exc,
        extra={"article_id": article_id},
    )


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
