"""Synthetic news archives for bench/api.py: N articles in stories, bulk-loaded fast (COPY on
PostgreSQL, executemany in large transactions on SQLite) with the search index the app keeps.

Words follow Zipf's law (rank k has probability ~1/k over a 50,000-word vocabulary `w1`..);
60% of stories carry a theme (Zipf-popular: "election" is common, "referendum" rare) whose
words and phrases are woven into every copy's title and text. Stories have 1-8 copies from 200
outlets; 15% of copies come from a wire agency; 5,000 articles a day. Five topics (owned by the
user `bench`) tag the articles and stories of the first five themes (article_topic, story_topic,
and each article's `topic_ids`, as the pipeline writes them).

The search index is filled as the app fills it (migrations 0002, 0008): on SQLite the
`article_fts` triggers fire on every INSERT; on PostgreSQL `search_vector` is a generated column
computed by COPY, and the GIN index of words and topics is dropped for the load and rebuilt with
the same definition after.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg

VOCABULARY = 50_000
PER_DAY = 5_000
FEEDS = 200
WIRES = ("AP", "Reuters", "AFP")
T0 = datetime(2025, 6, 1, tzinfo=UTC)
THEMES = [
    ("election", "vote", "campaign", "polling stations", "ballot"),
    ("inflation", "central bank", "interest rates", "prices"),
    ("storm", "flood", "weather service", "evacuation"),
    ("treaty", "minister", "summit", "foreign ministers"),
    ("football", "sport", "league", "coach"),
    ("earthquake", "rescue teams", "aftershock"),
    ("budget", "parliament", "finance minister", "deficit"),
    ("wildfire", "firefighters", "drought"),
    ("strike", "union", "wage talks"),
    ("vaccine", "health ministry", "outbreak"),
    ("tariff", "trade talks", "exports"),
    ("cyberattack", "ransomware", "hackers"),
    ("protest", "police", "tear gas"),
    ("merger", "shareholders", "takeover bid"),
    ("heatwave", "temperatures", "power grid"),
    ("court", "verdict", "appeal"),
    ("satellite", "launch", "space agency"),
    ("refugees", "border", "asylum"),
    ("oil", "opec", "crude prices"),
    ("referendum", "turnout", "constitutional change"),
]
TOPIC_THEMES = 5  # topics tag the first five themes


@dataclass(frozen=True)
class Archive:
    """What was loaded: sizes and the ids and times queries can filter on."""

    articles: int
    stories: int
    newest: datetime
    topic_ids: list[int]
    user_id: int


class Generator:
    """Articles in id order, reproducible from the seed."""

    def __init__(self, n: int, seed: int = 7) -> None:
        self.n = n
        self.rng = np.random.default_rng(seed)
        weights = 1.0 / np.arange(1, VOCABULARY + 1)
        self.cdf = np.cumsum(weights / weights.sum())
        self.vocab = [f"w{k}" for k in range(1, VOCABULARY + 1)]
        theme_weights = 1.0 / np.arange(1, len(THEMES) + 1)
        self.theme_p = theme_weights / theme_weights.sum()
        sizes = []
        while sum(sizes) < n:  # story sizes 1..8, mean ~2.7
            sizes.extend(np.minimum(self.rng.geometric(0.4, 10_000), 8).tolist())
        self.story_of = np.repeat(np.arange(1, len(sizes) + 1), sizes)[:n]
        self.stories = int(self.story_of[-1])
        themed = self.rng.random(self.stories) < 0.6
        theme = self.rng.choice(len(THEMES), size=self.stories, p=self.theme_p)
        self.theme = np.where(themed, theme, -1)  # per story, 0-based; -1: no theme
        self.feed = self.rng.integers(1, FEEDS + 1, n)
        wire = self.rng.integers(0, len(WIRES), n)
        self.wire = np.where(self.rng.random(n) < 0.15, wire, -1)
        self.lang = self.rng.choice(3, size=n, p=[0.85, 0.10, 0.05])

    @staticmethod
    def when(i: int) -> datetime:
        """Publication time of article index i (0-based)."""
        return T0 + timedelta(seconds=i * 86_400 / PER_DAY)

    def _words(self, count: int) -> list[str]:
        ids = np.searchsorted(self.cdf, self.rng.random(count))
        return [self.vocab[k] for k in ids.tolist()]

    def batch(self, start: int, stop: int) -> list[tuple]:
        """(id, feed, story, theme, title, text, when, wire, lang) of articles start..stop-1."""
        lengths = self.rng.integers(120, 400, stop - start)
        words = self._words(int(lengths.sum()) + 8 * (stop - start))
        pos, rows = 0, []
        for j, i in enumerate(range(start, stop)):
            title = words[pos : pos + 8]
            text = words[pos + 8 : pos + 8 + int(lengths[j])]
            pos += 8 + int(lengths[j])
            story = int(self.story_of[i])
            theme = int(self.theme[story - 1])
            if theme >= 0:
                terms = THEMES[theme]
                title[int(self.rng.integers(0, 8))] = terms[int(self.rng.integers(0, len(terms)))]
                for _ in range(int(self.rng.integers(3, 9))):
                    k = int(self.rng.integers(0, len(text)))
                    text[k] = terms[int(self.rng.integers(0, len(terms)))]
            wire = int(self.wire[i])
            rows.append(
                (
                    i + 1,
                    int(self.feed[i]),
                    story,
                    theme,
                    " ".join(title),
                    " ".join(text),
                    self.when(i),
                    WIRES[wire] if wire >= 0 else None,
                    ("en", "de", "fr")[self.lang[i]],
                )
            )
        return rows


ARTICLE_COLUMNS = (
    "id",
    "feed_id",
    "entry_key",
    "url",
    "title",
    "text",
    "state",
    "state_changed_at",
    "created_at",
    "published",
    "attempts",
    "story_id",
    "language",
    "word_count",
    "wire_source",
    "processed_at",
    "topic_ids",
)


def _article_row(row: tuple, when: object, topic_ids: object) -> tuple:
    aid, feed, story, _theme, title, text, _dt, wire, lang = row
    return (
        aid,
        feed,
        f"e{aid}",
        f"https://f{feed}.test/a/{aid}",
        title,
        text,
        "processed",
        when,
        when,
        when,
        1,
        story,
        lang,
        text.count(" ") + 1,
        wire,
        when,
        topic_ids,
    )


def _topics_of(row: tuple, topic_ids: list[int]) -> list[int] | None:
    """The `topic_ids` of an article row of Generator.batch (as `_tags` tags it)."""
    theme = row[3]
    return [topic_ids[theme]] if 0 <= theme < TOPIC_THEMES else None


def _story_rows(gen: Generator) -> list[tuple]:
    """(id, title, first_seen, member_count, wire, first_article) per story."""
    first = np.searchsorted(gen.story_of, np.arange(1, gen.stories + 1))
    counts = np.bincount(gen.story_of, minlength=gen.stories + 1)[1:]
    rows = []
    for s in range(gen.stories):
        i = int(first[s])
        wire = int(gen.wire[i])
        rows.append(
            (
                s + 1,
                f"story {s + 1}",
                gen.when(i),
                int(counts[s]),
                WIRES[wire] if wire >= 0 else None,
                i + 1,
            )
        )
    return rows


def fill_postgres(url: str, n: int, *, batch: int = 20_000) -> Archive:
    gen = Generator(n)
    cols = ", ".join(ARTICLE_COLUMNS)
    with psycopg.connect(url) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        search_index = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_article_search_topics'"
        ).fetchone()[0]
        conn.execute("DROP INDEX ix_article_search_topics")
        user_id, topic_ids = _owner_and_topics_pg(conn)
        with conn.cursor().copy(
            "COPY feed (id, url, title, next_poll_at, created_at, error_count, disabled) FROM STDIN"
        ) as copy:
            for f in range(1, FEEDS + 1):
                copy.write_row((f, f"https://f{f}.test/rss", f"Outlet {f}", T0, T0, 0, False))
        with conn.cursor().copy(
            "COPY story (id, title, first_seen_at, updated_at, member_count, wire_source, "
            "first_article_id, representative_article_id) FROM STDIN"
        ) as copy:
            for sid, title, seen, count, wire, first in _story_rows(gen):
                copy.write_row((sid, title, seen, seen, count, wire, first, first))
        conn.commit()
        for start in range(0, n, batch):
            rows = gen.batch(start, min(n, start + batch))
            with conn.cursor() as cur:
                with cur.copy(f"COPY article ({cols}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(_article_row(row, row[6], _topics_of(row, topic_ids)))
                _tag_pg(cur, rows, topic_ids)
            conn.commit()
        for table in ("feed", "story", "article"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        conn.execute(search_index)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    return Archive(n, gen.stories, gen.when(n - 1), topic_ids, user_id)


def _owner_and_topics_pg(conn: psycopg.Connection) -> tuple[int, list[int]]:
    user_id = conn.execute(
        'INSERT INTO "user" (name, is_admin, created_at) VALUES (%s, %s, %s) RETURNING id',
        ("bench", True, T0),
    ).fetchone()[0]
    topic_ids = []
    for t in range(TOPIC_THEMES):
        topic_ids.append(
            conn.execute(
                "INSERT INTO topic (owner_id, name, query, private, feed_token, created_at, "
                "updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (user_id, THEMES[t][0], THEMES[t][0], True, f"tok{t}", T0, T0),
            ).fetchone()[0]
        )
    return user_id, topic_ids


def _tags(rows: list[tuple], topic_ids: list[int]) -> tuple[list[tuple], list[tuple]]:
    """(article_id, topic_id) and (story_id, topic_id, first_matched_at, article_id) rows."""
    articles, stories, seen = [], [], set()
    for aid, _feed, story, theme, *_rest in rows:
        if 0 <= theme < TOPIC_THEMES:
            articles.append((aid, topic_ids[theme]))
            if story not in seen:
                seen.add(story)
                stories.append((story, topic_ids[theme], rows[0][6], aid))
    return articles, stories


def _tag_pg(cur: psycopg.Cursor, rows: list[tuple], topic_ids: list[int]) -> None:
    articles, stories = _tags(rows, topic_ids)
    with cur.copy("COPY article_topic (article_id, topic_id) FROM STDIN") as copy:
        for row in articles:
            copy.write_row(row)
    cur.executemany(
        "INSERT INTO story_topic (story_id, topic_id, first_matched_at, article_id) "
        "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
        stories,
    )


def fill_sqlite(path: str, n: int, *, batch: int = 50_000) -> Archive:
    gen = Generator(n)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")
    fmt = "%Y-%m-%d %H:%M:%S.%f"  # naive UTC text, as storage.models.UTCDateTime writes it
    t0 = T0.strftime(fmt)
    conn.execute("BEGIN")
    user_id = conn.execute(
        'INSERT INTO "user" (name, is_admin, created_at) VALUES (?, ?, ?) RETURNING id',
        ("bench", True, t0),
    ).fetchone()[0]
    topic_ids = [
        conn.execute(
            "INSERT INTO topic (owner_id, name, query, private, feed_token, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (user_id, THEMES[t][0], THEMES[t][0], True, f"tok{t}", t0, t0),
        ).fetchone()[0]
        for t in range(TOPIC_THEMES)
    ]
    conn.executemany(
        "INSERT INTO feed (id, url, title, next_poll_at, created_at, error_count, disabled) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (f, f"https://f{f}.test/rss", f"Outlet {f}", t0, t0, 0, False)
            for f in range(1, FEEDS + 1)
        ],
    )
    conn.executemany(
        "INSERT INTO story (id, title, first_seen_at, updated_at, member_count, wire_source, "
        "first_article_id, representative_article_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (s, t, w.strftime(fmt), w.strftime(fmt), c, wire, f, f)
            for s, t, w, c, wire, f in _story_rows(gen)
        ],
    )
    conn.execute("COMMIT")
    marks = ", ".join("?" * len(ARTICLE_COLUMNS))
    for start in range(0, n, batch):
        rows = gen.batch(start, min(n, start + batch))
        articles, stories = _tags(rows, topic_ids)
        values = []
        for row in rows:
            topics = _topics_of(row, topic_ids)  # JSON text, as storage.models.ID_LIST writes it
            values.append(_article_row(row, row[6].strftime(fmt), topics and json.dumps(topics)))
        conn.execute("BEGIN")
        conn.executemany(
            f"INSERT INTO article ({', '.join(ARTICLE_COLUMNS)}) VALUES ({marks})", values
        )
        conn.executemany("INSERT INTO article_topic (article_id, topic_id) VALUES (?, ?)", articles)
        conn.executemany(
            "INSERT OR IGNORE INTO story_topic (story_id, topic_id, first_matched_at, article_id) "
            "VALUES (?, ?, ?, ?)",
            [(s, t, w.strftime(fmt), a) for s, t, w, a in stories],
        )
        conn.execute("COMMIT")
    conn.execute("PRAGMA optimize")
    conn.close()
    return Archive(n, gen.stories, gen.when(n - 1), topic_ids, user_id)


def archive_of(url: str) -> Archive:
    """The Archive of a database an earlier run filled (and kept)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        user_id = conn.execute(text("SELECT id FROM \"user\" WHERE name = 'bench'")).scalar_one()
        topic_ids = list(
            conn.execute(
                text("SELECT id FROM topic WHERE owner_id = :u ORDER BY id"), {"u": user_id}
            ).scalars()
        )
        n = conn.execute(text("SELECT count(*) FROM article")).scalar_one()
        stories = conn.execute(text("SELECT count(*) FROM story")).scalar_one()
    engine.dispose()
    return Archive(n, stories, Generator.when(n - 1), topic_ids, user_id)
