"""TopicIndex: which of many topics match a document, exactly as evaluating each topic would say.

Each topic is filed under its key set (Query.keys: for an AND the cheapest child's keys, for an
OR every branch's keys), so a document can only match topics filed under a key it contains. A
document is tokenised once; its words (and their prefixes, for prefix topics) are intersected
with the postings, and only those candidate topics are evaluated exactly. Parsing guarantees
every topic has a key set, so no topic needs evaluating on every document.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from worker.topics.query import Query
from worker.topics.syntax import QueryError, parse_query
from worker.topics.text import Document, DocView

Postings = dict[str, tuple[int, ...]]


class TopicIndex:
    """Compiled topics (id, query text); rebuild it whenever the topic list changes."""

    def __init__(self, topics: Iterable[tuple[int, str]]) -> None:
        self.queries: dict[int, Query] = {}
        words: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        prefixes: dict[tuple[str, int], dict[str, list[int]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for topic_id, text in topics:
            try:
                query = parse_query(text)
            except QueryError as error:
                raise QueryError(
                    error.reason, position=error.position, hint=error.hint, topic_id=topic_id
                ) from None
            self.queries[topic_id] = query
            for kind, field, value in query.keys:
                if kind == "w":
                    words[field][value].append(topic_id)
                else:
                    prefixes[field, len(value)][value].append(topic_id)
        # field -> (keys, postings); (field, prefix length) -> (keys, postings)
        self._words = {f: _freeze(d) for f, d in words.items()}
        self._prefixes = {fn: _freeze(d) for fn, d in prefixes.items()}
        self._match = {tid: q.root.match for tid, q in self.queries.items()}

    def __len__(self) -> int:
        return len(self.queries)

    def candidates(self, view: DocView) -> set[int]:
        """Topics filed under a key the document contains (a superset of the matches)."""
        found: set[int] = set()
        for field, (keys, postings) in self._words.items():
            for word in keys & view.sets[field]:
                found.update(postings[word])
        for (field, n), (keys, postings) in self._prefixes.items():
            for prefix in keys & {word[:n] for word in view.sets[field]}:
                found.update(postings[prefix])
        return found

    def match(self, doc: Document) -> set[int]:
        """Ids of the topics whose query matches `doc`."""
        view = DocView(doc)
        match = self._match
        return {tid for tid in self.candidates(view) if match[tid](view)}


def _freeze(postings: dict[str, list[int]]) -> tuple[frozenset[str], Postings]:
    return frozenset(postings), {k: tuple(v) for k, v in postings.items()}
