"""The FastAPI application: health, the REST API under /api (a key per request), metrics, the
topic Atom feeds and the web UI; JSON errors, a body cap, rate limits and a strict CSP."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from api import articles, atom, errors, feeds, metrics, topics, users, web, websub
from api.limits import MAX_BODY_BYTES, GuardMiddleware, RateLimiter
from storage.db import get_engine
from storage.migrate import check_migrated
from wirewatch import __version__
from wirewatch.errors import ConfigError
from wirewatch.settings import Settings

STATIC = Path(__file__).with_name("static")


def create_app(
    settings: Settings,
    *,
    rate: float = 20.0,
    burst: int = 200,
    max_body: int = MAX_BODY_BYTES,
    dispatcher=None,  # noqa: ANN001
) -> FastAPI:
    """The whole app. `rate`/`burst`: requests per second and burst allowed per API key."""
    app = FastAPI(
        title="Wirewatch",
        version=__version__,
        description="Query stories and articles, manage feeds, topics and alert subscriptions. "
        "Every /api request needs `Authorization: Bearer KEY`; errors are "
        '`{"error": "..."}`.',
    )
    app.state.settings = settings
    # Where pushed articles go: the embedded threads when the service runs the API, Celery in
    # distributed mode, nowhere (the scheduler's sweep picks them up) for a lone embedded API.
    if dispatcher is None and not settings.embedded:
        from worker.dispatch import CeleryDispatcher

        dispatcher = CeleryDispatcher(max_delay=settings.redis_visibility_timeout / 2)
    app.state.dispatcher = dispatcher
    app.state.limiter = RateLimiter(rate=rate, burst=burst)
    app.state.metrics = metrics.registry_for(settings.database_url)
    errors.install(app)
    app.add_middleware(GuardMiddleware, max_body=max_body)

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

    for module in (articles, feeds, topics, users, metrics, atom, web, websub):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
