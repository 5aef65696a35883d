"""The SPARQL 1.1 Protocol over plain request/response values (no web framework here).

``SparqlEndpoint.handle`` (``handle_async`` on an event loop) takes what arrived (method, URL
parameters, headers, body) and returns status, headers and body; ``api/routes/sparql.py`` only
translates to and from Starlette. Status codes:

=====  =================================================================================
200    answer (results, graph, service description, query page, update applied)
204    CORS preflight (OPTIONS)
400    malformed query or update (in the user's words, with line and column), SERVICE or
       LOAD, nesting the engine cannot take, an update sent as a query, bad parameters (two
       queries, query and update together, bad graph IRI, ...)
401    update without a valid ``Authorization: Bearer`` token
403    update while updates are disabled (no KG_UPDATE_TOKEN)
406    no acceptable format for this kind of answer
409    update while a build holds the data folder
413    request body over 1 MiB
415    POST with a content type other than form, sparql-query or sparql-update, or a charset
       other than UTF-8
500    a worker died for a reason of ours (it is restarted)
503    a limit was reached (time, memory, answer size: the query was stopped), every worker
       busy, or no graph built yet
=====  =================================================================================

Errors are JSON: ``{"error": code, "message": text}`` (plus ``line``/``column`` for syntax).
"""

from __future__ import annotations

import asyncio
import codecs
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import kg.sparql.formats as formats
from kg.sparql.description import serialize_description
from kg.sparql.errors import (
    BadRequest,
    Forbidden,
    MethodNotAllowed,
    NotAcceptable,
    PayloadTooLarge,
    SparqlError,
    Unauthorized,
    UnsupportedMediaType,
    UpdateSentAsQuery,
)
from kg.sparql.executor import QueryExecutor, QueryRequest, QueryResult, UpdateRequest

MAX_BODY = 1 << 20

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "X-SPARQL-Truncated, X-SPARQL-Max-Rows, Server-Timing",
}
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Authorization, Content-Type",
    "Access-Control-Max-Age": "86400",
}

Params = list[tuple[str, str]]

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"


@dataclass(frozen=True)
class HttpRequest:
    method: str
    params: list[tuple[str, str]]  # the URL's query string, decoded, in order
    headers: Mapping[str, str]  # lower-case names
    body: bytes = b""
    endpoint: str = "http://localhost/sparql"  # absolute URL, for the service description


@dataclass
class HttpResponse:
    status: int
    body: bytes = b""
    media_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    page: bool = False  # answer with the HTML query page instead of ``body``


