"""End to end in embedded mode: feeds served locally, `run --once`, articles stored and cleaned."""

from __future__ import annotations

from sqlalchemy import select

from storage import feeds as feed_store
from storage.db import session_scope
from storage.models import Article, Feed
from tests.conftest import make_settings
from tests.support.feeds import PARAGRAPHS, article_page, rss
from wirewatch.service import run_once


def subscribe(db_url: str, *urls: str) -> list[int]:
    with session_scope(db_url) as s:
        return [feed_store.add_feed(session=s, url=u).id for u in urls]


def test_run_once_stores_each_entry_once_and_cleans_the_pages(db_url, server) -> None:
    items = []
    for i in range(3):
        link = server.route(
            f"/news/{i}.html",
            article_page(f"Story {i}", PARAGRAPHS),
            headers={"Content-Type": "text/html; charset=utf-8"},
        )
        items.append({"title": f"Story {i}", "link": link, "guid": f"story-{i}"})
    feed_url = server.route(
        "/feed.xml", rss(items), headers={"Content-Type": "application/rss+xml", "ETag": '"v1"'}
    )
    broken_url = server.route(
        "/broken.xml", "<html><body>not a feed</body></html>", headers={"Content-Type": "text/html"}
    )
    missing_url = server.url("/gone.xml")
    subscribe(db_url, feed_url, broken_url, missing_url)
    settings = make_settings(db_url)

    summary = run_once(settings, timeout=60)
    assert summary.finished and summary.feeds == 3 and summary.feeds_failed == 2
    assert summary.by_state == {"processed": 3}

    with session_scope(db_url) as s:
        articles = s.execute(select(Article).order_by(Article.id)).scalars().all()
        feeds = {f.url: f for f in s.execute(select(Feed)).scalars()}
    assert [a.entry_key for a in articles] == ["story-0", "story-1", "story-2"]
    assert all(a.state == "processed" for a in articles)
    assert "quarter of a percentage point" in articles[0].text
    assert "Most read" not in articles[0].text and "All rights reserved" not in articles[0].text
    assert feeds[feed_url].etag == '"v1"' and feeds[feed_url].error_count == 0
    assert feeds[feed_url].title == "Test outlet"
    assert "not a feed" in feeds[broken_url].last_error
    assert "404" in feeds[missing_url].last_error

    # Second run: the server answers 304 to the conditional GET; nothing is stored twice.
    server.route(
        "/feed.xml",
        handler=lambda req: (
            (304, {}, b"")
            if req.headers.get("If-None-Match") == '"v1"'
            else (200, {"Content-Type": "application/rss+xml"}, rss(items).encode())
        ),
    )
    summary = run_once(settings, timeout=60)
    assert summary.new_articles == 0
    assert server.hits_for("/feed.xml")[-1].headers.get("if-none-match") == '"v1"'
    with session_scope(db_url) as s:
        assert len(s.execute(select(Article.id)).all()) == 3


def test_retry_after_pauses_the_host_and_is_recorded(sqlite_url, server) -> None:
    url = server.route(
        "/busy.xml",
        "slow down",
        status=503,
        headers={"Retry-After": "120", "Content-Type": "text/plain"},
    )
    (fid,) = subscribe(sqlite_url, url)
    run_once(make_settings(sqlite_url), timeout=30)
    with session_scope(sqlite_url) as s:
        feed = s.get(Feed, fid)
        from storage.hosts import blocked_until
        from wirewatch.net import host_key

        until = blocked_until(session=s, host=host_key(url))
    assert feed.error_count == 1 and "503" in feed.last_error
    assert until is not None and (until - feed.last_polled_at).total_seconds() >= 119
    assert (feed.next_poll_at - feed.last_polled_at).total_seconds() >= 119


def test_conditional_gets_reuse_one_connection(sqlite_url, server) -> None:
    from wirewatch.net import fetch

    url = server.route("/etag.xml", handler=lambda req: (304, {"ETag": '"x"'}, b""))
    settings = make_settings(sqlite_url)
    for _ in range(5):
        assert fetch(url, settings=settings, max_bytes=1024, etag='"x"').not_modified
    ports = {hit.client_port for hit in server.hits_for("/etag.xml")}
    assert len(ports) == 1, "a 304 must leave the connection open for the next poll"
