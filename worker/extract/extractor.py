"""extract_article: page bytes in, clean article out (trafilatura; readability, feed fallbacks)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from copy import copy
from datetime import datetime
from functools import cache, partial

import lxml.html
from lxml.etree import LxmlError, ParserError, _Element
from readability import Document as Readability
from trafilatura import bare_extraction
from trafilatura.settings import Document, Extractor
from trafilatura.utils import load_html

from wirewatch.errors import ExtractionError
from worker.extract.article import ExtractedArticle
from worker.extract.boilerplate import word_count
from worker.extract.byline import byline_author
from worker.extract.clean import HTML, InternalLinks, clean_body
from worker.extract.decode import cap_tree, decode_page
from worker.extract.metadata import (
    PageMeta,
    absolute_url,
    canonical_url,
    clean_title,
    published_time,
    read_page_meta,
    site_metadata,
    split_authors,
)
from worker.extract.render import html_body_text, sanitize_html, xml_body_html, xml_body_text
from worker.extract.wire import detect_wire_source

log = logging.getLogger(__name__)

# The page result is doubted when it holds less than this share of the feed's own text or of
# the page's paragraph text; readability then runs, and wins when it finds RIVAL_GAIN times more.
SHORT_SHARE = 0.5
# trafilatura's precision focus drops more boilerplate; our own cleaning runs in both cases.
FAVOR_PRECISION = True
RIVAL_GAIN = 1.5
# trafilatura runs first without its fallback extractors (readability port, justext: a third
# of its time). It runs again with them when the result is doubtful (see above), shorter than
# MIN_TEXT (trafilatura's MIN_EXTRACTED_SIZE), or shorter than FEW_CHARS while covering less than
# LITTLE_SHARE of the page text (trafilatura's ESCALATION_MAX_LENGTH and ESCALATION_PAGE_SHARE).
MIN_TEXT = 250
FEW_CHARS = 3_000
LITTLE_SHARE = 0.2
# Pages with more elements or more text than this are "heavy": they skip the costly extras
# (trafilatura's internal fallbacks, readability, the exhaustive date search), whose cost grows
# faster than linearly. Real article pages stay well below both (largest seen: ~5,000
# elements, ~120,000 characters of text).
LARGE_PAGE = 3_000
LARGE_TEXT = 150_000


class _Candidate:
    """Cleaned text + HTML from one extractor."""

    def __init__(self, method: str, text: str, html: str, credits: list[str]) -> None:
        self.method, self.text, self.html, self.credits = method, text, html, credits
        self.words = word_count(text)


def _options(*, fast: bool) -> Extractor:
    # "txt": only the body tree is used, which spares bare_extraction's python text rendering
    return Extractor(
        output_format="txt", fast=fast, precision=FAVOR_PRECISION, comments=False, tables=True
    )


# Building trafilatura's options reads its configuration (a fifth of a millisecond): done once.
_OPTIONS = {fast: _options(fast=fast) for fast in (False, True)}


def _trafilatura(
    tree: _Element, *, url: str, title: str | None, links: InternalLinks, fast: bool
) -> _Candidate | None:
    options = copy(_OPTIONS[fast])
    options.url = options.source = url
    try:
        doc = bare_extraction(tree, options=options)
    except (RecursionError, ValueError, TypeError) as exc:  # pathological trees
        log.info("trafilatura failed", extra={"url": url, "error": repr(exc)})
        return None
    if doc is None or doc.body is None:
        return None
    credits = clean_body(doc.body, title=title, links=links)
    text = xml_body_text(doc.body)
    return _Candidate("trafilatura", text, xml_body_html(doc.body) if text else "", credits)


def _from_html_fragment(method: str, fragment: str, *, title: str | None) -> _Candidate | None:
    """Clean an HTML fragment (readability output or feed content) the same way as page bodies."""
    safe = sanitize_html(fragment)
    if not safe:
        return None
    try:
        root = lxml.html.fragment_fromstring(safe, create_parent="div")
    except (ParserError, ValueError):
        return None
    credits = clean_body(root, title=title, dialect=HTML)
    text = html_body_text(root)
    html = sanitize_html(lxml.html.tostring(root, encoding="unicode")) if text else ""
    return _Candidate(method, text, html, credits)


def _readability(page: str, *, title: str | None) -> _Candidate | None:
    try:
        fragment = Readability(page).summary(html_partial=True)
    except Exception as exc:  # readability raises bare Exception subclasses on odd markup
        log.info("readability failed", extra={"error": repr(exc)})
        return None
    return _from_html_fragment("readability", fragment, title=title)


def _heavy(tree: _Element, elements: int, page_text: str) -> bool:
    if elements > LARGE_PAGE:
        return True
    # all the text of the document (scripts included) bounds the visible text from above
    if len(page_text) < LARGE_TEXT or tree.xpath("string-length(/)") <= LARGE_TEXT:
        return False
    return _visible_chars(tree) > LARGE_TEXT


def _visible_chars(tree: _Element) -> int:
    texts = tree.xpath("//body//text()[not(parent::script or parent::style or parent::noscript)]")
    return sum(len(text.strip()) for text in texts)


def _covers_little(best: _Candidate | None, tree: _Element) -> bool:
    """True when a short result holds a small share of the page's visible text."""
    if best is None or len(best.text) >= FEW_CHARS:
        return False
    return len(best.text) < LITTLE_SHARE * _visible_chars(tree)


