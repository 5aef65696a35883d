"""What a serving process holds: the embedder (loaded once) and the live build's stores,
catalog and answer engine, reopened when a new build is published.

Embedded builds are immutable generations, so a new build is picked up by noticing that
``DATA/CURRENT`` changed (checked at most every ``RELOAD_CHECK`` seconds) and opening the new
generation beside the old one; requests in flight keep the engine they started with. With
remote stores (a SPARQL server and Qdrant) the build is the pair of collections the Qdrant
aliases point at, read at the same pace, so every replica switches to a new build on its own
and nothing about a build or a question lives only in one process.

Outages. Every failure of a backend becomes ``NotReadyError(backend, message)`` with backend
``"build"``, ``"graph"`` or ``"vectors"``: while opening (``engine()``), while probing
(``readiness()``), and, through ``failure()``, while answering. Nothing broken is kept: a failed
open is tried again by the next call (callers that were waiting for the same attempt share its
outcome instead of queueing up behind each other), and the stores reconnect by themselves, so a
backend that comes back is used again without a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kg.answer.catalog import Catalog
from kg.answer.engine import AnswerEngine
from kg.datadir import DataDir
from kg.graph.base import GraphStore, GraphStoreError
from kg.graph.stores import NotBuiltError, open_graph_store
from kg.lexicon import Lexicon, common_english_words
from kg.settings import Settings

if TYPE_CHECKING:
    from kg.graph.sparql import SparqlStore
    from kg.search.embedder import Embedder
    from kg.search.retriever import Retriever

log = logging.getLogger("cloudkg")

RELOAD_CHECK = 0.5  # seconds between checks for a new build
PROBE_TIMEOUT = 2.0  # seconds a readiness probe of a remote backend may take


class NotReadyError(RuntimeError):
    """A backend the answer needs is missing or down; ``backend`` names it ("build", "graph"
    or "vectors") and ``message`` says what is wrong."""

    def __init__(self, backend: str, message: str) -> None:
        super().__init__(f"{backend}: {message}")
        self.backend = backend
        self.message = message

    def again(self) -> NotReadyError:
        """The same error as a fresh exception (one object is never raised in two threads)."""
        return NotReadyError(self.backend, self.message)


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
        self._failed: tuple[float, NotReadyError] | None = None
        self._retired: list[tuple[float, _Loaded]] = []  # replaced builds, closed after a while
        self._lexicon: Lexicon | None = None
        self._common: frozenset[str] | None = None
        self._qdrant: Any = None  # one client for reading the aliases, opened on first use
        self._probe: SparqlStore | None = None  # the remote graph store, with short timeouts

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            from kg.search.embedder import make_embedder

            self._embedder = make_embedder(
                self.settings.embedder, self.settings.torch_threads, cache=self.data.cache
            )
        return self._embedder

    def fresh_engine(self) -> AnswerEngine | None:
        """The open engine if the live build was checked within RELOAD_CHECK, else None:
        no I/O and no lock, so an event loop may call it."""
        loaded = self._loaded
        if loaded is not None and time.monotonic() - self._checked < RELOAD_CHECK:
            return loaded.engine
        return None

    def engine(self) -> AnswerEngine:
        """The engine of the live build; raises NotReadyError when there is none or a backend
        it needs is down. May block: it opens a newly published build."""
        engine = self.fresh_engine()
        if engine is not None:
            return engine
        arrived = time.monotonic()
        with self._lock:
            failed = self._failed
            if failed is not None and failed[0] >= arrived:
                raise failed[1].again()  # the attempt this call waited for has just failed
            try:
                engine = self._refresh()
            except NotReadyError as exc:
                self._failed = (time.monotonic(), exc)
                raise
            self._failed = None
            return engine

    def _refresh(self) -> AnswerEngine:
        """Open the live build unless it is open already (holding the lock)."""
        build_id = self._build_id()
        loaded = self._loaded
        if loaded is None or loaded.build_id != build_id:
            try:
                fresh = self._open(build_id)
            except NotReadyError as exc:
                if loaded is None:
                    raise
                # The build being published may not be complete everywhere yet: keep serving
                # the one that is open, and try the new one again after RELOAD_CHECK.
                log.warning(
                    "cannot open build %s yet, serving %s: %s", build_id, loaded.build_id, exc
                )
                self._checked = time.monotonic()
                return loaded.engine
            if loaded is not None:
                self._retired.append((time.monotonic(), loaded))
            self._loaded = loaded = fresh
        if self._retired:
            self._close_retired(self._grace())
        self._checked = time.monotonic()
        return loaded.engine

    def _grace(self) -> float:
        """How long a replaced build stays open for the requests that still use it."""
        return max(60.0, 2 * self.settings.sparql_timeout)

    def _close_retired(self, older_than: float) -> None:
        now = time.monotonic()
        keep = []
        for since, loaded in self._retired:
            if now - since >= older_than:
                loaded.close()
            else:
                keep.append((since, loaded))
        self._retired = keep

    def _build_id(self) -> str:
        if self.settings.vector_store == "faiss" or self.settings.graph_store == "oxigraph":
            current = self.data.current_id()
            if current is None:
                raise NotReadyError("build", f"no build in {self.settings.data}: run `kg build`")
            return current
        from kg.search.vectors import qdrant_alias_target

        alias = self.settings.qdrant_collection
        try:
            passages = qdrant_alias_target(self._qdrant_client(), alias)
            sentences = qdrant_alias_target(self._qdrant_client(), f"{alias}-sentences")
        except Exception as exc:  # whatever the client raises: the aliases cannot be read
            raise NotReadyError(
                "vectors", f"cannot read the Qdrant alias {alias!r}: {explain(exc)}"
            ) from exc
        if passages is None:
            raise NotReadyError(
                "build", f"no build published in Qdrant (alias {alias!r}): run `kg build`"
            )
        # Passages and sentences are published one after the other: a build is both.
        return f"{passages}+{sentences}"

    def _open(self, build_id: str) -> _Loaded:
        from kg.search.retriever import Retriever

        try:
            store = open_graph_store(self.settings)
        except NotBuiltError as exc:
            raise NotReadyError("build", str(exc)) from exc
        except GraphStoreError as exc:
            raise NotReadyError("graph", str(exc)) from exc
        try:
            if self.settings.graph_store == "sparql":  # httpx is imported for remote stores only
                from kg.graph.sparql import SparqlStore

                assert isinstance(store, SparqlStore)
                store.check_union_default_graph()  # the union is the default graph, as embedded
            else:
                store.ping()
        except GraphStoreError as exc:
            store.close()
            raise NotReadyError("graph", str(exc)) from exc
        gen = self.data.current()
        try:
            retriever = Retriever.open(
                self.settings, gen if gen is not None else Path(), self.embedder
            )
        except Exception as exc:  # any backend failure makes the runtime not ready
            store.close()
            raise NotReadyError("vectors", explain(exc)) from exc
        try:
            if self._lexicon is None:
                self._lexicon = Lexicon.load()
                self._common = common_english_words()
            catalog = Catalog.load(
                store,
                vocabulary=retriever.vocabulary(),
                lexicon=self._lexicon,
                common_words=self._common or (),
            )
        except BaseException as exc:
            store.close()
            retriever.close()
            if isinstance(exc, GraphStoreError):
                raise NotReadyError("graph", str(exc)) from exc
            raise  # a bug, not an outage
        return _Loaded(build_id, store, retriever, AnswerEngine(store, catalog, retriever))

    def failure(self, exc: BaseException) -> NotReadyError | None:
        """What an exception raised while answering says about the backends: a NotReadyError
        naming the one that failed, or None when it is not a backend failure (a bug)."""
        if isinstance(exc, NotReadyError):
            return exc
        if isinstance(exc, GraphStoreError):
            return NotReadyError("graph", str(exc))
        if self.settings.vector_store == "qdrant" and _is_qdrant_error(exc):
            return NotReadyError("vectors", explain(exc))
        import httpx  # here, not at the top: a `kg ask` that fails nothing never imports it

        if isinstance(exc, httpx.HTTPError):
            # The SPARQL store wraps its own errors, so bare httpx errors come from Qdrant.
            return NotReadyError("vectors", explain(exc))
        return None

    def readiness(self) -> dict[str, str]:
        """Backend name -> "ok" or what is wrong. Probes every backend it can reach, so a
        backend that came back shows at once."""
        status: dict[str, str] = {}
        engine: AnswerEngine | None
        try:
            engine = self.engine()
        except NotReadyError as exc:
            status[exc.backend] = exc.message
            engine = self._loaded.engine if self._loaded is not None else None
        if "graph" not in status:
            graph = self._probe_graph(engine)
            if graph is not None:
                status["graph"] = graph
        if "vectors" not in status:
            vectors = self._probe_vectors(engine)
            if vectors is not None:
                status["vectors"] = vectors
        return status

    def _probe_graph(self, engine: AnswerEngine | None) -> str | None:
        if self.settings.graph_store == "sparql":
            if not self.settings.sparql_query_url:
                return "KG_GRAPH_STORE=sparql needs KG_SPARQL_QUERY_URL"
            if self._probe is None:
                from kg.graph.sparql import SparqlStore

                limit = min(PROBE_TIMEOUT, self.settings.sparql_timeout)
                self._probe = SparqlStore.from_settings(
                    self.settings, timeout=limit, connect_timeout=limit
                )
            return _outcome(self._probe.ping)
        return _outcome(engine.store.ping) if engine is not None else None

    def _probe_vectors(self, engine: AnswerEngine | None) -> str | None:
        if engine is not None:
            return _outcome(engine.retriever.ping)
        if self.settings.vector_store == "qdrant":
            return _outcome(lambda: self._qdrant_client().get_aliases())
        return None

    def _qdrant_client(self) -> Any:
        if self._qdrant is None:
            from kg.search.index import qdrant_location
            from kg.search.vectors import qdrant_client

            self._qdrant = qdrant_client(qdrant_location(self.settings))
        return self._qdrant

    def close(self) -> None:
        with self._lock:
            if self._loaded is not None:
                self._loaded.close()
                self._loaded = None
            self._close_retired(0.0)
            if self._qdrant is not None:
                self._qdrant.close()
                self._qdrant = None
            if self._probe is not None:
                self._probe.close()
                self._probe = None


def _outcome(check: Any) -> str:
    """ "ok", or what the failure says."""
    try:
        check()
    except Exception as exc:  # a backend that cannot answer is not ready
        return explain(exc)
    return "ok"


def explain(exc: BaseException) -> str:
    """A one-line account of a backend failure (qdrant-client's own errors print nothing)."""
    source = getattr(exc, "source", None)  # qdrant-client's ResponseHandlingException
    if isinstance(source, BaseException):
        exc = source
    import httpx

    if isinstance(exc, httpx.RequestError):
        try:
            where = f" ({exc.request.url})"
        except RuntimeError:  # no request attached
            where = ""
        return f"{type(exc).__name__}{where}: {exc}" if str(exc) else type(exc).__name__ + where
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _is_qdrant_error(exc: BaseException) -> bool:
    from qdrant_client.common.client_exceptions import QdrantException
    from qdrant_client.http.exceptions import ApiException

    return isinstance(exc, ApiException | QdrantException)
