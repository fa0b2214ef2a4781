"""The pipeline benchmark's in-process measurements: the intrinsic cost (feedparser + cleaner
alone), the real pipeline's CPU by stage, and a profiled run summarised by our functions.

All count CPU of this process (resource.getrusage, or the thread's clock). The staged and the
profiled runs call exactly what embedded mode calls (scheduler.loop.schedule_due,
worker.pipeline.refresh_feed, process_article, worker.delivery.deliver) through a dispatcher
that runs each job in turn on the calling thread. The staged run times each stage with the
thread's CPU clock and no profiler (so I/O waits and profiler overhead count nothing); the
profiled run shows function-level detail, but pyinstrument samples wall time.
"""

from __future__ import annotations

import functools
import resource
import time
from collections import Counter, deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench import newsdesk

REPO = Path(__file__).resolve().parent.parent
OURS = ("worker", "storage", "wirewatch", "scheduler")


def cpu_now() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Intrinsic:
    articles: int
    feeds: int
    feed_cpu: float
    page_cpu: float
    page_bytes: int

    @property
    def ms_per_article(self) -> float:
        return 1000 * (self.feed_cpu + self.page_cpu) / self.articles


def intrinsic_cost(
    plan: list[newsdesk.Planned], *, topics: int, seed: int = 0, weight: str = "lean"
) -> Intrinsic:
    """The plan's pages and feeds through worker.feeds.parse_feed and extract_article alone
    (each page with its feed entry's title, summary and date, as the pipeline calls it)."""
    return IntrinsicWork(plan, topics=topics, seed=seed, weight=weight).measure()


class IntrinsicWork:
    """The plan's pages and feeds, rendered once, to be measured as often as wanted: a machine
    whose speed drifts (a virtual machine's neighbours) is best compared with itself minutes
    apart, not across a whole benchmark run."""

    def __init__(
        self, plan: list[newsdesk.Planned], *, topics: int, seed: int = 0, weight: str = "lean"
    ) -> None:
        from worker.extract import extract_article

        published = newsdesk.now_utc()
        self.origin = origin = "http://127.0.0.2:8000"
        self.pages: list[tuple[str, bytes]] = []
        entries: dict[int, list[newsdesk.FeedEntry]] = {}
        for item in plan:
            story = newsdesk.make_story(item.story, topics=topics, seed=seed)
            url = origin + newsdesk.page_path(item.feed, item.story)
            self.pages.append(
                (
                    url,
                    newsdesk.render_copy_page(
                        story,
                        feed=item.feed,
                        form=item.form,
                        order=item.order,
                        published=published,
                        url=url,
                        weight=weight,
                    ),
                )
            )
            title, _, paragraphs = newsdesk.copy_text(story, item.form, item.order)
            entries.setdefault(item.feed, []).append(
                newsdesk.FeedEntry(
                    f"f{item.feed}-{item.story}",
                    url,
                    title,
                    newsdesk.summary_of(paragraphs),
                    published,
                )
            )
        self.bodies = [
            newsdesk.render_feed(f, e, site_url=origin + "/") for f, e in entries.items()
        ]
        # imports and caches warmed, not counted
        extract_article(self.pages[0][1], url=self.pages[0][0])

    def measure(self) -> Intrinsic:
        from worker.extract import extract_article
        from worker.feeds import parse_feed

        began = cpu_now()
        parsed = [
            parse_feed(body, url=self.origin + "/feed.xml", content_type="application/rss+xml")
            for body in self.bodies
        ]
        feed_cpu = cpu_now() - began
        # the cleaner gets what the pipeline gives it: the page and its feed entry
        entry = {e.url: e for feed in parsed for e in feed.entries}
        began = cpu_now()
        for url, body in self.pages:
            e = entry[url]
            extract_article(
                body,
                url=url,
                charset="utf-8",
                feed_title=e.title,
                feed_content=e.content or e.summary,
                feed_published=e.published,
            )
        page_cpu = cpu_now() - began
        return Intrinsic(
            len(self.pages),
            len(self.bodies),
            feed_cpu,
            page_cpu,
            sum(len(b) for _, b in self.pages),
        )


