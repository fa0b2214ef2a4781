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
