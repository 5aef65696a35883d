"""The OpenAI-compatible chat API, driven with the official ``openai`` SDK against the real
app under uvicorn (fake embedder), and the follow-up resolver of ``kg.chat.resolve``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai import OpenAI

from api.app import create_app
from api.routes.chat import pieces
from kg import vocab
from kg.answer.analysis import analyse
from kg.answer.catalog import Catalog, Entry
from kg.answer.engine import AnswerEngine
from kg.chat.answers import (
    continued_answer,
    item_answer,
    out_of_scope,
    passage_answer,
    restricted,
)
from kg.chat.context import Context, Ref, find_item, kind_words
from kg.chat.render import citations
from kg.chat.resolve import Conversation, answer_cache
from kg.chat.rules import RULES, Followup, _swap_name
from kg.chat.scope import Coverage, name_around, uncovered_name
from kg.lexicon import Matcher
from kg.model import Answer, Fact, Hit, Source, Term
from kg.serve.runtime import Runtime

from .conftest import Built, serving


@pytest.fixture(scope="module")
def base_url(corpus_graph: Built) -> Iterator[str]:
    settings = corpus_graph.settings
    with serving(create_app(settings, runtime=Runtime(settings))) as url:
        yield url


@pytest.fixture(scope="module")
def client(base_url: str) -> Iterator[OpenAI]:
    with OpenAI(base_url=f"{base_url}/v1", api_key="not-needed", max_retries=0) as c:
        yield c


def ask(client: OpenAI, *turns: str) -> Any:
    """A conversation: each earlier question gets the server's own reply as the assistant
    turn (as a chat client would send it back, without the extension field)."""
    messages: list[Any] = []
    response = None
    for question in turns:
        messages.append({"role": "user", "content": question})
        response = client.chat.completions.create(model="cloudkg", messages=messages)
        messages.append({"role": "assistant", "content": response.choices[0].message.content})
    return response


def extension(response: Any) -> dict[str, Any]:
    ext: dict[str, Any] = (response.model_extra or {})["cloudkg"]
    return ext


# ---- models and plain completions -------------------------------------------------------------


def test_models(client: OpenAI) -> None:
    assert [m.id for m in client.models.list()] == ["cloudkg"]
    assert client.models.retrieve("cloudkg").owned_by == "cloudkg"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")


def test_plain_completion_cites_its_sources(client: OpenAI) -> None:
    r = client.chat.completions.create(
        model="cloudkg",
        messages=[
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "How large can an SQS message be?"},
        ],
        temperature=0.2,
        top_p=0.9,
        seed=7,
        user="someone",
    )
    assert r.object == "chat.completion" and r.model == "cloudkg" and r.id.startswith("chatcmpl-")
    choice = r.choices[0]
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    content = choice.message.content or ""
    answer, _, sources = content.partition("\n\nSources:\n")
    assert "256 KB" in answer and "[1]" in answer
    assert sources.startswith("- [1] aws-solutions-architect-notes.txt › SQS")
    assert '"Messages can obtain up to 256 KB of text in any format."' in sources
    ext = extension(r)
    assert ext["route"] in ("graph", "hybrid") and ext["facts"] and ext["passages"]
    assert ext["facts"][0]["source"]["text"] in sources
    assert ext["citations"][0]["number"] == 1
    assert ext["resolution"] == {
        "from": None,
        "rule": "asked",
        "carried": {"entities": [], "intent": None},
        "rewritten": "How large can an SQS message be?",
    }
    assert {"question", "answer", "confidence", "sparql", "analysis"} <= set(ext)
    assert r.usage is not None
    assert r.usage.completion_tokens == len(content.split())
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


def test_search_answers_cite_the_passage_they_quote(client: OpenAI) -> None:
    r = client.chat.completions.create(
        model="cloudkg", messages=[{"role": "user", "content": "What is AWS Lambda?"}]
    )
    ext = extension(r)
    content = r.choices[0].message.content or ""
    assert ext["route"] in ("search", "hybrid")
    cited = ext["citations"][0]
    assert cited["quote"] in content and ext["answer"] in content
    assert any(p["start"] == cited["start"] for p in ext["passages"])


def test_streamed_completion(client: OpenAI) -> None:
    question = [{"role": "user", "content": "How large can an SQS message be?"}]
    plain = client.chat.completions.create(model="cloudkg", messages=question)
    chunks = list(
        client.chat.completions.create(
            model="cloudkg",
            messages=question,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    first = chunks[0]
    assert first.object == "chat.completion.chunk"
    assert first.choices[0].delta.role == "assistant" and not first.choices[0].delta.content
    with_choices = [c for c in chunks if c.choices]
    content = [c.choices[0].delta.content for c in with_choices[1:-1]]
    assert len(content) > 2 and all(content)
    assert "".join(c for c in content if c) == plain.choices[0].message.content
    final = with_choices[-1]
    assert final.choices[0].finish_reason == "stop"
    assert extension(final)["facts"] and extension(final)["route"] in ("graph", "hybrid")
    usage = chunks[-1]
    assert usage.choices == [] and usage.usage is not None and usage.usage.completion_tokens > 0
    assert len({c.id for c in chunks}) == 1


def test_raw_stream_is_server_sent_events(base_url: str) -> None:
    body = {
        "model": "cloudkg",
        "stream": True,
        "messages": [{"role": "user", "content": "How large can an SQS message be?"}],
    }
    with httpx.stream("POST", f"{base_url}/v1/chat/completions", json=body) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in r.iter_lines() if line]
    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"


def test_parameters_openai_documents(client: OpenAI) -> None:
    question = [{"role": "user", "content": "Which database engines does RDS support?"}]
    two = client.chat.completions.create(model="cloudkg", messages=question, n=2)
    assert [c.index for c in two.choices] == [0, 1]
    short = client.chat.completions.create(model="cloudkg", messages=question, max_tokens=3)
    assert short.choices[0].finish_reason == "length"
    assert len((short.choices[0].message.content or "").split()) == 3
    cut = client.chat.completions.create(model="cloudkg", messages=question, stop=["Sources:"])
    assert "Sources" not in (cut.choices[0].message.content or "")
    assert "MySQL" in (cut.choices[0].message.content or "")
    tools = client.chat.completions.create(
        model="cloudkg",
        messages=question,
        tools=[{"type": "function", "function": {"name": "x", "parameters": {"type": "object"}}}],
        response_format={"type": "text"},
    )
    assert tools.choices[0].message.tool_calls is None


# ---- follow-ups ---------------------------------------------------------------------------------


def test_follow_up_default_retention(client: OpenAI) -> None:
    r = ask(client, "What is the maximum message retention period for SQS?", "And the default one?")
    ext = extension(r)
    res = ext["resolution"]
    assert res["from"] == "What is the maximum message retention period for SQS?"
    assert res["rule"] == "bound"
    assert res["carried"]["entities"][0]["label"] == "Amazon SQS"
    assert res["carried"]["intent"] == "limit" and res["carried"]["bound"] == "default"
    assert "retention" in res["rewritten"] and "default" in res["rewritten"]
    assert ext["analysis"]["bound"] == "default"
    assert "4 days by default" in (r.choices[0].message.content or "")
    default = [f for f in ext["facts"] if f["predicate"]["label"].endswith("(default)")]
    assert default and default[0]["object"]["value"] == 4 * 86400


def test_follow_up_restricts_a_list(client: OpenAI) -> None:
    first = ask(client, "Which database engines does RDS support?")
    assert "Oracle" in extension(first)["answer"]
    r = ask(
        client, "Which database engines does RDS support?", "Which of them support read replicas?"
    )
    ext = extension(r)
    res = ext["resolution"]
    assert res["rule"] == "restrict"
    assert res["carried"]["entities"][0]["label"] == "Amazon RDS"
    assert res["carried"]["intent"] == "list"
    assert {"Oracle", "SQL Server", "MySQL"} <= set(res["carried"]["items"])
    listed = {f["object"]["label"] for f in ext["facts"]}
    assert {"MySQL", "PostgreSQL", "MariaDB"} <= listed and any("Aurora" in x for x in listed)
    assert not listed & {"Oracle", "SQL Server"}
    for name in ("MySQL", "PostgreSQL", "MariaDB", "Aurora"):
        assert name in ext["answer"]
    assert "Oracle" not in ext["answer"] and "SQL Server" not in ext["answer"]


def test_follow_up_pronoun(client: OpenAI) -> None:
    r = ask(client, "What is AWS Lambda?", "How is it charged?")
    ext = extension(r)
    res = ext["resolution"]
    assert res["rule"] == "pronoun" and res["rewritten"] == "How is AWS Lambda charged?"
    assert res["carried"]["entities"][0]["label"] == "AWS Lambda"
    content = r.choices[0].message.content or ""
    assert "requests" in content and "duration" in content
    assert ext["analysis"]["intent"] == "pricing"


def test_follow_up_ignores_assistant_content(client: OpenAI) -> None:
    """The server is stateless and reads only the user turns: any assistant text works."""
    r = client.chat.completions.create(
        model="cloudkg",
        messages=[
            {"role": "user", "content": "What is AWS Lambda?"},
            {"role": "assistant", "content": [{"type": "text", "text": "(something)"}]},
            {"role": "user", "content": "How is it charged?"},
        ],
    )
    assert extension(r)["resolution"]["rewritten"] == "How is AWS Lambda charged?"


# ---- out of scope -------------------------------------------------------------------------------


def test_out_of_scope_says_so_and_suggests(client: OpenAI) -> None:
    r = ask(client, "What is the capital of France?")
    content = r.choices[0].message.content or ""
    assert content.splitlines()[0] == "The notes don't cover France."
    assert "They cover" in content and "Amazon S3" in content and "Sources" not in content
    ext = extension(r)
    assert ext["route"] == "none" and ext["facts"] == [] and ext["answer"] == ""


def test_out_of_scope_after_a_conversation_stays_out(client: OpenAI) -> None:
    r = ask(client, "How is AWS Lambda charged?", "What is the capital of France?")
    ext = extension(r)
    assert ext["route"] == "none"
    assert ext["resolution"]["rule"] == "outside"
    assert ext["resolution"]["rewritten"] == "What is the capital of France?"
    assert (r.choices[0].message.content or "").startswith("The notes don't cover France.")


@pytest.mark.parametrize(
    ("question", "name"),
    [
        ("And how is Alibaba Cloud Function Compute priced?", "Alibaba Cloud Function Compute"),
        ("What about Oracle Cloud's object storage?", "Oracle Cloud's"),
        ("How often does IBM Cloud Monitoring collect metrics?", "IBM Cloud Monitoring"),
    ],
)
def test_a_cloud_the_notes_do_not_cover_is_named(client: OpenAI, question: str, name: str) -> None:
    """ "Oracle" is an RDS engine in the notes; "Oracle Cloud" is a cloud they do not cover:
    the reply names it and says which clouds they do cover, instead of answering about RDS."""
    r = ask(client, "How is AWS Lambda charged?", question)
    ext = extension(r)
    content = r.choices[0].message.content or ""
    assert ext["route"] == "none" and ext["facts"] == []
    assert ext["resolution"]["rule"] == "outside"
    assert content.startswith(f"The notes don't cover {name}")
    assert "They cover" in content and "AWS Lambda" not in content.splitlines()[0]


def test_a_service_the_notes_list_features_of_is_covered(engine: AnswerEngine) -> None:
    """Storage Gateway has no passage of its own, but the notes list its gateways."""
    reply = Conversation(engine).reply(["What types of Storage Gateway are there?"])
    assert reply.answer.route != "none" and "Volume Gateway" in reply.markdown


def test_a_follow_up_about_an_uncovered_cloud_stays_out(engine: AnswerEngine) -> None:
    reply = Conversation(engine).reply(
        ["How is Alibaba Cloud Function Compute priced?", "And how does it scale?"]
    )
    assert reply.resolution.rule == "pronoun"
    assert reply.answer.route == "none"
    assert reply.markdown.startswith("The notes don't cover Alibaba Cloud Function Compute.")


def test_unknown_service_follow_up_stays_out_of_scope(client: OpenAI) -> None:
    r = ask(client, "What is AWS Fargate?", "How is it charged?")
    ext = extension(r)
    assert ext["route"] == "none"
    assert ext["resolution"]["carried"]["entities"][0] == {
        "iri": None,
        "label": "AWS Fargate",
        "kind": "unknown",
    }


# ---- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "param"),
    [
        ({"messages": []}, openai.BadRequestError, "messages"),
        (
            {"messages": [{"role": "assistant", "content": "Hello"}]},
            openai.BadRequestError,
            "messages.0.role",
        ),
        (
            {
                "messages": [
                    {"role": "user", "content": "How is Lambda charged?"},
                    {"role": "assistant", "content": "By requests."},
                ]
            },
            openai.BadRequestError,
            "messages.1.role",
        ),
        ({"messages": [{"role": "user", "content": "   "}]}, openai.BadRequestError, None),
        ({"messages": [{"role": "user", "content": "x" * 2001}]}, openai.BadRequestError, None),
        ({"messages": [{"role": "robot", "content": "hi"}]}, openai.BadRequestError, None),
        ({"messages": [{"role": "user", "content": "hi"}], "n": 0}, openai.BadRequestError, "n"),
        (
            {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
            openai.NotFoundError,
            "model",
        ),
    ],
)
def test_bad_input_gets_an_openai_error(
    client: OpenAI, kwargs: dict[str, Any], error: type[Exception], param: str | None
) -> None:
    kwargs = {"model": "cloudkg"} | kwargs
    with pytest.raises(error) as caught:
        client.chat.completions.create(**kwargs)
    exc = caught.value
    assert isinstance(exc, openai.APIStatusError) and 400 <= exc.status_code < 500
    assert isinstance(exc.body, dict) and exc.body["type"] == "invalid_request_error"
    assert exc.body["message"]
    if param is not None:
        assert exc.body["param"] == param
    if error is openai.NotFoundError:
        assert exc.body["code"] == "model_not_found"


@pytest.mark.parametrize(
    "content",
    [b"not json", b"[]", b'{"messages": [{"role": "user", "content": "hi"}]}', b""],
)
def test_malformed_bodies_are_400s(base_url: str, content: bytes) -> None:
    r = httpx.post(
        f"{base_url}/v1/chat/completions",
        content=content,
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["type"] == "invalid_request_error" and error["message"]


def test_other_routes_keep_their_error_shape(base_url: str) -> None:
    r = httpx.post(f"{base_url}/ask", json={"k": 3})
    assert r.status_code == 422 and isinstance(r.json()["error"], str)


def test_pieces_give_the_text_back() -> None:
    text = 'Amazon SQS message size: up to 256 KB. [1]\n\nSources:\n- [1] a › b: "c d e"'
    parts = pieces(text, 10)
    assert "".join(parts) == text and len(parts) > 3


# ---- the resolver -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine(corpus_graph: Built) -> Iterator[AnswerEngine]:
    runtime = Runtime(corpus_graph.settings)
    yield runtime.engine()
    runtime.close()


SQS_MAX = "What is the maximum message retention period for SQS?"
RDS = "Which database engines does RDS support?"


@pytest.mark.parametrize(
    ("turns", "rule", "rewritten", "carried"),
    [
        (
            [SQS_MAX, "And the default one?"],
            "bound",
            "What is the default message retention period of Amazon SQS?",
            "Amazon SQS",
        ),
        (
            [SQS_MAX, "And the default one?", "the minimum?"],
            "bound",
            "What is the minimum message retention period of Amazon SQS?",
            "Amazon SQS",
        ),
        (
            ["How long does SQS keep messages?", "and its default?"],
            "bound",
            "What is the default message retention period of Amazon SQS?",
            "Amazon SQS",
        ),
        (
            [SQS_MAX, "What about the default value of it?"],
            "bound",
            "What is the default message retention period of Amazon SQS?",
            "Amazon SQS",
        ),
        (
            ["How long does SQS keep a message by default?", "And the maximum?"],
            "bound",
            "What is the maximum message retention period of Amazon SQS?",
            "Amazon SQS",
        ),
        (
            ["What is the maximum size of an S3 object?", "what's the min?"],
            "bound",
            "What is the minimum file size of Amazon S3?",
            "Amazon S3",
        ),
        (
            [RDS, "Which of them support read replicas?"],
            "restrict",
            "Which Amazon RDS database engines support read replicas?",
            "Amazon RDS",
        ),
        (
            [RDS, "Do any of those support read replicas?"],
            "restrict",
            "Which Amazon RDS database engines support read replicas?",
            "Amazon RDS",
        ),
        (
            [RDS, "Of those, which support read replicas?"],
            "restrict",
            "Which Amazon RDS database engines support read replicas?",
            "Amazon RDS",
        ),
        (
            ["What is AWS Lambda?", "How is it charged?"],
            "pronoun",
            "How is AWS Lambda charged?",
            "AWS Lambda",
        ),
        (
            ["Tell me about SQS", "What is its maximum message size?"],
            "pronoun",
            "What is Amazon SQS's maximum message size?",
            "Amazon SQS",
        ),
        (
            ["How is Lambda charged?", "Which languages does that service support?"],
            "pronoun",
            "Which languages does AWS Lambda support?",
            "AWS Lambda",
        ),
        (
            ["Which languages does Lambda support?", "And how is it billed?"],
            "pronoun",
            "How is AWS Lambda billed?",
            "AWS Lambda",
        ),
        (
            ["How large can an SQS message be?", "And for SNS?"],
            "swap",
            "How large can an SNS message be?",
            "Amazon SNS",
        ),
        (
            ["How large can an SQS message be?", "What about FIFO queues?"],
            "swap",
            "How large can an SQS FIFO queues message be?",
            "FIFO",
        ),
        (
            ["Tell me about SQS", "What is the default retention period?"],
            "carry",
            "What is the default retention period for Amazon SQS?",
            "Amazon SQS",
        ),
        (
            ["What is AWS Lambda?", "And the pricing?"],
            "carry",
            "What is the pricing for AWS Lambda?",
            "AWS Lambda",
        ),
    ],
)
def test_resolver_rules(
    engine: AnswerEngine, turns: list[str], rule: str, rewritten: str, carried: str
) -> None:
    turn = Conversation(engine).resolve(turns)
    assert turn.resolution is not None
    assert turn.resolution.rule == rule
    assert turn.resolution.rewritten == rewritten
    assert turn.resolution.carried["entities"][0]["label"] == carried
    assert turn.resolution.source == turns[-2]
    assert turn.question == turns[-1] and turn.text == rewritten


@pytest.mark.parametrize(
    "turns",
    [
        ["How is Lambda charged?"],
        ["How is Lambda charged?", "What is the capital of France?"],
        ["How is Lambda charged?", "Which database engines does RDS support?"],
        ["How is Lambda charged?", "What is SNS?"],
        ["How is Lambda charged?", "Which service is used to block IP addresses?"],
        ["Which languages does Lambda support?", "Is it possible to encrypt S3 buckets?"],
        ["What is the capital of France?", "Which database engines does RDS support?"],
    ],
)
def test_resolver_leaves_standalone_questions_alone(engine: AnswerEngine, turns: list[str]) -> None:
    turn = Conversation(engine).resolve(turns)
    assert turn.resolution.rule in ("asked", "outside") and turn.text == turns[-1]
    assert turn.resolution.rewritten == turns[-1]
    assert turn.resolution.source == (turns[-2] if len(turns) > 1 else None)


def test_resolution_skips_turns_that_name_nothing(engine: AnswerEngine) -> None:
    turn = Conversation(engine).resolve(
        [
            "How is Lambda charged?",
            "What is serverless computing?",
            "Which languages does it support?",
        ]
    )
    assert turn.resolution is not None
    assert turn.resolution.source == "How is Lambda charged?"
    assert turn.text == "Which languages does AWS Lambda support?"


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_every_rule_reads_its_own_example(engine: AnswerEngine, rule: Any) -> None:
    """The rule table's examples are what the rules do, on the bundled notes."""
    example = rule.example
    turn = Conversation(engine).resolve([example.before, example.follow_up])
    assert turn.resolution.rule == rule.name
    assert turn.text == example.read_as
    assert turn.resolution.source == example.before


