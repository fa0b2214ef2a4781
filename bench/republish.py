"""Labelled republication set: the same seed always yields the same copies, titles and pages.

Originals are real texts: the 181 `articleBody`s of the article-extraction benchmark and the 462
ECB+ articles (same topic+subtopic = same real event, written independently: hard negatives;
the few genuine reprints among them, found by word-5-gram containment >= REPRINT_CONTAINMENT,
share one story label, as do the CONFIRMED_REPRINTS). Each original is kept as a copy and gets
`copies_per_story` republished copies, each with a documented set of transformations recorded
in `Copy.edits`:

* ``credit:top`` / ``credit:bottom`` - "LONDON (Reuters) - " dateline or a "Source: Reuters" /
  "Reporting by …" line added;
* ``dropped:i`` - paragraph i (never the first) removed;
* ``truncated:f`` - only the leading paragraphs holding >= f (0.4 … 0.9) of the words kept;
* ``typo:k`` - k words edited (letters swapped, or straight/curly quotes changed);
* ``inserted`` - an editor's sentence added as its own paragraph;
* ``chrome:k`` - k site-chrome lines ("Advertisement", "Leave a Reply", a newsletter prompt …)
  between paragraphs,
  kept apart from `paragraphs` in `Copy.chrome` so text can be taken with or without them.
Copy k of a story uses schedule k % 4: 0 = hard truncation (40-50 %) + top credit;
1 = dropped paragraph + chrome + bottom credit; 2 = typos + inserted sentence + chrome;
3 = a random mixture of everything. Headlines are rewritten (wire prefix/suffix, outlet suffix,
case change, or a reworded headline).
"""

from __future__ import annotations

import gzip
import html
import json
import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from bench.republish_pages import TEMPLATES, render_page  # noqa: F401  (re-exported)

REPRINT_CONTAINMENT = 0.7
# Reprints below the threshold, confirmed by reading both texts. The crude measure above takes
# 5-grams across line breaks, which under-counts texts made of many short quoted lines.
CONFIRMED_REPRINTS = (
    # deadline.com reprints most of the Academy's own release (oscar.go.com) after "Here's the
    # Academy's official release:" (containment 0.64 here, 0.75 within lines)
    ("ecb:2:2_1ecbplus", "ecb:2:2_7ecbplus"),
)
OUTLETS = (
    "The Harbour Ledger",
    "Valley Courier",
    "Northgate Daily",
    "Metro Wire Today",
    "The Evening Sentinel",
    "Riverside Post",
    "Capital Observer",
    "Coastline Herald",
    "Summit Times",
    "Prairie Dispatch",
    "Lakeside Chronicle",
    "The Morning Record",
)
CITIES = ("LONDON", "WASHINGTON", "NEW YORK", "PARIS", "BERLIN", "TOKYO", "SYDNEY", "NAIROBI")
WIRES = ("Reuters", "AP", "AFP")
CHROME = (
    "Advertisement",
    "Click to comment",
    "Leave a Reply",
    "Connect with us",
    "Advertisement",
    "Continue reading below",
    "Share this article",
    "Related Posts",
    "Sponsored",
    "Sign up for our newsletter to get the top headlines delivered to your inbox every morning",
)
EDITOR_SENTENCES = (
    "This story has been updated with additional details.",
    "The company did not immediately respond to a request for comment.",
    "Our newsroom has contacted local officials for further information.",
    "Readers can follow the latest developments on our live page.",
    "The figures could not be independently verified.",
)
_START = datetime(2024, 3, 4, 6, 0)


@dataclass
class Copy:
    story_label: str
    outlet: str
    title: str
    paragraphs: list[str]
    published: datetime
    wire_credit: str | None
    chrome: list[tuple[int, str]] = field(default_factory=list)  # (insert before paragraph i)
    edits: tuple[str, ...] = ()  # () for an original

    def text(self, *, with_chrome: bool = False) -> str:
        """Paragraphs joined by blank lines; chrome lines included when asked (weak cleaner)."""
        if not with_chrome:
            return "\n\n".join(self.paragraphs)
        out: list[str] = []
        for i, para in enumerate(self.paragraphs):
            out += [line for pos, line in self.chrome if pos == i]
            out.append(para)
        out += [line for pos, line in self.chrome if pos >= len(self.paragraphs)]
        return "\n\n".join(out)


@dataclass
class Original:
    label: str
    outlet: str
    title: str
    paragraphs: list[str]


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _grams(text: str, n: int = 5) -> set[tuple[str, ...]]:
    w = _words(text)
    return {tuple(w[i : i + n]) for i in range(len(w) - n + 1)}


