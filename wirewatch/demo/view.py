"""The demo in the terminal: a live view of the pipeline, then a summary and what to try next."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from wirewatch.demo.runner import DemoState

CONSOLE_HOOK = "console"


def _bar(done: int, total: int, width: int = 30) -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_row(ProgressBar(total=max(total, 1), completed=done, width=width), f"{done}/{total}")
    return grid


def live_view(state: DemoState) -> RenderableType:
    """One frame of the live view."""
    f, o = state.figures, state.options
    total = "(--fast: until the work is done)" if o.fast else f"of {o.duration:.0f} s"
    head = Text.assemble(
        ("Wirewatch demo", "bold"),
        f"  {state.elapsed:5.1f} s {total}   ",
        ("Ctrl-C stops", "dim"),
        "\nnewsroom ",
        (state.newsroom_url, "cyan"),
        f" ({state.outlets} outlets)   web UI ",
        (state.api_url or "off", "cyan"),
        (f"  API key {state.api_key}" if state.api_key else "", "dim"),
        "\ndatabase ",
        (state.folder.database_url, "dim"),
        f"  edition {state.folder.edition}" + ("  (reused folder)" if state.folder.reused else ""),
    )
    pipeline = Table(title="Pipeline", title_justify="left", show_header=False, box=None)
    pipeline.add_column(style="bold", min_width=20)
    pipeline.add_column()
    pipeline.add_row("items published", _bar(state.published, state.planned))
    pipeline.add_row(
        "feeds polled",
        f"{state.feed_requests} requests ({state.not_modified} answered 304 Not Modified), "
        f"{f.feeds_polled}/{f.feeds} feeds"
        + (f", {f.feeds_failing} failing" if f.feeds_failing else ""),
    )
    pipeline.add_row("articles cleaned", _bar(f.processed, max(f.articles, state.published)))
    failed = f.articles_by_state.get("failed", 0)
    pipeline.add_row(
        "stories",
        f"{f.stories} ({f.new_stories} new), {f.joined_stories} with several copies"
        + (f", {failed} articles failed" if failed else ""),
    )
    pipeline.add_row(
        "copies joined",
        f"{f.copies_joined} copies joined a story; {f.wire_credited} articles credit a wire agency",
    )
    for t in f.topics:
        pipeline.add_row(
            f"alerts: {t.name}",
            f"{t.alerts_sent} sent to webhook /{t.hook} for {t.matching_stories} matching stories"
            + (f", {t.alerts_pending} due" if t.alerts_pending else "")
            + (f", [red]{t.alerts_failed} failed[/red]" if t.alerts_failed else ""),
        )
    return Group(Panel(head, expand=True), pipeline, _stories(state), _console(state))


def _stories(state: DemoState) -> Table:
    table = Table(title="Latest stories", title_justify="left", expand=True)
    table.add_column("id", justify="right", width=5)
    table.add_column("title", ratio=1, no_wrap=True)
    table.add_column("copies", justify="right")
    table.add_column("wire")
    table.add_column("topics")
    for s in state.figures.latest:
        table.add_row(str(s.id), s.title, str(s.members), s.wire or "", ", ".join(s.topics))
    return table


def _console(state: DemoState) -> Panel:
    """The console subscription: alerts the newsroom's /hooks/console endpoint received."""
    lines = [r for r in state.alerts if r.hook == CONSOLE_HOOK][-6:]
    text = Text()
    for r in lines:
        mark = ("✓", "green") if r.verified else ("✗ bad signature", "red")
        text.append(mark[0], mark[1])
        text.append(f" [{r.topic}] ", "bold")
        text.append(f"story {r.story_id}: {r.title}")
        text.append(f"  ({r.members} cop{'y' if r.members == 1 else 'ies'} so far)\n", "dim")
    if not lines:
        text.append("no alert yet", "dim")
    topic = next((t.name for t in state.topics if t.hook == CONSOLE_HOOK), "")
    return Panel(text, title=f"Console alerts: {topic}", title_align="left")


def summary_view(summary: dict) -> RenderableType:
    """The summary table printed when the demo ends, and where to look next."""
    if summary["interrupted"]:
        outcome = "[yellow]stopped[/yellow]"
    else:
        outcome = "[green]finished[/green]" if summary["finished"] else "[red]unfinished[/red]"
    table = Table(
        title=f"Wirewatch demo {outcome} after {summary['seconds']} s",
        title_justify="left",
        show_header=False,
    )
    table.add_column(style="bold")
    table.add_column(justify="right")
    rows = (
        ("items published", f"{summary['published']}/{summary['planned']}"),
        ("feed requests (304)", f"{summary['feed_requests']} ({summary['not_modified']})"),
        ("articles", str(summary["articles"])),
        ("articles cleaned", str(summary["articles_by_state"].get("processed", 0))),
        ("stories", f"{summary['stories']} ({summary['new_stories']} new)"),
        ("stories with several copies", str(summary["joined_stories"])),
        ("copies joined", str(summary["copies_joined"])),
        ("wire-credited articles", str(summary["wire_credited"])),
    )
    for name, value in rows:
        table.add_row(name, value)
    for t in summary["topics"]:
        table.add_row(
            f"alerts {t['name']}",
            f"{t['alerts_sent']} sent, {t['received']} received, "
            f"{t['matching_stories']} matching stories",
        )
    already = sum(t["matching_stories"] - t["new_matches"] for t in summary["topics"])
    db = summary["database_url"]
    hints = Text.assemble(
        ("Explore the demo's database:\n", "bold"),
        f"  WIREWATCH_DATABASE_URL={db} wirewatch stories list\n",
        f"  WIREWATCH_DATABASE_URL={db} wirewatch deliveries\n",
        f"  WIREWATCH_DATABASE_URL={db} wirewatch api      # the web UI on :8080\n",
        f"Service log: {summary['directory']}/demo.log",
    )
    parts: list[RenderableType] = [table]
    if already:
        parts.append(
            Text(
                f"{already} matching stories were alerted in an earlier run of this folder: "
                "an alert goes once per story, so they were not sent again "
                "(wirewatch demo --reset starts afresh).",
                style="yellow",
            )
        )
    parts.append(hints)
    return Group(*parts)
