"""Generated news for the pipeline and soak benchmarks: stories, wire copies, pages and feeds.

The same seed always yields the same stories and bytes. A story is 600-900 words of its own
(common English words drawn at random, so no two stories are near-duplicates) carrying one or
two topic keywords in its first two paragraphs; a wire story is republished by other outlets in
the demo's forms (full with "CITY (Agency) -", credit line with the last paragraph cut, bare
dateline with the first three quarters). Pages use the demo's outlet templates (navigation, ad
slots, newsletter boxes, related links, comment forms around the text).

A page's path names its story: /f<feed>/<story key>.html, so an alert's URL tells its story.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import lru_cache
from html import escape

from wirewatch.demo.pages import TEMPLATES, render_page
from wirewatch.demo.plan import Item, Outlet

AGENCIES = ("Reuters", "AP", "AFP")
CITIES = ("LONDON", "NAIROBI", "LIMA", "OSLO", "MANILA", "CAIRO", "QUITO", "HANOI", "ACCRA")
FORMS = ("credit", "dateline", "credit", "dateline")
BYLINES = ("Maria Lopez", "Tom Reid", "Aiko Tanaka", "Samuel Okoro", "Lena Fischer")


@lru_cache(maxsize=1)
def vocabulary() -> list[str]:
    from wordfreq import top_n_list

    return [w for w in top_n_list("en", 3000) if w.isalpha() and len(w) > 2]


@lru_cache(maxsize=1)
def topic_words() -> list[str]:
    """Rarer words (never in the body vocabulary): topic i matches the stories carrying word i."""
    from wordfreq import top_n_list

    common = set(vocabulary())
    words = [w for w in top_n_list("en", 20000)[6000:] if w.isalpha() and len(w) >= 6]
    return [w for w in words if w not in common][:1000]


def topic_query(i: int) -> str:
    return topic_words()[i]


def _seed(*parts: object) -> int:
    return zlib.crc32("/".join(map(str, parts)).encode())


@dataclass(frozen=True)
class Story:
    key: str  # "s123" own report or "w45" wire story
    headline: str
    paragraphs: tuple[str, ...]
    topics: tuple[int, ...]  # topic indexes whose keyword the text carries
    agency: str | None = None
    dateline: str | None = None


def make_story(key: str, *, topics: int, seed: int = 0, version: int = 0) -> Story:
    """Story `key` (a "w" key is a wire story); `version` > 0 is an edit: new sentences added."""
    rng = random.Random(_seed(seed, key))
    vocab = vocabulary()
    n_topics = 2 if rng.random() < 0.25 else 1
    picked = tuple(sorted({rng.randrange(topics) for _ in range(n_topics)}))
    target = rng.randint(620, 880)
    paragraphs: list[str] = []
    words = 0
    while words < target:
        sentences = []
        for _ in range(rng.randint(2, 4)):
            sentence = rng.choices(vocab, k=rng.randint(12, 22))
            sentences.append(" ".join(sentence).capitalize() + ".")
        paragraph = " ".join(sentences)
        words += paragraph.count(" ") + 1
        paragraphs.append(paragraph)
    for n, t in enumerate(picked):
        word = topic_words()[t]
        for p in (0, 1):
            paragraphs[p] = f"{paragraphs[p][:-1]}, said the {word} office{'s' if n else ''}."
    if version:
        edit = random.Random(_seed(seed, key, "edit", version))
        extra = " ".join(edit.choices(vocab, k=18)).capitalize()
        paragraphs.append(f"Updated: {extra}.")
    headline = " ".join(rng.choices(vocab, k=rng.randint(6, 10))).capitalize()
    wire = key.startswith("w")
    return Story(
        key=key,
        headline=headline,
        paragraphs=tuple(paragraphs),
        topics=picked,
        agency=AGENCIES[rng.randrange(len(AGENCIES))] if wire else None,
        dateline=CITIES[rng.randrange(len(CITIES))] if wire else None,
    )


def copy_text(story: Story, form: str, order: int) -> tuple[str, str, tuple[str, ...]]:
    """(headline, byline, paragraphs) of one outlet's copy (`form`: own, full, credit, dateline)."""
    first, *rest = story.paragraphs
    if form == "own":
        return story.headline, BYLINES[_seed(story.key) % len(BYLINES)], story.paragraphs
    agency = story.agency or "Reuters"
    if form == "full":
        return story.headline, f"{agency} staff", (f"{story.dateline} ({agency}) - {first}", *rest)
    headline = f"{story.headline.split(' ', 1)[-1].capitalize()} ({order})"
    if form == "credit":
        return headline, "Staff and agencies", (first, *rest[:-1], f"Source: {agency}")
    if form == "dateline":
        keep = max(3, round(len(rest) * 0.75))
        return headline, "News desk", (f"({agency}) - {first}", *rest[:keep])
    raise ValueError(f"unknown form {form!r}")


