"""Distributed mode hands new articles out a few to a task; a task of several goes on past an
article that hit a bug, and gives a transient error back to Celery to retry."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from worker import dispatch, pipeline, tasks


def test_new_articles_go_out_a_few_to_a_task(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[object] = []
    monkeypatch.setattr(tasks.process_article, "delay", lambda article_id: sent.append(article_id))
    monkeypatch.setattr(tasks.process_articles, "delay", lambda ids: sent.append(list(ids)))
    dispatcher = dispatch.CeleryDispatcher(max_delay=60)
    dispatcher.process_articles(list(range(1, 10)))
    per = dispatch.ARTICLES_PER_TASK
    assert sent == [list(range(1, 1 + per)), list(range(1 + per, 1 + 2 * per)), 9]
    sent.clear()
    dispatcher.process_articles([])
    assert sent == []


def test_a_task_of_several_goes_on_past_a_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    done: list[int] = []

    def process(article_id: int, *, ctx, token) -> str:  # noqa: ANN001
        if article_id == 2:
            raise ValueError("a bug")
        done.append(article_id)
        return "processed"

    monkeypatch.setattr(pipeline, "process_article", process)
    monkeypatch.setattr(tasks, "context", lambda: None)
    tasks.process_articles.run([1, 2, 3])
    assert done == [1, 3]


def test_a_transient_error_is_given_back_to_celery(monkeypatch: pytest.MonkeyPatch) -> None:
    def process(article_id: int, *, ctx, token) -> str:  # noqa: ANN001
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr(pipeline, "process_article", process)
    monkeypatch.setattr(tasks, "context", lambda: None)
    with pytest.raises(OperationalError):
        tasks.process_articles.run([1, 2])