class SparqlEndpoint:
    """The /sparql resource. ``update_token`` None disables SPARQL Update."""

    def __init__(self, executor: QueryExecutor, *, update_token: str | None = None) -> None:
        self.executor = executor
        self.update_token = update_token or None

    def start(self) -> None:
        self.executor.start()

    def close(self) -> None:
        self.executor.close()

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer a request, blocking until the query or update is done."""
        try:
            step = self._dispatch(request)
            if isinstance(step, QueryRequest):
                step = _answer(self.executor.query(step))
            elif isinstance(step, UpdateRequest):
                step = self._update(step)
        except SparqlError as exc:
            step = error_response(self._explained(exc))
        return _with_cors(step)

    async def handle_async(self, request: HttpRequest) -> HttpResponse:
        """``handle`` for an event loop: queries wait on the worker's pipe, not in a thread;
        updates (file copies, the build lock) run in a thread."""
        try:
            step = self._dispatch(request)
            if isinstance(step, QueryRequest):
                step = _answer(await self.executor.query_async(step))
            elif isinstance(step, UpdateRequest):
                step = await asyncio.to_thread(self._update, step)
        except SparqlError as exc:
            step = error_response(self._explained(exc))
        return _with_cors(step)

    def _explained(self, exc: SparqlError) -> SparqlError:
        """An update sent as a query is told how updates are sent here, or that they are not."""
        if isinstance(exc, UpdateSentAsQuery):
            if self.update_token is None:
                exc.message = (
                    f"{exc.keyword} is an update, and the endpoint is read-only: updates need a "
                    "token (the server has no KG_UPDATE_TOKEN)"
                )
            else:
                exc.message = (
                    f"{exc.keyword} is an update, not a query: send it as update= (form) or as "
                    "application/sparql-update, with Authorization: Bearer <token>"
                )
        return exc

    def _dispatch(self, request: HttpRequest) -> HttpResponse | QueryRequest | UpdateRequest:
        """Everything but running: parameters, formats, authorisation, the quick answers."""
        method = request.method.upper()
        if method == "OPTIONS":
            return HttpResponse(204, headers=dict(PREFLIGHT_HEADERS))
        if len(request.body) > MAX_BODY:
            raise PayloadTooLarge(f"the request body is over {MAX_BODY} bytes")
        params = list(request.params)
        query: str | None = None
        update: str | None = None
        if method == "GET":
            if _one(params, "update") is not None:
                raise BadRequest("SPARQL Update must be sent with POST")
            query = _one(params, "query")
            if query is None:
                return self._describe(request, params)
        elif method == "POST":
            header = request.headers.get("content-type", "")
            ctype = header.split(";")[0].strip().lower()
            _utf8_only(header)
            if ctype == FORM:
                params += _form(request.body)
                query, update = _one(params, "query"), _one(params, "update")
                if query is not None and update is not None:
                    raise BadRequest("send either query or update, not both")
                if query is None and update is None:
                    raise BadRequest("the form has neither a query nor an update parameter")
            elif ctype == SPARQL_QUERY:
                query = _text(request.body)
            elif ctype == SPARQL_UPDATE:
                update = _text(request.body)
            else:
                raise UnsupportedMediaType(
                    f"POST needs {FORM}, {SPARQL_QUERY} or {SPARQL_UPDATE}, not {ctype or 'none'}"
                )
        else:
            raise MethodNotAllowed(f"{method} is not supported; use GET or POST")
        if update is not None:
            self._authorize(request)
            if not update.strip():
                raise BadRequest("the update is empty")
            using = tuple(v for k, v in params if k == "using-graph-uri")
            using_named = tuple(v for k, v in params if k == "using-named-graph-uri")
            dataset = bool(using or using_named)
            return UpdateRequest(
                update,
                using_graphs=using if dataset else None,
                using_named_graphs=using_named if dataset else None,
                base_iri=request.endpoint,
            )
        assert query is not None
        if not query.strip():
            raise BadRequest("the query is empty")
        results_format, graph_format = _formats(request, params)
        default_graphs = tuple(v for k, v in params if k == "default-graph-uri")
        named_graphs = tuple(v for k, v in params if k == "named-graph-uri")
        protocol_dataset = bool(default_graphs or named_graphs)
        return QueryRequest(
            query=query,
            results_format=results_format.name if results_format else None,
            graph_format=graph_format.name if graph_format else None,
            default_graphs=default_graphs if protocol_dataset else None,
            named_graphs=named_graphs if protocol_dataset else None,
            base_iri=request.endpoint,
        )

    def _update(self, update: UpdateRequest) -> HttpResponse:
        generation = self.executor.apply(update)
        body = b'{"updated":true,"generation":"%s"}' % generation.encode()
        return HttpResponse(200, body, "application/json")

    def _authorize(self, request: HttpRequest) -> None:
        if self.update_token is None:
            raise Forbidden(
                "the endpoint is read-only: updates need a token (the server has no "
                "KG_UPDATE_TOKEN)"
            )
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized(
                "updates need a token: send it as Authorization: Bearer <token>", None
            )
        if not hmac.compare_digest(token.strip().encode(), self.update_token.encode()):
            raise _unauthorized("the update token is not valid", "invalid_token")

    def _describe(self, request: HttpRequest, params: Params) -> HttpResponse:
        fmt = _choose(request, params, formats.DESCRIPTION_FORMATS)
        if fmt is None:
            raise NotAcceptable(
                "a GET without a query answers the service description (Turtle, N-Triples, "
                "N-Quads, RDF/XML, JSON-LD) or the query page (text/html)"
            )
        headers = {"Vary": "Accept"}
        if fmt is formats.HTML:
            return HttpResponse(200, media_type=fmt.content_type, headers=headers, page=True)
        body = serialize_description(
            request.endpoint, fmt.name, updates=self.update_token is not None
        )
        return HttpResponse(200, body, fmt.content_type, headers)


def _answer(result: QueryResult) -> HttpResponse:
    headers = {"Vary": "Accept", "Server-Timing": f"query;dur={result.elapsed * 1000:.1f}"}
    if result.truncated:
        headers["X-SPARQL-Truncated"] = "true"
        headers["X-SPARQL-Max-Rows"] = str(result.max_rows)
    return HttpResponse(200, result.body, result.media_type, headers)


def _with_cors(response: HttpResponse) -> HttpResponse:
    response.headers.update(CORS_HEADERS)
    return response


def error_response(exc: SparqlError) -> HttpResponse:
    body = json.dumps(exc.to_json(), ensure_ascii=False).encode()
    return HttpResponse(exc.status, body, "application/json", dict(exc.headers))


def _unauthorized(message: str, error: str | None) -> Unauthorized:
    challenge = 'Bearer realm="cloudkg"' + (f', error="{error}"' if error else "")
    return Unauthorized(message, headers={"WWW-Authenticate": challenge})


def _formats(
    request: HttpRequest, params: Params
) -> tuple[formats.Format | None, formats.Format | None]:
    """The format for results and the one for graphs (None: nothing acceptable)."""
    return (
        _choose(request, params, formats.RESULT_FORMATS),
        _choose(request, params, formats.GRAPH_FORMATS),
    )


def _choose(
    request: HttpRequest, params: Params, choices: tuple[formats.Format, ...]
) -> formats.Format | None:
    """``format=`` (or ``output=``, ``results=``) wins over Accept when it names any format we
    have; values naming none are ignored, as SPARQL clients send several hopeful spellings."""
    values = [v for k, v in params if k in formats.FORMAT_PARAMETERS]
    if values and formats.from_parameters(values, formats.ALL_FORMATS) is not None:
        return formats.from_parameters(values, choices)
    return formats.negotiate(request.headers.get("accept"), choices)


def _utf8_only(content_type: str) -> None:
    """The protocol's bodies are UTF-8; a request that says otherwise is refused (415)."""
    for part in content_type.split(";")[1:]:
        key, _, value = part.partition("=")
        charset = value.strip().strip('"').lower()
        if key.strip().lower() == "charset" and charset not in ("utf-8", "utf8"):
            raise UnsupportedMediaType(f"the body must be UTF-8, not {charset}")


