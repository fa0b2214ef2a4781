"""Stage-level near-duplicate benchmark: prints pairwise P/R/F1 of ours and datasketch MinHashLSH.

    .venv/bin/python -m bench.dedup [--limit N] [--seed 7] [--copies 4] [--sweep]

Over the generated republication set (bench/republish.py), each text taken twice: "chrome" (the
copy's paragraphs with site-chrome lines left in, as a weak cleaner leaves them) and "clean".
Ours: candidates from shared LSH band keys (short items: shared title keys), verified by
worker.dedup.decide / short_text_match, clustered by union-find. Reference: datasketch
MinHashLSH (num_perm 128, lower-cased word 5-gram shingles, SHA-1 hashing) at thresholds 0.3 and
0.5, every query result accepted. Metrics are pairwise over the clusters.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import defaultdict
from math import comb
from pathlib import Path

import numpy as np
from datasketch import MinHash, MinHashLSH

from bench.republish import Copy, generate, labelled_pairs
from worker.dedup import normalise as norm_module
from worker.dedup import sketch as fp_module
from worker.dedup.match import decide, short_text_match, title_key
from worker.dedup.normalise import shingle
from worker.dedup.sketch import fingerprint, minhash_values


def corpora_path() -> Path:
    default = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"
    return Path(os.environ.get("WIREWATCH_CORPORA", default))


class UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)

    def clusters(self) -> list[list[int]]:
        out: dict[int, list[int]] = defaultdict(list)
        for i in range(len(self.parent)):
            out[self.find(i)].append(i)
        return list(out.values())


def pairwise(predicted: list[list[int]], truth: list[list[int]]) -> dict[str, float]:
    """Pairwise precision, recall and F1 of a clustering against ground-truth clusters."""
    label = {i: k for k, cluster in enumerate(truth) for i in cluster}
    tp = 0
    for cluster in predicted:
        counts: dict[int, int] = defaultdict(int)
        for i in cluster:
            counts[label[i]] += 1
        tp += sum(comb(c, 2) for c in counts.values())
    pred = sum(comb(len(c), 2) for c in predicted)
    true = sum(comb(len(c), 2) for c in truth)
    p = tp / pred if pred else 1.0
    r = tp / true if true else 1.0
    return {"P": p, "R": r, "F1": 2 * p * r / (p + r) if p + r else 0.0, "pairs": pred}


def candidates(keys: list[tuple[int, ...]]) -> set[tuple[int, int]]:
    """Pairs of items sharing at least one key (what a band_key index lookup returns)."""
    index: dict[int, list[int]] = defaultdict(list)
    for i, ks in enumerate(keys):
        for k in ks:
            index[k].append(i)
    pairs = set()
    for items in index.values():
        for x in range(len(items)):
            for y in range(x + 1, len(items)):
                pairs.add((items[x], items[y]))
    return pairs


def run_ours(copies: list[Copy], texts: list[str], **decide_kw) -> dict[str, float]:
    fingerprint(texts[0])  # warm-up
    t0 = time.process_time()
    fps = [fingerprint(t) for t in texts]
    ms = (time.process_time() - t0) * 1000 / len(texts)
    shingles = [shingle(t) for t in texts]
    uf = UnionFind(len(texts))
    body_pairs = candidates([f.bands if f else () for f in fps])
    for a, b in body_pairs:
        if decide(shingles[a], shingles[b], **decide_kw):
            uf.union(a, b)
    short_keys = [(k,) if (k := title_key(c.title)) is not None else () for c in copies]
    short_pairs = [(a, b) for a, b in candidates(short_keys) if fps[a] is None or fps[b] is None]
    for a, b in short_pairs:
        ca, cb = copies[a], copies[b]
        if short_text_match(
            title_a=ca.title,
            title_b=cb.title,
            outlet_a=ca.outlet,
            outlet_b=cb.outlet,
            text_a=texts[a],
            text_b=texts[b],
        ):
            uf.union(a, b)
    out = pairwise(uf.clusters(), labelled_pairs(copies))
    negatives = sum(copies[a].story_label != copies[b].story_label for a, b in body_pairs)
    long_ones = [t for t in texts if 700 <= len(t.split()) <= 900]
    t0 = time.process_time()
    for t in long_ones:
        fingerprint(t)
    ms_800 = (time.process_time() - t0) * 1000 / max(1, len(long_ones))
    out.update(
        ms=ms,
        ms_800=ms_800,
        candidates=len(body_pairs),
        negative_candidates=negatives,
        short=sum(f is None for f in fps),
    )
    return out


def _ref_minhash(text: str) -> MinHash:
    words = text.lower().split()
    m = MinHash(num_perm=128)
    m.update_batch([" ".join(words[i : i + 5]).encode() for i in range(len(words) - 4)])
    return m


def run_reference(copies: list[Copy], texts: list[str], thresholds=(0.3, 0.5)) -> dict:
    mhs = [_ref_minhash(t) for t in texts]
    out = {}
    for threshold in thresholds:
        lsh = MinHashLSH(threshold=threshold, num_perm=128)
        for i, m in enumerate(mhs):
            lsh.insert(i, m)
        uf = UnionFind(len(texts))
        for i, m in enumerate(mhs):
            for j in lsh.query(m):
                uf.union(i, j)
        out[threshold] = pairwise(uf.clusters(), labelled_pairs(copies))
    return out


def sweep(copies: list[Copy], texts: list[str]) -> None:
    """Recall/precision for other shingle sizes, band shapes and verification thresholds."""
    truth = labelled_pairs(copies)
    label = {i: k for k, c in enumerate(truth) for i in c}
    for n in (3, 4, 5, 6):
        norm_module.WORD_NGRAM = n
        sh = [shingle(t) for t in texts]
        ok = [fp_module.matchable(s) for s in sh]
        values = [minhash_values(s.hashes) if o else None for s, o in zip(sh, ok, strict=True)]
        for rows in (1, 2, 3, 4):
            bands = 128 // rows
            keys = []
            for v in values:
                if v is None:
                    keys.append(())
                    continue
                m = v[: bands * rows].reshape(bands, rows).astype(np.uint64)
                keys.append(tuple(hash((b, *row)) for b, row in enumerate(m.tolist())))
            cand = candidates(keys)
            pos = sum(1 for a, b in cand if label[a] == label[b])
            print(
                f"n={n} rows={rows} bands={bands}: candidates {len(cand)}, "
                f"true among them {pos}, negatives {len(cand) - pos}"
            )
            if rows != 2:
                continue
            for cmin in (0.5, 0.6, 0.7, 0.75, 0.8, 0.9):
                for jmin in (0.1, 0.2, 0.3):
                    uf = UnionFind(len(texts))
                    for a, b in cand:
                        if decide(sh[a], sh[b], min_containment=cmin, min_jaccard=jmin):
                            uf.union(a, b)
                    m = pairwise(uf.clusters(), truth)
                    print(
                        f"   containment>={cmin} jaccard>={jmin}: "
                        f"P {m['P']:.4f} R {m['R']:.4f} F1 {m['F1']:.4f}"
                    )
    norm_module.WORD_NGRAM = 5


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--copies", type=int, default=4)
    ap.add_argument("--sweep", action="store_true")
    args = ap.parse_args()
    copies = generate(
        corpora=corpora_path(), seed=args.seed, copies_per_story=args.copies, limit=args.limit
    )
    truth = labelled_pairs(copies)
    print(
        f"{len(copies)} texts, {len(truth)} stories, "
        f"{sum(comb(len(c), 2) for c in truth)} positive pairs"
    )
    for variant, with_chrome in (("chrome", True), ("clean", False)):
        texts = [c.text(with_chrome=with_chrome) for c in copies]
        if args.sweep:
            print(f"== sweep ({variant})")
            sweep(copies, texts)
            continue
        ours = run_ours(copies, texts)
        print(
            f"[{variant}] ours: P {ours['P']:.4f} R {ours['R']:.4f} F1 {ours['F1']:.4f}  "
            f"fingerprint {ours['ms']:.2f} ms/article ({ours['ms_800']:.2f} ms at 700-900 words), "
            f"{ours['candidates']} band candidates of which {ours['negative_candidates']} "
            f"negative, {ours['short']} short texts"
        )
        for threshold, m in run_reference(copies, texts).items():
            print(
                f"[{variant}] datasketch MinHashLSH t={threshold}: P {m['P']:.4f} "
                f"R {m['R']:.4f} F1 {m['F1']:.4f}"
            )


if __name__ == "__main__":
    main()
