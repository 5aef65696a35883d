"""The real embedding model on the bundled notes (the one place the model is loaded)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from kg.parse.notes import parse_document, read_document
from kg.search import (
    EmbeddingCache,
    MiniLMEmbedder,
    SearchIndex,
    build_index,
    chunk_all,
)
from kg.settings import DEFAULT_CORPUS

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def minilm() -> Iterator[MiniLMEmbedder]:
    yield MiniLMEmbedder(threads=1)


def test_minilm_vectors_are_normalised_and_single_texts_are_not_padded(
    minilm: MiniLMEmbedder,
) -> None:
    texts = ["How long does SQS keep a message?", "Aurora keeps six copies of your data."]
    batch = minilm.encode(texts)
    assert batch.shape == (2, 384) and batch.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, rtol=1e-5)
    # the single-text path (unpadded, straight through the transformer) agrees with the batch
    single = minilm.encode_one(texts[0])
    assert float(single @ batch[0]) > 0.9999
    assert minilm.tokens(texts[0]) < 20  # not the 128 the shipped tokenizer pads to
    assert minilm.encode([]).shape == (0, 384)


def test_search_finds_the_x_forwarded_for_passage(minilm: MiniLMEmbedder, tmp_path: Path) -> None:
    docs = [parse_document(read_document(f)) for f in sorted(DEFAULT_CORPUS.glob("*.txt"))]
    passages = chunk_all(docs)
    with EmbeddingCache(tmp_path / "cache", minilm.model_id) as cache:
        report = build_index(tmp_path / "vectors", passages, minilm, cache)
        assert report.encoded == len(passages)
        again = build_index(tmp_path / "v2", passages, minilm, cache, previous=tmp_path / "vectors")
        assert again.encoded == 0
    index = SearchIndex.load(tmp_path / "v2", minilm)
    question = "How can my web servers see the client's IP address behind a load balancer?"
    hits = index.search(question, 5)
    assert any("X-Forwarded-For" in h.text for h in hits)
    assert all({"dense", "bm25", "entity", "fused"} <= set(h.scores) for h in hits)
    reused = index.search(question, 5, query_vector=minilm.encode_one(question))
    assert [h.id for h in reused] == [h.id for h in hits]
