"""The OpenAPI document says what the API sends: Schemathesis generates requests from it and
checks every response against it (statuses, shapes, no server errors)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402

from api.app import create_app  # noqa: E402
from kg.serve.runtime import Runtime  # noqa: E402

from .conftest import Built  # noqa: E402

CONFIG = Path(__file__).resolve().parent.parent / "schemathesis.toml"


@pytest.fixture(scope="module")
def api_schema(corpus_graph: Built) -> Iterator[Any]:
    app = create_app(corpus_graph.settings, runtime=Runtime(corpus_graph.settings))
    config = schemathesis.config.SchemathesisConfig.from_path(str(CONFIG))
    yield schemathesis.openapi.from_asgi("/openapi.json", app, config=config)


def test_responses_match_the_document(api_schema: Any) -> None:
    """Every operation, with requests generated from the document (derandomised, so every
    run sends the same ones): each response's status and body are the documented ones, and
    none is a server error."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            case.call_and_validate()

        check()


def test_422_is_documented_as_sent(corpus_graph: Built) -> None:
    from fastapi.testclient import TestClient

    with TestClient(create_app(corpus_graph.settings, runtime=Runtime(corpus_graph.settings))) as c:
        doc = c.get("/openapi.json").json()
        body = c.post("/ask", json={"k": 1}).json()
    ref = doc["paths"]["/ask"]["post"]["responses"]["422"]["content"]["application/json"]
    assert ref["schema"]["$ref"].endswith("/ValidationErrorResponse")
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    assert set(body) == {"error", "detail"} and set(body["detail"][0]) == {"where", "problem"}
    assert "422" not in doc["paths"]["/v1/chat/completions"]["post"]["responses"]
