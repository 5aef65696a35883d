"""Embeddings cached by the sha256 of the exact encoded text, one SQLite file per model.

``DATA/cache/embeddings/<model_id>/vectors.sqlite``: SQLite's journal makes every
``put_many`` all-or-nothing, so a build killed mid-write leaves the cache as it was before
that batch, and concurrent readers never see half a row.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from kg.model import content_hash
from kg.search.embedder import Embedder

_SQLITE_VARS = 900  # stay below SQLite's limit on bound parameters per statement
ENCODE_CHUNK = 256  # texts encoded (and cached) at a time


def _folder_name(model_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", model_id)


class EmbeddingCache:
    """Vectors of one model keyed by text hash; ``root`` is usually ``DATA/cache``."""

    def __init__(self, root: Path, model_id: str) -> None:
        self.model_id = model_id
        self.path = root / "embeddings" / _folder_name(model_id) / "vectors.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, dim INTEGER, vec BLOB)"
        )
        self._db.commit()
        self._lock = threading.Lock()

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """The cached vectors among ``keys`` (missing keys are simply absent)."""
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for i in range(0, len(unique), _SQLITE_VARS):
            part = unique[i : i + _SQLITE_VARS]
            marks = ",".join("?" * len(part))
            with self._lock:
                rows = self._db.execute(
                    f"SELECT key, dim, vec FROM vectors WHERE key IN ({marks})", part
                ).fetchall()
            for key, dim, blob in rows:
                vector = np.frombuffer(blob, dtype=np.float32)
                if vector.shape == (dim,):
                    found[key] = vector
        return found

    def put_many(self, items: Iterable[tuple[str, np.ndarray]]) -> None:
        rows = [
            (key, int(v.shape[0]), np.ascontiguousarray(v, dtype=np.float32).tobytes())
            for key, v in items
        ]
        with self._lock, self._db:
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows)

    def __len__(self) -> int:
        with self._lock:
            (n,) = self._db.execute("SELECT COUNT(*) FROM vectors").fetchone()
        return int(n)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def encode_cached(
    embedder: Embedder,
    cache: EmbeddingCache | None,
    texts: Sequence[str],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, int]:
    """Vectors for ``texts`` and how many had to be encoded (the rest came from the cache).

    New texts are encoded in chunks of ``ENCODE_CHUNK``, each stored in the cache as soon as
    it is done (an interrupted build keeps its work); ``progress(done, total)`` follows them.
    """
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    keys = [content_hash(t) for t in texts]
    cached = cache.get_many(keys) if cache is not None else {}
    rows: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        vector = cached.get(key)
        if vector is not None and vector.shape == (embedder.dim,):
            out[i] = vector
        else:
            rows.setdefault(key, []).append(i)
    # similar lengths together: batches pad to their longest text
    todo = sorted(rows, key=lambda k: len(texts[rows[k][0]]))
    for start in range(0, len(todo), ENCODE_CHUNK):
        part = todo[start : start + ENCODE_CHUNK]
        fresh = embedder.encode([texts[rows[k][0]] for k in part])
        if cache is not None:
            cache.put_many(zip(part, fresh, strict=True))
        for key, vector in zip(part, fresh, strict=True):
            out[rows[key]] = vector
        if progress is not None:
            progress(start + len(part), len(todo))
    return out, len(todo)
