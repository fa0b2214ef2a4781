"""Field cleaners for both readers: plain titles, safe HTML, http(s) links, UTC dates, keys."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin, urlsplit

import courlan
import nh3

MAX_KEY_LENGTH = 512  # the entry_key column is VARCHAR(512)
# Dates outside [EARLIEST_DATE, now + FUTURE_SLACK] are feed bugs (epoch 0, year 2099, …):
# they are dropped (None), not clamped, so that storage falls back to the time it first saw
# the entry instead of trusting an invented date.
EARLIEST_DATE = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)

_TAG = re.compile(r"<[^>]*>")  # titles are short; stripping tags needs no HTML parser
_LINK_ATTRIBUTES = {"href", "src", "cite"}
_HTML_TYPES = {"text/html", "application/xhtml+xml", "html", "xhtml"}


def plain_text(value: str | None, *, content_type: str | None = None) -> str | None:
    """Plain text with tags stripped (for HTML), entities decoded and whitespace collapsed."""
    if not value:
        return None
    if content_type in _HTML_TYPES or (content_type is None and "<" in value):
        value = _TAG.sub(" ", value)
    # Decode once more even for text: double-escaped titles ("AT&amp;amp;T") are common.
    value = " ".join(html.unescape(value).split())
    return value or None


def text_to_html(value: str | None) -> str | None:
    """Plain text made safe to use where HTML is expected."""
    if not value or not value.strip():
        return None
    return html.escape(value.strip(), quote=False)


def clean_html(value: str | None, *, base: str | None) -> str | None:
    """`value` sanitised by nh3 (an allow-list), its links and image sources made absolute."""
    if not value or not value.strip():
        return None
    cleaned = nh3.clean(value, attribute_filter=_absolute_links(base) if base else None)
    return cleaned.strip() or None


def _absolute_links(base: str):  # noqa: ANN202
    def resolve(tag: str, attribute: str, value: str) -> str | None:
        if attribute not in _LINK_ATTRIBUTES:
            return value
        try:
            return urljoin(base, value.strip())
        except ValueError:
            return None

    return resolve


def http_url(value: str | None, *, base: str | None) -> str | None:
    """`value` resolved against `base`, if the result is an absolute http(s) URL with a host."""
    if not value or not isinstance(value, str):
        return None
    value = value.strip()
    try:
        absolute = urljoin(base, value) if base else value
        parts = urlsplit(absolute)
    except ValueError:  # e.g. an invalid IPv6 literal
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return absolute


def sane_date(value: datetime | None, *, now: datetime) -> datetime | None:
    """`value` as aware UTC, or None when missing or implausible (before 1990, > 1 day ahead)."""
    if value is None:
        return None
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if value < EARLIEST_DATE or value > now + FUTURE_SLACK:
        return None
    return value


def canonical_link(url: str) -> str:
    """The link as an identity: host lower-cased, default port and tracking parameters removed."""
    try:
        return courlan.normalize_url(url)
    except Exception:  # courlan rejects some odd URLs; the link as given is still an identity
        return url


def entry_key(
    *,
    guid: str | None,
    url: str | None,
    title: str | None,
    content: str | None,
) -> str:
    """Identity of an entry within its feed: the GUID/id, else the canonical link, else a hash.

    The hash is "sha1:" + hex digest of title and content. A key longer than 512 characters is
    replaced by "sha1:" + the hex digest of that key.
    """
    guid = guid.strip() if guid else ""
    if guid:
        key = guid
    elif url:
        key = canonical_link(url)
    else:
        text = f"{title or ''}\n{content or ''}"
        key = "sha1:" + hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()
    if len(key) > MAX_KEY_LENGTH:
        key = "sha1:" + hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()
    return key


def unique_by_key(entries: list) -> list:
    """Entries with duplicate keys removed, first occurrence kept (some feeds reuse one GUID)."""
    seen: set[str] = set()
    kept = []
    for entry in entries:
        if entry.key not in seen:
            seen.add(entry.key)
            kept.append(entry)
    return kept
