"""full-text search of articles: FTS5 on SQLite, a weighted tsvector with a GIN index on PostgreSQL

Revision ID: 0002
Revises: 0001

Both index the same thing: the title (the cleaned one, else the feed's) and the cleaned text,
case- and accent-insensitively, without stemming (the words of topic queries: "Iran" does not
match "Iranian", "Iran*" does).

SQLite: an external-content FTS5 table `article_fts` (rowid = article.id) kept in step by
triggers; the unicode61 tokenizer folds case and diacritics.
PostgreSQL: a stored generated column `article.search_vector` (title weight A, text weight B)
with a GIN index, over `wirewatch_unaccent()` (an immutable wrapper of the unaccent extension;
an identity function where the extension cannot be created).
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TITLE = "coalesce({p}.title, {p}.feed_title, '')"
_TEXT = "coalesce({p}.text, '')"


def _sqlite_upgrade() -> None:
    op.execute(
        "CREATE VIRTUAL TABLE article_fts USING fts5(title, text, content='article', "
        "content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
    )
    new = f"{_TITLE.format(p='new')}, {_TEXT.format(p='new')}"
    old = f"{_TITLE.format(p='old')}, {_TEXT.format(p='old')}"
    op.execute(
        "CREATE TRIGGER article_fts_insert AFTER INSERT ON article BEGIN "
        f"INSERT INTO article_fts(rowid, title, text) VALUES (new.id, {new}); END"
    )
    op.execute(
        "CREATE TRIGGER article_fts_delete AFTER DELETE ON article BEGIN "
        f"INSERT INTO article_fts(article_fts, rowid, title, text) VALUES ('delete', old.id, {old});"
        " END"
    )
    op.execute(
        "CREATE TRIGGER article_fts_update AFTER UPDATE OF title, feed_title, text ON article BEGIN "
        f"INSERT INTO article_fts(article_fts, rowid, title, text) VALUES ('delete', old.id, {old});"
        f" INSERT INTO article_fts(rowid, title, text) VALUES (new.id, {new}); END"
    )
    op.execute(
        "INSERT INTO article_fts(rowid, title, text) "
        f"SELECT a.id, {_TITLE.format(p='a')}, {_TEXT.format(p='a')} FROM article AS a"
    )


def _postgres_upgrade() -> None:
    bind = op.get_bind()
    savepoint = bind.begin_nested()
    try:
        bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS unaccent"))
        savepoint.commit()
        body = "SELECT public.unaccent('public.unaccent'::regdictionary, $1)"
    except sa.exc.DBAPIError:  # no right to create extensions: search stays accent-sensitive
        savepoint.rollback()
        body = "SELECT $1"
    op.execute(
        "CREATE OR REPLACE FUNCTION wirewatch_unaccent(text) RETURNS text "
        f"LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $func${body}$func$"
    )
    op.execute(
        "ALTER TABLE article ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
        "setweight(to_tsvector('simple'::regconfig, "
        "wirewatch_unaccent(coalesce(title, feed_title, ''))), 'A') || "
        "setweight(to_tsvector('simple'::regconfig, wirewatch_unaccent(coalesce(text, ''))), 'B')"
        ") STORED"
    )
    op.execute("CREATE INDEX ix_article_search_vector ON article USING gin (search_vector)")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgres_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_article_search_vector")
        op.execute("ALTER TABLE article DROP COLUMN IF EXISTS search_vector")
        op.execute("DROP FUNCTION IF EXISTS wirewatch_unaccent(text)")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS article_fts_{name}")
        op.execute("DROP TABLE IF EXISTS article_fts")
