"""Human-readable alert text (subject, plain text, HTML) for email and Apprise channels."""

from __future__ import annotations

import html
import re
from datetime import datetime

from worker.alerts.model import Alert
from worker.alerts.payload import iso_utc

SUBJECT_MAX = 200
_SPACES = re.compile(r"\s+")


def one_line(text: object, limit: int = SUBJECT_MAX) -> str:
    """`text` on one line (no CR/LF: header-safe), cut to `limit` characters with an ellipsis."""
    flat = _SPACES.sub(" ", str(text or "")).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def title_of(alert: Alert) -> str:
    """"<topic>: <story title>", or "<topic>: N new stories" for a digest."""
    topic = one_line(alert.topic.get("name") or "topic", 80)
    if alert.is_digest:
        count = len(alert.stories or [])
        return one_line(f"{topic}: {count} new {'story' if count == 1 else 'stories'}")
    return one_line(f"{topic}: {_story_title(alert.story, alert.article)}")


def subject_of(alert: Alert) -> str:
    return one_line(f"[Wirewatch] {title_of(alert)}")


def text_of(alert: Alert) -> str:
    """The plain-text body: one block per story (title, link, source, first seen)."""
    lines = [f"New {'stories' if alert.is_digest else 'story'} for your topic "
             f"\"{one_line(alert.topic.get('name'), 120)}\":", ""]
    for story, article in _entries(alert):
        lines.append(_story_title(story, article))
        link = _link(story, article)
        if link:
            lines.append(link)
        facts = _facts(story, article)
        if facts:
            lines.append(facts)
        lines.append("")
    query = alert.topic.get("query")
    if query:
        lines.append(f"Topic query: {one_line(query, 500)}")
    return "\n".join(lines).rstrip() + "\n"


def html_of(alert: Alert) -> str:
    """The HTML alternative of `text_of`; every value escaped, links only to http(s) URLs."""
    esc = html.escape
    topic = esc(one_line(alert.topic.get("name"), 120))
    parts = [f"<p>New {'stories' if alert.is_digest else 'story'} for your topic "
             f"<strong>{topic}</strong>:</p>", "<ul>"]
    for story, article in _entries(alert):
        title = esc(_story_title(story, article))
        link = _link(story, article)
        heading = f'<a href="{esc(link, quote=True)}">{title}</a>' if link else title
        facts = _facts(story, article)
        parts.append(f"<li><p>{heading}</p>" + (f"<p><small>{esc(facts)}</small></p>"
                                                 if facts else "") + "</li>")
    parts.append("</ul>")
    query = alert.topic.get("query")
    if query:
        parts.append(f"<p><small>Topic query: <code>{esc(one_line(query, 500))}</code>"
                     "</small></p>")
    return "<!DOCTYPE html>\n<html><body>\n" + "\n".join(parts) + "\n</body></html>\n"


def _entries(alert: Alert) -> list[tuple[dict, dict]]:
    if alert.is_digest:
        return [(story, story.get("article") or {}) for story in alert.stories or []]
    return [(alert.story, alert.article)]


def _story_title(story: dict, article: dict) -> str:
    return one_line(story.get("title") or article.get("title") or "(untitled story)", 160)


def _link(story: dict, article: dict) -> str | None:
    for candidate in (article.get("url"), story.get("url")):
        if isinstance(candidate, str) and candidate.lower().startswith(("https://", "http://")):
            return one_line(candidate, 2000)
    return None


def _facts(story: dict, article: dict) -> str:
    facts = []
    source = article.get("source") or story.get("wire_source")
    if source:
        facts.append(f"Source: {one_line(source, 80)}")
    if story.get("wire_source") and story.get("wire_source") != source:
        facts.append(f"Wire: {one_line(story['wire_source'], 80)}")
    members = story.get("members")
    count = len(members) if isinstance(members, list | tuple) else members
    if isinstance(count, int) and count > 1:
        facts.append(f"{count} copies")
    seen = story.get("first_seen")
    if seen:
        facts.append(f"First seen: {iso_utc(seen) if isinstance(seen, datetime) else seen}")
    return " · ".join(facts)
