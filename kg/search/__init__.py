"""Passage search: chunking, embedders, embedding cache, vector stores, BM25 and fusion.

Backends load lazily: importing this package pulls in numpy only; torch, FAISS and
qdrant-client (and onnxruntime) are imported when an embedder or store that needs them is
created.
"""

from kg.search.bm25 import BM25, tokenize
from kg.search.cache import EmbeddingCache, encode_cached
from kg.search.embedder import (
    Embedder,
    FakeEmbedder,
    LazyEmbedder,
    MiniLMEmbedder,
    OnnxMiniLMEmbedder,
    make_embedder,
)
from kg.search.fusion import Fused, fuse
from kg.search.index import (
    IndexReport,
    SearchIndex,
    build_index,
    build_search_index,
    remote_build_id,
    sync_index,
)
from kg.search.passages import STRATEGIES, Passage, chunk, chunk_all
from kg.search.vectors import FaissStore, QdrantStore, VectorStore, make_vector_store

__all__ = [
    "BM25",
    "STRATEGIES",
    "Embedder",
    "EmbeddingCache",
    "FaissStore",
    "FakeEmbedder",
    "Fused",
    "IndexReport",
    "LazyEmbedder",
    "MiniLMEmbedder",
    "OnnxMiniLMEmbedder",
    "Passage",
    "QdrantStore",
    "SearchIndex",
    "VectorStore",
    "build_index",
    "build_search_index",
    "chunk",
    "chunk_all",
    "encode_cached",
    "fuse",
    "make_embedder",
    "make_vector_store",
    "remote_build_id",
    "sync_index",
    "tokenize",
]
