"""`wirewatch demo`: see Wirewatch work on a local newsroom in a few minutes, nothing to set up."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path

import typer
from rich.console import Console
from rich.live import Live

from wirewatch.cli import fail
from wirewatch.errors import ConfigError


def demo(
    directory: Path = typer.Option(
        Path("wirewatch-demo"), "--dir", help="Folder for the demo's database and log."
    ),
    duration: float = typer.Option(
        180, "--duration", min=10, help="Seconds the demo runs (items appear over 70% of it)."
    ),
    reset: bool = typer.Option(False, "--reset", help="Empty the demo folder first."),
    fast: bool = typer.Option(
        False, "--fast", help="Publish everything within seconds and exit when the work is done."
    ),
    as_json: bool = typer.Option(False, "--json", help="No live view; the summary as JSON."),
    no_api: bool = typer.Option(False, "--no-api", help="Do not serve the API and web UI."),
) -> None:
    """A local newsroom of seven outlets publishes stories and republished wire copies; an
    embedded Wirewatch polls them, cleans the pages, joins the copies into stories and sends
    alerts for two topics. Runs in its own folder and database; Ctrl-C stops it."""
    stop = threading.Event()
    _stop_on_signals(stop)
    from wirewatch.demo import DemoOptions, run_demo
    from wirewatch.demo.view import live_view, summary_view

    options = DemoOptions(
        directory=directory, duration=duration, fast=fast, reset=reset, api=not no_api
    )
    console = Console()
    try:
        if as_json:
            state = run_demo(options, stop=stop)
        else:
            with Live(console=console, refresh_per_second=4, transient=False) as live:
                state = run_demo(options, stop=stop, on_update=lambda s: live.update(live_view(s)))
    except ConfigError as exc:
        raise fail(str(exc), 2) from None
    summary = state.summary()
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        console.print(summary_view(summary))
    if not (summary["finished"] or summary["interrupted"]):
        raise fail("the demo ended with work unfinished; see demo.log in the demo folder")


def _stop_on_signals(stop: threading.Event) -> None:
    """The first Ctrl-C (or SIGTERM) ends the demo cleanly; a second one interrupts at once."""

    def handle(signum, _frame) -> None:  # noqa: ANN001
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
