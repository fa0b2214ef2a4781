"""The `wirewatch` command: one sub-command group per thing a user manages."""

from __future__ import annotations

import sys

import typer

from wirewatch.errors import ConfigError
from wirewatch.settings import get_settings

app = typer.Typer(
    help="Wirewatch: follow news feeds, clean articles, join republished copies, alert people.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def settings_or_exit():  # noqa: ANN201
    """The settings, or a clear message and exit code 2 when the environment is invalid."""
    try:
        return get_settings()
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _register() -> None:
    from wirewatch.cli import demo, extract, feeds, service, stories, topics, users

    app.add_typer(feeds.app, name="feeds")
    app.add_typer(stories.app, name="stories")
    service.register(app)
    users.register(app)
    topics.register(app)
    app.command("extract")(extract.extract)
    app.command("demo")(demo.demo)


_register()


def main() -> None:
    try:
        app()
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
