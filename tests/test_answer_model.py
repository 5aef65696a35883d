"""End to end with the real model: build, then ask through the runtime (slow: one build)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kg.serve.runtime import Runtime

from .conftest import Built

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def engine(real_build: Built) -> Iterator[object]:
    runtime = Runtime(real_build.settings)
    yield runtime.engine()
    runtime.close()


@pytest.mark.parametrize(
    ("question", "expected", "routes"),
    [
        ("What is the biggest object S3 can store?", "5 TB", ("graph", "hybrid")),
        ("How long does SQS keep messages by default?", "4 days", ("graph", "hybrid")),
        ("How many copies of my data does Aurora keep?", "6", ("graph", "hybrid")),
        (
            "How can web servers behind a load balancer see the client's IP?",
            "X-Forwarded-For",
            ("search", "hybrid", "graph"),
        ),
        ("What is the throughput limit of a Nebula Queue stream?", "40 MB", ("graph", "hybrid")),
    ],
)
def test_answers(engine, question, expected, routes):
    answer = engine.ask(question)
    assert answer.route in routes, answer
    assert expected in answer.answer


@pytest.mark.parametrize(
    "question",
    [
        "What is the capital of France?",
        "How do I configure lifecycle rules in Azure Blob Storage?",
        "What is the maximum memory of an AWS Fargate task?",
        "Who won the football world cup in 2018?",
    ],
)
def test_abstains(engine, question):
    assert engine.ask(question).route == "none"
