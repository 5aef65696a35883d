"""The tools (``ask``, ``search``, ``sparql``, ``describe``) as an MCP server, built with the
official ``mcp`` SDK's low-level ``Server`` so that the input schemas are exactly those of
``kg.serve.tools`` (the ones ``/v1/tools`` publishes).

Two transports: stdio (``kg mcp --data DIR``, ``serve_stdio``) and streamable HTTP mounted
at ``/mcp`` on the API (``McpHttp``). The HTTP transport is stateless with JSON responses:
any replica behind a load balancer can answer any request, as the rest of the API.

A tool result carries the tool's JSON both as ``structuredContent`` and, serialised, as its
one text block (what the MCP specification asks of tools that return structured content);
a failed call is a result with ``isError`` and the message.

Over HTTP, as the MCP specification asks of servers: a request from a browser page (one with an
``Origin`` header) is served only when that origin is a loopback one (``http://localhost:*``,
``http://127.0.0.1:*``, ``http://[::1]:*``) or listed in ``KG_ALLOWED_ORIGINS``: otherwise a
page on any site could reach a local server through DNS rebinding (403, a JSON-RPC error).
``GET`` (an event stream for server-initiated messages) and ``DELETE`` (ending a session) answer
405: the server is stateless and never speaks first, so such a stream would only stay open.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import anyio
import mcp_types as types
from mcp.server import Server, ServerRequestContext
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from api.guards import SURROGATE_MESSAGE, lone_surrogate
from kg.serve.runtime import NotReadyError, Runtime
from kg.serve.tools import TOOLS, Toolbox, ToolError
from kg.settings import Settings

log = logging.getLogger("cloudkg.mcp")

NAME = "cloudkg"
VERSION = "0.1.0"
INSTRUCTIONS = (
    "cloudkg answers questions about a set of cloud-architecture notes from a knowledge graph "
    "(services, features, limits, relations) and hybrid search, with the source sentence of "
    "every fact. Use `ask` for questions, `search` for passages, `describe` for everything "
    "about one service or feature, and `sparql` for exact queries over the graph. When `ask` "
    "answers with route `none`, the notes do not cover the question."
)


def build_server(toolbox: Callable[[], Toolbox]) -> Server[Any]:
    """An MCP server publishing the tools of ``toolbox()`` (called per tool call, so that it
    always reaches the live build)."""

    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(
            tools=[
                types.Tool(
                    name=t.name,
                    description=t.description,
                    input_schema=t.input_schema,
                    annotations=types.ToolAnnotations(
                        read_only_hint=True, idempotent_hint=True, open_world_hint=False
                    ),
                )
                for t in TOOLS
            ]
        )

    async def call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        where = lone_surrogate(params.arguments or {})
        if where is not None:
            return types.CallToolResult(
                content=[
                    types.TextContent(
                        text=f"invalid_arguments: {where or 'arguments'} {SURROGATE_MESSAGE}"
                    )
                ],
                is_error=True,
            )
        try:
            result = await anyio.to_thread.run_sync(
                lambda: toolbox().call(params.name, params.arguments or {})
            )
        except ToolError as exc:
            return types.CallToolResult(
                content=[types.TextContent(text=f"{exc.code}: {exc.message}")], is_error=True
            )
        text = json.dumps(result, ensure_ascii=False, default=str)
        return types.CallToolResult(
            content=[types.TextContent(text=text)], structured_content=result
        )

    return Server(
        NAME,
        version=VERSION,
        title="cloudkg: cloud-architecture notes",
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        get_tool_input_schema=lambda name: next(
            (t.input_schema for t in TOOLS if t.name == name), None
        ),
    )


async def serve_stdio(settings: Settings) -> None:
    """Serve the tools over stdin/stdout until the client closes them (``kg mcp``)."""
    from mcp.server.stdio import stdio_server

    from kg.sparql import open_executor

    runtime = Runtime(settings)
    executor = open_executor(settings)  # one bounded pool for every sparql call of the session
    server = build_server(lambda: Toolbox(runtime, settings, executor))

    def warm_up() -> None:
        try:
            runtime.engine()  # load the model and the build before the first call
        except NotReadyError as exc:
            print(f"cloudkg mcp: not ready: {exc}", file=sys.stderr)

    try:
        async with stdio_server() as (read, write), anyio.create_task_group() as tg:
            tg.start_soon(partial(anyio.to_thread.run_sync, warm_up, abandon_on_cancel=True))
            await server.run(read, write, server.create_initialization_options())
            tg.cancel_scope.cancel()
    finally:
        executor.close()
        runtime.close()


class McpHttp:
    """The MCP server over streamable HTTP, as an ASGI app to mount at ``/mcp``; ``run()``
    belongs in the application's lifespan (a fresh session manager per run)."""

    def __init__(self, toolbox: Callable[[], Toolbox], allowed_origins: Iterable[str] = ()) -> None:
        self.server = build_server(toolbox)
        self.allowed_origins = {o.rstrip("/").lower() for o in allowed_origins if o}
        self._manager: StreamableHTTPSessionManager | None = None

    @asynccontextmanager
    async def run(self) -> AsyncIterator[None]:
        manager = StreamableHTTPSessionManager(app=self.server, stateless=True, json_response=True)
        async with manager.run():
            self._manager = manager
            try:
                yield
            finally:
                self._manager = None

    def route(self, path: str) -> Route:
        """The route that serves the MCP endpoint at ``path`` (exactly; no redirect)."""
        return Route(path, self, methods=["GET", "POST", "DELETE"], include_in_schema=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = _header(scope, b"origin")
        if origin is not None and not self.origin_allowed(origin):
            await _refuse(send, 403, f"requests from the origin {origin} are not allowed")
            return
        if scope.get("method") in ("GET", "DELETE"):
            await _refuse(
                send,
                405,
                "this MCP server is stateless and sends nothing unasked: POST JSON-RPC requests",
                [(b"allow", b"POST")],
            )
            return
        if self._manager is None:
            await _refuse(send, 503, "the MCP endpoint is not running (no lifespan)")
            return
        await self._manager.handle_request(scope, receive, send)

    def origin_allowed(self, origin: str) -> bool:
        """A loopback origin, or one listed in ``allowed_origins``."""
        if origin.rstrip("/").lower() in self.allowed_origins:
            return True
        try:
            parts = urlsplit(origin)
            host = parts.hostname
        except ValueError:
            return False
        return parts.scheme in ("http", "https") and host in ("localhost", "127.0.0.1", "::1")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _refuse(
    send: Send, status: int, message: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """A JSON-RPC error (no request id is known yet) with an HTTP status."""
    body = json.dumps(
        {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": message}}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), *(headers or [])],
        }
    )
    await send({"type": "http.response.body", "body": body})