def _one(params: list[tuple[str, str]], name: str) -> str | None:
    values = [v for k, v in params if k == name]
    if len(values) > 1:
        raise BadRequest(f"the {name} parameter is given {len(values)} times")
    return values[0] if values else None


def _form(body: bytes) -> list[tuple[str, str]]:
    fast = decode_form(body)
    if fast is not None:
        return fast
    try:
        return parse_qsl(_text(body), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise BadRequest("the form is not valid UTF-8") from None


def decode_form(data: bytes, errors: str = "strict") -> Params | None:
    """``application/x-www-form-urlencoded`` pairs of ASCII ``data``, exactly as
    ``parse_qsl(data.decode(), keep_blank_values=True, errors=errors)`` gives them, or None
    when that function has to: for data that is not ASCII, holds a backslash or an escape that
    is not ``%XX``, or decodes to something that is not UTF-8.

    ``parse_qsl`` unescapes ``%XX`` in a Python loop, a third of a point lookup's time in the
    server; here they become ``\\xXX`` escapes for ``codecs.escape_decode`` (C), which is
    exact as long as the data holds no backslash of its own."""
    if not data.isascii() or b"\\" in data:
        return None
    try:
        return [
            (_unescape(name, errors), _unescape(value, errors))
            for name, _, value in (field.partition(b"=") for field in data.split(b"&") if field)
        ]
    except ValueError:  # a malformed escape, or bytes that are not UTF-8
        return None


def _unescape(part: bytes, errors: str) -> str:
    if b"%" not in part:
        return part.replace(b"+", b" ").decode("ascii")
    raw: bytes = codecs.escape_decode(part.replace(b"+", b" ").replace(b"%", b"\\x"))[0]
    return raw.decode("utf-8", errors)


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the request body is not valid UTF-8") from None
