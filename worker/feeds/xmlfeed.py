"""Reads RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 with feedparser, after the guard, from bytes only.

feedparser is handed a file object (never a str or bytes, which it may take for a URL or a file
name to open) plus the feed's URL as Content-Location, so relative links resolve against where
the feed really is. feedparser's own HTML sanitiser and link rewriter are switched off: written
on an SGML parser in Python, they take about 80% of its time on large feeds. HTML in summaries and
content is sanitised with nh3 instead (as for JSON feeds), resolving links against the base
feedparser worked out for each block (xml:base, else the feed URL).
"""

from __future__ import annotations

import codecs
import io
import re
import time
import xml.sax
from datetime import UTC, datetime

import feedparser
from feedparser.encodings import convert_to_utf8

from wirewatch.errors import FeedParseError
from worker.feeds.guard import check_prolog, served_as
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

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_DECLARATION_STARTS = tuple(
    "<?xml".encode(codec) for codec in ("ascii", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)
_EMAIL_THEN_NAME = re.compile(r"^\s*[^\s@()<>]+@[^\s()<>]+\s*\((?P<name>[^()]*)\)\s*$")
_NAME_THEN_EMAIL = re.compile(r"^\s*(?P<name>[^<>@]*?)\s*<[^\s@<>]+@[^\s<>]+>\s*$")


def parse_xml_feed(
    content: bytes, *, url: str | None, mime: str, charset: str | None, now: datetime
) -> ParsedFeed:
    """The feed in `content`; FeedParseError when it is refused, not a feed, or unreadable."""
    content_type = "application/xml" + (f"; charset={charset}" if charset else "")
    headers = {"content-type": content_type}
    if url:
        headers["content-location"] = url
    # Decode exactly as feedparser will, so that the guard scans the very text it would parse.
    encoding_result: dict = {}
    try:
        data = convert_to_utf8(headers, _strip_leading_space(content), encoding_result)
    except ValueError as exc:  # e.g. a NUL inside the declared encoding's name
        raise FeedParseError(f"unreadable feed: unusable character encoding ({exc})") from exc
    prolog = check_prolog(data)
    if prolog.is_html:
        raise FeedParseError(f"not a feed: the document is an HTML page{served_as(mime)}")
    headers["content-type"] = "application/xml; charset=utf-8"
    try:
        result = feedparser.parse(
            io.BytesIO(data), response_headers=headers, sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as exc:  # a bug inside feedparser on hostile input is still "unreadable"
        reason = f"{type(exc).__name__}: {exc}"
        raise FeedParseError(f"unreadable feed: the parser failed ({reason})") from exc

    # Without a declaration of its own the text got one more line; count lines as the feed does.
    shift = 0 if _has_declaration(content) else 1
    complaint = _bozo_reason(result, shift=shift) or _bozo_reason(encoding_result, shift=shift)
    version = result.get("version") or ""
    if not result.entries:
        if not version:
            what = f"<{prolog.root}>" if prolog.root else "no XML element at all"
            raise FeedParseError(
                f"not a feed: no RSS, Atom or RDF root element (found {what})"
                + served_as(mime) + (f"; {complaint}" if complaint else "")
            )
        if result.get("bozo") and not (result.feed.get("title") or result.feed.get("link")):
            raise FeedParseError(f"malformed feed: no entry could be read ({complaint})")
    feed = result.feed
    entries = [e for e in (_entry(raw, base=url, now=now) for raw in result.entries) if e]
    return ParsedFeed(
        format=version or "unknown",
        title=plain_text(feed.get("title"), content_type=_detail_type(feed, "title")),
        site_url=http_url(feed.get("link"), base=url),
        hub_url=_hub(feed, base=url),
        ttl=_ttl(feed.get("ttl")),
        entries=unique_by_key(entries),
        bozo_reason=complaint,
    )


def _entry(raw: dict, *, base: str | None, now: datetime) -> ParsedEntry | None:
    link = http_url(raw.get("link"), base=base)
    title = plain_text(raw.get("title"), content_type=_detail_type(raw, "title"))
    # feedparser copies content into `summary` when there is no summary element.
    summary = _html(dict.get(raw, "summary_detail"), base=base)
    content = _html(_longest(raw.get("content")), base=base)
    guid = raw.get("id") if isinstance(raw.get("id"), str) else None
    if not (guid and guid.strip()) and not (link or title or content or summary):
        return None  # nothing to recognise the entry by, nothing to show
    # dict.get: FeedParserDict.get("updated_parsed") falls back to the published date.
    published = _date(dict.get(raw, "published_parsed"), now=now)
    updated = _date(dict.get(raw, "updated_parsed"), now=now)
    return ParsedEntry(
        key=entry_key(guid=guid, url=link, title=title, content=content or summary),
        url=link,
        title=title,
        summary=summary,
        content=content,
        author=_author(raw),
        published=published or updated,
        updated=updated,
    )


def _longest(blocks: list | None) -> dict | None:
    return max(blocks or (), key=lambda block: len(block.get("value") or ""), default=None)


def _html(detail: dict | None, *, base: str | None) -> str | None:
    """A text construct as safe HTML: sanitised if it is HTML, escaped if it is text."""
    if not detail:
        return None
    value = detail.get("value")
    if detail.get("type") in _HTML_TYPES:
        return clean_html(value, base=detail.get("base") or base)
    return text_to_html(value)


def _author(raw: dict) -> str | None:
    """The author's name: from "email (Name)" or "Name <email>" as RSS writes it, else as given."""
    author = raw.get("author")
    if not isinstance(author, str):
        return None
    match = _EMAIL_THEN_NAME.match(author) or _NAME_THEN_EMAIL.match(author)
    if match:  # feedparser's own split cuts addresses with long top-level domains
        return plain_text(match.group("name"), content_type="text/plain") or author.strip()
    return plain_text(author, content_type="text/plain")


def _detail_type(raw: dict, field: str) -> str:
    return (raw.get(f"{field}_detail") or {}).get("type") or "text/plain"


def _date(parsed: time.struct_time | None, *, now: datetime) -> datetime | None:
    if not parsed:
        return None
    try:
        value = datetime(*parsed[:6], tzinfo=UTC)  # feedparser's *_parsed are UTC already
    except (TypeError, ValueError, OverflowError):
        return None
    return sane_date(value, now=now)


def _hub(feed: dict, *, base: str | None) -> str | None:
    for link in feed.get("links") or ():
        if (link.get("rel") or "").lower() == "hub":
            hub = http_url(link.get("href"), base=base)
            if hub:
                return hub
    return None


def _ttl(value: object) -> int | None:
    try:
        minutes = int(str(value).strip())
    except ValueError:
        return None
    return minutes if minutes > 0 else None


def _bozo_reason(result: dict, *, shift: int) -> str | None:
    exc = result.get("bozo_exception")
    if not result.get("bozo") or exc is None:
        return None
    if isinstance(exc, xml.sax.SAXParseException):
        line, column = exc.getLineNumber() - shift, exc.getColumnNumber()
        return f"XML error at line {max(line, 1)}, column {column}: {exc.getMessage()}"
    return str(exc) or type(exc).__name__


def _has_declaration(content: bytes) -> bool:
    for bom in (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF8, codecs.BOM_UTF16_LE,
                codecs.BOM_UTF16_BE):
        if content.startswith(bom):
            content = content[len(bom):]
            break
    return content.lstrip(b" \t\r\n").startswith(_DECLARATION_STARTS)


def _strip_leading_space(content: bytes) -> bytes:
    """Blank lines before `<?xml` (a common CMS bug) hide the declared encoding and make expat
    give up on the whole feed; drop them (only in ASCII-compatible text, BOM or not)."""
    body = content[3:] if content.startswith(codecs.BOM_UTF8) else content
    if body[:1] in (b" ", b"\t", b"\r", b"\n"):
        stripped = body.lstrip(b" \t\r\n")
        if stripped.startswith(b"<?xml"):
            return content[: len(content) - len(body)] + stripped
    return content
