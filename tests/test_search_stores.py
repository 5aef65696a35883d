"""One contract for every vector store: FAISS in memory and on disk, Qdrant in memory
(``":memory:"``) and in a local folder. Every store holds the same ids, payloads and vectors,
finds the same neighbours, keeps them across a reopen when it persists, and gives the same
hybrid search results; then what only one kind of store does."""

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
from kg.search.vectors import point_id, qdrant_alias_target

DIM = 16
STORES = ["faiss-memory", "faiss-disk", "qdrant-memory", "qdrant-local"]
PERSISTENT = ["faiss-disk", "qdrant-local"]


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


def test_an_empty_store(store: VectorStore) -> None:
    assert store.count() == 0
    assert store.ids() == [] and list(store.items()) == []
    assert store.search(unit_vectors(1)[0], 5) == []
    assert store.get(["missing"]) == []
    assert store.vectors([]).shape == (0, DIM)
    store.delete(["missing"])
    store.ping()


def test_search_edge_cases(store: VectorStore) -> None:
    vectors = unit_vectors(3)
    store.add(["a", "b", "c"], vectors, [{}, {}, {}])
    assert store.search(vectors[0], 0) == []
    assert len(store.search(vectors[0], 10)) == 3  # k larger than the store
    with pytest.raises(ValueError):
        store.add(["x", "y"], unit_vectors(1), [{}, {}])  # lengths disagree


@pytest.mark.parametrize("kind", PERSISTENT)
def test_a_persistent_store_reopens_with_everything(kind: str, tmp_path: Path) -> None:
    vectors = unit_vectors(12)
    ids = [f"n.md#{i}-{i + 1}" for i in range(12)]
    payloads = [{"i": i, "text": f"é {i}", "nested": {"list": [i, None]}} for i in range(12)]
    first = open_store(kind, tmp_path)
    first.add(ids, vectors, payloads)
    first.delete([ids[0]])
    first.close()
    again = open_store(kind, tmp_path)
    try:
        assert again.count() == 11
        assert sorted(again.ids()) == sorted(ids[1:])
        assert again.get([ids[5]]) == [payloads[5]]
        np.testing.assert_allclose(again.vectors([ids[3]]), vectors[[3]], atol=1e-6)
        assert again.search(vectors[7], 1)[0][0] == ids[7]
    finally:
        again.close()


def _passages(texts: list[str]) -> list[Passage]:
    out, at = [], 0
    for t in texts:
        out.append(Passage(f"n.md#{at}-{at + len(t)}", "n.md", "S", at, at + len(t), t, t))
        at += len(t) + 1
    return out


TEXTS = [
    "SQS keeps messages for four days by default",
    "The X-Forwarded-For header carries the client IP address",
    "Aurora keeps six copies of your data across three zones",
    "Network ACLs can deny an IP address, security groups cannot",
    "Lambda is charged by requests and duration",
    "S3 objects can be as large as five terabytes",
    "Route 53 routing policies include weighted and latency based",
]


def test_every_store_gives_the_same_search_results(tmp_path: Path) -> None:
    embedder = FakeEmbedder(DIM)
    passages = _passages(TEXTS)
    results = {}
    for kind in STORES:
        store = open_store(kind, tmp_path / kind)
        sync_index(store, passages, embedder)
        index = SearchIndex(store, embedder)
        results[kind] = [
            [(h.id, round(h.score, 4), {k: round(v, 4) for k, v in h.scores.items()}) for h in hits]
            for hits in (
                index.search(q, 4) for q in ("block an IP address", "how long are messages kept")
            )
        ]
        index.close()
    assert all(r == results["faiss-memory"] for r in results.values()), results


def test_sync_index_is_idempotent_and_incremental(store: VectorStore) -> None:
    embedder = FakeEmbedder(DIM)
    passages = _passages(TEXTS)
    first = sync_index(store, passages, embedder)
    assert (first.passages, first.added, first.removed) == (7, 7, 0)
    again = sync_index(store, passages, embedder)
    assert (again.encoded, again.added, again.removed) == (0, 0, 0)
    changed = [*passages[:2], _passages(["SQS keeps messages for up to fourteen days"])[0]]
    third = sync_index(store, changed, embedder)
    assert (third.passages, third.added, third.removed) == (3, 1, 5)
    assert sorted(store.ids()) == sorted(p.id for p in changed)
    assert store.get([changed[2].id])[0]["text"] == changed[2].text


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


def test_qdrant_publish_points_the_alias_and_keeps_the_previous(tmp_path: Path) -> None:
    """Each build fills its own collection and publishes it (a local folder: ``":memory:"``
    clients do not share collections)."""
    location = str(tmp_path / "qdrant")
    stores: list[QdrantStore] = []
    try:
        for i in range(3):
            store = QdrantStore(location, f"p-gen-{i}", DIM)
            stores.append(store)
            store.add([f"x{i}"], unit_vectors(1, seed=i), [{"gen": i}])
            store.publish("p")
            assert qdrant_alias_target(store._client, "p") == f"p-gen-{i}"
        names = {c.name for c in stores[0]._client.get_collections().collections}
        assert names == {"p-gen-1", "p-gen-2"}  # the one before is kept for readers holding it
        reader = QdrantStore(location, "p", DIM, create=False)
        assert reader.get(["x2"]) == [{"gen": 2}]
        reader.close()
        with pytest.raises(LookupError):
            QdrantStore(location, "nothing", DIM, create=False)
    finally:
        for store in stores:
            store.close()


def test_publishing_passages_keeps_the_sentence_collections(tmp_path: Path) -> None:
    """What a build does: passages into ``p-<gen>``, then sentences into ``p-sentences-<gen>``."""
    location = str(tmp_path / "qdrant")
    stores: list[QdrantStore] = []
    try:
        for gen in ("gen-0", "gen-1"):
            for alias in ("p", "p-sentences"):
                store = QdrantStore(location, f"{alias}-{gen}", DIM)
                stores.append(store)
                store.add(["x"], unit_vectors(1), [{"gen": gen}])
                store.publish(alias)
                if gen == "gen-0":
                    continue  # published for the first time: nothing to keep yet
                client = store._client
                for name in ("p", "p-sentences"):  # readers always find both
                    target = qdrant_alias_target(client, name)
                    assert target is not None and client.collection_exists(target), (alias, name)
    finally:
        for store in stores:
            store.close()
