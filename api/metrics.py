"""`/metrics` for Prometheus: the process's counters plus gauges computed from the database at
scrape time (so they are right whichever process did the work)."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Request, Response
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

import wirewatch.metrics  # noqa: F401  (registers the pipeline's counters)
from storage.db import session_scope
from storage.models import Article, Delivery, Feed, Host, Story, utcnow

router = APIRouter(tags=["health"])


class DatabaseCollector(Collector):
    """Articles by state, stories, deliveries by state, failing and disabled feeds, blocked
    hosts: one short read transaction per scrape."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with session_scope(self.database_url) as s:
            articles = s.execute(select(Article.state, func.count()).group_by(Article.state)).all()
            stories = s.execute(
                select(func.count()).select_from(Story).where(Story.merged_into_id.is_(None))
            ).scalar_one()
            merged = s.execute(
                select(func.count()).select_from(Story).where(Story.merged_into_id.is_not(None))
            ).scalar_one()
            copies = s.execute(
                select(func.count()).select_from(Article).where(Article.story_id.is_not(None))
            ).scalar_one()
            deliveries = s.execute(
                select(Delivery.state, func.count()).group_by(Delivery.state)
            ).all()
            feeds = s.execute(
                select(Feed.disabled, Feed.error_count, func.count())
                .group_by(Feed.disabled, Feed.error_count)
            ).all()
            blocked = s.execute(
                select(func.count()).select_from(Host).where(Host.blocked_until > utcnow())
            ).scalar_one()
        g = GaugeMetricFamily("wirewatch_articles", "Stored articles by state.", labels=["state"])
        for state, n in articles:
            g.add_metric([state], n)
        yield g
        yield GaugeMetricFamily("wirewatch_stories", "Live stories.", value=stories)
        yield GaugeMetricFamily("wirewatch_stories_merged", "Stories merged into another.",
                                value=merged)
        yield GaugeMetricFamily(
            "wirewatch_duplicates", "Copies joined to a story beyond its first article.",
            value=max(0, copies - stories),
        )
        g = GaugeMetricFamily("wirewatch_deliveries", "Alert deliveries by state.",
                              labels=["state"])
        for state, n in deliveries:
            g.add_metric([state], n)
        yield g
        g = GaugeMetricFamily("wirewatch_feeds", "Feeds by health.", labels=["health"])
        totals = {"ok": 0, "failing": 0, "disabled": 0}
        for disabled, failing, n in feeds:
            totals["disabled" if disabled else "failing" if failing else "ok"] += n
        for health, n in totals.items():
            g.add_metric([health], n)
        yield g
        yield GaugeMetricFamily("wirewatch_hosts_blocked", "Hosts we were asked to leave alone.",
                                value=blocked)


def registry_for(database_url: str) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(database_url))
    return registry


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}}})
def metrics(request: Request) -> Response:
    """Prometheus text format; needs no key."""
    body = generate_latest(REGISTRY) + generate_latest(request.app.state.metrics)
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")
