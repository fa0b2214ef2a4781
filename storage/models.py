"""The tables. Every unit of work has a state column; uniqueness is enforced by the database."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

# 64-bit ids on PostgreSQL; SQLite's INTEGER PRIMARY KEY is already 64-bit (and must be spelled so).
BIGINT_ID = BigInteger().with_variant(Integer(), "sqlite")
# A list of ids: integer[] on PostgreSQL, JSON text on SQLite (None stays NULL on both).
ID_LIST = ARRAY(Integer()).with_variant(JSON(none_as_null=True), "sqlite")


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
    # WebSub push: None (not subscribed) | subscribing | active | failed
    websub_state: str | None = Field(default=None, max_length=16)
    websub_secret: str | None = Field(default=None, max_length=128)
    websub_lease_until: datetime | None = Field(default=None, sa_column=_ts())
    websub_error: str | None = Field(default=None, sa_column=Column(Text))
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
        # search walks the newest articles of a filter (migration 0006)
        Index("ix_article_feed_newest", "feed_id", "id"),
        Index(
            "ix_article_wire_newest",
            func.lower(sql_text("wire_source")),
            "id",
            postgresql_where=sql_text("wire_source IS NOT NULL"),
            sqlite_where=sql_text("wire_source IS NOT NULL"),
        ),
        Index("ix_article_language_newest", func.lower(sql_text("language")), "id"),
        Index(
            "ix_article_when",
            func.coalesce(
                sql_text("published"), sql_text("feed_published"), sql_text("created_at")
            ),
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BIGINT_ID, primary_key=True))
    feed_id: int = Field(foreign_key="feed.id", ondelete="CASCADE")
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

    # Which story it belongs to, and the exact-layer hash of its normalised text
    story_id: int | None = Field(default=None, foreign_key="story.id", index=True)
    content_hash: str | None = Field(default=None, max_length=64, index=True)

    # The topics it matched, ascending (None: none), as article_topic lists them: written with
    # the cleaned article, so that PostgreSQL search finds a topic's matches of a query in one
    # GIN index of words and topics (migration 0008). SQLite search reads article_topic. A
    # deleted topic's id stays here (its tags go): searches name live topics, and PostgreSQL
    # never gives the id to another.
    topic_ids: list[int] | None = Field(default=None, sa_column=Column(ID_LIST))


# --- stories -----------------------------------------------------------------------------------


class Story(SQLModel, table=True):
    """One news item and every copy of it: the original and its republications across sites.

    A story absorbed by a merge keeps its row with `merged_into_id` set, so links to it resolve.
    """

    __table_args__ = (
        # merged stories only: lists of live stories walk ix_story_first_seen_at (migration 0007)
        Index(
            "ix_story_merged_into_id",
            "merged_into_id",
            postgresql_where=sql_text("merged_into_id IS NOT NULL"),
            sqlite_where=sql_text("merged_into_id IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str | None = Field(default=None, sa_column=Column(Text))
    representative_article_id: int | None = Field(default=None, index=True)
    first_article_id: int | None = None
    origin_feed_id: int | None = Field(default=None, index=True)
    wire_source: str | None = Field(default=None, max_length=64, index=True)
    first_seen_at: datetime = Field(
        default_factory=utcnow, sa_column=_ts(index=True, nullable=False)
    )
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(index=True, nullable=False))
    member_count: int = 1
    merged_into_id: int | None = None


class KeyKind(enum.IntEnum):
    band = 0  # an LSH band of the MinHash: a candidate, verified before joining
    content = 1  # hash of the normalised text: an exact copy
    url = 2  # hash of the canonical URL: the same page
    title = 3  # normalised title: candidate for texts too short to compare by body


class DedupKey(SQLModel, table=True):
    """The shared LSH index: one row per key of each processed article, looked up by `key`.

    The primary key (key, article_id) is the lookup index itself (no surrogate id; on SQLite the
    table is that B-tree, WITHOUT ROWID); `article_id` serves deletes cascading from articles,
    `created_at` the pruning of keys older than the window. See migration 0005.
    """

    __tablename__ = "dedup_key"
    __table_args__ = (
        Index("ix_dedup_key_article_id", "article_id"),
        Index("ix_dedup_key_created_at", "created_at"),
        {"sqlite_with_rowid": False},
    )

    key: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    article_id: int = Field(
        sa_column=Column(
            BigInteger,
            ForeignKey("article.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        )
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    kind: int = Field(default=KeyKind.band.value)


# --- hosts (politeness shared by every worker) -------------------------------------------------


class Host(SQLModel, table=True):
    """Per-host politeness: a host that asked us to wait (Retry-After) is left alone."""

    name: str = Field(primary_key=True, max_length=255)
    blocked_until: datetime | None = Field(default=None, sa_column=_ts())
    crawl_delay: float | None = None
    last_request_at: datetime | None = Field(default=None, sa_column=_ts())
    robots_txt: str | None = Field(default=None, sa_column=Column(Text))
    robots_fetched_at: datetime | None = Field(default=None, sa_column=_ts())


# --- users and keys ----------------------------------------------------------------------------


class User(SQLModel, table=True):
    """Someone who owns topics and subscriptions; admins also manage feeds and users."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=128, sa_column_kwargs={"unique": True})
    is_admin: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class ApiKey(SQLModel, table=True):
    """An API key, stored hashed (sha256); `prefix` finds the row, the hash proves the key."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    prefix: str = Field(max_length=16, index=True)
    key_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    last_used_at: datetime | None = Field(default=None, sa_column=_ts())
    revoked: bool = False


# --- topics, subscriptions and the outbox ------------------------------------------------------


class Topic(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_topic_owner_name"),)

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=200)
    query: str = Field(sa_column=Column(Text, nullable=False))
    private: bool = True
    feed_token: str = Field(max_length=64, description="Secret in the topic's Atom feed URL.")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class ArticleTopic(SQLModel, table=True):
    """A processed article matched a topic."""

    __tablename__ = "article_topic"
    __table_args__ = (Index("ix_article_topic_newest", "topic_id", "article_id"),)

    article_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("article.id", ondelete="CASCADE"), primary_key=True)
    )
    topic_id: int = Field(foreign_key="topic.id", primary_key=True, ondelete="CASCADE")


class StoryTopic(SQLModel, table=True):
    """A story carries the union of its members' topics, with when each was first matched."""

    __tablename__ = "story_topic"

    story_id: int = Field(foreign_key="story.id", primary_key=True, ondelete="CASCADE")
    topic_id: int = Field(foreign_key="topic.id", primary_key=True, index=True, ondelete="CASCADE")
    first_matched_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    article_id: int | None = Field(default=None, sa_column=Column(BigInteger))