# (module, attribute, label, depth): the stages timed by `staged_run`, in the order shown.
STAGES = (
    ("worker.pipeline", "refresh_feed", "poll a feed", 0),
    ("worker.pipeline", "parse_feed", "parse the feed (feedparser): intrinsic", 1),
    ("worker.pipeline", "store_entries", "store new entries", 1),
    ("worker.pipeline", "process_articles", "process articles (in batches)", 0),
    ("storage.articles", "claim_articles", "claim them (one statement a batch)", 1),
    ("worker.politeness", "check_page", "robots.txt and host state", 1),
    ("worker.pipeline", "fetch", "HTTP GET (feeds and pages)", 1),
    ("worker.pipeline", "extract_article", "clean the page: intrinsic", 1),
    ("worker.pipeline", "prepare", "fingerprint (before the transaction)", 1),
    ("worker.pipeline", "assign_story", "find and join its story", 1),
    ("storage.articles", "complete_article", "store it (one UPDATE, full-text index)", 1),
    ("worker.pipeline", "match_topics", "match its topics", 1),
    ("worker.pipeline", "tag_articles", "record topics, create alerts (once a batch)", 1),
    ("worker.delivery", "send_new", "send its alerts (POST, record)", 1),
    ("worker.alerts.webhook", "WebhookTransport.send", "webhook POST (signed)", 2),
    ("sqlalchemy.orm", "Session.commit", "commits (in all of the above)", 1),
)


@dataclass
class StagedRun:
    articles: int
    cpu: float  # thread CPU seconds of the whole run
    stages: list[tuple[str, int, float, int]]  # (label, depth, thread CPU seconds, calls)
    counts: Counter = field(default_factory=Counter)
    intrinsic_ms: float = 0.0  # the intrinsic cost measured beside this run

    @property
    def ms_per_article(self) -> float:
        return 1000 * self.cpu / max(1, self.articles)


@contextmanager
def _timed(stages=STAGES):  # noqa: ANN001, ANN202
    """Patch each stage to add its thread CPU time to a counter (nested calls of one stage count
    once); the patches are undone on exit."""
    import importlib

    spent: Counter = Counter()
    calls: Counter = Counter()
    active: set[str] = set()
    undo = []

    def timed(fn, label):  # noqa: ANN001, ANN202
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            if label in active:
                return fn(*args, **kwargs)
            active.add(label)
            began = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[label] += time.thread_time() - began
                calls[label] += 1
                active.discard(label)

        return wrapper

    for module_name, attribute, label, _depth in stages:
        owner = importlib.import_module(module_name)
        *path, name = attribute.split(".")
        for part in path:
            owner = getattr(owner, part)
        original = getattr(owner, name)
        setattr(owner, name, timed(original, label))
        undo.append((owner, name, original))
    try:
        yield spent, calls
    finally:
        for owner, name, original in reversed(undo):
            setattr(owner, name, original)


def _serial(settings):  # noqa: ANN001, ANN202
    """(dispatcher, handlers): the embedded stage functions, run in turn on this thread."""
    from worker import delivery, pipeline
    from worker.hostlimit import LocalHostLimiter

    dispatcher = SerialDispatcher()
    ctx = pipeline.Context(
        settings=settings,
        dispatcher=dispatcher,
        limiter=LocalHostLimiter(settings.host_concurrency),
    )
    handlers = {
        "poll": lambda feed_id: pipeline.refresh_feed(feed_id, ctx=ctx),
        "article": lambda article_id: pipeline.process_article(article_id, ctx=ctx),
        "articles": lambda ids: pipeline.process_articles(ids, ctx=ctx),
        "deliver": lambda ids: delivery.deliver(ids, ctx=ctx),
    }
    return dispatcher, handlers


def _drain(settings, dispatcher, handlers) -> Counter:  # noqa: ANN001
    from scheduler.loop import schedule_due

    counts: Counter = Counter()
    schedule_due(settings=settings, dispatcher=dispatcher, all_enabled=True)
    while dispatcher.jobs:
        kind, arg = dispatcher.jobs.popleft()
        counts[kind] += 1
        outcome = handlers[kind](arg)
        if kind == "article" and outcome == "processed":
            counts["processed"] += 1
        elif kind == "articles":
            counts["processed"] += outcome.count("processed")
    return counts


