"""Joining an article to its story: fingerprint, look up candidates in the shared index, verify,
attach (or merge). Runs inside the transaction that stores the cleaned article.

Keys per article (storage.models.KeyKind): the LSH band keys of its MinHash (candidates, verified
by containment and Jaccard), the hash of its normalised text and of its canonical URL (exact
copies, joined without verification), and its normalised title (candidates for texts under
MIN_WORDS, verified by the title + outlet rule).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlmodel import Session

from storage import stories as story_store
from storage.models import Article, KeyKind
from worker.dedup import decide, shingle, short_text_match, title_key
from worker.dedup.normalise import Shingles
from worker.dedup.sketch import Fingerprint, fingerprint_of, matchable, strip_title

# Verify at most this many members of each candidate story (the ones sharing most keys).
PER_STORY = 3
# Shingles of this many recent texts are kept: the copies of a wire story arrive minutes apart,
# so a copy is usually verified against texts this process shingled moments ago (~15 KB each).
RECENT_TEXTS = 512


@dataclass(frozen=True)
class Assignment:
    story_id: int
    matched: int  # how many existing stories it matched (0: a new story)
    merged: list[int]


@dataclass(frozen=True)
class Prepared:
    """An article's fingerprint and index keys: pure CPU, worked out before the transaction."""

    fingerprint: Fingerprint | None
    keys: list[tuple[int, int]]
    shingles: Shingles | None  # of the whole text, as `_same_story` compares; None: not yet

    @property
    def content_hash(self) -> str | None:
        return self.fingerprint.content_hash if self.fingerprint else None


def prepare(article: Article) -> Prepared:
    text = article.text or ""
    title = article.title or article.feed_title or ""
    body = strip_title(text, title)
    sh = shingle(body)
    if body == text:
        _recent.put(text, sh)
    fp = fingerprint_of(sh)
    keys = dedup_keys(
        fp, text=text, canonical_url=article.canonical_url or article.url, title=title
    )
    return Prepared(fp, keys, sh if body == text else None)


def assign_story(
    *,
    session: Session,
    article: Article,
    now: datetime,
    window_days: float,
    prepared: Prepared | None = None,
    pending: bool = False,
    index: BatchIndex | None = None,
) -> Assignment:
    """Join `article` to its story (see the module). `prepared`: its `prepare()`, if already
    worked out; `pending`: the caller writes the article's row later in this transaction, with
    the story id and `prepared.content_hash` (see `story_store.attach`); `index`: the view of
    the index of a batch whose keys are locked (see `BatchIndex`), which also takes the
    article's keys; without it, the article's keys are locked, looked up and inserted here."""
    text = article.text or ""
    prepared = prepared or prepare(article)
    fp, keys = prepared.fingerprint, prepared.keys
    if index is not None:
        candidates = index.candidates(keys)
    else:
        story_store.lock_keys(session=session, keys=[k for _, k in keys])
        candidates = story_store.find_candidates(
            session=session, keys=keys, since=now - timedelta(days=window_days), exclude=article.id
        )
    matched = {c.story_id for c in candidates if c.kind in (KeyKind.content, KeyKind.url)}
    to_verify: dict[int, list[int]] = {}
    for c in candidates:
        if c.story_id not in matched and len(to_verify.setdefault(c.story_id, [])) < PER_STORY:
            to_verify[c.story_id].append(c.article_id)
    if to_verify:
        others = story_store.candidate_articles(
            session=session, article_ids=[a for ids in to_verify.values() for a in ids]
        )
        ours = (prepared.shingles or _recent.shingles(text)) if fp is not None else None
        for story_id, ids in to_verify.items():
            if any(_same_story(article, ours, others[i]) for i in ids if i in others):
                matched.add(story_id)
    story_id, merged = story_store.attach(
        session=session, article=article, story_ids=matched, now=now, pending=pending
    )
    if not pending:
        article.content_hash = prepared.content_hash
    assignment = Assignment(story_id=story_id, matched=len(matched), merged=merged)
    if index is not None:
        index.add(article.id, keys, now, assignment)
    else:
        story_store.add_keys(session=session, article_id=article.id, keys=keys, now=now)
    return assignment


