"""The int8 ONNX encoder against torch: agreement, speed, and a cold ``kg ask``.

    python -m bench.encoder            # agreement on the bundled notes and the probes, speed

Agreement: cosine between the ONNX vectors and sentence-transformers' (torch, float32) on
every text a build encodes (passages and sentences) of the bundled notes and of the probe
notes it can read (``bench/probes/*/notes``, .md and .txt). Speed: single queries on one core
and a build's batch, interleaved rounds, medians.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import ROOT
from kg.search.embedder import MiniLMEmbedder, OnnxMiniLMEmbedder
from kg.search.onnx_minilm import model_path
from kg.settings import DEFAULT_CORPUS

PROBES = ROOT / "bench" / "probes"
QUESTIONS = ROOT / "bench" / "questions-extra.jsonl"


def notes_texts(files: list[Path]) -> list[str]:
    """What a build encodes for these notes: passage contexts, then sentence contexts."""
    from kg.parse import read_file
    from kg.search.passages import chunk_all
    from kg.search.sentences import sentence_passages

    docs = [read_file(p).parsed for p in files]
    return [p.context for p in chunk_all(docs)] + [s.context for s in sentence_passages(docs)]


def bundled_files() -> list[Path]:
    return sorted(DEFAULT_CORPUS.glob("*.txt")) + sorted(DEFAULT_CORPUS.glob("*.md"))


def probe_files() -> list[Path]:
    """Every probe notes file, in every format the parser reads."""
    from kg.parse import format_of

    return sorted(p for p in PROBES.glob("*/notes/**/*") if p.is_file() and format_of(p))


def export_model(cache: Path) -> float:
    """Export the model into ``cache`` (skipped when there); seconds it took."""
    from kg.search.onnx_minilm import ensure_model

    started = time.perf_counter()
    ensure_model(cache)
    return time.perf_counter() - started


def share_model(cache: Path, data: Path) -> None:
    """Put the exported model in ``data``'s cache, as ``kg build`` would have."""
    shutil.copytree(cache / "onnx", data / "cache" / "onnx", dirs_exist_ok=True)


def agreement(onnx: OnnxMiniLMEmbedder, torch: MiniLMEmbedder) -> dict[str, Any]:
    """Cosine to torch on every text of the bundled notes and the readable probes."""
    out: dict[str, Any] = {}
    for name, files in (("bundled notes", bundled_files()), ("probe notes", probe_files())):
        texts = notes_texts(files)
        cosines = np.sum(onnx.encode(texts) * torch.encode(texts), axis=1)
        worst = int(np.argmin(cosines))
        out[name] = {
            "files": len(files),
            "texts": len(texts),
            "min": float(cosines.min()),
            "p1": float(np.percentile(cosines, 1)),
            "median": float(np.median(cosines)),
            "below_0_99": int((cosines < 0.99).sum()),
            "worst_text": texts[worst][:80],
        }
    return out


def speed(
    cache: Path, onnx: OnnxMiniLMEmbedder, torch: MiniLMEmbedder, questions: list[str]
) -> dict[str, Any]:
    """Query encoding on one core, and encoding the bundled notes as a build does (``onnx``
    and ``torch`` set up for a build: every core)."""
    import torch as torch_module

    texts = notes_texts(bundled_files())
    single_onnx = OnnxMiniLMEmbedder(cache, threads=1)
    query: dict[str, list[float]] = {"torch": [], "onnx": []}
    batch: dict[str, list[float]] = {"torch": [], "onnx": []}
    for q in questions[:5]:
        single_onnx.encode_one(q)
        torch.encode_one(q)
    for _ in range(3):  # interleaved rounds
        torch_module.set_num_threads(1)  # a server's single query: one core each
        for q in questions:
            for name, embedder in (("torch", torch), ("onnx", single_onnx)):
                started = time.perf_counter()
                embedder.encode_one(q)
                query[name].append(time.perf_counter() - started)
    cores = os.cpu_count() or 1
    for _ in range(2):
        torch_module.set_num_threads(cores)  # a build uses every core
        for name, embedder in (("torch", torch), ("onnx", onnx)):
            started = time.perf_counter()
            embedder.encode(texts)
            batch[name].append(time.perf_counter() - started)
    torch_module.set_num_threads(1)
    return {
        "query_ms": {k: statistics.median(v) * 1e3 for k, v in query.items()},
        "batch_s": {k: statistics.median(v) for k, v in batch.items()},
        "batch_texts": len(texts),
    }


def cold_ask(data: Path, question: str, runs: int = 3) -> dict[str, float]:
    """Wall time of ``kg ask`` in a fresh process, ONNX (the default) against torch, on the
    same build; interleaved runs, medians. Also the floor: a Python that imports numpy."""
    kg = Path(sys.executable).with_name("kg")
    cmds = {
        "onnx": ([str(kg), "ask", question, "--data", str(data)], {"KG_EMBEDDER": "minilm"}),
        "torch": (
            [str(kg), "ask", question, "--data", str(data)],
            {"KG_EMBEDDER": "minilm-torch"},
        ),
        "python": ([sys.executable, "-c", "import numpy"], {}),
    }
    samples: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(runs):
        for name, (cmd, env) in cmds.items():
            started = time.perf_counter()
            subprocess.run(
                cmd,
                env={**os.environ, "HF_HUB_OFFLINE": "1", **env},
                check=True,
                capture_output=True,
            )
            samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(v) for name, v in samples.items()}


def main() -> None:
    import json

    questions = [json.loads(x)["question"] for x in QUESTIONS.read_text().splitlines() if x]
    with tempfile.TemporaryDirectory(prefix="bench-encoder-") as tmp:
        cache = Path(tmp) / "cache"
        print(f"export: {export_model(cache):.1f} s -> {model_path(cache)}", file=sys.stderr)
        onnx = OnnxMiniLMEmbedder(cache, threads=os.cpu_count() or 1)
        torch = MiniLMEmbedder(threads=1)
        print(json.dumps(agreement(onnx, torch), indent=2))
        print(json.dumps(speed(cache, onnx, torch, questions), indent=2))


if __name__ == "__main__":
    main()
