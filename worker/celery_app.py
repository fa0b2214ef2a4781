"""The Celery application, configured so that a lost message or a killed worker loses nothing.

acks_late + reject_on_worker_lost: a task is acknowledged only when it finished, and one whose
worker died is given back. Prefetch 1: a worker holds one task at a time. Time limits stay below
the Redis visibility timeout (checked by Settings), or Redis would redeliver running tasks.
"""

from __future__ import annotations

from celery import Celery

from wirewatch.settings import Settings, get_settings

ALERTS, ARTICLES, POLLS = "wirewatch.alerts", "wirewatch.articles", "wirewatch.polls"
QUEUES = (ALERTS, ARTICLES, POLLS)


def make_celery(settings: Settings) -> Celery:
    app = Celery(
        "wirewatch",
        broker=settings.broker_url or "redis://127.0.0.1:6379/0",
        include=["worker.tasks"],
    )
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        result_backend=None,
        worker_prefetch_multiplier=1,
        task_time_limit=settings.task_time_limit,
        task_soft_time_limit=max(5, settings.task_time_limit - 15),
        broker_transport_options={"visibility_timeout": settings.redis_visibility_timeout},
        broker_connection_retry_on_startup=True,
        task_default_queue=ARTICLES,
        # Three queues, so a burst of polls never sits in front of articles and alerts; a
        # worker takes from all three (or from those named with `wirewatch worker --queues`).
        task_routes={
            "wirewatch.poll_feed": {"queue": POLLS},
            "wirewatch.process_article": {"queue": ARTICLES},
            "wirewatch.process_articles": {"queue": ARTICLES},
            "wirewatch.deliver": {"queue": ALERTS},
        },
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
    )
    return app


app = make_celery(get_settings())
