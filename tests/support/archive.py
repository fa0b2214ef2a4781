"""Processed articles written straight to the table, for search tests over thousands of rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.query import text_query
from storage.search import Filters, search_articles

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


def newest_first(session, q: str, filters: Filters, *, page: int) -> list[int]:  # noqa: ANN001
    """The ids of every match of `q`, newest first, read `page` at a time through the cursor."""
    ids: list[int] = []
    before = None
    while found := search_articles(
        session=session, text=text_query(q), filters=filters, limit=page, before_id=before,
        ranked=False,
    ):  # fmt: skip
        ids += [h.article.id for h in found]
        before = found[-1].article.id
    return ids
