"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import storage.models  # noqa: F401
from storage.db import get_engine
from storage.migrate import check_migrated, include_object


def test_models_and_migrations_agree(db_url: str) -> None:
    check_migrated(db_url)
    with get_engine(db_url).connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": True}
        )
        assert compare_metadata(ctx, SQLModel.metadata) == []


def _migrate(url: str, revision: str) -> None:
    from alembic import command

    from storage.migrate import alembic_config

    cfg = alembic_config(url)
    with get_engine(url).begin() as connection:
        cfg.attributes["connection"] = connection
        if revision == "head":
            command.upgrade(cfg, revision)
        else:
            command.downgrade(cfg, revision)


def test_the_lean_dedup_index_carries_existing_keys_over(db_url: str) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import insert, text

    from storage.db import session_scope
    from storage.models import Article, Feed

    when = datetime(2026, 11, 1, tzinfo=UTC)
    _migrate(db_url, "0003")  # the index with a surrogate id
    with session_scope(db_url) as s:
        feed = Feed(url="https://paper.example/feed.xml")
        s.add(feed)
        s.flush()
        # (a Core insert of the columns revision 0003 has: the model's are those of the head)
        article_id = s.execute(
            insert(Article.__table__).values(feed_id=feed.id, entry_key="e1", state="processed",
                                             state_changed_at=when, created_at=when, attempts=0)
            .returning(Article.__table__.c.id)
        ).scalar_one()  # fmt: skip
        for kind, key in ((1, 11), (3, 12), (3, 2**62)):
            s.execute(
                text("INSERT INTO dedup_key (key, kind, article_id, created_at) "
                     "VALUES (:k, :kind, :a, :t)"),
                {"k": key, "kind": kind, "a": article_id, "t": when},
            )  # fmt: skip
    _migrate(db_url, "head")
    query = text("SELECT key, kind, article_id FROM dedup_key ORDER BY key")
    expected = [(11, 1, article_id), (12, 3, article_id), (2**62, 3, article_id)]
    with session_scope(db_url) as s:
        assert [tuple(r) for r in s.execute(query)] == expected
    _migrate(db_url, "0003")
    with session_scope(db_url) as s:
        assert [tuple(r) for r in s.execute(query)] == expected
    _migrate(db_url, "head")
    check_migrated(db_url)
