"""One demo run: newsroom up, folder ready, the embedded service and API running, figures
reported until the run is over, then everything stopped and joined, and a summary returned."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from scheduler.loop import run_loop
from storage.models import utcnow
from wirewatch import logs
from wirewatch.demo.figures import Figures, read_figures
from wirewatch.demo.folder import (
    LOG_FILE,
    DemoTopic,
    Folder,
    owner_key,
    prepare_folder,
    subscribe_demo,
)
from wirewatch.demo.inbox import Inbox, Received
from wirewatch.demo.newsroom import Newsroom, outlets_in
from wirewatch.demo.plan import publishing_plan
from wirewatch.service import embedded_dispatcher, start_api_thread
from wirewatch.settings import Settings, load_settings

log = logging.getLogger(__name__)

FAST_WINDOW = 4.0  # --fast: every item is out within this many seconds
FAST_TIMEOUT = 90.0  # --fast: give up waiting for the work after this long
FINISH_GRACE = 30.0  # after --duration, wait at most this long for work still in progress
REFRESH = 0.5


@dataclass(frozen=True)
class DemoOptions:
    directory: Path
    duration: float = 180.0
    fast: bool = False
    reset: bool = False
    api: bool = True
    workers: int = 4

    @property
    def window(self) -> float:
        """Seconds over which the newsroom publishes its items."""
        return FAST_WINDOW if self.fast else max(5.0, self.duration * 0.7)

    @property
    def poll_interval(self) -> int:
        return 1 if self.fast else 2


@dataclass
class DemoState:
    """What the live view shows; the last one is the summary."""

    options: DemoOptions
    folder: Folder
    newsroom_url: str
    api_url: str | None
    planned: int
    outlets: int
    topics: list[DemoTopic]
    api_key: str | None = None  # a fresh key of the demo's admin, for the API and web UI
    elapsed: float = 0.0
    published: int = 0
    feed_requests: int = 0
    not_modified: int = 0
    pages_served: int = 0
    figures: Figures = field(default_factory=Figures)
    alerts: list[Received] = field(default_factory=list)
    finished: bool = False  # all published, polled, processed and alerted
    interrupted: bool = False

    def summary(self) -> dict:
        received = {}
        for r in self.alerts:
            if r.verified:
                received.setdefault(r.hook, set()).add(r.message_id)
        figures = self.figures.as_dict()
        for t in figures["topics"]:
            t["received"] = len(received.get(t["hook"], ()))
        return {
            "finished": self.finished,
            "interrupted": self.interrupted,
            "seconds": round(self.elapsed, 1),
            "directory": str(self.folder.path),
            "database_url": self.folder.database_url,
            "edition": self.folder.edition,
            "reused": self.folder.reused,
            "newsroom_url": self.newsroom_url,
            "api_url": self.api_url,
            "outlets": self.outlets,
            "planned": self.planned,
            "published": self.published,
            "feed_requests": self.feed_requests,
            "not_modified": self.not_modified,
            "pages_served": self.pages_served,
            **figures,
            "alerts_received": sum(len(ids) for ids in received.values()),
        }


def demo_settings(folder: Folder, options: DemoOptions) -> Settings:
    """The demo's own settings: its database, fast polling, and the private-network guard off
    for this process only, because the demo's newsroom and receivers are on 127.0.0.1."""
    return load_settings(
        database_url=folder.database_url,
        broker_url=None,
        allow_private_networks=True,
        poll_min_interval=1,
        poll_jitter=0,
        scheduler_tick=0.25 if options.fast else 0.5,
        embedded_workers=options.workers,
        connect_timeout=5,
        read_timeout=5,
        total_timeout=10,
        api_host="127.0.0.1",
        api_port=0,
        log_level="INFO",
    )


