"""The baseline /ask is measured against: plain dense retrieval, served the same way.

The same model run the plain way (torch through sentence-transformers, ``minilm-torch``) with
cloudkg's thread count, a FAISS exact (flat) index over the same stored vectors, the top
passage as the answer; a FastAPI app on one uvicorn worker, like ``kg serve``. No graph, no
BM25, no analysis.

    python -m bench.baseline --data data --port 8100
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from api.server import run
from kg.datadir import DataDir
from kg.search.embedder import make_embedder
from kg.search.index import VECTORS_DIR
from kg.search.vectors import FaissStore
from kg.settings import Settings


class Question(BaseModel):
    question: str
    k: int = 5


def create_baseline_app(
    data: Path, embedder_name: str = "minilm-torch", threads: int = 1
) -> FastAPI:
    gen = DataDir(data).current()
    if gen is None:
        raise SystemExit(f"no build in {data}")
    store = FaissStore(gen / VECTORS_DIR, 64 if embedder_name == "fake" else 384)
    ids = store.ids()
    vectors = store.vectors(ids).astype(np.float32)
    texts = [p["text"] for p in store.get(ids)]
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    embedder = make_embedder(embedder_name, threads, cache=DataDir(data).cache)
    app = FastAPI()

    def answer(question: str, k: int) -> dict[str, Any]:
        vector = embedder.encode_one(question).reshape(1, -1).astype(np.float32)
        scores, rows = index.search(vector, k)
        passages = [
            {"text": texts[r], "score": float(s)} for s, r in zip(scores[0], rows[0], strict=True)
        ]
        return {
            "question": question,
            "answer": passages[0]["text"] if passages else "",
            "route": "search",
            "facts": [],
            "passages": passages,
        }

    @app.post("/ask")
    async def ask(body: Question) -> dict[str, Any]:
        return await run_in_threadpool(answer, body.question, body.k)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("data"))
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--embedder", default="minilm-torch")
    args = parser.parse_args()
    settings = Settings(data=args.data)
    app = create_baseline_app(args.data, args.embedder, settings.torch_threads)
    run(app, "127.0.0.1", args.port, access_log=False)


if __name__ == "__main__":
    main()
