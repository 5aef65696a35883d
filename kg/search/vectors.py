"""Vector stores: string ids -> unit vectors + JSON payloads, searched by inner product.

``FaissStore`` (default) keeps everything in one folder of the data dir and loads it back
without encoding anything; it answers exactly below ``HNSW_THRESHOLD`` vectors and with an
HNSW graph above it (measurements in docs/performance.md). ``QdrantStore`` puts the same
data in Qdrant (in memory, a local folder, or a server), for replicas that share one store.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

VECTOR_STORES = ("faiss", "qdrant")

HNSW_THRESHOLD = 20_000  # exact search below this many vectors, HNSW from here on
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 128

Payload = dict[str, Any]


class VectorStore(ABC):
    """Ids are strings; vectors are L2-normalised float32 rows; scores are inner products."""

    dim: int

    @abstractmethod
    def add(self, ids: Sequence[str], vectors: np.ndarray, payloads: Sequence[Payload]) -> None:
        """Insert or replace ``ids`` with their vectors and payloads."""

    @abstractmethod
    def delete(self, ids: Sequence[str]) -> None:
        """Remove ``ids``; unknown ids are ignored."""

    @abstractmethod
    def search(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The ``k`` nearest ids with their inner-product scores, best first."""

    @abstractmethod
    def get(self, ids: Sequence[str]) -> list[Payload]:
        """Payloads of those ``ids`` that exist, in the order asked."""

    @abstractmethod
    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        """Stored vectors of ``ids`` (all must exist), one row each."""

    @abstractmethod
    def items(self) -> Iterator[tuple[str, Payload]]:
        """Every (id, payload), in no particular order."""

    @abstractmethod
    def count(self) -> int: ...

    def flush(self) -> None:  # noqa: B027 - a no-op where every write is already durable
        """Make writes durable."""

    def close(self) -> None:
        self.flush()

    def ids(self) -> list[str]:
        return [i for i, _ in self.items()]

    def ping(self) -> None:
        """Raise if the store cannot answer."""
        self.count()

    def __enter__(self) -> VectorStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _as_matrix(vectors: np.ndarray, dim: int) -> np.ndarray:
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    if matrix.ndim != 2 or matrix.shape[1] != dim:
        raise ValueError(f"expected vectors of dimension {dim}, got shape {vectors.shape}")
    return matrix