class Subscription(SQLModel, table=True):
    """Who gets alerts for a topic, how (channel, target) and when (immediate or digest)."""

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    topic_id: int = Field(foreign_key="topic.id", index=True, ondelete="CASCADE")
    channel: str = Field(max_length=16)  # webhook | email | apprise
    target: str = Field(sa_column=Column(Text, nullable=False))
    secret: str | None = Field(default=None, max_length=128)  # webhooks: whsec_…
    digest_seconds: int | None = Field(default=None, description="None: immediate.")
    last_digest_at: datetime | None = Field(default=None, sa_column=_ts())
    disabled: bool = False
    disabled_reason: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class DeliveryState(enum.StrEnum):
    """pending → sending → sent | pending (retry) | dead; digest rows wait in `pending`."""

    pending = "pending"
    sending = "sending"
    sent = "sent"
    dead = "dead"


class Delivery(SQLModel, table=True):
    """The outbox: one row per (subscription, story), so an alert exists once whatever the
    number of copies, workers or retries."""

    __table_args__ = (
        UniqueConstraint("subscription_id", "story_id", name="uq_delivery_subscription_story"),
        Index("ix_delivery_state_next", "state", "next_attempt_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BIGINT_ID, primary_key=True))
    subscription_id: int = Field(foreign_key="subscription.id", index=True, ondelete="CASCADE")
    story_id: int = Field(foreign_key="story.id", index=True, ondelete="CASCADE")
    topic_id: int = Field(foreign_key="topic.id", ondelete="CASCADE")
    state: str = Field(default=DeliveryState.pending.value, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    state_changed_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(index=True, nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=_ts())
