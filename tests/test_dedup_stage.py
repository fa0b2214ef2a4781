"""Near-duplicate stage: copies join their original, independent reports and bad input never do."""

from __future__ import annotations

import os
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from datasketch import MinHash

from worker.dedup import (
    BANDS,
    NUM_PERM,
    Fingerprint,
    decide,
    fingerprint,
    is_republication,
    normalise_title,
    shingle,
    short_text_match,
    similarity,
    title_key,
)
from worker.dedup.normalise import MAX_TOKENS, _distinct, normalise
from worker.dedup.sketch import SEED, band_keys, matchable, minhash_values

DATA = Path(__file__).parent / "data" / "dedup"
REPO = Path(__file__).resolve().parents[1]
CORPORA = Path(os.environ.get("WIREWATCH_CORPORA", REPO.parent / "shared" / "corpora"))


def read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def paragraphs(text: str) -> list[str]:
    return [p for p in text.split("\n\n") if p.strip()]


STORY = read("wire_story.txt")


# --- golden normalisation --------------------------------------------------------------------


def test_normalisation_matches_golden_file():
    assert normalise(read("wire_copy.txt")) == read("wire_copy.normalised.txt").rstrip("\n")


# --- copies match their original -------------------------------------------------------------


def test_wire_credit_and_dateline_do_not_change_the_fingerprint():
    paras = paragraphs(STORY)
    top = "\n\n".join([f"LONDON (Reuters) - {paras[0]}", *paras[1:]])
    ap = "\n\n".join([f"PORT ANSELM (AP) \u2014 {paras[0]}", *paras[1:]])
    bottom = STORY + "\n\nSource: Reuters\n\nReporting by Dana Whitfield; Editing by Mark Olsen"
    base = fingerprint(STORY)
    for copy in (top, ap, bottom):
        fp = fingerprint(copy)
        assert fp.content_hash == base.content_hash
        assert fp.minhash == base.minhash and fp.bands == base.bands


def test_chrome_lines_between_paragraphs_add_no_shingles():
    paras = paragraphs(STORY)
    chrome = ["Advertisement", "Click to comment", "Leave a Reply", "Connect with us"]
    mixed = [x for pair in zip(paras, chrome * 2, strict=False) for x in pair] + paras[4:]
    fp = fingerprint("\n\n".join(mixed))
    assert fp.minhash == fingerprint(STORY).minhash


def test_truncated_copy_matches_and_shares_a_band():
    paras = paragraphs(STORY)
    copy = "\n\n".join(paras[:3])  # first 3 of 7 paragraphs, ~40 % of the words
    sim = similarity(STORY, copy)
    assert sim.containment == 1.0 and sim.jaccard < 0.5
    assert is_republication(STORY, copy)
    assert set(fingerprint(copy).bands) & set(fingerprint(STORY).bands)


def test_dropped_paragraph_typos_and_inserted_sentence_still_match():
    paras = paragraphs(STORY)
    paras[1] = paras[1].replace("inspection", "inpsection").replace("\u2019", "'")
    del paras[4]
    paras.insert(2, "The company did not immediately respond to a request for comment.")
    copy = "\n\n".join(paras)
    assert is_republication(copy, STORY)
    assert set(fingerprint(copy).bands) & set(fingerprint(STORY).bands)


def test_leading_headline_equal_to_title_is_ignored():
    title = "Port Anselm closes Harbour Road bridge to lorries"
    assert fingerprint(f"{title}\n{STORY}", title=title) == fingerprint(STORY)


# --- hard negative: independent report of the same event -------------------------------------


def test_independent_report_of_same_event_does_not_match():
    other = read("other_story.txt")
    sim = similarity(STORY, other)
    assert sim.containment > 0  # they share a quote ...
    assert not is_republication(STORY, other)  # ... but are not one story


# --- fingerprint shape -------------------------------------------------------------------------


def test_fingerprint_shape_and_band_keys_fit_bigint():
    fp = fingerprint(STORY)
    assert isinstance(fp, Fingerprint)
    assert len(fp.minhash) == NUM_PERM and len(fp.bands) == BANDS
    assert all(0 <= k < 2**63 for k in fp.bands)
    assert len(set(fp.bands)) == BANDS
    assert fp.script == "latin" and fp.word_count > 250 and len(fp.content_hash) == 64
    assert fingerprint(STORY) == fp  # deterministic


