"""The FastAPI application: health, readiness and the feed status the CLI also shows."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse
from sqlalchemy import text

from storage import feeds as feed_store
from storage.db import get_engine, session_scope
from storage.migrate import check_migrated
from wirewatch import __version__
from wirewatch.errors import ConfigError
from wirewatch.settings import Settings


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(title="Wirewatch", version=__version__)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    def readyz() -> JSONResponse:
        """The database (and, in distributed mode, the broker) answer."""
        checks: dict[str, str] = {}
        try:
            with get_engine(settings.database_url).connect() as conn:
                conn.execute(text("SELECT 1"))
            check_migrated(settings.database_url)
            checks["database"] = "ok"
        except ConfigError as exc:
            checks["database"] = str(exc)
        except Exception as exc:  # any driver error means "not ready", said plainly
            checks["database"] = f"unreachable: {type(exc).__name__}"
        if not settings.embedded:
            import redis

            try:
                redis.Redis.from_url(settings.broker_url, socket_timeout=3).ping()
                checks["broker"] = "ok"
            except redis.RedisError as exc:
                checks["broker"] = f"unreachable: {exc}"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    @app.get("/api/feeds", tags=["feeds"])
    def list_feeds() -> list[dict]:
        """Every feed with its polling state."""
        with session_scope(settings.database_url) as session:
            rows = feed_store.list_feeds(session=session)
        return [
            {
                "id": r.feed.id,
                "url": r.feed.url,
                "title": r.feed.title,
                "entries": r.entries,
                "last_polled_at": r.feed.last_polled_at,
                "next_poll_at": r.feed.next_poll_at,
                "error_count": r.feed.error_count,
                "last_error": r.feed.last_error,
                "disabled": r.feed.disabled,
            }
            for r in rows
        ]

    @app.get("/api/feeds/{feed_id}", tags=["feeds"])
    def get_feed(feed_id: int) -> dict:
        with session_scope(settings.database_url) as session:
            feed = feed_store.get_feed(session=session, feed_id=feed_id)
            if feed is None:
                raise HTTPException(404, f"no feed with id {feed_id}")
            return feed.model_dump()

    return app
