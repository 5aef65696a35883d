"""The four tools an assistant can call: ``ask``, ``search``, ``sparql`` and ``describe``.

Plain functions over the live answer engine, with one JSON-schema definition each (from the
pydantic argument models), shared by the MCP server (``api/mcp.py``, ``kg mcp``) and the
OpenAI-style ``/v1/tools`` endpoints. Every tool returns a JSON-able dict; every failure is a
``ToolError`` with an HTTP-like status and a code.

``sparql`` runs through ``kg.sparql.run_query``: the endpoint's time limit, row cap and
SERVICE/LOAD screen apply, and with a shared executor (the server's) it takes a worker from the
same bounded pool as ``/sparql`` instead of starting its own.
``describe`` links a name ("SQS", "FIFO queue") or an IRI through the catalog and returns the
entity card: labels, aliases, kind, categories, features (with their kinds), limits (bounds in
base units and as the notes state them), relations, a definition sentence and the source
passages.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kg.answer.card import entity_card, link_entity
from kg.answer.engine import AnswerEngine
from kg.chat.render import render
from kg.serve.runtime import NotReadyError, Runtime
from kg.settings import Settings

if TYPE_CHECKING:
    from kg.sparql import QueryExecutor

__all__ = [
    "TOOLS",
    "Tool",
    "ToolError",
    "Toolbox",
    "entity_card",
    "link_entity",
    "openai_tools",
]

MAX_QUERY = 100_000  # characters of a SPARQL query


class ToolError(Exception):
    """A tool call that cannot be answered; ``status`` is the HTTP status it maps to."""

    def __init__(self, message: str, *, status: int = 400, code: str = "invalid_request") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


# ---- arguments (their JSON schemas are the tools' input schemas) ---------------------------


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AskArgs(_Args):
    question: str = Field(
        ...,
        min_length=1,
        description="A question about the notes, in plain English (at most "
        "max_question_chars characters, 2,000 by default).",
    )
    k: int = Field(5, ge=1, le=50, description="How many passages to return as context.")


class SearchArgs(_Args):
    query: str = Field(
        ...,
        min_length=1,
        description="What to look for, in plain words (at most max_question_chars characters, "
        "2,000 by default).",
    )
    k: int = Field(5, ge=1, le=50, description="How many passages to return.")


class SparqlArgs(_Args):
    query: str = Field(
        ...,
        min_length=1,
        max_length=MAX_QUERY,
        description="A read-only SPARQL 1.1 query (SELECT, ASK, CONSTRUCT or DESCRIBE). "
        "Prefix ckg: <https://w3id.org/cloudkg/ontology#>.",
    )
    format: (
        Literal["json", "xml", "csv", "tsv", "turtle", "ntriples", "nquads", "rdfxml", "jsonld"]
        | None
    ) = Field(
        None,
        description="Leave out for rows as JSON objects; or a serialisation, returned as text.",
    )


class DescribeArgs(_Args):
    entity: str = Field(
        ...,
        min_length=1,
        max_length=500,
        description='A name as the notes use it ("SQS", "FIFO queue", "Amazon S3") or an IRI.',
    )


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    arguments: type[_Args]

    @property
    def input_schema(self) -> dict[str, Any]:
        """JSON Schema (2020-12) of the arguments object."""
        schema = self.arguments.model_json_schema()
        schema.pop("title", None)
        for prop in schema.get("properties", {}).values():
            prop.pop("title", None)
        return schema

    def openai(self) -> dict[str, Any]:
        """The OpenAI function-tool definition."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.input_schema,
            },
        }


TOOLS: tuple[Tool, ...] = (
    Tool(
        "ask",
        "Answer a question about the cloud-architecture notes from the knowledge graph or, "
        "failing that, the closest passages. Returns the answer sentence, the route (graph, "
        "search, hybrid, or none when the notes do not cover it), the facts with their source "
        "sentences, the passages, and a Markdown reply with numbered citations.",
        AskArgs,
    ),
    Tool(
        "search",
        "Hybrid (semantic + keyword) search over the notes. Returns passages, best first, with "
        "their document, section, character offsets and scores.",
        SearchArgs,
    ),
    Tool(
        "sparql",
        "Run a read-only SPARQL 1.1 query on the knowledge graph (services, features, limits, "
        "relations; one named graph per source passage). Time-limited and row-capped; SERVICE "
        "and LOAD are refused.",
        SparqlArgs,
    ),
    Tool(
        "describe",
        "The entity card of a service, feature or topic the notes mention: labels, aliases, "
        "kind, categories, features, limits (with units, as the notes state them), relations, "
        "a definition and the source passages.",
        DescribeArgs,
    ),
)
_BY_NAME = {t.name: t for t in TOOLS}