def test_index_keys_never_change_within_a_scheme_version():
    """The dedup index keeps keys for the whole window: a text must give the same keys in every
    release until SCHEME_VERSION changes (values taken before the token codes were cached)."""
    from worker.dedup import normalise

    fp = fingerprint(STORY)
    assert fp.shingle_count == 245
    assert fp.minhash[:3] == (8590965, 20608472, 1890311)
    assert fp.bands[:2] == (8752523963901622938, 2368030439448455183)
    cjk = (
        "東京の株式市場では日経平均株価が大幅に上昇し、投資家の間で景気回復への期待が高まった。" * 3
        + "\n"
        + "政府は新たな経済対策を発表し、中小企業への支援を拡大する方針を示した。" * 3
    )
    assert fingerprint(cjk).bands[:2] == (1725114355849264075, 4476021074929097833)
    normalise._codes.clear()  # the same from a cold cache of token codes
    assert fingerprint(STORY) == fp


def test_script_of_ascii_text_takes_the_fast_path_to_the_same_answer():
    from worker.dedup.normalise import _script_of, detect_script

    for sample in ["the wire story", "2024 100", "", "ONLY CAPITALS 7", "a", "x\ny z", "-- ++"]:
        assert detect_script(sample) == _script_of(sample), sample
    assert detect_script("the wire story") == "latin" and detect_script("2024") == "other"


def test_minhash_equals_datasketch_update_batch():
    sh = shingle(STORY)
    folded = ((sh.hashes >> np.uint64(32)) ^ sh.hashes) & np.uint64(0xFFFFFFFF)
    reference = MinHash(num_perm=NUM_PERM, seed=SEED, scheme="affine32", hashfunc=int)
    reference.update_batch(folded.tolist())
    assert np.array_equal(minhash_values(sh.hashes), reference.hashvalues)
    assert fingerprint(STORY).minhash == tuple(reference.hashvalues.tolist())


def test_band_keys_come_from_the_first_values_of_the_whole_minhash():
    """fingerprint_of works out only the MinHash values its bands need: they are the first
    BANDS * ROWS of the whole MinHash."""
    fp = fingerprint(STORY)
    assert fp.bands == band_keys(fp.minhash)