def _paragraph_chars(tree: _Element) -> int:
    return sum(len(" ".join(p.text_content().split())) for p in tree.iter("p"))


def _doubtful(
    best: _Candidate | None, floor: float, paragraph_chars: Callable[[], int], short: int = 0
) -> bool:
    """True when the trafilatura result is missing or short against the feed or the page."""
    if best is None or best.words == 0 or best.words < floor or len(best.text) < short:
        return True
    return len(best.text) < SHORT_SHARE * paragraph_chars()


def _build(
    best: _Candidate,
    *,
    url: str,
    meta: Document,
    page: PageMeta,
    feed_title: str | None,
    feed_published: datetime | None,
) -> ExtractedArticle:
    title = clean_title(meta.title or page.title or feed_title)
    site_name = clean_title(meta.sitename)
    wire = detect_wire_source(
        best.text, byline=meta.author, site_name=site_name, title=title, credits=best.credits
    )
    return ExtractedArticle(
        text=best.text,
        html=best.html,
        title=title,
        authors=split_authors(meta.author),
        published=published_time(page.published, meta.date, feed_published),
        language=page.language,
        canonical_url=canonical_url(page.canonical, url=url),
        site_name=site_name,
        image_url=absolute_url(meta.image, url=url),
        word_count=best.words,
        method=best.method,
        wire_source=wire,
    )


def extract_article(
    html: bytes | str,
    *,
    url: str,
    feed_title: str | None = None,
    feed_content: str | None = None,
    feed_published: datetime | None = None,
    charset: str | None = None,
) -> ExtractedArticle:
    """Clean main text and metadata out of a fetched page; ExtractionError when nothing usable."""
    try:
        page_text = decode_page(html, charset=charset)
    except ExtractionError:
        if feed_content:
            return extract_from_feed(
                url=url,
                feed_title=feed_title,
                feed_content=feed_content,
                feed_published=feed_published,
            )
        raise
    feed = _from_html_fragment("feed", feed_content, title=feed_title) if feed_content else None
    floor = feed.words * SHORT_SHARE if feed else 0
    try:
        best, page, meta = _from_page(page_text, url=url, feed_title=feed_title, floor=floor)
    except (RecursionError, ValueError, TypeError, AttributeError, LxmlError) as exc:
        # third-party parsers on hostile markup: one boundary turns their failures into ours
        log.info("page processing failed", extra={"url": url, "error": repr(exc)})
        if not (feed and feed.words):
            raise ExtractionError(f"page could not be processed: {type(exc).__name__}") from exc
        best, page, meta = None, PageMeta(), Document()
    if feed and feed.words and (best is None or best.words < floor):
        best = feed
    if best is None or not best.text:
        reason = "page is empty" if not page_text.strip() else "no article text found in page"
        raise ExtractionError(reason)
    return _build(
        best, url=url, meta=meta, page=page, feed_title=feed_title, feed_published=feed_published
    )


def _from_page(
    page_text: str, *, url: str, feed_title: str | None, floor: float
) -> tuple[_Candidate | None, PageMeta, Document]:
    """Best candidate from the page itself, with the page's metadata."""
    tree = load_html(page_text) if page_text.strip() else None
    best, page, meta = None, PageMeta(), Document()
    if tree is not None:
        heavy = _heavy(tree, cap_tree(tree), page_text)
        page = read_page_meta(tree)
        # the page's own dated metadata makes htmldate's search unnecessary
        meta = site_metadata(
            tree, url=url, known_date=page.published is not None or heavy, deep_dates=not heavy
        )
        title = clean_title(meta.title or page.title or feed_title)
        links = InternalLinks(tree, url=url)
        paragraph_chars = cache(partial(_paragraph_chars, tree))
        best = _trafilatura(tree, url=url, title=title, links=links, fast=True)
        if not heavy and (
            _doubtful(best, floor, paragraph_chars, short=MIN_TEXT) or _covers_little(best, tree)
        ):
            best = _trafilatura(tree, url=url, title=title, links=links, fast=False) or best
        if not heavy and _doubtful(best, floor, paragraph_chars):
            other = _readability(page_text, title=title)
            if other and other.words > (best.words * RIVAL_GAIN if best else 0):
                best = other
        if not meta.author and not heavy:
            meta.author = byline_author(tree)
    return best, page, meta


def extract_from_feed(
    *,
    url: str,
    feed_title: str | None,
    feed_content: str | None,
    feed_published: datetime | None,
) -> ExtractedArticle:
    """Clean the feed-provided HTML when the page itself cannot be fetched."""
    feed = _from_html_fragment("feed", feed_content or "", title=feed_title)
    if feed is None or not feed.text:
        raise ExtractionError("feed entry has no content")
    return _build(
        feed,
        url=url,
        meta=Document(),
        page=PageMeta(),
        feed_title=feed_title,
        feed_published=feed_published,
    )
