"""BM25, the tokenizer and fusion; hybrid search on a real Chroma, embedded and server."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from fakes.chroma_server import chroma_server  # noqa: F401 (fixture)

from factcheck.retrieval.documents import Document
from factcheck.retrieval.lexical import ChunkRecord, LexicalIndex, stem, tokenize
from factcheck.retrieval.search import fuse, min_max
from factcheck.retrieval.store import SourceStore

NEWS = [
    Document(
        "quake",
        "An earthquake of magnitude 6.1 struck the northern province on Monday; "
        "officials said 120 people died.",
        title="Quake",
    ),
    Document(
        "flood",
        "Heavy rain caused floods in the river valley, and 2,000 residents were "
        "moved to shelters.",
        title="Flood",
    ),
    Document(
        "vaccine",
        "The measles vaccine is given in two doses and protects about 97 percent of children.",
        title="Measles",
    ),
    Document(
        "budget",
        "Parliament approved the budget; spending on hospitals rises by 4 percent next year.",
        title="Budget",
    ),
    Document(
        "code",
        "The committee filed report QX-7731 on procurement irregularities in the ministry.",
        title="Audit",
    ),
]


def _record(cid: str, text: str) -> ChunkRecord:
    return ChunkRecord(cid, cid, None, None, None, "2024-01-01T00:00:00+00:00", text)


@pytest.fixture(scope="module")
def minilm():
    try:
        from factcheck.retrieval.embedder import local_embedder
    except ImportError:
        from factcheck.retrieval.embedder import MiniLMEmbedder

        return MiniLMEmbedder()
    return local_embedder()


@pytest.fixture(params=["embedded", "server"])
def store(request, tmp_path: Path, minilm):
    server = request.getfixturevalue("chroma_server") if request.param == "server" else None
    host, port = (server.host, server.port) if server else (None, 8000)
    opened = SourceStore.open(tmp_path / "data", f"s-{uuid.uuid4().hex[:12]}", minilm, host, port)
    opened.ingest(NEWS)
    yield opened
    opened.close()


# tokenizer ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, tokens",
    [
        ("The tumors were growing", ["tumor", "grow"]),
        ("1,000 people and 6.1 magnitude", ["1000", "peopl", "6.1", "magnitud"]),
        ("IL-6 binds CD33", ["il", "6", "bind", "cd33"]),
        ("it is of the and", []),
    ],
)
def test_tokenize_stems_keeps_numbers_and_drops_stopwords(text, tokens):
    assert tokenize(text) == tokens


def test_porter_stemmer_conflates_inflections():
    assert stem("relational") == stem("relate") == "relat"
    assert stem("hopping") == "hop" and stem("ponies") == "poni"


# BM25 ---------------------------------------------------------------------------------------


def test_bm25_ranks_the_exact_term_match_first(tmp_path):
    index = LexicalIndex(tmp_path / "lex.sqlite")
    index.add(
        [
            _record("a", "Vaccination rates among children rose across the region this year."),
            _record("b", "Rotavirus vaccination of children cut hospital visits."),
            _record("c", "Children in the region were vaccinated at school this year."),
        ]
    )
    ranked = index.top("rotavirus vaccination", 3)
    assert ranked[0][0] == "b" and ranked[0][1] > ranked[1][1]
    assert {cid for cid, _ in ranked} == {"a", "b", "c"}  # "vaccinated" stems like "vaccination"
    assert index.top("zebra", 3) == []


def test_bm25_prefers_rare_terms_and_short_chunks(tmp_path):
    index = LexicalIndex(tmp_path / "lex.sqlite")
    filler = " ".join(["report"] * 40)
    index.add(
        [
            _record("long", f"inflation {filler}"),
            _record("short", "inflation report"),
            _record("common", "report report"),
        ]
    )
    assert [cid for cid, _ in index.top("inflation report", 3)][:2] == ["short", "long"]


def test_bm25_index_survives_a_new_process_and_removal(tmp_path):
    path = tmp_path / "lex.sqlite"
    first = LexicalIndex(path)
    first.add([_record("a", "Glacier melt raises sea levels."), _record("b", "Coral reefs.")])
    first.close()
    again = LexicalIndex(path)
    assert again.top("glacier", 1)[0][0] == "a"
    again.remove(["a"])
    assert again.top("glacier", 1) == []


def test_a_new_process_loads_the_saved_postings_instead_of_rebuilding(tmp_path, monkeypatch):
    path = tmp_path / "lex.sqlite"
    first = LexicalIndex(path)
    first.add([_record("a", "Glacier melt raises sea levels."), _record("b", "Coral reefs.")])
    first.warm()
    first.close()

    def no_rebuild(self, generation):
        raise AssertionError("rebuilt although the saved postings were current")

    monkeypatch.setattr(LexicalIndex, "_build", no_rebuild)
    assert LexicalIndex(path).top("glacier", 1)[0][0] == "a"


def test_changes_made_by_another_process_are_seen(tmp_path):
    path = tmp_path / "lex.sqlite"
    reader, writer = LexicalIndex(path), LexicalIndex(path)
    writer.add([_record("a", "Glacier melt raises sea levels.")])
    assert reader.top("glacier", 1)[0][0] == "a"
    writer.add([_record("b", "Glacier retreat in the Alps.")])
    writer.remove(["a"])
    assert [cid for cid, _ in reader.top("glacier", 5)] == ["b"]


# fusion -------------------------------------------------------------------------------------


def test_min_max_scales_to_unit_range():
    assert min_max({"a": 2.0, "b": 4.0, "c": 3.0}) == {"a": 0.0, "b": 1.0, "c": 0.5}
    assert min_max({"a": 5.0}) == {"a": 1.0}


def test_fuse_rewards_agreement_and_follows_the_weight():
    dense = {"a": 0.9, "b": 0.8, "c": 0.1}
    lexical = {"b": 12.0, "c": 11.0, "a": 1.0}
    assert fuse(dense, lexical, 0.5)[0][0] == "b"  # good in both beats best in one
    assert [k for k, _ in fuse(dense, lexical, 1.0)] == ["a", "b", "c"]
    assert [k for k, _ in fuse(dense, lexical, 0.0)] == ["b", "c", "a"]
    assert all(0.0 <= s <= 1.0 for _, s in fuse(dense, lexical, 0.3))


# hybrid search on Chroma ----------------------------------------------------------------------


def test_lexical_mode_finds_an_exact_code(store):
    assert store.search("QX-7731", k=1, mode="lexical")[0].source_id == "code"


def test_dense_mode_finds_a_paraphrase_without_shared_words(store):
    hits = store.search("tremor killed dozens", k=1, mode="dense")
    assert hits[0].source_id == "quake"
    assert store.search("tremor killed dozens", k=1, mode="lexical") == []


@pytest.mark.parametrize(
    "query, source",
    [
        ("QX-7731", "code"),  # only BM25 can match an identifier
        ("tremor killed dozens", "quake"),  # only the embedder sees the paraphrase
        ("How many residents were moved to shelters after the flooding?", "flood"),
    ],
)
def test_hybrid_finds_what_either_side_finds(store, query, source):
    hits = store.search(query, k=3)
    assert hits[0].source_id == source
    assert hits[0].score == max(h.score for h in hits)


def test_search_many_matches_single_searches(store):
    queries = ["measles doses", "hospital spending", "QX-7731"]
    many = store.search_many(queries, k=2)
    assert [[h.chunk_id for h in hits] for hits in many] == [
        [h.chunk_id for h in store.search(q, k=2)] for q in queries
    ]
