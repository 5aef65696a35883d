"""Compare chunkings x retrievers on a question set: MRR and recall@k of the evidence.

    python -m bench.chunking --questions path/to/dev.jsonl [--corpus corpus] [--k 5]

Passage questions (``"type": "passage"``) count a hit when the passage ``text`` contains one
of the ``evidence`` phrases (case and white space ignored, as the evaluation scores them).
Fact and list questions use their answer regexes as evidence: a rough view of which chunking
puts the sentence that answers them in front of the question-answering layer.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from kg.parse.notes import NOTE_SUFFIXES, parse_document, read_document
from kg.search import (
    STRATEGIES,
    EmbeddingCache,
    FaissStore,
    SearchIndex,
    chunk_all,
    make_embedder,
    sync_index,
)
from kg.search.fusion import FUSIONS
from kg.settings import DEFAULT_CORPUS

Matcher = Callable[[str], bool]
RETRIEVERS = ("dense", "bm25", *(f"fused-{m}" for m in FUSIONS))


def norm(text: str) -> str:
    return " ".join(text.split()).lower()


def _has_phrase(phrases: list[str], text: str) -> bool:
    return any(p in norm(text) for p in phrases)


def _has_match(patterns: list[re.Pattern[str]], text: str) -> bool:
    return any(p.search(text) for p in patterns)


def matchers(q: dict[str, Any]) -> list[Matcher]:
    """One matcher per thing to find: the evidence, or each item of a list question."""
    if q["type"] == "passage":
        return [partial(_has_phrase, [norm(e) for e in q["evidence"]])]
    if q["type"] == "fact":
        alts = [q["answer"]]
    elif q["type"] == "list":
        alts = q["items"]
    else:
        return []
    return [partial(_has_match, [re.compile(a, re.IGNORECASE) for a in alt]) for alt in alts]


def rank_of(texts: Sequence[str], found: Sequence[Matcher], k: int) -> int | None:
    for i, text in enumerate(texts[:k], start=1):
        if any(m(text) for m in found):
            return i
    return None


def load_corpus(paths: Sequence[Path]) -> list[Any]:
    files: list[tuple[Path, str]] = []
    for path in paths:
        if path.is_dir():
            files += [
                (f, str(f.relative_to(path)))
                for f in sorted(path.rglob("*"))
                if f.suffix.lower() in NOTE_SUFFIXES
            ]
        else:
            files.append((path, path.name))
    return [parse_document(read_document(f, doc_id)) for f, doc_id in files]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--questions", type=Path, required=True, help="JSONL question set")
    ap.add_argument("--corpus", type=Path, nargs="*", default=[DEFAULT_CORPUS])
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--embedder", default="minilm", choices=["minilm", "minilm-torch", "fake"])
    ap.add_argument("--cache", type=Path, help="embedding cache folder (default: a temporary one)")
    ap.add_argument("--strategies", nargs="*", default=list(STRATEGIES))
    ap.add_argument("--verbose", action="store_true", help="print the rank of every question")
    args = ap.parse_args(argv)

    questions = [json.loads(x) for x in args.questions.read_text("utf-8").splitlines() if x.strip()]
    docs = load_corpus(args.corpus)
    tmp = tempfile.TemporaryDirectory()
    folder = args.cache or Path(tmp.name)
    embedder = make_embedder(args.embedder, cache=folder)  # the ONNX model is kept there too
    cache = EmbeddingCache(folder, embedder.model_id)
    qvecs = embedder.encode([q["question"] for q in questions])

    rows = []
    for strategy in args.strategies:
        passages = chunk_all(docs, strategy)
        store = FaissStore(None, embedder.dim)
        t0 = time.perf_counter()
        sync_index(store, passages, embedder, cache)
        build_s = time.perf_counter() - t0
        index = SearchIndex(store, embedder)
        sizes = [len(p.text) for p in passages]
        for retriever in RETRIEVERS:
            by_type: dict[str, list[tuple[int | None, float]]] = {}
            for q, qv in zip(questions, qvecs, strict=True):
                found = matchers(q)
                if not found:
                    continue
                texts = retrieve(index, retriever, q["question"], qv, args.k)
                rank = rank_of(texts, found, args.k)
                items = sum(any(m(t) for t in texts) for m in found) / len(found)
                by_type.setdefault(q["type"], []).append((rank, items))
                if args.verbose and retriever.startswith("fused") and rank != 1:
                    print(f"  {strategy:8s} {retriever:10s} {q['id']} rank={rank} {q['question']}")
            for qtype, results in sorted(by_type.items()):
                rows.append(
                    {
                        "strategy": strategy,
                        "retriever": retriever,
                        "type": qtype,
                        "n": len(results),
                        "mrr": sum(1 / r for r, _ in results if r) / len(results),
                        "recall": sum(r is not None for r, _ in results) / len(results),
                        "items": statistics.mean(i for _, i in results),
                        "passages": len(passages),
                        "mean_chars": statistics.mean(sizes) if sizes else 0,
                        "build_s": build_s,
                    }
                )
        index.close()
    cache.close()
    tmp.cleanup()
    print_table(rows, args.k)
    return 0


def retrieve(
    index: SearchIndex, retriever: str, question: str, qv: np.ndarray, k: int
) -> list[str]:
    if retriever == "dense":
        ids = [i for i, _ in index.dense(qv, k)]
    elif retriever == "bm25":
        ids = [i for i, _ in index.lexical(question, k)]
    else:
        method = retriever.removeprefix("fused-")
        ids = [h.id for h in index.search(question, k, query_vector=qv, method=method)]
    return [index.passage(i).text for i in ids]


def print_table(rows: list[dict[str, Any]], k: int) -> None:
    head = "| chunking | passages | mean chars | retriever | type | n | MRR"
    print(f"{head} | recall@{k} | items@{k} |")
    print("|---|---:|---:|---|---|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['strategy']} | {r['passages']} | {r['mean_chars']:.0f} | {r['retriever']} "
            f"| {r['type']} | {r['n']} | {r['mrr']:.3f} | {r['recall']:.2f} | {r['items']:.2f} |"
        )


if __name__ == "__main__":
    sys.exit(main())
