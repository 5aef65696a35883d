"""The query worker: a child process that runs SPARQL on a read-only Oxigraph store.

pyoxigraph's ``Store.query`` cannot be interrupted, so each query runs in a process the parent
can kill. The parent starts this file as a plain script (``python -I worker.py [GRAPH]``): it
imports only the standard library and pyoxigraph, starts in a few tens of milliseconds, and
never sees torch or the rest of the application.

Protocol: length-prefixed pickled dicts, requests on stdin and replies on stdout (anything
printed goes to stderr). A request names the store folder it wants; the worker keeps one store
open and reopens when a new generation is asked for; what every request shares (prefixes, row
and byte caps) comes once, as ``--defaults``. Replies carry the answer already serialised, so
the parent copies bytes and never touches RDF terms.

Everything a query costs happens here, under the parent's time limit: the scan that refuses
SERVICE, LOAD and runaway nesting (``kg/sparql/scanner.py``), parsing, evaluation and
serialisation. The parent's event loop only moves bytes. Requests run on a thread with a
``STACK``-byte stack, because Oxigraph's parser and evaluator recurse once per nesting level;
``--max-memory`` is what one request may allocate beyond what the worker holds with its
generation open (a soft ``RLIMIT_DATA``, ``memory_budget``), so a query whose values double
at every step stops there (the engine aborts, the parent answers "memory limit") instead of
taking the machine's memory.

On Linux the worker also moves itself into empty user and network namespaces when the kernel
allows it, so that even a query that slipped past the SERVICE/LOAD screen could not reach a
host. The screen is the rule; this is a second wall.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import pickle
import struct
import sys
import threading
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from types import ModuleType
from typing import IO, TYPE_CHECKING, Any, cast

import pyoxigraph as ox


def _load_scanner() -> ModuleType:
    """``kg.sparql.scanner``, loaded from beside this file: importing it through the package
    would load ``kg.sparql`` and with it pydantic into every worker (most of a second)."""
    name = "kg.sparql.scanner"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("scanner.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


if TYPE_CHECKING:
    from kg.sparql import scanner
else:
    scanner = _load_scanner()

HEADER = struct.Struct("!Q")
STACK = 64 << 20  # bytes of stack for the thread that runs requests (8x the usual main stack)

RESULT_FORMATS = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}
GRAPH_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "nquads": ox.RdfFormat.N_QUADS,
    "rdfxml": ox.RdfFormat.RDF_XML,
    "jsonld": ox.RdfFormat.JSON_LD,
}
_PREFIXED = ("turtle", "rdfxml")  # formats whose output uses the prefixes


# Framing, shared with the parent (kg.sparql.executor imports these).


def write_frame(fd: int, payload: bytes) -> None:
    data = memoryview(HEADER.pack(len(payload)) + payload)
    while data:
        n = os.write(fd, data)
        data = data[n:]


def read_exactly(fd: int, size: int) -> bytes | None:
    """``size`` bytes from ``fd``, or None at end of file."""
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int) -> bytes | None:
    head = read_exactly(fd, HEADER.size)
    if head is None:
        return None
    (size,) = HEADER.unpack(head)
    return read_exactly(fd, size)


# Row caps on pyoxigraph's own (fast) result writers.


class _Stop(Exception):
    """Raised from ``write`` to stop the serializer once the row limit is passed."""


class TooLarge(Exception):
    """The serialised answer passed the byte limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the answer is larger than the {limit:,}-byte limit")
        self.limit = limit


class CappedOutput:
    """A binary file for ``QuerySolutions.serialize`` that keeps at most ``limit`` rows.

    The serializer writes 8 KiB chunks; each is counted with C-speed bytes operations. When
    row ``limit + 1`` shows up, ``write`` raises to stop the serializer, and ``body()`` returns
    the output cut just before that row, with the document closed again.
    """

    footer = b""

    def __init__(self, limit: int, max_bytes: int | None = None) -> None:
        self.buf = bytearray()
        self.limit = limit
        self.max_bytes = max_bytes
        self.cut: int | None = None

    def write(self, data: bytes) -> int:
        if self.cut is not None:
            return len(data)  # the writer's buffer is flushed again when it is dropped
        base = len(self.buf)
        self.buf += data
        if self.max_bytes is not None and len(self.buf) > self.max_bytes:
            raise TooLarge(self.max_bytes)
        cut = self._scan(bytes(data), base)
        if cut is not None:
            self.cut = cut
            raise _Stop
        return len(data)

    def flush(self) -> None:
        pass

    def _scan(self, data: bytes, base: int) -> int | None:
        """Offset in the whole output where row ``limit + 1`` starts, once it is known."""
        raise NotImplementedError

    @property
    def truncated(self) -> bool:
        return self.cut is not None

    def body(self) -> bytes:
        if self.cut is None:
            return bytes(self.buf)
        return bytes(self.buf[: self.cut]) + self.footer


