"""The demo's alert receivers: webhook endpoints that check each signature and keep what arrived."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

from worker.alerts import verify_webhook


@dataclass(frozen=True)
class Received:
    hook: str  # which endpoint: one per subscription
    message_id: str  # webhook-id: the same on every retry of one alert
    verified: bool
    topic: str
    story_id: int | None
    title: str
    members: int
    wire: str | None


@dataclass
class Inbox:
    """Alerts received per hook; `secrets` maps a hook name to its subscription's secret."""

    secrets: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def accept(self, hook: str, headers: dict[str, str], body: bytes) -> int:
        """Record one POST; the HTTP status to answer (404 for an unknown hook)."""
        secret = self.secrets.get(hook)
        if secret is None:
            return 404
        verified = verify_webhook(secret=secret, headers=headers, body=body)
        try:
            data = json.loads(body)["data"]
            story, topic = data.get("story") or {}, data.get("topic") or {}
        except (ValueError, KeyError, TypeError, AttributeError):
            return 400
        item = Received(
            hook=hook,
            message_id=headers.get("webhook-id", ""),
            verified=bool(verified),
            topic=str(topic.get("name", "")),
            story_id=story.get("id"),
            title=str(story.get("title") or ""),
            members=int(story.get("members") or 1),
            wire=story.get("wire_source"),
        )
        with self._lock:
            self.received.append(item)
        return 204 if verified else 401

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)
