"""Feed and article storage on SQLite and PostgreSQL: uniqueness, atomic claims, failure state."""

import threading
from datetime import timedelta

import pytest

from storage import articles as article_store
from storage import feeds as feed_store
from storage.db import session_scope
from storage.models import utcnow


def add(url: str, db_url: str, n: int = 1) -> list[int]:
    with session_scope(db_url) as s:
        return [feed_store.add_feed(session=s, url=f"{url}/{i}").id for i in range(n)]


def test_duplicate_feed_is_refused_and_nothing_else_lost(db_url: str) -> None:
    add("http://a.example", db_url)
    with (
        pytest.raises(feed_store.DuplicateFeedError, match="already subscribed"),
        session_scope(db_url) as s,
    ):
            feed_store.add_feed(session=s, url="http://a.example/0")
    with session_scope(db_url) as s:
        assert [f.feed.url for f in feed_store.list_feeds(session=s)] == ["http://a.example/0"]
        assert (
            feed_store.add_feeds(
                session=s, feeds=[("http://a.example/0", None), ("http://b.example/", "B")]
            )
            == 1
        )


def test_due_feeds_are_claimed_once_even_by_racing_schedulers(db_url: str) -> None:
    ids = add("http://a.example", db_url, n=60)
    claims: list[list[int]] = []
    barrier = threading.Barrier(4)

    def claimer() -> None:
        barrier.wait()
        got: list[int] = []
        for _ in range(5):
            with session_scope(db_url) as s:
                got += feed_store.claim_due_feeds(session=s, now=utcnow(), lease=600, limit=7)
        claims.append(got)

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    flat = [i for c in claims for i in c]
    assert sorted(flat) == sorted(set(flat)), "a feed was claimed twice"
    assert set(flat) <= set(ids)
    with session_scope(db_url) as s:
        rest = feed_store.claim_due_feeds(session=s, now=utcnow(), lease=600, limit=1000)
    assert sorted(flat + rest) == sorted(ids)
    with session_scope(db_url) as s:  # all leased: nothing due now, everything due after the lease
        assert feed_store.claim_due_feeds(session=s, now=utcnow(), lease=600) == []
        later = utcnow() + timedelta(seconds=601)
        assert len(feed_store.claim_due_feeds(session=s, now=later, lease=600, limit=100)) == 60


def test_disabled_feeds_are_never_claimed(db_url: str) -> None:
    (fid,) = add("http://a.example", db_url)
    with session_scope(db_url) as s:
        feed_store.set_feed_enabled(session=s, feed_id=fid, enabled=False)
    with session_scope(db_url) as s:
        assert feed_store.claim_due_feeds(session=s, now=utcnow(), lease=60, all_enabled=True) == []


def test_entries_are_stored_once_per_feed(db_url: str) -> None:
    (fid,) = add("http://a.example", db_url)
    entries = [
        article_store.NewEntry(
            key=f"k{i}",
            url=f"http://a.example/{i}",
            title="t",
            content=None,
            author=None,
            published=None,
        )
        for i in range(5)
    ]
    with session_scope(db_url) as s:
        first = article_store.insert_entries(
            session=s, feed_id=fid, entries=entries + entries[:1], now=utcnow()
        )
    assert len(first) == 5
    with session_scope(db_url) as s:
        again = article_store.insert_entries(session=s, feed_id=fid, entries=entries, now=utcnow())
        assert again == []
        assert article_store.count_by_state(session=s) == {"pending": 5}


def test_an_article_is_claimed_by_one_worker_and_stuck_work_is_found(db_url: str) -> None:
    (fid,) = add("http://a.example", db_url)
    entry = article_store.NewEntry(
        key="k", url=None, title=None, content=None, author=None, published=None
    )
    with session_scope(db_url) as s:
        (aid,) = article_store.insert_entries(session=s, feed_id=fid, entries=[entry], now=utcnow())
    now = utcnow()
    with session_scope(db_url) as s:
        assert article_store.claim_article(session=s, article_id=aid, now=now, lease=600)
    with session_scope(db_url) as s:
        assert not article_store.claim_article(session=s, article_id=aid, now=now, lease=600)
        assert article_store.stuck_articles(session=s, now=now, stuck_after=600) == []
        later = now + timedelta(seconds=601)
        assert article_store.stuck_articles(session=s, now=later, stuck_after=600) == [aid]
        # the lease ran out (worker killed): another worker may take it
        assert article_store.claim_article(session=s, article_id=aid, now=later, lease=600)


def test_a_feed_failing_for_30_days_is_disabled_and_success_resets(db_url: str) -> None:
    (fid,) = add("http://a.example", db_url)
    start = utcnow()
    for day in (0, 10, 29):
        with session_scope(db_url) as s:
            feed = feed_store.record_poll_failure(
                session=s,
                feed_id=fid,
                now=start + timedelta(days=day),
                error="HTTP 500",
                next_poll_at=start,
                disable_after=timedelta(days=30),
            )
            assert not feed.disabled
    with session_scope(db_url) as s:
        feed = feed_store.record_poll_failure(
            session=s,
            feed_id=fid,
            now=start + timedelta(days=30),
            error="HTTP 404: not found",
            next_poll_at=start,
            disable_after=timedelta(days=30),
        )
    assert feed.disabled and feed.error_count == 4
    assert "30 days" in feed.disabled_reason and "HTTP 404" in feed.disabled_reason
    with session_scope(db_url) as s:
        feed_store.set_feed_enabled(session=s, feed_id=fid, enabled=True)
        feed_store.record_poll_success(
            session=s,
            feed_id=fid,
            now=utcnow(),
            next_poll_at=utcnow(),
            interval=60,
            not_modified=True,
        )
    with session_scope(db_url) as s:
        feed = feed_store.get_feed(session=s, feed_id=fid)
        assert (feed.error_count, feed.last_error, feed.disabled) == (0, None, False)
