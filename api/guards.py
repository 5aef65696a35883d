"""What the API refuses before a route runs: request bodies over their path's limit, and text
that is not Unicode.

``BodyLimit`` is ASGI middleware. A request whose ``Content-Length`` is over the limit is
answered 413 at once, before a byte of its body is read; one that streams its body (chunked) is
counted as it arrives and answered 413 when it passes the limit, so memory never holds more than
the limit. The 413 speaks each surface's error language: an OpenAI error object under ``/v1``,
the SPARQL endpoint's ``{"error", "message"}`` on ``/sparql``, a JSON-RPC error on ``/mcp``,
``{"error", "detail"}`` elsewhere.

``lone_surrogate`` finds text that JSON can carry but Unicode cannot (``"\\ud800"``): Python
decodes it into a string that no tokenizer or encoder accepts, so the routes refuse it with a
4xx instead of failing deep inside.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

KIB, MIB = 1 << 10, 1 << 20

# The longest body each path takes, longest prefix first; DEFAULT_LIMIT for the rest.
BODY_LIMITS: tuple[tuple[str, int], ...] = (
    ("/sparql", 1 * MIB),  # queries and updates (kg.sparql.protocol.MAX_BODY)
    ("/v1/chat/completions", 1 * MIB),  # a whole conversation
    ("/v1/tools/", 1 * MIB),  # tool arguments (a SPARQL query of up to 100,000 characters)
    ("/mcp", 1 * MIB),  # JSON-RPC messages carrying the same arguments
)
DEFAULT_LIMIT = 64 * KIB  # /ask and anything else: a question is at most 2,000 characters


def body_limit(path: str) -> int:
    for prefix, limit in BODY_LIMITS:
        if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
            return limit
    return DEFAULT_LIMIT


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Refuses request bodies over ``body_limit(path)`` bytes while they stream in."""

    def __init__(self, app: ASGIApp, limit: Any = body_limit) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        limit: int = self.limit(path)
        declared, chunked = _framing(scope)
        if declared is not None and declared > limit:
            await _refuse(send, path, limit)
            return
        if declared is not None and not chunked:
            # The server holds the body to its Content-Length, which is within the limit:
            # nothing to count, and no wrapper in the way of the request.
            await self.app(scope, receive, send)
            return
        received = 0
        exceeded = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                # Whatever the app made of the interrupted body, the answer is the 413.
                started = True
                await _refuse(send, path, limit)
                return
            if exceeded:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except _TooLarge:
            if not started:
                await _refuse(send, path, limit)
        except Exception:
            if not exceeded:
                raise
            if not started:
                await _refuse(send, path, limit)


def _framing(scope: Scope) -> tuple[int | None, bool]:
    """The declared ``Content-Length`` (None when absent or unreadable) and whether the body
    comes in chunks (``Transfer-Encoding``), whose length nothing declares."""
    length: int | None = None
    chunked = False
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                chunked = True  # the server will refuse it; count it meanwhile
        elif name == b"transfer-encoding":
            chunked = True
    return length, chunked


def too_large_body(path: str, limit: int) -> dict[str, Any]:
    """The 413 body in the error language of the surface at ``path``."""
    message = f"the request body is over the {limit:,}-byte limit of {path}"
    if path.startswith("/v1/"):
        return {
            "error": {
                "message": f"The request body is over the {limit:,}-byte limit.",
                "type": "invalid_request_error",
                "param": None,
                "code": "request_too_large",
            }
        }
    if path.startswith("/sparql"):
        return {"error": "payload_too_large", "message": message}
    if path.startswith("/mcp"):
        return {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": message}}
    return {"error": "the request body is too large", "detail": message}


async def _refuse(send: Send, path: str, limit: int) -> None:
    body = json.dumps(too_large_body(path, limit)).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),  # the rest of the body is not read
    ]
    if path.startswith("/sparql"):
        headers.append((b"access-control-allow-origin", b"*"))
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def lone_surrogate(value: Any) -> str | None:
    """Where ``value`` (a string, or JSON-like lists and objects of them) holds a lone
    UTF-16 surrogate: a dotted path (``"messages.0.content"``), "" for the value itself, or
    None when it is all valid Unicode. Iterative: JSON may nest as deep as its parser allows."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return where
            continue
        children: Iterable[tuple[Any, Any]]
        if isinstance(item, Mapping):
            children = item.items()
        elif isinstance(item, list | tuple):
            children = enumerate(item)
        else:
            continue
        for key, child in reversed(list(children)):
            if isinstance(key, str) and lone_surrogate(key) is not None:
                return f"{where}.{key!r}" if where else repr(key)
            stack.append((f"{where}.{key}" if where else str(key), child))
    return None


SURROGATE_MESSAGE = (
    "contains a lone UTF-16 surrogate (such as \\ud800), which is not Unicode text; send the "
    "text as UTF-8 or as a valid surrogate pair"
)