class BatchIndex:
    """The index as one batch's transaction sees it, for `assign_story`: the batch's keys locked
    and the window's rows holding them looked up once for all its articles, plus the keys of
    the batch's articles already assigned, which `write` then inserts in one statement. Worth
    ~3 statements per article: an article's own lookup and insert cost more than the
    database's work for them."""

    def __init__(
        self, session: Session, batch: list[tuple[int, Prepared]], *, since: datetime
    ) -> None:
        """`batch`: each article's id and `prepare()`; `since`: the start of the window."""
        keys = {k for _, p in batch for _, k in p.keys}
        # PostgreSQL: every key of the batch locked at once, in order, so that two batches
        # sharing keys wait for each other rather than deadlock; the lookup comes after.
        story_store.lock_keys(session=session, keys=keys)
        self._rows: dict[int, list[tuple[int, int, int]]] = {}  # key -> (article, kind, key)
        rows, self._story_of = story_store.key_rows(
            session=session,
            keys=keys,
            since=since,
            exclude=[article_id for article_id, _ in batch],
        )
        for row in rows:
            self._rows.setdefault(row[2], []).append(row)
        self._moved: dict[int, int] = {}  # story merged away -> the story it went into
        self._added: list[tuple[int, list[tuple[int, int]], datetime]] = []

    def candidates(self, keys: list[tuple[int, int]]) -> list[story_store.Candidate]:
        """As `story_store.find_candidates` would find them in this transaction."""
        rows = [row for key in {k for _, k in keys} for row in self._rows.get(key, ())]
        story_of = {row[0]: self._living(row[0]) for row in rows}
        return story_store.rank_candidates(keys=keys, rows=rows, story_of=story_of)

    def _living(self, article_id: int) -> int | None:
        story_id = self._story_of.get(article_id)
        while story_id in self._moved:
            story_id = self._moved[story_id]
        return story_id

    def add(
        self, article_id: int, keys: list[tuple[int, int]], now: datetime, assignment: Assignment
    ) -> None:
        """The article's keys, now that it is in its story (written by `write`)."""
        for kind, key in keys:
            self._rows.setdefault(key, []).append((article_id, kind, key))
        self._story_of[article_id] = assignment.story_id
        for old in assignment.merged:
            self._moved[old] = assignment.story_id
        self._added.append((article_id, keys, now))

    def write(self, session: Session) -> None:
        """Insert the keys of the articles added, in one statement."""
        story_store.add_many_keys(session=session, items=self._added)
        self._added = []


def _same_story(article: Article, ours, other: Article) -> bool:  # noqa: ANN001
    """The body rule when both texts can be compared by body (the same test as the fingerprint's,
    so the answer does not depend on which copy came first), else the title + outlet rule."""
    if ours is not None:
        theirs = _recent.shingles(other.text or "")
        if matchable(theirs):
            return decide(ours, theirs)
    return short_text_match(
        title_a=article.title or article.feed_title or "",
        title_b=other.title or other.feed_title or "",
        outlet_a=_outlet(article),
        outlet_b=_outlet(other),
        text_a=article.text or "",
        text_b=other.text or "",
    )


class _RecentShingles:
    """The shingles of recently seen texts, keyed by the text itself (so never stale), least
    recently used dropped first; thread-safe (embedded mode's threads share it)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[str, Shingles] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, text: str, sh: Shingles) -> None:
        slim = replace(sh, normalised="")  # only the hashes and counts are compared
        with self._lock:
            self._items[text] = slim
            self._items.move_to_end(text)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def shingles(self, text: str) -> Shingles:
        with self._lock:
            sh = self._items.get(text)
            if sh is not None:
                self._items.move_to_end(text)
                return sh
        sh = shingle(text)
        self.put(text, sh)
        return sh


_recent = _RecentShingles(RECENT_TEXTS)


def _outlet(article: Article) -> str:
    return f"feed:{article.feed_id}" if not article.site_name else article.site_name


def dedup_keys(fp, *, text: str, canonical_url: str | None, title: str) -> list[tuple[int, int]]:  # noqa: ANN001
    """(kind, key) pairs: every key a 63-bit non-negative int for one indexed BIGINT column."""
    keys: list[tuple[int, int]] = []
    if fp is not None:
        keys += [(KeyKind.band.value, k) for k in fp.bands]
        keys.append((KeyKind.content.value, _key(fp.content_hash)))
    if canonical_url and urlsplit(canonical_url).path.strip("/"):
        # A site's home page given as every article's canonical URL must not join them all.
        keys.append((KeyKind.url.value, _key(canonical_url)))
    tk = title_key(title) if title else None
    if tk is not None:
        keys.append((KeyKind.title.value, tk))
    return keys


def _key(value: str) -> int:
    return int.from_bytes(hashlib.blake2b(value.encode(), digest_size=8).digest(), "little") >> 1
