"""search reads the newest articles of a filter: (filter, id) indexes; tsvectors kept in the row

Revision ID: 0006
Revises: 0005

Search finds the newest matches by walking articles newest first (checking each row's tsvector)
or through bitmaps of the indexes (storage/search_newest.py). Both get cheaper:

- Each filter has an index ending in `id`, so the articles of one feed, wire agency, language
  or topic can be walked newest first, or taken within a range of ids, without visiting the
  others: (feed_id, id) replaces (feed_id); (lower(wire_source), id) over the articles with a
  wire agency; (lower(language), id); on article_topic (topic_id, article_id) replaces
  (topic_id). And the time the since/until filters compare, indexed, so that a bitmap of
  a week's articles can be ANDed with the GIN index's.
- PostgreSQL: `search_vector` is kept in the row (STORAGE MAIN) instead of out of line in the
  TOAST table, so checking a row against a phrase or a field reads the row's own page, not
  four pages of TOAST and its index. A tsvector of a few kilobytes hardly compresses (pglz
  gives up), and only one too big for the page still goes out of line. Existing rows are moved
  by rewriting the table (CLUSTER on the primary key: the order rows are inserted in anyway),
  which locks it meanwhile: about 5 minutes for a million articles.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_WHEN = "coalesce(published, feed_published, created_at)"  # the since/until filters' time


def _rewrite(storage: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE article ALTER COLUMN search_vector SET STORAGE {storage}")
    op.execute("CLUSTER article USING article_pkey")  # rewrites every row with the new storage
    op.execute("ALTER TABLE article SET WITHOUT CLUSTER")


def upgrade() -> None:
    op.drop_index("ix_article_feed_id", table_name="article")
    op.create_index("ix_article_feed_newest", "article", ["feed_id", "id"])
    op.create_index(
        "ix_article_wire_newest",
        "article",
        [sa.text("lower(wire_source)"), "id"],
        postgresql_where=sa.text("wire_source IS NOT NULL"),
        sqlite_where=sa.text("wire_source IS NOT NULL"),
    )
    op.create_index("ix_article_language_newest", "article", [sa.text("lower(language)"), "id"])
    op.create_index("ix_article_when", "article", [sa.text(_WHEN)])
    op.drop_index("ix_article_topic_topic_id", table_name="article_topic")
    op.create_index("ix_article_topic_newest", "article_topic", ["topic_id", "article_id"])
    _rewrite("MAIN")


def downgrade() -> None:
    _rewrite("EXTENDED")
    op.drop_index("ix_article_topic_newest", table_name="article_topic")
    op.create_index("ix_article_topic_topic_id", "article_topic", ["topic_id"])
    op.drop_index("ix_article_when", table_name="article")
    op.drop_index("ix_article_language_newest", table_name="article")
    op.drop_index("ix_article_wire_newest", table_name="article")
    op.drop_index("ix_article_feed_newest", table_name="article")
    op.create_index("ix_article_feed_id", "article", ["feed_id"])
