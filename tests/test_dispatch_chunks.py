"""New articles go out a few at a time (a batch: a Celery task, or an embedded thread), claimed
in one transaction and stored in one; one article's trouble never costs the others theirs, and a
transient error is given back to Celery to retry."""

from __future__ import annotations

import contextlib
import dataclasses
import subprocess
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import redis
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from storage.db import get_engine, session_scope
from storage.models import Article, DedupKey, Delivery, Story, StoryTopic
from tests.conftest import make_settings
from tests.support.feeds import PARAGRAPHS, article_page, rss
from tests.support.wire import INDEPENDENT, republications
from tests.test_alerts_flow import Receiver, add_feeds, setup_topic
from tests.test_alerts_inline import Recorder
from worker import delivery, dispatch, pipeline, tasks
from worker.alerts import new_webhook_secret
from worker.hostlimit import LocalHostLimiter


def test_new_articles_go_out_a_few_to_a_task(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[object] = []
    monkeypatch.setattr(tasks.process_article, "delay", lambda article_id: sent.append(article_id))
    monkeypatch.setattr(tasks.process_articles, "delay", lambda ids: sent.append(list(ids)))
    dispatcher = dispatch.CeleryDispatcher(max_delay=60)
    per = dispatch.ARTICLES_PER_TASK
    dispatcher.process_articles(list(range(1, 2 + 2 * per)))
    last = 1 + 2 * per  # alone: a task of one article
    assert sent == [list(range(1, 1 + per)), list(range(1 + per, 1 + 2 * per)), last]
    sent.clear()
    dispatcher.process_articles([])
    assert sent == []


def test_embedded_threads_take_new_articles_a_few_at_a_time() -> None:
    taken: list[list[int]] = []
    dispatcher = dispatch.ThreadDispatcher(2)
    dispatcher.articles_handler = taken.append
    per = dispatch.ARTICLES_PER_TASK
    dispatcher.process_articles(list(range(1, 2 + 2 * per)))
    assert dispatcher.wait_idle(timeout=10)
    dispatcher.close()
    last = 1 + 2 * per
    assert sorted(taken) == [list(range(1, 1 + per)), list(range(1 + per, 1 + 2 * per)), [last]]


def one_feed(server, db_url: str) -> list[int]:  # noqa: ANN001
    """A feed of four new items: three copies of one wire story and an unrelated story; polled
    (its articles pending, in feed order)."""
    stories = [
        *republications().items(),
        ("own-desk", ("Geneva livestock pact agreed", INDEPENDENT)),
    ]
    items = []
    for outlet, (headline, paragraphs) in stories:
        link = server.route(
            f"/batch/{outlet}.html",
            article_page(headline, paragraphs, site=outlet),
            headers={"Content-Type": "text/html"},
        )
        items.append({"title": headline, "link": link})
    add_feeds(
        db_url,
        [
            server.route(
                "/batch/feed.xml", rss(items), headers={"Content-Type": "application/rss+xml"}
            )
        ],
    )
    ctx = context(db_url)
    ids = pipeline.refresh_feed(1, ctx=ctx)
    assert len(ids) == 4
    return ids


def context(db_url: str) -> pipeline.Context:
    return pipeline.Context(
        settings=make_settings(db_url), dispatcher=Recorder(), limiter=LocalHostLimiter(4)
    )


def rows(db_url: str) -> dict[int, Article]:
    with session_scope(db_url) as s:
        return {a.id: a for a in s.execute(select(Article)).scalars()}


def test_a_batch_costs_three_transactions_and_loses_nothing(db_url, server) -> None:
    receiver = Receiver(server, "/batch-hook")
    setup_topic(db_url, "livestock OR animal", receiver.url, new_webhook_secret())
    ids = one_feed(server, db_url)
    commits: list[int] = []
    engine = get_engine(db_url)
    listener = lambda _conn: commits.append(1)  # noqa: E731
    event.listen(engine, "commit", listener)
    try:
        outcomes = pipeline.process_articles(ids, ctx=context(db_url))
    finally:
        event.remove(engine, "commit", listener)
    assert outcomes == ["processed"] * 4
    # claimed in one, stored in one, the alerts sent recorded in one (per article: three each)
    assert len(commits) == 3
    articles = rows(db_url)
    wire_story = {articles[i].story_id for i in ids[:3]}
    assert len(wire_story) == 1 and articles[ids[3]].story_id not in wire_story
    with session_scope(db_url) as s:
        assert s.execute(select(Story.member_count).where(Story.id.in_(wire_story))).scalar() == 3
        sent = s.execute(select(Delivery.state)).scalars().all()
    assert sent == ["sent", "sent"], "one alert per story, not per copy"
    assert len(receiver.calls) == 2


def test_a_batch_reads_and_writes_the_dedup_index_once(db_url, server) -> None:
    """The batch's keys are looked up in one statement, once they are locked, and its articles'
    keys inserted in one, at the end: the three copies still find each other in between."""
    ids = one_feed(server, db_url)
    statements: list[str] = []
    engine = get_engine(db_url)

    def listener(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001, ANN002
        if "dedup_key" in statement:
            statements.append(statement.split()[0].upper())

    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert pipeline.process_articles(ids, ctx=context(db_url)) == ["processed"] * 4
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert statements == ["SELECT", "INSERT"]
    articles = rows(db_url)
    wire_story = {articles[i].story_id for i in ids[:3]}
    assert len(wire_story) == 1 and articles[ids[3]].story_id not in wire_story
    with session_scope(db_url) as s:
        keyed = s.execute(select(DedupKey.article_id).distinct()).scalars().all()
    assert sorted(keyed) == sorted(ids), "every article's keys are in the index"


def test_a_batch_keeps_its_host_slot_from_one_page_to_the_next(db_url, server) -> None:
    """A batch fetches one page at a time: it takes its host's slot once for the pages of that
    host (in distributed mode each slot costs two Redis round trips), and gives it back when
    it stops fetching."""
    ids = one_feed(server, db_url)
    taken: list[str] = []

    class Counting(LocalHostLimiter):
        @contextlib.contextmanager
        def slot(self, host: str, **kwargs: float) -> Iterator[None]:
            taken.append(host)
            with super().slot(host, **kwargs):
                yield

    limiter = Counting(1)
    ctx = pipeline.Context(settings=make_settings(db_url), dispatcher=Recorder(), limiter=limiter)
    assert pipeline.process_articles(ids, ctx=ctx) == ["processed"] * 4
    host = urlsplit(server.url("/")).netloc
    assert taken == [host], "once for the four pages"
    with limiter.slot(host, max_wait=0):
        pass  # given back


def test_a_slow_host_does_not_hold_back_a_batchs_first_articles(
    db_url, server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second page of a batch is slow: once the first page fetched has waited STORE_AFTER,
    the two fetched so far are cleaned, stored and alerted before the third page is fetched.
    The copies stored in the second transaction still join the story, which alerts once."""
    monkeypatch.setattr(pipeline, "STORE_AFTER", 0.3)
    receiver = Receiver(server, "/batch-hook")
    setup_topic(db_url, "livestock OR animal", receiver.url, new_webhook_secret())
    ids = one_feed(server, db_url)
    paths = [urlsplit(rows(db_url)[i].url).path for i in ids]
    pages = {path: server.routes[path] for path in paths}
    seen: dict[int, str] = {}
    alerts_seen: list[int] = []

    def page(path: str):  # noqa: ANN202
        route = pages[path]
        return route.status, route.headers, route.body

    def slow(_request):  # noqa: ANN001, ANN202
        time.sleep(0.5)
        return page(paths[1])

    def third(_request):  # noqa: ANN001, ANN202
        seen.update({i: a.state for i, a in rows(db_url).items()})
        alerts_seen.append(len(receiver.calls))
        return page(paths[2])

    server.route(paths[1], handler=slow)
    server.route(paths[2], handler=third)
    assert pipeline.process_articles(ids, ctx=context(db_url)) == ["processed"] * 4
    assert [seen[i] for i in ids[:2]] == ["processed", "processed"]
    assert "processed" not in (seen[ids[2]], seen[ids[3]])
    assert alerts_seen == [1], "the wire story's alert went out with the first two articles"
    articles = rows(db_url)
    assert len({articles[i].story_id for i in ids[:3]}) == 1
    assert len(receiver.calls) == 2, "one alert per story, not per copy"


@pytest.mark.parametrize(
    ("held_bytes", "expected"),
    [
        (pipeline.HELD_BYTES, ["fetch"] * 4 + ["clean"] * 4),
        (1, ["fetch", "clean"] * 4),
    ],
)
def test_a_batch_fetches_its_pages_then_cleans_them_in_a_row(
    sqlite_url, server, monkeypatch: pytest.MonkeyPatch, held_bytes: int, expected: list[str]
) -> None:
    """No network wait between two cleanings (the cleaner's working set stays in the cache),
    unless the pages held pass HELD_BYTES: then each part is cleaned and stored before the
    next page is fetched."""
    monkeypatch.setattr(pipeline, "HELD_BYTES", held_bytes)
    ids = one_feed(server, sqlite_url)
    steps: list[str] = []
    real_fetch, real_extract = pipeline.fetch, pipeline.extract_article

    def fetch(url, **kwargs):  # noqa: ANN001, ANN003, ANN202
        steps.append("fetch")
        return real_fetch(url, **kwargs)

    def extract(html, **kwargs):  # noqa: ANN001, ANN003, ANN202
        steps.append("clean")
        return real_extract(html, **kwargs)

    monkeypatch.setattr(pipeline, "fetch", fetch)
    monkeypatch.setattr(pipeline, "extract_article", extract)
    assert pipeline.process_articles(ids, ctx=context(sqlite_url)) == ["processed"] * 4
    assert steps == expected
    articles = rows(sqlite_url)
    assert len({articles[i].story_id for i in ids[:3]}) == 1, "the parts still join one story"


def test_a_batch_stored_in_parts_has_one_sending_budget(
    db_url, server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stored in two parts (a slow page), a batch still sends inline for INLINE_BUDGET seconds in
    all: the first part's slow webhook spends it, so the second part's alert goes to the queue."""
    monkeypatch.setattr(pipeline, "STORE_AFTER", 0.3)
    monkeypatch.setattr(delivery, "INLINE_BUDGET", 0.2)
    calls: list[int] = []

    def slow_hook(_request):  # noqa: ANN001, ANN202
        time.sleep(0.4)
        calls.append(1)
        return 200, {"Content-Type": "text/plain"}, b"ok"

    setup_topic(
        db_url,
        "livestock OR animal",
        server.route("/slow-hook", handler=slow_hook),
        new_webhook_secret(),
    )
    ids = one_feed(server, db_url)
    slow_path = urlsplit(rows(db_url)[ids[1]].url).path
    page = server.routes[slow_path]
    server.route(
        slow_path, handler=lambda _r: (time.sleep(0.5), (page.status, page.headers, page.body))[1]
    )
    ctx = context(db_url)
    assert pipeline.process_articles(ids, ctx=ctx) == ["processed"] * 4
    assert len(calls) == 1, "the wire story's alert went out inline, spending the budget"
    own_story = rows(db_url)[ids[3]].story_id
    with session_scope(db_url) as s:
        queued = s.execute(select(Delivery.id).where(Delivery.story_id == own_story)).scalars()
        assert ctx.dispatcher.deliveries == [(list(queued), 0)]


def test_a_batch_tags_the_story_that_lives_on_when_it_merges_stories(db_url, server) -> None:
    """A batch of three: a bank story, a livestock story, and a copy of the livestock text whose
    canonical URL is the bank page's, so it joins both stories and merges the second into the
    first. The batch records its topics after all its stories, so the livestock topic goes to
    the story that lives on and alerts once."""
    receiver = Receiver(server, "/merge-hook")
    setup_topic(db_url, "livestock", receiver.url, new_webhook_secret())
    bank = server.url("/merge/bank.html")
    pages = [
        ("bank", "Central bank raises rates", PARAGRAPHS, None),
        ("farm", "Geneva livestock pact agreed", INDEPENDENT, None),
        ("copy", "Geneva livestock pact agreed", INDEPENDENT, bank),
    ]
    items = []
    for name, headline, paragraphs, canonical in pages:
        html = article_page(headline, paragraphs, site=name)
        if canonical:
            html = html.replace("</head>", f'<link rel="canonical" href="{canonical}"></head>')
        link = server.route(f"/merge/{name}.html", html, headers={"Content-Type": "text/html"})
        items.append({"title": headline, "link": link})
    assert items[0]["link"] == bank
    rss_type = {"Content-Type": "application/rss+xml"}
    add_feeds(db_url, [server.route("/merge/feed.xml", rss(items), headers=rss_type)])
    ctx = context(db_url)
    ids = pipeline.refresh_feed(1, ctx=ctx)
    assert pipeline.process_articles(ids, ctx=ctx) == ["processed"] * 3
    articles = rows(db_url)
    assert len({articles[i].story_id for i in ids}) == 1, "the copy bridged the two stories"
    living = articles[ids[0]].story_id
    with session_scope(db_url) as s:
        tagged = s.execute(select(StoryTopic.story_id, StoryTopic.article_id)).all()
        alerts = s.execute(select(Delivery.story_id, Delivery.state)).all()
        merged = s.execute(select(Story.id).where(Story.merged_into_id == living)).scalars().all()
    assert len(merged) == 1
    assert tagged == [(living, ids[1])], "the first livestock copy, on the story that lives on"
    assert alerts == [(living, "sent")]
    assert len(receiver.calls) == 1


def test_a_bug_in_one_article_leaves_the_others_done(
    db_url, server, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = one_feed(server, db_url)
    real = pipeline.extract_article

    def extract(html, *, url, **kwargs):  # noqa: ANN001, ANN003, ANN202
        if "the-courier" in url:
            raise ValueError("a bug in the cleaner")
        return real(html, url=url, **kwargs)

    monkeypatch.setattr(pipeline, "extract_article", extract)
    assert pipeline.process_articles(ids, ctx=context(db_url)) == [
        "processed",
        None,
        "processed",
        "processed",
    ]
    # left claimed, for the sweep to hand out again when the claim runs out
    assert rows(db_url)[ids[1]].state == "fetching"
    # the sweep gives it back; alone, the error is the caller's (a Celery task, an embedded thread)
    with session_scope(db_url) as s:
        s.execute(Article.__table__.update().where(Article.id == ids[1]).values(state="pending"))
    with pytest.raises(ValueError, match="a bug in the cleaner"):
        pipeline.process_article(ids[1], ctx=context(db_url))


@pytest.mark.parametrize("trouble", ["claim lost", "bug while fingerprinting", "bug while storing"])
def test_one_article_spoiling_the_batch_transaction_costs_only_itself(
    db_url, server, monkeypatch: pytest.MonkeyPatch, trouble: str
) -> None:
    ids = one_feed(server, db_url)
    victim = ids[2]
    real_prepare, real_match = pipeline.prepare, pipeline.match_topics

    def prepare(article):  # noqa: ANN001, ANN202
        if article.id == victim and trouble == "claim lost":
            # its claim ran out meanwhile: the sweep gave it back, another worker will take it
            with session_scope(db_url) as s:
                s.execute(
                    Article.__table__.update().where(Article.id == victim).values(state="pending")
                )
        if article.id == victim and trouble == "bug while fingerprinting":
            raise ValueError("a bug in the fingerprint")
        return real_prepare(article)

    def match(*, article, **kwargs):  # noqa: ANN001, ANN003, ANN202
        if article.id == victim and trouble == "bug while storing":
            raise ValueError("a bug in the topic matcher")
        return real_match(article=article, **kwargs)

    monkeypatch.setattr(pipeline, "prepare", prepare)
    monkeypatch.setattr(pipeline, "match_topics", match)
    outcomes = pipeline.process_articles(ids, ctx=context(db_url))
    assert outcomes == ["processed", "processed", None, "processed"]
    articles = rows(db_url)
    assert articles[victim].story_id is None and articles[victim].state == (
        "pending" if trouble == "claim lost" else "fetching"
    )
    with session_scope(db_url) as s:
        keyed = set(s.execute(select(DedupKey.article_id)).scalars())
        stories = s.execute(select(Story.member_count)).scalars().all()
    assert keyed == set(ids) - {victim}, "nothing of the victim's is kept"
    assert sorted(stories) == [1, 2]


def test_a_transient_error_ends_the_batch_and_its_retry_finishes_it(
    sqlite_url, server, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = one_feed(server, sqlite_url)
    real = pipeline.fetch
    calls: list[str] = []

    def fetch(url, **kwargs):  # noqa: ANN001, ANN003, ANN202
        calls.append(url)
        if len(calls) == 2:
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))
        return real(url, **kwargs)

    monkeypatch.setattr(pipeline, "fetch", fetch)
    with pytest.raises(OperationalError):
        pipeline.process_articles(ids, ctx=context(sqlite_url), token="task-1")
    assert len(calls) == 2, "the batch ended there"
    assert {a.state for a in rows(sqlite_url).values()} == {"fetching"}, "nothing stored"
    # another task cannot take them; the same task, retried under its token, takes them back
    assert pipeline.process_articles(ids, ctx=context(sqlite_url), token="task-2") == [None] * 4
    outcomes = pipeline.process_articles(ids, ctx=context(sqlite_url), token="task-1")
    assert outcomes == ["processed"] * 4


def test_a_celery_worker_ends_a_batch_on_its_time_limit_and_broker_errors(
    sqlite_url, server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's context adds them to the database's errors (embedded mode and the CLI never
    import Celery or Redis for them)."""
    import sys

    from celery.exceptions import SoftTimeLimitExceeded

    monkeypatch.setattr(tasks, "get_settings", lambda: make_settings(sqlite_url))
    tasks.context.cache_clear()
    try:
        ctx = tasks.context()
    finally:
        tasks.context.cache_clear()
    assert ctx.ends_batch == tasks.ENDS_BATCH
    assert SoftTimeLimitExceeded in ctx.ends_batch and redis.ConnectionError in ctx.ends_batch
    assert context(sqlite_url).ends_batch == pipeline.DATABASE_AWAY
    ids = one_feed(server, sqlite_url)
    calls: list[str] = []

    def fetch(url, **kwargs):  # noqa: ANN001, ANN003, ANN202
        calls.append(url)
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(pipeline, "fetch", fetch)
    worker_ctx = dataclasses.replace(context(sqlite_url), ends_batch=tasks.ENDS_BATCH)
    with pytest.raises(SoftTimeLimitExceeded):
        pipeline.process_articles(ids, ctx=worker_ctx, token="task-1")
    assert len(calls) == 1, "the batch ended at its first article"
    probe = "import sys, worker.pipeline, wirewatch.service; print('celery' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", "embedded mode starts without Celery"


def test_the_celery_task_gives_a_transient_error_back_to_celery(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def process(article_ids, *, ctx, token) -> list:  # noqa: ANN001
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr(pipeline, "process_articles", process)
    monkeypatch.setattr(tasks, "context", lambda: None)
    with pytest.raises(OperationalError):
        tasks.process_articles.run([1, 2])
