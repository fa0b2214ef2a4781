"""Stories end to end: republished copies across outlets join one story; an independently
written report of the same event does not; a copy that bridges two stories merges them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage import feeds as feed_store
from storage import stories as story_store
from storage.db import session_scope
from storage.models import Article, Story, utcnow
from tests.conftest import make_settings
from tests.support.feeds import article_page, rss
from tests.support.wire import INDEPENDENT, WIRE, republications
from wirewatch.service import run_once
from worker.assign import assign_story


def publish(server, outlet: str, headline: str, paragraphs: list[str]) -> str:
    link = server.route(
        f"/{outlet}/story.html",
        article_page(headline, paragraphs, site=outlet),
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
    return server.route(
        f"/{outlet}/feed.xml",
        rss([{"title": headline, "link": link}], title=outlet),
        headers={"Content-Type": "application/rss+xml"},
    )


def test_copies_join_one_story_and_independent_reports_do_not(db_url, server) -> None:
    feeds = [publish(server, outlet, h, p) for outlet, (h, p) in republications().items()]
    feeds.append(
        publish(server, "own-reporting", "Geneva talks end with livestock pact", INDEPENDENT)
    )
    with session_scope(db_url) as s:
        for url in feeds:
            feed_store.add_feed(session=s, url=url)
    summary = run_once(make_settings(db_url), timeout=120)
    assert summary.by_state == {"processed": 4}

    with session_scope(db_url) as s:
        articles = {a.feed_id: a for a in s.execute(select(Article)).scalars()}
        stories = s.execute(select(Story).where(Story.merged_into_id.is_(None))).scalars().all()
    assert len(stories) == 2
    copies = {articles[i].story_id for i in (1, 2, 3)}
    assert len(copies) == 1
    (wire_story_id,) = copies
    assert articles[4].story_id != wire_story_id
    story = next(st for st in stories if st.id == wire_story_id)
    assert story.member_count == 3
    assert story.wire_source == "Reuters"
    assert story.title == "Countries agree draft treaty on animal disease data"  # fullest copy
    assert story.representative_article_id == articles[1].id


def _article(s, feed_id: int, title: str, paragraphs: list[str]) -> Article:
    a = Article(
        feed_id=feed_id,
        entry_key=title,
        url=f"http://x.test/{feed_id}/{title}",
        title=title,
        text="\n\n".join(paragraphs),
        state="processed",
        word_count=sum(len(p.split()) for p in paragraphs),
        processed_at=utcnow(),
    )
    s.add(a)
    s.flush()
    return a


def test_a_bridging_copy_merges_two_stories_deterministically(db_url) -> None:
    # A copy trimmed at the end and a copy that dropped the first paragraphs share too little to
    # be joined (containment 0.5); the full copy contains both.
    head, tail = WIRE[:4], WIRE[2:]
    with session_scope(db_url) as s:
        fids = [feed_store.add_feed(session=s, url=f"http://o{i}.test/feed").id for i in range(3)]
    now = utcnow()
    with session_scope(db_url) as s:
        a = _article(s, fids[0], "first part", head)
        sa = assign_story(session=s, article=a, now=now, window_days=14)
    with session_scope(db_url) as s:
        b = _article(s, fids[1], "second part", tail)
        sb = assign_story(session=s, article=b, now=now, window_days=14)
    assert sa.story_id != sb.story_id and sa.matched == sb.matched == 0
    with session_scope(db_url) as s:
        c = _article(s, fids[2], "whole", list(WIRE))
        sc = assign_story(session=s, article=c, now=now, window_days=14)
    assert sc.matched == 2
    assert sc.story_id == min(sa.story_id, sb.story_id) and sc.merged == [
        max(sa.story_id, sb.story_id)
    ]
    with session_scope(db_url) as s:
        merged = s.get(Story, sc.merged[0])
        assert merged.merged_into_id == sc.story_id
        assert story_store.get_story(session=s, story_id=merged.id).id == sc.story_id
        live = story_store.get_story(session=s, story_id=sc.story_id)
        assert live.member_count == 3
        assert {m.article.id for m in story_store.members(session=s, story_id=sc.story_id)} == {
            a.id,
            b.id,
            c.id,
        }


def test_articles_outside_the_window_start_a_new_story(db_url) -> None:
    with session_scope(db_url) as s:
        fids = [feed_store.add_feed(session=s, url=f"http://w{i}.test/feed").id for i in range(2)]
    old = utcnow() - timedelta(days=20)
    with session_scope(db_url) as s:
        first = assign_story(
            session=s, article=_article(s, fids[0], "t", WIRE), now=old, window_days=14
        )
    with session_scope(db_url) as s:
        second = assign_story(
            session=s, article=_article(s, fids[1], "t2", WIRE), now=utcnow(), window_days=14
        )
    assert second.story_id != first.story_id and second.matched == 0


def test_the_index_keeps_only_the_window(db_url) -> None:
    from scheduler.loop import sweep
    from storage.models import DedupKey
    from worker.dispatch import ThreadDispatcher

    with session_scope(db_url) as s:
        fids = [feed_store.add_feed(session=s, url=f"http://p{i}.test/feed").id for i in range(2)]
    with session_scope(db_url) as s:
        assign_story(
            session=s,
            article=_article(s, fids[0], "old", WIRE),
            now=utcnow() - timedelta(days=16),
            window_days=14,
        )
    with session_scope(db_url) as s:
        assign_story(
            session=s, article=_article(s, fids[1], "new", WIRE), now=utcnow(), window_days=14
        )
        before = s.execute(select(DedupKey.article_id)).scalars().all()
    dispatcher = ThreadDispatcher(1)
    sweep(settings=make_settings(db_url), dispatcher=dispatcher)
    dispatcher.close()
    with session_scope(db_url) as s:
        after = s.execute(select(DedupKey.article_id)).scalars().all()
    assert len(set(before)) == 2 and len(set(after)) == 1 and len(after) == len(before) / 2
