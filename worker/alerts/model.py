"""What one alert message carries: plain values only, the same on every retry of a delivery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Alert:
    """One message to one subscriber.

    `delivery_id` is stable across retries (the Standard Webhooks `webhook-id`, the email
    Message-ID), e.g. "msg_<outbox id>"; it must not contain "." or whitespace.
    `stories` makes the alert a digest of several stories (each a story dict, optionally with
    an "article" dict inside). `created_at` is when the match happened: it is the payload's
    `timestamp`, so that every retry sends the same body; None means "now".
    """

    delivery_id: str
    story: dict
    topic: dict
    article: dict
    stories: list[dict] | None = None
    created_at: datetime | None = None

    @property
    def is_digest(self) -> bool:
        return self.stories is not None
