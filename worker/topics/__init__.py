"""Topic matching stage: parse and validate topic queries, match a document against many topics.

Pure functions, no database. A topic is (id, query text); `TopicIndex(topics)` compiles them (a
QueryError names the failing topic) and `TopicIndex.match(doc)` returns the ids of the topics a
`Document` matches, always the same ids as evaluating every topic one by one. `validate_query`
gives the normalised text to store, or a QueryError with `.position` and `.hint` to show the
user. `matches(query, doc)` tests one query.

Language (Lucene syntax read by luqum; precedence in syntax.py, limits in errors.py):
    words            Iran            on word boundaries: "Iran" does not match "Iranian"
    prefixes         Iran*           Iran, Iranian, Iran's (the * only at the end of a word)
    phrases          "white house"   consecutive words; U.S. and e-mail are phrases too
    AND / OR / NOT   upper-case; juxtaposed terms are ANDed, as in Google: `Iran Israel`
    -word / +word    NOT word / word
    (groups)         Iran AND (airstrike OR strike)
    fields           title: text: source: wire: lang: feed:  (unfielded = title or text),
                     with a word, prefix, phrase or group: title:"white house", wire:(AP OR AFP)
Matching ignores case and accents (NFKD, combining marks removed, casefold): Zürich = zurich.
Rejected with QueryError: empty or over-long queries (10,000 characters, 1,000 terms, 32
levels of nesting), unbalanced quotes/parentheses, dangling operators, unknown fields, queries
that only exclude (`NOT x`, `-x`, `a OR NOT b`), leading, inner or bare wildcards, `?`, fuzzy
`~`, boosts `^`, ranges and regexes.

Measured with bench/topics.py (300 ECB+ articles of 800 words, CPU time on a loaded 2-core
machine): 10,000 topics 2.8 ms per article (p95 3.6; naive loop over all topics 12 ms),
1,000 topics 1.4 ms, 100 topics 0.7 ms (mostly tokenising the article). Building the index
parses each topic with luqum, about 0.3-0.8 ms a topic; parses are cached by query text, so
rebuilding after a topic change re-parses only the changed topics.
"""

from worker.topics.errors import MAX_CHARS, MAX_DEPTH, MAX_TERMS, QueryError
from worker.topics.index import TopicIndex
from worker.topics.query import Query
from worker.topics.syntax import parse_query, validate_query
from worker.topics.text import FIELDS, Document, DocView, normalise


def matches(query: str, doc: Document) -> bool:
    """Whether `doc` matches `query` (raises QueryError for an invalid query)."""
    return parse_query(query).match(DocView(doc))


__all__ = [
    "FIELDS",
    "MAX_CHARS",
    "MAX_DEPTH",
    "MAX_TERMS",
    "Document",
    "DocView",
    "Query",
    "QueryError",
    "TopicIndex",
    "matches",
    "normalise",
    "parse_query",
    "validate_query",
]
