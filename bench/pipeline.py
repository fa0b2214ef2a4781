"""How close the whole pipeline runs to its limit: throughput, CPU per article against the
intrinsic cost, scaling with workers, feed-to-alert latency and worker memory, in one run.

Usage: .venv/bin/python bench/pipeline.py [--articles 2000] [--feeds 20] [--trend 10000]
           [--latency-seconds 60] [--pages real|lean] [--skip distributed,latency,push,…]

A local newsdesk (bench/newsdesk_server.py, its own process) serves K outlets on 127.0.0.2…,
M articles of 600-900 words in the demo's page templates, ~30% of them republished wire copies,
and receives the webhooks of 100 topics. With --pages real (the default) each page also carries a
live news site's weight of chrome (bench/page_weight.py: ~125 KB and ~760 elements, as the
median page of our extraction corpora: 140 KB, 811 elements), since the cleaner's cost, the
denominator of the ratio, grows with the page; --pages lean serves the templates alone (8 KB).
Every figure comes from real processes:
  embedded      `wirewatch run --once --json` on SQLite; CPU and peak RSS from wait4
  one-core      the same under `taskset -c N` (kept on one core: its threads no longer pass the
                GIL between cores, which costs CPU when the other core is idle)
  distributed   `wirewatch worker -c 1` × 1 and × 2 on PostgreSQL + Redis, `run --once` handing
                out the work; CPU = workers' process trees (psutil) + the run --once process;
                PostgreSQL backends of the benchmark's database are shown apart
  intrinsic     the same pages through worker.feeds.parse_feed + worker.extract.extract_article
                alone in this process (resource.getrusage), measured before the first run and
                again after each: each run's ratio is against the mean of the two measurements
                around it (a virtual machine's speed drifts by 10-20% over minutes)
  stages        the same work in this process on one thread, each stage timed with the
                thread's CPU clock (no profiler): where the CPU beyond the intrinsic cost goes
  profile       the same work in this process on one thread under pyinstrument
  latency       items published one by one (poll interval 1 s, scheduler tick 0.25 s):
                `wirewatch run` (embedded) and `wirewatch scheduler` + 2 workers (distributed)
  push          the same with WebSub: the newsdesk runs a hub, the service subscribes through
                it (WIREWATCH_PUBLIC_URL = its API: `wirewatch run`, or `wirewatch api` beside
                the scheduler), feeds are polled every 300 s, so only the hub's push is fast
  trend         with --trend N, the 2-worker cluster is fed further batches up to N articles and
                the RSS of each worker process is read after each batch
PostgreSQL at 127.0.0.1:5432 (WIREWATCH_BENCH_PG, a fresh database, dropped afterwards), Redis
DB 12 (WIREWATCH_BENCH_REDIS, flushed). Settings: private networks allowed (everything is local),
insecure (http) webhooks allowed, host concurrency 64, robots.txt honoured (all allowed).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bench import deskrun, newsdesk, pipeline_latency, pipeline_modes  # noqa: E402
from bench.pipeline_profile import IntrinsicWork  # noqa: E402

console = Console(width=int(os.environ.get("COLUMNS", "220")))
GOAL_RATIO, GOAL_SCALING, GOAL_P95 = 1.5, 1.8, 2.0
PARTS = ("embedded", "one-core", "distributed", "stages", "profile", "latency", "push")


def ok(good: bool) -> str:
    return "[green]✓[/green]" if good else "[red]✗[/red]"


def f1(x: float | None, fmt: str = ".1f") -> str:
    return "–" if x is None else format(x, fmt)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--feeds", type=int, default=20, help="outlets (one host each)")
    parser.add_argument("--topics", type=int, default=100)
    parser.add_argument("--trend", type=int, default=0, help="feed the 2 workers up to N articles")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run each throughput mode N times (rounds), then show each mode's median ratio",
    )
    parser.add_argument("--latency-seconds", type=float, default=60)
    parser.add_argument("--latency-items", type=int, default=30)
    parser.add_argument(
        "--pages",
        choices=newsdesk.PAGE_WEIGHTS,
        default="real",
        help="real: pages with a live news site's weight of chrome (~125 KB, ~760 elements, like "
        "the corpora's median page); lean: the demo templates alone (~8 KB, 85 elements)",
    )
    parser.add_argument(
        "--skip",
        default="",
        help=f"comma list of {','.join(PARTS)} (latency: all latency runs, push: those with "
        "WebSub push; distributed: also the distributed latency runs)",
    )
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    if unknown := skip - set(PARTS):
        parser.error(f"--skip: unknown {','.join(sorted(unknown))} (known: {','.join(PARTS)})")
    if args.repeat < 1:
        parser.error(f"--repeat: at least 1 round (got {args.repeat})")
    load, note = deskrun.load_note()
    console.rule("[bold]Wirewatch pipeline benchmark")
    console.print(
        f"{args.feeds} outlets, {args.articles} articles (~30% wire copies), {args.topics} topics "
        f"with a webhook each; {os.cpu_count()} cores; load average {load:.2f} at start"
    )
    if note:
        console.print(f"[yellow]warning[/yellow]: {note}")
    with tempfile.TemporaryDirectory(prefix="ww-pipeline-") as tmp_name:
        tmp = Path(tmp_name)
        failed = run_all(args, skip, tmp)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


def run_all(args, skip: set[str], tmp: Path) -> list[str]:  # noqa: ANN001
    """Every part not skipped, then the report; the names of the latency runs that failed."""
    total = max(args.articles, args.trend)
    plan = newsdesk.pipeline_plan(feeds=args.feeds, articles=total)[: args.articles]
    work = IntrinsicWork(plan, topics=args.topics, weight=args.pages)
    measured = [work.measure()]
    intrinsic = measured[0]
    console.print(
        f"intrinsic: {intrinsic.articles} {args.pages} pages "
        f"({intrinsic.page_bytes / intrinsic.articles / 1024:.1f}"
        f" KiB each) + {intrinsic.feeds} feeds: {intrinsic.ms_per_article:.2f} CPU ms/article"
        " (measured again after each run below; each run's ratio is against the mean of the"
        " measurements just before and just after it)"
    )

    def beside(result):  # noqa: ANN001, ANN202
        """`result` (a run just finished) with the intrinsic cost measured around it."""
        measured.append(work.measure())
        console.print(f"  intrinsic again: {measured[-1].ms_per_article:.2f} CPU ms/article")
        result.intrinsic_ms = (measured[-2].ms_per_article + measured[-1].ms_per_article) / 2
        return result

    rows: list[pipeline_modes.ModeRow] = []
    staged_runs: list = []
    profile = None
    trend: list[tuple[int, list[list[float]]]] = []
    latencies: list[pipeline_latency.Latency] = []
    desk = deskrun.Newsdesk(
        feeds=args.feeds, articles=total, topics=args.topics, logdir=tmp, pages=args.pages
    )
    try:
        desk.publish(args.articles)
        console.print(f"newsdesk: feeds on {desk.hosts} addresses, port {desk.port}")
        for round_ in range(args.repeat):
            if args.repeat > 1:
                console.print(f"round {round_ + 1} of {args.repeat}")
            last = round_ == args.repeat - 1

            def row(result, round_=round_):  # noqa: ANN001, ANN202
                result.round = round_
                rows.append(beside(result))
                console.print(rows[-1].line())

            if "embedded" not in skip:
                row(pipeline_modes.embedded_once(desk, tmp, plan=plan, topics=args.topics))
            if "one-core" not in skip and shutil.which("taskset"):
                row(
                    pipeline_modes.embedded_once(
                        desk, tmp, plan=plan, topics=args.topics, one_cpu=True
                    )
                )
            if "stages" not in skip:
                staged_runs.append(beside(pipeline_modes.in_process(desk, tmp, staged=True)))
                console.print(
                    f"  staged in-process run: {staged_runs[-1].articles} articles, "
                    f"{staged_runs[-1].ms_per_article:.1f} CPU ms/article"
                )
            if "profile" not in skip and last:
                profile = beside(pipeline_modes.in_process(desk, tmp, staged=False))
                console.print(
                    f"  profiled in-process run: {profile.articles} articles, "
                    f"{profile.ms_per_article:.1f} CPU ms/article"
                )
            if "distributed" not in skip:
                for count in (1, 2):
                    result, more = pipeline_modes.distributed_once(
                        desk,
                        tmp,
                        workers=count,
                        plan=plan,
                        topics=args.topics,
                        # the trend publishes more articles: last, when no round needs the rest
                        trend_to=args.trend if count == 2 and last else 0,
                        batch=args.articles,
                    )
                    row(result)
                    trend += more
    finally:
        desk.close()
    failed = []
    runs = [(m, push) for m in ("embedded", "distributed") for push in (False, True)]
    for mode, push in runs if "latency" not in skip else []:
        if (mode == "distributed" and "distributed" in skip) or (push and "push" in skip):
            continue
        try:
            latencies.append(
                pipeline_latency.latency(
                    mode,
                    tmp,
                    feeds=args.feeds,
                    topics=args.topics,
                    items=args.latency_items,
                    seconds=args.latency_seconds,
                    pages=args.pages,
                    push=push,
                )
            )
        except RuntimeError as exc:  # reported, and the other runs still go on
            failed.append(f"latency {mode}{', push' if push else ''}")
            console.print(f"[red]{failed[-1]} failed[/red]: {exc}")
            continue
        console.print(latencies[-1].line())
    staged = _median(staged_runs, key=lambda r: r.ms_per_article / r.intrinsic_ms)
    report(measured, rows, staged, profile, trend, latencies)
    if args.repeat > 1:
        summary(rows, staged_runs)
    if staged is not None:
        stage_table(staged)
    return failed


def _median(runs: list, key):  # noqa: ANN001, ANN202
    """The run with the median `key` (the lower middle one of an even number), or None."""
    ordered = sorted(runs, key=key)
    return ordered[(len(ordered) - 1) // 2] if ordered else None


def summary(rows, staged_runs) -> None:  # noqa: ANN001
    """Each mode's ratio over the rounds: median and range."""
    t = Table(title="CPU per article against the intrinsic cost, over the rounds")
    for col in ("mode", "runs", "CPU ms/article, median", "× intrinsic, median", "range", "goal"):
        t.add_column(col, justify="left" if col == "mode" else "right")
    groups: dict[str, list[tuple[float, float]]] = {}
    if staged_runs:
        groups["in-process, 1 thread, each stage timed"] = [
            (r.ms_per_article, r.ms_per_article / r.intrinsic_ms) for r in staged_runs
        ]
    for r in rows:
        groups.setdefault(r.mode, []).append(
            (r.cpu_ms_per_article, r.cpu_ms_per_article / r.intrinsic_ms)
        )
    for mode, runs in groups.items():
        ratios = [x for _, x in runs]
        mid = statistics.median(ratios)
        t.add_row(
            mode,
            str(len(runs)),
            f"{statistics.median(c for c, _ in runs):.2f}",
            f"{mid:.2f}",
            f"{min(ratios):.2f}–{max(ratios):.2f}",
            ok(mid <= GOAL_RATIO),
        )
    rounds: dict[int, dict[int, pipeline_modes.ModeRow]] = {}
    for r in rows:
        if r.workers:
            rounds.setdefault(r.round, {})[r.workers] = r
    scales = sorted(
        by[2].per_second / by[1].per_second for by in rounds.values() if 1 in by and 2 in by
    )
    console.print(t)
    if scales:
        console.print(
            f"scaling, 2 workers over 1, over the rounds: median "
            f"{statistics.median(scales):.2f}× ({scales[0]:.2f}–{scales[-1]:.2f}; goal ≥ "
            f"{GOAL_SCALING})"
        )


