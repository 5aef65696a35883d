"""The OpenAPI document says what the API really sends.

FastAPI documents every validation error as its own ``HTTPValidationError`` (``loc``/``msg``/
``type``) with status 422; this API answers ``{"error", "detail": [{"where", "problem"}]}``
(``ValidationErrorResponse``), and under ``/v1`` an OpenAI error object with status 400. The
``/sparql`` route reads its request itself (the SPARQL Protocol), so FastAPI knows neither its
parameters nor its bodies nor its errors. ``openapi_schema(app)`` starts from FastAPI's document
and corrects each of these, so that a client generated from it, or a tool that checks responses
against it (Schemathesis), sees what is sent.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.guards import body_limit
from kg.sparql.protocol import MAX_BODY

_REF = "#/components/schemas/"

SCHEMAS: dict[str, dict[str, Any]] = {
    "ValidationErrorResponse": {
        "title": "ValidationErrorResponse",
        "type": "object",
        "required": ["error", "detail"],
        "properties": {
            "error": {"type": "string", "description": "every problem, in one sentence"},
            "detail": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["where", "problem"],
                    "properties": {
                        "where": {"type": "string", "description": 'e.g. "body.question"'},
                        "problem": {"type": "string"},
                    },
                },
            },
        },
    },
    "OpenAIErrorResponse": {
        "title": "OpenAIErrorResponse",
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["message", "type"],
                "properties": {
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                    "param": {"type": ["string", "null"]},
                    "code": {"type": ["string", "null"]},
                },
            }
        },
    },
    "SparqlErrorResponse": {
        "title": "SparqlErrorResponse",
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "description": "a code: malformed_query, timeout, ..."},
            "message": {"type": "string"},
            "line": {"type": "integer"},
            "column": {"type": "integer"},
            "parser": {"type": "string", "description": "the parser's own message"},
        },
    },
    "ReadinessResponse": {
        "title": "ReadinessResponse",
        "type": "object",
        "required": ["status", "backends"],
        "properties": {
            "status": {"type": "string", "enum": ["ready", "not ready"]},
            "backends": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
}

# Statuses each /v1 operation answers besides 200, all as OpenAI error objects.
_OPENAI_ERRORS: dict[tuple[str, str], dict[str, str]] = {
    ("get", "/v1/models/{model}"): {"404": "no such model"},
    ("post", "/v1/chat/completions"): {
        "400": "invalid request (missing or malformed fields, no user message, bad JSON)",
        "404": "no such model",
        "413": "request body over the limit",
        "503": "a backend is not ready or down",
    },
    ("post", "/v1/tools/{name}"): {
        "404": "no such tool",
        "413": "request body over the limit",
        "422": "arguments that are not a JSON object or do not match the tool's schema",
        "503": "a backend is not ready or down",
        "400": "invalid request",
    },
}

_SPARQL_ERRORS = {
    "400": "malformed query or update (message, line, column), SERVICE or LOAD, nesting the "
    "engine cannot take, an update sent as a query, bad parameters",
    "401": "update without a valid bearer token",
    "403": "update while updates are disabled",
    "405": "method other than GET, POST or OPTIONS",
    "406": "no acceptable format for the answer",
    "409": "update while a build holds the data folder",
    "413": "request body over 1 MiB",
    "415": "content type other than form, sparql-query or sparql-update, or not UTF-8",
    "500": "a worker died for a reason of the server's own",
    "503": "a limit was reached (time, memory, answer size), every worker is busy, or nothing "
    "has been built",
}
_SPARQL_OK = {
    media: {"schema": {"type": "string"}}
    for media in (
        "application/sparql-results+json",
        "application/sparql-results+xml",
        "text/csv",
        "text/tab-separated-values",
        "text/turtle",
        "application/n-triples",
        "application/n-quads",
        "application/rdf+xml",
        "application/ld+json",
        "application/json",
        "text/html",
    )
}
_SPARQL_TEXT = {"type": "string", "minLength": 1, "pattern": r"\S"}
_SPARQL_PARAMETERS = [
    {
        "name": "query",
        "in": "query",
        "required": False,
        "description": "a SPARQL 1.1 query; without it the service description (or, for a "
        "browser, the query page)",
        "schema": _SPARQL_TEXT,
    },
    *(
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": description,
            "schema": {"type": "array", "items": {"type": "string"}},
            "style": "form",
            "explode": True,
        }
        for name, description in (
            ("default-graph-uri", "a graph of the default graph (repeatable)"),
            ("named-graph-uri", "a named graph of the dataset (repeatable)"),
        )
    ),
    {
        "name": "format",
        "in": "query",
        "required": False,
        "description": "json, xml, csv, tsv, ttl, nt, nq, rdfxml, jsonld (wins over Accept)",
        "schema": {"type": "string"},
    },
]
_SPARQL_BODY = {
    "required": True,
    "content": {
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "description": "either query or update, not both",
                "oneOf": [
                    {"required": ["query"], "not": {"required": ["update"]}},
                    {"required": ["update"], "not": {"required": ["query"]}},
                ],
                "properties": {
                    "query": _SPARQL_TEXT,
                    "update": _SPARQL_TEXT,
                    "default-graph-uri": {"type": "array", "items": {"type": "string"}},
                    "named-graph-uri": {"type": "array", "items": {"type": "string"}},
                    "using-graph-uri": {"type": "array", "items": {"type": "string"}},
                    "using-named-graph-uri": {"type": "array", "items": {"type": "string"}},
                },
            }
        },
        "application/sparql-query": {"schema": {**_SPARQL_TEXT, "maxLength": MAX_BODY}},
        "application/sparql-update": {"schema": {**_SPARQL_TEXT, "maxLength": MAX_BODY}},
    },
}
# Question text: what check_text (api/routes/ask.py) accepts.
_TEXT = {"type": "string", "minLength": 1, "maxLength": 2000, "pattern": r"\S"}


def openapi_schema(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document with the error shapes and the /sparql operations as sent
    (built once, then cached on the app as FastAPI does)."""
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
    )
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(SCHEMAS)
    for path, operations in doc.get("paths", {}).items():
        for method, op in operations.items():
            _correct(path, method, op)
    question = schemas.get("AskRequest", {}).get("properties", {}).get("question")
    if question is not None:
        question.update(_TEXT)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    app.openapi_schema = doc
    return doc


