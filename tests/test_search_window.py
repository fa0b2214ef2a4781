"""Search over more articles than the newest-ids probe: ranked results are exactly the newest
RANKED_MATCHES matches, and newest-first pages are exactly what a plain query gives, whether the
matches are dense (a common word), sparse (a rare one) or only among the oldest articles (the
window and whole-table paths on PostgreSQL), with no filter, a language or a topic (tagging
nine articles in ten: more than the probe)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from api.query import text_query
from storage import feeds as feed_store
from storage.db import session_scope
from storage.models import Article, ArticleTopic
from storage.search import RANKED_MATCHES, Filters, search_articles
from storage.topics import create_topic
from storage.users import create_user
from tests.support.archive import T0, processed_row

N = 3_000


def words(i: int) -> str:
    text = ["common", f"batch{i % 7}"]
    if i % 97 == 0:
        text.append("rare")
    if i < 250:
        text.append("ancient")  # only among the oldest: beyond the newest-ids probe
    return " ".join(text) + " report"


@pytest.fixture
def filled(db_url: str) -> str:
    with session_scope(db_url) as s:
        feed = feed_store.add_feed(session=s, url="https://paper.example/feed.xml")
        feed_id = feed.id
        owner = create_user(session=s, name="reader").id
        topic = create_topic(session=s, owner_id=owner, name="t", query="report").id
    rows = [
        processed_row(
            i, title=f"Story {i}", text=words(i), language="en" if i % 2 else "fr", feed_id=feed_id,
            topic_ids=[topic] if i % 10 else None,
        )
        for i in range(N)
    ]  # fmt: skip
    with session_scope(db_url) as s:
        s.execute(insert(Article.__table__), rows)
        ids = s.execute(select(Article.id).order_by(Article.id)).scalars()
        s.execute(
            insert(ArticleTopic.__table__),
            [{"article_id": a, "topic_id": topic}
             for a, row in zip(ids, rows, strict=True) if row["topic_ids"]],
        )  # fmt: skip
    return db_url


def topic_filter(url: str) -> Filters:
    with session_scope(url) as s:
        return Filters(topic_id=s.execute(select(ArticleTopic.topic_id).limit(1)).scalar_one())


def matching_ids(url: str, predicate, f: Filters = Filters()) -> list[int]:  # noqa: ANN001, B008
    """Brute force: the articles whose text `predicate` takes, passing the filters (lang, topic:
    the topic's tags in article_topic)."""
    with session_scope(url) as s:
        articles = s.execute(select(Article.id, Article.text, Article.language)).all()
        tagged = set(
            s.execute(
                select(ArticleTopic.article_id).where(ArticleTopic.topic_id == f.topic_id)
            ).scalars()
        )
    return sorted(
        (
            a.id
            for a in articles
            if predicate(a.text)
            and (f.lang is None or a.language == f.lang)
            and (f.topic_id is None or a.id in tagged)
        ),
        reverse=True,
    )


QUERIES = [  # (search text, which article texts it matches)
    ("common", lambda t: "common" in t.split()),
    ("rare", lambda t: "rare" in t.split()),
    ("ancient", lambda t: "ancient" in t.split()),
    ("batch3 rare", lambda t: "batch3" in t.split() and "rare" in t.split()),
]


@pytest.mark.parametrize(("q", "predicate"), QUERIES)
def test_ranked_search_ranks_exactly_the_newest_matches(filled: str, q: str, predicate) -> None:  # noqa: ANN001
    topic = topic_filter(filled)
    for f in (Filters(), Filters(lang="fr"), topic, Filters(topic_id=topic.topic_id, lang="fr")):
        expected = matching_ids(filled, predicate, f)
        assert expected, "the fixture has matches for every query"
        with session_scope(filled) as s:
            hits = []
            for offset in range(0, RANKED_MATCHES + 100, 100):
                page = search_articles(
                    session=s, text=text_query(q), filters=f, limit=100, offset=offset
                )
                hits += [h.article.id for h in page]
        assert sorted(hits, reverse=True) == expected[:RANKED_MATCHES], (q, f)
        assert len(hits) == len(set(hits))


@pytest.mark.parametrize("q", ["common", "ancient", "rare"])
def test_newest_first_pages_reach_every_match(filled: str, q: str) -> None:
    for f in (Filters(), topic_filter(filled)):
        expected = matching_ids(filled, lambda t: q in t.split(), f)
        got: list[int] = []
        before = None
        with session_scope(filled) as s:
            while True:
                page = search_articles(
                    session=s, text=text_query(q), filters=f, limit=500, before_id=before,
                    ranked=False,
                )  # fmt: skip
                if not page:
                    break
                got += [h.article.id for h in page]
                before = page[-1].article.id
        assert got == expected, (q, f)


def stories_for(url: str) -> None:
    """Every three articles one story; first sightings shuffled against ids (with ties), one story
    in eleven merged into another (merged stories are never listed)."""
    from storage.models import Story

    n = N // 3
    rows = [
        {
            "id": k + 1,
            "title": f"Story {k}",
            "first_seen_at": T0 + timedelta(minutes=(k * 37) % (n // 2)),
            "updated_at": T0,
            "member_count": 3,
            "merged_into_id": 1 if k % 11 == 5 else None,
        }
        for k in range(n)
    ]
    with session_scope(url) as s:
        s.execute(insert(Story.__table__), rows)
        for k in range(n):
            s.execute(
                Article.__table__.update()
                .where(Article.id.in_([3 * k + 1, 3 * k + 2, 3 * k + 3]))
                .values(story_id=k + 1)
            )


@pytest.mark.parametrize(
    ("q", "predicate"), [*QUERIES, ('"batch3 report"', lambda t: t.endswith("batch3 report"))]
)
@pytest.mark.parametrize("walk", [None, (3, 7)])
def test_story_search_pages_are_exactly_the_matching_live_stories(
    filled: str,
    q: str,
    predicate: Callable[[str], bool],
    walk: tuple[int, ...] | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Walking the newest stories member by member, then the index of matches: one exact order
    (with the default walk, and one so short that most pages come from the index)."""
    from storage import search
    from storage.models import Story
    from storage.search import search_stories

    if walk is not None:
        monkeypatch.setattr(search, "STORY_WALK", walk)
    stories_for(filled)
    with session_scope(filled) as s:
        live = {
            r.id: r.first_seen_at
            for r in s.execute(select(Story.id, Story.first_seen_at, Story.merged_into_id)).all()
            if r.merged_into_id is None
        }
    for lang in (None, "fr"):
        wanted = {(a - 1) // 3 + 1 for a in matching_ids(filled, predicate, Filters(lang=lang))}
        wanted &= set(live)
        expected = sorted(wanted, key=lambda sid: (live[sid], sid), reverse=True)
        assert expected, "the fixture has matching stories for every query"
        got: list[int] = []
        before = None
        with session_scope(filled) as s:
            while True:
                page = search_stories(
                    session=s, text=text_query(q), filters=Filters(lang=lang), limit=25,
                    before=before,
                )  # fmt: skip
                if not page:
                    break
                got += [story.id for story in page]
                before = (page[-1].first_seen_at, page[-1].id)
        assert got == expected, (q, lang)