def _split_paragraphs(body: str) -> list[str]:
    paras = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    if len(paras) < 3:
        paras = [p.strip() for p in body.splitlines() if p.strip()]
    if len(paras) < 3:  # one block: group sentences by three
        sents = re.split(r"(?<=[.!?])\s+", body.strip())
        paras = [" ".join(sents[i : i + 3]) for i in range(0, len(sents), 3)]
    return [p for p in paras if p]


def _page_title(path: Path) -> str | None:
    if not path.exists():
        return None
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
        page = fh.read(400_000)
    m = re.search(r'og:title"\s+content="([^"]*)', page) or re.search(
        r"<title[^>]*>([^<]*)", page, re.I
    )
    if not m:
        return None
    title = html.unescape(m.group(1)).strip()
    return re.sub(r"\s+[-|]\s+[^-|]{2,40}$", "", title).strip() or None


def _first_words(text: str, n: int = 12) -> str:
    return " ".join(text.split()[:n]).rstrip(".,;:")


def aeb_originals(corpora: Path) -> list[Original]:
    root = corpora / "article-extraction-benchmark"
    truth = json.loads((root / "ground-truth.json").read_text())
    out = []
    for key, item in sorted(truth.items()):
        paras = _split_paragraphs(item["articleBody"])
        title = _page_title(root / "html" / f"{key}.html.gz") or _first_words(paras[0])
        outlet = re.sub(
            r"^www\.",
            "",
            item.get("url", "").split("/")[2] if "//" in item.get("url", "") else "source.example",
        )
        out.append(Original(f"aeb:{key[:10]}", outlet, title, paras))
    return out


_DATE_LINE = re.compile(r"\b(?:19|20)\d\d\b|\d: \d\d|\b(?:updated|published)\b", re.I)