@pytest.mark.parametrize(
    ("turns", "rule", "rewritten"),
    [
        (
            ["What routing policies can I use in Route 53?", "How does the latency one work?"],
            "item",
            "How does the Letancy Routing Policy of Amazon Route 53 work?",
        ),
        (
            [
                "What routing policies can I use in Route 53?",
                "How does the latency one work?",
                "And the weighted one?",
            ],
            "item",
            "How does the Weighted Routing Policy of Amazon Route 53 work?",
        ),
        (
            ["What routing policies can I use in Route 53?", "What is the second one?"],
            "item",
            "What is the Weighted Routing Policy of Amazon Route 53?",
        ),
        (
            ["What types of Storage Gateway are there?", "Which protocol does the volume one use?"],
            "item",
            "Which protocol does the Volume Gateway use?",
        ),
        (
            ["What's the maximum write rate of a single Kinesis shard?", "And for reads?"],
            "phrase",
            "What's the maximum read rate of a single Kinesis shard?",
        ),
        (
            [
                "How many copies of my data does Aurora keep?",
                "How many of them can it lose without affecting write availability?",
            ],
            "pronoun",
            "How many copies of my data can Amazon Aurora lose without affecting write"
            " availability?",
        ),
        (
            ["What bandwidth does a NAT gateway start at?", "And how far can it scale?"],
            "bound",
            "What is the maximum bandwidth of the NAT Gateway?",
        ),
        (
            ["What types of SQS queues are there?", "Which one is the default?"],
            "restrict",
            "Which Amazon SQS queue is the default?",
        ),
        (
            ["What types of SQS queues are there?", "Which is the default?"],
            "restrict",
            "Which Amazon SQS queue is the default?",
        ),
        (
            [
                "What routing policies can I use in Route 53?",
                "How does the latency-based one work?",
            ],
            "item",
            "How does the Letancy Routing Policy of Amazon Route 53 work?",
        ),
        (
            ["What routing policies can I use in Route 53?", "And the 2nd one?"],
            "item",
            "What is the Weighted Routing Policy of Amazon Route 53?",
        ),
    ],
)
def test_follow_ups_resolve_against_the_previous_answer(
    engine: AnswerEngine, turns: list[str], rule: str, rewritten: str
) -> None:
    turn = Conversation(engine).resolve(turns)
    assert (turn.resolution.rule, turn.text) == (rule, rewritten)


