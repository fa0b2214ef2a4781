"""The polling schedule: adaptive to the publishing rate, bounded, and polite on failure."""

import random
from datetime import UTC, datetime, timedelta

from scheduler.schedule import adaptive_interval, next_poll, retry_after_failure
from wirewatch.settings import Settings

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
S = Settings(
    database_url="sqlite:///x.db",
    poll_min_interval=300,
    poll_max_interval=86400,
    poll_default_interval=3600,
    poll_jitter=0.1,
    error_backoff_max=86400,
)


def every(minutes: float, n: int = 10, start: datetime = NOW) -> list[datetime]:
    return [start - timedelta(minutes=minutes * i) for i in range(n)]


def test_busy_feed_is_polled_at_half_its_publishing_gap() -> None:
    assert adaptive_interval(every(30), now=NOW, settings=S) == 15 * 60


def test_interval_stays_within_bounds() -> None:
    assert adaptive_interval(every(1), now=NOW, settings=S) == 300
    assert adaptive_interval(every(60 * 24 * 7), now=NOW, settings=S) == 86400


def test_unknown_rate_uses_the_default() -> None:
    assert adaptive_interval([], now=NOW, settings=S) == 3600
    assert adaptive_interval([NOW, None], now=NOW, settings=S) == 3600


def test_a_feed_gone_quiet_slows_down() -> None:
    quiet = every(30, start=NOW - timedelta(days=2))
    assert adaptive_interval(quiet, now=NOW, settings=S) > 15 * 60 * 10


def test_future_dates_are_ignored() -> None:
    dates = every(30) + [NOW + timedelta(days=300)]
    assert adaptive_interval(dates, now=NOW, settings=S) == 15 * 60


def test_override_wins_and_ttl_and_cache_only_lengthen() -> None:
    rng = random.Random(1)
    _, interval = next_poll(now=NOW, settings=S, entry_dates=every(30), override=120, rng=rng)
    assert interval == 120
    _, interval = next_poll(now=NOW, settings=S, entry_dates=every(30), ttl_minutes=60, rng=rng)
    assert interval == 3600
    _, interval = next_poll(
        now=NOW, settings=S, entry_dates=every(30), cache_lifetime=7200, rng=rng
    )
    assert interval == 7200
    _, interval = next_poll(now=NOW, settings=S, entry_dates=every(30), cache_lifetime=10, rng=rng)
    assert interval == 15 * 60


def test_jitter_never_shortens_and_spreads() -> None:
    rng = random.Random(2)
    times = {next_poll(now=NOW, settings=S, override=1000, rng=rng)[0] for _ in range(20)}
    assert len(times) > 10
    assert all(NOW + timedelta(seconds=1000) <= t <= NOW + timedelta(seconds=1100) for t in times)


def test_transient_failures_back_off_exponentially_with_a_cap() -> None:
    rng = random.Random(3)
    waits = [
        (
            retry_after_failure(now=NOW, error_count=n, settings=S, permanent=False, rng=rng) - NOW
        ).total_seconds()
        for n in (1, 2, 3, 4, 20)
    ]
    assert 300 <= waits[0] <= 330 and 600 <= waits[1] <= 660 and 1200 <= waits[2] <= 1320
    assert waits[3] > waits[2]
    assert 86400 <= waits[4] <= 86400 * 1.1


def test_permanent_failures_wait_longest_and_retry_after_is_honoured_within_cap() -> None:
    rng = random.Random(4)
    wait = retry_after_failure(now=NOW, error_count=1, settings=S, permanent=True, rng=rng) - NOW
    assert wait >= timedelta(seconds=86400)
    wait = (
        retry_after_failure(
            now=NOW, error_count=1, settings=S, permanent=False, retry_after=5000, rng=rng
        )
        - NOW
    )
    assert timedelta(seconds=5000) <= wait <= timedelta(seconds=5500)
    wait = (
        retry_after_failure(
            now=NOW, error_count=1, settings=S, permanent=False, retry_after=10**9, rng=rng
        )
        - NOW
    )
    assert wait <= timedelta(seconds=S.retry_after_cap * 1.1)
