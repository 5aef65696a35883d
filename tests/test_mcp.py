"""The MCP server, driven with the official ``mcp`` SDK's client over stdio (``kg mcp`` as a
subprocess, fake embedder) and over streamable HTTP (``/mcp`` on the running app)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from api.app import create_app
from kg.serve.runtime import Runtime

from .conftest import Built
from .test_chat import serving

ROOT = Path(__file__).resolve().parent.parent
SERVICE_QUERY = "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"
SERVICES_QUERY = """PREFIX ckg: <https://w3id.org/cloudkg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?label WHERE { ?s a ckg:Service ; rdfs:label ?label } ORDER BY ?label"""


async def exercise(server: Any) -> dict[str, Any]:
    """List the tools and call each one (plus two refusals) in one session."""
    out: dict[str, Any] = {}
    async with Client(server, read_timeout_seconds=60) as client:
        out["tools"] = (await client.list_tools()).tools
        calls = {
            "ask": ("ask", {"question": "How long does SQS keep a message by default?"}),
            "search": ("search", {"query": "block an IP address", "k": 3}),
            "sparql": ("sparql", {"query": SERVICES_QUERY}),
            "service": ("sparql", {"query": SERVICE_QUERY}),
            "describe": ("describe", {"entity": "SQS"}),
            "bad": ("ask", {"k": 3}),
            "unknown": ("describe", {"entity": "Azure Functions"}),
        }
        for key, (name, arguments) in calls.items():
            out[key] = await client.call_tool(name, arguments)
    return out


@pytest.fixture(scope="module")
def over_stdio(corpus_graph: Built) -> dict[str, Any]:
    env = {"KG_EMBEDDER": "fake", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    if "KG_SPARQL_TIMEOUT" in os.environ:
        env["KG_SPARQL_TIMEOUT"] = os.environ["KG_SPARQL_TIMEOUT"]
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "api.cli", "mcp", "--data", str(corpus_graph.settings.data)],
        env=env,
        cwd=ROOT,
    )
    result: dict[str, Any] = anyio.run(exercise, params)
    return result


@pytest.fixture(scope="module")
def http_url(corpus_graph: Built) -> Iterator[str]:
    settings = corpus_graph.settings
    with serving(create_app(settings, runtime=Runtime(settings))) as url:
        yield f"{url}/mcp"


@pytest.fixture(scope="module")
def over_http(http_url: str) -> dict[str, Any]:
    result: dict[str, Any] = anyio.run(exercise, http_url)
    return result


@pytest.fixture(params=["stdio", "http"])
def session(request: pytest.FixtureRequest) -> dict[str, Any]:
    result: dict[str, Any] = request.getfixturevalue(f"over_{request.param}")
    return result


def structured(result: Any) -> dict[str, Any]:
    """The structured result, which the text block repeats as JSON."""
    assert not result.is_error, result.content
    data: dict[str, Any] = result.structured_content
    assert json.loads(result.content[0].text) == data
    return data


def test_lists_four_tools_with_input_schemas(session: dict[str, Any]) -> None:
    tools = {t.name: t for t in session["tools"]}
    assert set(tools) == {"ask", "search", "sparql", "describe"}
    for tool in tools.values():
        assert tool.description
        assert tool.input_schema["type"] == "object"
        assert tool.input_schema["required"]
        assert tool.annotations is not None and tool.annotations.read_only_hint
    assert tools["ask"].input_schema["properties"]["question"]["type"] == "string"
    assert tools["describe"].input_schema["required"] == ["entity"]


def test_ask_answers_with_sources(session: dict[str, Any]) -> None:
    data = structured(session["ask"])
    assert data["route"] in ("graph", "hybrid") and "4 days" in data["answer"]
    assert data["facts"][0]["source"]["document"] == "aws-solutions-architect-notes.txt"
    assert "Sources:" in data["reply"] and "[1]" in data["reply"]
    assert data["citations"][0]["quote"].startswith("Messages can be kept")


def test_search_returns_passages(session: dict[str, Any]) -> None:
    data = structured(session["search"])
    passages = data["passages"]
    assert 1 <= len(passages) <= 3
    assert {"id", "text", "document", "section", "start", "end", "score", "scores"} <= set(
        passages[0]
    )


def test_sparql_returns_rows_and_refuses_service(session: dict[str, Any]) -> None:
    data = structured(session["sparql"])
    assert data["kind"] == "results" and data["vars"] == ["label"]
    labels = [row["label"] for row in data["rows"]]
    assert "Amazon SQS" in labels and labels == sorted(labels)
    refused = session["service"]
    assert refused.is_error
    assert "forbidden_operation" in refused.content[0].text
    assert "SERVICE" in refused.content[0].text


def test_describe_returns_the_entity_card(session: dict[str, Any]) -> None:
    card = structured(session["describe"])
    assert card["label"] == "Amazon SQS" and card["kind"] == "service"
    assert "SQS" in card["aliases"]
    retention = next(x for x in card["limits"] if x["quantity"] == "message retention period")
    assert retention["min"]["value"] == 60 and retention["max"]["value"] == 14 * 86400
    assert retention["default"]["text"] == "4 days"
    assert "14 days" in retention["stated"] and retention["unit"].endswith("/SEC")
    assert retention["source"]["text"].startswith("Messages can be kept")
    assert any(f["label"] == "FIFO" and f["kind"] == "queue type" for f in card["features"])
    assert card["sources"] and card["definition"]


def test_bad_calls_are_tool_errors(session: dict[str, Any]) -> None:
    assert session["bad"].is_error and "question" in session["bad"].content[0].text
    assert session["unknown"].is_error
    assert "entity_not_found" in session["unknown"].content[0].text
