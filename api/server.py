"""Serving the API with uvicorn, alone (`wirewatch api`) or inside `wirewatch run`."""

from __future__ import annotations

import uvicorn

from api.app import create_app
from wirewatch.settings import Settings


def make_server(
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    own_signals: bool = False,
    dispatcher=None,  # noqa: ANN001
) -> uvicorn.Server:
    """A uvicorn server; inside `wirewatch run` the service, not uvicorn, handles the signals."""
    config = uvicorn.Config(
        create_app(settings, dispatcher=dispatcher),
        host=host or settings.api_host,
        port=settings.api_port if port is None else port,
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    if not own_signals:
        server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    return server


def app_from_env():  # noqa: ANN201
    """The app built from WIREWATCH_* variables: `uvicorn --factory api.server:app_from_env`
    (several workers; each has its own rate-limit buckets)."""
    from wirewatch.settings import get_settings

    return create_app(get_settings())
