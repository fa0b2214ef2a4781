"""The tables. Every unit of work has a state column; uniqueness is enforced by the database."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

# 64-bit ids on PostgreSQL; SQLite's INTEGER PRIMARY KEY is already 64-bit (and must be spelled so).
BIGINT_ID = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC in and out, on PostgreSQL (timestamptz) and SQLite (naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # noqa: ANN001, ANN201
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):  # noqa: ANN001, ANN201
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ts(*, index: bool = False, nullable: bool = True) -> Column:
    return Column(UTCDateTime(), index=index, nullable=nullable)


class ArticleState(enum.StrEnum):
    """pending → processed | failed; `fetching` marks a claimed article."""

    pending = "pending"
    fetching = "fetching"
    processed = "processed"
    failed = "failed"


# --- feeds -------------------------------------------------------------------------------------


class FeedBase(SQLModel):
    url: str = Field(max_length=2048)
    title: str | None = Field(default=None, max_length=1024)
    interval_override: int | None = Field(
        default=None, description="Fixed polling interval in seconds for this feed."
    )


class Feed(FeedBase, table=True):
    __table_args__ = (UniqueConstraint("url", name="uq_feed_url"),)

    id: int | None = Field(default=None, primary_key=True)
    site_url: str | None = Field(default=None, max_length=2048)
    hub_url: str | None = Field(default=None, max_length=2048)
    format: str | None = Field(default=None, max_length=32)
    etag: str | None = Field(default=None, max_length=1024)
    last_modified: str | None = Field(default=None, max_length=128)
    ttl_minutes: int | None = None
    poll_interval: int | None = Field(default=None, description="Current interval, seconds.")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    last_polled_at: datetime | None = Field(default=None, sa_column=_ts())
    last_success_at: datetime | None = Field(default=None, sa_column=_ts())
    next_poll_at: datetime = Field(
        default_factory=utcnow, sa_column=_ts(index=True, nullable=False)
    )
    error_count: int = 0
    first_error_at: datetime | None = Field(default=None, sa_column=_ts())
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    disabled: bool = False
    disabled_reason: str | None = Field(default=None, sa_column=Column(Text))


class FeedCreate(FeedBase):
    pass


class FeedPublic(FeedBase):
    id: int
    site_url: str | None
    entries: int = 0
    last_polled_at: datetime | None
    next_poll_at: datetime | None
    poll_interval: int | None
    error_count: int
    last_error: str | None
    disabled: bool


# --- articles ----------------------------------------------------------------------------------


class Article(SQLModel, table=True):
    """One feed entry and, once processed, its cleaned page."""

    __table_args__ = (
        UniqueConstraint("feed_id", "entry_key", name="uq_article_feed_entry"),
        Index("ix_article_state_changed", "state", "state_changed_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BIGINT_ID, primary_key=True))
    feed_id: int = Field(foreign_key="feed.id", index=True, ondelete="CASCADE")
    entry_key: str = Field(max_length=512)
    url: str | None = Field(default=None, max_length=2048)

    # What the feed said
    feed_title: str | None = Field(default=None, sa_column=Column(Text))
    feed_content: str | None = Field(default=None, sa_column=Column(Text))
    feed_author: str | None = Field(default=None, max_length=512)
    feed_published: datetime | None = Field(default=None, sa_column=_ts())

    # Work state
    state: str = Field(default=ArticleState.pending.value, max_length=16)
    state_changed_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    attempts: int = 0
    claim_token: str | None = Field(default=None, max_length=64)
    error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(index=True, nullable=False))

    # What the cleaner made of the page
    title: str | None = Field(default=None, sa_column=Column(Text))
    text: str | None = Field(default=None, sa_column=Column(Text))
    html: str | None = Field(default=None, sa_column=Column(Text))
    authors: str | None = Field(default=None, max_length=1024)
    published: datetime | None = Field(default=None, sa_column=_ts(index=True))
    language: str | None = Field(default=None, max_length=16)
    canonical_url: str | None = Field(default=None, max_length=2048, index=True)
    site_name: str | None = Field(default=None, max_length=512)
    image_url: str | None = Field(default=None, max_length=2048)
    word_count: int | None = None
    extraction_method: str | None = Field(default=None, max_length=32)
    wire_source: str | None = Field(default=None, max_length=64, index=True)
    processed_at: datetime | None = Field(default=None, sa_column=_ts())


# --- hosts (politeness shared by every worker) -------------------------------------------------


class Host(SQLModel, table=True):
    """Per-host politeness: a host that asked us to wait (Retry-After) is left alone."""

    name: str = Field(primary_key=True, max_length=255)
    blocked_until: datetime | None = Field(default=None, sa_column=_ts())
    crawl_delay: float | None = None
    last_request_at: datetime | None = Field(default=None, sa_column=_ts())
    robots_txt: str | None = Field(default=None, sa_column=Column(Text))
    robots_fetched_at: datetime | None = Field(default=None, sa_column=_ts())