def test_which_one_keeps_the_item_the_notes_single_out(engine: AnswerEngine) -> None:
    conversation = Conversation(engine)
    queues = "What types of SQS queues are there?"
    default = conversation.reply([queues, "Which one is the default?"])
    assert default.answer.answer == "Of those, Standard is the default."
    assert default.resolution.carried["intersection"] == ["Standard"]
    assert "Standard (default)" in default.citations[0].quote
    it = conversation.resolve([queues, "Which one is the default?", "How does it scale?"])
    assert it.text == "How does the Standard queue type of Amazon SQS scale?"


def test_a_table_row_is_read_against_its_header(engine: AnswerEngine) -> None:
    """ "Ability to scale horizontally YES NO" under "Requirement Memcached REDIS"."""
    engines = "Which caching engines does ElastiCache support?"
    conversation = Conversation(engine)
    persistence = conversation.reply([engines, "Which of them supports persistence?"])
    assert persistence.answer.answer == "Of those, redis supports persistence."
    scale = conversation.reply(
        [engines, "Which of them supports persistence?", "And which one can scale horizontally?"]
    )
    assert scale.resolution.rule == "restrict"
    assert scale.answer.answer == "Of those, memcached can scale horizontally."


def test_how_does_it_work_is_answered_from_passages(engine: AnswerEngine) -> None:
    reply = Conversation(engine).reply(
        ["What routing policies can I use in Route 53?", "How does the latency one work?"]
    )
    assert reply.answer.route == "search" and reply.answer.facts == ()
    assert "lowest network latency" in reply.answer.answer
    assert "lowest network latency" in reply.citations[0].quote


# ---- the answer shapers, on answers made by hand ------------------------------------------------

_ITEMS = [Term("Basic"), Term("Standard"), Term("Premium")]
_TABLE = "| Feature | Basic | Standard | Premium |\n|---|---|---|---|\n| Topics | ✘ | ✔ | ✔ |"


def _answer(text: str, passages: list[str], facts: tuple[Fact, ...] = ()) -> Answer:
    hits = tuple(Hit(f"d#{i}", t, "d", None, 0, len(t), 1.0) for i, t in enumerate(passages))
    return Answer("q", text, "search", 0.9, facts, hits)


def test_restricted_reads_a_header_found_where_the_list_was() -> None:
    row = "| Topics | ✘ | ✔ | ✔ |"
    answer, kept = restricted(_answer(row, [row]), _ITEMS, verb="support topics", evidence=[_TABLE])
    assert [t.label for t in kept] == ["Standard", "Premium"]
    assert answer.answer == "Of those, Standard and Premium support topics."
    assert answer.analysis["cited"] == row


