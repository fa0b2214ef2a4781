"""Schema migrations (Alembic) and the start-up check that refuses an un-migrated database."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import OperationalError

from storage.db import get_engine
from wirewatch.errors import ConfigError

MIGRATIONS = Path(__file__).with_name("migrations")


# Search objects made by hand-written migrations (0002, 0008), not by the models: autogenerate and
# the schema check leave them alone.
SEARCH_OBJECTS = {
    "article_fts",
    "search_vector",
    "ix_article_search_vector",
    "ix_article_search_topics",
}


def include_object(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001
    return not (name in SEARCH_OBJECTS or (name or "").startswith("article_fts"))


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database to `revision` (creating the SQLite file if needed)."""
    cfg = alembic_config(database_url)
    with get_engine(database_url).begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def current_revision(database_url: str) -> str | None:
    with get_engine(database_url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def check_migrated(database_url: str) -> None:
    """Raise ConfigError, naming the command that fixes it, unless the schema is at head."""
    try:
        current = current_revision(database_url)
    except OperationalError as exc:
        raise ConfigError(f"cannot open the database {_safe(database_url)}: {exc.orig}") from None
    head = head_revision()
    if current != head:
        state = "is not initialised" if current is None else f"is at revision {current}"
        raise ConfigError(
            f"the database {_safe(database_url)} {state}, the code needs {head}; "
            "run `wirewatch db upgrade` first"
        )


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
    return url