class FaissStore(VectorStore):
    """FAISS in memory, persisted to ``path`` as index.faiss + ids.json + payloads.jsonl.

    Opening a folder that holds a saved store loads it as is (no re-encoding, no re-indexing).
    Writes stay in memory until ``flush``/``close``, which replace each file atomically.
    """

    INDEX_FILE = "index.faiss"
    IDS_FILE = "ids.json"
    PAYLOADS_FILE = "payloads.jsonl"

    def __init__(
        self, path: Path | None = None, dim: int = 384, *, hnsw_threshold: int = HNSW_THRESHOLD
    ) -> None:
        import faiss

        self._faiss = faiss
        self.path = path
        self.dim = dim
        self.hnsw_threshold = hnsw_threshold
        self._ids: list[str] = []
        self._pos: dict[str, int] = {}
        self._payloads: list[Payload] = []
        self._matrix: np.ndarray | None = np.zeros((0, dim), dtype=np.float32)
        self._index: Any = None
        self._modified = False
        self._lock = threading.RLock()
        if path is not None and (path / self.IDS_FILE).exists():
            self._load(path)

    @property
    def kind(self) -> str:
        """``"flat"`` or ``"hnsw"``: the index that answers at the current size."""
        return "hnsw" if len(self._ids) >= self.hnsw_threshold else "flat"

    def _load(self, path: Path) -> None:
        meta = json.loads((path / self.IDS_FILE).read_text("utf-8"))
        self._index = self._faiss.read_index(str(path / self.INDEX_FILE))
        self.dim = int(meta["dim"])
        self._ids = list(meta["ids"])
        self._pos = {id_: i for i, id_ in enumerate(self._ids)}
        with (path / self.PAYLOADS_FILE).open(encoding="utf-8") as fh:
            self._payloads = [json.loads(line) for line in fh if line.strip()]
        if not (self._index.ntotal == len(self._ids) == len(self._payloads)):
            raise ValueError(f"{path}: index, ids and payloads disagree in length")
        self._matrix = None  # reconstructed from the index only if the store is modified

    def _vectors_matrix(self) -> np.ndarray:
        if self._matrix is None:
            n = len(self._ids)
            self._matrix = (
                self._index.reconstruct_n(0, n) if n else np.zeros((0, self.dim), np.float32)
            )
        return self._matrix

    def _ensure_index(self) -> Any:
        with self._lock:
            if self._index is None:
                matrix = self._vectors_matrix()
                faiss = self._faiss
                if self.kind == "hnsw":
                    index = faiss.IndexHNSWFlat(self.dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
                    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
                    index.hnsw.efSearch = HNSW_EF_SEARCH
                else:
                    index = faiss.IndexFlatIP(self.dim)
                index.add(matrix)
                self._index = index
            return self._index

    def add(self, ids: Sequence[str], vectors: np.ndarray, payloads: Sequence[Payload]) -> None:
        matrix = _as_matrix(vectors, self.dim)
        if not len(ids) == len(matrix) == len(payloads):
            raise ValueError("ids, vectors and payloads must have the same length")
        with self._lock:
            current = self._vectors_matrix()
            rows: list[np.ndarray] = []
            for id_, vector, payload in zip(ids, matrix, payloads, strict=True):
                at = self._pos.get(id_)
                if at is None:
                    self._pos[id_] = len(self._ids)
                    self._ids.append(id_)
                    self._payloads.append(dict(payload))
                    rows.append(vector)
                else:
                    current[at] = vector
                    self._payloads[at] = dict(payload)
            if rows:
                current = np.vstack([current, np.stack(rows)])
            self._matrix = current
            self._index = None
            self._modified = True

    def delete(self, ids: Sequence[str]) -> None:
        with self._lock:
            gone = {self._pos[i] for i in ids if i in self._pos}
            if not gone:
                return
            keep = [i for i in range(len(self._ids)) if i not in gone]
            self._matrix = self._vectors_matrix()[keep]
            self._ids = [self._ids[i] for i in keep]
            self._payloads = [self._payloads[i] for i in keep]
            self._pos = {id_: i for i, id_ in enumerate(self._ids)}
            self._index = None
            self._modified = True

    def search(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        n = len(self._ids)
        if n == 0 or k <= 0:
            return []
        index = self._ensure_index()
        scores, rows = index.search(_as_matrix(vector, self.dim), min(k, n))
        return [(self._ids[r], float(s)) for s, r in zip(scores[0], rows[0], strict=True) if r >= 0]

    def get(self, ids: Sequence[str]) -> list[Payload]:
        return [self._payloads[self._pos[i]] for i in ids if i in self._pos]

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        rows = [self._pos[i] for i in ids]
        if self._matrix is not None:
            return self._matrix[rows]
        if not rows:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._index.reconstruct(r) for r in rows])

    def items(self) -> Iterator[tuple[str, Payload]]:
        return iter(list(zip(self._ids, self._payloads, strict=True)))

    def ids(self) -> list[str]:
        return list(self._ids)

    def count(self) -> int:
        return len(self._ids)

    def flush(self) -> None:
        if self.path is not None and self._modified:
            self.save()

    def save(self) -> None:
        """Write the store to ``path``, each file atomically; ids.json goes last, as the commit."""
        if self.path is None:
            raise ValueError("this FaissStore lives in memory only (path=None)")
        with self._lock:
            self.path.mkdir(parents=True, exist_ok=True)
            index = self._ensure_index()
            tmp = self.path / (self.INDEX_FILE + ".tmp")
            self._faiss.write_index(index, str(tmp))
            _fsync(tmp)
            tmp.replace(self.path / self.INDEX_FILE)
            _write_atomic(
                self.path / self.PAYLOADS_FILE,
                "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in self._payloads),
            )
            meta = {"dim": self.dim, "index": self.kind, "count": len(self._ids), "ids": self._ids}
            _write_atomic(self.path / self.IDS_FILE, json.dumps(meta, ensure_ascii=False))
            self._modified = False


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


_ID_NAMESPACE = uuid.UUID("6f0c7d2e-4a8b-5c1d-9e3f-0a1b2c3d4e5f")
_ID_KEY = "_id"  # the string id, kept in the Qdrant payload next to the caller's


def point_id(id_: str) -> str:
    """Qdrant wants an int or a UUID: a string id maps to a fixed UUIDv5."""
    return str(uuid.uuid5(_ID_NAMESPACE, id_))


def qdrant_client(url_or_path: str | Path = ":memory:", *, api_key: str | None = None) -> Any:
    """A ``QdrantClient``: ``":memory:"``, an http(s) URL, or a local folder (embedded mode)."""
    from qdrant_client import QdrantClient

    where = str(url_or_path)
    if where == ":memory:":
        return QdrantClient(location=":memory:")
    if where.startswith(("http://", "https://")):
        # No version check (it starts a thread that warns while the server is down) and a
        # bounded timeout: a query against a dead Qdrant fails fast instead of hanging.
        return QdrantClient(url=where, api_key=api_key, timeout=5, check_compatibility=False)
    # Qdrant's local mode locks its folder to one client per process: share it.
    with _LOCAL_LOCK:
        shared = _LOCAL_CLIENTS.get(where)
        if shared is None or shared.closed:
            shared = _LOCAL_CLIENTS[where] = _SharedClient(QdrantClient(path=where), where)
        shared.users += 1
        return shared


_LOCAL_LOCK = threading.Lock()
_LOCAL_CLIENTS: dict[str, _SharedClient] = {}


class _SharedClient:
    """One local-mode client per folder, closed when its last user closes it."""

    def __init__(self, client: Any, where: str) -> None:
        self._client = client
        self._where = where
        self.users = 0
        self.closed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def close(self) -> None:
        with _LOCAL_LOCK:
            self.users -= 1
            if self.users <= 0 and not self.closed:
                self.closed = True
                _LOCAL_CLIENTS.pop(self._where, None)
                self._client.close()


