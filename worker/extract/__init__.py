"""The extraction stage: fetched page in, cleaned article text and metadata out."""

from worker.extract.article import ExtractedArticle
from worker.extract.extractor import extract_article, extract_from_feed
from worker.extract.wire import detect_wire_source

__all__ = ["ExtractedArticle", "detect_wire_source", "extract_article", "extract_from_feed"]
