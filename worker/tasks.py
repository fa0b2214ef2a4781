"""Celery tasks: thin shells that pass ids to the pipeline (which holds all the logic)."""

from __future__ import annotations

import logging
from functools import lru_cache

import redis
from celery.exceptions import SoftTimeLimitExceeded

from wirewatch import metrics
from wirewatch.settings import get_settings
from worker import delivery, pipeline
from worker.celery_app import app
from worker.dispatch import CeleryDispatcher
from worker.hostlimit import RedisHostLimiter

log = logging.getLogger(__name__)

# The database or broker being briefly away (restart, failover) is retried with backoff; the
# pipeline itself records every other failure on the row.
TRANSIENT = (*pipeline.DATABASE_AWAY, redis.ConnectionError, redis.TimeoutError)
# ... and, with the task's time limit, they end a batch of articles (worker.pipeline)
ENDS_BATCH = (*TRANSIENT, SoftTimeLimitExceeded)
TASK_OPTIONS = {
    "acks_late": True,
    "ignore_result": True,
    "autoretry_for": TRANSIENT,
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 20,
}


@lru_cache(maxsize=1)
def context() -> pipeline.Context:
    settings = get_settings()
    client = redis.Redis.from_url(
        settings.broker_url or "redis://127.0.0.1:6379/0",
        socket_timeout=10,
        socket_connect_timeout=5,
    )
    limiter = RedisHostLimiter(client, settings.host_concurrency, lease=settings.total_timeout + 30)
    return pipeline.Context(
        settings=settings,
        dispatcher=CeleryDispatcher(max_delay=settings.redis_visibility_timeout / 2),
        limiter=limiter,
        ends_batch=ENDS_BATCH,
    )


@app.task(name="wirewatch.poll_feed", **TASK_OPTIONS)
def poll_feed(feed_id: int) -> None:
    with metrics.TASK_SECONDS.labels(task="poll_feed").time():
        pipeline.refresh_feed(feed_id, ctx=context())


@app.task(name="wirewatch.deliver", **TASK_OPTIONS)
def deliver(delivery_ids: list[int]) -> None:
    with metrics.TASK_SECONDS.labels(task="deliver").time():
        delivery.deliver(delivery_ids, ctx=context())


@app.task(name="wirewatch.process_article", bind=True, **TASK_OPTIONS)
def process_article(self, article_id: int) -> None:  # noqa: ANN001
    with metrics.TASK_SECONDS.labels(task="process_article").time():
        pipeline.process_article(article_id, ctx=context(), token=self.request.id)


@app.task(name="wirewatch.process_articles", bind=True, **TASK_OPTIONS)
def process_articles(self, article_ids: list[int]) -> None:  # noqa: ANN001
    """Several new articles, in one batch (worker.pipeline.process_articles). A transient error
    retries the task: articles already processed are skipped (their claim fails), those in hand
    are taken again under the same token."""
    with metrics.TASK_SECONDS.labels(task="process_articles").time():
        pipeline.process_articles(article_ids, ctx=context(), token=self.request.id)
