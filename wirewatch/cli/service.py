"""`wirewatch run | worker | scheduler | db`: running the service and managing its database."""

from __future__ import annotations

import contextlib
import json

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from storage.migrate import check_migrated, current_revision, head_revision, upgrade
from wirewatch import logs
from wirewatch.cli import fail, settings_or_exit
from wirewatch.errors import ConfigError

db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
err = Console(stderr=True)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("worker")(worker)
    app.command("scheduler")(scheduler)
    app.command("api")(api)
    app.add_typer(db_app, name="db")


def api(
    host: str = typer.Option(None, help="Address to listen on (default WIREWATCH_API_HOST)."),
    port: int = typer.Option(None, help="Port (default WIREWATCH_API_PORT)."),
) -> None:
    """Serve the REST API and web UI alone."""
    from api.server import make_server

    settings = settings_or_exit()
    logs.configure(settings.log_level)
    try:
        check_migrated(settings.database_url)
    except ConfigError as exc:
        raise fail(str(exc), 2) from None
    make_server(settings, host=host, port=port, own_signals=True).run()


def run(
    once: bool = typer.Option(False, "--once", help="Poll every enabled feed once, finish, exit."),
    timeout: float = typer.Option(
        3600, help="With --once: give up waiting after this many seconds."
    ),
    as_json: bool = typer.Option(False, "--json", help="With --once: print the summary as JSON."),
    no_api: bool = typer.Option(False, "--no-api", help="Do not serve the API and web UI."),
    demo_first: bool = typer.Option(
        False,
        "--demo-first",
        help="On a fresh install (no feeds, no demo folder yet), show "
        "`wirewatch demo` first; Ctrl-C ends the demo and the service starts.",
    ),
) -> None:
    """Run the service: scheduler and workers in this process (embedded), or the scheduler alone
    when WIREWATCH_BROKER_URL points to Redis (Celery workers do the rest)."""
    from wirewatch.service import run_forever, run_once

    settings = settings_or_exit()
    logs.configure(settings.log_level if not once else "WARNING")
    try:
        if not once:
            if demo_first:
                _demo_on_fresh_install(settings)
            run_forever(settings, with_api=not no_api)
            return
        with Progress(
            TextColumn("polling feeds"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            disable=as_json or not err.is_terminal,
        ) as progress:
            task = progress.add_task("poll", total=None)
            summary = run_once(
                settings,
                timeout=timeout,
                on_progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
    except ConfigError as exc:
        raise fail(str(exc), 2) from None
    if as_json:
        typer.echo(json.dumps(summary.as_dict()))
    else:
        states = ", ".join(f"{n} {s}" for s, n in sorted(summary.by_state.items())) or "none"
        typer.echo(
            f"polled {summary.feeds} feeds ({summary.feeds_failed} failed) in "
            f"{summary.seconds:.1f}s; new articles: {summary.new_articles} ({states})"
        )
        waiting = summary.by_state.get("pending", 0) + summary.by_state.get("fetching", 0)
        if waiting and summary.finished:
            typer.echo(
                f"{waiting} articles wait in the database (a host asked us to wait, or a "
                "retry is due later); the next run takes them up"
            )
    if not summary.finished:
        raise fail(f"work still unfinished after {timeout:g}s; it stays queued in the database")


def worker(
    concurrency: int = typer.Option(
        None, "-c", "--concurrency", help="Processes (default: cores)."
    ),
    loglevel: str = typer.Option("INFO", help="Celery log level."),
    name: str = typer.Option(None, "-n", "--hostname", help="Worker name, e.g. w1@%h."),
    queues: str = typer.Option(
        "wirewatch.alerts,wirewatch.articles,wirewatch.polls",
        "--queues",
        help="Which work this worker takes (comma-separated): alerts, articles, polls.",
    ),
) -> None:
    """A Celery worker: polls feeds and processes articles handed out by the scheduler."""
    settings = settings_or_exit()
    if settings.embedded:
        raise fail(
            "WIREWATCH_BROKER_URL is not set: a worker needs the Redis broker "
            "(in embedded mode `wirewatch run` does the work itself)",
            2,
        )
    try:
        check_migrated(settings.database_url)
    except ConfigError as exc:
        raise fail(str(exc), 2) from None
    logs.configure(settings.log_level)
    from worker.celery_app import app as celery_app

    argv = [
        "worker",
        f"--loglevel={loglevel}",
        "-Q",
        queues,
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    if name:
        argv.append(f"--hostname={name}")
    celery_app.worker_main(argv)


def scheduler() -> None:
    """The polling loop alone: claims due feeds and hands them to the Celery workers."""
    settings = settings_or_exit()
    if settings.embedded:
        raise fail(
            "WIREWATCH_BROKER_URL is not set: the scheduler alone needs the Redis broker "
            "(in embedded mode use `wirewatch run`)",
            2,
        )
    from wirewatch.service import run_forever

    logs.configure(settings.log_level)
    try:
        run_forever(settings, with_api=False)
    except ConfigError as exc:
        raise fail(str(exc), 2) from None


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Create or migrate the database schema (safe to run again)."""
    settings = settings_or_exit()
    upgrade(settings.database_url, revision)
    typer.echo(f"database at revision {current_revision(settings.database_url)}")


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision of the database and the one the code needs."""
    settings = settings_or_exit()
    typer.echo(
        f"database: {current_revision(settings.database_url) or 'not initialised'}; "
        f"code: {head_revision()}"
    )


@db_app.command("check")
def db_check() -> None:
    """Exit non-zero unless the database schema is up to date."""
    settings = settings_or_exit()
    try:
        check_migrated(settings.database_url)
    except ConfigError as exc:
        raise fail(str(exc), 2) from None
    typer.echo("database is up to date")


def _demo_on_fresh_install(settings) -> None:  # noqa: ANN001
    """The first `make run` shows what Wirewatch does before it waits for the user's feeds."""
    from pathlib import Path

    from storage.db import session_scope
    from storage.feeds import list_feeds

    check_migrated(settings.database_url)
    with session_scope(settings.database_url) as session:
        has_feeds = bool(list_feeds(session=session))
    folder = Path("wirewatch-demo")
    if has_feeds or folder.exists() or not err.is_terminal:
        return
    err.print(
        "[bold]First run:[/bold] a local newsroom shows what Wirewatch does "
        "(about 3 minutes; Ctrl-C skips to the service)."
    )
    from wirewatch.cli.demo import demo

    with contextlib.suppress(typer.Exit):  # the demo's own outcome does not stop the service
        demo(directory=folder, duration=180, reset=False, fast=False, as_json=False, no_api=False)
    err.print(
        "\nNow the service, on your own database. Add feeds in another terminal: "
        "[bold]wirewatch feeds add URL[/bold] or [bold]wirewatch feeds import FILE.opml"
        "[/bold]."
    )