def run_demo(
    options: DemoOptions,
    *,
    stop: threading.Event,
    on_update: Callable[[DemoState], None] = lambda state: None,
) -> DemoState:
    """Run the demo until it is over (`--fast`: the work is done; otherwise `duration` seconds)
    or `stop` is set; everything it started is stopped before it returns the final state."""
    folder = prepare_folder(options.directory, reset=options.reset)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    with open(folder.path / LOG_FILE, "w", encoding="utf-8") as log_file:
        logs.configure("INFO", stream=log_file)  # the service's lines go to the folder's log
        try:
            return _run(options, folder, stop, on_update)
        finally:
            root.handlers[:], root.level = handlers, level


def _run(options, folder, stop, on_update) -> DemoState:  # noqa: ANN001
    settings = demo_settings(folder, options)
    plan = publishing_plan()
    inbox = Inbox()
    newsroom = Newsroom(plan, window=options.window, edition=folder.edition, inbox=inbox)
    loop_stop = threading.Event()
    dispatcher = loop = api = None
    try:
        feed_ids, topics = subscribe_demo(
            folder,
            feed_urls={slug: newsroom.feed_url(slug) for slug in outlets_in(plan)},
            hook_urls={h: newsroom.hook_url(h) for h in ("counter", "console")},
            interval=options.poll_interval,
        )
        inbox.secrets.update({t.hook: t.secret for t in topics})
        api = start_api_thread(settings) if options.api else None
        state = DemoState(
            options=options,
            folder=folder,
            newsroom_url=newsroom.url("/"),
            api_url=_api_url(api),
            planned=len(plan),
            outlets=len(feed_ids),
            topics=topics,
            api_key=owner_key(folder) if api is not None else None,
        )
        dispatcher = embedded_dispatcher(settings)
        loop = threading.Thread(
            target=run_loop,
            name="demo-scheduler",
            kwargs={"settings": settings, "dispatcher": dispatcher, "stop": loop_stop},
        )
        began, since = time.monotonic(), utcnow()
        newsroom.open()
        loop.start()
        log.info("demo started", extra={"edition": folder.edition, "newsroom": newsroom.port})
        idle_checks = 0
        while True:
            state.elapsed = time.monotonic() - began
            _observe(state, newsroom, inbox, settings, feed_ids, topics, since)
            idle = (
                newsroom.caught_up
                and state.figures.articles >= len(plan)
                and state.figures.unfinished == 0
                and state.figures.alerts_due == 0
            )
            idle_checks = idle_checks + 1 if idle else 0
            state.finished = idle_checks >= 2
            on_update(state)
            if stop.is_set():
                state.interrupted = True
                break
            if options.fast and (state.finished or state.elapsed > FAST_TIMEOUT):
                break
            if (
                not options.fast
                and state.elapsed >= options.duration
                and (state.finished or state.elapsed >= options.duration + FINISH_GRACE)
            ):
                break
            stop.wait(REFRESH)
    finally:
        loop_stop.set()
        if loop is not None and loop.is_alive():
            loop.join(timeout=30)
        if dispatcher is not None:
            dispatcher.close()
        if api is not None:
            api.should_exit = True
            for thread in threading.enumerate():
                if thread.name == "wirewatch-api":
                    thread.join(timeout=10)
        newsroom.close()
    _observe(state, newsroom, inbox, settings, feed_ids, topics, since)
    log.info("demo stopped", extra={"finished": state.finished})
    return state


def _observe(state, newsroom, inbox, settings, feed_ids, topics, since) -> None:  # noqa: ANN001
    state.published = len(newsroom.published())
    stats = newsroom.counts()
    state.feed_requests = stats.get("feeds_200", 0) + stats.get("feeds_304", 0)
    state.not_modified = stats.get("feeds_304", 0)
    state.pages_served = stats.get("pages", 0)
    state.alerts = inbox.snapshot()
    state.figures = read_figures(
        settings.database_url, feed_ids=feed_ids, topics=topics, since=since
    )


def _api_url(server) -> str | None:  # noqa: ANN001
    """The address the API thread listens on, once it is up (it binds a free port)."""
    if server is None:
        return None
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        host, port = server.servers[0].sockets[0].getsockname()[:2]
    except (AttributeError, IndexError):
        return None
    return f"http://{host}:{port}/"
