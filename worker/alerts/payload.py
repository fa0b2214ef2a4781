"""The webhook body: a Standard Webhooks JSON event, byte-for-byte the same on every retry."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from worker.alerts.model import Alert

MATCHED = "story.matched"
DIGEST = "story.digest"


def webhook_payload(alert: Alert, *, now: datetime | None = None) -> bytes:
    """Minified UTF-8 JSON `{"type", "timestamp", "data"}` for `alert`.

    `timestamp` is the alert's `created_at` (when the match happened), else `now`, else the
    current time; it is the event's time, not the attempt's (that one is `webhook-timestamp`).
    A single alert sends `data.story`, `data.topic`, `data.article`; a digest (`alert.stories`)
    sends `data.topic` and `data.stories`. Datetimes inside become ISO 8601 UTC strings.
    """
    when = alert.created_at or now or datetime.now(UTC)
    if alert.is_digest:
        event_type = DIGEST
        data: dict[str, Any] = {"topic": alert.topic, "stories": list(alert.stories or [])}
    else:
        event_type = MATCHED
        data = {"story": alert.story, "topic": alert.topic, "article": alert.article}
    event = {"type": event_type, "timestamp": iso_utc(when), "data": data}
    return json.dumps(event, default=_plain, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8"
    )


def iso_utc(value: datetime) -> str:
    """`2024-05-01T12:00:00Z` (microseconds kept when present); naive datetimes are UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable in an alert payload")
