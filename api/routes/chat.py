"""The OpenAI-compatible surface: ``/v1/chat/completions``, ``/v1/models`` and ``/v1/tools``.

Thin: parse the OpenAI request, hand the user turns to ``kg.chat.resolve.Conversation``, shape the
reply as a chat completion (or its server-sent-event chunks). Errors under ``/v1`` are OpenAI
error objects (``{"error": {"message", "type", "param", "code"}}``), so OpenAI clients raise
their usual exception classes; the rest of the API keeps its own error shape.

Token counts in ``usage`` are words (whitespace-separated), not model tokens: there is no
tokenizer because there is no language model.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException  # FastAPI's body errors raise Starlette's

from api.deps import EngineDep, RuntimeDep, SettingsDep, run_engine
from api.guards import SURROGATE_MESSAGE, lone_surrogate
from api.routes.sparql import EndpointDep
from api.schemas import answer_out
from kg.chat.resolve import Conversation, Reply
from kg.serve.runtime import Runtime
from kg.serve.tools import Toolbox, ToolError, openai_tools

log = logging.getLogger("cloudkg.chat")

MODEL = "cloudkg"
CREATED = 1_735_689_600  # 2025-01-01, when the model "was created"
CHUNK_CHARS = 40  # streamed content is cut at word boundaries about this long


class OpenAIError(Exception):
    """An error answered as an OpenAI error object."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        type: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.type = (
            status,
            message,
            param,
            code,
            type,
        )

    def response(self) -> JSONResponse:
        error = {"message": self.message, "type": self.type, "param": self.param, "code": self.code}
        return JSONResponse({"error": error}, status_code=self.status)


class OpenAIRoute(APIRoute):
    """A route whose errors (validation, HTTP, ours) are OpenAI error objects."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except OpenAIError as exc:
                return exc.response()
            except RequestValidationError as exc:
                return _invalid(exc).response()
            except HTTPException as exc:
                detail = exc.detail if isinstance(exc.detail, dict) else {"message": exc.detail}
                server = exc.status_code >= 500
                response = OpenAIError(
                    exc.status_code,
                    str(detail.get("message") or detail.get("error") or "error"),
                    code="not_ready" if exc.status_code == 503 else None,
                    type="server_error" if server else "invalid_request_error",
                ).response()
                response.headers.update(exc.headers or {})
                return response

        return route


def _invalid(exc: RequestValidationError) -> OpenAIError:
    problems = exc.errors()
    first = problems[0] if problems else {}
    if first.get("type") == "json_invalid":
        loc = first.get("loc", ())
        at = f" at character {loc[-1]}" if loc and isinstance(loc[-1], int) else ""
        why = (first.get("ctx") or {}).get("error", "")
        return OpenAIError(
            400, f"The body is not valid JSON{at}: {why}.", param=None, code="invalid_json"
        )
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    param = ".".join(loc) or None
    message = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body') or 'body'}: {e.get('msg')}"
        for e in problems
    )
    return OpenAIError(400, f"Invalid request: {message}", param=param, code="invalid_value")


router = APIRouter(prefix="/v1", tags=["openai"], route_class=OpenAIRoute)


# ---- request models --------------------------------------------------------------------------


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None

    @property
    def text(self) -> str:
        """The message's text; non-text content parts (images ...) are ignored."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return " ".join(
            str(part.get("text", "")) for part in self.content if part.get("type") == "text"
        )


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """OpenAI's chat completion request. Honoured: ``model``, ``messages``, ``stream``,
    ``stream_options.include_usage``, ``n``, ``stop``, ``max_tokens`` /
    ``max_completion_tokens`` (in words); ``k`` (extension) sets the passages returned.
    Accepted and ignored (the answer is deterministic and tool-free): ``temperature``,
    ``top_p``, ``seed``, penalties, ``logprobs``, ``tools``, ``tool_choice``,
    ``response_format``, ``user``, ``metadata`` and any other field."""

    model_config = ConfigDict(extra="allow")

    model: str
    messages: list[ChatMessage]
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    n: int | None = Field(1, ge=1, le=8)
    stop: str | list[str] | None = None
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    k: int = Field(5, ge=1, le=50, description="cloudkg: passages returned as context")


# ---- models ----------------------------------------------------------------------------------


def _model() -> dict[str, Any]:
    return {"id": MODEL, "object": "model", "created": CREATED, "owned_by": "cloudkg"}


@router.get("/models")
async def list_models() -> dict[str, Any]:
    """The one model: `cloudkg`."""
    return {"object": "list", "data": [_model()]}


