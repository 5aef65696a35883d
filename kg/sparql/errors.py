"""Errors of the SPARQL endpoint, each with the HTTP status and code it is answered with."""

from __future__ import annotations

import re
from typing import Any


class SparqlError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}  # sent with the error response (WWW-Authenticate, ...)

    def to_json(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message}


class BadRequest(SparqlError):
    status = 400
    code = "bad_request"


class MalformedQuery(BadRequest):
    """The parser's message, with the position it reports (1-based line and column)."""

    code = "malformed_query"
    _POSITION = re.compile(r"\berror at (\d+):(\d+)")

    def __init__(
        self,
        message: str,
        line: int | None = None,
        column: int | None = None,
        *,
        parser: str | None = None,
    ) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.parser = parser  # the parser's own words, when ``message`` rephrases them

    @classmethod
    def from_parser(cls, message: str) -> MalformedQuery:
        m = cls._POSITION.search(message)
        if m is None:
            return cls(message)
        return cls(message, int(m.group(1)), int(m.group(2)))

    def to_json(self) -> dict[str, Any]:
        data = super().to_json()
        if self.line is not None:
            data["line"] = self.line
            data["column"] = self.column
        if self.parser and self.parser != self.message:
            data["parser"] = self.parser
        return data


class ForbiddenOperation(BadRequest):
    """SERVICE or LOAD: the endpoint never reaches outside its own store."""

    code = "forbidden_operation"


class EvaluationFailed(BadRequest):
    """The query or update parsed, but the engine could not run it (an unsupported function,
    a DROP of a graph that does not exist, ...)."""

    code = "query_failed"


class QueryTooComplex(BadRequest):
    """Nesting (or chaining) deeper than the engine's parser can take without crashing."""

    code = "query_too_complex"


class UpdateSentAsQuery(BadRequest):
    """An update (INSERT, DELETE, ...) sent where a query is expected."""

    code = "update_as_query"

    def __init__(self, keyword: str) -> None:
        super().__init__(f"{keyword} is an update, not a query")
        self.keyword = keyword


class Unauthorized(SparqlError):
    status = 401
    code = "unauthorized"


class Forbidden(SparqlError):
    status = 403
    code = "forbidden"


class MethodNotAllowed(SparqlError):
    status = 405
    code = "method_not_allowed"


class NotAcceptable(SparqlError):
    status = 406
    code = "not_acceptable"


class UpdateConflict(SparqlError):
    status = 409
    code = "build_running"


class PayloadTooLarge(SparqlError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(SparqlError):
    status = 415
    code = "unsupported_media_type"


class ExecutorFailure(SparqlError):
    status = 500
    code = "worker_failed"


class QueryTimeout(SparqlError):
    """The time limit passed; the query was stopped (503, as Fuseki answers a timeout)."""

    status = 503
    code = "timeout"


class MemoryLimit(SparqlError):
    """The query needed more memory than a worker may use; it was stopped (503, as a timeout:
    a limit of the service, not a fault in the request's syntax)."""

    status = 503
    code = "memory_limit"


class ResultTooLarge(SparqlError):
    """The serialised answer passed ``KG_SPARQL_MAX_BYTES``."""

    status = 503
    code = "result_too_large"


class EndpointBusy(SparqlError):
    status = 503
    code = "busy"


class GraphUnavailable(SparqlError):
    status = 503
    code = "graph_unavailable"


# What the query workers report, as the endpoint's errors.

_ACCEPT_RESULTS = (
    "acceptable types are application/sparql-results+json, application/sparql-results+xml, "
    "text/csv and text/tab-separated-values"
)
_ACCEPT_GRAPHS = (
    "acceptable types are text/turtle, application/n-triples, application/n-quads, "
    "application/rdf+xml and application/ld+json"
)


def forbidden(keyword: str) -> ForbiddenOperation:
    if keyword == "SERVICE":
        return ForbiddenOperation(
            "SERVICE (federated query) is not allowed: this endpoint only queries its own graph"
        )
    return ForbiddenOperation("LOAD is not allowed: this endpoint never fetches remote data")


def too_complex(why: str) -> QueryTooComplex:
    return QueryTooComplex(
        f"the query is too complex for the engine: {why}; simplify it (VALUES instead of long "
        "UNION or || chains, fewer nested groups)"
    )


def from_worker(reply: dict[str, Any], *, max_memory: int) -> SparqlError:
    """The error a worker's failed reply (``{"error": code, "message": ...}``) stands for."""
    code, message = reply["error"], reply["message"]
    if code == "syntax":
        return MalformedQuery(
            message, reply.get("line"), reply.get("column"), parser=reply.get("parser")
        )
    if code == "forbidden":
        return forbidden(message)
    if code == "too_complex":
        return too_complex(message)
    if code == "update_as_query":
        return UpdateSentAsQuery(message)
    if code == "too_large":
        return ResultTooLarge(
            f"{message} (KG_SPARQL_MAX_BYTES); ask for fewer rows with LIMIT, or for shorter values"
        )
    if code == "memory":
        return MemoryLimit(
            f"the query needed more than the {max_memory / 2**20:,.0f} MiB of memory a query "
            "may use and was stopped"
        )
    if code == "not_acceptable":
        kind = "results" if message in ("SELECT", "ASK") else "RDF graphs"
        hint = _ACCEPT_RESULTS if kind == "results" else _ACCEPT_GRAPHS
        return NotAcceptable(f"{message} answers are {kind}; {hint}")
    if code == "bad_request":
        return BadRequest(message)
    if code == "evaluation":
        return EvaluationFailed(f"the engine could not run it: {message}")
    if code == "store":
        return GraphUnavailable(f"the graph store failed: {message}")
    return ExecutorFailure(message)
