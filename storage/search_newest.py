"""PostgreSQL: the newest articles matching a tsquery and filters, by plans fixed here.

The planner's estimates for `search_vector @@ q` are guesses (and before the first ANALYZE of a
big table, all its estimates are), so the plans are not left to them. There are two ways:

- walking an index newest first (the id index, or a filter's index ending in id: migration
  0006), checking each row's tsvector, kept in the row: costs the rows walked, so it suits a
  common word;
- a bitmap AND of the GIN index with the id and filter indexes: reads only the rows that pass
  them all (and, for a query the GIN index answers exactly, no tsvector), but reads the whole
  list of articles of each word, so it suits a rare one. A topic is a column of that GIN index
  (topic_ids, migration 0008): its scan steps through the word's and the topic's lists together.

The first walk of _PROBE articles tells which this query is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    any_,
    bindparam,
    func,
    literal_column,
    select,
)
from sqlalchemy import text as text_sql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session

from storage.models import Article

# First check this many of the newest articles passing the filters; then walk on as many more
# as expected to hold the newest matches, if no more than _WALK_MORE; else bitmaps.
_PROBE = 2_000
_WALK_MORE = 8_000
_MAX_RECHECK = 5_000  # phrases and fields: the most rows checked in one round
_MAX_WINDOW = 100_000  # ids; a wider window means a rare query: all its matches cost less

VECTOR = literal_column("article.search_vector")

# Walking: index scans only (newest first, no sort); throughout the search, nested loops (a
# topic's newest tags drive the walk, instead of hashing all of them), no parallel workers
# (small reads; their CPU stays counted), no JIT (compiling took longer than the biggest
# search), and plans made for each query's values: psycopg prepares a statement run five
# times, and the generic plan PostgreSQL may then switch to knows neither the words nor the
# id bounds.
_WALK = {
    "plan_cache_mode": "force_custom_plan",
    "jit": "off",
    "max_parallel_workers_per_gather": "0",
    "enable_bitmapscan": "off",
    "enable_seqscan": "off",
    "enable_hashjoin": "off",
    "enable_mergejoin": "off",
    "enable_sort": "off",
}
# Bitmaps: bitmap scans only, with the memory for exact (not lossy) bitmaps.
_BITMAPS = {
    "enable_bitmapscan": "on",
    "enable_indexscan": "off",
    "enable_sort": "on",
    "work_mem": "32MB",
}

# Adds the filters' conditions to a query of article; with rows_first=True, conditions on the
# article row alone, for the bitmaps (a topic: its topic_ids, not a join from article_topic).
Filtered = Callable[..., Select]


def stories_with_matching_members(session: Session, members: Select) -> set[int]:
    """The story ids `members` (a query of article.story_id, the tsvector condition among its
    filters) yields, each member found by its story and checked in its own row: the story
    index, never the whole list of articles of a word."""
    with _plan(session, _WALK):
        return set(session.execute(members).scalars())


def to_tsquery(tsquery: str) -> ColumnElement:
    return func.to_tsquery(literal_column("'simple'::regconfig"), tsquery)


def newest_matches(
    session: Session, tsquery: str, filtered: Filtered, *, limit: int, before_id: int | None
) -> list[int]:
    """ids of the newest `limit` articles matching `tsquery` and the filters (below
    `before_id`), newest first.

    First walk the newest _PROBE articles passing the filters, checking each one's tsvector:
    enough for a common word. Else the share that matched says how much further to walk, if
    not too far; else (a rarer query) it sizes a window of ids expected to hold the newest
    matches twice over, searched through bitmaps; then everything.
    """
    with _plan(session, _WALK):
        return _newest(session, tsquery, filtered, limit=limit, before_id=before_id)


def _newest(
    session: Session, tsquery: str, filtered: Filtered, *, limit: int, before_id: int | None
) -> list[int]:
    tsq = to_tsquery(tsquery)
    found: list[int] = []
    rows, walked, low = _PROBE, 0, before_id
    while rows:
        found += _walk(session, tsq, filtered, rows=rows, below=low, limit=limit - len(found))
        if len(found) >= limit:
            return found
        walk = _newest_rows(filtered, rows=rows, below=low).subquery()
        seen, last = session.execute(select(func.count(), func.min(walk.c.id))).one()
        if seen < rows:  # every article passing the filters has been checked
            return found
        walked, low = walked + seen, last
        expected = 2 * (limit - len(found)) * walked // max(len(found), 1)
        rows = expected if walked == seen and expected <= _WALK_MORE else 0
    top = before_id or (session.execute(select(func.max(Article.id))).scalar() or 0) + 1
    window = int(2 * (limit - len(found)) * (top - low) / len(found)) if found else low
    loose = _gin_exact(tsquery)
    if loose is None:
        return found + _bitmaps(session, tsq, filtered, limit - len(found), low, window)
    # A phrase or field (title:) needs each row's positions and weights, which the GIN index
    # does not hold: take the newest rows that have the words (what it answers alone), then
    # check the query on those only, going further back while too few pass.
    want = limit - len(found)
    while True:
        candidates = _bitmaps(session, to_tsquery(loose), filtered, want, low, window)
        passed = _recheck(session, tsq, candidates)
        found += passed
        if len(found) >= limit or len(candidates) < want:
            return found[:limit]
        low, share = candidates[-1], max(len(passed), 1) / len(candidates)
        want = min(_MAX_RECHECK, int(2 * (limit - len(found)) / share))


def _newest_rows(filtered: Filtered, *, rows: int, below: int | None) -> Select:
    """The newest `rows` articles passing the filters (below id `below`): id and tsvector."""
    query = filtered(select(Article.id, VECTOR.label("vector")))
    if below is not None:
        query = query.where(Article.id < below)
    return query.order_by(Article.id.desc()).limit(rows)


def _walk(
    session: Session,
    tsq: ColumnElement,
    filtered: Filtered,
    *,
    rows: int,
    below: int | None,
    limit: int,
) -> list[int]:
    """Of the newest `rows` articles passing the filters, the newest `limit` matching `tsq`:
    the filters are checked on the row first, the tsvector only of the rows that pass them."""
    walk = _newest_rows(filtered, rows=rows, below=below).subquery()
    query = select(walk.c.id).where(walk.c.vector.op("@@")(tsq))
    return list(session.execute(query.order_by(walk.c.id.desc()).limit(limit)).scalars())


def _bitmaps(
    session: Session, tsq: ColumnElement, filtered: Filtered, limit: int, below: int, window: int
) -> list[int]:
    """The newest `limit` articles below id `below` matching `tsq` and the filters, looked for
    through bitmaps among the `window` ids below `below` (a bitmap of those ids ANDed with the
    GIN index's), then among all (the GIN index's matches alone: a bitmap of most ids, which
    the planner may AND when it has no statistics, costs more than it saves)."""
    query = filtered(select(Article.id).where(VECTOR.op("@@")(tsq)), rows_first=True)
    query = query.order_by(Article.id.desc()).limit(limit)
    with _plan(session, _BITMAPS):
        if window < min(below // 2, _MAX_WINDOW):
            bounds = Article.id.between(below - window, below - 1)
            ids = list(session.execute(query.where(bounds)).scalars())
            if len(ids) >= limit:
                return ids
        unindexed = Article.id + 0 < below  # (+ 0: a bound the id index cannot take)
        return list(session.execute(query.where(unindexed)).scalars())


def _recheck(session: Session, tsq: ColumnElement, ids: list[int]) -> list[int]:
    """Those of `ids` (newest first) whose article matches `tsq`."""
    if not ids:
        return []
    query = select(Article.id).where(
        Article.id == any_(bindparam("ids", ids, type_=ARRAY(BigInteger))), VECTOR.op("@@")(tsq)
    )
    return sorted(session.execute(query).scalars(), reverse=True)


_WEIGHTS = re.compile(r":([*A-Da-d]*)")


def _gin_exact(tsquery: str) -> str | None:
    """`tsquery` with its phrases loosened to ANDs and its weights (fields) dropped: a query the
    GIN index answers without reading any row's tsvector, matched by every article `tsquery`
    matches. None if there is nothing to loosen, or a negation (loosening under NOT would
    narrow), or anything but quoted lexemes, & | ( ) and <-> (api.query writes no more)."""
    out, i, loosened = [], 0, False
    while i < len(tsquery):
        if tsquery[i] == "'":
            end = _closing_quote(tsquery, i)
            if end is None:
                return None
            out.append(tsquery[i : end + 1])
            flags = _WEIGHTS.match(tsquery, end + 1)
            i = flags.end() if flags else end + 1
            if flags:
                loosened |= flags.group(1).strip("*") != ""
                out.append(":*" if "*" in flags.group(1) else "")
        elif tsquery.startswith("<->", i):
            out.append("&")
            loosened, i = True, i + 3
        elif tsquery[i] in "&|() ":
            out.append(tsquery[i])
            i += 1
        else:
            return None
    return "".join(out) if loosened else None


def _closing_quote(tsquery: str, start: int) -> int | None:
    """Index of the quote closing the lexeme quoted at `start` ('' and \\x escape)."""
    i = start + 1
    while i < len(tsquery):
        if tsquery[i] == "\\" or tsquery.startswith("''", i):
            i += 2
        elif tsquery[i] == "'":
            return i
        else:
            i += 1
    return None


@contextmanager
def _plan(session: Session, settings: dict[str, str]) -> Iterator[None]:
    """Within: these planner settings (for this transaction; restored after)."""
    names = list(settings)
    swap = ", ".join(
        f"current_setting('{n}'), set_config('{n}', :v{i}, true)" for i, n in enumerate(names)
    )
    row = session.execute(
        text_sql(f"SELECT {swap}"), {f"v{i}": settings[n] for i, n in enumerate(names)}
    ).one()
    try:
        yield
    finally:
        restore = ", ".join(f"set_config('{n}', :v{i}, true)" for i, n in enumerate(names))
        session.execute(
            text_sql(f"SELECT {restore}"), {f"v{i}": row[2 * i] for i in range(len(names))}
        )