_PLANS = (
    "**S3 Protection** — CloudTrail S3 data events\n"
    "- **RDS Protection** — login activity anomalies on Aurora\n"
    "- **Malware Protection for S3** — scans new objects, can even be used without enabling GD"
    " itself\n"
    "- **Lambda Protection** — network activity logs of Lambda invocations\n\n"
    "Pricing: **30-day free trial** per region."
)
_PLAN_ITEMS = [
    Term("S3 Protection"),
    Term("RDS Protection"),
    Term("Malware Protection for S3"),
    Term("Lambda Protection"),
]


def test_restricted_reads_a_sentence_without_the_subject_name() -> None:
    """The notes write "GD" for GuardDuty: the subject's own name is not asked of a sentence.
    The item written whole counts ("S3 ... Protection" is only scattered in that line), and the
    plan named last before an unrelated sentence ("Pricing ...") is not taken for the answer."""
    answer, kept = restricted(
        _answer("Pricing: **30-day free trial** per region.", [_PLANS]),
        _PLAN_ITEMS,
        verb="can be used without enabling GuardDuty itself",
        subject="Amazon GuardDuty",
    )
    assert [t.label for t in kept] == ["Malware Protection for S3"]
    assert answer.answer.startswith("Of those, Malware Protection for S3 can be used without")
    assert "GD itself" in answer.analysis["cited"]


def test_restricted_cites_the_table_row_it_read() -> None:
    sentence = "A namespace contains queues and topics."
    answer, kept = restricted(
        _answer(sentence, [sentence]), _ITEMS, verb="support topics", evidence=[_TABLE]
    )
    assert [t.label for t in kept] == ["Standard", "Premium"]
    assert answer.analysis["cited"] == "| Topics | ✘ | ✔ | ✔ |"


@pytest.mark.parametrize(
    ("section", "text", "head", "items"),
    [
        ("Tiers", _TABLE, "tiers", ["Basic", "Standard", "Premium"]),
        (
            "Tiers",
            "| Tier | SLA |\n|---|---|\n| Developer | none |\n| Premium | 99.99% |",
            "tiers",
            ["Developer", "Premium"],
        ),
        (
            "Protection plans (optional, enabled one by one)",
            _PLANS,
            "optional protection plans",
            [t.label for t in _PLAN_ITEMS],
        ),
        ("Pricing", _PLANS, "optional protection plans", []),
    ],
)
def test_a_section_named_by_the_list_noun_holds_the_list(
    section: str, text: str, head: str, items: list[str]
) -> None:
    """Asked for tiers, the answer listed a table's rows (its features): the section titled
    "Tiers" holds the tiers, as its table's columns (or rows, under a "Tier" column), or as
    the names its bullets lead with."""
    catalog = Catalog([Entry("s", "service", "Azure Service Bus", {"Service Bus"})])
    question = f"What {head} does Service Bus have?"
    hit = Hit("h", text, "d", section, 0, len(text), 1.0)
    answer = Answer(question, "Service Bus has Queues.", "search", 0.5, (), (hit,))
    context = Context.after(None, question, question, analyse(question, catalog), answer, catalog)
    assert [t.label for t in context.items] == items


_LAMBDA = (
    "By number of requests: first 1 million requests are free. By duration which is calculated"
    " from the time your code begins executing, rounded up to the nearest 100ms. You are"
    " charged $0.00001667 for every GB-second used."
)
_PRICE = Source("d", None, 0, 10, "You are charged $0.00001667 for every GB-second used.")
_GB_SECOND = Answer(
    "How much does AWS Lambda cost per GB-second?",
    "AWS Lambda price per GB-second: $0.00001667 per GB-second.",
    "graph",
    0.9,
    (Fact(Term("AWS Lambda", "l"), Term("price", "p"), Term("$0.00001667"), _PRICE),),
    (Hit("lambda", _LAMBDA, "d", None, 0, len(_LAMBDA), 1.0),),
)


def test_a_follow_up_continues_where_the_previous_answer_was_read() -> None:
    """ "And what is the duration rounded up to?": the engine read a Secrets Manager row; the
    passage of the price per GB-second says it, two of the user's words and all."""
    row = "| Rotation window | `Duration` param, e.g. 2h-24h | |"
    answer = continued_answer(
        _answer(row, [row]), "And what is the duration rounded up to?", _GB_SECOND, "AWS Lambda"
    )
    assert answer.answer == (
        "By duration which is calculated from the time your code begins executing, rounded up"
        " to the nearest 100ms."
    )
    assert answer.passages[0].id == "lambda" and answer.analysis["cited"] == answer.answer


def test_a_follow_up_keeps_an_answer_read_in_the_same_passage() -> None:
    """The engine read the previous answer's passage too: its pick stands; and the sentence
    the previous answer rested on answers no new question."""
    same = "By number of requests: first 1 million requests are free."
    kept = continued_answer(
        _answer(same, [_LAMBDA]), "And is the duration rounded up?", _GB_SECOND, "AWS Lambda"
    )
    assert kept.answer == same
    other = "Lambda functions run in a VPC."
    again = continued_answer(
        _answer(other, [other]), "And how much per GB-second used?", _GB_SECOND, "AWS Lambda"
    )
    assert again.answer == other


def test_a_number_the_user_wrote_counts_twice_and_a_wrapped_line_is_one_sentence() -> None:
    notes = (
        "A single VM on Standard HDD: 95%.\n"
        "Two or more VMs in an availability set: 99.95%.\n"
        'Exam tip: they ask "what do you need for 99.99" and the answer is availability zones,'
        " not an\navailability set."
    )
    source = Source("d", None, 0, 10, "A single VM on Standard HDD: 95%.")
    previous = Answer(
        "q",
        "A single VM on Standard HDD: 95%.",
        "search",
        0.9,
        (),
        (Hit("vms", notes, "d", None, 0, len(notes), 1.0),),
        None,
        {"cited": source.text},
    )
    spot = "Spot VMs use spare capacity at up to 90% discount when you need to get it cheap."
    discount = Fact(
        Term("VMs", "v"), Term("discount", "d"), Term("90%"), Source("e", None, 0, 9, spot)
    )
    engine = Answer(
        "q",
        "Azure VMs discount: up to 90%.",
        "graph",
        0.9,
        (discount,),
        (Hit("spot", spot, "e", None, 0, len(spot), 1.0),),
    )
    answer = continued_answer(
        engine,
        "What do I need to get 99.99%?",
        previous,
        "Azure Virtual Machines",
    )
    assert answer.answer.endswith("availability zones, not an availability set.")


def test_restricted_does_not_take_a_negated_mention() -> None:
    text = '"needs topics" => rule out Basic immediately'
    answer, kept = restricted(_answer(text, [text]), _ITEMS, verb="support topics")
    assert kept == []
    assert answer.answer.startswith("The notes don't say which of them support topics.")
    assert answer.confidence == 0.0


def test_restricted_ignores_the_previous_list_answered_again() -> None:
    source = Source("d", None, 0, 10, "Basic, Standard and Premium.")
    facts = tuple(
        Fact(Term("Bus", "bus"), Term("has", vocab.CKG + "hasFeature"), t, source) for t in _ITEMS
    )
    items = [Term(t.label, t.label.lower()) for t in _ITEMS]
    facts = tuple(
        Fact(f.subject, f.predicate, Term(f.object.label, f.object.label.lower()), source)
        for f in facts
    )
    repeated = frozenset((f.subject.iri, f.predicate.iri, f.object.iri) for f in facts)
    _, kept = restricted(
        _answer("Bus has Basic, Standard and Premium.", [], facts),
        items,
        verb="support topics",
        repeated=repeated,
    )
    assert kept == []


def test_restricted_takes_a_negation_the_question_asks_for() -> None:
    """ "Which one is better when the subscriber isn't publicly reachable?": the sentence that
    says so has the question's own negation."""
    items = [Term("Pull", "pull"), Term("Push", "push")]
    line = "pull = better for high throughput and when subscriber isn't publicly reachable"
    answer, kept = restricted(
        _answer("Pub/Sub is global.", ["Pub/Sub is global."]),
        items,
        verb="is better when the subscriber isn't publicly reachable",
        evidence=[line],
    )
    assert kept == [items[0]]
    assert answer.answer == "Of those, Pull is better when the subscriber isn't publicly reachable."


def test_restricted_takes_the_item_named_before_a_sentence_with_the_negation_asked() -> None:
    """ "Which of them has no data persistence?": the sentence that says so is under the item
    the passage names just before it; its "no" is the question's own."""
    items = [Term("Kinesis Data Streams"), Term("Amazon Data Firehose"), Term("Flink")]
    passage = (
        "There are three types: • Kinesis Streams: data is kept from 24 hours to 7 days. "
        "• Kinesis Firehose: data goes straight to S3. Here, there is no data persistence."
    )
    sentence = "Here, there is no data persistence."
    answer, kept = restricted(_answer(sentence, [passage]), items, verb="has no data persistence")
    assert kept == [items[1]]
    assert answer.answer == "Of those, Amazon Data Firehose has no data persistence."
    _, kept = restricted(_answer(sentence, [passage]), items, verb="keeps data")
    assert kept == []


