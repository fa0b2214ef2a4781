"""parse_feed: feed bytes in, a ParsedFeed of plain values out, or a FeedParseError saying why."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from worker.feeds.guard import sniff
from worker.feeds.jsonfeed import parse_json_feed
from worker.feeds.model import ParsedFeed
from worker.feeds.values import http_url
from worker.feeds.xmlfeed import parse_xml_feed

_TOKEN = re.compile(r"[A-Za-z0-9._:+-]{1,64}")  # a charset name; anything else is ignored


def parse_feed(
    content: bytes,
    *,
    url: str,
    content_type: str | None = None,
    charset: str | None = None,
    now: datetime | None = None,
) -> ParsedFeed:
    """Parse an RSS, Atom or JSON Feed document fetched from `url`.

    `content_type` is the response's media type (parameters allowed; a `charset` parameter counts
    unless `charset` is given). Relative links resolve against `url`. Dates later than `now`
    (default: the current time) plus one day, or before 1990, are dropped. Raises FeedParseError
    (wirewatch.errors) with a reason a person can act on; never any other exception.
    """
    mime, charset = _media_type(content_type, charset)
    base = http_url(url, base=None)
    now = now or datetime.now(UTC)
    if sniff(content, mime=mime) == "json":
        return parse_json_feed(content, url=base, mime=mime, charset=charset, now=now)
    return parse_xml_feed(content, url=base, mime=mime, charset=charset, now=now)


def _media_type(content_type: str | None, charset: str | None) -> tuple[str, str | None]:
    """('application/rss+xml', 'utf-8') from 'application/rss+xml; charset="UTF-8"'."""
    mime, *params = (content_type or "").split(";")
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and not charset:
            charset = value.strip().strip("\"'") or None
    charset = charset.strip() if charset else None
    return mime.strip().lower(), charset if charset and _TOKEN.fullmatch(charset) else None
