"""POST /ask and GET /ask: questions answered from the graph, search, or not at all."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from api.deps import EngineDep, RuntimeDep, SettingsDep, run_engine
from api.schemas import AskRequest, AskResponse, ErrorResponse, answer_out

router = APIRouter(tags=["question answering"])

_ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorResponse, "description": "empty question"},
    413: {"model": ErrorResponse, "description": "question too long"},
    503: {"model": ErrorResponse, "description": "a backend is not ready or down (`backend`)"},
}


def check_text(text: str, limit: int, what: str = "question") -> str:
    """Reject empty input and input over ``limit`` characters (``max_question_chars``) with a
    clear message (400 / 413)."""
    if not text or not text.strip():
        raise HTTPException(status_code=400, detail={"error": f"the {what} is empty"})
    if len(text) > limit:
        raise HTTPException(
            status_code=413,
            detail={
                "error": f"the {what} is too long",
                "detail": f"{len(text)} characters; the limit is {limit}",
            },
        )
    return text


@router.post("/ask", response_model=AskResponse, responses=_ERRORS)
async def ask_post(
    body: AskRequest, runtime: RuntimeDep, engine: EngineDep, settings: SettingsDep
) -> AskResponse:
    """Answer a question; `route` says where the answer came from ("none": not covered)."""
    question = check_text(body.question, settings.max_question_chars)
    answer = await run_engine(runtime, engine.ask, question, body.k)
    return answer_out(answer)


@router.get("/ask", response_model=AskResponse, responses=_ERRORS)
async def ask_get(
    runtime: RuntimeDep,
    engine: EngineDep,
    settings: SettingsDep,
    q: Annotated[str, Query(description="The question.")],
    k: Annotated[int, Query(ge=1, le=50, description="Passages returned as context.")] = 5,
) -> AskResponse:
    """The same as POST /ask, for links and quick tests."""
    question = check_text(q, settings.max_question_chars)
    answer = await run_engine(runtime, engine.ask, question, k)
    return answer_out(answer)
