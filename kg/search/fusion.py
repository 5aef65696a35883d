"""Dense + BM25 rankings (+ an entity boost) -> one ranking that keeps every component score.

Two methods, compared on the dev questions in docs/search.md:

- ``"rrf"``: reciprocal rank fusion, ``sum 1 / (RRF_K + rank)`` over the lists that hold the
  passage (Cormack et al., 2009). Scale-free: only ranks count.
- ``"score"``: the cosine min-max normalised over the candidates and BM25 divided by the best
  candidate's, mixed ``DENSE_WEIGHT : 1 - DENSE_WEIGHT``.

The entity boost is in [0, 1] (1: the passage names every entity of the question); a full
boost adds ``ENTITY_SHARE`` of the best fused score either method can give.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

FUSIONS = ("rrf", "score")
DEFAULT_FUSION = "score"
RRF_K = 60
DENSE_WEIGHT = 0.5
ENTITY_SHARE = 0.25


@dataclass(frozen=True, slots=True)
class Fused:
    id: str
    score: float
    scores: dict[str, float] = field(default_factory=dict)


def fuse(
    dense: Sequence[tuple[str, float]],
    bm25: Sequence[tuple[str, float]],
    *,
    method: str = DEFAULT_FUSION,
    boost: Mapping[str, float] | None = None,
    dense_scores: Mapping[str, float] | None = None,
    bm25_scores: Mapping[str, float] | None = None,
) -> list[Fused]:
    """Fuse two rankings (best first) into one, best first.

    ``dense_scores``/``bm25_scores`` supply the component score of candidates missing from
    one ranking, so that every result reports ``dense``, ``bm25``, ``entity`` and ``fused``.
    """
    if method not in FUSIONS:
        raise ValueError(f"unknown fusion {method!r}; choose from {FUSIONS}")
    boost = boost or {}
    cos = {**(dense_scores or {}), **dict(dense)}
    lex = {**(bm25_scores or {}), **dict(bm25)}
    dense_rank = {id_: r for r, (id_, _) in enumerate(dense, start=1)}
    bm25_rank = {id_: r for r, (id_, s) in enumerate(bm25, start=1) if s > 0}
    candidates = list(dict.fromkeys([i for i, _ in dense] + [i for i, _ in bm25]))

    if method == "rrf":
        top = 2 / (RRF_K + 1)
        base = {
            i: sum(1 / (RRF_K + r[i]) for r in (dense_rank, bm25_rank) if i in r)
            for i in candidates
        }
    else:
        top = 1.0
        cos_values = [cos.get(i, 0.0) for i in candidates]
        lo, hi = (min(cos_values), max(cos_values)) if cos_values else (0.0, 0.0)
        best_lex = max((lex.get(i, 0.0) for i in candidates), default=0.0)
        base = {
            i: DENSE_WEIGHT * ((cos.get(i, 0.0) - lo) / (hi - lo) if hi > lo else 1.0)
            + (1 - DENSE_WEIGHT) * (lex.get(i, 0.0) / best_lex if best_lex > 0 else 0.0)
            for i in candidates
        }
    out = []
    for i in candidates:
        entity = float(boost.get(i, 0.0))
        fused = base[i] + ENTITY_SHARE * top * entity
        scores = {
            "dense": float(cos.get(i, 0.0)),
            "bm25": float(lex.get(i, 0.0)),
            "entity": entity,
            "fused": fused,
        }
        out.append(Fused(i, fused, scores))
    out.sort(key=lambda f: (-f.score, -f.scores["dense"], f.id))
    return out