def stage_table(staged) -> None:  # noqa: ANN001
    """CPU per processed article by stage, beside the intrinsic cost of the same pages."""
    n = max(1, staged.articles)
    t = Table(
        title=f"Where the CPU goes, by stage: in-process run of {staged.articles} articles, "
        f"{staged.ms_per_article:.2f} CPU ms/article (thread CPU clock, no profiler)"
    )
    for col in ("stage", "calls", "CPU ms/article", "% of run"):
        t.add_column(col, justify="left" if col == "stage" else "right")
    for label, depth, seconds, calls in staged.stages:
        share = 100 * seconds / staged.cpu if staged.cpu else 0
        t.add_row("  " * depth + label, str(calls), f"{1000 * seconds / n:.2f}", f"{share:.1f}")
    top = sum(s for _, depth, s, _ in staged.stages if depth == 0)
    t.add_row("the rest (scheduling, dispatch)", "", f"{1000 * (staged.cpu - top) / n:.2f}", "")
    t.add_row(
        "intrinsic (parse_feed + extract_article alone, same pages, measured around this run)",
        "",
        f"{staged.intrinsic_ms:.2f}",
        "",
    )
    console.print(t)


def report(measured, rows, staged, profile, trend, latencies) -> None:  # noqa: ANN001, C901
    load, note = deskrun.load_note()
    table = Table(title="Throughput and CPU per article (goal: CPU ≤ 1.5 × intrinsic)")
    for col in (
        "mode",
        "articles",
        "run s",
        "articles/s",
        "CPU ms/article",
        "intrinsic ms beside",
        "× intrinsic",
        "goal",
        "PostgreSQL CPU ms/art.",
        "RSS MiB (each process)",
        "stories",
        "alerts recv/expected",
        "load",
    ):
        table.add_column(
            col, justify="left" if col in ("mode", "RSS MiB (each process)") else "right"
        )
    costs = [m.ms_per_article for m in measured]
    table.add_row(
        f"intrinsic: parse_feed + extract_article ({len(costs)} measurements, "
        f"{min(costs):.2f}–{max(costs):.2f})",
        str(measured[0].articles),
        "",
        "",
        f"{sum(costs) / len(costs):.2f}",
        "",
        "1.00",
        *[""] * 6,
    )
    for run, mode in (
        (staged, "in-process, 1 thread, each stage timed"),
        (profile, "in-process, 1 thread, profiled (pyinstrument)"),
    ):
        if run is None:
            continue
        ratio = run.ms_per_article / run.intrinsic_ms
        wall = getattr(run, "wall", None)  # the profiled run's
        table.add_row(
            mode,
            str(run.articles),
            f"{wall:.1f}" if wall else "",
            f"{run.articles / wall:.1f}" if wall else "",
            f"{run.ms_per_article:.2f}",
            f"{run.intrinsic_ms:.2f}",
            f"{ratio:.2f}",
            ok(ratio <= GOAL_RATIO) if run is staged else "",
            *[""] * 5,
        )
    for r in rows:
        ratio = r.cpu_ms_per_article / r.intrinsic_ms
        table.add_row(
            r.mode,
            str(r.articles),
            f"{r.seconds:.1f}",
            f"{r.per_second:.1f}",
            f"{r.cpu_ms_per_article:.2f}",
            f"{r.intrinsic_ms:.2f}",
            f"{ratio:.2f}",
            ok(ratio <= GOAL_RATIO),
            f1(r.pg_ms_per_article, ".2f"),
            r.rss_text,
            f"{r.stories}/{r.expected_stories}",
            f"{r.alerts_received}/{r.alerts_expected}",
            f"{r.load:.1f}",
        )
    console.print(table)
    by_mode = {r.workers: r for r in rows if r.workers and r.round == 0}
    if 1 in by_mode and 2 in by_mode:
        scale = by_mode[2].per_second / by_mode[1].per_second
        console.print(
            f"scaling, 2 workers over 1: {scale:.2f}× (goal ≥ {GOAL_SCALING}) "
            f"{ok(scale >= GOAL_SCALING)}"
            f"  — load average during the runs: {by_mode[1].load:.1f} / {by_mode[2].load:.1f}"
        )
    if profile is not None:
        t = Table(
            title=f"Where the CPU goes: in-process run, {profile.total:.1f} s sampled, "
            "cumulative time of our functions"
        )
        t.add_column("function")
        t.add_column("cumulative s", justify="right")
        t.add_column("% of run", justify="right")
        for name, seconds in profile.ours[:25]:
            t.add_row(name, f"{seconds:.2f}", f"{100 * seconds / profile.total:.1f}")
        console.print(t)
        p = Table(title="Self time by package (where the time is finally spent)")
        p.add_column("package")
        p.add_column("self s", justify="right")
        p.add_column("%", justify="right")
        for name, seconds in profile.packages[:15]:
            p.add_row(name, f"{seconds:.2f}", f"{100 * seconds / profile.total:.1f}")
        console.print(p)
    if trend:
        t = Table(title="Memory per worker process as articles accumulate (2 workers × -c 1)")
        t.add_column("articles processed", justify="right")
        t.add_column("worker 1: parent + child MiB")
        t.add_column("worker 2: parent + child MiB")
        for n, per_worker in trend:
            t.add_row(str(n), *(" + ".join(f"{m:.0f}" for m in w) for w in per_worker))
        console.print(t)
    if latencies:
        t = Table(
            title="Latency: item in its feed → alert at the receiver (goal p95 ≤ 2 s); CPU of "
            "the service's processes and feed documents polled/pushed while items were published"
        )
        cols = ("mode", "items", "alerts", "p50 s", "p95 s", "max s", "goal")
        for col in (*cols, "service CPU s", "polls", "pushes", "load"):
            t.add_column(col, justify="right" if col != "mode" else "left")
        for lat in latencies:
            t.add_row(
                lat.mode,
                str(lat.items),
                str(len(lat.values)),
                f1(lat.p50, ".2f"),
                f1(lat.p95, ".2f"),
                f1(lat.max, ".2f"),
                ok(lat.p95 is not None and lat.p95 <= GOAL_P95 and len(lat.values) == lat.items),
                f1(lat.cpu),
                str(lat.polls),
                str(lat.pushes),
                f"{lat.load:.1f}",
            )
        console.print(t)
    console.print(f"load average at the end: {load:.2f}")
    if note:
        console.print(f"[yellow]warning[/yellow]: {note}")


if __name__ == "__main__":
    main()
