"""Pages for people: the ask page at ``/`` (``/?q=...`` is a shareable answer) and the list of
services at ``/services``. Rendered on the server, so they work without JavaScript, from the
public ``/ask`` payload, the entity card and SPARQL over the graph."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, ParamSpec, TypeVar

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import RuntimeDep, SettingsDep, get_engine, run_engine
from api.graphdata import Equivalent, Service, covered_services, equivalents
from api.routes.sparql import EndpointDep
from api.schemas import answer_out
from api.web import PageError, card_view, render, site_of
from kg.answer.card import entity_card
from kg.answer.engine import AnswerEngine
from kg.serve.runtime import Runtime
from kg.sparql import SparqlEndpoint, SparqlError

P = ParamSpec("P")
T = TypeVar("T")

router = APIRouter(include_in_schema=False)

PASSAGES = 5  # passages shown under an answer
EXAMPLES = (
    "How large can an SQS message be?",
    "How long does SQS keep a message by default?",
    "Which database engines does RDS support?",
    "What is AWS Lambda charged by?",
    "What is the maximum size of an S3 object?",
)


async def page_engine(runtime: Runtime) -> AnswerEngine:
    """``get_engine`` for a page: nothing built or a backend down is an HTML 503, not JSON."""
    try:
        return await get_engine(runtime)
    except HTTPException as exc:
        raise _not_ready(exc) from exc


async def page_call(runtime: Runtime, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``run_engine`` for a page: a backend that fails is an HTML 503, not JSON."""
    try:
        return await run_engine(runtime, call, *args, **kwargs)
    except HTTPException as exc:
        raise _not_ready(exc) from exc


def _not_ready(exc: HTTPException) -> PageError:
    """The 503 of ``api.deps`` (its detail names the backend and why) as a page."""
    detail: dict[str, Any] = exc.detail if isinstance(exc.detail, dict) else {}
    backend, message = str(detail.get("backend", "")), str(detail.get("message", ""))
    what = {"build": "Nothing has been built yet"}.get(backend, f"The {backend} is unavailable")
    return PageError(503, "Not ready", f"{what}: {message}" if message else what)


async def services_or_none(endpoint: SparqlEndpoint) -> list[Service]:
    """The services of the notes; none while the graph cannot be read (the page says why
    elsewhere)."""
    try:
        return await covered_services(endpoint)
    except SparqlError:
        return []


@router.get("/", response_class=HTMLResponse)
async def ask_page(
    request: Request,
    runtime: RuntimeDep,
    settings: SettingsDep,
    endpoint: EndpointDep,
    q: Annotated[str | None, Query(description="The question.")] = None,
) -> HTMLResponse:
    """The ask page; with ``q``, the question answered, cited, and its service's card."""
    site = site_of(request, settings)
    question = (q or "").strip()
    limit = settings.max_question_chars
    context: dict[str, Any] = {
        "question": question,
        "examples": EXAMPLES,
        "max_chars": limit,
        "error": None,
        "answer": None,
        "reason": None,
        "facts": [],
        "passages": [],
        "entity": None,
        "about": None,
        "services": await services_or_none(endpoint),
    }
    if not question:
        return render("ask.html", site, **context)
    if len(question) > limit:
        context["error"] = (
            f"The question is too long: {len(question)} characters; the limit is {limit}."
        )
        return render("ask.html", site, 413, **context)
    engine = await page_engine(runtime)
    answer = answer_out(await page_call(runtime, engine.ask, question, PASSAGES)).model_dump()
    context.update(answer=answer, **_cited(answer))
    analysis = answer.get("analysis") or {}
    context["reason"] = analysis.get("reason") if isinstance(analysis, dict) else None
    subject = _subject(answer)
    if subject is not None:
        card = await page_call(runtime, _service_card, engine, subject)
        if card is not None:
            context["entity"] = card_view(card, await _equivalents(endpoint, card["iri"]))
            if answer["route"] == "none":
                context["about"] = _about(card)
    return render("ask.html", site, **context)


@router.get("/services", response_class=HTMLResponse)
async def services_page(
    request: Request, settings: SettingsDep, endpoint: EndpointDep
) -> HTMLResponse:
    """Every service the notes cover, linked to its page."""
    try:
        services = await covered_services(endpoint)
    except SparqlError as exc:
        raise PageError(exc.status, "The graph cannot be read", exc.message) from exc
    return render("services.html", site_of(request, settings), services=services)


def _cited(answer: dict[str, Any]) -> dict[str, Any]:
    """Facts and passages, each with the spans to mark in its quote: a fact's object ("256
    KB"), and in passages the answer sentence and the facts' objects."""
    facts = []
    objects: list[str] = []
    for fact in answer["facts"]:
        label = str(fact["object"].get("label") or "")
        objects.append(label)
        facts.append({**fact, "marks": [label]})
    sentence = " ".join(str(answer.get("answer") or "").split())
    marks = [sentence, sentence.split(": ", 1)[-1], *objects] if sentence else objects
    passages = [{**p, "marks": marks} for p in answer["passages"]]
    return {"facts": facts, "passages": passages}


def _subject(answer: dict[str, Any]) -> str | None:
    """The entity the question is about: the subject of the first fact, else the first entity
    the question names."""
    for fact in answer["facts"]:
        iri = fact["subject"].get("iri")
        if iri:
            return str(iri)
    analysis = answer.get("analysis")
    entities = analysis.get("entities") if isinstance(analysis, dict) else None
    for entity in entities if isinstance(entities, list) else []:
        if isinstance(entity, dict) and entity.get("iri"):
            return str(entity["iri"])
    return None


def _service_card(engine: AnswerEngine, iri: str) -> dict[str, Any] | None:
    """The card of ``iri``, or of the service it is a feature of."""
    card = entity_card(engine, iri)
    if card.get("kind") != "service" and card.get("feature_of"):
        card = entity_card(engine, card["feature_of"][0]["iri"])
    return card if card.get("label") else None


async def _equivalents(endpoint: SparqlEndpoint, iri: str) -> list[Equivalent]:
    try:
        return await equivalents(endpoint, iri)
    except SparqlError:
        return []


def _about(card: dict[str, Any]) -> dict[str, str] | None:
    """What the notes say about an entity the question names, in a phrase."""
    features = [str(f["label"]) for f in card["features"]][:6]
    limits = list(dict.fromkeys(str(lim["quantity"]) for lim in card["limits"]))[:6]
    parts = []
    if features:
        parts.append(f"its features ({', '.join(features)})")
    if limits:
        parts.append(f"its limits on {', '.join(limits)}")
    if not parts:
        return None
    return {"iri": card["iri"], "label": card["label"], "summary": " and ".join(parts)}