@router.get("/models/{model}")
async def get_model(model: str) -> dict[str, Any]:
    if model != MODEL:
        raise _unknown_model(model)
    return _model()


def _unknown_model(model: str) -> OpenAIError:
    return OpenAIError(
        404,
        f"The model `{model}` does not exist; this server has one model, `{MODEL}`.",
        param="model",
        code="model_not_found",
    )


# ---- chat completions -------------------------------------------------------------------------


@router.post("/chat/completions", response_model=None)
async def chat_completions(
    body: ChatCompletionRequest, runtime: RuntimeDep, engine: EngineDep, settings: SettingsDep
) -> JSONResponse | StreamingResponse:
    """Answer the last user message, earlier turns as context, grounded in the notes with
    numbered citations. The full /ask payload and how a follow-up was resolved are in the
    `cloudkg` field (streamed: in the last chunk)."""
    if body.model != MODEL:
        raise _unknown_model(body.model)
    questions = _questions(body.messages, settings.max_question_chars)
    conversation = Conversation(engine, k=body.k)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    prompt_tokens = sum(_count(m.text) for m in body.messages)
    if body.stream:
        return StreamingResponse(
            _stream(body, runtime, conversation, questions, completion_id, created, prompt_tokens),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    reply = await run_engine(runtime, conversation.reply, questions)
    content, finish = _limited(reply.markdown, body)
    completion_tokens = _count(content)
    # Every value is JSON already (the payload is dumped in JSON mode): encoded once, without
    # FastAPI's jsonable_encoder walking the passages again (about 0.6 ms a reply).
    completion = {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": MODEL,
        "system_fingerprint": None,
        "choices": [
            {
                "index": i,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": finish,
            }
            for i in range(body.n or 1)
        ],
        "usage": _usage(prompt_tokens, completion_tokens * (body.n or 1)),
        "cloudkg": _extension(reply),
    }
    return JSONResponse(completion)


def _questions(messages: list[ChatMessage], limit: int) -> list[str]:
    """The user turns, oldest first; the last message must be a user question of at most
    ``limit`` characters."""
    if not messages:
        raise OpenAIError(
            400, "`messages` is empty: send at least one user message.", param="messages"
        )
    last = messages[-1]
    if last.role != "user":
        raise OpenAIError(
            400,
            f'The last message must come from the user (role "user"), not "{last.role}".',
            param=f"messages.{len(messages) - 1}.role",
            code="invalid_value",
        )
    text = last.text.strip()
    if not text:
        raise OpenAIError(
            400,
            "The last user message has no text.",
            param=f"messages.{len(messages) - 1}.content",
            code="invalid_value",
        )
    for i, message in enumerate(messages):
        if message.role == "user" and lone_surrogate(message.text) is not None:
            raise OpenAIError(
                400,
                f"The message {SURROGATE_MESSAGE}.",
                param=f"messages.{i}.content",
                code="invalid_value",
            )
    if len(text) > limit:
        raise OpenAIError(
            400,
            f"The last user message is {len(text)} characters; the limit is {limit}.",
            param=f"messages.{len(messages) - 1}.content",
            code="string_above_max_length",
        )
    return [m.text[:limit] for m in messages if m.role == "user" and m.text.strip()]


async def _stream(
    body: ChatCompletionRequest,
    runtime: Runtime,
    conversation: Conversation,
    questions: list[str],
    completion_id: str,
    created: int,
    prompt_tokens: int,
) -> AsyncIterator[str]:
    """Role chunk (sent at once), the content in word-aligned pieces, a final chunk with
    ``finish_reason`` and the ``cloudkg`` payload, usage if asked, then ``[DONE]``."""
    n = body.n or 1

    def chunk(
        index: int,
        delta: dict[str, Any],
        finish: str | None = None,
        extension: dict[str, Any] | None = None,
    ) -> str:
        data: dict[str, Any] = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": MODEL,
            "system_fingerprint": None,
            "choices": [
                {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
            ],
        }
        if extension is not None:
            data["cloudkg"] = extension
        return _sse(data)

    for i in range(n):
        yield chunk(i, {"role": "assistant", "content": ""})
    try:
        reply = await run_in_threadpool(conversation.reply, questions)
    except Exception as exc:  # mid-stream: the status is sent, so report in the stream
        failure = runtime.failure(exc)
        error = (
            {"message": str(failure), "type": "server_error", "param": None, "code": "not_ready"}
            if failure is not None
            else {"message": "internal error", "type": "server_error", "param": None, "code": None}
        )
        if failure is None:
            log.exception("chat stream failed")
        yield _sse({"error": error})
        yield "data: [DONE]\n\n"
        return
    content, finish = _limited(reply.markdown, body)
    for i in range(n):
        for piece in pieces(content):
            yield chunk(i, {"content": piece})
    for i in range(n):
        yield chunk(i, {}, finish, _extension(reply) if i == n - 1 else None)
    if body.stream_options is not None and body.stream_options.include_usage:
        yield _sse(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": MODEL,
                "system_fingerprint": None,
                "choices": [],
                "usage": _usage(prompt_tokens, _count(content) * n),
            }
        )
    yield "data: [DONE]\n\n"


