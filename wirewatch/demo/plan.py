"""The demo's outlets and its publishing plan: who publishes what, in which form, and when.

The plan is fixed (no randomness), so every run publishes the same items in the same order and
the summary can be checked: wire stories first appear in full at one outlet, then other outlets
republish them later with a new headline, a shorter text and a credit line or bare dateline.
"""

from __future__ import annotations

from dataclasses import dataclass

from wirewatch.demo.catalogue import REPORTS, WIRE_STORIES, WireStory


@dataclass(frozen=True)
class Outlet:
    slug: str
    name: str
    template: str  # see wirewatch.demo.pages.TEMPLATES


OUTLETS: tuple[Outlet, ...] = (
    Outlet("harbour-gazette", "The Harbour Gazette", "newspaper"),
    Outlet("daily-meridian", "Daily Meridian", "wordpress"),
    Outlet("northfield-courier", "Northfield Courier", "blog"),
    Outlet("valley-post", "The Valley Post", "magazine"),
    Outlet("coastline-news", "Coastline News", "amp"),
    Outlet("evening-ledger", "The Evening Ledger", "wordpress"),
    Outlet("metro-today", "Metro Today", "newspaper"),
)
OUTLET_BY_SLUG = {o.slug: o for o in OUTLETS}


@dataclass(frozen=True)
class Item:
    """One article an outlet publishes `at` (a fraction of the publishing window)."""

    at: float
    outlet: str
    key: str  # the story's key: copies of one wire story share it
    headline: str
    byline: str
    paragraphs: tuple[str, ...]
    wire: str | None  # the agency, for wire copies

    @property
    def summary(self) -> str:
        first = self.paragraphs[0]
        return first if len(first) <= 240 else first[:237].rsplit(" ", 1)[0] + "…"


# How each wire story travels: (outlet, form) in order of publication. Forms:
#   full      the agency's headline and whole text, "CITY (Agency) -" dateline
#   credit    a new headline, no dateline, the last paragraph cut, "Source: Agency" at the end
#   dateline  another headline, a bare "(Agency) -" dateline, the first four paragraphs
SPREAD: dict[str, tuple[tuple[str, str], ...]] = {
    "port-strike": (
        ("daily-meridian", "full"),
        ("harbour-gazette", "credit"),
        ("metro-today", "dateline"),
    ),
    "east-africa-drought": (
        ("evening-ledger", "full"),
        ("valley-post", "credit"),
        ("daily-meridian", "dateline"),
        ("coastline-news", "credit"),
    ),
    "car-recall": (("metro-today", "full"), ("evening-ledger", "dateline")),
    "copper-mine": (
        ("daily-meridian", "full"),
        ("northfield-courier", "credit"),
        ("evening-ledger", "dateline"),
    ),
    "jet-order": (("harbour-gazette", "full"), ("metro-today", "credit")),
    "desert-heat": (
        ("coastline-news", "full"),
        ("daily-meridian", "credit"),
        ("valley-post", "dateline"),
    ),
    "satellite-launch": (("evening-ledger", "full"), ("northfield-courier", "dateline")),
    "stolen-manuscript": (
        ("valley-post", "full"),
        ("harbour-gazette", "credit"),
        ("metro-today", "dateline"),
    ),
    "delta-floods": (
        ("metro-today", "full"),
        ("coastline-news", "credit"),
        ("evening-ledger", "dateline"),
        ("northfield-courier", "credit"),
    ),
    "northern-wildfire": (
        ("harbour-gazette", "full"),
        ("daily-meridian", "dateline"),
        ("valley-post", "credit"),
    ),
}
# When the first copies of successive stories appear, and how long after it each republication
# follows (fractions of the publishing window).
FIRST_SPAN = 0.72
REPUBLISH_DELAYS = (0.0, 0.06, 0.14, 0.24)


def wire_copy(story: WireStory, form: str, order: int) -> tuple[str, str, tuple[str, ...]]:
    """(headline, byline, paragraphs) of one outlet's copy of a wire story in `form`."""
    first, *rest = story.paragraphs
    agency = story.agency
    if form == "full":
        text = (f"{story.dateline} ({agency}) - {first}", *rest)
        return story.headlines[0], f"{agency} staff", text
    headline = story.headlines[1 + order % (len(story.headlines) - 1)]
    if form == "credit":
        return headline, "Staff and agencies", (first, *rest[:-1], f"Source: {agency}")
    if form == "dateline":
        return headline, "News desk", (f"({agency}) - {first}", *rest[:3])
    raise ValueError(f"unknown form {form!r}")


def publishing_plan() -> list[Item]:
    """Every item of one run, in order of publication."""
    items: list[Item] = []
    stories = {s.key: s for s in WIRE_STORIES}
    events: list[str] = []
    reports = list(REPORTS)
    for n, key in enumerate(SPREAD):
        events.append(key)
        if n % 3 == 1 and reports:
            events.append(reports.pop(0).key)
    events += [r.key for r in reports]
    by_key = {r.key: r for r in REPORTS}
    for n, key in enumerate(events):
        start = FIRST_SPAN * n / max(1, len(events) - 1)
        if key in by_key:
            r = by_key[key]
            items.append(Item(start, r.outlet, r.key, r.headline, r.byline, r.paragraphs, None))
            continue
        story = stories[key]
        for order, (outlet, form) in enumerate(SPREAD[key]):
            headline, byline, paragraphs = wire_copy(story, form, order)
            at = min(1.0, start + REPUBLISH_DELAYS[order])
            items.append(Item(at, outlet, key, headline, byline, paragraphs, story.agency))
    return sorted(items, key=lambda i: (i.at, i.outlet))


def expected_figures() -> dict[str, int]:
    """What a complete run on an empty database ends with: articles, stories, joined stories."""
    wire_copies = sum(len(v) for v in SPREAD.values())
    return {
        "articles": wire_copies + len(REPORTS),
        "stories": len(SPREAD) + len(REPORTS),
        "joined_stories": sum(1 for v in SPREAD.values() if len(v) > 1),
    }
