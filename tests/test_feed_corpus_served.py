"""Every corpus feed, served over HTTP and polled by the real pipeline, is either ingested or
recorded on the feed as an error with a readable reason: no crash, no hang, nothing lost."""

from __future__ import annotations

import mimetypes
import resource
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from storage import feeds as feed_store
from storage.db import session_scope
from storage.models import Feed
from tests.conftest import corpus, make_settings
from worker import pipeline
from worker.dispatch import ThreadDispatcher
from worker.hostlimit import LocalHostLimiter

pytestmark = pytest.mark.corpus


def serve_tree(server, root: Path, prefix: str) -> dict[str, Path]:
    """Route every file under root; the content type comes from the extension, as a web server
    would send it (a real feed often arrives as text/xml or application/octet-stream)."""
    urls = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        urls[
            server.route(f"/{prefix}/{rel}", path.read_bytes(), headers={"Content-Type": ctype})
        ] = path
    return urls


def poll_all(settings, feed_ids: list[int]) -> list[int]:
    """Poll each feed once with the real pipeline; new articles are left pending (their pages
    live on the internet, which the tests cannot reach)."""
    new_articles: list[int] = []
    dispatcher = ThreadDispatcher(4)
    ctx = pipeline.Context(
        settings=settings,
        dispatcher=dispatcher,
        limiter=LocalHostLimiter(settings.host_concurrency),
    )
    dispatcher.poll_handler = lambda fid: new_articles.extend(pipeline.refresh_feed(fid, ctx=ctx))
    dispatcher.article_handler = lambda aid: None
    for fid in feed_ids:
        dispatcher.poll_feed(fid)
    assert dispatcher.wait_idle(timeout=600), "polling the corpus hung"
    dispatcher.close()
    return new_articles


@pytest.mark.parametrize("name", ["feedparser-tests/tests", "real-feeds/benchmark_data"])
def test_every_corpus_feed_is_ingested_or_recorded_with_a_reason(name, sqlite_url, server) -> None:
    root = corpus(name)
    urls = serve_tree(server, root, name.split("/")[0])
    settings = make_settings(sqlite_url, host_concurrency=8, feed_max_bytes=15 * 1024 * 1024)
    with session_scope(sqlite_url) as s:
        added = feed_store.add_feeds(session=s, feeds=[(u, None) for u in urls])
    assert added == len(urls)
    with session_scope(sqlite_url) as s:
        ids = list(s.execute(select(Feed.id)).scalars())

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    poll_all(settings, ids)
    elapsed = time.monotonic() - started

    with session_scope(sqlite_url) as s:
        feeds = feed_store.list_feeds(session=s)
    unpolled = [f.feed.url for f in feeds if f.feed.last_polled_at is None]
    assert unpolled == [], f"{len(unpolled)} feeds were never polled"
    failed = [f.feed for f in feeds if f.feed.error_count]
    for feed in failed:
        reason = feed.last_error or ""
        assert len(reason) > 10 and "Traceback" not in reason, (feed.url, reason)
    ingested = [f for f in feeds if not f.feed.error_count]
    print(
        f"\n{name}: {len(ingested)} ingested, {len(failed)} recorded as errors, "
        f"{sum(f.entries for f in feeds)} entries, {elapsed:.1f}s, "
        f"max RSS +{(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) // 1024} MiB"
    )
    if name.startswith("real-feeds"):
        assert len(ingested) >= 195, [f.last_error for f in failed]
        assert sum(f.entries for f in feeds) > 5000
    else:
        assert len(ingested) >= 2000, sorted({f.last_error for f in failed})[:20]