def outlet(feed: int) -> Outlet:
    return Outlet(f"outlet-{feed}", f"Outlet {feed} News", TEMPLATES[feed % len(TEMPLATES)])


def page_path(feed: int, story_key: str) -> str:
    return f"/f{feed}/{story_key}.html"


def story_of_url(url: str) -> str | None:
    """The story key in a page URL (None for anything else)."""
    name = url.rsplit("/", 1)[-1]
    return name[:-5] if name.endswith(".html") else None


PAGE_WEIGHTS = ("lean", "real")  # the demo templates alone / dressed as a live site's page


def render_copy_page(
    story: Story,
    *,
    feed: int,
    form: str,
    order: int,
    published: datetime,
    url: str,
    weight: str = "lean",
) -> bytes:
    """One outlet's page of `story`: the demo template alone (about 8 KB), or with `weight`
    "real" the chrome of a live news site around it (bench/page_weight.py, about 140 KB)."""
    headline, byline, paragraphs = copy_text(story, form, order)
    site = outlet(feed)
    item = Item(0.0, site.slug, story.key, headline, byline, paragraphs, story.agency)
    page = render_page(item, outlet=site, published=published, url=url)
    if weight == "real":
        from bench.page_weight import dress

        page = dress(
            page, slug=site.slug, key=story.key, headline=headline, url=url, vocab=vocabulary()
        )
    elif weight != "lean":
        raise ValueError(f"unknown page weight {weight!r}; expected one of {PAGE_WEIGHTS}")
    return page.encode()


@dataclass(frozen=True)
class FeedEntry:
    guid: str
    url: str
    title: str
    summary: str
    published: datetime


def render_feed(feed: int, entries: list[FeedEntry], *, site_url: str) -> bytes:
    """RSS 2.0, newest first, with stable non-permalink guids."""
    parts = [
        f"<item><title>{escape(e.title)}</title><link>{escape(e.url)}</link>"
        f'<guid isPermaLink="false">{escape(e.guid)}</guid>'
        f"<description>{escape(e.summary)}</description>"
        f"<pubDate>{format_datetime(e.published)}</pubDate></item>"
        for e in sorted(entries, key=lambda e: e.published, reverse=True)
    ]
    name = outlet(feed).name
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{escape(name)}</title><link>{escape(site_url)}</link>"
        f"<description>News from {escape(name)}</description>" + "".join(parts) + "</channel></rss>"
    ).encode()


def summary_of(paragraphs: tuple[str, ...]) -> str:
    first = paragraphs[0]
    return first if len(first) <= 240 else first[:237].rsplit(" ", 1)[0] + "…"


@dataclass(frozen=True)
class Planned:
    """One article of the pipeline benchmark's plan: `story` published by `feed` in `form`."""

    feed: int
    story: str
    form: str
    order: int  # 0 for the first copy of a story, then 1, 2, …


def pipeline_plan(*, feeds: int, articles: int, wire_share: float = 0.3, seed: int = 0):
    """`articles` items over `feeds` outlets in publication order; about `wire_share` of them
    are republished copies of wire stories (2-4 copies after the agency's full text)."""
    rng = random.Random(_seed(seed, "plan", feeds, articles))
    copies_wanted = round(articles * wire_share)
    plan: list[list[Planned]] = []  # one list per story, its copies in order
    copies = 0
    n = 0
    while copies < copies_wanted and sum(map(len, plan)) < articles:
        k = min(rng.randint(2, 4), copies_wanted - copies, feeds - 1)
        if k <= 0:
            break
        chosen = rng.sample(range(feeds), k + 1)
        key = f"w{n}"
        group = [Planned(chosen[0], key, "full", 0)]
        group += [Planned(f, key, FORMS[i % len(FORMS)], i + 1) for i, f in enumerate(chosen[1:])]
        plan.append(group)
        copies += k
        n += 1
    own = articles - sum(map(len, plan))
    plan += [[Planned(rng.randrange(feeds), f"s{i}", "own", 0)] for i in range(own)]
    rng.shuffle(plan)
    # Copies follow their original within the next few dozen items.
    order: list[tuple[float, Planned]] = []
    for position, group in enumerate(plan):
        for i, item in enumerate(group):
            order.append((position + i * rng.uniform(3, 40), item))
    order.sort(key=lambda pair: pair[0])
    return [item for _, item in order]


def now_utc() -> datetime:
    return datetime.now(UTC)
