"""One contract for every vector store (FAISS in memory and on disk, Qdrant in memory and local)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from kg.search import (
    FaissStore,
    FakeEmbedder,
    QdrantStore,
    SearchIndex,
    VectorStore,
    make_vector_store,
    sync_index,
)
from kg.search.passages import Passage
from kg.search.vectors import point_id

DIM = 16
STORES = ["faiss-memory", "faiss-disk", "qdrant-memory", "qdrant-local"]


def unit_vectors(n: int, dim: int = DIM, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def open_store(kind: str, tmp_path: Path, dim: int = DIM) -> VectorStore:
    if kind == "faiss-memory":
        return make_vector_store("faiss", dim=dim)
    if kind == "faiss-disk":
        return make_vector_store("faiss", path=tmp_path / "faiss", dim=dim)
    if kind == "qdrant-memory":
        return make_vector_store("qdrant", dim=dim, collection="t")
    return make_vector_store("qdrant", path=tmp_path / "qdrant", dim=dim, collection="t")


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    s = open_store(request.param, tmp_path)
    yield s
    s.close()


def test_store_contract(store: VectorStore) -> None:
    vectors = unit_vectors(20)
    ids = [f"doc.md#{i * 10}-{i * 10 + 9}" for i in range(20)]
    store.add(ids, vectors, [{"n": i, "text": f"passage {i}"} for i in range(20)])
    assert store.count() == 20
    assert sorted(store.ids()) == sorted(ids)

    hits = store.search(vectors[3], 5)
    assert hits[0][0] == ids[3] and hits[0][1] == pytest.approx(1.0, abs=1e-5)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    exact = sorted(range(20), key=lambda i: -float(vectors[i] @ vectors[3]))[:5]
    assert [i for i, _ in hits] == [ids[i] for i in exact]

    assert store.get([ids[5], "missing", ids[2]]) == [
        {"n": 5, "text": "passage 5"},
        {"n": 2, "text": "passage 2"},
    ]
    np.testing.assert_allclose(store.vectors([ids[7], ids[1]]), vectors[[7, 1]], atol=1e-6)

    store.delete([ids[3], "missing"])
    assert store.count() == 19
    assert all(i != ids[3] for i, _ in store.search(vectors[3], 19))

    store.add([ids[4]], vectors[3], [{"n": 44}])  # replace vector and payload
    assert store.count() == 19
    assert store.search(vectors[3], 1)[0][0] == ids[4]
    assert store.get([ids[4]]) == [{"n": 44}]
    assert dict(store.items())[ids[4]] == {"n": 44}

    with pytest.raises(ValueError):
        store.add(["x"], unit_vectors(1, DIM + 1), [{}])


def test_qdrant_and_faiss_give_the_same_hits(tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    texts = [
        "SQS keeps messages for four days by default",
        "The X-Forwarded-For header carries the client IP address",
        "Aurora keeps six copies of your data across three zones",
        "Network ACLs can deny an IP address, security groups cannot",
        "Lambda is charged by requests and duration",
    ]
    passages = [
        Passage(f"n.md#{i * 100}-{i * 100 + len(t)}", "n.md", None, i * 100, i * 100 + len(t), t, t)
        for i, t in enumerate(texts)
    ]
    results = []
    for store in (FaissStore(None, embedder.dim), QdrantStore(":memory:", "p", embedder.dim)):
        sync_index(store, passages, embedder)
        index = SearchIndex(store, embedder)
        hits = index.search("how do I block an IP address", 5)
        results.append([(h.id, round(h.score, 4), round(h.scores["dense"], 4)) for h in hits])
        index.close()
    assert results[0] == results[1]


def test_faiss_round_trip_loads_without_encoding(tmp_path: Path) -> None:
    folder = tmp_path / "vectors"
    vectors = unit_vectors(30)
    ids = [f"p{i}" for i in range(30)]
    with FaissStore(folder, DIM) as store:
        store.add(ids, vectors, [{"i": i, "text": "é ünïcode"} for i in range(30)])
    assert {p.name for p in folder.iterdir()} == {"index.faiss", "ids.json", "payloads.jsonl"}
    before = (folder / "index.faiss").stat().st_mtime_ns

    loaded = FaissStore(folder, DIM)
    assert loaded.count() == 30 and loaded.ids() == ids
    assert loaded.get(["p29"]) == [{"i": 29, "text": "é ünïcode"}]
    assert loaded.search(vectors[11], 1)[0][0] == "p11"
    np.testing.assert_allclose(loaded.vectors(["p2"]), vectors[[2]], atol=1e-6)
    loaded.close()  # unchanged: nothing is rewritten
    assert (folder / "index.faiss").stat().st_mtime_ns == before

    again = FaissStore(folder, DIM)
    again.delete(["p0"])
    again.close()
    assert FaissStore(folder, DIM).ids() == ids[1:]


def test_faiss_switches_from_flat_to_hnsw_at_the_threshold(tmp_path: Path) -> None:
    import faiss

    vectors = unit_vectors(120, 32, seed=1)
    ids = [str(i) for i in range(120)]
    small = FaissStore(None, 32, hnsw_threshold=200)
    small.add(ids, vectors, [{}] * 120)
    assert small.kind == "flat"
    small.search(vectors[0], 1)
    assert isinstance(small._index, faiss.IndexFlatIP)

    big = FaissStore(tmp_path / "hnsw", 32, hnsw_threshold=100)
    big.add(ids, vectors, [{}] * 120)
    assert big.kind == "hnsw"
    assert [big.search(v, 1)[0][0] for v in vectors[:20]] == ids[:20]
    big.close()
    assert faiss.read_index(str(tmp_path / "hnsw" / "index.faiss")).__class__.__name__ == (
        "IndexHNSWFlat"
    )
    loaded = FaissStore(tmp_path / "hnsw", 32, hnsw_threshold=100)
    assert loaded.search(vectors[5], 1)[0][0] == "5"
    loaded.delete(["5"])  # an HNSW graph cannot drop nodes: rebuilt from the stored vectors
    assert loaded.search(vectors[5], 1)[0][0] != "5" and loaded.count() == 119


def test_qdrant_local_folder_persists_and_ids_map_to_uuids(tmp_path: Path) -> None:
    where = tmp_path / "qdrant"
    store = QdrantStore(where, "passages", DIM)
    store.add(["a.md#0-10"], unit_vectors(1), [{"text": "x"}])
    store.close()
    reopened = QdrantStore(str(where), "passages", DIM)
    assert reopened.get(["a.md#0-10"]) == [{"text": "x"}]
    reopened.close()
    assert point_id("a.md#0-10") == point_id("a.md#0-10") != point_id("a.md#0-11")
    with pytest.raises(ValueError, match="unknown vector store"):
        make_vector_store("milvus")
