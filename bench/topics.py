"""Topic matching benchmark: ms per ~800-word article for 100/1k/10k topics, index vs naive loop.

    .venv/bin/python -m bench.topics [--docs 300] [--naive-docs 100] [--sizes 100,1000,10000]

Articles: ECB+ texts ($WIREWATCH_CORPORA/ecbplus/ecbplus-topics-1-22.jsonl) of one event topic
joined up to ~800 words; a built-in text when the corpus is absent. Topics are generated from the
same vocabulary the way users write them: one to three names or mid-frequency words ANDed, OR
groups of alternatives, phrases from the texts, prefixes, NOT exclusions, wire:/lang:/title:
fields. "index" is TopicIndex.match (tokenise + candidates + exact check); "naive" tokenises once
and evaluates every topic. Both must return the same ids; the script checks it. Per-article
times are CPU time (process_time), the build time is wall-clock.

Measured (2-core machine under a load average of 6-8, seed 7; the first build includes loading
wordfreq's English list, about 0.5 s):
     topics  build s  index ms    p95  naive ms    p95  candidates  matches
        100     0.94      0.73   1.31      0.67   1.19           3      1.2
       1000     1.15      1.57   2.30      2.05   3.10          37      8.7
      10000     7.60      2.92   3.88     13.69  15.85         378     81.0
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from worker.topics import Document, DocView, TopicIndex, parse_query  # noqa: E402

BUILT_IN = """Iranian officials said an airstrike hit a depot near the Syrian border on Tuesday,
killing several fighters, according to Reuters. The White House declined to comment. Israel's
military said its aircraft struck targets linked to Hezbollah. Markets in London and New York fell
as oil prices rose; analysts at Goldman Sachs expected further volatility. The United Nations
Security Council will meet on Thursday. Earthquake rescue teams in Indonesia searched for
survivors after a magnitude 6.1 quake struck Aceh province. Police in California arrested a
suspect after a shooting at a shopping mall. Apple unveiled new laptops; Microsoft and Google
reported earnings. Lindsay Lohan checked into rehab at the Betty Ford Center."""
WIRES = ["Reuters", "AP", "AFP", "dpa", "Bloomberg", "PA", ""]
LANGS = ["en", "en", "en", "fr", "de", "es"]
_STOP_WORDS = (
    "the a an and or of to in on at for with by from as is was were be been has have had it its"
    " that this these those he she they we you i his her their our not but are said will"
)
STOP = set(_STOP_WORDS.split())


def corpora() -> Path:
    return Path(os.environ.get("WIREWATCH_CORPORA", REPO.parent / "shared" / "corpora"))


def load_articles(n: int, rng: random.Random) -> list[str]:
    path = corpora() / "ecbplus" / "ecbplus-topics-1-22.jsonl"
    if not path.exists():
        print(f"(corpus {path} absent: using the built-in text)")
        words = BUILT_IN.split()
        return [" ".join(rng.choice(words) for _ in range(800)) for _ in range(n)]
    by_topic: dict[int, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        by_topic.setdefault(row["topic"], []).append(row["text"])
    articles = []
    topics = sorted(by_topic)
    while len(articles) < n:
        texts = by_topic[rng.choice(topics)]
        parts, count = [], 0
        while count < 800:
            text = rng.choice(texts)
            parts.append(text)
            count += len(text.split())
        articles.append(" ".join(" ".join(parts).split()[:800]))
    return articles


def vocabulary(articles: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(names, common words, bigrams) seen in the articles, most frequent first."""
    counts: Counter[str] = Counter()
    bigrams: Counter[str] = Counter()
    for text in articles:
        tokens = re.findall(r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ'-]+[A-Za-zÀ-ÿ]", text)
        counts.update(tokens)
        bigrams.update(
            f"{a} {b}"
            for a, b in zip(tokens, tokens[1:], strict=False)
            if a.lower() not in STOP and b.lower() not in STOP
        )
    # The 30 / 300 most frequent names / words ("Police", "said", "after") are not topics.
    names = [w for w, _ in counts.most_common() if w[0].isupper() and w.lower() not in STOP]
    common = [w for w, _ in counts.most_common() if w.islower() and w not in STOP and len(w) > 3]
    names = names[min(30, len(names) // 10) :][:5000]
    common = common[min(300, len(common) // 10) :][:8000]
    return names, common, [b for b, c in bigrams.most_common(5000) if c > 1]


def make_topics(
    n: int, vocab: tuple[list[str], list[str], list[str]], rng: random.Random
) -> list[tuple[int, str]]:
    names, common, bigrams = vocab

    def pick(words: list[str]) -> str:  # a word type: most are rare, as in the articles
        return rng.choice(words)

    def term() -> str:
        r = rng.random()
        if r < 0.45:
            return pick(names)
        if r < 0.7:
            return pick(common)
        if r < 0.85:
            return f'"{pick(bigrams)}"' if bigrams else pick(names)
        if r < 0.92:
            return f"({pick(common)} OR {pick(common)} OR {pick(names)})"
        if r < 0.97:
            word = next(w for w in iter(lambda: pick(names), None) if w.isalpha())
            return word[: max(4, len(word) - 3)] + "*"
        return f'title:"{pick(names)}"'

    topics = []
    for tid in range(n):
        parts = [term() for _ in range(rng.choice([1, 2, 2, 2, 3]))]
        if rng.random() < 0.25:
            parts.append(f"NOT {pick(common)}")
        if rng.random() < 0.1:
            parts.append(f"wire:{rng.choice([w for w in WIRES if w])}")
        if rng.random() < 0.1:
            parts.append(f"lang:{rng.choice(LANGS)}")
        topics.append((tid, " AND ".join(parts)))
    return topics


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--docs", type=int, default=300)
    ap.add_argument("--naive-docs", type=int, default=100)
    ap.add_argument("--sizes", default="100,1000,10000")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    articles = load_articles(args.docs, rng)
    docs = [
        Document(
            title=" ".join(a.split()[:12]),
            text=a,
            source="Example News",
            wire=rng.choice(WIRES),
            lang=rng.choice(LANGS),
            feed="https://example.org/world/rss.xml",
        )
        for a in articles
    ]
    vocab = vocabulary(articles)
    words = statistics.mean(len(d.text.split()) for d in docs)
    print(
        f"{len(docs)} articles, {words:.0f} words on average; "
        "times are CPU ms per article (process time: the machine may be shared)"
    )
    print(
        f"{'topics':>7} {'build s':>8} {'index ms':>9} {'p95':>6} {'naive ms':>9} {'p95':>6} "
        f"{'candidates':>11} {'matches':>8}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        topics = make_topics(size, vocab, rng)
        parse_query.cache_clear()
        start = time.perf_counter()
        index = TopicIndex(topics)
        build = time.perf_counter() - start
        fast, slow, cands, found = [], [], [], []
        for i, doc in enumerate(docs):
            start = time.process_time()
            got = index.match(doc)
            fast.append((time.process_time() - start) * 1000)
            found.append(len(got))
            cands.append(len(index.candidates(DocView(doc))))
            if i < args.naive_docs:
                start = time.process_time()
                view = DocView(doc)
                want = {tid for tid, q in index.queries.items() if q.match(view)}
                slow.append((time.process_time() - start) * 1000)
                assert got == want, f"index and naive loop disagree on article {i}"
        print(
            f"{size:>7} {build:>8.2f} {statistics.mean(fast):>9.2f} {percentile(fast, 0.95):>6.2f} "
            f"{statistics.mean(slow):>9.2f} {percentile(slow, 0.95):>6.2f} "
            f"{statistics.mean(cands):>11.0f} {statistics.mean(found):>8.1f}"
        )
    print("example topics:", "; ".join(q for _, q in topics[:4]))


if __name__ == "__main__":
    main()