def ecb_originals(corpora: Path) -> list[Original]:
    lines = (corpora / "ecbplus" / "ecbplus-topics-1-22.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    out = []
    for row in rows:
        lines = [line.strip() for line in row["text"].split("\n") if line.strip()]
        outlet, title = "ecb-source.example", None
        if lines and lines[0].startswith("http"):
            outlet = lines.pop(0).replace(" ", "").split("/")[2].removeprefix("www.")
            for _ in range(3):
                if not lines or len(lines[0].split()) > 16:
                    break
                if len(lines[0].split()) <= 10 and _DATE_LINE.search(lines[0]):
                    lines.pop(0)
                elif title is None and not lines[0].endswith("."):
                    title = lines.pop(0)
                else:
                    break
        if not lines:
            continue
        title = title or _first_words(lines[0])
        label = f"ecb:{row['topic']}:{row['doc'].removesuffix('.xml')}"
        out.append(Original(label, outlet, title, lines))
    return out


def find_reprints(originals: list[Original]) -> list[tuple[str, str, float]]:
    """Pairs of originals where one holds >= REPRINT_CONTAINMENT of the other's word 5-grams.

    Compared within one corpus event (ECB+ topic) or within the extraction benchmark.
    """
    groups: dict[str, list[tuple[str, set]]] = {}
    for o in originals:
        groups.setdefault(o.label.rsplit(":", 1)[0], []).append(
            (o.label, _grams(" ".join(o.paragraphs)))
        )
    pairs = []
    for members in groups.values():
        for i, (la, a) in enumerate(members):
            for lb, b in members[i + 1 :]:
                if len(a) < 10 or len(b) < 10:
                    continue
                c = len(a & b) / min(len(a), len(b))
                if c >= REPRINT_CONTAINMENT:
                    pairs.append((la, lb, round(c, 3)))
    return pairs


def load_originals(corpora: Path, *, limit: int | None = None, sources=None) -> list[Original]:
    """All originals, reprints merged under one story label; `limit` keeps every n-th."""
    sources = sources or (aeb_originals, ecb_originals)
    originals = [o for source in sources for o in source(corpora)]
    if limit is not None and limit < len(originals):
        step = len(originals) / limit
        originals = [originals[int(i * step)] for i in range(limit)]
    parent = {o.label: o.label for o in originals}

    def root(x: str) -> str:
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b, _ in find_reprints(originals):
        parent[root(b)] = root(a)
    for a, b in CONFIRMED_REPRINTS:
        if a in parent and b in parent:
            parent[root(b)] = root(a)
    for o in originals:
        o.label = root(o.label)
    return originals


def _headline(rng: random.Random, title: str, wire: str | None, outlet: str) -> str:
    kind = rng.randrange(5)
    if kind == 0:
        return f"{title} - {wire or outlet}"
    if kind == 1:
        return f"UPDATE {rng.randint(1, 3)}-{title}"
    if kind == 2:
        return title.upper()
    if kind == 3:
        return f"{title} | {outlet}"
    return rng.choice(("Report: ", "Watch: ", "")) + title + rng.choice((", officials say", ""))


def _typo(rng: random.Random, para: str) -> str:
    words = para.split(" ")
    spots = [i for i, w in enumerate(words) if len(w) >= 6 and w.isalpha()]
    if "'" in para or "\u2019" in para:
        return para.replace("\u2019", "'") if "\u2019" in para else para.replace("'", "\u2019")
    if not spots:
        return para
    i = rng.choice(spots)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(words)


def _truncate(paras: list[str], fraction: float) -> list[str]:
    total = sum(len(p.split()) for p in paras)
    kept, count = [], 0
    for p in paras:
        kept.append(p)
        count += len(p.split())
        if count >= fraction * total:
            break
    return kept


def make_copy(original: Original, k: int, *, seed: int) -> Copy:
    """Copy k of `original` (schedule k % 4, see the module docstring)."""
    rng = random.Random(f"{seed}:{original.label}:{original.outlet}:{k}")
    paras = list(original.paragraphs)
    edits: list[str] = []
    plan = k % 4
    mixed = plan == 3
    wire = rng.choice(WIRES) if plan in (0, 1) or (mixed and rng.random() < 0.7) else None
    if (plan == 1 or (mixed and rng.random() < 0.5)) and len(paras) >= 3:
        i = rng.randrange(1, len(paras))
        del paras[i]
        edits.append(f"dropped:{i}")
    if plan == 0 or (mixed and rng.random() < 0.5):
        fraction = rng.uniform(0.4, 0.5) if plan == 0 else rng.uniform(0.4, 0.9)
        paras = _truncate(paras, fraction)
        edits.append(f"truncated:{fraction:.2f}")
    if plan == 2 or (mixed and rng.random() < 0.5):
        n = rng.randint(1, 3)
        for _ in range(n):
            i = rng.randrange(len(paras))
            paras[i] = _typo(rng, paras[i])
        edits.append(f"typo:{n}")
    if plan == 2 or (mixed and rng.random() < 0.3):
        paras.insert(rng.randint(1, len(paras)), rng.choice(EDITOR_SENTENCES))
        edits.append("inserted")
    if wire:
        if plan == 0 or (plan == 3 and rng.random() < 0.5):
            sep = " \u2014 " if wire == "AP" else " - "
            paras[0] = f"{rng.choice(CITIES)} ({wire}){sep}{paras[0]}"
            edits.append("credit:top")
        else:
            paras.append(
                rng.choice(
                    (f"Source: {wire}", "Reporting by Dana Whitfield; Editing by Mark Olsen")
                )
            )
            edits.append("credit:bottom")
    chrome: list[tuple[int, str]] = []
    if plan in (1, 2) or (mixed and rng.random() < 0.7):
        chrome = sorted(
            (rng.randint(1, len(paras)), rng.choice(CHROME)) for _ in range(rng.randint(2, 5))
        )
        edits.append(f"chrome:{len(chrome)}")
    outlet = rng.choice([o for o in OUTLETS if o != original.outlet])
    return Copy(
        story_label=original.label,
        outlet=outlet,
        title=_headline(rng, original.title, wire, outlet),
        paragraphs=paras,
        published=_START + timedelta(minutes=rng.randint(5, 36 * 60)),
        wire_credit=wire,
        chrome=chrome,
        edits=tuple(edits),
    )


def generate(
    *, corpora: Path, seed: int = 7, copies_per_story: int = 4, limit: int | None = None
) -> list[Copy]:
    """Originals (as copies with no edits) followed by their republished copies."""
    copies: list[Copy] = []
    for original in load_originals(corpora, limit=limit):
        copies.append(
            Copy(
                original.label,
                original.outlet,
                original.title,
                list(original.paragraphs),
                _START,
                None,
            )
        )
        copies += [make_copy(original, k, seed=seed) for k in range(copies_per_story)]
    return copies


def labelled_pairs(copies: list[Copy]) -> list[list[int]]:
    """Ground-truth clusters (indices into `copies`); every pair inside a cluster is positive."""
    clusters: dict[str, list[int]] = {}
    for i, c in enumerate(copies):
        clusters.setdefault(c.story_label, []).append(i)
    return list(clusters.values())
