"""SPARQL servers started for tests and benchmarks on free ports, each in a throwaway folder:
``oxigraph serve --union-default-graph`` (the ``oxigraph`` PyPI package, a dev extra) and
OpenLink Virtuoso 7 (Debian ``virtuoso-opensource``, which ``.ci/run`` installs) with the stock
``virtuoso.ini``, its paths and ports changed.

Both have the same surface: ``start()`` (until the server answers), ``stop()``, ``store()``,
``settings_values()`` (the ``KG_SPARQL_*`` settings a build or a replica needs), ``wipe()``
(every graph but the server's own). ``available(name)`` says why a server cannot run here, so
that tests skip cleanly where the binary is missing (CI installs both).
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from shutil import which
from typing import Any

import httpx

from kg.graph.sparql import SparqlStore

SERVER_NAMES = ("oxigraph", "virtuoso")
VIRTUOSO_INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")  # Debian's stock file
VIRTUOSO_USER, VIRTUOSO_PASSWORD = "kg", "kg-secret"  # a user with the SPARQL_UPDATE role


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def oxigraph_binary() -> str | None:
    return which("oxigraph", path=str(Path(sys.executable).parent)) or which("oxigraph")


def virtuoso_ini() -> Path:
    return Path(os.environ.get("KG_TEST_VIRTUOSO_INI", VIRTUOSO_INI))


def skip_unless_available(name: str) -> None:
    """Skip the test when the server cannot run here, unless ``KG_REQUIRE_SERVERS`` names it
    (CI does: there a missing server is a failure, not a skip)."""
    import pytest

    missing = available(name)
    if missing is None:
        return
    if name in os.environ.get("KG_REQUIRE_SERVERS", "").split(","):
        pytest.fail(f"{name} is required here (KG_REQUIRE_SERVERS): {missing}")
    pytest.skip(missing)


def available(name: str) -> str | None:
    """None when the server ``name`` can be started here, else why not."""
    if name == "oxigraph":
        return None if oxigraph_binary() else "no `oxigraph` server binary (pip install oxigraph)"
    if not which("virtuoso-t") or not which("isql-vt"):
        return "no Virtuoso (apt-get install virtuoso-opensource)"
    if not virtuoso_ini().exists():
        return f"no stock virtuoso.ini at {virtuoso_ini()} (set KG_TEST_VIRTUOSO_INI)"
    return None


class SparqlServer:
    """A server process on a free port, stoppable and restartable on the same data."""

    name = "sparql"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.log = folder / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url})"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def query_url(self) -> str:
        raise NotImplementedError

    @property
    def update_url(self) -> str:
        raise NotImplementedError

    def credentials(self) -> dict[str, Any]:
        """The ``SparqlStore`` arguments that authenticate updates."""
        return {}

    def settings_values(self) -> dict[str, Any]:
        """``Settings`` fields of a build (or, without the update URL, a replica)."""
        values: dict[str, Any] = {
            "graph_store": "sparql",
            "sparql_query_url": self.query_url,
            "sparql_update_url": self.update_url,
        }
        credentials = self.credentials()
        if credentials:
            values["sparql_store_user"] = credentials["user"]
            values["sparql_store_password"] = credentials["password"]
        return values

    def store(self, **options: Any) -> SparqlStore:
        return SparqlStore(self.query_url, self.update_url, **self.credentials(), **options)

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self, timeout: float = 60.0) -> float:
        """Start the server; the seconds until it answers."""
        started = time.monotonic()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, cwd=self.folder
            )
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                self.process = None
                raise RuntimeError(f"{self.name} exited: {self.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                answer = httpx.get(self.query_url, params={"query": "ASK {}"}, timeout=1)
                if answer.status_code == 200:
                    return time.monotonic() - started
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within {timeout:g} s: {self.tail()}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""

    def wipe(self) -> None:
        """Drop every graph but the server's own (Virtuoso ignores ``DROP ALL``)."""
        store = self.store()
        try:
            graphs = [
                r["g"].value
                for r in store.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
            ]
            for i in range(0, len(graphs), 500):
                store.update(" ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in graphs[i : i + 500]))
        finally:
            store.close()

    def count(self) -> int:
        store = self.store()
        try:
            return store.count()
        finally:
            store.close()


class OxigraphServer(SparqlServer):
    """``oxigraph serve`` with the union default graph (``union=False``: without it)."""

    name = "oxigraph"

    def __init__(self, folder: Path, *, union: bool = True) -> None:
        super().__init__(folder)
        self.union = union

    @property
    def query_url(self) -> str:
        return f"{self.url}/query"

    @property
    def update_url(self) -> str:
        return f"{self.url}/update"

    def command(self) -> list[str]:
        binary = oxigraph_binary()
        assert binary is not None
        return [
            *(binary, "serve", "--location", str(self.folder / "data")),
            *("--bind", f"127.0.0.1:{self.port}"),
            *(["--union-default-graph"] if self.union else []),
        ]


class VirtuosoServer(SparqlServer):
    """Virtuoso 7 with the stock ini, its files in ``folder`` and its two ports free ones.
    Reads go to ``/sparql`` (anonymous), updates to ``/sparql-auth`` with digest
    authentication as a user holding the ``SPARQL_UPDATE`` role, created on first start."""

    name = "virtuoso"

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.sql_port = free_port()
        self.ini = folder / "virtuoso.ini"
        self.ini.write_text(
            configure_ini(virtuoso_ini().read_text("utf-8"), folder, self.sql_port, self.port),
            "utf-8",
        )
        self._user_created = False

    @property
    def query_url(self) -> str:
        return f"{self.url}/sparql"

    @property
    def update_url(self) -> str:
        return f"{self.url}/sparql-auth"

    def credentials(self) -> dict[str, Any]:
        return {"user": VIRTUOSO_USER, "password": VIRTUOSO_PASSWORD}

    def command(self) -> list[str]:
        return [str(which("virtuoso-t")), "+configfile", str(self.ini), "+foreground"]

    def start(self, timeout: float = 120.0) -> float:
        seconds = super().start(timeout)
        if not self._user_created:
            self.sql(
                f"DB.DBA.USER_CREATE('{VIRTUOSO_USER}', '{VIRTUOSO_PASSWORD}'); "
                f'GRANT SPARQL_UPDATE TO "{VIRTUOSO_USER}";'
            )
            self._user_created = True
        return seconds

    def sql(self, statements: str) -> str:
        """Run SQL as the database administrator (stock password) through ``isql-vt``."""
        done = subprocess.run(
            [str(which("isql-vt")), str(self.sql_port), "dba", "dba", f"exec={statements}"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0 or "Error" in done.stdout:
            raise RuntimeError(f"isql-vt failed: {done.stdout[-1000:]} {done.stderr[-1000:]}")
        return done.stdout


def configure_ini(stock: str, folder: Path, sql_port: int, http_port: int) -> str:
    """The stock ``virtuoso.ini`` with its files in ``folder`` and its ports changed; every
    other setting (buffers, ``ResultSetMaxRows``, time limits) stays as shipped."""
    changes = {
        ("Database", "DatabaseFile"): folder / "virtuoso.db",
        ("Database", "ErrorLogFile"): folder / "virtuoso.log",
        ("Database", "LockFile"): folder / "virtuoso.lck",
        ("Database", "TransactionFile"): folder / "virtuoso.trx",
        ("Database", "xa_persistent_file"): folder / "virtuoso.pxa",
        ("TempDatabase", "DatabaseFile"): folder / "virtuoso-temp.db",
        ("TempDatabase", "TransactionFile"): folder / "virtuoso-temp.trx",
        ("Parameters", "ServerPort"): sql_port,
        ("HTTPServer", "ServerPort"): http_port,
        ("URIQA", "DefaultHost"): f"localhost:{http_port}",
    }
    lines, section, seen = [], "", set()
    for line in stock.splitlines():
        header = re.match(r"\s*\[([^\]]+)\]", line)
        if header:
            section = header.group(1)
        key = re.match(r"\s*([A-Za-z_0-9]+)\s*=", line)
        if key and (section, key.group(1)) in changes:
            line = f"{key.group(1)} = {changes[(section, key.group(1))]}"
            seen.add((section, key.group(1)))
        lines.append(line)
    missing = set(changes) - seen
    if missing:
        raise ValueError(f"the stock virtuoso.ini has no {sorted(missing)}")
    return "\n".join(lines) + "\n"


def make_server(name: str, folder: Path) -> SparqlServer:
    return {"oxigraph": OxigraphServer, "virtuoso": VirtuosoServer}[name](folder)
