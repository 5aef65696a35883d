"""Running queries with a time limit: ``QueryExecutor`` and its embedded implementation.

``LocalExecutor`` keeps a small pool of worker processes (``kg/sparql/worker.py``), each
holding the live generation's Oxigraph store (opened read-only, copied into memory when
small). A query goes to an idle worker over a pipe and comes back serialised; when the time
limit passes first, the worker is killed (which really stops the query), a fresh one takes its
place, and the caller gets ``QueryTimeout``. Other workers keep answering meanwhile.

Workers are plain ``python -I worker.py`` processes, not multiprocessing children: a spawned
multiprocessing child re-imports the parent's ``__main__`` (the CLI, and with it torch), while
this starts in ~40 ms with only pyoxigraph loaded, and never forks the parent.

A remote executor (``KG_GRAPH_STORE=sparql``, queries proxied over HTTP) can implement the same
interface; the HTTP layer only sees ``QueryExecutor``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pickle
import queue
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import kg.sparql.scanner as scanner
from kg import vocab
from kg.datadir import BuildLockedError, DataDir
from kg.sparql.description import PREDECLARED
from kg.sparql.errors import (  # noqa: F401 (kg.sparql.remote)
    _ACCEPT_GRAPHS,
    _ACCEPT_RESULTS,
    BadRequest,
    EndpointBusy,
    ExecutorFailure,
    GraphUnavailable,
    MemoryLimit,
    QueryTimeout,
    SparqlError,
    UpdateConflict,
    forbidden,
    from_worker,
    too_complex,
)
from kg.sparql.formats import BY_NAME, Format
from kg.sparql.updates import link_generation
from kg.sparql.worker import HEADER, read_frame, write_frame

WORKER_SCRIPT = Path(__file__).with_name("worker.py")

# Generations whose graph folder is at most this big are queried from an in-memory copy.
MEMORY_LIMIT = 64 * 1024 * 1024

# Prefixes written into Turtle and RDF/XML answers; not id:, as its local names hold slashes.
OUTPUT_PREFIXES = {name: iri for name, iri in vocab.PREFIXES.items() if name != "id"}

# Relative IRIs resolve against the request's URL over HTTP (as ``oxigraph serve`` does); where
# there is no request (``kg sparql``, the tools), against the namespace of the built resources.
DEFAULT_BASE = vocab.ID
MAX_MEMORY = 1 << 30  # bytes of address space per worker
MAX_BYTES = 16 << 20  # bytes of one serialised answer


@dataclass(frozen=True)
class QueryRequest:
    """One query and the formats the client accepts for each kind of answer.

    ``results_format`` serves SELECT and ASK, ``graph_format`` CONSTRUCT and DESCRIBE; None
    means the client accepts nothing of that kind (the answer is then ``NotAcceptable``).
    ``default_graphs`` / ``named_graphs`` are the protocol's ``default-graph-uri`` and
    ``named-graph-uri``; when both are None the default graph is the union of all graphs,
    unless the query has its own FROM / FROM NAMED. ``base_iri`` resolves relative IRIs (the
    executor's default when None).
    """

    query: str
    results_format: str | None = "json"
    graph_format: str | None = "turtle"
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    base_iri: str | None = None


@dataclass(frozen=True)
class UpdateRequest:
    """One update. ``using_graphs`` / ``using_named_graphs`` are the protocol's
    ``using-graph-uri`` and ``using-named-graph-uri`` (None when not given)."""

    update: str
    using_graphs: tuple[str, ...] | None = None
    using_named_graphs: tuple[str, ...] | None = None
    base_iri: str | None = None

    @property
    def has_dataset(self) -> bool:
        return self.using_graphs is not None or self.using_named_graphs is not None


@dataclass(frozen=True)
class QueryResult:
    body: bytes
    format: Format
    kind: str  # "results" (SELECT), "boolean" (ASK) or "graph" (CONSTRUCT, DESCRIBE)
    truncated: bool  # more rows or triples existed than the cap let through
    max_rows: int
    elapsed: float  # seconds, worker round trip included

    @property
    def media_type(self) -> str:
        return self.format.content_type


class QueryExecutor(ABC):
    """Runs SPARQL with the endpoint's limits and returns serialised answers."""

    @abstractmethod
    def query(self, request: QueryRequest) -> QueryResult:
        """Raises MalformedQuery, ForbiddenOperation, NotAcceptable, QueryTimeout,
        EndpointBusy, GraphUnavailable or ExecutorFailure."""

    async def query_async(self, request: QueryRequest) -> QueryResult:
        """``query`` for an event loop; this default runs it in a thread."""
        return await asyncio.to_thread(self.query, request)

    @abstractmethod
    def update(self, update: str) -> str:
        """Apply a SPARQL Update; returns the id of the data it produced (a generation)."""

    def apply(self, request: UpdateRequest) -> str:
        """``update`` with the protocol's parameters; executors that cannot honour a
        ``using-graph-uri`` dataset refuse it."""
        if request.has_dataset:
            raise BadRequest(
                "using-graph-uri and using-named-graph-uri are not supported by this graph store"
            )
        return self.update(request.update)

    def start(self) -> None:  # noqa: B027 - optional
        """Open ahead of the first query what would otherwise open on demand."""

    def close(self) -> None:  # noqa: B027 - optional for executors that hold nothing open
        """Release processes, files or connections."""

    def __enter__(self) -> QueryExecutor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class UnavailableExecutor(QueryExecutor):
    """Stands in where no executor can serve (a graph store the endpoint does not support
    yet): every query and update answers GraphUnavailable with the reason."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def query(self, request: QueryRequest) -> QueryResult:
        raise GraphUnavailable(self.reason)

    def update(self, update: str) -> str:
        raise GraphUnavailable(self.reason)


def check_allowed(text: str, *, update: bool = False) -> scanner.Inspection:
    """Inspect a query or update and refuse SERVICE and LOAD (no requests to other hosts) and
    nesting deeper than ``scanner.MAX_DEPTH``. The embedded executor runs the same screen in
    its workers, under the time limit; this is for callers that send the text elsewhere."""
    found = scanner.inspect(text, update=update)
    if found.forbidden:
        raise forbidden(found.forbidden[-1])
    if found.depth > scanner.MAX_DEPTH:
        raise too_complex(f"nested more than {scanner.MAX_DEPTH} levels deep")
    return found


class _Worker:
    """One worker process and its two pipes."""

    def __init__(
        self,
        graph: str | None,
        *,
        isolate: bool,
        memory_limit: int = 0,
        max_memory: int = 0,
        defaults: dict[str, Any] | None = None,
    ) -> None:
        cmd = [sys.executable, "-I", str(WORKER_SCRIPT), "--memory-limit", str(memory_limit)]
        cmd += ["--max-memory", str(max_memory), "--defaults", json.dumps(defaults or {})]
        if not isolate:
            cmd.append("--shared-network")
        cmd.append(graph or "")
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
            close_fds=True,
            env={**os.environ, "RUST_BACKTRACE": "0"},  # an aborted query logs one line
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in = self.proc.stdin
        self._out = self.proc.stdout
        self._poll = select.poll()
        self._poll.register(self._out.fileno(), select.POLLIN | select.POLLHUP | select.POLLERR)

    def call(self, request: dict[str, Any], deadline: float) -> dict[str, Any]:
        """Send a request and wait for the reply until ``deadline`` (time.monotonic()).

        Raises TimeoutError when the deadline passes first, EOFError if the process died."""
        payload = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            write_frame(self._in.fileno(), payload)
        except (BrokenPipeError, OSError) as exc:
            raise EOFError("the query worker is gone") from exc
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            if self._poll.poll(remaining * 1000):
                break
        frame = read_frame(self._out.fileno())  # the worker writes a reply in one go
        if frame is None:
            raise EOFError("the query worker exited")
        reply: dict[str, Any] = pickle.loads(frame)
        return reply

    async def call_async(self, request: dict[str, Any], deadline: float) -> dict[str, Any]:
        """``call`` on the running event loop: no thread, the loop watches the pipe."""
        payload = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            write_frame(self._in.fileno(), payload)  # small; the idle worker reads at once
        except (BrokenPipeError, OSError) as exc:
            raise EOFError("the query worker is gone") from exc
        loop = asyncio.get_running_loop()
        done: asyncio.Future[bytes] = loop.create_future()
        fd, buf = self._out.fileno(), bytearray()

        def readable() -> None:
            chunk = os.read(fd, 1 << 20)  # one read per wake-up never blocks
            if done.done():
                return
            if not chunk:
                done.set_exception(EOFError("the query worker exited"))
                return
            buf.extend(chunk)
            if len(buf) >= HEADER.size:
                (size,) = HEADER.unpack_from(buf)
                if len(buf) >= HEADER.size + size:
                    done.set_result(bytes(buf[HEADER.size :]))

        def expire() -> None:
            if not done.done():
                done.set_exception(TimeoutError())

        loop.add_reader(fd, readable)
        timer = loop.call_later(max(deadline - time.monotonic(), 0), expire)
        try:
            frame = await done  # cheaper than asyncio.wait_for, which wraps it in a task
        finally:
            timer.cancel()
            loop.remove_reader(fd)
        reply: dict[str, Any] = pickle.loads(frame)
        return reply

    def kill(self) -> None:
        self.proc.kill()
        self._reap()

    def stop(self) -> None:
        """Close stdin (the worker exits at end of file); kill it if it does not."""
        with contextlib.suppress(OSError):
            self._in.close()
        try:
            self.proc.wait(timeout=0.5)  # an idle worker exits at once; a busy one is killed
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._reap()

    def _reap(self) -> None:
        self.proc.wait()
        for pipe in (self._in, self._out):
            with contextlib.suppress(OSError):
                pipe.close()


class LocalExecutor(QueryExecutor):
    """Queries the live generation of a data folder through a pool of killable workers.

    ``timeout`` bounds each query once a worker has it; a request that finds every worker busy
    waits up to ``queue_timeout`` (default: ``timeout``) for one, then gets EndpointBusy.
    Each worker copies a generation whose graph folder is at most ``memory_limit`` bytes into
    memory (several times faster than reading RocksDB; about twice the folder's size in RAM
    per worker) and queries larger ones on disk. Each worker may use ``max_memory`` bytes of
    address space, and an answer ``max_bytes`` bytes. ``isolate_network=False`` leaves workers
    in the host's network namespace (tests use it to show that the SERVICE/LOAD screen alone
    stops requests). ``prefixes`` are predeclared for every query and update; ``base_iri``
    resolves relative IRIs when a request brings none.
    """

    def __init__(
        self,
        data: DataDir,
        *,
        workers: int = 2,
        timeout: float = 30.0,
        max_rows: int = 10_000,
        max_bytes: int = MAX_BYTES,
        max_memory: int = MAX_MEMORY,
        queue_timeout: float | None = None,
        memory_limit: int = MEMORY_LIMIT,
        isolate_network: bool = True,
        prefixes: dict[str, str] | None = None,
        base_iri: str = DEFAULT_BASE,
    ) -> None:
        self.data = data
        self.size = workers
        self.timeout = timeout
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.max_memory = max_memory
        self.queue_timeout = timeout if queue_timeout is None else queue_timeout
        self.isolate_network = isolate_network
        self.memory_limit = memory_limit
        self.prefixes = dict(PREDECLARED if prefixes is None else prefixes)
        self.base_iri = base_iri
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._started = False
        self._closed = False
        self._stamp: tuple[int, int, int] | None = None
        self._graph: str | None = None
        self._current = data.root / "CURRENT"  # stat'ed on every query: joined once
        self._updater: _Worker | None = None  # used under the build lock only
        # What every query shares goes to a worker once, when it starts, not in each request.
        self._defaults = {
            "max_rows": max_rows,
            "max_bytes": max_bytes,
            "prefixes": OUTPUT_PREFIXES,  # for Turtle and RDF/XML answers
            "predeclared": self.prefixes,
        }

    # Pool.

    def start(self) -> None:
        """Start the workers now (otherwise the first query does)."""
        with self._lock:
            if self._started or self._closed:
                return
            self._started = True
            graph = self._live_graph(required=False)
            for _ in range(self.size):
                self._add_worker(graph)

    def _add_worker(self, graph: str | None) -> None:
        worker = self._spawn(graph, memory_limit=self.memory_limit)
        self._all.add(worker)
        self._idle.put(worker)

    def _spawn(self, graph: str | None, *, memory_limit: int = 0) -> _Worker:
        return _Worker(
            graph,
            isolate=self.isolate_network,
            memory_limit=memory_limit,
            max_memory=self.max_memory,
            defaults=self._defaults,
        )

    @contextlib.contextmanager
    def _worker(self) -> Iterator[_Worker]:
        self._ensure_started()
        try:
            worker = self._idle.get(timeout=self.queue_timeout)
        except queue.Empty:
            raise self._busy() from None
        healthy = False
        try:
            yield worker
            healthy = True
        finally:
            self._release(worker, healthy)

    async def _acquire_async(self) -> _Worker:
        """An idle worker, waiting up to ``queue_timeout``; give it back with ``_release``.
        (Not an async context manager: that costs a point lookup 3 us, cold more.)"""
        self._ensure_started()
        deadline = time.monotonic() + self.queue_timeout
        while True:  # polling keeps a cancelled wait from taking a worker with it
            try:
                return self._idle.get_nowait()
            except queue.Empty:
                if time.monotonic() >= deadline:
                    raise self._busy() from None
                await asyncio.sleep(0.002)

    def _ensure_started(self) -> None:
        if not self._started:
            self.start()
        if self._closed:
            raise ExecutorFailure("the SPARQL executor is closed")

    def _busy(self) -> EndpointBusy:
        return EndpointBusy(f"all {self.size} query workers are busy; try again shortly")

    def _release(self, worker: _Worker, healthy: bool) -> None:
        """Back to the pool after a normal reply; otherwise (time limit, crash, cancelled
        wait: a reply may still be on its way) the worker is killed and replaced."""
        if healthy and not self._closed:
            self._idle.put(worker)
        else:
            self._replace(worker)

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._all.discard(worker)
            if not self._closed:
                self._add_worker(self._graph)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
            if self._updater is not None:
                workers.append(self._updater)
                self._updater = None
        for worker in workers:
            worker.stop()

    # The live generation.

    def _live_graph(self, *, required: bool = True) -> str | None:
        """The live generation's graph folder; re-read only when DATA/CURRENT changed."""
        try:
            st = self._current.stat()
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp is None or stamp != self._stamp:
            gen = self.data.current()
            self._graph = str(gen / "graph") if gen is not None else None
            self._stamp = stamp
        if self._graph is None and required:
            raise GraphUnavailable("no graph has been built yet (run `kg build`)")
        return self._graph

    # Queries and updates.

    def query(self, request: QueryRequest) -> QueryResult:
        message = self._message(request)
        started = time.monotonic()
        with self._worker() as worker, self._failures(worker):
            reply = worker.call(message, started + self.timeout)
        return self._result(reply, started)

    async def query_async(self, request: QueryRequest) -> QueryResult:
        message = self._message(request)
        started = time.monotonic()
        worker = await self._acquire_async()
        healthy = False
        try:
            with self._failures(worker):
                reply = await worker.call_async(message, started + self.timeout)
            healthy = True
        finally:
            self._release(worker, healthy)
        return self._result(reply, started)

    def _message(self, request: QueryRequest) -> dict[str, Any]:
        """The worker's request. Nothing here reads the query: the worker screens, parses and
        runs it under the time limit, so a crafted query costs the event loop nothing."""
        message: dict[str, Any] = {
            "op": "query",
            "path": self._live_graph(),
            "query": request.query,
            "results_format": request.results_format,
            "graph_format": request.graph_format,
            "base_iri": request.base_iri or self.base_iri,
        }
        if request.default_graphs is not None or request.named_graphs is not None:
            # The protocol's dataset replaces the query's; a part left out is empty.
            message["default_graphs"] = list(request.default_graphs or ())
            message["named_graphs"] = list(request.named_graphs or ())
        else:
            message["union"] = None  # the union unless the query has FROM / FROM NAMED
        return message

    @contextlib.contextmanager
    def _failures(self, worker: _Worker, what: str = "query") -> Iterator[None]:
        try:
            yield
        except TimeoutError:
            raise QueryTimeout(
                f"the {what} ran longer than the {self.timeout:g} s limit and was stopped"
            ) from None
        except EOFError as exc:
            raise self._death(worker, what, exc) from None

    def _death(self, worker: _Worker, what: str, exc: EOFError) -> SparqlError:
        """Why a worker died mid-request, from how it ended: an abort is the engine failing to
        allocate under the memory cap, a segmentation fault its parser or evaluator running
        out of stack on deep structure; anything else is a failure of ours."""
        try:
            code = worker.proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            code = None
        if code == -signal.SIGABRT:
            return MemoryLimit(
                f"the {what} needed more than the {self.max_memory / 2**20:,.0f} MiB of memory "
                f"{'an update' if what == 'update' else 'a query'} may use and was stopped"
            )
        if code == -signal.SIGSEGV:
            return too_complex("the engine ran out of stack on its structure")
        return ExecutorFailure(f"{exc}; it has been restarted")

    def _result(self, reply: dict[str, Any], started: float) -> QueryResult:
        if not reply["ok"]:
            raise from_worker(reply, max_memory=self.max_memory)
        return QueryResult(
            body=reply["body"],
            format=BY_NAME[reply["format"]],
            kind=reply["kind"],
            truncated=reply["truncated"],
            max_rows=self.max_rows,
            elapsed=time.monotonic() - started,
        )

    def info(self) -> list[dict[str, Any]]:
        """What each idle worker reports (pid, network isolation, open store); for tests."""
        with contextlib.ExitStack() as stack:
            workers = [stack.enter_context(self._worker()) for _ in range(self.size)]
            deadline = time.monotonic() + self.timeout
            return [worker.call({"op": "info"}, deadline) for worker in workers]

    def update(self, update: str) -> str:
        return self.apply(UpdateRequest(update))

    def apply(self, request: UpdateRequest) -> str:
        """Apply an update to a new generation and publish it (``kg/sparql/updates.py``).

        Holding the build lock (an update never races a build), the new generation links the
        live one's files; the update worker checkpoints the live graph into it (hard links,
        nothing copied), applies the update there under the time limit, and the generation is
        published. A failed or stopped update deletes it: the live data is untouched.
        """
        message: dict[str, Any] = {
            "op": "update",
            "update": request.update,
            "predeclared": self.prefixes,
            "base_iri": request.base_iri or self.base_iri,
        }
        if request.has_dataset:
            message["using"] = (
                list(request.using_graphs or ()),
                list(request.using_named_graphs or ()),
            )
        try:
            with self.data.lock():
                live = self.data.current()
                if live is None:
                    raise GraphUnavailable("no graph has been built yet (run `kg build`)")
                gen = self.data.new_generation()
                try:
                    link_generation(live, gen)
                    message["source"] = str(live / "graph")
                    message["path"] = str(gen / "graph")
                    reply = self._update_call(message)
                    if not reply["ok"]:
                        raise from_worker(reply, max_memory=self.max_memory)
                    self.data.publish(gen)
                except QueryTimeout as exc:
                    shutil.rmtree(gen, ignore_errors=True)
                    raise QueryTimeout(f"{exc.message}; nothing was changed") from None
                except BaseException:
                    shutil.rmtree(gen, ignore_errors=True)
                    raise
        except BuildLockedError as exc:
            raise UpdateConflict(f"{exc}; try the update again when it has finished") from None
        return gen.name

    def _update_call(self, message: dict[str, Any]) -> dict[str, Any]:
        """Run an update on the update worker (started on first use, kept between updates,
        replaced after a time limit or a crash)."""
        if self._updater is None:
            self._updater = self._spawn(None)
        worker, healthy = self._updater, False
        try:
            with self._failures(worker, "update"):
                reply = worker.call(message, time.monotonic() + self.timeout)
            healthy = True
            return reply
        finally:
            if not healthy:
                self._updater = None
                worker.kill()