def qdrant_alias_target(client: Any, alias: str) -> str | None:
    """The collection an alias points at, or None."""
    for a in client.get_aliases().aliases:
        if a.alias_name == alias:
            return str(a.collection_name)
    return None


class QdrantStore(VectorStore):
    """A Qdrant collection (or alias): in memory, in a local folder, or on a server.

    ``create=False`` opens an existing collection or alias and fails if there is none.
    """

    def __init__(
        self,
        url_or_path: str | Path = ":memory:",
        collection: str = "cloudkg_passages",
        dim: int = 384,
        *,
        api_key: str | None = None,
        batch_size: int = 256,
        create: bool = True,
    ) -> None:
        from qdrant_client import models

        self._models = models
        self.collection = collection
        self.dim = dim
        self.batch_size = batch_size
        self._client = qdrant_client(url_or_path, api_key=api_key)
        if not self._client.collection_exists(collection):
            if not create:
                self._client.close()
                raise LookupError(f"no Qdrant collection or alias {collection!r}")
            self._client.create_collection(
                collection,
                vectors_config=models.VectorParams(size=dim, distance=models.Distance.DOT),
            )

    def publish(self, alias: str) -> None:
        """Point ``alias`` at this collection in one step, keep the one it pointed at before
        (readers may still hold it), and drop older builds' collections ``<alias>-gen-*``
        (other aliases that share the prefix, such as ``<alias>-sentences``, are left alone)."""
        models = self._models
        previous = qdrant_alias_target(self._client, alias)
        ops: list[Any] = []
        if previous is not None:
            ops.append(
                models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=alias))
            )
        ops.append(
            models.CreateAliasOperation(
                create_alias=models.CreateAlias(collection_name=self.collection, alias_name=alias)
            )
        )
        self._client.update_collection_aliases(change_aliases_operations=ops)
        for c in self._client.get_collections().collections:
            if c.name.startswith(alias + "-gen-") and c.name not in (self.collection, previous):
                self._client.delete_collection(c.name)

    def ping(self) -> None:
        self._client.collection_exists(self.collection)

    def add(self, ids: Sequence[str], vectors: np.ndarray, payloads: Sequence[Payload]) -> None:
        matrix = _as_matrix(vectors, self.dim)
        if not len(ids) == len(matrix) == len(payloads):
            raise ValueError("ids, vectors and payloads must have the same length")
        points = [
            self._models.PointStruct(
                id=point_id(id_), vector=vector.tolist(), payload={**payload, _ID_KEY: id_}
            )
            for id_, vector, payload in zip(ids, matrix, payloads, strict=True)
        ]
        for i in range(0, len(points), self.batch_size):
            self._client.upsert(self.collection, points=points[i : i + self.batch_size])

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            selector = self._models.PointIdsList(points=[point_id(i) for i in ids])
            self._client.delete(self.collection, points_selector=selector)

    def search(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        if k <= 0:
            return []
        result = self._client.query_points(
            self.collection,
            query=_as_matrix(vector, self.dim)[0].tolist(),
            limit=k,
            with_payload=[_ID_KEY],
        )
        return [(str((p.payload or {})[_ID_KEY]), float(p.score)) for p in result.points]

    def _retrieve(self, ids: Sequence[str], *, vectors: bool) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for i in range(0, len(ids), self.batch_size):
            part = [point_id(x) for x in ids[i : i + self.batch_size]]
            for record in self._client.retrieve(
                self.collection, ids=part, with_payload=True, with_vectors=vectors
            ):
                payload = dict(record.payload or {})
                found[str(payload.pop(_ID_KEY))] = (payload, record.vector)
        return found

    def get(self, ids: Sequence[str]) -> list[Payload]:
        found = self._retrieve(ids, vectors=False)
        return [found[i][0] for i in ids if i in found]

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        found = self._retrieve(ids, vectors=True)
        if not ids:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray([found[i][1] for i in ids], dtype=np.float32)

    def items(self) -> Iterator[tuple[str, Payload]]:
        offset: Any = None
        while True:
            records, offset = self._client.scroll(
                self.collection, limit=self.batch_size, offset=offset, with_payload=True
            )
            for record in records:
                payload = dict(record.payload or {})
                yield str(payload.pop(_ID_KEY)), payload
            if offset is None:
                return

    def count(self) -> int:
        return int(self._client.count(self.collection, exact=True).count)

    def close(self) -> None:
        self._client.close()


def make_vector_store(
    name: str = "faiss",
    *,
    path: Path | None = None,
    url: str | None = None,
    collection: str = "cloudkg_passages",
    dim: int = 384,
) -> VectorStore:
    """A store by name: ``"faiss"`` in ``path``, or ``"qdrant"`` at ``url`` (else ``path``)."""
    if name == "faiss":
        return FaissStore(path, dim)
    if name == "qdrant":
        where: str | Path = url or path or ":memory:"
        return QdrantStore(where, collection, dim)
    raise ValueError(f"unknown vector store {name!r}; choose from {VECTOR_STORES}")
