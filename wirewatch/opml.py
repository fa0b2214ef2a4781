"""OPML subscription lists in and out; hostile or malformed files are refused with a reason."""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element, SubElement, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from wirewatch.urls import InvalidFeedURL, normalise_feed_url

MAX_OPML_BYTES = 20 * 1024 * 1024


class OPMLError(ValueError):
    """The file is not a usable OPML subscription list."""


@dataclass(frozen=True)
class Outline:
    url: str
    title: str | None


@dataclass(frozen=True)
class OPMLImport:
    feeds: list[Outline]
    skipped: list[str]  # outlines with an unusable xmlUrl, each with the reason


def parse_opml(data: bytes) -> OPMLImport:
    """Every `<outline xmlUrl=…>` at any depth (folders are flattened), in document order."""
    if len(data) > MAX_OPML_BYTES:
        raise OPMLError(f"file is larger than {MAX_OPML_BYTES // (1024 * 1024)} MiB")
    if not data.strip():
        raise OPMLError("file is empty")
    try:
        root = fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise OPMLError(
            f"refused: the file declares a DTD or entities ({type(exc).__name__})"
        ) from None
    except ParseError as exc:
        raise OPMLError(f"not XML: {exc}") from None
    if _local(root.tag) != "opml":
        raise OPMLError(f"not OPML: the root element is <{_local(root.tag)}>, expected <opml>")
    body = next((c for c in root if _local(c.tag) == "body"), None)
    if body is None:
        raise OPMLError("not OPML: no <body> element")
    feeds: list[Outline] = []
    skipped: list[str] = []
    seen: set[str] = set()
    for outline in body.iter():
        if _local(outline.tag) != "outline":
            continue
        raw = outline.get("xmlUrl") or outline.get("xmlurl")
        if raw is None:
            continue  # a folder
        try:
            url = normalise_feed_url(raw)
        except InvalidFeedURL as exc:
            skipped.append(f"{raw!r}: {exc}")
            continue
        if url in seen:
            continue
        seen.add(url)
        title = outline.get("title") or outline.get("text")
        feeds.append(Outline(url=url, title=title.strip()[:1024] if title else None))
    return OPMLImport(feeds=feeds, skipped=skipped)


def write_opml(feeds: list[Outline], *, title: str = "Wirewatch subscriptions") -> str:
    opml = Element("opml", version="2.0")
    head = SubElement(opml, "head")
    SubElement(head, "title").text = title
    body = SubElement(opml, "body")
    for feed in feeds:
        attrs = {"type": "rss", "xmlUrl": feed.url, "text": feed.title or feed.url}
        if feed.title:
            attrs["title"] = feed.title
        SubElement(body, "outline", attrs)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(opml, encoding="unicode") + "\n"


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1].lower()
