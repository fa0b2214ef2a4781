"""The result of the extraction stage: cleaned article text, sanitised HTML and page metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class ExtractedArticle:
    """One cleaned article. `text` paragraphs are separated by a blank line."""

    text: str
    html: str
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published: datetime | None = None
    language: str | None = None
    canonical_url: str | None = None
    site_name: str | None = None
    image_url: str | None = None
    word_count: int = 0
    method: str = "trafilatura"
    wire_source: str | None = None
