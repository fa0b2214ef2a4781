"""The pipeline benchmark's latency runs: items published one by one, each timed from its
appearance in a feed to its alert at the receiver, with a 1-second poll or with WebSub push from
the newsdesk's hub (bench/newsdesk_hub.py), embedded and distributed."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench import deskrun
from bench.pipeline_modes import REDIS, env_for
from bench.procs import start


@dataclass
class Latency:
    mode: str
    items: int  # alerts expected
    values: list[float]
    load: float = 0.0
    cpu: float | None = None  # CPU seconds of the service's processes while items were published
    polls: int = 0  # feed documents served (200 or 304) while items were published
    pushes: int = 0  # feed documents pushed by the hub meanwhile

    def q(self, fraction: float) -> float | None:
        if not self.values:
            return None
        ordered = sorted(self.values)
        return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]

    @property
    def p50(self) -> float | None:
        return statistics.median(self.values) if self.values else None

    @property
    def p95(self) -> float | None:
        return self.q(0.95)

    @property
    def max(self) -> float | None:
        return max(self.values) if self.values else None

    def line(self) -> str:
        return (
            f"  latency {self.mode}: {len(self.values)}/{self.items} alerts, p50 "
            f"{self.p50 or 0:.2f} s, p95 {self.p95 or 0:.2f} s, service CPU {self.cpu or 0:.1f} s, "
            f"{self.polls} feed polls, {self.pushes} pushes, load {self.load:.1f}"
        )


PUSH_POLL_INTERVAL = 300  # with push, the measured feeds are polled this seldom: only push is fast


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, log: Path, *, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer:\n{log.read_text()[-3000:]}") from None
            time.sleep(0.2)


def wait_for_feeds(
    url: str, *, feeds: int, push: bool, desk: deskrun.Newsdesk, logs: list[Path]
) -> None:
    """Until every feed has been polled once and, with push, its WebSub subscription is active;
    a RuntimeError that says where it stopped otherwise."""
    from sqlalchemy import func, select

    from storage.db import session_scope
    from storage.models import Feed

    deadline = time.monotonic() + 120
    while True:
        with session_scope(url) as session:
            polled = session.execute(
                select(func.count()).select_from(Feed).where(Feed.last_polled_at.is_not(None))
            ).scalar_one()
            states = dict(
                session.execute(select(Feed.websub_state, func.count()).group_by(Feed.websub_state))
                .tuples()
                .all()
            )
            errors = (
                session.execute(
                    select(Feed.websub_error).where(Feed.websub_error.is_not(None)).limit(3)
                )
                .scalars()
                .all()
            )
        if polled >= feeds and (not push or states.get("active", 0) >= feeds):
            return
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {log.name}:\n{log.read_text()[-1500:]}" for log in logs)
            what = "polled" if polled < feeds else "subscribed through the WebSub hub"
            raise RuntimeError(
                f"the feeds were never all {what}: {polled}/{feeds} polled, WebSub states "
                f"{states}, errors {errors}, hub {desk.state()['hub']}\n{tails}"
            )
        time.sleep(0.5)


def latency(  # noqa: C901, PLR0915
    mode: str,
    tmp: Path,
    *,
    feeds: int,
    topics: int,
    items: int,
    seconds: float,
    pages: str = "lean",
    push: bool = False,
) -> Latency:
    """Publish `items` stories one by one over `seconds`; time each from its appearance in a
    feed to its alert at the receiver. Polling: feeds are polled every second, the scheduler
    ticks 0.25 s. Push: the newsdesk's WebSub hub pushes each change to the service's callback
    (the API: in `wirewatch run`, or `wirewatch api` beside the scheduler), feeds are polled
    every 300 s, and publishing starts once every subscription is verified."""
    import redis

    desk = deskrun.Newsdesk(feeds=feeds, topics=topics, logdir=tmp, pages=pages, hub=push)
    procs: list[subprocess.Popen] = []
    logs: list[Path] = []
    cluster = None
    kind = "sqlite" if mode == "embedded" else "postgres"
    name = f"{mode}-{'push' if push else 'poll'}"
    try:
        with deskrun.temp_database(kind, prefix="ww_pipe", folder=tmp) as url:
            extra = {"WIREWATCH_POLL_MIN_INTERVAL": "1", "WIREWATCH_SCHEDULER_TICK": "0.25"}
            if push:
                port = free_port()
                extra |= {
                    "WIREWATCH_API_HOST": "127.0.0.1",
                    "WIREWATCH_API_PORT": str(port),
                    "WIREWATCH_PUBLIC_URL": f"http://127.0.0.1:{port}",
                }
            interval = PUSH_POLL_INTERVAL if push else 1
            if mode == "embedded":
                env = env_for(url, **extra)
                deskrun.subscribe(url, desk, tag="lat", interval=interval)
                logs.append(tmp / f"latency-{name}-run.log")
                procs.append(start(["run"] if push else ["run", "--no-api"], env=env, log=logs[-1]))
            else:
                redis.Redis.from_url(REDIS).flushdb()
                env = env_for(url, WIREWATCH_BROKER_URL=REDIS, **extra)
                deskrun.subscribe(url, desk, tag="lat", interval=interval)
                cluster = deskrun.start_workers(env, tmp, count=2, concurrency=1, tag="lat")
                logs += cluster.logs
                if push:  # the callback must answer before the first poll subscribes
                    logs.append(tmp / f"latency-{name}-api.log")
                    procs.append(start(["api"], env=env, log=logs[-1]))
                    wait_until_up(f"http://127.0.0.1:{port}/healthz", procs[-1], logs[-1])
                logs.append(tmp / f"latency-{name}-scheduler.log")
                procs.append(start(["scheduler"], env=env, log=logs[-1]))
            wait_for_feeds(url, feeds=feeds, push=push, desk=desk, logs=logs)
            pids = [p.pid for p in procs] + (cluster.pids if cluster else [])
            load = os.getloadavg()[0]
            before = desk.state()
            cpu_before = deskrun.cpu_seconds(pids)
            expected, hooks = deskrun.publish_and_wait(
                desk, items=items, seconds=seconds, topics=topics, hook_prefix="lat-"
            )
            state = desk.state()
            cpu = deskrun.cpu_seconds(pids) - cpu_before
            deskrun.stop_all(procs, cluster)
    finally:
        deskrun.stop_all(procs, cluster)
        desk.close()
    first: dict[str, float] = {}
    values = []
    for h in sorted(hooks, key=lambda h: h["at"]):
        if h["id"] in first:
            continue
        first[h["id"]] = h["at"]
        published = state["first_published"].get(h["story"] or "")
        if published is not None:
            values.append(h["at"] - published)

    def served(s: dict) -> int:
        return s["stats"].get("feed_200", 0) + s["stats"].get("feed_304", 0)

    def pushed(s: dict) -> int:
        return (s["hub"] or {}).get("stats", {}).get("push_ok", 0)

    label = (
        "embedded: wirewatch run" if mode == "embedded" else "distributed: scheduler + 2 workers"
    )
    if push:
        label = (
            "embedded, WebSub push: wirewatch run (API = callback)"
            if mode == "embedded"
            else "distributed, WebSub push: scheduler + 2 workers + wirewatch api"
        )
    return Latency(
        label,
        expected,
        values,
        load,
        cpu=cpu,
        polls=served(state) - served(before),
        pushes=pushed(state) - pushed(before),
    )
