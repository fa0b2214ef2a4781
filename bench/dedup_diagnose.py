"""Why an end-to-end clustering differs from the labels: each split story and each wrong join,
classified by what the cleaner made of the pages (chrome left, paragraphs lost, short text) and
by whether our match rule, on the stored text and on the copies' own text, joins the pieces."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import product

from bench.dedup_site import template_for
from bench.republish import Copy
from worker.assign import dedup_keys
from worker.dedup import decide, fingerprint, shingle, short_text_match
from worker.dedup.sketch import matchable

_DATELINE = re.compile(r"^[A-Z ]+ \((?:Reuters|AP|AFP)\) (?:-|\u2014) ")


def _squash(text: str) -> str:
    return " ".join(text.split())


def page_loss(copy: Copy, stored) -> dict:  # noqa: ANN001  (bench.dedup_e2e.Stored)
    """How the stored text differs from the copy: chrome kept, paragraphs lost, extra lines."""
    if stored is None:
        return {"state": "missing"}
    text = _squash(stored.text)
    lines = [_squash(line) for line in stored.text.splitlines() if line.strip()]
    paragraphs = {_squash(p) for p in copy.paragraphs}
    body = list(copy.paragraphs)
    if "credit:bottom" in copy.edits:
        body = body[:-1]  # the credit line: the cleaner drops it on purpose
    if "credit:top" in copy.edits:
        body[0] = _DATELINE.sub("", body[0], count=1)
    return {
        "state": stored.state,
        "error": stored.error,
        "method": stored.method,
        "words": len(stored.text.split()),
        "copy_words": len(copy.text().split()),
        "chrome_left": [c for _, c in copy.chrome if c in lines],
        "paragraphs_lost": [i for i, p in enumerate(body) if _squash(p) not in text],
        "extra_lines": [x for x in lines if x not in paragraphs][:5],
        "title": stored.title,
        "copy_title": copy.title,
        "canonical_url": stored.canonical_url,
        "site_name": stored.site_name,
    }


def joinable(a: str, b: str, *, title_a: str, title_b: str, outlet_a: str, outlet_b: str) -> bool:
    """Our rule on one pair, as worker.assign applies it (body rule, else the short-text rule)."""
    sa, sb = shingle(a), shingle(b)
    if matchable(sa) and matchable(sb):
        return decide(sa, sb)
    return short_text_match(
        title_a=title_a,
        title_b=title_b,
        outlet_a=outlet_a,
        outlet_b=outlet_b,
        text_a=a,
        text_b=b,
    )


@dataclass
class Report:
    split: list[dict] = field(default_factory=list)
    joined: list[dict] = field(default_factory=list)
    causes: Counter = field(default_factory=Counter)
    cleaning: dict[str, Counter] = field(default_factory=dict)  # per template

    def summary(self) -> str:
        lost = sum(s["pairs"] for s in self.split)
        wrong = sum(j["pairs"] for j in self.joined)
        causes = ", ".join(f"{k}: {v}" for k, v in self.causes.most_common())
        return (
            f"{len(self.split)} stories split ({lost} pairs lost), {len(self.joined)} wrong joins "
            f"({wrong} false pairs); split causes by pairs: {causes or '-'}"
        )

    def cleaning_lines(self) -> list[str]:
        """Per template: pages, and how many kept chrome / extra lines or lost a paragraph."""
        return [
            f"{template}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            for template, counts in sorted(self.cleaning.items())
        ]

    def as_json(self) -> dict:
        return {
            "causes": dict(self.causes),
            "cleaning": {t: dict(c) for t, c in self.cleaning.items()},
            "split": self.split,
            "joined": self.joined,
        }


def _keys(stored) -> set[tuple[int, int]]:  # noqa: ANN001
    title = stored.title or ""
    fp = fingerprint(stored.text, title=title)
    return set(dedup_keys(fp, text=stored.text, canonical_url=stored.canonical_url, title=title))


def _pair_rule(copies: list[Copy], stored: dict, a: int, b: int, *, clean: bool) -> bool:
    ca, cb = copies[a], copies[b]
    if clean:
        ta, tb, ha, hb, oa, ob = ca.text(), cb.text(), ca.title, cb.title, ca.outlet, cb.outlet
    else:
        sa, sb = stored.get(a), stored.get(b)
        if sa is None or sb is None:
            return False
        ta, tb = sa.text, sb.text
        ha, hb = sa.title or "", sb.title or ""
        oa, ob = sa.site_name or ca.outlet, sb.site_name or cb.outlet
    return joinable(ta, tb, title_a=ha, title_b=hb, outlet_a=oa, outlet_b=ob)


def diagnose(copies: list[Copy], predicted: list[list[int]], stored: dict) -> Report:
    """Classify every story split into several predicted clusters, and every mixed cluster."""
    report = Report()
    for i, c in enumerate(copies):
        loss = page_loss(c, stored.get(i))
        counts = report.cleaning.setdefault(template_for(c.outlet), Counter())
        counts["pages"] += 1
        counts[f"method={loss.get('method')}"] += 1
        counts["chrome kept"] += bool(loss.get("chrome_left"))
        counts["extra lines"] += bool(loss.get("extra_lines"))
        counts["paragraph lost"] += bool(loss.get("paragraphs_lost"))
    cluster_of = {i: k for k, members in enumerate(predicted) for i in members}
    by_label: dict[str, list[int]] = {}
    for i, c in enumerate(copies):
        by_label.setdefault(c.story_label, []).append(i)
    for label, members in by_label.items():
        pieces: dict[int, list[int]] = {}
        for i in members:
            pieces.setdefault(cluster_of[i], []).append(i)
        if len(pieces) < 2:
            continue
        parts = sorted(pieces.values(), key=len, reverse=True)
        main, rest = parts[0], parts[1:]
        for piece in rest:
            pairs = len(piece) * (len(members) - len(piece))
            cross = list(product(piece, [i for i in members if i not in piece]))
            if any(stored.get(i) is None or stored[i].state != "processed" for i in piece):
                cause = "not processed"
            elif joined := [
                (a, b) for a, b in cross if _pair_rule(copies, stored, a, b, clean=False)
            ]:
                shared = any(_keys(stored[a]) & _keys(stored[b]) for a, b in joined)
                cause = (
                    "rule joins stored text, a key is shared, pipeline did not (online joining)"
                    if shared
                    else "rule joins stored text, no shared key (candidate miss)"
                )
            elif any(_pair_rule(copies, stored, a, b, clean=True) for a, b in cross):
                cause = "rule joins copies' text, not stored text (cleaning)"
            else:
                cause = "rule does not join even the copies' own text (stage limit)"
            report.causes[cause] += pairs
            report.split.append(
                {
                    "label": label,
                    "cause": cause,
                    "pairs": pairs,
                    "piece": [
                        {"copy": i, "edits": copies[i].edits, **page_loss(copies[i], stored.get(i))}
                        for i in piece
                    ],
                    "rest_of_story": [
                        {"copy": i, "edits": copies[i].edits, **page_loss(copies[i], stored.get(i))}
                        for i in main
                    ],
                }
            )
    for members in predicted:
        labels = Counter(copies[i].story_label for i in members)
        if len(labels) < 2:
            continue
        total = len(members) * (len(members) - 1) // 2
        same = sum(n * (n - 1) // 2 for n in labels.values())
        report.joined.append(
            {
                "labels": dict(labels),
                "pairs": total - same,
                "members": [
                    {
                        "copy": i,
                        "label": copies[i].story_label,
                        "edits": copies[i].edits,
                        **page_loss(copies[i], stored.get(i)),
                    }
                    for i in members
                ],
            }
        )
    return report
