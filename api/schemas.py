"""Request bodies: unknown fields and wrong types are refused (422, naming the field)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FeedIn(Body):
    url: str = Field(min_length=1, max_length=2048)
    title: str | None = Field(default=None, max_length=1024)
    interval_override: int | None = Field(default=None, ge=60, le=30 * 86400)


class FeedPatch(Body):
    title: str | None = Field(default=None, max_length=1024)
    interval_override: int | None = Field(default=None, ge=60, le=30 * 86400)
    disabled: bool | None = None


class TopicIn(Body):
    name: str = Field(min_length=1, max_length=200)
    query: str = Field(min_length=1, max_length=10_000)
    private: bool = True


class TopicPatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    query: str | None = Field(default=None, min_length=1, max_length=10_000)
    private: bool | None = None


class TopicTest(Body):
    query: str = Field(min_length=1, max_length=10_000)
    limit: int = Field(default=200, ge=1, le=1000, description="How many recent stories to try.")


class SubscriptionIn(Body):
    topic_id: int = Field(ge=1, le=2**31 - 1)
    channel: Literal["webhook", "email", "apprise"]
    target: str = Field(min_length=1, max_length=4096)
    secret: str | None = Field(
        default=None, max_length=128, description="Webhook signing secret (whsec_…); write-only."
    )
    digest_seconds: int | None = Field(default=None, ge=60, le=30 * 86400)


class SubscriptionPatch(Body):
    target: str | None = Field(default=None, min_length=1, max_length=4096)
    secret: str | None = Field(default=None, max_length=128)
    digest_seconds: int | None = Field(default=None, ge=60, le=30 * 86400)
    disabled: bool | None = None


class UserIn(Body):
    name: str = Field(min_length=1, max_length=128)
    admin: bool = False
