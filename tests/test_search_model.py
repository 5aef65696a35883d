"""The real embedding model on the bundled notes (the one place the model is loaded)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from kg.parse.notes import parse_document, read_document
from kg.search import (
    EmbeddingCache,
    MiniLMEmbedder,
    OnnxMiniLMEmbedder,
    SearchIndex,
    build_index,
    chunk_all,
)
from kg.search import onnx_minilm as onnx_minilm_module
from kg.settings import DEFAULT_CORPUS

from .conftest import Built

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


AGREEMENT_TEXTS = [
    "Okay?",
    "Right.",
    "How long does SQS keep a message by default?",
    "What is the maximum size of an S3 object?",
    "Messages can obtain up to 256 KB of text in any format.",
    "Aurora keeps six copies of your data across three availability zones.",
    "| Tier | vCPU | Memory |",
    "- Retention: 1 minute to 14 days, default 4 days",
]


@pytest.fixture(scope="module")
def onnx_minilm(real_build: Built) -> OnnxMiniLMEmbedder:
    """The int8 encoder the build exported into its cache."""
    return OnnxMiniLMEmbedder(real_build.settings.data / "cache", threads=2)


def test_onnx_encoder_agrees_with_torch_and_each_text_is_encoded_alone(
    onnx_minilm: OnnxMiniLMEmbedder, minilm: MiniLMEmbedder
) -> None:
    docs = [parse_document(read_document(f)) for f in sorted(DEFAULT_CORPUS.glob("*.txt"))]
    texts = AGREEMENT_TEXTS + [p.context for p in chunk_all(docs)][::8]
    ours, torch = onnx_minilm.encode(texts), minilm.encode(texts)
    assert ours.shape == (len(texts), 384) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, rtol=1e-5)
    cosines = np.sum(ours * torch, axis=1)
    assert cosines.min() >= 0.99, texts[int(cosines.argmin())]
    # a text's vector does not depend on the texts encoded with it (the embedding cache
    # relies on it): alone, in another batch, or in another order, the same bytes
    alone = onnx_minilm.encode_one(texts[3])
    assert np.array_equal(alone, ours[3])
    assert np.array_equal(onnx_minilm.encode(texts[::-1])[::-1], ours)
    assert onnx_minilm.tokens(texts[2]) < 20  # unpadded
    assert onnx_minilm.encode([]).shape == (0, 384)


def test_the_export_is_cached_by_the_weights_hash(real_build: Built) -> None:
    cache = real_build.settings.data / "cache"
    path = onnx_minilm_module.cached_model(cache)
    assert path is not None and path == onnx_minilm_module.ensure_model(cache)
    assert onnx_minilm_module.weights_hash()[:16] in path.parent.name
    before = path.stat().st_mtime_ns
    assert onnx_minilm_module.ensure_model(cache).stat().st_mtime_ns == before  # not again


def test_serving_and_kg_ask_never_import_torch(real_build: Built) -> None:
    script = (
        "import sys\n"
        "from kg.serve.runtime import Runtime\n"
        "from kg.settings import Settings\n"
        f"runtime = Runtime(Settings(data={str(real_build.settings.data)!r}))\n"
        "answer = runtime.engine().ask('How large can an SQS message be?')\n"
        "assert '256' in answer.answer, answer.answer\n"
        "heavy = {'torch', 'sentence_transformers', 'transformers'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