class _XmlOutput(CappedOutput):
    """Rows start with ``<result>``, which cannot occur elsewhere (``<`` is escaped in text)."""

    footer = b"</results></sparql>"
    TOKEN = b"<result>"

    def __init__(self, limit: int, max_bytes: int | None = None) -> None:
        super().__init__(limit, max_bytes)
        self.rows = 0

    def _scan(self, data: bytes, base: int) -> int | None:
        lo = max(base - len(self.TOKEN) + 1, 0)  # a token may straddle two chunks
        n = self.buf.count(self.TOKEN, lo)
        if self.rows + n <= self.limit:
            self.rows += n
            return None
        pos = lo - 1
        for _ in range(self.limit - self.rows + 1):
            pos = self.buf.find(self.TOKEN, pos + 1)
        return pos


class _LineOutput(CappedOutput):
    """TSV: a header line, then one line per row (newlines in values are escaped)."""

    def __init__(self, limit: int, max_bytes: int | None = None) -> None:
        super().__init__(limit, max_bytes)
        self.lines = 0
        self.mark = 0  # offset just after the header and ``limit`` rows

    def _newlines(self, data: bytes) -> Iterable[int]:
        pos = data.find(b"\n")
        while pos >= 0:
            yield pos
            pos = data.find(b"\n", pos + 1)

    def _count(self, data: bytes) -> int:
        return data.count(b"\n")

    def _scan(self, data: bytes, base: int) -> int | None:
        n = self._count(data)
        if self.lines + n <= self.limit:
            self.lines += n
            return None
        for pos in self._newlines(data):
            self.lines += 1
            if self.lines == self.limit + 1:
                self.mark = base + pos + 1
            elif self.lines == self.limit + 2:
                return self.mark
        return None


class _CsvOutput(_LineOutput):
    """CSV: rows end with CRLF; values holding quotes, commas or line breaks are quoted, so
    only line breaks outside quotes end rows (``""`` inside quotes toggles twice)."""

    def __init__(self, limit: int, max_bytes: int | None = None) -> None:
        super().__init__(limit, max_bytes)
        self.quoted = False

    def _count(self, data: bytes) -> int:
        parts = data.split(b'"')
        outside = parts[1::2] if self.quoted else parts[0::2]
        return sum(p.count(b"\n") for p in outside)

    def _newlines(self, data: bytes) -> Iterable[int]:
        offset, quoted = 0, self.quoted
        for part in data.split(b'"'):
            if not quoted:
                pos = part.find(b"\n")
                while pos >= 0:
                    yield offset + pos
                    pos = part.find(b"\n", pos + 1)
            offset += len(part) + 1
            quoted = not quoted

    def _scan(self, data: bytes, base: int) -> int | None:
        cut = super()._scan(data, base)
        if data.count(b'"') % 2:
            self.quoted = not self.quoted
        return cut


class _JsonOutput(CappedOutput):
    """SPARQL JSON as pyoxigraph writes it (no whitespace): outside strings, an object opened
    right after ``[`` or ``,`` is a solution, as nothing else in the document is an array of
    objects. Strings are dropped before counting: escaped backslashes and quotes first, then
    every other piece of a split on ``"``."""

    def __init__(self, limit: int, max_bytes: int | None = None) -> None:
        super().__init__(limit, max_bytes)
        self.solutions = 0
        self.in_string = False
        self.escaped = False  # the chunk ended inside a string on a lone backslash
        self.prev = -1  # last byte outside strings

    def _scan(self, data: bytes, base: int) -> int | None:
        state = (self.in_string, self.escaped, self.prev)
        text = data[1:] if self.escaped else data
        text = text.replace(b"\\\\", b"").replace(b'\\"', b"")
        self.escaped = text.endswith(b"\\")
        parts = text.split(b'"')
        outside = b"".join(parts[1::2] if self.in_string else parts[0::2])
        if len(parts) % 2 == 0:
            self.in_string = not self.in_string
        joined = (bytes([self.prev]) if self.prev >= 0 else b"") + outside
        n = joined.count(b"[{") + joined.count(b",{")
        if joined:
            self.prev = joined[-1]
        if self.solutions + n <= self.limit:
            self.solutions += n
            return None
        return self._exact(data, base, state)

    def _exact(self, data: bytes, base: int, state: tuple[bool, bool, int]) -> int | None:
        in_string, escaped, prev = state
        for i, c in enumerate(data):
            if in_string:
                if escaped:
                    escaped = False
                elif c == 0x5C:  # backslash
                    escaped = True
                elif c == 0x22:  # quote
                    in_string = False
            elif c == 0x22:
                in_string = True
            else:
                if c == 0x7B and prev in (0x5B, 0x2C):  # { after [ or ,
                    self.solutions += 1
                    if self.solutions == self.limit + 1:
                        return base + i - 1  # drop the comma before it as well
                prev = c
        return None  # not reached: the fast count said the row is in this chunk

    def body(self) -> bytes:
        if self.cut is None:
            return bytes(self.buf)
        # The flag goes first: pyoxigraph's own parser rejects keys after the bindings.
        flag = b'{"truncated":true,"maxRows":%d,' % self.limit
        return flag + bytes(self.buf[1 : self.cut]) + b"]}}"


