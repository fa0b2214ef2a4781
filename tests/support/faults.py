"""Fault injection for tests: a private Redis and PostgreSQL the test may restart or flush, slow
and failing HTTP endpoints, a webhook receiver that counts by webhook-id, and the end-of-test
checks every fault must pass (each entry stored once or failed with a reason, one alert per
story and subscription, no duplicate rows)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import pytest
import redis
from sqlalchemy import func, select

from storage import feeds as feed_store
from storage import subscriptions as subscription_store
from storage import topics as topic_store
from storage.db import get_engine, session_scope
from storage.migrate import upgrade
from storage.models import Article, Delivery, Story, StoryTopic
from storage.users import get_or_create_user
from tests.support.feeds import article_page, rss
from tests.support.processes import Processes, wait_for, wirewatch_env
from worker.alerts import new_webhook_secret

PG_BIN = Path("/usr/lib/postgresql")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(condition, *, timeout: float, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if condition():
                return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class PrivateRedis:
    """A redis-server of the test's own (append-only file in `workdir`), leaving 6379 alone."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.start()

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=5)

    def start(self) -> None:
        log = open(self.workdir / "redis.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.workdir),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
                "--maxmemory-policy",
                "noeviction",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        _wait(lambda: self.client().ping(), timeout=10, what="the private Redis")

    def stop(self) -> None:
        """A clean shutdown (the append-only file keeps every message)."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def restart(self, *, down_for: float = 0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()

    def flushall(self) -> None:
        self.client().flushall()

    def close(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own (initdb in a temporary folder, run as `postgres`),
    so restarting it does not disturb anything else on the machine. Always stopped by close()."""

    def __init__(self) -> None:
        versions = sorted(PG_BIN.glob("*/bin/pg_ctl"))
        if not versions:
            raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
        self.bin = versions[-1].parent
        self.root = Path(tempfile.mkdtemp(prefix="ww-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        shutil.chown(self.root, "postgres", "postgres")
        self._as_postgres(
            [
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
            ]
        )
        self.start()

    def _as_postgres(self, args: list[str]) -> None:
        cmd = args if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--", *args]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def _pg_ctl(self, *args: str) -> None:
        opts = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        self._as_postgres(
            [
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.root / "server.log"),
                "-o",
                opts,
                "-w",
                "-t",
                "60",
                *args,
            ]
        )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def answers(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.url().replace("+psycopg", ""), connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def start(self) -> None:
        self._pg_ctl("start")
        _wait(self.answers, timeout=30, what="the private PostgreSQL")

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("stop", "-m", mode)

    def restart(self, *, down_for: float = 0) -> None:
        """Stop (connections cut), stay down `down_for` seconds, start, wait until it answers."""
        self.stop("fast")
        time.sleep(down_for)
        self.start()

    def create_database(self, name: str = "wirewatch") -> str:
        import psycopg

        with psycopg.connect(self.url().replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = self.url(name)
        upgrade(url)
        return url

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class Webhook:
    """A webhook endpoint on its own port that can go down (connection refused), fail with 500,
    hang, or be slow, and come back on the same address. Counts receipts by webhook-id."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mode = "ok"  # ok | fail | hang | slow
        self.delay = 0.0
        self.receipts: list[str] = []  # webhook-id of every request received
        self.accepted: list[str] = []  # webhook-id of every request answered 2xx
        self.arrived = threading.Event()
        self._lock = threading.Lock()
        self._release = threading.Event()
        self.httpd: ThreadingHTTPServer | None = None
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def up(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("content-length") or 0))
                outer._handle(self)

            def log_message(self, *args) -> None:  # noqa: ANN002
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def down(self) -> None:
        """Close the listening socket: senders get `connection refused`."""
        if self.httpd is not None:
            self._release.set()
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
            self._release.clear()

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        wid = request.headers.get("webhook-id", "")
        with self._lock:
            self.receipts.append(wid)
        self.arrived.set()
        mode = self.mode
        if mode == "hang":  # never answers: the sender's deadline runs out first
            self._release.wait(60)
            return
        if mode == "slow":
            self._release.wait(self.delay)
        status = 500 if mode == "fail" else 200
        body = b"ok"
        with contextlib.suppress(OSError):
            request.send_response(status)
            request.send_header("Content-Length", str(len(body)))
            request.end_headers()
            request.wfile.write(body)
            if status == 200:
                with self._lock:
                    self.accepted.append(wid)

    def set_mode(self, mode: str, delay: float = 0.0) -> None:
        self.mode, self.delay = mode, delay
        if mode == "ok":
            self._release.set()
            time.sleep(0.05)
            self._release.clear()

    def close(self) -> None:
        self.down()


class SlowPages:
    """Article pages that take `delay` seconds to answer, so a kill lands mid-fetch.
    `started` is set when the first slow request arrives; `slow = False` makes them fast."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.slow = True
        self.started = threading.Event()

    def wrap(self, body: bytes):  # noqa: ANN201
        def handler(_request):  # noqa: ANN001, ANN202
            if self.slow:
                self.started.set()
                time.sleep(self.delay)
            return 200, {"Content-Type": "text/html; charset=utf-8"}, body

        return handler


def publish_feeds(
    server,
    *,
    feeds: int,
    items: int,
    prefix: str = "f",
    pages: SlowPages | None = None,
    polls: dict[int, list[float]] | None = None,
) -> list[str]:  # noqa: ANN001
    """`feeds` feeds of `items` distinct stories each on the local server; returns feed URLs.
    `polls`, when given, collects the monotonic time of every request of feed number f."""
    urls = []
    for f in range(feeds):
        entries = []
        for i in range(items):
            title = f"Story {prefix}{f}-{i} about the harbour crane strike number {f * 100 + i}"
            paras = [
                f"Dockers at harbour {f * 100 + i} walked out on strike on Monday over pay and "
                f"shift patterns, halting the cranes at berth {i} for the {f}th time this year.",
                f"The port authority of district {f * 31 + i * 7} said talks would resume on "
                f"Thursday; unions in sector {i * 13 + f} warned the strike could spread.",
                f"Shipping lines diverted {f + i + 3} vessels to other terminals, and freight "
                f"rates on route {f}-{i} rose sharply, according to brokers.",
            ]
            body = article_page(title, paras, site=f"outlet-{prefix}{f}").encode()
            path = f"/{prefix}{f}/{i}.html"
            if pages is not None:
                link = server.route(path, handler=pages.wrap(body))
            else:
                link = server.route(path, body, headers={"Content-Type": "text/html"})
            entries.append({"title": title, "link": link, "guid": f"{prefix}{f}-{i}"})
        xml = rss(entries, title=f"outlet-{prefix}{f}").encode()
        if polls is None:
            urls.append(
                server.route(
                    f"/{prefix}{f}.xml", xml, headers={"Content-Type": "application/rss+xml"}
                )
            )
        else:
            urls.append(server.route(f"/{prefix}{f}.xml", handler=_timed(polls, f, xml)))
    return urls


def _timed(polls: dict[int, list[float]], number: int, body: bytes):  # noqa: ANN202
    polls[number] = []

    def handler(_request):  # noqa: ANN001, ANN202
        polls[number].append(time.monotonic())
        return 200, {"Content-Type": "application/rss+xml"}, body

    return handler


def subscribe(
    db_url: str,
    feed_urls: list[str],
    *,
    hook_url: str | None = None,
    query: str = "harbour AND strike",
) -> None:
    """Add the feeds and, with `hook_url`, a topic matching every story with a webhook on it."""
    with session_scope(db_url) as s:
        for url in feed_urls:
            feed_store.add_feed(session=s, url=url)
        if hook_url:
            owner = get_or_create_user(session=s, name="desk").id
            topic = topic_store.create_topic(session=s, owner_id=owner, name="strikes", query=query)
            subscription_store.create_subscription(
                session=s,
                owner_id=owner,
                topic_id=topic.id,
                channel="webhook",
                target=hook_url,
                secret=new_webhook_secret(),
            )


def settled(db_url: str, *, articles: int, deliveries: int | None = None) -> bool:
    """Every expected article is final (processed or failed) and every alert is sent."""
    with session_scope(db_url) as s:
        final = s.execute(
            select(func.count())
            .select_from(Article)
            .where(Article.state.in_(("processed", "failed")))
        ).scalar_one()
        if final < articles:
            return False
        if deliveries is None:
            return True
        sent = s.execute(
            select(func.count()).select_from(Delivery).where(Delivery.state == "sent")
        ).scalar_one()
        return sent >= deliveries


def check_invariants(db_url: str, *, articles: int, hook: Webhook | None = None) -> dict:
    """The end state every fault test must reach; returns counts for the test to report."""
    with session_scope(db_url) as s:
        rows = s.execute(
            select(
                Article.feed_id, Article.entry_key, Article.state, Article.error, Article.story_id
            )
        ).all()
        keys = Counter((r.feed_id, r.entry_key) for r in rows)
        assert len(rows) == articles, f"{len(rows)} articles stored, {articles} expected"
        assert max(keys.values()) == 1, "an entry was stored twice"
        for r in rows:
            assert r.state in ("processed", "failed"), f"{r.entry_key} left {r.state}"
            if r.state == "failed":
                assert r.error, f"{r.entry_key} failed without a reason"
            else:
                assert r.story_id is not None, f"{r.entry_key} processed without a story"
        deliveries = s.execute(
            select(Delivery.id, Delivery.subscription_id, Delivery.story_id, Delivery.state)
        ).all()
        pairs = Counter((d.subscription_id, d.story_id) for d in deliveries)
        assert not pairs or max(pairs.values()) == 1, "two alerts for one story"
        st = Counter(s.execute(select(StoryTopic.story_id, StoryTopic.topic_id)).all())
        assert not st or max(st.values()) == 1
        live = s.execute(
            select(func.count()).select_from(Story).where(Story.merged_into_id.is_(None))
        ).scalar_one()
    summary = {
        "articles": len(rows),
        "stories": live,
        "deliveries": len(deliveries),
        "failed": sum(r.state == "failed" for r in rows),
    }
    if hook is not None:
        assert all(d.state == "sent" for d in deliveries), [d.state for d in deliveries]
        expected = {f"msg_{d.id}" for d in deliveries}
        assert set(hook.accepted) == expected, (sorted(set(hook.accepted)), sorted(expected))
        summary["receipts"] = len(hook.receipts)
        summary["repeats"] = len(hook.receipts) - len(set(hook.receipts))
    return summary


def pool_children(proc: subprocess.Popen) -> list[psutil.Process]:
    """The pool processes of a Celery worker started by `Processes.start`."""
    try:
        return psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def kill_children(proc: subprocess.Popen) -> int:
    children = pool_children(proc)
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
    return len(children)


def dispose_engine(db_url: str) -> None:
    get_engine(db_url).dispose()


def make_deliveries_due(db_url: str) -> int:
    """Pull every pending alert's next attempt into the past (the sweep's grace included), as if
    the retry schedule's wait had passed."""
    from datetime import timedelta

    from sqlalchemy import update

    from storage.models import utcnow

    with session_scope(db_url) as s:
        return s.execute(
            update(Delivery)
            .where(Delivery.state == "pending")
            .values(next_attempt_at=utcnow() - timedelta(seconds=60))
        ).rowcount


class TinyDisk:
    """A small tmpfs mounted for the test: fill it up, make it read-only, and back. Needs root."""

    def __init__(self, path: Path, *, size: str = "8m") -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
            check=True,
            capture_output=True,
        )
        self.filler = path / "filler"

    def read_only(self) -> None:
        subprocess.run(["mount", "-o", "remount,ro", str(self.path)], check=True)

    def read_write(self) -> None:
        subprocess.run(["mount", "-o", "remount,rw", str(self.path)], check=True)

    def fill(self) -> None:
        """Use up every free byte."""
        with open(self.filler, "ab") as out, contextlib.suppress(OSError):
            while True:
                out.write(b"\0" * 65536)
                out.flush()

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.read_write()
        subprocess.run(["umount", "-l", str(self.path)], capture_output=True)


# --- the distributed fault-test cluster and its fixtures (registered in tests/conftest.py) ---

STUCK_AFTER = 10
SWEEP_INTERVAL = 1
TICK = 0.5
TOTAL_TIMEOUT = 4
# A killed worker's work is handed out again within stuck_after + sweep_interval + tick.
BOUND = STUCK_AFTER + SWEEP_INTERVAL + TICK


class Cluster:
    """A private Redis, a migrated database, and `wirewatch worker` / `scheduler` processes."""

    def __init__(self, db_url: str, redis: PrivateRedis, procs: Processes, **env: str) -> None:
        self.db_url, self.redis, self.procs = db_url, redis, procs
        self.env = wirewatch_env(
            db_url,
            WIREWATCH_BROKER_URL=redis.url(),
            WIREWATCH_STUCK_AFTER=str(STUCK_AFTER),
            WIREWATCH_SWEEP_INTERVAL=str(SWEEP_INTERVAL),
            WIREWATCH_SCHEDULER_TICK=str(TICK),
            WIREWATCH_POLL_LEASE="10",
            WIREWATCH_REDIS_VISIBILITY_TIMEOUT="60",
            WIREWATCH_TASK_TIME_LIMIT="30",
            WIREWATCH_CONNECT_TIMEOUT="2",
            WIREWATCH_READ_TIMEOUT=str(TOTAL_TIMEOUT),
            WIREWATCH_TOTAL_TIMEOUT=str(TOTAL_TIMEOUT),
            WIREWATCH_ALLOW_INSECURE_WEBHOOKS="true",
            **env,
        )

    def worker(self, name: str = "w0", concurrency: int = 2):  # noqa: ANN201
        return self.procs.start(
            name, ["worker", "-c", str(concurrency), "-n", f"{name}@%h"], self.env
        )

    def scheduler(self, name: str = "scheduler"):  # noqa: ANN201
        return self.procs.start(name, ["scheduler"], self.env)

    def kill_all(self) -> None:
        """End of test: SIGKILL every process group (a clean shutdown is not what is tested)."""
        for _, proc in self.procs.procs:
            self.procs.stop(proc, signal.SIGKILL)

    def wait_settled(self, *, articles: int, deliveries: int | None, timeout: float) -> float:
        began = time.monotonic()
        wait_for(
            lambda: settled(self.db_url, articles=articles, deliveries=deliveries),
            timeout=timeout,
            message=f"{articles} final articles, {deliveries} alerts sent",
            interval=0.2,
        )
        return time.monotonic() - began


@pytest.fixture
def redis_server(tmp_path):
    server = PrivateRedis(tmp_path / "redis")
    yield server
    server.close()


@pytest.fixture
def hook():
    hook = Webhook()
    yield hook
    hook.close()


@pytest.fixture
def cluster(pg_url, redis_server, tmp_path):
    cluster = Cluster(pg_url, redis_server, Processes(tmp_path))
    yield cluster
    cluster.kill_all()


def fetching(db_url: str) -> int:
    from sqlalchemy import func, select

    from storage.db import session_scope
    from storage.models import Article

    with session_scope(db_url) as s:
        return s.execute(
            select(func.count()).select_from(Article).where(Article.state == "fetching")
        ).scalar_one()
