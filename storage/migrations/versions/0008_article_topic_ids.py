"""article.topic_ids: an article's topics on its row, indexed with its words on PostgreSQL

Revision ID: 0008
Revises: 0007

Search with a topic filter and a word rare or absent among the topic's articles had to intersect
two big sets, the topic's tags (article_topic) and the word's matches (the GIN index), one probe
of article_topic per match: 250-300 ms at 1M articles. The topic ids are now on the article row
too (`topic_ids`, ascending, NULL for none: written by the pipeline's one UPDATE of the article),
and on PostgreSQL the GIN index of search_vector becomes a GIN index of (search_vector,
topic_ids): one index scan takes both conditions and steps through the word's and the topic's
lists together. (At 1M articles, 0.1-4 ms where a BitmapAnd of two GIN indexes, one per column,
took 24-34 ms; and with one index for both, the planner cannot leave the topic out of the scan.)
On SQLite the column is JSON text, not indexed: SQLite search keeps reading article_topic.

Cost on a big table (PostgreSQL): the back-fill writes a new version of the row of every article
having a topic (the old versions are left to autovacuum). Its search_vector is copied, not
recomputed (PostgreSQL recomputes a generated column only when a column it reads is updated),
but every index takes the new version: the GIN index above all (hundreds of words a row), so it
is dropped first and built again after. The table is locked meanwhile. Measured with
bench/api.py's archives (38% of the articles have a topic) on 2 cores with a load average of
2-2.5: 100k articles, 4 s of back-fill and 15 s of index build; 1M articles, 30 s and 165 s
(105 s on an idle machine, whether maintenance_work_mem is 64 MB or 256 MB). With the GIN index
in place, the back-fill alone took 21 s at 100k. SQLite: 0.4 s at 100k.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_SEARCH = "ix_article_search_vector"  # migration 0002: GIN (search_vector)
_SEARCH_TOPICS = "ix_article_search_topics"  # GIN (search_vector, topic_ids)


def _postgres_upgrade() -> None:
    op.execute(f"DROP INDEX {_SEARCH}")
    op.add_column("article", sa.Column("topic_ids", postgresql.ARRAY(sa.Integer())))
    op.execute(
        "UPDATE article SET topic_ids = tags.ids FROM (SELECT article_id, "
        "array_agg(topic_id ORDER BY topic_id) AS ids FROM article_topic GROUP BY article_id) "
        "AS tags WHERE article.id = tags.article_id"
    )
    op.execute(f"CREATE INDEX {_SEARCH_TOPICS} ON article USING gin (search_vector, topic_ids)")


def _sqlite_upgrade() -> None:
    op.add_column("article", sa.Column("topic_ids", sa.JSON()))
    op.execute(
        "UPDATE article SET topic_ids = (SELECT json_group_array(topic_id) FROM (SELECT topic_id "
        "FROM article_topic WHERE article_id = article.id ORDER BY topic_id)) "
        "WHERE id IN (SELECT article_id FROM article_topic)"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgres_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX {_SEARCH_TOPICS}")
        op.drop_column("article", "topic_ids")
        op.execute(f"CREATE INDEX {_SEARCH} ON article USING gin (search_vector)")
    else:  # (not batch mode: rebuilding the table would drop the full-text triggers)
        op.execute("ALTER TABLE article DROP COLUMN topic_ids")