def _error(description: str, schema: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": _REF + schema}}},
    }


def _correct(path: str, method: str, op: dict[str, Any]) -> None:
    responses: dict[str, Any] = op.setdefault("responses", {})
    if path.startswith("/v1/"):
        responses.pop("422", None)  # validation errors are 400 OpenAI errors here
        for status, description in _OPENAI_ERRORS.get((method, path), {}).items():
            responses[status] = _error(description, "OpenAIErrorResponse")
        return
    if path == "/sparql":
        if method == "get":
            op["parameters"] = _SPARQL_PARAMETERS
        elif method == "post":
            op["parameters"] = _SPARQL_PARAMETERS[1:]
            op["requestBody"] = _SPARQL_BODY
        responses["200"] = {
            "description": "results, a graph, or the service description",
            "content": _SPARQL_OK,
        }
        for status, description in _SPARQL_ERRORS.items():
            responses[status] = _error(description, "SparqlErrorResponse")
        return
    if path == "/readyz":
        ready = {"content": {"application/json": {"schema": {"$ref": _REF + "ReadinessResponse"}}}}
        responses["200"] = {"description": "ready", **ready}
        responses["503"] = {"description": "a backend is down (named)", **ready}
        return
    if "422" in responses:
        responses["422"] = _error(
            "invalid request: wrong types, missing or unknown fields", "ValidationErrorResponse"
        )
    for param in op.get("parameters", []):
        if param.get("name") == "q" and path in ("/ask", "/search"):
            param["schema"] = {**param.get("schema", {}), **_TEXT}
    if "requestBody" in op:
        responses.setdefault(
            "413", _error(f"request body over {body_limit(path):,} bytes", "ErrorResponse")
        )
