"""Running the pipeline and soak benchmarks: the newsdesk process, its feeds and topics in a
database, Celery workers, and the CPU time and memory of every process we start.

The newsdesk listens on 127.0.0.1 (control, webhooks) and on 127.0.0.2 … 127.0.0.<hosts+1>, one
address per group of feeds, all on the same port, so per-host limits act as on distinct sites
(Linux routes all of 127/8 to the loopback interface). If those addresses cannot be bound,
every feed is on 127.0.0.1 and `hosts` says 1.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.procs import BENCH, MiB, start, stop

REDIS_PIPELINE = os.environ.get("WIREWATCH_BENCH_REDIS", "redis://127.0.0.1:6379/12")


@contextlib.contextmanager
def temp_database(kind: str, *, prefix: str, folder: Path | None = None) -> Iterator[str]:
    """A new migrated database ("sqlite" file or "postgres" database named `prefix`_…),
    removed afterwards; yields its SQLAlchemy URL."""
    from bench.benchdb import temp_database as throwaway

    with throwaway(kind, folder=folder, prefix=f"{prefix}_") as url:
        yield url


def _bind(addresses: list[str]) -> tuple[int, list[socket.socket]]:
    """Listening sockets on every address, one port; ([127.0.0.1] only if that fails)."""
    for _ in range(20):
        first = socket.socket()
        first.bind((addresses[0], 0))
        port = first.getsockname()[1]
        socks = [first]
        try:
            for address in addresses[1:]:
                sock = socket.socket()
                socks.append(sock)
                sock.bind((address, port))
        except OSError:
            for sock in socks:
                sock.close()
            continue
        for sock in socks:
            sock.listen(4096)
        return port, socks
    raise OSError("could not bind one port on every address")


class Newsdesk:
    """bench/newsdesk_server.py in its own process; `hosts` addresses carry the feeds. With
    `hub`, it also runs a WebSub hub (at `hub_url`) that its feeds advertise."""

    def __init__(
        self,
        *,
        feeds: int,
        logdir: Path,
        articles: int = 0,
        hosts: int = 20,
        topics: int = 100,
        window: int = 150,
        seed: int = 0,
        pages: str = "lean",
        hub: bool = False,
    ) -> None:
        self.feeds, self.topics = feeds, topics
        try:
            self.port, self.socks = _bind(
                ["127.0.0.1", *(f"127.0.0.{2 + i}" for i in range(hosts))]
            )
            self.hosts = hosts
        except OSError:
            self.port, self.socks = _bind(["127.0.0.1"])
            self.hosts = 1
        self.log = open(logdir / f"newsdesk-{self.port}.log", "wb")  # noqa: SIM115
        args = [sys.executable, str(BENCH / "newsdesk_server.py")]
        for sock in self.socks:
            args += ["--fd", str(sock.fileno())]
        args += ["--feeds", str(feeds), "--articles", str(articles), "--topics", str(topics)]
        args += ["--window", str(window), "--seed", str(seed), "--pages", pages]
        if hub:
            args.append("--hub")
        self.proc = subprocess.Popen(
            args,
            pass_fds=[s.fileno() for s in self.socks],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                self.call("GET", "/robots.txt", raw=True)
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the newsdesk server did not start") from None
                time.sleep(0.1)

    def host(self, feed: int) -> str:
        return "127.0.0.1" if self.hosts == 1 else f"127.0.0.{2 + feed % self.hosts}"

    def feed_url(self, feed: int) -> str:
        return f"http://{self.host(feed)}:{self.port}/f{feed}/feed.xml"

    @property
    def hub_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hub"

    def hook_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{name}"

    def call(self, method: str, path: str, *, raw: bool = False, timeout: float = 120):  # noqa: ANN201
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method)
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return body if raw else json.loads(body)

    def publish(self, count: int) -> int:
        return self.call("POST", f"/_ctl/publish?count={count}")["published"]

    def live(self, count: int = 1) -> list[str]:
        return self.call("POST", f"/_ctl/live?count={count}")["stories"]

    def soak(self, *, rate: float, seconds: float) -> None:
        self.call("POST", f"/_ctl/soak?rate={rate}&seconds={seconds}")

    def state(self) -> dict:
        return self.call("GET", "/_ctl/state", timeout=300)

    def close(self) -> None:
        stop(self.proc)
        for sock in self.socks:
            sock.close()
        self.log.close()


def stop_all(procs: list, cluster: Workers | None) -> None:
    """Stop the service's processes and its workers (again is harmless)."""
    for proc in procs:
        stop(proc)
    if cluster:
        cluster.close()