_SKUS = """Azure Load Balancer
  SKUs
    Basic
      - retired 30 Sept 2025, migrate to Standard
      - max 300 backend instances
    Standard
      - up to 1,000 backend instances (any VM/VMSS in the vnet)
      - SLA 99.99%"""
_LB_SKUS = (Term("Basic", "basic"), Term("Standard", "standard"))


def test_item_answer_takes_the_line_under_the_item() -> None:
    """Asked about the Basic SKU, the engine quoted the Standard one's line: the line under
    "Basic" that shares the question's words answers instead, named by the item."""
    answer = item_answer(
        _answer("up to 1,000 backend instances (any VM/VMSS in the vnet)", [_SKUS]),
        "How many backend instances does the Basic of Azure Load Balancer support?",
        Ref("Basic", "basic", "item"),
        _LB_SKUS,
        named_as="the Basic of Azure Load Balancer",
    )
    assert answer.answer == "Basic: max 300 backend instances"
    assert answer.analysis["cited"] == "max 300 backend instances"
    unlisted = item_answer(  # no list known: the outline's headings beside "Basic" are its peers
        _answer("up to 1,000 backend instances (any VM/VMSS in the vnet)", [_SKUS]),
        "How many backend instances does the Basic of Azure Load Balancer support?",
        Ref("Basic", None, "item", "basic"),
        named_as="the Basic of Azure Load Balancer",
    )
    assert unlisted.answer == "Basic: max 300 backend instances"
    same = item_answer(
        _answer("up to 1,000 backend instances (any VM/VMSS in the vnet)", [_SKUS]),
        "How many backend instances does the Standard of Azure Load Balancer support?",
        Ref("Standard", "standard", "item"),
        _LB_SKUS,
        named_as="the Standard of Azure Load Balancer",
    )
    assert same.answer == "up to 1,000 backend instances (any VM/VMSS in the vnet)"


def test_item_answer_about_another_item_is_withheld() -> None:
    answer = item_answer(
        _answer("up to 1,000 backend instances (any VM/VMSS in the vnet)", [_SKUS]),
        "What does the Basic of Azure Load Balancer cost?",
        Ref("Basic", "basic", "item"),
        _LB_SKUS,
        named_as="the Basic of Azure Load Balancer",
    )
    assert answer.answer == "The notes don't say that about Basic."
    assert answer.confidence == 0.0 and answer.facts == ()


def test_item_answer_keeps_a_sentence_naming_the_item_as_the_user_did() -> None:
    """ "the premium one" found the feature "Premium messaging units (MU)"; the engine's
    sentence about "Premium" is about what the user asked."""
    sentence = "Premium message size: up to 100 MB, Standard 256 KB."
    answer = item_answer(
        _answer(sentence, ["| Max message size | 256 KB | 100 MB |", "Standard: 256 KB"]),
        "What's the max message size on the Premium messaging units (MU) of Azure Service Bus?",
        Ref("Premium messaging units (MU)", "mu", "item"),
        (Term("Standard", "std"), Term("Premium messaging units (MU)", "mu")),
        named_as="the Premium messaging units (MU) of Azure Service Bus",
        said="premium",
    )
    assert answer.answer == sentence


def test_item_answer_reads_where_the_list_was_found_and_not_a_denial() -> None:
    """ "no push" does not describe push subscriptions; the list item's own line does."""
    listed = Hit("s", "2. Push - PubSub sends an HTTPS POST to your endpoint", "n", None, 5, 60, 0)
    answer = item_answer(
        _answer("subscriptions are pull only, no push.", ["subscriptions are pull only, no push."]),
        "What does the Push subscription of Pub/Sub require from the endpoint?",
        Ref("Push", "push", "item"),
        (Term("Pull", "pull"), Term("Push", "push")),
        elsewhere=[listed],
        named_as="the Push subscription of Pub/Sub",
    )
    assert answer.answer == "Push - PubSub sends an HTTPS POST to your endpoint"
    assert answer.passages[0] == listed


def test_a_counted_kind_is_no_kind() -> None:
    """ "SUBSCRIPTIONS 4 types" gave the items the kind "4 types": the list is still the one
    asked for, and an item is called by the list's noun ("the Push subscription")."""
    catalog = Catalog(
        [
            Entry("s", "service", "Pub/Sub", {"PubSub"}),
            Entry("pull", "feature", "Pull", owners={"s"}, feature_kind="4 types"),
            Entry("push", "feature", "Push", owners={"s"}, feature_kind="4 types"),
        ],
        vocabulary="pull push subscriptions subscription pub sub types".split(),
    )
    question = "What types of Pub/Sub subscriptions are there?"
    has = Term("has", vocab.CKG + "hasFeature")
    facts = tuple(
        Fact(Term("Pub/Sub", "s"), has, Term(label, iri), None)
        for label, iri in (("Pull", "pull"), ("Push", "push"))
    )
    answer = Answer(question, "Pub/Sub has Pull and Push.", "graph", 0.9, facts)
    context = Context.after(None, question, question, analyse(question, catalog), answer, catalog)
    assert [t.label for t in context.items] == ["Pull", "Push"]
    assert kind_words("4 types") is None and kind_words("queue type") == "queue type"
    item = next(r for r in RULES if r.name == "item")
    follow = "What does the push one require from the endpoint?"
    rewrite = item.apply(Followup(follow, analyse(follow, catalog), context, catalog))
    assert rewrite is not None
    assert rewrite.text == "What does the Push subscription of Pub/Sub require from the endpoint?"


def test_passage_answer_takes_the_sentence_under_the_heading() -> None:
    text = "  • Weighted Routing Policy\n\nAllows you split your traffic based on weights."
    answer = passage_answer(
        _answer("Weighted Routing Policy", [text]),
        "How does the Weighted Routing Policy work?",
        Ref("Weighted Routing Policy", None, "item"),
    )
    assert answer.answer == "Allows you split your traffic based on weights."
    assert answer.analysis["cited"] == answer.answer


def test_out_of_scope_drops_what_the_engine_found() -> None:
    answer = out_of_scope(_answer("Oracle is an RDS engine.", ["x"]), "Oracle Cloud")
    assert (answer.route, answer.answer, answer.facts) == ("none", "", ())
    assert answer.analysis["outside"] == "Oracle Cloud"


@pytest.mark.parametrize(
    ("text", "word", "name"),
    [
        ("And what does IBM Cloud Secrets Manager charge?", "IBM", "IBM Cloud Secrets Manager"),
        ("What about Alibaba Cloud's NAT Gateway?", "Alibaba", "Alibaba Cloud's NAT Gateway"),
        (
            "How many partitions can an Azure Data Explorer table have?",
            "Explorer",
            "Azure Data Explorer",
        ),
    ],
)
def test_name_around_takes_the_whole_name(text: str, word: str, name: str) -> None:
    assert name_around(text, text.index(word)) == name


def test_a_list_of_another_kind_is_not_the_list_asked_for() -> None:
    """Asked for protection plans, answered with formats: "which of them" must not pick among
    formats; the subject's features of the kind asked are the list."""
    catalog = Catalog(
        [
            Entry("s", "service", "Amazon GuardDuty", {"GuardDuty"}),
            Entry("f1", "feature", "TXT", owners={"s"}, feature_kind="format"),
            Entry("f2", "feature", "STIX", owners={"s"}, feature_kind="format"),
            Entry("p1", "feature", "S3 Protection", owners={"s"}, feature_kind="protection plan"),
            Entry("p2", "feature", "RDS Protection", owners={"s"}, feature_kind="protection plan"),
        ]
    )
    question = "What protection plans does GuardDuty offer?"
    has = Term("has", vocab.CKG + "hasFeature")
    facts = tuple(
        Fact(Term("Amazon GuardDuty", "s"), has, Term(label, iri), None)
        for label, iri in (("TXT", "f1"), ("STIX", "f2"))
    )
    answer = Answer(
        question, "Amazon GuardDuty has these formats: TXT and STIX.", "graph", 0.9, facts
    )
    context = Context.after(None, question, question, analyse(question, catalog), answer, catalog)
    assert context.subject == Ref("Amazon GuardDuty", "s", "service")
    assert sorted(t.label for t in context.items) == ["RDS Protection", "S3 Protection"]


