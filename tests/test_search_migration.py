"""Migration 0006 (indexes for walking a filter's newest articles; tsvectors kept in the row on
PostgreSQL) keeps every article, tag and search result, up and down, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, text

from api.query import text_query
from storage import feeds as feed_store
from storage.db import get_engine, session_scope
from storage.migrate import check_migrated
from storage.models import Article, ArticleTopic
from storage.search import Filters, search_articles
from storage.topics import create_topic
from storage.users import create_user
from tests.test_migrations import _migrate

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _fill(url: str) -> Filters:
    with session_scope(url) as s:
        feed = feed_store.add_feed(session=s, url="https://paper.example/feed.xml").id
        owner = create_user(session=s, name="reader").id
        topic = create_topic(session=s, owner_id=owner, name="t", query="harbour").id
    rows = [
        {
            "feed_id": feed,
            "entry_key": f"e{i}",
            "state": "processed",
            "state_changed_at": T0,
            "created_at": T0,
            "attempts": 1,
            "title": f"Harbour story {i}" if i % 4 == 0 else f"Story {i}",
            # long enough for a tsvector of several kilobytes (stored out of line before 0006)
            "text": " ".join(f"w{i * 7 + k}" for k in range(300)) + " harbour crane",
            "language": "en" if i % 2 else "DE",
            "wire_source": "Reuters" if i % 3 == 0 else None,
            "published": T0 + timedelta(minutes=i),
        }
        for i in range(60)
    ]
    with session_scope(url) as s:
        s.execute(insert(Article.__table__), rows)
        ids = list(s.execute(select(Article.id).order_by(Article.id)).scalars())
        s.execute(
            insert(ArticleTopic.__table__),
            [{"article_id": a, "topic_id": topic} for a in ids[::5]],
        )
    return Filters(topic_id=topic)


def _searches(url: str, topic: Filters) -> list[list[int]]:
    filters = [Filters(), Filters(wire="reuters"), Filters(lang="de"), topic]
    with session_scope(url) as s:
        return [
            [
                h.article.id
                for h in search_articles(session=s, text=text_query(q), filters=f, limit=100)
            ]
            for q in ('"harbour crane"', "title:harbour", "w100")
            for f in filters
        ]


def _state(url: str) -> tuple:
    """Everything the migration must keep: articles with their tsvectors, and tags."""
    vector = "search_vector::text" if url.startswith("postgresql") else "''"
    with session_scope(url) as s:
        articles = s.execute(text(f"SELECT id, title, text, {vector} FROM article ORDER BY id"))
        tags = s.execute(text("SELECT article_id, topic_id FROM article_topic ORDER BY 1, 2"))
        return [tuple(r) for r in articles], [tuple(r) for r in tags]


def _layout(url: str) -> tuple[set[str], str | None, int | None]:
    """(index names of article and article_topic, search_vector's storage, the heap's file)."""
    with get_engine(url).connect() as conn:
        if conn.dialect.name != "postgresql":  # (SQLAlchemy does not reflect expression indexes)
            listed = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN "
        else:
            listed = "SELECT indexname FROM pg_indexes WHERE tablename IN "
        names = set(conn.execute(text(listed + "('article', 'article_topic')")).scalars())
        if conn.dialect.name != "postgresql":
            return names, None, None
        storage, heap = conn.execute(
            text(
                "SELECT a.attstorage, c.relfilenode FROM pg_attribute a "
                "JOIN pg_class c ON c.oid = a.attrelid "
                "WHERE c.relname = 'article' AND a.attname = 'search_vector'"
            )
        ).one()
        return names, storage, heap


def test_search_layout_carries_articles_over_both_ways(db_url: str) -> None:
    pg = db_url.startswith("postgresql")
    _migrate(db_url, "0005")
    topic = _fill(db_url)
    before, results = _state(db_url), _searches(db_url, topic)
    assert all(results) and len({len(r) for r in results}) > 1, "searches find various matches"
    names, storage, heap = _layout(db_url)
    assert {"ix_article_feed_id", "ix_article_topic_topic_id"} <= names
    assert "ix_article_feed_newest" not in names

    _migrate(db_url, "head")
    check_migrated(db_url)
    names, new_storage, new_heap = _layout(db_url)
    new = {"ix_article_feed_newest", "ix_article_wire_newest", "ix_article_language_newest"}
    new |= {"ix_article_when"}
    assert new | {"ix_article_topic_newest"} <= names
    assert not {"ix_article_feed_id", "ix_article_topic_topic_id"} & names
    if pg:  # kept in the row, and the existing rows were rewritten so
        assert (storage, new_storage) == ("x", "m")
        assert new_heap != heap
    assert _state(db_url) == before
    assert _searches(db_url, topic) == results

    _migrate(db_url, "0005")
    names, old_storage, _ = _layout(db_url)
    assert {"ix_article_feed_id", "ix_article_topic_topic_id"} <= names
    assert not (new | {"ix_article_topic_newest"}) & names
    assert old_storage == storage
    assert _state(db_url) == before
    assert _searches(db_url, topic) == results
    _migrate(db_url, "head")
    check_migrated(db_url)


def test_lists_of_live_stories_walk_the_first_seen_index_without_statistics(tmp_path) -> None:
    """SQLite without ANALYZE: the newest live stories come from ix_story_first_seen_at, not
    from a sort of every live story (migration 0007)."""
    from sqlalchemy import text

    from storage.db import get_engine
    from storage.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'plan.db'}"
    upgrade(url)
    with get_engine(url).connect() as conn:
        plan = " ".join(
            row[-1]
            for row in conn.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT * FROM story WHERE merged_into_id IS NULL "
                    "ORDER BY first_seen_at DESC, id DESC LIMIT 21"
                )
            )
        )
    assert "ix_story_first_seen_at" in plan and "TEMP B-TREE" not in plan, plan