_OUTPUTS: dict[str, type[CappedOutput]] = {
    "json": _JsonOutput,
    "xml": _XmlOutput,
    "csv": _CsvOutput,
    "tsv": _LineOutput,
}


def serialize_solutions(
    solutions: ox.QuerySolutions, fmt: str, limit: int, max_bytes: int | None = None
) -> tuple[bytes, bool]:
    """At most ``limit`` solutions in ``fmt``, and whether there were more. Raises TooLarge
    when the answer passes ``max_bytes``."""
    out = _OUTPUTS[fmt](limit, max_bytes)
    with contextlib.suppress(_Stop):
        solutions.serialize(cast("IO[bytes]", out), RESULT_FORMATS[fmt])
    return out.body(), out.truncated


def serialize_triples(
    triples: Iterable[ox.Triple],
    fmt: str,
    limit: int,
    prefixes: dict[str, str],
    max_bytes: int | None = None,
) -> tuple[bytes, int, bool]:
    """At most ``limit`` triples in ``fmt``, their count, and whether there were more. Raises
    TooLarge when the answer passes ``max_bytes``."""
    kept = list(islice(triples, limit + 1))
    truncated = len(kept) > limit
    if truncated:
        del kept[limit:]
    body = ox.serialize(
        kept, format=GRAPH_FORMATS[fmt], prefixes=prefixes if fmt in _PREFIXED else None
    )
    if max_bytes is not None and body is not None and len(body) > max_bytes:
        raise TooLarge(max_bytes)
    return body or b"", len(kept), truncated


# Execution.