@pytest.mark.parametrize("size", [0, 1, 2, 700, 5000])
def test_distinct_shingle_hashes_are_numpys_unique(size: int) -> None:
    rng = np.random.default_rng(size)
    values = rng.integers(0, 2**64, size, dtype=np.uint64)
    values = np.concatenate([values, values[: size // 2], values[:1]])  # with repeats
    assert np.array_equal(_distinct(values.copy()), np.unique(values))


def test_permutations_are_datasketchs_own():
    from worker.dedup.sketch import SCHEME, _permutations

    a, b = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations
    ours_a, ours_b = _permutations()
    assert ours_a.dtype == a.dtype and np.array_equal(ours_a, a) and np.array_equal(ours_b, b)
    assert (ours_a % 2 == 1).all()  # odd: every permutation is a bijection


# --- bad input --------------------------------------------------------------------------------


def test_empty_text():
    assert fingerprint("") is None and fingerprint("   \n\n ") is None
    assert not is_republication("", "")
    assert similarity("", STORY).containment == 0.0


def test_one_word_repeated_is_degenerate_and_matches_nothing():
    spam = "breaking " * 10_000
    assert fingerprint(spam) is None
    assert not is_republication(spam, spam)
    assert not is_republication(spam, STORY + "\n\n" + spam)


def test_one_megabyte_text_is_capped():
    big = (STORY + "\n\n") * (1_000_000 // len(STORY) + 1)
    assert len(big) >= 1_000_000
    fp = fingerprint(big)
    assert fp is not None and fp.shingle_count <= MAX_TOKENS
    assert is_republication(big, STORY)  # the same story repeated is still that story


def test_arabic_text_ignores_diacritics_and_tatweel():
    text = read("arabic_story.txt")
    fp = fingerprint(text)
    assert fp.script == "arabic" and fp.word_count >= 50
    decorated = text.replace("المستشفى", "المُسْتَشْفَى").replace("الوزارة", "الوزارـــة")
    assert fingerprint(decorated).minhash == fp.minhash
    assert is_republication(text, "\n\n".join(paragraphs(text)[:2]))


def test_chinese_is_shingled_by_character():
    text = read("chinese_story.txt")
    fp = fingerprint(text)
    assert fp.script == "cjk"
    assert fp.shingle_count > 150  # one shingle per character position, not per "word"
    assert is_republication(text, "\n\n".join(paragraphs(text)[:2]))
    assert not is_republication(text, read("chinese_other.txt"))


def test_short_texts_never_match_by_body():
    brief = " ".join(STORY.split()[:40])
    assert fingerprint(brief) is None
    assert not is_republication(brief, brief)
    assert not decide(shingle(brief), shingle(STORY))


def test_short_text_title_and_outlet_rule():
    title = "Port Anselm closes Harbour Road bridge to lorries"
    brief = " ".join(STORY.split()[:40])
    kw = {"text_a": brief, "text_b": brief}
    assert short_text_match(
        title_a=title,
        title_b=f"UPDATE 1-{title} - Reuters",
        outlet_a="Valley Courier",
        outlet_b="Summit Times",
        **kw,
    )
    assert not short_text_match(
        title_a=title,
        title_b=title,  # same outlet: an update
        outlet_a="Valley Courier",
        outlet_b="valley courier",
        **kw,
    )
    assert not short_text_match(
        title_a="Live updates",
        title_b="Live updates",
        outlet_a="Valley Courier",
        outlet_b="Summit Times",
        **kw,
    )
    assert not short_text_match(
        title_a=title,
        title_b="Council approves new school budget",
        outlet_a="Valley Courier",
        outlet_b="Summit Times",
        **kw,
    )
    assert not short_text_match(
        title_a=title,
        title_b=title,
        outlet_a="Valley Courier",
        outlet_b="Summit Times",
        text_a=brief,
        text_b=" ".join(read("other_story.txt").split()[:40]),
    )


def test_title_key_ignores_wire_prefix_and_outlet_suffix():
    title = "Port Anselm closes Harbour Road bridge to lorries"
    assert normalise_title(f"UPDATE 2-{title} | Valley Courier") == normalise_title(title)
    assert title_key(f"{title.upper()} - Reuters") == title_key(title)
    assert title_key("Weather") is None


# --- corpus-backed: generated set --------------------------------------------------------------

corpus = pytest.mark.skipif(
    not (CORPORA / "ecbplus").is_dir() or not (CORPORA / "article-extraction-benchmark").is_dir(),
    reason=f"corpora not found at {CORPORA} (set WIREWATCH_CORPORA)",
)


@pytest.fixture(scope="module")
def generated():
    from bench.republish import generate

    return generate(corpora=CORPORA, seed=7, copies_per_story=4, limit=80)


@corpus
@pytest.mark.corpus
def test_generator_is_deterministic_and_renders_pages(generated):
    from bench.republish import TEMPLATES, generate, render_page

    again = generate(corpora=CORPORA, seed=7, copies_per_story=4, limit=80)
    assert [(c.title, c.paragraphs, c.chrome) for c in again] == [
        (c.title, c.paragraphs, c.chrome) for c in generated
    ]
    copy = next(c for c in generated if c.chrome)
    for template in TEMPLATES:
        page = render_page(copy, template=template)
        assert page.count("<p") >= len(copy.paragraphs) and "<footer" in page
        assert "<article" in page or "post-body" in page


@corpus
@pytest.mark.corpus
def test_generated_copies_match_their_original(generated):
    shingled = {c.story_label: shingle(c.text()) for c in generated if not c.edits}
    checked = 0
    for c in generated:
        if not c.edits:
            continue
        a, b = shingled[c.story_label], shingle(c.text(with_chrome=True))
        if not (matchable(a) and matchable(b)):
            continue
        if any(e.startswith("typo") for e in c.edits) and b.word_count < 150:
            continue  # a few typos in a very short text may legitimately break it
        assert decide(a, b), (c.story_label, c.edits)
        checked += 1
    assert checked > 150


@corpus
@pytest.mark.corpus
def test_ecb_same_event_reports_do_not_match():
    from bench.republish import ecb_originals, load_originals

    originals = load_originals(CORPORA, sources=(ecb_originals,))
    by_event: dict[str, list] = {}
    for o in originals:
        by_event.setdefault(o.label.split(":")[1], []).append(o)
    pairs = false_matches = 0
    for docs in by_event.values():
        shingled = [(o.label, shingle("\n".join(o.paragraphs))) for o in docs]
        for (la, a), (lb, b) in combinations(shingled, 2):
            if la != lb:
                pairs += 1
                false_matches += decide(a, b)
    assert pairs > 3000
    assert false_matches == 0


@corpus
@pytest.mark.corpus
def test_quality_floor_on_generated_subset(generated):
    from bench.dedup import run_ours

    texts = [c.text(with_chrome=True) for c in generated]
    m = run_ours(generated, texts)
    assert m["P"] >= 0.99 and m["R"] >= 0.95, m


def test_recent_shingles_are_the_texts_own_and_bounded():
    from worker.assign import _RecentShingles

    texts = [f"Paragraph {i} about the harbour, the ferry and the strike." * 12 for i in range(5)]
    recent = _RecentShingles(3)
    for text in texts:
        kept = recent.shingles(text)
        fresh = shingle(text)
        assert np.array_equal(kept.hashes, fresh.hashes)
        assert (kept.word_count, kept.script) == (fresh.word_count, fresh.script)
        again = recent.shingles(text)
        assert recent.shingles(text) is again  # remembered, not shingled again
        assert np.array_equal(again.hashes, fresh.hashes)
    assert list(recent._items) == texts[2:]  # the least recently used went first
