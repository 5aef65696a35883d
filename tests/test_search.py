"""Passage search with the fake embedder: chunking, cache, BM25, fusion, incremental index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kg.model import Document, ParsedDocument
from kg.parse.notes import parse_document, read_document
from kg.search import (
    BM25,
    STRATEGIES,
    EmbeddingCache,
    FaissStore,
    FakeEmbedder,
    Passage,
    SearchIndex,
    build_index,
    chunk,
    chunk_all,
    encode_cached,
    fuse,
    make_embedder,
    tokenize,
)
from kg.settings import DEFAULT_CORPUS

NOTES = """\
# Amazon SQS

Using Amazon SQS, you can decouple the components of an application.

- Messages are kept from 1 minute to 14 days; the default retention period is 4 days.
- Visibility timeout: up to 12 hours.

# Elastic Load Balancing

When an instance does not respond within the idle timeout, the load balancer returns 504.

- If you need the IPv4 address of your end user, look for the X-Forwarded-For header.
- Load balancers have their own DNS name.

| Type | Max IOPS |
|---|---|
| gp2 | 16000 |
| io1 | 64000 |

```
aws elb describe-load-balancers
```
"""

MORE_NOTES = """\
# Amazon Kinesis

Kinesis Streams keep data from 24 hours up to 7 days.
"""


def parsed(text: str, doc_id: str = "notes.md") -> ParsedDocument:
    return parse_document(Document(id=doc_id, path=doc_id, text=text, format="markdown"))


@pytest.fixture(scope="module")
def corpus() -> list[ParsedDocument]:
    files = sorted(DEFAULT_CORPUS.glob("*.txt")) + sorted(DEFAULT_CORPUS.glob("*.md"))
    return [parse_document(read_document(f)) for f in files]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_passages_are_exact_spans_of_the_bundled_notes(
    corpus: list[ParsedDocument], strategy: str
) -> None:
    for doc in corpus:
        passages = chunk(doc, strategy)
        assert passages
        for p in passages:
            assert p.text == doc.document.text[p.start : p.end]
            assert p.document == doc.document.id
            assert p.id == f"{doc.document.id}#{p.start}-{p.end}"
            assert p.context.endswith(" ".join(p.text.split()[-1:]))
        assert len({p.id for p in passages}) == len(passages)
        assert not any("aws configue" in p.text for p in passages)  # shell session: code


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_chunk_keeps_headings_and_table_headers_in_context(strategy: str) -> None:
    passages = chunk(parsed(NOTES), strategy)
    forwarded = next(p for p in passages if "X-Forwarded-For" in p.text)
    assert forwarded.section == "Elastic Load Balancing"
    assert forwarded.context.startswith("Elastic Load Balancing\n")
    io1 = next(p for p in passages if "io1" in p.text)
    assert "Type | Max IOPS" in io1.context
    assert not any("describe-load-balancers" in p.context for p in passages)


def test_block_chunks_merge_tiny_blocks_and_passages_round_trip() -> None:
    passages = chunk(parsed(NOTES), "block")
    assert all(len(p.text) >= 40 for p in passages)
    for p in passages:
        assert Passage.from_dict(p.to_dict()) == p
    with pytest.raises(ValueError, match="unknown chunking"):
        chunk(parsed(NOTES), "paragraphs")


def test_fake_embedder_is_deterministic_normalised_and_word_sensitive() -> None:
    texts = ["SQS retention period", "SQS message retention", "Kinesis shards", ""]
    a, b = FakeEmbedder().encode(texts), make_embedder("fake").encode(texts)
    assert a.dtype == np.float32 and a.shape == (4, 64)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-5)
    assert a[0] @ a[1] > a[0] @ a[2]
    np.testing.assert_array_equal(FakeEmbedder().encode_one(texts[0]), a[0])
    with pytest.raises(ValueError, match="unknown embedder"):
        make_embedder("word2vec")


def test_cache_encodes_only_unseen_texts_and_survives_reopening(tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    texts = ["alpha beta", "gamma delta", "alpha beta"]
    with EmbeddingCache(tmp_path, embedder.model_id) as cache:
        first, n = encode_cached(embedder, cache, texts)
        assert n == 2  # duplicates are encoded once
        again, n = encode_cached(embedder, cache, texts)
        assert n == 0
        np.testing.assert_array_equal(first, again)
        _, n = encode_cached(embedder, cache, ["alpha beta", "gamma delta!"])
        assert n == 1
    assert (tmp_path / "embeddings" / embedder.model_id / "vectors.sqlite").exists()
    with EmbeddingCache(tmp_path, embedder.model_id) as cache:
        assert len(cache) == 3
        calls = embedder.calls
        vectors, n = encode_cached(embedder, cache, texts)
        assert n == 0 and embedder.calls == calls
        np.testing.assert_array_equal(vectors, first)


def test_tokenizer_keeps_service_names_and_folds_plurals() -> None:
    assert tokenize("Look for the X-Forwarded-For header") == [
        "look",
        "x-forwarded-for",
        "x",
        "forwarded",
        "header",
    ]
    assert tokenize("S3 buckets and EC2 instances, 5 VPCs") == [
        "s3",
        "bucket",
        "ec2",
        "instance",
        "5",
        "vpc",
    ]
    assert tokenize("policies addresses classes") == ["policy", "address", "class"]
    assert tokenize("0.00001667 per GB-second.") == [
        "0.00001667",
        "per",
        "gb-second",
        "gb",
        "second",
    ]


def test_bm25_ranks_the_passage_with_the_rare_terms_first() -> None:
    docs = [
        "SQS keeps messages for 4 days by default",
        "The load balancer sets the X-Forwarded-For header with the client IP",
        "Load balancers have a DNS name and no fixed IP address",
        "",
    ]
    bm25 = BM25(docs)
    top = bm25.top("which header carries the client IP behind a load balancer", 3)
    assert [d for d, _ in top][:2] == [1, 2]
    assert all(s > 0 for _, s in top)
    assert bm25.top("the of and", 3) == []
    assert bm25.scores("sqs").argmax() == 0
    assert BM25([]).top("anything", 5) == []


@pytest.mark.parametrize("method", ["rrf", "score"])
def test_fusion_reports_every_component_score(method: str) -> None:
    dense = [("a", 0.9), ("b", 0.5), ("c", 0.4)]
    lexical = [("c", 7.0), ("d", 3.0)]
    fused = fuse(
        dense,
        lexical,
        method=method,
        boost={"b": 1.0},
        dense_scores={"d": 0.1},
        bm25_scores={"a": 0.0, "b": 1.0},
    )
    assert {f.id for f in fused} == {"a", "b", "c", "d"}
    for f in fused:
        assert set(f.scores) == {"dense", "bm25", "entity", "fused"}
        assert f.score == f.scores["fused"]
    by_id = {f.id: f for f in fused}
    assert by_id["d"].scores["dense"] == pytest.approx(0.1)
    assert by_id["c"].scores["bm25"] == 7.0
    assert by_id["b"].scores["entity"] == 1.0
    assert [f.score for f in fused] == sorted((f.score for f in fused), reverse=True)
    unboosted = {f.id: f.score for f in fuse(dense, lexical, method=method)}
    assert by_id["b"].score > unboosted["b"]
    with pytest.raises(ValueError, match="unknown fusion"):
        fuse(dense, lexical, method="max")


def test_search_index_hits_and_reuses_a_query_vector() -> None:
    embedder = FakeEmbedder()
    store = FaissStore(None, embedder.dim)
    index = _index(store, embedder, chunk(parsed(NOTES), "block"))
    hits = index.search("X-Forwarded-For header for the client IP", 3)
    assert "X-Forwarded-For" in hits[0].text
    assert set(hits[0].scores) == {"dense", "bm25", "entity", "fused"}
    assert hits[0].score == hits[0].scores["fused"]
    calls = embedder.calls
    vector = embedder.encode_one("retention period of messages")
    again = index.search("retention period of messages", 3, query_vector=vector)
    assert embedder.calls == calls + 1  # only the explicit encode above
    assert "retention" in again[0].text
    plain = {h.id: h for h in index.search("load balancer", 10)}
    boosted = index.search("load balancer", 10, entities=["X-Forwarded-For", "Elastic Load"])
    forwarded = next(h for h in boosted if "X-Forwarded-For" in h.text)
    assert forwarded.scores["entity"] == 1.0
    assert forwarded.score > plain[forwarded.id].score
    assert boosted.index(forwarded) <= list(plain).index(forwarded.id)
    assert {h.id: h.scores["entity"] for h in boosted if h.scores["entity"]} == index.mentions(
        ["x-forwarded-for", "elastic load"], [h.id for h in boosted]
    )
    assert index.search("anything", 0) == []


def _index(store: FaissStore, embedder: FakeEmbedder, passages: list[Passage]) -> SearchIndex:
    from kg.search import sync_index

    sync_index(store, passages, embedder)
    return SearchIndex(store, embedder)


def test_build_index_is_incremental(tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    cache = EmbeddingCache(tmp_path / "cache", embedder.model_id)
    notes, more = parsed(NOTES, "notes.md"), parsed(MORE_NOTES, "kinesis.md")
    first = chunk_all([notes])

    gen1 = tmp_path / "gen-1" / "vectors"
    report = build_index(gen1, first, embedder, cache)
    assert report.encoded == report.added == report.passages == len(first)

    gen2 = tmp_path / "gen-2" / "vectors"
    report = build_index(gen2, first, embedder, cache, previous=gen1)
    assert (report.encoded, report.added, report.removed) == (0, 0, 0)

    gen3 = tmp_path / "gen-3" / "vectors"
    kinesis = chunk_all([more])
    report = build_index(gen3, first + kinesis, embedder, cache, previous=gen2)
    assert report.encoded == report.added == len(kinesis)

    # the same notes built from scratch: every vector comes from the cache
    report = build_index(tmp_path / "gen-3b" / "vectors", first + kinesis, embedder, cache)
    assert report.encoded == 0 and report.added == len(first + kinesis)

    gen4 = tmp_path / "gen-4" / "vectors"
    report = build_index(gen4, kinesis, embedder, cache, previous=gen3)
    assert report.encoded == 0 and report.removed == len(first)

    index = SearchIndex.load(gen4, embedder)
    assert {p.document for p in index.passages()} == {"kinesis.md"}
    assert all(h.document == "kinesis.md" for h in index.search("SQS load balancer", 5))
    # older generations are untouched
    assert len(SearchIndex.load(gen3, embedder)) == len(first + kinesis)
    assert len(SearchIndex.load(gen1, embedder)) == len(first)
    cache.close()


def test_changed_text_at_the_same_offsets_is_re_encoded(tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    before = chunk(parsed(MORE_NOTES, "k.md"))
    after = chunk(parsed(MORE_NOTES.replace("7 days", "9 days"), "k.md"))
    assert [p.id for p in before] == [p.id for p in after]
    build_index(tmp_path / "a", before, embedder)
    report = build_index(tmp_path / "b", after, embedder, previous=tmp_path / "a")
    assert report.encoded == 1 and report.removed == 0
    assert "9 days" in SearchIndex.load(tmp_path / "b", embedder).passages()[0].text


def test_empty_build_and_missing_index(tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    report = build_index(tmp_path / "v", [], embedder)
    assert report.passages == 0
    index = SearchIndex.load(tmp_path / "v", embedder)
    assert len(index) == 0 and index.search("anything", 5) == []
    with pytest.raises(FileNotFoundError):
        SearchIndex.load(tmp_path / "nowhere", embedder)


@pytest.mark.parametrize("vector_store", ["faiss", "qdrant"])
def test_build_search_index_publishes_what_a_server_opens(
    tmp_path: Path, vector_store: str
) -> None:
    from kg.datadir import DataDir
    from kg.search.index import build_search_index, remote_build_id
    from kg.settings import Settings

    settings = Settings(data=tmp_path / "data", embedder="fake", vector_store=vector_store)
    data = DataDir(settings.data)
    embedder = FakeEmbedder()
    docs = [parsed(NOTES, "notes.md")]
    steps: list[tuple[str, int, int]] = []

    gen1 = data.new_generation()
    counts = build_search_index(
        settings=settings,
        data=data,
        generation=gen1,
        parsed=docs,
        progress=lambda *step: steps.append(step),
        embedder=embedder,
    )
    assert counts["passages"] == counts["encoded"] == len(chunk_all(docs)) > 0
    assert steps and steps[-1] == ("embed", counts["encoded"], counts["encoded"])
    data.publish(gen1)

    gen2 = data.new_generation()
    again = build_search_index(
        settings=settings, data=data, generation=gen2, parsed=docs, embedder=embedder
    )
    assert again["encoded"] == 0 and again["passages"] == counts["passages"]
    data.publish(gen2)
    if vector_store == "qdrant":
        assert remote_build_id(settings) == f"{settings.qdrant_collection}-{gen2.name}"

    index = SearchIndex.open(settings, gen2, embedder)
    try:
        index.ping()
        assert len(index) == counts["passages"]
        query = index.encode("X-Forwarded-For header")
        hit = index.search("X-Forwarded-For header", 1, query_vector=query)[0]
        assert "X-Forwarded-For" in hit.text
        sims = index.similarity(
            query, [(hit.document, hit.start + 3, hit.start + 10), ("other.md", 0, 5)]
        )
        assert sims[0] == pytest.approx(hit.scores["dense"], abs=1e-5) and sims[1] == 0.0
        assert {"x-forwarded-for", "forwarded", "sqs", "retention"} <= index.vocabulary()
    finally:
        index.close()


def test_lazy_embedder_creates_the_model_only_to_encode_something() -> None:
    from kg.search.embedder import LazyEmbedder

    made: list[FakeEmbedder] = []

    def factory() -> FakeEmbedder:
        made.append(FakeEmbedder(8))
        return made[-1]

    lazy = LazyEmbedder(factory, "fake-hash-8", 8)
    assert lazy.encode([]).shape == (0, 8) and not made
    np.testing.assert_array_equal(
        lazy.encode_one("s3 bucket"), FakeEmbedder(8).encode_one("s3 bucket")
    )
    lazy.encode(["a", "b"])
    assert len(made) == 1


def test_a_table_row_is_embedded_with_its_header_and_the_header_row_is_no_sentence() -> None:
    from kg.search.sentences import sentence_passages

    doc = parsed(
        "# Alerts\n\n| Severity | Meaning |\n| --- | --- |\n| Sev 0 | Critical |\n"
        "| Sev 2 | Warning |\n\nAlerts fire once.\n",
        "alerts.md",
    )
    by_text = {p.text: p.context for p in sentence_passages([doc])}
    assert "| Severity | Meaning |" not in by_text
    assert by_text["| Sev 2 | Warning |"] == "Alerts: Severity: Sev 2; Meaning: Warning"
    assert by_text["Alerts fire once."] == "Alerts: Alerts fire once."


def test_a_nested_list_item_is_embedded_with_the_items_it_nests_under() -> None:
    from kg.search.sentences import sentence_passages

    doc = parsed(
        "# Balancer\n\nThe summary is:\n\n- SKUs\n  - Standard\n"
        "    - up to 1,000 backend instances\n",
        "b.md",
    )
    by_text = {p.text: p.context for p in sentence_passages([doc])}
    assert by_text["up to 1,000 backend instances"] == (
        "Balancer › SKUs › Standard: up to 1,000 backend instances"
    )
    assert by_text["SKUs"] == "Balancer: SKUs"


def test_bm25_rarity_runs_from_everywhere_to_nowhere() -> None:
    bm25 = BM25(["queue retention", "queue size", "queue SLA uptime", "topic size"])
    assert bm25.rarity("queue") < bm25.rarity("size") < bm25.rarity("SLA") < 1.0
    assert bm25.rarity("quorum") == 1.0 and bm25.rarity("the") == 0.0
