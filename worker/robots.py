"""robots.txt for article pages: is this URL allowed for our user agent, and at what pace.

Parsing is the standard library's `urllib.robotparser`; fetching goes through the outbound gate
and the result is cached per host in the database (storage.hosts), shared by every worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from wirewatch.errors import FetchError
from wirewatch.net import fetch
from wirewatch.settings import Settings

ROBOTS_MAX_BYTES = 512 * 1024
# What an unreachable or missing robots.txt means: everything allowed (as crawlers do for 4xx).
ALLOW_ALL = ""


@dataclass(frozen=True)
class RobotsRules:
    allowed: bool
    crawl_delay: float | None


def robots_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/robots.txt"


def fetch_robots(url: str, *, settings: Settings) -> str:
    """The host's robots.txt text; ALLOW_ALL when it has none or it cannot be had.

    A 5xx or a timeout is treated like a missing file too: being unable to read the rules for a
    moment must not stop a newsroom's monitoring; the cache is short for such answers.
    """
    try:
        response = fetch(
            robots_url(url), settings=settings, max_bytes=ROBOTS_MAX_BYTES, accept="text/plain"
        )
    except FetchError:
        return ALLOW_ALL
    return response.content.decode("utf-8", errors="replace")


class ParsedRobots:
    """One robots.txt, parsed once, asked about many URLs."""

    def __init__(self, robots_txt: str) -> None:
        self._parser: RobotFileParser | None = None
        if robots_txt.strip():
            self._parser = RobotFileParser()
            self._parser.parse(robots_txt.splitlines())

    def rules(self, url: str, *, user_agent: str) -> RobotsRules:
        if self._parser is None:
            return RobotsRules(allowed=True, crawl_delay=None)
        agent = user_agent.split("/", 1)[0]
        delay = self._parser.crawl_delay(agent)
        return RobotsRules(
            allowed=self._parser.can_fetch(agent, url), crawl_delay=float(delay) if delay else None
        )


def parse_robots(robots_txt: str) -> ParsedRobots:
    return ParsedRobots(robots_txt)


def rules_for(robots_txt: str, url: str, *, user_agent: str) -> RobotsRules:
    return ParsedRobots(robots_txt).rules(url, user_agent=user_agent)
