"""Request and response models of the HTTP API (the /ask contract of DESIGN.md)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

from api.guards import SURROGATE_MESSAGE, lone_surrogate
from kg.model import Answer, Hit


def unicode_text(value: str) -> str:
    """Refuse text that is not Unicode (a lone surrogate from a JSON ``\\ud800`` escape)."""
    if lone_surrogate(value) is not None:
        raise ValueError(SURROGATE_MESSAGE)
    return value


UnicodeText = Annotated[str, AfterValidator(unicode_text)]


class AskRequest(BaseModel):
    question: UnicodeText = Field(..., description="The question, in plain English.")
    k: int = Field(5, ge=1, le=50, description="How many passages to return as context.")


class TermOut(BaseModel):
    iri: str | None = None
    label: str
    value: float | None = None
    unit: str | None = None


class SourceOut(BaseModel):
    document: str
    section: str | None
    start: int
    end: int
    text: str


class FactOut(BaseModel):
    subject: TermOut
    predicate: TermOut
    object: TermOut
    source: SourceOut | None


class PassageOut(BaseModel):
    id: str
    text: str
    document: str
    section: str | None
    start: int
    end: int
    score: float
    scores: dict[str, float]


class AskResponse(BaseModel):
    question: str
    answer: str = Field(
        ..., description="A concise sentence; empty when the notes do not cover it."
    )
    route: str = Field(..., description='"graph", "search", "hybrid" or "none"')
    confidence: float
    facts: list[FactOut]
    passages: list[PassageOut]
    sparql: str | None
    analysis: dict[str, Any] = Field(default_factory=dict, description="How the question was read.")


class SearchResponse(BaseModel):
    query: str
    passages: list[PassageOut]


class ErrorResponse(BaseModel):
    error: str
    detail: Any = None


def passage_out(hit: Hit) -> PassageOut:
    return PassageOut(**asdict(hit))


def answer_out(answer: Answer) -> AskResponse:
    data = asdict(answer)
    data["facts"] = [FactOut(**f) for f in data["facts"]]
    data["passages"] = [PassageOut(**p) for p in data["passages"]]
    return AskResponse(**data)
