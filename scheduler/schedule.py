"""When to poll a feed next: adaptive to its publishing rate, bounded, jittered, and polite.

Pure functions of the feed's observed entry dates and the server's caching hints, so they are
tested without a clock or a database.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import datetime, timedelta
from statistics import median

from wirewatch.settings import Settings

# How many recent entry dates inform the publishing rate, and how many gaps between polls we aim
# to see per new entry: polling twice per typical gap finds most entries within half a gap.
RECENT_ENTRIES = 20
POLLS_PER_GAP = 2


def adaptive_interval(
    entry_dates: Iterable[datetime | None], *, now: datetime, settings: Settings
) -> int:
    """Seconds between polls from the feed's observed publishing rate.

    The median gap between the newest entries, halved, clamped to [min, max]. A feed that has not
    published for longer than its usual gap slows down towards the time since its last entry, so a
    dormant feed is not polled at its old busy rate forever.
    """
    dates = sorted((d for d in entry_dates if d is not None and d <= now), reverse=True)
    dates = dates[:RECENT_ENTRIES]
    if len(dates) < 2:
        interval = settings.poll_default_interval
    else:
        gaps = [(a - b).total_seconds() for a, b in zip(dates, dates[1:], strict=False)]
        gaps = [g for g in gaps if g > 0] or [settings.poll_default_interval]
        interval = median(gaps) / POLLS_PER_GAP
        silence = (now - dates[0]).total_seconds()
        if silence > 2 * median(gaps):
            interval = max(interval, silence / 4)
    return clamp(int(interval), settings)


def next_poll(
    *,
    now: datetime,
    settings: Settings,
    entry_dates: Iterable[datetime | None] = (),
    override: int | None = None,
    ttl_minutes: int | None = None,
    cache_lifetime: float | None = None,
    rng: random.Random | None = None,
) -> tuple[datetime, int]:
    """The next poll time and the interval it came from, after a successful poll.

    Order: a per-feed override wins; otherwise the adaptive interval, raised (never lowered) to the
    feed's TTL and the response's cache lifetime, all within the configured bounds; then jitter.
    """
    if override:
        interval = max(1, int(override))
    else:
        interval = adaptive_interval(entry_dates, now=now, settings=settings)
        if ttl_minutes and ttl_minutes > 0:
            interval = max(interval, ttl_minutes * 60)
        if cache_lifetime and cache_lifetime > 0:
            interval = max(interval, int(cache_lifetime))
        interval = clamp(interval, settings)
    return now + timedelta(seconds=jitter(interval, settings=settings, rng=rng)), interval


def retry_after_failure(
    *,
    now: datetime,
    error_count: int,
    settings: Settings,
    permanent: bool,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> datetime:
    """When to try a failing feed again: exponential backoff from the minimum interval, capped.

    Permanent errors (404, 410, not a feed) wait the longest; a server's Retry-After is honoured
    when it asks for more.
    """
    if permanent:
        delay = float(settings.error_backoff_max)
    else:
        delay = min(
            settings.poll_min_interval * 2 ** max(0, error_count - 1), settings.error_backoff_max
        )
    if retry_after:
        delay = max(delay, min(retry_after, settings.retry_after_cap))
    return now + timedelta(seconds=jitter(delay, settings=settings, rng=rng))


def clamp(interval: float, settings: Settings) -> int:
    return int(min(max(interval, settings.poll_min_interval), settings.poll_max_interval))


def jitter(seconds: float, *, settings: Settings, rng: random.Random | None = None) -> float:
    """Spread polls so feeds added together do not stay in lock-step (never shortens a wait)."""
    spread = seconds * settings.poll_jitter
    return seconds + (rng or random).uniform(0, spread)
