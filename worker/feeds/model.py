"""The plain values the feed parsing stage returns: one ParsedFeed holding ParsedEntry items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ParsedEntry:
    """One entry of a feed, reduced to what the pipeline stores."""

    key: str  # identity within the feed (see values.entry_key); at most 512 characters
    url: str | None  # absolute http(s) link of the entry
    title: str | None  # plain text, entities decoded, whitespace collapsed
    summary: str | None  # the feed's summary as HTML (only when the feed gave one)
    content: str | None  # the feed's longest content block as HTML
    author: str | None
    published: datetime | None  # aware UTC; the published date, else the updated one
    updated: datetime | None  # aware UTC


@dataclass(frozen=True)
class ParsedFeed:
    """A whole feed document; `entries` keep document order and have unique keys."""

    format: str  # feedparser's version ("rss20", "atom10", "rss091n", …) or "json10"/"json11"
    title: str | None
    site_url: str | None
    hub_url: str | None  # WebSub hub, from <link rel="hub"> or JSON Feed `hubs`
    ttl: int | None  # RSS <ttl>, minutes
    entries: list[ParsedEntry]
    bozo_reason: str | None  # a non-fatal complaint about the document, readable, or None
