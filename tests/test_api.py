"""The HTTP contract of /ask, /search, /healthz, /readyz, and bad input (fake embedder)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import CloudKG, create_app
from kg.serve.runtime import Runtime
from kg.settings import Settings

from .conftest import Built

ASK_KEYS = {"question", "answer", "route", "confidence", "facts", "passages", "sparql"}


@pytest.fixture(scope="module")
def client(corpus_graph: Built) -> Iterator[TestClient]:
    settings = corpus_graph.settings
    with TestClient(create_app(settings, runtime=Runtime(settings))) as c:
        yield c


def test_ask_contract(client):
    r = client.post("/ask", json={"question": "How large can an SQS message be?", "k": 3})
    assert r.status_code == 200
    body = r.json()
    assert set(body) >= ASK_KEYS
    assert body["route"] in ("graph", "hybrid")
    assert "256 KB" in body["answer"]
    assert 0 <= body["confidence"] <= 1
    fact = body["facts"][0]
    assert set(fact) == {"subject", "predicate", "object", "source"}
    assert {"iri", "label"} <= set(fact["subject"]) and fact["object"]["value"] == 256000
    assert set(fact["source"]) == {"document", "section", "start", "end", "text"}
    assert len(body["passages"]) <= 3
    p = body["passages"][0]
    assert {"id", "text", "document", "section", "start", "end", "score", "scores"} <= set(p)
    assert {"dense", "bm25"} <= set(p["scores"])
    assert body["sparql"].lstrip().startswith("PREFIX")


def test_ask_get_matches_post(client):
    q = "Which database engines does RDS support?"
    get = client.get("/ask", params={"q": q, "k": 2}).json()
    post = client.post("/ask", json={"question": q, "k": 2}).json()
    assert get["answer"] == post["answer"] and get["route"] == post["route"]


def test_ask_abstains_with_an_empty_answer(client):
    body = client.post(
        "/ask", json={"question": "How much memory can an AWS Fargate task use?"}
    ).json()
    assert body["route"] == "none" and body["answer"] == "" and body["facts"] == []


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"json": {"question": "   "}}, 400),
        ({"json": {"question": ""}}, 400),
        ({"json": {"question": "x" * 2001}}, 413),
        ({"json": {"k": 3}}, 422),
        ({"json": {"question": 42}}, 422),
        ({"json": {"question": "ok", "k": 0}}, 422),
        ({"json": {"question": "ok", "k": 51}}, 422),
        ({"content": b"not json", "headers": {"content-type": "application/json"}}, 422),
        ({"content": b"question=hi", "headers": {"content-type": "text/plain"}}, 422),
    ],
)
def test_ask_bad_input_gets_a_clear_json_4xx(client, kwargs, status):
    r = client.post("/ask", **kwargs)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/json")
    assert isinstance(r.json()["error"], str) and r.json()["error"]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"q": ""}, 400),
        ({"q": " \t"}, 400),
        ({}, 422),
        ({"q": "nat", "k": 0}, 422),
        ({"q": "nat", "k": 99}, 422),
        ({"q": "n" * 2500}, 413),
    ],
)
def test_search_bad_input(client, params, status):
    r = client.get("/search", params=params)
    assert r.status_code == status and r.json()["error"]


def test_search_returns_passages_with_component_scores(client):
    r = client.get("/search", params={"q": "block an IP address", "k": 4})
    assert r.status_code == 200
    passages = r.json()["passages"]
    assert 1 <= len(passages) <= 4
    scores = [p["score"] for p in passages]
    assert scores == sorted(scores, reverse=True)
    assert all({"dense", "bm25", "entity", "fused"} <= set(p["scores"]) for p in passages)


def test_health_readiness_and_docs(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["backends"] == {"graph": "ok", "vectors": "ok"}
    assert "/ask" in client.get("/openapi.json").json()["paths"]
    assert client.get("/docs").status_code == 200


def test_not_ready_without_a_build(tmp_path):
    settings = Settings(data=tmp_path / "empty", embedder="fake")
    with TestClient(create_app(settings)) as c:
        ready = c.get("/readyz")
        assert ready.status_code == 503 and "build" in ready.json()["backends"]
        r = c.post("/ask", json={"question": "How large can an SQS message be?"})
        assert r.status_code == 503 and r.json()["backend"] == "build"


def test_a_new_build_is_picked_up_without_a_restart(tmp_path):
    from kg.build import build

    from .conftest import FIXTURES

    settings = Settings(data=tmp_path / "data", embedder="fake")
    build(settings, [FIXTURES / "fargate.md"])
    with TestClient(create_app(settings)) as c:
        q = {"question": "How large can a Nebula Queue message be?"}
        assert c.post("/ask", json=q).json()["route"] == "none"
        build(settings, [FIXTURES / "fargate.md", FIXTURES / "nebula-queue.md"])
        import time

        time.sleep(0.6)  # the runtime checks for a new build at most twice a second
        body = c.post("/ask", json=q).json()
        assert body["route"] in ("graph", "hybrid") and "1 MB" in body["answer"]


def test_one_question_limit_from_settings_for_ask_search_chat_and_tools(corpus_graph: Built):
    settings = corpus_graph.settings.model_copy(update={"max_question_chars": 40})
    question = "How large can a message in Amazon SQS be, at most?"  # 50 characters
    with TestClient(create_app(settings, runtime=Runtime(settings))) as c:
        r = c.post("/ask", json={"question": question})
        assert r.status_code == 413 and "the limit is 40" in r.json()["detail"]
        assert c.get("/search", params={"q": question}).status_code == 413
        chat = {"model": "cloudkg", "messages": [{"role": "user", "content": question}]}
        r = c.post("/v1/chat/completions", json=chat)
        assert r.status_code == 400 and "the limit is 40" in r.text
        r = c.post("/v1/tools/ask", json={"question": question})
        assert r.status_code == 422 and "the limit is 40" in r.text
        assert c.post("/ask", json={"question": question[:40]}).status_code == 200


def test_sparql_fast_path_answers_as_the_fastapi_route_does(corpus_graph: Built):
    settings = corpus_graph.settings
    fast = create_app(settings, runtime=Runtime(settings))
    routed = create_app(settings, runtime=Runtime(settings))
    assert isinstance(routed, CloudKG) and routed.sparql_app is not None
    routed.sparql_app = None  # FastAPI's routes answer
    query = (
        "SELECT ?label WHERE { ?s <http://www.w3.org/2004/02/skos/core#altLabel> ?label } LIMIT 3"
    )
    requests = [
        ("GET", {"params": {"query": query}, "headers": {"Accept": "text/csv"}}),
        ("POST", {"data": {"query": query}}),
        ("POST", {"content": "SELEC", "headers": {"Content-Type": "application/sparql-query"}}),
        ("GET", {"headers": {"Accept": "text/turtle"}}),  # the service description
        ("OPTIONS", {}),
    ]
    with TestClient(fast) as a, TestClient(routed) as b:
        for method, kwargs in requests:
            ours, theirs = (
                a.request(method, "/sparql", **kwargs),
                b.request(method, "/sparql", **kwargs),
            )
            assert ours.status_code == theirs.status_code, (method, kwargs)
            assert ours.content == theirs.content
            drop = {"server-timing", "content-length"}
            assert {k: v for k, v in ours.headers.items() if k not in drop} == {
                k: v for k, v in theirs.headers.items() if k not in drop
            }


def test_an_unexpected_error_on_the_sparql_fast_path_is_a_json_500(
    corpus_graph: Built, monkeypatch: pytest.MonkeyPatch
):
    from kg.sparql import SparqlEndpoint

    async def crash(self: SparqlEndpoint, request: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(SparqlEndpoint, "handle_async", crash)
    settings = corpus_graph.settings
    app = create_app(settings, runtime=Runtime(settings))
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.post("/sparql", data={"query": "ASK {}"})
    assert r.status_code == 500
    assert r.json() == {"error": "internal error", "detail": "RuntimeError"}
