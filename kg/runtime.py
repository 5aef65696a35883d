"""What a serving process holds: the embedder (loaded once) and the live build's stores,
catalog and answer engine, reopened when a new build is published.

Embedded builds are immutable generations, so a new build is picked up by noticing that
``DATA/CURRENT`` changed (checked at most every ``RELOAD_CHECK`` seconds) and opening the new
generation beside the old one; requests in flight keep the engine they started with.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kg.answer.catalog import Catalog
from kg.answer.engine import AnswerEngine
from kg.datadir import DataDir
from kg.graph.base import GraphStore, GraphStoreError
from kg.lexicon import Lexicon, common_english_words
from kg.settings import Settings
from kg.stores import NotBuiltError, open_graph_store

if TYPE_CHECKING:
    from kg.search.embedder import Embedder
    from kg.search.retriever import Retriever

RELOAD_CHECK = 0.5


class NotReadyError(RuntimeError):
    """A backend the answer needs is missing or down; ``backend`` names it."""

    def __init__(self, backend: str, message: str) -> None:
        super().__init__(f"{backend}: {message}")
        self.backend = backend


@dataclass
class _Loaded:
    build_id: str
    store: GraphStore
    retriever: Retriever
    engine: AnswerEngine

    def close(self) -> None:
        self.store.close()
        self.retriever.close()


class Runtime:
    def __init__(self, settings: Settings, *, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.data = DataDir(settings.data)
        self._embedder = embedder
        self._lock = threading.Lock()
        self._loaded: _Loaded | None = None
        self._checked = 0.0
        self._lexicon: Lexicon | None = None
        self._common: frozenset[str] | None = None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            from kg.search.embedder import make_embedder

            self._embedder = make_embedder(self.settings.embedder, self.settings.torch_threads)
        return self._embedder

    def engine(self) -> AnswerEngine:
        """The engine of the live build; raises NotReadyError when there is none."""
        now = time.monotonic()
        loaded = self._loaded
        if loaded is not None and now - self._checked < RELOAD_CHECK:
            return loaded.engine
        with self._lock:
            self._checked = now
            build_id = self._build_id()
            if self._loaded is None or self._loaded.build_id != build_id:
                fresh = self._open(build_id)
                old, self._loaded = self._loaded, fresh
                if old is not None:
                    # Requests in flight hold their own reference; the old store is released
                    # when they finish (pyoxigraph closes on garbage collection).
                    del old
            return self._loaded.engine

    def _build_id(self) -> str:
        if self.settings.vector_store == "faiss" or self.settings.graph_store == "oxigraph":
            current = self.data.current_id()
            if current is None:
                raise NotReadyError("build", f"no build in {self.settings.data}: run `kg build`")
            return current
        from kg.search.index import remote_build_id

        return remote_build_id(self.settings)

    def _open(self, build_id: str) -> _Loaded:
        from kg.search.retriever import Retriever

        try:
            store = open_graph_store(self.settings)
        except (NotBuiltError, GraphStoreError) as exc:
            raise NotReadyError("graph", str(exc)) from exc
        gen = self.data.current()
        try:
            retriever = Retriever.open(
                self.settings, gen if gen is not None else Path(), self.embedder
            )
        except Exception as exc:  # any backend failure makes the runtime not ready
            store.close()
            raise NotReadyError("vectors", str(exc)) from exc
        if self._lexicon is None:
            self._lexicon = Lexicon.load()
            self._common = common_english_words()
        catalog = Catalog.load(
            store,
            vocabulary=retriever.vocabulary(),
            lexicon=self._lexicon,
            common_words=self._common or (),
        )
        return _Loaded(build_id, store, retriever, AnswerEngine(store, catalog, retriever))

    def readiness(self) -> dict[str, str]:
        """Backend name -> "ok" or what is wrong."""
        status: dict[str, str] = {}
        try:
            engine = self.engine()
        except NotReadyError as exc:
            status[exc.backend] = str(exc)
            return status
        for name, check in (("graph", engine.store.ping), ("vectors", engine.retriever.ping)):
            try:
                check()
                status[name] = "ok"
            except Exception as exc:  # a backend that cannot answer is not ready
                status[name] = f"{type(exc).__name__}: {exc}"
        return status

    def close(self) -> None:
        with self._lock:
            if self._loaded is not None:
                self._loaded.close()
                self._loaded = None
