"""The pipeline benchmark's measured runs, each on a fresh database: embedded and distributed
`run --once` and the profiled in-process run (feed-to-alert latency: bench/pipeline_latency.py).

CPU of a `wirewatch` command comes from wait4 (that process and the threads in it), minus the
same command's start-up cost measured on an empty database; CPU of Celery workers is the delta
of their process trees (psutil) across the run.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench import deskrun, newsdesk
from bench.procs import bench_env, run_measured

REDIS = deskrun.REDIS_PIPELINE


def env_for(url: str, **extra: str) -> dict[str, str]:
    return bench_env(
        url,
        WIREWATCH_HOST_CONCURRENCY="64",
        WIREWATCH_ALLOW_INSECURE_WEBHOOKS="true",
        **extra,
    )


class PostgresCPU:
    """Samples the CPU time of the PostgreSQL backends serving one database (they come and go
    with connections: the last reading of each is kept)."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.seen: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for proc in psutil.process_iter(["name", "cmdline"]):
                with contextlib.suppress(psutil.Error, TypeError):
                    cmd = " ".join(proc.info["cmdline"] or [])
                    if cmd.startswith("postgres:") and f" {self.database} " in cmd:
                        t = proc.cpu_times()
                        self.seen[proc.pid] = t.user + t.system
            self._stop.wait(0.5)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return sum(self.seen.values())


@dataclass
class ModeRow:
    mode: str
    workers: int  # 0: embedded
    articles: int
    seconds: float
    cpu: float
    pg_cpu: float | None
    rss: list[list[float]]
    stories: int
    expected_stories: int
    alerts_received: int
    alerts_expected: int
    load: float
    by_state: dict = field(default_factory=dict)
    intrinsic_ms: float = 0.0  # the intrinsic cost measured beside this run (bench/pipeline.py)
    round: int = 0  # of bench/pipeline.py --repeat

    @property
    def per_second(self) -> float:
        return self.articles / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_article(self) -> float:
        return 1000 * self.cpu / max(1, self.articles)

    @property
    def pg_ms_per_article(self) -> float | None:
        return None if self.pg_cpu is None else 1000 * self.pg_cpu / max(1, self.articles)

    @property
    def rss_text(self) -> str:
        return "; ".join(" + ".join(f"{m:.0f}" for m in proc) for proc in self.rss)

    def line(self) -> str:
        return (
            f"  {self.mode}: {self.articles} articles {self.by_state} in {self.seconds:.1f} s = "
            f"{self.per_second:.1f}/s, {self.cpu_ms_per_article:.2f} CPU ms/article, "
            f"stories {self.stories}/{self.expected_stories}, "
            f"alerts {self.alerts_received}/{self.alerts_expected}, load {self.load:.1f}"
        )


def expectations(plan: list[newsdesk.Planned], topics: int) -> tuple[int, int]:
    """(stories, alerts) a perfect run of `plan` ends with: one alert per story and topic."""
    keys = {p.story for p in plan}
    alerts = sum(len(newsdesk.make_story(k, topics=topics).topics) for k in keys)
    return len(keys), alerts


def db_figures(url: str) -> dict:
    from sqlalchemy import func, select

    from storage.db import session_scope
    from storage.models import Article, Delivery, Story

    with session_scope(url) as session:
        by_state = dict(
            session.execute(select(Article.state, func.count()).group_by(Article.state)).all()
        )
        stories = session.execute(
            select(func.count(func.distinct(Article.story_id))).where(Article.story_id.is_not(None))
        ).scalar_one()
        live = session.execute(
            select(func.count()).select_from(Story).where(Story.merged_into_id.is_(None))
        ).scalar_one()
        deliveries = dict(
            session.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all()
        )
    return {"by_state": by_state, "stories": min(stories, live), "deliveries": deliveries}


def received(desk: deskrun.Newsdesk, tag: str) -> list[dict]:
    return [h for h in desk.state()["hooks"] if h["hook"].startswith(f"{tag}-")]