def publish_and_wait(
    desk: Newsdesk, *, items: int, seconds: float, topics: int, hook_prefix: str
) -> tuple[int, list[dict]]:
    """Publish `items` new stories one by one over `seconds`, then wait (at most 30 s) for all
    the alerts they call for at hooks named `hook_prefix`…; (alerts expected, hooks received)."""
    from bench.newsdesk import make_story

    keys: list[str] = []
    for _ in range(items):
        keys += desk.live(1)
        time.sleep(seconds / items)
    expected = sum(len(make_story(k, topics=topics).topics) for k in keys)
    deadline = time.monotonic() + 30
    while True:
        hooks = [h for h in desk.state()["hooks"] if h["hook"].startswith(hook_prefix)]
        if len({h["id"] for h in hooks}) >= expected or time.monotonic() > deadline:
            return expected, hooks
        time.sleep(1)


def subscribe(
    database_url: str, desk: Newsdesk, *, tag: str, interval: int | None = None
) -> list[int]:
    """Every newsdesk feed (with `interval` as its polling override), and one topic per topic
    word, each with a webhook subscription to the receiver's hook `<tag>-t<i>`. Returns the
    feed ids."""
    from bench.newsdesk import topic_query
    from storage import subscriptions as subscription_store
    from storage import topics as topic_store
    from storage.db import session_scope
    from storage.models import Feed
    from storage.users import get_or_create_user
    from worker.alerts import new_webhook_secret
    from worker.topics import validate_query

    with session_scope(database_url) as session:
        feeds = [Feed(url=desk.feed_url(n), title=f"Outlet {n} News") for n in range(desk.feeds)]
        for feed in feeds:
            feed.interval_override = interval
            session.add(feed)
        session.flush()
        owner = get_or_create_user(session=session, name="admin", is_admin=True).id
        for t in range(desk.topics):
            topic = topic_store.create_topic(
                session=session, owner_id=owner, name=f"t{t}", query=validate_query(topic_query(t))
            )
            subscription_store.create_subscription(
                session=session,
                owner_id=owner,
                topic_id=topic.id,
                channel="webhook",
                target=desk.hook_url(f"{tag}-t{t}"),
                secret=new_webhook_secret(),
            )
        return [f.id for f in feeds]


def tree(pid: int) -> list[psutil.Process]:
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    return []


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes and their live children so far."""
    total = 0.0
    for pid in pids:
        for proc in tree(pid):
            with contextlib.suppress(psutil.Error):
                t = proc.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
    return total


def rss_mib(pid: int) -> list[float]:
    """RSS (MiB) of a process and of each of its children, the process first."""
    out = []
    for proc in tree(pid):
        with contextlib.suppress(psutil.Error):
            out.append(proc.memory_info().rss / MiB)
    return out


@dataclass
class Workers:
    procs: list[subprocess.Popen]
    logs: list[Path]

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def close(self) -> None:
        for proc in self.procs:
            stop(proc)


def start_workers(env: dict, logdir: Path, *, count: int, concurrency: int, tag: str) -> Workers:
    """`count` × `wirewatch worker -c concurrency`, returned once each says it is ready."""
    procs, logs = [], []
    for i in range(count):
        log = logdir / f"worker-{tag}-{i}.log"
        args = ["worker", "-c", str(concurrency), "-n", f"{tag}{i}@%h"]
        procs.append(start(args, env=env, log=log))
        logs.append(log)
    workers = Workers(procs, logs)
    deadline = time.monotonic() + 120
    for proc, log in zip(procs, logs, strict=True):
        while "ready" not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                workers.close()
                raise RuntimeError(f"worker did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
    return workers


def load_note() -> tuple[float, str]:
    """The 1-minute load average and a warning when the machine is not idle."""
    load = os.getloadavg()[0]
    cores = os.cpu_count() or 1
    if load > 0.5 * cores:
        return load, (
            f"load average {load:.1f} on {cores} cores: other processes are using the machine, "
            "throughput, CPU and scaling figures are not representative"
        )
    return load, ""
