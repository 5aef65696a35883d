"""The SPARQL 1.1 endpoint: protocol, content negotiation, time limits, row caps, updates.

``open_endpoint(settings)`` gives the object behind ``/sparql``; ``run_query`` runs one query
from Python (the ``kg sparql`` command) with the same limits and formats.
"""

from __future__ import annotations

import kg.sparql.formats as formats
from kg.datadir import DataDir
from kg.settings import Settings
from kg.sparql.errors import (
    BadRequest,
    EndpointBusy,
    ExecutorFailure,
    Forbidden,
    ForbiddenOperation,
    GraphUnavailable,
    MalformedQuery,
    MemoryLimit,
    NotAcceptable,
    QueryTimeout,
    QueryTooComplex,
    ResultTooLarge,
    SparqlError,
    Unauthorized,
    UpdateConflict,
    UpdateSentAsQuery,
)
from kg.sparql.executor import (
    LocalExecutor,
    QueryExecutor,
    QueryRequest,
    QueryResult,
    UnavailableExecutor,
    UpdateRequest,
    check_allowed,
)
from kg.sparql.protocol import HttpRequest, HttpResponse, SparqlEndpoint

__all__ = [
    "BadRequest",
    "EndpointBusy",
    "ExecutorFailure",
    "Forbidden",
    "ForbiddenOperation",
    "GraphUnavailable",
    "HttpRequest",
    "HttpResponse",
    "LocalExecutor",
    "MalformedQuery",
    "MemoryLimit",
    "NotAcceptable",
    "QueryExecutor",
    "QueryRequest",
    "QueryResult",
    "QueryTimeout",
    "QueryTooComplex",
    "ResultTooLarge",
    "SparqlEndpoint",
    "SparqlError",
    "Unauthorized",
    "UnavailableExecutor",
    "UpdateConflict",
    "UpdateRequest",
    "UpdateSentAsQuery",
    "check_allowed",
    "open_endpoint",
    "open_executor",
    "run_query",
]


def open_executor(settings: Settings, *, workers: int | None = None) -> QueryExecutor:
    """The executor the settings select: worker processes over the live generation (they start
    on first use or ``start()``), or the remote SPARQL server with ``KG_GRAPH_STORE=sparql``."""
    if settings.graph_store == "sparql":
        from kg.sparql.remote import RemoteExecutor

        if not settings.sparql_query_url:
            return UnavailableExecutor("KG_GRAPH_STORE=sparql needs KG_SPARQL_QUERY_URL")
        return RemoteExecutor.from_settings(settings)
    if settings.graph_store != "oxigraph":
        return UnavailableExecutor(
            f"the SPARQL endpoint does not support KG_GRAPH_STORE={settings.graph_store}"
        )
    return LocalExecutor(
        DataDir(settings.data),
        workers=workers or settings.sparql_workers,
        timeout=settings.sparql_timeout,
        max_rows=settings.sparql_max_rows,
        max_bytes=int(settings.sparql_max_bytes),
        max_memory=int(settings.sparql_max_memory),
    )


def open_endpoint(settings: Settings) -> SparqlEndpoint:
    token = settings.update_token.get_secret_value() if settings.update_token else None
    return SparqlEndpoint(open_executor(settings), update_token=token)


def run_query(
    settings: Settings,
    query: str,
    *,
    format: str | None = None,
    executor: QueryExecutor | None = None,
) -> QueryResult:
    """Run one query on the live generation with the endpoint's time limit and row cap.

    ``format`` is a ``format=`` value ("json", "csv", "ttl", "nt", ... or a media type);
    by default SELECT/ASK answer SPARQL JSON and CONSTRUCT/DESCRIBE Turtle. The serialised
    answer is ``.body``; ``.truncated`` tells whether the cap cut it. ``executor`` is a running
    one to share (the server's bounded pool); without it a one-worker executor is opened for
    the call. Raises SparqlError.
    """
    results_format: str | None = "json"
    graph_format: str | None = "turtle"
    if format is not None:
        if formats.from_parameters([format], formats.ALL_FORMATS) is None:
            raise BadRequest(f"unknown format {format!r}")
        results = formats.from_parameters([format], formats.RESULT_FORMATS)
        graph = formats.from_parameters([format], formats.GRAPH_FORMATS)
        results_format = results.name if results else None
        graph_format = graph.name if graph else None
    request = QueryRequest(query, results_format, graph_format)
    if executor is not None:
        return executor.query(request)
    with open_executor(settings, workers=1) as own:
        return own.query(request)