class Engine:
    """Holds the open store and answers requests (also usable in-process, e.g. in tests).

    A generation never changes once published, so when its graph folder is at most
    ``memory_limit`` bytes the engine copies it into an in-memory store and closes the files:
    Oxigraph's in-memory store answers 3-5x faster than RocksDB (docs/sparql.md). Larger
    graphs are queried on disk.

    Queries have a memory budget of ``max_memory`` bytes beyond what the worker holds with its
    generation open (``memory_budget``). It is set once the generation is open and stays until
    the next one opens, rather than set and lifted around each query: the three system calls
    cost a point lookup more than its own bookkeeping, and between queries the worker only
    reads the next request. Opening a generation (copying it into memory) is not counted.
    ``defaults`` are request keys that every request of the worker shares (prefixes, row cap).
    """

    def __init__(
        self, memory_limit: int = 0, max_memory: int = 0, defaults: dict[str, Any] | None = None
    ) -> None:
        self.defaults = defaults or {}
        self.memory_limit = memory_limit
        self.max_memory = max_memory  # bytes a request may allocate (0: no cap)
        self._budget = contextlib.ExitStack()  # holds the budget of the open generation
        self.path: str | None = None
        self.store: ox.Store | None = None
        self.in_memory = False

    def open(self, path: str) -> ox.Store:
        if self.store is None or self.path != path:
            self._budget.close()  # lifted while a generation opens
            self.store = None  # release the old generation before opening the new one
            store = ox.Store.read_only(path)
            self.in_memory = _folder_size(path) <= self.memory_limit
            if self.in_memory:
                copy = ox.Store()
                copy.bulk_extend(store)
                store = copy
            self.store, self.path = store, path
            self._budget.enter_context(memory_budget(self.max_memory))
        return self.store

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        request = {**self.defaults, **request}
        try:
            op = request["op"]
            if op == "query":
                return self.query(request)
            if op == "update":
                with memory_budget(self.max_memory):
                    return update(request)  # one-off: the budget from what is held now
            if op == "info":
                return {
                    "ok": True,
                    "pid": os.getpid(),
                    "isolated": ISOLATED,
                    "store": self.path,
                    "in_memory": self.in_memory,
                }
            return _error("internal", f"unknown operation {op!r}")
        except _Refused as exc:
            return _error(exc.code, exc.message)
        except SyntaxError as exc:
            return _syntax_error(request, str(exc))
        except TooLarge as exc:
            return _error("too_large", str(exc))
        except MemoryError:
            return _error("memory", "the query needed more memory than a query may use")
        except RecursionError:
            return _error("too_complex", "the query nests too deeply")
        except ValueError as exc:
            return _error("bad_request", str(exc))
        except OSError as exc:
            return _error("store", str(exc))
        except RuntimeError as exc:  # pyoxigraph's evaluation errors (an unknown function, ...)
            return _error("evaluation", str(exc))
        except Exception as exc:
            return _error("internal", f"{type(exc).__name__}: {exc}")

    def query(self, request: dict[str, Any]) -> dict[str, Any]:
        text = request["query"]
        found = screen(text)
        if found.is_update:
            raise _Refused("update_as_query", found.first_word or "")
        if found.kind == "results" and request.get("results_format") is None:
            return _error("not_acceptable", found.form or "SELECT")
        if found.kind == "graph" and request.get("graph_format") is None:
            return _error("not_acceptable", found.form or "CONSTRUCT")
        store = self.open(request["path"])
        kwargs: dict[str, Any] = {
            "base_iri": request.get("base_iri"),
            "prefixes": request.get("predeclared") or None,
        }
        union = request.get("union")
        if union is None:  # the union, unless the query names its own dataset (FROM)
            union = not found.has_dataset
        if request.get("default_graphs") is not None:
            kwargs["default_graph"] = [ox.NamedNode(g) for g in request["default_graphs"]]
        elif union:
            kwargs["use_default_graph_as_union"] = True
        if request.get("named_graphs") is not None:
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in request["named_graphs"]]
        return self._answer(request, store.query(text, **kwargs))

    def _answer(
        self, request: dict[str, Any], result: ox.QueryBoolean | ox.QuerySolutions | Any
    ) -> dict[str, Any]:
        """The result serialised (evaluation happens here too: results are lazy)."""
        limit = request["max_rows"]
        max_bytes = request.get("max_bytes")
        if isinstance(result, ox.QueryBoolean):
            fmt = request.get("results_format")
            if fmt is None:
                return _error("not_acceptable", "ASK")
            body = result.serialize(format=RESULT_FORMATS[fmt]) or b""
            return _reply("boolean", fmt, body, 1, False)
        if isinstance(result, ox.QuerySolutions):
            fmt = request.get("results_format")
            if fmt is None:
                return _error("not_acceptable", "SELECT")
            body, truncated = serialize_solutions(result, fmt, limit, max_bytes)
            return _reply("results", fmt, body, -1, truncated)
        fmt = request.get("graph_format")
        if fmt is None:
            return _error("not_acceptable", "CONSTRUCT")
        body, count, truncated = serialize_triples(
            result, fmt, limit, request.get("prefixes") or {}, max_bytes
        )
        return _reply("graph", fmt, body, count, truncated)


class _Refused(Exception):
    """A request the screen refuses before the engine sees it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def screen(text: str, *, update: bool = False) -> scanner.Inspection:
    """Refuse SERVICE, LOAD and nesting the engine's parser cannot take."""
    found = scanner.inspect(text, update=update)
    if "SERVICE" in found.forbidden:
        raise _Refused("forbidden", "SERVICE")
    if "LOAD" in found.forbidden:
        raise _Refused("forbidden", "LOAD")
    if found.depth > scanner.MAX_DEPTH:
        raise _Refused("too_complex", f"nested more than {scanner.MAX_DEPTH} levels deep")
    return found


def update(request: dict[str, Any]) -> dict[str, Any]:
    """Apply an update to the (unpublished) store at ``request["path"]`` and close it. With
    ``using`` (the protocol's using-graph-uri / using-named-graph-uri) the operations that have
    a WHERE clause get them as USING clauses."""
    text = request["update"]
    screen(text, update=True)
    using = request.get("using")
    if using is not None:
        try:
            text = scanner.with_using(text, list(using[0]), list(using[1]))
        except scanner.DatasetConflict as exc:
            raise _Refused("bad_request", str(exc)) from None
    source = request.get("source")
    if source:  # a checkpoint of the live store: its files hard-linked, nothing copied
        ox.Store.read_only(source).backup(request["path"])
    store = ox.Store(request["path"])
    try:
        store.update(
            text,
            base_iri=request.get("base_iri"),
            prefixes=request.get("predeclared") or None,
        )
        store.flush()
    finally:
        del store
    return {"ok": True}


