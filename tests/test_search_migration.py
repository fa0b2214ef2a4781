"""Migrations 0006 (indexes for walking a filter's newest articles; tsvectors kept in the row on
PostgreSQL) and 0008 (topic ids on the article row, indexed with its words on PostgreSQL) keep
every article, tag and search result, up and down, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, inspect, select, text

from api.query import text_query
from storage import feeds as feed_store
from storage.db import get_engine, session_scope
from storage.migrate import check_migrated
from storage.models import Article, ArticleTopic
from storage.search import Filters, search_articles
from storage.topics import create_topic
from storage.users import create_user
from tests.support.archive import newest_first
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
    before = _state(db_url)
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
    # (search reads the columns of the head: its results are compared after a down and up again)
    results = _searches(db_url, topic)
    assert all(results) and len({len(r) for r in results}) > 1, "searches find various matches"

    _migrate(db_url, "0005")
    names, old_storage, _ = _layout(db_url)
    assert {"ix_article_feed_id", "ix_article_topic_topic_id"} <= names
    assert not (new | {"ix_article_topic_newest"}) & names
    assert old_storage == storage
    assert _state(db_url) == before
    _migrate(db_url, "head")
    check_migrated(db_url)
    assert _searches(db_url, topic) == results


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


def _topic_searches(url: str, topics: list[Filters]) -> dict[tuple[str, int], list[int]]:
    """Searches with a topic filter, newest first, page by page."""
    found = {}
    with session_scope(url) as s:
        for q in TOPIC_QUERIES:
            for f in topics:
                found[q, f.topic_id] = newest_first(s, q, f, page=7)
    return found


TOPIC_QUERIES = {  # search text: what it matches, on (title words, text words) of _fill's rows
    '"harbour crane"': lambda title, text: "harbour crane" in " ".join(text),
    "title:harbour": lambda title, text: "harbour" in title,
    "w100 OR w200": lambda title, text: bool({"w100", "w200"} & set(text)),
}


def _brute_force(url: str, tagged: dict[int, set[int]]) -> dict[tuple[str, int], list[int]]:
    with session_scope(url) as s:
        rows = s.execute(select(Article.id, Article.title, Article.text)).all()
    return {
        (q, topic): sorted(
            (r.id for r in rows if r.id in ids and match(r.title.lower().split(), r.text.split())),
            reverse=True,
        )
        for q, match in TOPIC_QUERIES.items()
        for topic, ids in tagged.items()
    }


def _search_indexes(url: str) -> set[str]:
    with get_engine(url).connect() as conn:
        if conn.dialect.name != "postgresql":
            return set()
        listed = "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'ix_article_search%'"
        return set(conn.execute(text(listed)).scalars())


def test_topic_ids_are_filled_from_the_tags_and_dropped_again(db_url, monkeypatch) -> None:  # noqa: ANN001
    """0007 -> 0008 -> 0007 -> 0008: each article's topic_ids are its tags (ascending; NULL for
    none), and topic searches find exactly the tagged matches, also through PostgreSQL's bitmaps
    (small probes: the GIN index of words and topics)."""
    import storage.search_newest

    for name, value in {"_PROBE": 4, "_WALK_MORE": 8, "_MAX_RECHECK": 5, "_MAX_WINDOW": 20}.items():
        monkeypatch.setattr(storage.search_newest, name, value)
    pg = db_url.startswith("postgresql")
    _migrate(db_url, "0007")
    first = _fill(db_url).topic_id
    with session_scope(db_url) as s:
        owner = s.execute(text('SELECT id FROM "user"')).scalar_one()
        second = create_topic(session=s, owner_id=owner, name="u", query="crane").id
        ids = list(s.execute(select(Article.id).order_by(Article.id)).scalars())
        s.execute(
            insert(ArticleTopic.__table__),
            [{"article_id": a, "topic_id": second} for a in ids[::3]],
        )
    tagged = {first: set(ids[::5]), second: set(ids[::3])}
    expected = {a: [t for t in sorted(tagged) if a in tagged[t]] or None for a in ids}
    before = _state(db_url)
    assert _search_indexes(db_url) == ({"ix_article_search_vector"} if pg else set())

    for down in (True, False):
        _migrate(db_url, "head")
        check_migrated(db_url)
        with session_scope(db_url) as s:
            stored = dict(s.execute(select(Article.id, Article.topic_ids)).all())
        assert stored == expected
        assert _search_indexes(db_url) == ({"ix_article_search_topics"} if pg else set())
        assert _state(db_url) == before
        found = _topic_searches(db_url, [Filters(topic_id=t) for t in tagged])
        assert found == _brute_force(db_url, tagged) and all(found.values())
        if down:
            _migrate(db_url, "0007")
            with get_engine(db_url).connect() as conn:
                columns = {c["name"] for c in inspect(conn).get_columns("article")}
            assert "topic_ids" not in columns
            assert _search_indexes(db_url) == ({"ix_article_search_vector"} if pg else set())
            assert _state(db_url) == before
