"""Prometheus counters and histograms the pipeline increments (prometheus-client, default
registry); the API's /metrics adds gauges read from the database at scrape time.

Usage from a stage's caller: `metrics.POLLS.labels(outcome="ok").inc()`,
`with metrics.TASK_SECONDS.labels(task="poll_feed").time(): ...`. In distributed mode each
process counts its own; scrape each, or rely on the database gauges, which are global.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

POLLS = Counter(
    "wirewatch_polls_total",
    "Feed polls by outcome (ok, not_modified, transient_error, permanent_error, blocked).",
    ["outcome"],
)
ARTICLES_PROCESSED = Counter(
    "wirewatch_articles_processed_total", "Articles by final outcome (processed, failed).",
    ["outcome"],
)
DUPLICATES_JOINED = Counter(
    "wirewatch_duplicates_joined_total", "Articles joined to an existing story, by key kind.",
    ["kind"],
)
STORIES_MERGED = Counter("wirewatch_stories_merged_total", "Stories merged into another.")
ALERTS = Counter(
    "wirewatch_alerts_total", "Alert delivery attempts by outcome (sent, retry, dead).",
    ["outcome", "channel"],
)
TASK_SECONDS = Histogram(
    "wirewatch_task_seconds",
    "Duration of pipeline tasks.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
HOST_BACKOFF_SECONDS = Gauge(
    "wirewatch_host_backoff_seconds", "Seconds a host asked us to wait (last Retry-After).",
    ["host"],
)
