"""Reads JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1) into the same values as XML feeds.

feedparser 6.0 has no JSON Feed reader, and the format is a dozen keys, so it is read here by
hand. HTML from the feed (`content_html`) is sanitised with nh3, as for XML feeds;
`content_text` and `summary` are plain text by the specification and are escaped to HTML.
"""

from __future__ import annotations

import codecs
import html
import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from wirewatch.errors import FeedParseError
from worker.feeds.guard import served_as
from worker.feeds.model import ParsedEntry, ParsedFeed
from worker.feeds.values import (
    clean_html,
    entry_key,
    http_url,
    plain_text,
    sane_date,
    text_to_html,
    unique_by_key,
)

_VERSION_PREFIXES = ("https://jsonfeed.org/version/", "http://jsonfeed.org/version/")


def parse_json_feed(
    content: bytes, *, url: str | None, mime: str, charset: str | None, now: datetime
) -> ParsedFeed:
    """The JSON Feed in `content`; FeedParseError when it is invalid JSON or not a JSON Feed."""
    document = _load(content, charset=charset)
    version = document.get("version") if isinstance(document, dict) else None
    if not isinstance(version, str) or not version.startswith(_VERSION_PREFIXES):
        raise FeedParseError(
            f"not a feed: a JSON document{served_as(mime)} without a jsonfeed.org `version`"
        )
    items = document.get("items")
    if not isinstance(items, list):
        raise FeedParseError("invalid JSON feed: `items` is missing or not a list")
    major, _, minor = version.rsplit("/", 1)[1].partition(".")
    home = http_url(_string(document.get("home_page_url")), base=url)
    feed_author = _author(document)
    entries = []
    for item in items:
        if isinstance(item, dict):
            entry = _entry(item, base=url, now=now, feed_author=feed_author)
            if entry:
                entries.append(entry)
    return ParsedFeed(
        format=f"json{major}{minor or '0'}"[:16],
        title=plain_text(_string(document.get("title")), content_type="text/plain"),
        site_url=home,
        hub_url=_hub(document.get("hubs"), base=url),
        ttl=None,
        entries=unique_by_key(entries),
        bozo_reason=None,
    )


def _load(content: bytes, *, charset: str | None) -> object:
    try:
        try:
            return json.loads(content)  # sniffs UTF-8/16/32 and a UTF-8 BOM
        except UnicodeDecodeError:
            return json.loads(content.decode(_codec(charset), "replace"))
    except RecursionError:
        raise FeedParseError("invalid JSON feed: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, or an integer beyond Python's digit limit
        raise FeedParseError(f"invalid JSON feed: {exc}") from None


def _codec(charset: str | None) -> str:
    try:
        return codecs.lookup(charset).name if charset else "utf-8"
    except LookupError:
        return "utf-8"


def _entry(
    item: dict, *, base: str | None, now: datetime, feed_author: str | None
) -> ParsedEntry | None:
    link = http_url(_string(item.get("url")), base=base) or http_url(
        _string(item.get("external_url")), base=base
    )
    title = plain_text(_string(item.get("title")), content_type="text/plain")
    content_html = _string(item.get("content_html"))
    if content_html and "<" not in content_html and "&lt;" in content_html:
        content_html = html.unescape(content_html)  # escaped twice by the generator
    content = clean_html(content_html, base=link or base)
    content = content or text_to_html(_string(item.get("content_text")))
    summary = text_to_html(_string(item.get("summary")))
    raw_id = item.get("id")
    guid = str(raw_id) if isinstance(raw_id, str | int) and not isinstance(raw_id, bool) else None
    if not (guid and guid.strip()) and not (link or title or content or summary):
        return None
    published = _date(item.get("date_published"), now=now)
    updated = _date(item.get("date_modified"), now=now)
    return ParsedEntry(
        key=entry_key(guid=guid, url=link, title=title, content=content or summary),
        url=link,
        title=title,
        summary=summary,
        content=content,
        author=_author(item) or feed_author,
        published=published or updated,
        updated=updated,
    )


def _author(obj: dict) -> str | None:
    """JSON Feed 1.1 `authors` (a list), else 1.0 `author` (one object): the names, joined."""
    people = obj.get("authors")
    if not isinstance(people, list):
        people = [obj.get("author")]
    names = [p.get("name") for p in people if isinstance(p, dict)]
    text = ", ".join(n.strip() for n in names if isinstance(n, str) and n.strip())
    return plain_text(text, content_type="text/plain")


def _date(value: object, *, now: datetime) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    try:
        parsed = datetime.fromisoformat(value)  # RFC 3339, as the specification requires
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)  # some feeds use RFC 822 dates anyway
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return sane_date(parsed, now=now)


def _hub(hubs: object, *, base: str | None) -> str | None:
    if not isinstance(hubs, list):
        return None
    candidates = [h for h in hubs if isinstance(h, dict)]
    candidates.sort(key=lambda h: str(h.get("type", "")).lower() != "websub")
    for hub in candidates:
        found = http_url(_string(hub.get("url")), base=base)
        if found:
            return found
    return None


def _string(value: object) -> str | None:
    return value if isinstance(value, str) else None