def _syntax_error(request: dict[str, Any], message: str) -> dict[str, Any]:
    op = request.get("op")
    text = request.get("query" if op == "query" else "update") or ""
    try:
        explained, line, column = scanner.explain(
            text,
            message,
            update=op == "update",
            predeclared=frozenset(request.get("predeclared") or ()),
        )
    except Exception:  # the parser's own words are still an answer
        explained, line, column = message, None, None
    return {
        "ok": False,
        "error": "syntax",
        "message": explained,
        "parser": message,
        "line": line,
        "column": column,
    }


def _reply(kind: str, fmt: str, body: bytes, rows: int, truncated: bool) -> dict[str, Any]:
    return {
        "ok": True,
        "kind": kind,
        "format": fmt,
        "body": body,
        "rows": rows,
        "truncated": truncated,
    }


def _error(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": code, "message": message}


def isolate_network() -> bool:
    """Enter new user and network namespaces (Linux, when unprivileged namespaces are allowed):
    afterwards no socket can reach any host, the loopback included."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        clone_newuser, clone_newnet = 0x10000000, 0x40000000
        return bool(libc.unshare(clone_newuser | clone_newnet) == 0)
    except (OSError, AttributeError):
        return False


ISOLATED = False


def _folder_size(path: str) -> int:
    total = 0
    for file in Path(path).rglob("*"):
        with contextlib.suppress(OSError):
            total += file.stat().st_size if file.is_file() else 0
    return total


@contextlib.contextmanager
def memory_budget(size: int, *, held: int | None = None) -> Iterator[None]:
    """Let what runs inside allocate at most ``size`` more bytes of memory (0: no cap).

    The cap is the soft ``RLIMIT_DATA`` (heap and private writable mappings: what allocations
    use, not the address space that libraries, file mappings and malloc's reserved arenas
    take), set to what the process holds now (or ``held``) plus ``size`` and lifted
    afterwards, so that opening or copying a generation is not counted against a request.
    Past it the engine's
    allocations fail and the process aborts; the parent reports the memory limit. Where the
    platform has no such limit, the time limit still bounds the request.
    """
    if size <= 0:
        yield
        return
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        cap = (held if held is not None else _data_bytes()) + size
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (cap, hard))
    except (ImportError, OSError, ValueError):
        yield
        return
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))


def _data_bytes() -> int:
    """What ``RLIMIT_DATA`` counts now (Linux: ``VmData``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmData:"):
            return int(line.split()[1]) * 1024
    raise OSError("no VmData in /proc/self/status")


def main(argv: list[str]) -> None:
    """``worker.py [--shared-network] [--memory-limit BYTES] [--max-memory BYTES]
    [--defaults JSON] [GRAPH]``: serve requests until stdin closes."""
    global ISOLATED
    options: dict[str, Any] = {"shared": False, "memory_limit": 0, "max_memory": 0}
    rest = []
    args = iter(argv)
    for arg in args:
        if arg == "--shared-network":
            options["shared"] = True
        elif arg == "--memory-limit":
            options["memory_limit"] = int(next(args))
        elif arg == "--max-memory":
            options["max_memory"] = int(next(args))
        elif arg == "--defaults":
            options["defaults"] = json.loads(next(args))
        else:
            rest.append(arg)
    ISOLATED = False if options["shared"] else isolate_network()
    requests, replies = sys.stdin.fileno(), os.dup(sys.stdout.fileno())
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints must not break the protocol
    engine = Engine(options["memory_limit"], options["max_memory"], options.get("defaults"))

    def serve() -> None:
        if rest and rest[0]:
            with contextlib.suppress(OSError, RuntimeError, ValueError):
                engine.open(rest[0])  # warm up while idle; a failure is reported per request
        while True:
            frame = read_frame(requests)
            if frame is None:
                return
            reply = engine.handle(pickle.loads(frame))
            write_frame(replies, pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))

    threading.stack_size(STACK)
    thread = threading.Thread(target=serve, name="requests")
    thread.start()
    thread.join()


if __name__ == "__main__":
    main(sys.argv[1:])
