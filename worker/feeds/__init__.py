"""The feed parsing stage: `parse_feed(bytes, url=…)` reads RSS, Atom and JSON Feed."""

from worker.feeds.model import ParsedEntry, ParsedFeed
from worker.feeds.parse import parse_feed
from worker.feeds.values import entry_key

__all__ = ["ParsedEntry", "ParsedFeed", "entry_key", "parse_feed"]