@pytest.mark.parametrize(
    ("question", "name"),
    [
        ("And how is AWS IoT Core messaging priced?", "AWS IoT Core"),
        ("How many partitions can an Azure Data Explorer table have?", "Azure Data Explorer"),
        ("How is AWS Lambda charged?", None),
        ("What is Azure Private Link?", None),
    ],
)
def test_a_reference_service_no_passage_is_about_is_not_covered(
    question: str, name: str | None
) -> None:
    """The graph holds Azure Data Explorer (from the catalog of services) and a feature named
    "AWS", and no passage is about either reference service: the question is out of scope,
    though the graph links a name in it. A service some passage is about is covered, and so
    is one the notes write by name (without its cloud's word)."""
    catalog = Catalog(
        [
            Entry("adx", "service", "Azure Data Explorer"),
            Entry("lambda", "service", "AWS Lambda", {"Lambda"}),
            Entry("aws", "feature", "AWS", owners={"lambda"}),
            Entry("partitions", "feature", "partitions", owners={"adx"}),
        ]
    )
    reference = Matcher()
    for label, iri in (
        ("AWS IoT Core", "iot"),
        ("Azure Data Explorer", "adx"),
        ("AWS Lambda", "lambda"),
        ("Azure Private Link", "link"),
    ):
        reference.add(label, iri)
    text = "private endpoint (private link): a nic with a private ip from your subnet"
    covered = Coverage(frozenset({"lambda", "aws", "partitions"}), reference, text)
    analysis = analyse(question, catalog)
    assert uncovered_name(question, analysis, catalog) is None  # the graph alone links them
    assert uncovered_name(question, analysis, catalog, covered) == name


def _first_rule(catalog: Catalog, before: str, follow_up: str) -> tuple[str, str]:
    """The rule that reads ``follow_up`` after ``before`` (answered with nothing), and how."""
    answer = Answer(before, "", "search", 0.5)
    context = Context.after(None, before, before, analyse(before, catalog), answer, catalog)
    followup = Followup(follow_up, analyse(follow_up, catalog), context, catalog)
    for rule in RULES:
        rewrite = rule.apply(followup)
        if rewrite is not None:
            return rule.name, rewrite.text
    return "asked", follow_up


@pytest.mark.parametrize(
    ("before", "follow_up", "read_as"),
    [
        (
            "What SLA does a single Azure VM on Premium SSD get?",
            "And on Standard HDD?",
            "What SLA does a single Azure VM on Standard HDD get?",
        ),
        (
            "What memory sizes can I use with a 1 vCPU Fargate task?",
            "And with 4 vCPU?",
            "What memory sizes can I use with 4 vCPU Fargate task?",
        ),
    ],
)
def test_a_phrase_replaces_the_phrase_of_the_same_preposition(
    before: str, follow_up: str, read_as: str
) -> None:
    """ "And on Standard HDD?" names features, but it is the previous question's "on ..."
    phrase that changes (not one name for another: "Premium HDD"); the words of the old phrase
    after the last one the new phrase repeats stay ("Fargate")."""
    catalog = Catalog(
        [
            Entry("vm", "service", "Azure Virtual Machines", {"Azure VM"}),
            Entry("ssd", "feature", "SSD", owners={"vm"}),
            Entry("hdd", "feature", "HDD", owners={"vm"}),
            Entry("std", "feature", "Standard", owners={"vm"}),
            Entry("fargate", "service", "AWS Fargate", {"Fargate"}),
        ]
    )
    assert _first_rule(catalog, before, follow_up) == ("phrase", read_as)


@pytest.mark.parametrize(
    ("follow_up", "rule", "read_as"),
    [
        (
            "And Archive?",
            "swap",
            "What's the minimum storage duration of Archive in Cloud Storage?",
        ),
        (
            "What about the Archive?",
            "swap",
            "What's the minimum storage duration of Archive in Cloud Storage?",
        ),
        ("And archive?", "carry", "What is archive for Coldline Storage?"),
    ],
)
def test_a_name_the_graph_does_not_link_takes_the_place_of_the_feature(
    follow_up: str, rule: str, read_as: str
) -> None:
    """ "And Archive?" after a question about the Coldline class: Archive, which the graph
    does not link, takes Coldline's place as a linked name would; a word in lower case is no
    name, and is carried as before."""
    catalog = Catalog(
        [
            Entry("gcs", "service", "Cloud Storage"),
            Entry("cold", "feature", "Coldline Storage", {"Coldline"}, owners={"gcs"}),
        ]
    )
    before = "What's the minimum storage duration of Coldline in Cloud Storage?"
    assert _first_rule(catalog, before, follow_up) == (rule, read_as)


def test_a_swapped_name_stays_in_the_service_of_the_part_it_replaces() -> None:
    """ "And Archive?" after the Coldline class of Cloud Storage asks for Cloud Storage's
    Archive, though the graph links "Archive" to another service's part (EFS Archive): the
    rewrite keeps naming Cloud Storage."""
    entries = [
        Entry("gcs", "service", "Cloud Storage"),
        Entry("cold", "feature", "Coldline Storage", {"Coldline"}, owners={"gcs"}),
        Entry("efs", "service", "Amazon EFS", {"EFS"}),
        Entry("efs-archive", "feature", "Archive", owners={"efs"}),
    ]
    before = "What's the Coldline's minimum storage duration?"
    _, read_as = _first_rule(Catalog(entries), before, "And Archive?")
    assert read_as == "What's the Cloud Storage Archive's minimum storage duration?"
    # ... and so does a name the graph does not link, in place of the part last asked about
    catalog = Catalog(entries[:3])
    answer = Answer(before, "", "search", 0.5)
    focus = Ref("Coldline Storage", "cold", "feature")
    context = Context.after(
        None, before, before, analyse(before, catalog), answer, catalog, focus=focus
    )
    rewrite = _swap_name(
        Followup("And Archive?", analyse("And Archive?", catalog), context, catalog)
    )
    assert rewrite is not None
    assert rewrite.text == "What's the Cloud Storage Archive's minimum storage duration?"


@pytest.mark.parametrize("follow_up", ["the first one", "the second"])
def test_a_position_counts_only_in_a_list_the_answer_gave(follow_up: str) -> None:
    """ "For the first one" after an answer that listed nothing: not a feature picked by its
    place in the graph, but the subject the items would belong to."""
    catalog = Catalog(
        [
            Entry("ecs", "service", "Amazon ECS", {"ECS"}),
            Entry("bg", "feature", "Blue/green", owners={"ecs"}),
            Entry("rolling", "feature", "Rolling update", owners={"ecs"}),
        ]
    )
    question = f"What are the default minimumHealthyPercent and maximumPercent for {follow_up}?"
    assert _first_rule(catalog, "What deployment types does ECS support?", question) == (
        "item",
        "What are the default minimumHealthyPercent and maximumPercent for Amazon ECS?",
    )


def test_find_item_by_word_typo_and_position() -> None:
    items = [Term("Simple Routing Policy"), Term("Letancy Routing Policy"), Term("Cold HDD")]
    assert find_item("latency", items) == items[1]
    assert find_item("second", items) == items[1]
    assert find_item("last", items) == items[2]
    assert find_item("cold", items) == items[2]
    assert find_item("weighted", items) is None
    assert find_item("latency-based", items) == items[1]
    assert find_item("routing", items) is None  # two routing policies: not said which


def test_how_many_of_them_counts_the_intersection(engine: AnswerEngine) -> None:
    reply = Conversation(engine).reply([RDS, "How many of them support read replicas?"])
    assert reply.answer.answer.startswith("4 of them support read replicas: MySQL, PostgreSQL")
    assert reply.resolution is not None and reply.resolution.carried["count"] is True
    assert len(reply.resolution.carried["intersection"]) == 4


def test_follow_up_chain_answers_each_turn(engine: AnswerEngine) -> None:
    conversation = Conversation(engine)
    reply = conversation.reply([SQS_MAX, "And the default one?"])
    assert "4 days by default" in reply.markdown
    assert reply.citations and reply.citations[0].quote.startswith("Messages can be kept")