def staged_run(settings) -> StagedRun:  # noqa: ANN001
    """Poll every feed once and finish all the work on this thread, each stage timed."""
    dispatcher, handlers = _serial(settings)
    with _timed() as (spent, calls):
        began = time.thread_time()
        counts = _drain(settings, dispatcher, handlers)
        cpu = time.thread_time() - began
    stages = [(label, depth, spent[label], calls[label]) for _, _, label, depth in STAGES]
    return StagedRun(articles=counts["processed"], cpu=cpu, stages=stages, counts=counts)


class SerialDispatcher:
    """Runs every job on the calling thread, in the order dispatched (delays are ignored)."""

    def __init__(self) -> None:
        self.jobs: deque[tuple[str, object]] = deque()

    def poll_feed(self, feed_id: int) -> None:
        self.jobs.append(("poll", feed_id))

    def process_article(self, article_id: int, *, delay: float = 0) -> None:
        self.jobs.append(("article", article_id))

    def process_articles(self, article_ids: list[int]) -> None:
        from worker.dispatch import batches

        for chunk in batches(article_ids):  # as embedded mode and Celery hand them out
            self.jobs.append(("articles", chunk))

    def deliver(self, delivery_ids: list[int], *, delay: float = 0) -> None:
        self.jobs.append(("deliver", list(delivery_ids)))


@dataclass
class ProfiledRun:
    articles: int
    wall: float
    cpu: float
    ours: list[tuple[str, float]]  # (module.function, cumulative seconds), largest first
    packages: list[tuple[str, float]]  # (package, self seconds), largest first
    total: float  # seconds the profiler saw
    counts: Counter = field(default_factory=Counter)
    intrinsic_ms: float = 0.0  # the intrinsic cost measured beside this run

    @property
    def ms_per_article(self) -> float:
        return 1000 * self.cpu / max(1, self.articles)


def profiled_run(settings) -> ProfiledRun:  # noqa: ANN001
    """Poll every feed of the database once and finish all the work, on this thread, profiled."""
    from pyinstrument import Profiler

    dispatcher, handlers = _serial(settings)
    profiler = Profiler(interval=0.002)
    began, cpu = time.perf_counter(), cpu_now()
    profiler.start()
    counts = _drain(settings, dispatcher, handlers)
    session = profiler.stop()
    cpu, wall = cpu_now() - cpu, time.perf_counter() - began
    ours, packages = summarise(session.root_frame())
    return ProfiledRun(
        articles=counts["processed"],
        wall=wall,
        cpu=cpu,
        ours=ours,
        packages=packages,
        total=session.duration,
        counts=counts,
    )


def _module(path: str) -> tuple[str, bool]:
    """('worker.pipeline', True) for our files, ('sqlalchemy', False) for a package."""
    p = Path(path)
    try:
        rel = p.resolve().relative_to(REPO)
        if rel.parts and rel.parts[0] in OURS:
            return ".".join(rel.with_suffix("").parts), True
    except (ValueError, OSError):
        pass
    parts = p.parts
    if "site-packages" in parts:
        i = parts.index("site-packages")
        if i + 1 < len(parts):
            return parts[i + 1].removesuffix(".py").split(".")[0], False
    return ("stdlib:" + p.stem) if path else "<native>", False


def summarise(root) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:  # noqa: ANN001
    """Wall time sampled: cumulative per function of ours (a recursive call counted once), and
    self time by package."""
    cumulative: Counter = Counter()
    self_time: Counter = Counter()
    stack = [(root, frozenset())]
    while stack:
        frame, above = stack.pop()
        module, ours = _module(frame.file_path or "")
        key = f"{module}.{frame.function}"
        if ours and key not in above:
            cumulative[key] += frame.time
            above = above | {key}
        if frame.total_self_time and not frame.is_synthetic:
            self_time["ours: " + module.split(".")[0] if ours else module] += frame.total_self_time
        stack.extend((child, above) for child in frame.children)
    return cumulative.most_common(), self_time.most_common()
