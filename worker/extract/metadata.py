"""Page metadata: title, authors, aware publish time, language, canonical URL, site, image."""

from __future__ import annotations

import html as htmllib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from urllib.parse import urljoin, urlsplit

import nh3
from courlan import normalize_url
from htmldate import find_date
from lxml.etree import XPath, _Element
from trafilatura.metadata import (
    examine_meta,
    extract_meta_json,
    extract_sitename,
    extract_title,
)
from trafilatura.settings import Document

_DATE_XPATHS = (
    '//meta[@property="article:published_time" or @name="article:published_time"'
    ' or @property="og:published_time" or @itemprop="datePublished"'
    ' or @name="pubdate" or @name="publishdate" or @name="publish-date" or @name="parsely-pub-date"'
    ' or @name="dc.date.issued" or @name="DC.date.issued" or @name="date" or @name="sailthru.date"]'
    "/@content",
    '//*[@itemprop="datePublished"]/@datetime',
    "//time[@pubdate]/@datetime",
)
_LANG = re.compile(r"^([a-zA-Z]{2})(?:[-_][a-zA-Z0-9]+)*$")
_TAG = re.compile(r"<[^>]*>")


@dataclass
class PageMeta:
    """Metadata read from the raw page tree before extraction changes it."""

    canonical: str | None = None
    published: datetime | None = None
    language: str | None = None
    title: str | None = None
    authors: list[str] = field(default_factory=list)


@cache
def _compiled(xpath: str) -> XPath:
    return XPath(xpath)


def _first(tree: _Element, xpath: str) -> str | None:
    for value in _compiled(xpath)(tree):
        value = str(value).strip()
        if value:
            return value
    return None


def parse_datetime(value: str | None) -> datetime | None:
    """An aware datetime from an ISO-8601-ish string; naive times are taken as UTC."""
    if not value:
        return None
    value = value.strip().replace(" ", "T", 1)
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    value = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", value)  # +0100 -> +01:00
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _json_ld(tree: _Element) -> list[dict]:
    items: list[dict] = []

    def walk(obj: object) -> None:
        if isinstance(obj, dict):
            items.append(obj)
            for value in obj.values():
                if isinstance(value, dict | list):
                    walk(value)
        elif isinstance(obj, list):
            for value in obj:
                walk(value)

    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            walk(json.loads(script.text or "", strict=False))
        except (ValueError, RecursionError):
            continue
    return items


def _date_candidates(tree: _Element) -> Iterator[str | None]:
    """Publication times the page declares, best first; each source is read only when needed."""
    for xpath in _DATE_XPATHS:
        yield _first(tree, xpath)
    for item in _json_ld(tree):
        if item.get("datePublished"):
            yield str(item.get("datePublished"))


def read_page_meta(tree: _Element) -> PageMeta:
    """Collect metadata that trafilatura does not give with a timezone or at all."""
    meta = PageMeta()
    meta.canonical = _first(tree, '//link[@rel="canonical"]/@href') or _first(
        tree, '//meta[@property="og:url"]/@content'
    )
    meta.published = next(filter(None, map(parse_datetime, _date_candidates(tree))), None)
    lang = (
        _first(tree, "/html/@lang")
        or _first(tree, '//meta[@property="og:locale"]/@content')
        or _first(
            tree,
            '//meta[@http-equiv="content-language" or @http-equiv="Content-Language"]/@content',
        )
    )
    meta.language = normalize_language(lang)
    meta.title = _first(tree, '//meta[@property="og:title"]/@content') or _first(
        tree, "//title/text()"
    )
    return meta


def normalize_language(value: str | None) -> str | None:
    """ISO 639-1 code from a tag like "en-GB" or "pt_BR"; None when not a two-letter code."""
    match = _LANG.match((value or "").strip().split(",")[0].strip())
    return match.group(1).lower() if match else None


def clean_title(value: str | None) -> str | None:
    """Plain-text title: markup and script content removed, entities decoded, spaces collapsed."""
    if not value:
        return None
    if not any(c in value for c in "<&\0\ufeff"):  # plain text: nothing for nh3 to do
        return " ".join(value.split()) or None
    text = nh3.clean(value, tags=set(), clean_content_tags={"script", "style"})
    text = htmllib.unescape(text)
    while _TAG.search(text):  # decoded entities may have formed new tags: strip again
        text = _TAG.sub("", text)
    text = " ".join(text.split())
    return text or None


def split_authors(value: str | None) -> list[str]:
    """Author names from trafilatura's "A; B" string, without duplicates."""
    names = [" ".join(part.split()) for part in re.split(r";|\band\b|,|\|", value or "")]
    return list(dict.fromkeys(name for name in names if name))


def canonical_url(candidate: str | None, *, url: str) -> str | None:
    """The page's canonical URL, tracking parameters removed.

    A relative canonical is resolved against the fetched URL, never against <base href>: a base
    element can point anywhere, while the fetched URL is the one address we know is real.
    """
    if not url and not candidate:
        return None  # a feed entry without a link
    target = urljoin(url or "", candidate.strip()) if candidate else url
    if urlsplit(target).scheme not in {"http", "https"}:
        target = url
    try:
        return normalize_url(target, strict=True)
    except (ValueError, AttributeError):
        return target or None


def published_time(
    page: datetime | None, day: str | None, feed: datetime | None
) -> datetime | None:
    """Page time when known; else the page's day (feed time if on that day); else the feed time."""
    if page is not None:
        return page
    if feed is not None and feed.tzinfo is None:
        feed = feed.replace(tzinfo=UTC)
    try:
        page_day = date.fromisoformat(day) if day else None
    except ValueError:
        page_day = None
    if page_day is None:
        return feed
    if feed is not None and feed.date() == page_day:
        return feed
    return datetime(page_day.year, page_day.month, page_day.day, tzinfo=UTC)


def absolute_url(value: str | None, *, url: str) -> str | None:
    """An http(s) URL resolved against the fetched URL, or None."""
    if not value:
        return None
    target = urljoin(url, value.strip())
    return target if urlsplit(target).scheme in {"http", "https"} else None


def site_metadata(tree: _Element, *, url: str, known_date: bool, deep_dates: bool) -> Document:
    """trafilatura's metadata steps we use: title, author (from metadata), site, image, day.

    trafilatura.extract_metadata also collects categories, tags and licences and copies the
    whole tree for the author search; skipping those halves its cost (see byline.py).
    """
    try:
        meta = examine_meta(tree)
        if meta.author and " " not in meta.author:
            meta.author = None  # a single token is a handle or a site name, not a person
        meta = extract_meta_json(tree, meta)
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        meta = Document()
    if not meta.title:
        meta.title = extract_title(tree)
    if not meta.sitename:
        meta.sitename = extract_sitename(tree)
    if meta.sitename:
        meta.sitename = meta.sitename.lstrip("@")
    if not known_date:
        meta.date = find_date(tree, extensive_search=deep_dates, original_date=True, url=url)
    return meta
