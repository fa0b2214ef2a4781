"""Processed articles written straight to the table, for search tests over thousands of rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

T0 = datetime(2026, 11, 1, tzinfo=UTC)  # article i is published i minutes after this


def processed_row(i: int, *, title: str, text: str, language: str, **more: object) -> dict:
    """The `article` row of processed article number `i` (`more`: feed_id, wire_source, …)."""
    return {
        "entry_key": f"e{i}",
        "url": f"https://paper.example/{i}",
        "state": "processed",
        "state_changed_at": T0,
        "created_at": T0,
        "attempts": 1,
        "title": title,
        "text": text,
        "language": language,
        "published": T0 + timedelta(minutes=i),
        **more,
    }
