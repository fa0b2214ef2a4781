"""Politeness for article pages: robots.txt honoured (cached per host), Crawl-delay respected."""

from __future__ import annotations

from sqlalchemy import select

from storage import feeds as feed_store
from storage.db import session_scope
from storage.models import Article, Host
from tests.conftest import make_settings
from tests.support.feeds import PARAGRAPHS, article_page, rss
from wirewatch.service import run_once


def site(server, robots: str, n: int = 2, with_feed_content: bool = False) -> str:
    server.route("/robots.txt", robots, headers={"Content-Type": "text/plain"})
    items = []
    for i in range(n):
        path = f"/private/{i}.html" if i == 0 else f"/news/{i}.html"
        link = server.route(path, article_page(f"Story {i}", PARAGRAPHS),
                            headers={"Content-Type": "text/html"})
        item = {"title": f"Story {i}", "link": link}
        if with_feed_content:
            item["description"] = " ".join(PARAGRAPHS)
        items.append(item)
    return server.route("/feed.xml", rss(items), headers={"Content-Type": "application/rss+xml"})


def test_robots_disallow_is_honoured_and_cached(sqlite_url, server) -> None:
    feed = site(server, "User-agent: *\nDisallow: /private/\n")
    with session_scope(sqlite_url) as s:
        feed_store.add_feed(session=s, url=feed)
    run_once(make_settings(sqlite_url, respect_robots=True), timeout=60)
    with session_scope(sqlite_url) as s:
        private, public = s.execute(select(Article).order_by(Article.id)).scalars().all()
        host = s.execute(select(Host)).scalars().one()
    assert private.state == "failed" and "robots.txt" in private.error
    assert public.state == "processed"
    assert "Disallow: /private/" in host.robots_txt
    assert len(server.hits_for("/robots.txt")) == 1, "robots.txt is cached per host"
    assert server.hits_for("/private/0.html") == []


def test_a_disallowed_page_falls_back_to_the_feed_content(sqlite_url, server) -> None:
    feed = site(server, "User-agent: Wirewatch\nDisallow: /private/\n", with_feed_content=True)
    with session_scope(sqlite_url) as s:
        feed_store.add_feed(session=s, url=feed)
    run_once(make_settings(sqlite_url, respect_robots=True), timeout=60)
    with session_scope(sqlite_url) as s:
        private = s.execute(select(Article).order_by(Article.id)).scalars().first()
    assert private.state == "processed" and private.extraction_method == "feed"
    assert "quarter of a percentage point" in private.text


def test_crawl_delay_spaces_requests_to_the_host(sqlite_url, server) -> None:
    feed = site(server, "User-agent: *\nCrawl-delay: 2\n", n=3)
    with session_scope(sqlite_url) as s:
        feed_store.add_feed(session=s, url=feed)
    run_once(make_settings(sqlite_url, respect_robots=True), timeout=60)
    with session_scope(sqlite_url) as s:
        articles = s.execute(select(Article)).scalars().all()
    assert all(a.state == "processed" for a in articles)
    assert all(a.attempts == 1 for a in articles), "waiting for a turn is not a failed attempt"
    times = sorted(a.processed_at for a in articles)
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    assert all(g >= 1.9 for g in gaps), gaps
