"""The tools of ``kg.serve.tools`` as functions and as ``/v1/tools`` (OpenAI function schemas)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kg.serve.runtime import Runtime
from kg.serve.tools import TOOLS, Toolbox, ToolError, openai_tools
from kg.settings import Settings

from .conftest import Built

jsonschema = pytest.importorskip("jsonschema")

SQS = "https://w3id.org/cloudkg/id/service/amazon-sqs"


@pytest.fixture(scope="module")
def toolbox(corpus_graph: Built) -> Iterator[Toolbox]:
    runtime = Runtime(corpus_graph.settings)
    yield Toolbox(runtime, corpus_graph.settings)
    runtime.close()


@pytest.fixture(scope="module")
def http(corpus_graph: Built) -> Iterator[TestClient]:
    settings = corpus_graph.settings
    with TestClient(create_app(settings, runtime=Runtime(settings))) as c:
        yield c


# ---- schemas ------------------------------------------------------------------------------------


def test_schemas_are_valid_json_schema() -> None:
    for tool in TOOLS:
        jsonschema.Draft202012Validator.check_schema(tool.input_schema)
        assert tool.input_schema["type"] == "object"
        assert tool.input_schema["additionalProperties"] is False


@pytest.mark.parametrize(
    ("name", "arguments", "valid"),
    [
        ("ask", {"question": "How large can an SQS message be?"}, True),
        ("ask", {"question": "x", "k": 3}, True),
        ("ask", {}, False),
        ("ask", {"question": "x", "k": 0}, False),
        ("ask", {"question": "x", "color": "red"}, False),
        ("search", {"query": "NAT gateway"}, True),
        ("sparql", {"query": "ASK {}", "format": "csv"}, True),
        ("sparql", {"query": "ASK {}", "format": "html"}, False),
        ("describe", {"entity": "SQS"}, True),
        ("describe", {"entity": 3}, False),
    ],
)
def test_schema_and_validation_agree(
    toolbox: Toolbox, name: str, arguments: dict[str, Any], valid: bool
) -> None:
    """What the published schema accepts is what the tool accepts."""
    schema = next(t.input_schema for t in TOOLS if t.name == name)
    assert jsonschema.Draft202012Validator(schema).is_valid(arguments) is valid
    if not valid:
        with pytest.raises(ToolError) as caught:
            toolbox.call(name, arguments)
        assert caught.value.status == 422 and caught.value.code == "invalid_arguments"


def test_openai_function_definitions() -> None:
    tools = openai_tools()
    assert [t["function"]["name"] for t in tools] == ["ask", "search", "sparql", "describe"]
    for t in tools:
        assert t["type"] == "function"
        assert set(t["function"]) == {"name", "description", "parameters"}


# ---- the tools as functions ---------------------------------------------------------------------


def test_ask_tool(toolbox: Toolbox) -> None:
    result = toolbox.call("ask", {"question": "Which database engines does RDS support?", "k": 2})
    assert result["route"] in ("graph", "hybrid") and "MySQL" in result["answer"]
    assert len(result["passages"]) <= 2 and result["facts"][0]["source"]["text"]
    assert result["reply"].startswith(result["answer"])
    assert result["citations"][0]["number"] == 1


def test_ask_tool_out_of_scope(toolbox: Toolbox) -> None:
    result = toolbox.call("ask", {"question": "What is the capital of France?"})
    assert result["route"] == "none" and result["reply"].startswith("The notes don't cover that")


def test_search_tool(toolbox: Toolbox) -> None:
    result = toolbox.call("search", {"query": "block an IP address", "k": 4})
    assert result["query"] == "block an IP address" and 1 <= len(result["passages"]) <= 4


def test_sparql_tool_rows_boolean_text_and_caps(toolbox: Toolbox, corpus_graph: Built) -> None:
    rows = toolbox.call(
        "sparql",
        {
            "query": "PREFIX ckg: <https://w3id.org/cloudkg/ontology#> "
            "SELECT ?s WHERE { ?s a ckg:Service }"
        },
    )
    assert rows["kind"] == "results" and len(rows["rows"]) > 10 and not rows["truncated"]
    assert toolbox.call("sparql", {"query": "ASK { ?s ?p ?o }"})["boolean"] is True
    csv = toolbox.call("sparql", {"query": "SELECT ?s WHERE { ?s ?p ?o } LIMIT 2", "format": "csv"})
    assert csv["body"].startswith("s\r\n") and csv["media_type"].startswith("text/csv")
    graph = toolbox.call("sparql", {"query": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 3"})
    assert graph["kind"] == "graph" and graph["format"] == "turtle"
    capped = Toolbox(
        toolbox.engine, corpus_graph.settings.model_copy(update={"sparql_max_rows": 3})
    )
    small = capped.call("sparql", {"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert len(small["rows"]) == 3 and small["truncated"] is True


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("SELECT * WHERE { SERVICE <http://example.org/s> { ?s ?p ?o } }", "forbidden_operation"),
        ("SELECT * WHERE { ?s ?p }", "malformed_query"),
    ],
)
def test_sparql_tool_refusals(toolbox: Toolbox, query: str, code: str) -> None:
    with pytest.raises(ToolError) as caught:
        toolbox.call("sparql", {"query": query})
    assert caught.value.status == 400 and caught.value.code == code


def test_describe_by_name_alias_and_iri(toolbox: Toolbox) -> None:
    by_alias = toolbox.call("describe", {"entity": "SQS"})
    assert by_alias["iri"] == SQS
    assert toolbox.call("describe", {"entity": "simple queue service"})["iri"] == SQS
    assert toolbox.call("describe", {"entity": SQS})["label"] == "Amazon SQS"
    assert by_alias["categories"] == ["Application Integration"]
    size = next(x for x in by_alias["limits"] if x["quantity"] == "message size")
    assert size["max"] == {"value": 256000.0, "text": "256 KB"} and size["stated"] == "256 KB"
    assert size["dimension"] == "bytes"
    assert any(r["object"]["label"] == "long polling" for r in by_alias["relations"])
    assert by_alias["definition"]["text"].startswith("Amazon SQS is")
    assert all(s["document"] for s in by_alias["sources"])


def test_describe_a_feature(toolbox: Toolbox) -> None:
    card = toolbox.call("describe", {"entity": "FIFO queue"})
    assert card["kind"] == "feature" and card["feature_kind"] == "queue type"
    assert card["feature_of"] == [{"iri": SQS, "label": "Amazon SQS"}]
    assert card["definition"]["text"].startswith("FIFO")


def test_tool_errors(toolbox: Toolbox) -> None:
    with pytest.raises(ToolError) as unknown_tool:
        toolbox.call("delete_everything", {})
    assert unknown_tool.value.status == 404 and unknown_tool.value.code == "tool_not_found"
    with pytest.raises(ToolError) as unknown_entity:
        toolbox.call("describe", {"entity": "Azure Functions"})
    assert unknown_entity.value.status == 404


def test_not_ready_is_503(tmp_path: Any) -> None:
    settings = Settings(data=tmp_path / "empty", embedder="fake")
    with pytest.raises(ToolError) as caught:
        Toolbox(Runtime(settings), settings).call("ask", {"question": "hi"})
    assert caught.value.status == 503 and caught.value.code == "not_ready"


# ---- over HTTP ----------------------------------------------------------------------------------


def test_v1_tools_lists_openai_functions(http: TestClient) -> None:
    body = http.get("/v1/tools").json()
    assert body["object"] == "list" and body["data"] == openai_tools()


def test_v1_tools_call(http: TestClient) -> None:
    r = http.post("/v1/tools/describe", json={"entity": "SQS"})
    assert r.status_code == 200
    assert r.json()["tool"] == "describe" and r.json()["result"]["label"] == "Amazon SQS"
    r = http.post("/v1/tools/ask", json={"question": "How large can an SQS message be?"})
    assert "256 KB" in r.json()["result"]["answer"]


@pytest.mark.parametrize(
    ("path", "content", "status", "code"),
    [
        ("/v1/tools/nope", b"{}", 404, "tool_not_found"),
        ("/v1/tools/ask", b"{}", 422, "invalid_arguments"),
        ("/v1/tools/ask", b'{"question": 5}', 422, "invalid_arguments"),
        ("/v1/tools/ask", b'{"question": "x", "k": 99}', 422, "invalid_arguments"),
        ("/v1/tools/ask", b"[1, 2]", 422, "invalid_arguments"),
        ("/v1/tools/ask", b"{not json", 422, "invalid_arguments"),
        ("/v1/tools/describe", b'{"entity": "Azure Functions"}', 404, "entity_not_found"),
        (
            "/v1/tools/sparql",
            b'{"query": "SELECT * WHERE { SERVICE <http://x.org/> { ?s ?p ?o } }"}',
            400,
            "forbidden_operation",
        ),
    ],
)
def test_v1_tools_errors(
    http: TestClient, path: str, content: bytes, status: int, code: str
) -> None:
    r = http.post(path, content=content, headers={"content-type": "application/json"})
    assert r.status_code == status
    error = r.json()["error"]
    assert error["code"] == code and error["message"] and error["type"] == "invalid_request_error"


def test_v1_routes_are_documented(http: TestClient) -> None:
    paths = http.get("/openapi.json").json()["paths"]
    assert {"/v1/chat/completions", "/v1/models", "/v1/tools", "/v1/tools/{name}"} <= set(paths)