def embedded_once(
    desk: deskrun.Newsdesk,
    tmp: Path,
    *,
    plan: list[newsdesk.Planned],
    topics: int,
    one_cpu: bool = False,
) -> ModeRow:
    """`run --once` on SQLite; `one_cpu`: under `taskset -c N`, the process kept on one core
    (its threads then hand the GIL to each other without moving between cores)."""
    prefix = ("taskset", "-c", str(min(os.sched_getaffinity(0)))) if one_cpu else ()
    tag = "emb1" if one_cpu else "emb"
    with deskrun.temp_database("sqlite", prefix="ww_pipe", folder=tmp) as url:
        env = env_for(url)
        baseline = run_measured(["run", "--once", "--json"], env=env, prefix=prefix)
        baseline.json()
        deskrun.subscribe(url, desk, tag=tag)
        load = os.getloadavg()[0]
        ran = run_measured(["run", "--once", "--json"], env=env, prefix=prefix)
        summary = ran.json()
        figures = db_figures(url)
    hooks = received(desk, tag)
    stories, alerts = expectations(plan, topics)
    return ModeRow(
        mode="embedded: run --once, SQLite, 4 threads"
        + (f", one core ({' '.join(prefix)})" if one_cpu else ""),
        workers=0,
        articles=figures["by_state"].get("processed", 0),
        seconds=summary["seconds"],
        cpu=ran.cpu - baseline.cpu,
        pg_cpu=None,
        rss=[[ran.peak_rss_mib]],
        stories=figures["stories"],
        expected_stories=stories,
        alerts_received=len({h["id"] for h in hooks}),
        alerts_expected=alerts,
        load=load,
        by_state=figures["by_state"],
    )


def in_process(desk: deskrun.Newsdesk, tmp: Path, *, staged: bool):  # noqa: ANN201
    """The pipeline in this process on a fresh SQLite database: each stage timed (`staged`), or
    under pyinstrument."""
    from bench.pipeline_profile import profiled_run, staged_run
    from wirewatch.settings import Settings

    with deskrun.temp_database("sqlite", prefix="ww_pipe", folder=tmp) as url:
        deskrun.subscribe(url, desk, tag="stage" if staged else "prof")
        settings = Settings(
            database_url=url,
            allow_private_networks=True,
            allow_insecure_webhooks=True,
            host_concurrency=64,
        )
        return staged_run(settings) if staged else profiled_run(settings)


def distributed_once(
    desk: deskrun.Newsdesk,
    tmp: Path,
    *,
    workers: int,
    plan: list[newsdesk.Planned],
    topics: int,
    trend_to: int = 0,
    batch: int = 0,
) -> tuple[ModeRow, list[tuple[int, list[list[float]]]]]:
    """`workers` × `wirewatch worker -c 1`; with `trend_to`, further batches of `batch`
    articles are published and processed, and the workers' RSS read after each."""
    import redis

    trend: list[tuple[int, list[list[float]]]] = []
    broker = redis.Redis.from_url(REDIS)
    broker.flushdb()
    with deskrun.temp_database("postgres", prefix="ww_pipe") as url:
        env = env_for(url, WIREWATCH_BROKER_URL=REDIS)
        baseline = run_measured(["run", "--once", "--json"], env=env)
        baseline.json()
        tag = f"d{workers}"
        deskrun.subscribe(url, desk, tag=tag)
        cluster = deskrun.start_workers(env, tmp, count=workers, concurrency=1, tag=tag)
        try:
            pg = PostgresCPU(url.rsplit("/", 1)[-1])
            load = os.getloadavg()[0]
            before = deskrun.cpu_seconds(cluster.pids)
            ran = run_measured(["run", "--once", "--json"], env=env)
            summary = ran.json()
            cpu = deskrun.cpu_seconds(cluster.pids) - before + ran.cpu - baseline.cpu
            pg_cpu = pg.stop()
            rss = [deskrun.rss_mib(pid) for pid in cluster.pids]
            figures = db_figures(url)
            hooks = received(desk, tag)  # the measured batch's alerts, not the trend's
            done = figures["by_state"].get("processed", 0)
            trend.append((done, rss))
            while trend_to and batch and done < trend_to:
                if not desk.publish(batch):
                    break
                run_measured(["run", "--once", "--json"], env=env).json()
                done = db_figures(url)["by_state"].get("processed", 0)
                trend.append((done, [deskrun.rss_mib(pid) for pid in cluster.pids]))
        finally:
            cluster.close()
            broker.flushdb()
    stories, alerts = expectations(plan, topics)
    row = ModeRow(
        mode=f"distributed: {workers} worker{'s' if workers > 1 else ''} × -c 1, PostgreSQL",
        workers=workers,
        articles=figures["by_state"].get("processed", 0),
        seconds=summary["seconds"],
        cpu=cpu,
        pg_cpu=pg_cpu,
        rss=rss,
        stories=figures["stories"],
        expected_stories=stories,
        alerts_received=len({h["id"] for h in hooks}),
        alerts_expected=alerts,
        load=load,
        by_state=figures["by_state"],
    )
    return row, trend if trend_to else []
