"""TopicIndex agrees with evaluating every topic one by one (property test over random topics)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from worker.topics import Document, DocView, QueryError, TopicIndex, parse_query, validate_query

VOCAB = [
    "Iran",
    "iranian",
    "IRAQ",
    "Zürich",
    "zurich",
    "strike",
    "air",
    "force",
    "São",
    "paulo",
    "de",
    "x1",
]
FIELDS = ["title", "text", "source", "wire", "lang", "feed"]

word = st.sampled_from(VOCAB)
leaf = st.one_of(
    word,
    word.map(lambda w: w[:3] + "*"),
    st.lists(word, min_size=2, max_size=3).map(lambda ws: '"' + " ".join(ws) + '"'),
    st.tuples(st.sampled_from(FIELDS), word).map(lambda fw: f"{fw[0]}:{fw[1]}"),
    st.tuples(st.sampled_from(FIELDS), word).map(lambda fw: f"{fw[0]}:{fw[1][:2]}*"),
)


def combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, st.sampled_from([" AND ", " OR ", " "]), children).map(
            lambda t: "".join(t)
        ),
        children.map(lambda q: f"NOT {q}"),
        children.map(lambda q: f"-{q}" if q[0] not in "-+" else q),
        children.map(lambda q: f"({q})"),
        st.tuples(st.sampled_from(FIELDS), children).map(lambda t: f"{t[0]}:({t[1]})"),
    )


query = st.recursive(leaf, combine, max_leaves=6)
text = st.lists(
    st.sampled_from(VOCAB + ["Iran's", "U.S.", "the", "IRANIAN", "zÜrich"]), max_size=12
).map(" ".join)
document = st.builds(Document, title=text, text=text, source=text, wire=text, lang=text, feed=text)


def valid(queries: list[str]) -> list[tuple[int, str]]:
    out = []
    for i, q in enumerate(queries):
        try:
            parse_query(q)
        except QueryError:
            continue  # e.g. only negative, or a field inside a field
        out.append((i, q))
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    queries=st.lists(query, min_size=1, max_size=25),
    docs=st.lists(document, min_size=1, max_size=4),
)
def test_index_agrees_with_one_by_one(queries: list[str], docs: list[Document]) -> None:
    topics = valid(queries)
    index = TopicIndex(topics)
    for doc in docs:
        view = DocView(doc)
        expected = {tid for tid, q in topics if parse_query(q).match(view)}
        assert index.match(doc) == expected


@settings(max_examples=150, deadline=None)
@given(q=query)
def test_normalised_text_means_the_same(q: str) -> None:
    try:
        normalised = validate_query(q)
    except QueryError as error:
        assert error.position is not None and error.hint
        return
    assert parse_query(normalised) == parse_query(q)
    assert validate_query(normalised) == normalised


@settings(max_examples=200, deadline=None)
@given(q=st.text(alphabet='ab *?"()-+:~^![]/\\ANDORT', max_size=30))
def test_any_text_parses_or_raises_query_error(q: str) -> None:
    try:
        parsed = parse_query(q)
    except QueryError as error:
        assert error.position is not None and 0 <= error.position <= len(q)
        assert error.hint
    else:
        assert parsed.keys


def test_topics_are_filed_under_their_rarest_terms() -> None:
    pytest.importorskip("wordfreq")
    assert parse_query("Kouyias AND previous").keys == {("w", "body", "kouyias")}
    assert parse_query('"the white house" AND Biden').keys == {("w", "body", "biden")}
    assert parse_query("lang:en AND strike").keys == {("w", "body", "strike")}
    assert parse_query("wire:Reuters AND said").keys == {("w", "wire", "reuters")}
    assert parse_query("(Iran OR Iraq) AND war").keys == {
        ("w", "body", "iran"),
        ("w", "body", "iraq"),
    }
    assert parse_query("Teixe* AND NOT sports").keys == {("p", "body", "teixe")}


def test_metadata_only_topics_are_indexed() -> None:
    index = TopicIndex([(1, "lang:fr"), (2, "wire:Reu*"), (3, "feed:bbci AND NOT sport")])
    assert index.match(Document(lang="fr", wire="Reuters", feed="https://feeds.bbci.co.uk")) == {
        1,
        2,
        3,
    }
    assert index.match(Document(title="lang fr Reuters bbci", lang="en")) == set()
