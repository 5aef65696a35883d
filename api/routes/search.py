"""GET /search: passages only, ranked by hybrid search with every component score."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import EngineDep, RuntimeDep, SettingsDep, run_engine
from api.routes.ask import _ERRORS, check_text
from api.schemas import SearchResponse, passage_out

router = APIRouter(tags=["search"])


@router.get("/search", response_model=SearchResponse, responses=_ERRORS)
async def search(
    runtime: RuntimeDep,
    engine: EngineDep,
    settings: SettingsDep,
    q: Annotated[str, Query(description="What to look for.")],
    k: Annotated[int, Query(ge=1, le=50, description="How many passages.")] = 5,
) -> SearchResponse:
    """Passages best first, with `scores.dense`, `scores.bm25`, `scores.entity`."""
    query = check_text(q, settings.max_question_chars, "query")
    hits = await run_engine(runtime, engine.search, query, k)
    return SearchResponse(query=query, passages=[passage_out(h) for h in hits])
