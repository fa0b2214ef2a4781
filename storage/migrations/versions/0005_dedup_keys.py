"""a leaner dedup index: primary key (key, article_id), no surrogate id, WITHOUT ROWID on SQLite

Revision ID: 0005
Revises: 0003

The index is looked up by `key` for every processed article and grows by one row per key, so its
shape decides the per-article cost at a million articles. Before: a heap with a surrogate id and
two secondary indexes, (key, created_at) and (article_id). After: the primary key (key,
article_id) is the lookup index (on SQLite the table itself is that B-tree: WITHOUT ROWID), plus
(article_id) for deletes cascading from articles and (created_at) so that pruning the window
reads only the old rows instead of the whole table. Existing rows are carried over.
"""

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None

_COLUMNS = "key, article_id, created_at, kind"


def _create(name: str, *, lean: bool) -> None:
    columns = [
        sa.Column("key", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column(
            "article_id",
            sa.BigInteger(),
            sa.ForeignKey("article.id", ondelete="CASCADE"),
            nullable=False,
            autoincrement=False,
        ),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.Integer(), nullable=False),
    ]
    if lean:
        op.create_table(
            name, *columns, sa.PrimaryKeyConstraint("key", "article_id"), sqlite_with_rowid=False
        )
        return
    op.create_table(
        name,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        *columns,
        sa.PrimaryKeyConstraint("id"),
    )


def _set_aside(name: str) -> None:
    """Rename the current table to `name` (on PostgreSQL its primary key index too, whose name
    the new table's needs)."""
    op.rename_table("dedup_key", name)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER INDEX dedup_key_pkey RENAME TO {name}_pkey")


def upgrade() -> None:
    op.drop_index("ix_dedup_key_key_created", table_name="dedup_key")
    op.drop_index("ix_dedup_key_article_id", table_name="dedup_key")
    _set_aside("dedup_key_old")
    _create("dedup_key", lean=True)
    # One row per (key, article): add_keys never wrote the same key twice for one article, but
    # grouping keeps the copy safe whatever the old table holds.
    op.execute(
        f"INSERT INTO dedup_key ({_COLUMNS}) "
        "SELECT key, article_id, max(created_at), min(kind) FROM dedup_key_old "
        "GROUP BY key, article_id"
    )
    op.drop_table("dedup_key_old")
    op.create_index("ix_dedup_key_article_id", "dedup_key", ["article_id"])
    op.create_index("ix_dedup_key_created_at", "dedup_key", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_dedup_key_created_at", table_name="dedup_key")
    op.drop_index("ix_dedup_key_article_id", table_name="dedup_key")
    _set_aside("dedup_key_new")
    _create("dedup_key", lean=False)
    op.execute(f"INSERT INTO dedup_key ({_COLUMNS}) SELECT {_COLUMNS} FROM dedup_key_new")
    op.drop_table("dedup_key_new")
    op.create_index("ix_dedup_key_article_id", "dedup_key", ["article_id"])
    op.create_index("ix_dedup_key_key_created", "dedup_key", ["key", "created_at"])