def pieces(text: str, size: int = CHUNK_CHARS) -> list[str]:
    """``text`` cut at word boundaries into pieces of about ``size`` characters (joined,
    they give ``text`` back exactly)."""
    out: list[str] = []
    current = ""
    for word in re.findall(r"\s*\S+\s*|\s+", text):
        current += word
        if len(current) >= size:
            out.append(current)
            current = ""
    if current:
        out.append(current)
    return out


def _sse(data: dict[str, Any]) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n"


def _limited(content: str, body: ChatCompletionRequest) -> tuple[str, str]:
    """Apply ``stop`` (cut before the first stop sequence) and ``max_tokens`` (in words)."""
    finish = "stop"
    stops = [body.stop] if isinstance(body.stop, str) else list(body.stop or [])
    cuts = [content.find(s) for s in stops if s and s in content]
    if cuts:
        content = content[: min(cuts)]
    limit = body.max_completion_tokens or body.max_tokens
    if limit is not None:
        words = re.findall(r"\S+\s*", content)
        if len(words) > limit:
            content = "".join(words[:limit]).rstrip()
            finish = "length"
    return content, finish


def _count(text: str) -> int:
    return len(text.split())


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _extension(reply: Reply) -> dict[str, Any]:
    """The /ask payload of the answer, with the resolution and the citations."""
    payload = answer_out(reply.answer).model_dump(mode="json")
    payload["resolution"] = reply.resolution.as_dict() if reply.resolution else None
    payload["citations"] = [c.as_dict() for c in reply.citations]
    return payload


# ---- tools -------------------------------------------------------------------------------------


@router.get("/tools")
async def list_tools() -> dict[str, Any]:
    """The tools (`ask`, `search`, `sparql`, `describe`) as OpenAI function definitions."""
    return {"object": "list", "data": openai_tools()}


@router.post(
    "/tools/{name}",
    openapi_extra={
        "requestBody": {
            "content": {"application/json": {"schema": {"type": "object"}}},
            "description": "The arguments object, as in a tool call's `function.arguments`.",
        }
    },
)
async def call_tool(
    name: str,
    request: Request,
    runtime: RuntimeDep,
    settings: SettingsDep,
    endpoint: EndpointDep,
) -> dict[str, Any]:
    """Call a tool with a JSON object of arguments; 404 for an unknown tool, 422 for
    arguments that do not match its schema."""
    raw = await request.body()
    try:
        arguments = json.loads(raw) if raw.strip() else {}
    except ValueError as exc:
        raise OpenAIError(
            422, f"The arguments are not JSON: {exc}", param="arguments", code="invalid_arguments"
        ) from None
    except RecursionError:
        raise OpenAIError(
            422,
            "The arguments are nested too deeply to read.",
            param="arguments",
            code="invalid_arguments",
        ) from None
    if not isinstance(arguments, dict):
        raise OpenAIError(
            422, "The arguments must be a JSON object.", param="arguments", code="invalid_arguments"
        )
    where = lone_surrogate(arguments)
    if where is not None:
        raise OpenAIError(
            422,
            f"The argument {where or 'object'} {SURROGATE_MESSAGE}.",
            param=f"arguments.{where}" if where else "arguments",
            code="invalid_arguments",
        )
    toolbox = Toolbox(runtime, settings, endpoint.executor)  # /sparql's bounded worker pool
    try:
        result = await run_in_threadpool(toolbox.call, name, arguments)
    except ToolError as exc:
        raise OpenAIError(
            exc.status,
            exc.message,
            param="name" if exc.code == "tool_not_found" else "arguments",
            code=exc.code,
            type="server_error" if exc.status >= 500 else "invalid_request_error",
        ) from None
    return {"object": "tool.result", "tool": name, "result": result}