def openai_tools() -> list[dict[str, Any]]:
    return [t.openai() for t in TOOLS]


# ---- the toolbox ----------------------------------------------------------------------------


class Toolbox:
    """The tools over one runtime (the live build) and its settings. A backend that is
    missing or fails during a call is a ``ToolError`` with status 503 and code ``not_ready``.
    ``sparql`` is the executor the ``sparql`` tool shares (None: one of its own per call)."""

    def __init__(
        self, runtime: Runtime, settings: Settings, sparql: QueryExecutor | None = None
    ) -> None:
        self.runtime = runtime
        self.settings = settings
        self.executor = sparql

    def call(self, name: str, arguments: Mapping[str, Any] | None) -> dict[str, Any]:
        """Validate the arguments against the tool's schema and run it."""
        tool = _BY_NAME.get(name)
        if tool is None:
            known = ", ".join(_BY_NAME)
            raise ToolError(
                f"no tool named {name!r}; tools: {known}", status=404, code="tool_not_found"
            )
        try:
            args = tool.arguments.model_validate(dict(arguments or {}))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}"
                for e in exc.errors()
            )
            raise ToolError(
                f"invalid arguments for {name}: {problems}", status=422, code="invalid_arguments"
            ) from None
        text = getattr(args, "question", None) or getattr(args, "query", None)
        if name in ("ask", "search") and text and len(text) > self.settings.max_question_chars:
            field = "question" if name == "ask" else "query"
            raise ToolError(
                f"invalid arguments for {name}: {field}: {len(text)} characters; the limit is "
                f"{self.settings.max_question_chars}",
                status=422,
                code="invalid_arguments",
            )
        method: Callable[..., dict[str, Any]] = getattr(self, name)
        try:
            return method(**args.model_dump())
        except ToolError:
            raise
        except Exception as exc:
            failure = self.runtime.failure(exc)
            if failure is None:
                raise
            raise ToolError(str(failure), status=503, code="not_ready") from exc

    def engine(self) -> AnswerEngine:
        try:
            return self.runtime.engine()
        except NotReadyError as exc:
            raise ToolError(str(exc), status=503, code="not_ready") from exc

    def ask(self, question: str, k: int = 5) -> dict[str, Any]:
        engine = self.engine()
        answer = engine.ask(question, k)
        reply, cited = render(answer, engine)
        return asdict(answer) | {"reply": reply, "citations": [c.as_dict() for c in cited]}

    def search(self, query: str, k: int = 5) -> dict[str, Any]:
        hits = self.engine().search(query, k)
        return {"query": query, "passages": [asdict(h) for h in hits]}

    def sparql(self, query: str, format: str | None = None) -> dict[str, Any]:
        from kg.sparql import SparqlError, run_query

        try:
            result = run_query(self.settings, query, format=format, executor=self.executor)
        except SparqlError as exc:
            raise ToolError(exc.message, status=exc.status, code=exc.code) from None
        out: dict[str, Any] = {
            "kind": result.kind,
            "truncated": result.truncated,
            "max_rows": result.max_rows,
            "elapsed_ms": round(result.elapsed * 1000, 1),
        }
        if format is None and result.kind in ("results", "boolean"):
            data = json.loads(result.body)
            if result.kind == "boolean":
                return out | {"boolean": bool(data.get("boolean"))}
            names = data["head"]["vars"]
            rows = [
                {n: b[n]["value"] for n in names if n in b} for b in data["results"]["bindings"]
            ]
            return out | {"vars": names, "rows": rows}
        return out | {
            "format": result.format.name,
            "media_type": result.media_type,
            "body": result.body.decode("utf-8"),
        }

    def describe(self, entity: str) -> dict[str, Any]:
        engine = self.engine()
        iri = link_entity(engine, entity)
        if iri is None:
            raise ToolError(
                f"the notes name no service, feature or topic {entity!r}",
                status=404,
                code="entity_not_found",
            )
        return entity_card(engine, iri)


# ---- entity cards ------------------------------------------------------------------------------