def test_a_follow_up_resolves_only_its_own_turn(
    engine: AnswerEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The earlier turns were resolved and answered by the requests before: a follow-up
    takes them from the per-build cache (as /ask would answer one question), with the same
    result as resolving the whole conversation afresh."""
    turns = [
        "What types of SQS queues are there?",
        "Which one is the default?",
        "How does it scale?",
    ]
    fresh = Conversation(engine).resolve(turns).text
    resolved: list[str] = []
    original = Conversation._resolve

    def counting(self: Conversation, question: str, context: Any) -> Any:
        resolved.append(question)
        return original(self, question, context)

    monkeypatch.setattr(Conversation, "_resolve", counting)
    for n in range(1, len(turns) + 1):
        resolved.clear()
        reply = Conversation(engine).reply(turns[:n])
        assert resolved == [turns[n - 1]]
    assert reply.turn.text == fresh


@pytest.mark.parametrize(
    "turns",
    [
        ["What is AWS Lambda?", "How is it charged?"],
        ["What is the maximum message retention period for SQS?", "And the default one?"],
        ["Which database engines does RDS support?", "Which of them support read replicas?"],
    ],
)
def test_a_rewrite_is_analysed_once_by_the_engine(corpus_graph: Built, turns: list[str]) -> None:
    """The chat reads a rewrite's analysis from the engine's answer instead of analysing it
    again: the same entities (with kinds and places), intent, bound, dimension, relation."""
    runtime = Runtime(corpus_graph.settings)  # a build of its own: a cache of its own
    engine = runtime.engine()
    reply = Conversation(engine).reply(turns)
    text = reply.turn.text
    assert text != turns[-1]
    assert answer_cache(engine).known(text) is None
    ours, theirs = reply.turn.analysis, analyse(text, engine.catalog)

    def seen(a: Any) -> Any:
        places = sorted((e.iri, e.kind, e.start, e.end) for e in a.entities)
        return places, a.unknown, a.intent, a.bound, a.dimension, a.relation, a.head

    assert seen(ours) == seen(theirs)
    runtime.close()


def test_reply_needs_a_question(engine: AnswerEngine) -> None:
    with pytest.raises(ValueError, match="no question"):
        Conversation(engine).reply(["", "  "])


@pytest.mark.model
def test_follow_ups_with_the_real_model(real_build: Built) -> None:
    runtime = Runtime(real_build.settings)
    try:
        conversation = Conversation(runtime.engine())
        default = conversation.reply([SQS_MAX, "And the default one?"])
        assert "4 days by default" in default.markdown
        engines = conversation.reply([RDS, "Which of them support read replicas?"])
        assert "MariaDB" in engines.answer.answer and "Oracle" not in engines.answer.answer
        charged = conversation.reply(["What is AWS Lambda?", "How is it charged?"])
        assert "requests" in charged.answer.answer and "duration" in charged.answer.answer
        france = conversation.reply([SQS_MAX, "What is the capital of France?"])
        assert france.answer.route == "none"
        assert france.markdown.startswith("The notes don't cover France.")
    finally:
        runtime.close()


def test_a_reply_is_encoded_once(corpus_graph: Built, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reply is JSON already: FastAPI's jsonable_encoder does not walk it again (it cost
    about 0.6 ms a reply, against the 1.2x of /ask a follow-up may take)."""
    import fastapi.routing
    from fastapi.testclient import TestClient

    def walked(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("jsonable_encoder walked the reply")

    monkeypatch.setattr(fastapi.routing, "jsonable_encoder", walked)
    settings = corpus_graph.settings
    with TestClient(create_app(settings, runtime=Runtime(settings))) as c:
        messages = [{"role": "user", "content": "How large can an SQS message be?"}]
        r = c.post("/v1/chat/completions", json={"model": "cloudkg", "messages": messages})
    assert r.status_code == 200
    assert r.json()["cloudkg"]["resolution"]["rule"] == "asked"


# ---- a backend failing mid-answer ---------------------------------------------------------------


@pytest.fixture
def failing(corpus_graph: Built, monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAI]:
    """An app whose graph store fails while answering."""
    from kg.graph.base import GraphStoreError

    runtime = Runtime(corpus_graph.settings)

    def down(*args: Any, **kwargs: Any) -> Any:
        raise GraphStoreError("connection refused")

    monkeypatch.setattr(runtime.engine(), "ask", down)
    with (
        serving(create_app(corpus_graph.settings, runtime=runtime)) as url,
        OpenAI(base_url=f"{url}/v1", api_key="x", max_retries=0) as c,
    ):
        yield c


def test_backend_failure_is_a_503_not_a_500(failing: OpenAI) -> None:
    messages: Any = [{"role": "user", "content": "How large can an SQS message be?"}]
    with pytest.raises(openai.InternalServerError) as caught:
        failing.chat.completions.create(model="cloudkg", messages=messages)
    assert caught.value.status_code == 503
    assert isinstance(caught.value.body, dict) and caught.value.body["code"] == "not_ready"
    assert caught.value.response.headers.get("retry-after")
    with pytest.raises(openai.APIError, match="graph"):
        list(failing.chat.completions.create(model="cloudkg", messages=messages, stream=True))


def test_what_a_conversation_needs_of_a_build_is_computed_once_per_build() -> None:
    from kg.chat.builds import per_build

    calls: list[object] = []

    @per_build
    def services(engine: Any) -> list[str]:
        calls.append(engine)
        return []  # an empty result is kept too

    class Build:
        pass

    first, second = Build(), Build()
    assert services(first) is services(first)
    services(second)
    assert calls == [first, second]


# ---- the previous answer's list, limit and subject, read as a person means them ---------------

_QUEUES = (
    "Types of queues:\n\n"
    "  • Standard (default): nearly-unlimited transactions per second. Guarantee that a message"
    " is delivered at least once.\n"
    "  • FIFO (first-in-first-out): delivery and exactly-once processing.\n"
)
_GUARDDUTY = (
    "**S3 Protection** — CloudTrail S3 data events\n"
    "- **Malware Protection for EC2** — agentless: scans EBS volume snapshots, triggered by a"
    " finding\n"
    "- **RDS Protection** — login activity anomalies on Aurora\n\n"
    "Pricing: **30-day free trial** per region."
)


@pytest.mark.parametrize(
    ("question", "text", "line", "details", "items"),
    [
        (
            "What types of SQS queues are there?",
            _QUEUES,
            "FIFO (first-in-first-out): delivery and exactly-once processing.",
            ["delivery", "exactly-once processing"],
            ["Standard", "FIFO"],
        ),
        (
            "What optional protection plans does SQS offer?",
            _GUARDDUTY,
            "**Malware Protection for EC2** — agentless: scans EBS volume snapshots",
            ["scans EBS volume snapshots", "triggered by a finding"],
            ["S3 Protection", "Malware Protection for EC2", "RDS Protection"],
        ),
    ],
)
def test_a_list_read_from_one_bullet_is_the_bullets_beside_it(
    question: str, text: str, line: str, details: list[str], items: list[str]
) -> None:
    """The answer listed what one bullet says of its own item ("FIFO (...): delivery and
    exactly-once processing"): the list asked for is the names that bullet and the ones
    beside it lead with; a name is the subject's own, not another service's of that name."""
    catalog = Catalog(
        [
            Entry("sqs", "service", "Amazon SQS", {"SQS"}),
            Entry("s3", "service", "Amazon S3", {"S3"}),
            Entry("s3std", "feature", "Standard", owners={"s3"}, feature_kind="storage class"),
            Entry("std", "feature", "Standard", owners={"sqs"}, feature_kind="queue type"),
        ]
    )
    source = Source("d", None, 0, len(line), line)
    has = Term("has", vocab.CKG + "hasFeature")
    facts = tuple(Fact(Term("Amazon SQS", "sqs"), has, Term(d, f"x/{d}"), source) for d in details)
    hit = Hit("h", text, "d", None, 0, len(text), 1.0)
    answer = Answer(question, f"Amazon SQS has {details[0]}.", "graph", 0.9, facts, (hit,))
    context = Context.after(None, question, question, analyse(question, catalog), answer, catalog)
    assert [t.label for t in context.items] == items
    assert {t.label: t.iri for t in context.items}.get("Standard", "std") == "std"


def test_a_list_read_from_several_lines_stays_the_list() -> None:
    question = "What types of SQS queues are there?"
    catalog = Catalog([Entry("sqs", "service", "Amazon SQS", {"SQS"})])
    has = Term("has", vocab.CKG + "hasFeature")
    facts = tuple(
        Fact(Term("Amazon SQS", "sqs"), has, Term(n, n), Source("d", None, i, i + 1, line))
        for i, (n, line) in enumerate(
            (("Standard", _QUEUES.splitlines()[2]), ("FIFO", _QUEUES.splitlines()[3]))
        )
    )
    hit = Hit("h", _QUEUES, "d", None, 0, len(_QUEUES), 1.0)
    answer = Answer(question, "Amazon SQS has Standard and FIFO.", "graph", 0.9, facts, (hit,))
    context = Context.after(None, question, question, analyse(question, catalog), answer, catalog)
    assert [t.iri for t in context.items] == ["Standard", "FIFO"]


_PLANS_CATALOG = Catalog(
    [
        Entry("fn", "service", "Azure Functions"),
        Entry("cons", "feature", "Consumption", owners={"fn"}, feature_kind="plan"),
        Entry("prem", "feature", "Premium plan", owners={"fn"}, feature_kind="plan"),
    ]
)


def _after_limit(question: str, subject: Term, bound: str) -> Context:
    quantity = Term(f"timeout ({bound})", vocab.CKG + f"{bound}Value")
    fact = Fact(subject, quantity, Term("5 min"), None)
    answer = Answer(question, f"{subject.label} timeout: 5 min.", "graph", 0.9, (fact,))
    analysis = analyse(question, _PLANS_CATALOG)
    return Context.after(None, question, question, analysis, answer, _PLANS_CATALOG)


def _read(context: Context, follow_up: str) -> tuple[str, str]:
    followup = Followup(follow_up, analyse(follow_up, _PLANS_CATALOG), context, _PLANS_CATALOG)
    for rule in RULES:
        rewrite = rule.apply(followup)
        if rewrite is not None:
            return rule.name, rewrite.text
    return "asked", follow_up


def test_a_bound_names_the_limit_of_a_feature_with_its_service() -> None:
    """ "And the maximum?" after the default timeout of the Consumption plan: the maximum
    timeout of that plan of Azure Functions, not of "Consumption" alone; then "What about on
    the Premium plan?" puts the Premium plan in the Consumption plan's place."""
    first = "What's the default function timeout on the Azure Functions Consumption plan?"
    context = _after_limit(first, Term("Consumption", "cons"), "default")
    rule, text = _read(context, "And the maximum?")
    assert (rule, text) == (
        "bound",
        "What is the maximum timeout of the Consumption plan of Azure Functions?",
    )
    second = _after_limit(text, Term("Consumption", "cons"), "max")
    assert _read(second, "What about on the Premium plan?") == (
        "swap",
        "What is the maximum timeout of the Premium plan of Azure Functions?",
    )


@pytest.mark.parametrize(
    ("before", "follow_up", "read_as"),
    [
        (
            "How is AWS Lambda charged?",
            "How much per GB-second?",
            "How much does AWS Lambda cost per GB-second?",
        ),
        (
            "How is AWS Lambda charged?",
            "And what about storage?",
            "What is storage for AWS Lambda?",
        ),
    ],
)
def test_a_word_another_service_has_as_a_feature_is_not_a_name_of_its_own(
    before: str, follow_up: str, read_as: str
) -> None:
    """ "GB" and "storage" are features of other services in some notes: written as a unit or
    a common word, they do not make the follow-up about those services."""
    catalog = Catalog(
        [
            Entry("lambda", "service", "AWS Lambda", {"Lambda"}),
            Entry("build", "service", "Cloud Build"),
            Entry("gb", "feature", "GB", owners={"build"}),
            Entry("storage", "feature", "Storage", owners={"build"}),
            Entry("pools", "feature", "Private Pools", owners={"build"}),
        ]
    )
    assert _first_rule(catalog, before, follow_up) == ("carry", read_as)
    # the same feature written as a name is the turn's own
    assert _first_rule(catalog, before, "And Private Pools?")[0] == "swap"


@pytest.mark.parametrize(
    ("lines", "kind"),
    [
        ("- Engines: MySQL, PostgreSQL, MariaDB\n- Storage: gp2, io1\n", None),
        ("- Basics: MySQL, PostgreSQL, MariaDB\n- Storage: gp2, io1\n", "database engine"),
    ],
)
def test_a_bullet_that_lists_what_was_asked_is_the_list(lines: str, kind: str | None) -> None:
    """A bullet whose lead names what the list asks for ("Engines: ..."), or whose items are
    of the kind asked, is the list itself, not one item's details."""
    question = "Which database engines does RDS support?"
    catalog = Catalog(
        [
            Entry("rds", "service", "Amazon RDS", {"RDS"}),
            *(
                Entry(n, "feature", n, owners={"rds"}, feature_kind=kind)
                for n in ("MySQL", "PostgreSQL", "MariaDB")
            ),
        ]
    )
    line = lines.splitlines()[0][2:]
    source = Source("d", None, 0, len(line), line)
    supports = Term("supports", vocab.CKG + "supports")
    facts = tuple(
        Fact(Term("Amazon RDS", "rds"), supports, Term(n, n), source)
        for n in ("MySQL", "PostgreSQL", "MariaDB")
    )
    hit = Hit("h", lines, "d", None, 0, len(lines), 1.0)
    answer = Answer(question, "Amazon RDS supports MySQL.", "graph", 0.9, facts, (hit,))
    context = Context.after(None, question, question, analyse(question, catalog), answer, catalog)
    assert [t.label for t in context.items] == ["MySQL", "PostgreSQL", "MariaDB"]


def test_restricted_reads_the_note_in_brackets_after_an_item_of_a_list() -> None:
    """ "Which of the policies is the default?": the sentence lists them all, and the note in
    brackets after one of them says it is the default."""
    items = [Term("Delete"), Term("Retain"), Term("Snapshot"), Term("RetainExceptOnCreate")]
    line = "DeletionPolicy: Delete (default for most), Retain, Snapshot, RetainExceptOnCreate."
    answer, kept = restricted(
        _answer("CloudFormation notes.", ["CloudFormation notes."]),
        items,
        verb="is the default",
        evidence=[line],
    )
    assert kept == [items[0]]
    assert answer.answer == "Of those, Delete is the default."
    _, kept = restricted(_answer("x", ["x"]), items, verb="is retained", evidence=[line])
    assert kept == []


def test_which_of_the_noun_restricts_the_list_the_noun_names() -> None:
    """ "Which of the policies is the default?" after a list of policies and then a list of
    resources: the policies, read and cited where they were listed; "which of them" is still
    the last list."""
    from kg.chat.resolve import _citing

    catalog = Catalog(
        [
            Entry("cfn", "service", "AWS CloudFormation", {"CloudFormation"}),
            Entry("ebs", "service", "Amazon EBS", {"EBS"}),
            Entry("rds", "service", "Amazon RDS", {"RDS"}),
        ]
    )
    has = Term("has", vocab.CKG + "hasFeature")
    line = "DeletionPolicy: Delete (default for most), Retain, Snapshot."
    source = Source("d", None, 0, len(line), line)
    policies = [Term("Delete", "delete"), Term("Retain", "retain"), Term("Snapshot", "snap")]
    cfn = Term("AWS CloudFormation", "cfn")
    first = "What DeletionPolicy options does CloudFormation support?"
    facts = tuple(Fact(cfn, has, t, source) for t in policies)
    hit = Hit("h", line, "d", None, 0, len(line), 1.0)
    answer = Answer(first, "Delete, Retain and Snapshot.", "graph", 0.9, facts, (hit,))
    context = Context.after(None, first, first, analyse(first, catalog), answer, catalog)
    second = "Which resources support the Snapshot of AWS CloudFormation?"
    supports = Term("supports", vocab.CKG + "supports")
    resources = [Term("Amazon EBS", "ebs"), Term("Amazon RDS", "rds")]
    facts = tuple(Fact(Term("Snapshot", "snap"), supports, t, None) for t in resources)
    answer = Answer(second, "EBS and RDS.", "graph", 0.9, facts)
    context = Context.after(context, second, second, analyse(second, catalog), answer, catalog)

    def restrict(question: str) -> Any:
        followup = Followup(question, analyse(question, catalog), context, catalog)
        return next(r.apply(followup) for r in RULES if r.name == "restrict")

    rewrite = restrict("And which of the policies is the default?")
    assert rewrite.restrict_to == tuple(policies)
    assert rewrite.found[0].text == line
    assert restrict("Which of them is the default?").restrict_to == tuple(resources)
    unrelated = "CloudFormation is regional."
    restricted_answer, kept = restricted(
        _answer(unrelated, [unrelated]),
        rewrite.restrict_to,
        verb=rewrite.verb,
        evidence=rewrite.evidence,
    )
    assert kept == [policies[0]]
    cited = _citing(restricted_answer, rewrite.found)
    assert cited.passages[0] == rewrite.found[0]
    assert citations(cited)[0].quote == line
