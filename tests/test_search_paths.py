"""Search with phrases, fields and filters gives exactly what brute force gives, whichever way
PostgreSQL finds the newest matches (walking the newest articles of a filter, walking on,
a bitmap over a window of ids, everything; phrases checked on the newest word matches in
rounds), and whatever the sizes of those steps."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, select

import storage.search_newest
from api.query import text_query
from storage import feeds as feed_store
from storage.db import session_scope
from storage.models import Article, ArticleTopic
from storage.search import RANKED_MATCHES, Filters, search_articles
from storage.topics import create_topic
from storage.users import create_user
from tests.support.archive import T0, newest_first, processed_row

N = 1_500
WIRES = ("Reuters", None, None, "AP", None)


def article(i: int) -> dict:
    """Words of various frequencies; `alpha beta` often in one text, seldom side by side;
    `gamma` in many texts and few titles; `ancient` only among the oldest; `omega` in a third
    of the texts, none of the second topic's (`topics`)."""
    words = ["common", "filler", "alpha" if i % 3 == 0 else "delta", "filler"]
    words += ["alpha", "beta"] if i % 11 == 0 else ["beta" if i % 4 == 0 else "epsilon", "x"]
    words += ["gamma"] if i % 2 == 0 else []
    words += ["ancient"] if i < 60 else []
    words += ["rare"] if i % 97 == 0 else []
    words += ["omega"] if i % 2 and 2 not in topics(i) else []
    title = f"Story {i}" + (" gamma" if i % 13 == 0 else "") + " end"
    return processed_row(
        i,
        title=title,
        text="start " + " ".join(words),
        language=("en", "DE", "fr")[i % 3],
        wire_source=WIRES[i % 5],
    )


def topics(i: int) -> list[int]:
    """Which of the two topics (1, 2) tag article number `i`: some both, most none."""
    return [t for t, tags in ((1, i % 6 == 0 or i < 40), (2, i % 7 == 3)) if tags]


def tokens(row: dict) -> tuple[list[str], list[str]]:
    return row["title"].lower().split(), row["text"].lower().split()


def phrase(words: list[str], a: str, b: str) -> bool:
    return any(x == a and y == b for x, y in zip(words, words[1:], strict=False))


QUERIES = {  # search text: what it matches, on (title words, text words)
    "common": lambda t, x: "common" in x,
    "rare": lambda t, x: "rare" in x,
    "ancient": lambda t, x: "ancient" in x,
    '"alpha beta"': lambda t, x: phrase(x, "alpha", "beta"),
    '"alpha beta" OR rare': lambda t, x: phrase(x, "alpha", "beta") or "rare" in x,
    "title:gamma": lambda t, x: "gamma" in t,
    "title:gamma beta": lambda t, x: "gamma" in t and "beta" in x,
    "gamma -beta": lambda t, x: ("gamma" in t or "gamma" in x) and "beta" not in x,
    "omega": lambda t, x: "omega" in x,
}


@pytest.fixture
def archive(db_url: str) -> tuple[str, dict[int, dict], dict[str, Filters]]:
    """(url, the articles by id with their topic, the filters to try)."""
    with session_scope(db_url) as s:
        feeds = [
            feed_store.add_feed(session=s, url=f"https://paper{k}.example/feed.xml").id
            for k in range(3)
        ]
        owner = create_user(session=s, name="reader").id
        topic_ids = {
            t: create_topic(session=s, owner_id=owner, name=f"t{t}", query="gamma").id
            for t in (1, 2)
        }
    rows = [
        {
            **article(i),
            "feed_id": feeds[i % 3],
            "topic_ids": [topic_ids[t] for t in topics(i)] or None,  # as the pipeline writes it
        }
        for i in range(N)
    ]
    with session_scope(db_url) as s:
        s.execute(insert(Article.__table__), rows)
        ids = list(s.execute(select(Article.id).order_by(Article.id)).scalars())
        s.execute(
            insert(ArticleTopic.__table__),
            [{"article_id": a, "topic_id": t} for a, row in zip(ids, rows, strict=True)
             for t in row["topic_ids"] or []],
        )  # fmt: skip
    by_id = dict(zip(ids, rows, strict=True))
    topic = topic_ids[1]
    filters = {
        "none": Filters(),
        "wire": Filters(wire="reuters"),
        "lang": Filters(lang="de"),
        "feed": Filters(feed_id=feeds[1]),
        "topic": Filters(topic_id=topic),
        "topic2": Filters(topic_id=topic_ids[2]),
        "topic+lang": Filters(topic_id=topic, lang="de"),
        "since": Filters(since=T0 + timedelta(minutes=N - 300)),
        "until": Filters(until=T0 + timedelta(minutes=200)),
    }
    return db_url, by_id, filters


def passes(row: dict, f: Filters) -> bool:
    return (
        (f.wire is None or (row["wire_source"] or "").lower() == f.wire)
        and (f.lang is None or row["language"].lower() == f.lang)
        and (f.feed_id is None or row["feed_id"] == f.feed_id)
        and (f.topic_id is None or f.topic_id in (row["topic_ids"] or []))
        and (f.since is None or row["published"] >= f.since)
        and (f.until is None or row["published"] < f.until)
    )


TUNINGS = {  # the sizes of the steps: the defaults, and small ones
    "default": {},
    "small": {"_PROBE": 40, "_WALK_MORE": 120, "_MAX_RECHECK": 30, "_MAX_WINDOW": 400},
}


@pytest.mark.parametrize("tuning", list(TUNINGS))
def test_searches_give_exactly_the_newest_matches(
    archive, tuning: str, monkeypatch: pytest.MonkeyPatch
) -> None:  # noqa: ANN001
    url, by_id, filters = archive
    for name, value in TUNINGS[tuning].items():
        monkeypatch.setattr(storage.search_newest, name, value)
    checked = 0
    for q, predicate in QUERIES.items():
        for fname, f in filters.items():
            expected = sorted(
                (a for a, row in by_id.items() if predicate(*tokens(row)) and passes(row, f)),
                reverse=True,
            )
            with session_scope(url) as s:
                ranked = [
                    h.article.id
                    for offset in range(0, RANKED_MATCHES, 100)
                    for h in search_articles(
                        session=s, text=text_query(q), filters=f, limit=100, offset=offset
                    )
                ]
                newest = newest_first(s, q, f, page=70)
            assert sorted(ranked, reverse=True) == expected[:RANKED_MATCHES], (q, fname)
            assert newest == expected, (q, fname)
            checked += bool(expected)
    assert checked > len(QUERIES) * len(filters) * 3 // 4, "most searches have matches"
