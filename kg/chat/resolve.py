"""A conversation -> one explicit question -> a grounded reply with numbered citations.

The chat surface is stateless: every request carries the whole conversation, and only the
user turns count (an assistant turn may or may not carry the previous ``cloudkg`` payload, so
nothing is read from it). ``Conversation(engine).reply(questions)`` takes the user turns,
oldest first, and for each in turn

1. resolves it against the context the turns before it left (``kg.chat.context``): their
   subject, the thing the last turn was about, the items its ANSWER listed and the limit it
   stated. The ordered rules of ``kg.chat.rules`` rewrite a follow-up into an explicit
   question the engine can answer on its own; ``Resolution`` says which rule fired, what was
   carried over and the rewritten question (a turn that stands alone is ``asked``);
2. answers it with ``AnswerEngine.ask``, shaped by what the rule asked (``kg.chat.answers``):
   "which of them ..." keeps only the previous list's items and says so, "how does X work?"
   answers from passages, a cloud or service the notes do not cover is out of scope;
3. renders the last answer as Markdown: the answer with ``[n]`` markers, then "Sources:"
   (``kg.chat.render``).

Earlier turns are answered again to know what they listed, unless the per-build cache
(``answer_cache``) holds them: answers and analyses by question, the context a
conversation's earlier turns leave and each replied turn, by the user turns up to it. The
request before a follow-up replied to its earlier turns, so a follow-up resolves only its own
turn and costs about one answer, like ``/ask``; a rewrite's analysis is read from its answer.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from kg.answer.analysis import Analysis, analyse
from kg.answer.catalog import Catalog, Linked
from kg.answer.engine import AnswerEngine
from kg.chat.answers import (
    CITED,
    continued_answer,
    item_answer,
    out_of_scope,
    passage_answer,
    restricted,
)
from kg.chat.builds import per_build
from kg.chat.context import Context, Ref, named
from kg.chat.phrases import is_passage_question
from kg.chat.render import Citation, render
from kg.chat.rules import RULES, Followup, Rewrite
from kg.chat.scope import coverage, uncovered_name
from kg.model import Answer, Hit, Term
from kg.text.units import Dimension
from kg.text.words import squash

__all__ = ["CACHE_SIZE", "WINDOW", "Conversation", "Ref", "Reply", "Resolution", "Turn"]

WINDOW = 8  # user turns considered; older ones cannot be referred to
# Rules whose rewrite is still about the previous subject (swap brings its own).
_SAME_SUBJECT = frozenset({"restrict", "item", "bound", "phrase", "pronoun", "carry"})
CACHE_SIZE = 512  # answers kept per build


@dataclass(frozen=True)
class Resolution:
    """How a turn was read: the rule, the turn it refers to, what came over, the result."""

    rule: str  # asked | outside | restrict | item | bound | swap | phrase | pronoun | carry
    source: str | None  # the earlier user question it was resolved against
    rewritten: str
    carried: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "rule": self.rule,
            "carried": self.carried,
            "rewritten": self.rewritten,
        }


@dataclass
class Turn:
    """One user turn: as asked, as answered (``text``), and how it was resolved."""

    question: str
    text: str
    analysed: Analysis | None  # a rewrite's is read from its answer (the engine analyses it)
    resolution: Resolution
    rewrite: Rewrite | None = None
    answer: Answer | None = None  # filled when the turn is answered
    kept: list[Term] | None = None  # for "which of them": the items the answer kept

    @property
    def analysis(self) -> Analysis:
        """The analysis of the question answered (``text``); a rewrite has one once answered."""
        assert self.analysed is not None, "a rewritten turn is analysed when it is answered"
        return self.analysed

    @property
    def refs(self) -> list[Ref]:
        return named(self.analysis)


@dataclass(frozen=True)
class Reply:
    """The answer to the last turn, its Markdown and the citations the Markdown numbers."""

    turn: Turn
    answer: Answer
    markdown: str
    citations: tuple[Citation, ...] = ()

    @property
    def resolution(self) -> Resolution:
        return self.turn.resolution


class _Answers:
    """Answers (and analyses) by question, least recently used dropped first (one per
    build). An analysis is never changed once made, so one object can serve every request."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[str, int], Answer] = OrderedDict()
        self._analyses: OrderedDict[str, Analysis] = OrderedDict()
        self._contexts: OrderedDict[tuple[tuple[str, ...], int], Context | None] = OrderedDict()
        self._turns: OrderedDict[tuple[tuple[str, ...], int], Turn] = OrderedDict()

    def turn(self, key: tuple[tuple[str, ...], int]) -> Turn | None:
        """The last of the user turns ``key``, resolved and answered (by the request that
        replied to it)."""
        with self._lock:
            found = self._turns.get(key)
            if found is not None:
                self._turns.move_to_end(key)
            return found

    def put_turn(self, key: tuple[tuple[str, ...], int], turn: Turn) -> None:
        with self._lock:
            self._turns[key] = turn
            self._turns.move_to_end(key)
            while len(self._turns) > self.size:
                self._turns.popitem(last=False)

    def context(self, key: tuple[tuple[str, ...], int]) -> tuple[bool, Context | None]:
        """The context the user turns ``key`` leave (found, context): a follow-up's earlier
        turns were resolved for the request before it."""
        with self._lock:
            if key not in self._contexts:
                return False, None
            self._contexts.move_to_end(key)
            return True, self._contexts[key]

    def put_context(self, key: tuple[tuple[str, ...], int], context: Context | None) -> None:
        with self._lock:
            self._contexts[key] = context
            self._contexts.move_to_end(key)
            while len(self._contexts) > self.size:
                self._contexts.popitem(last=False)

    def known(self, text: str) -> Analysis | None:
        with self._lock:
            return self._analyses.get(text)

    def analysis(self, text: str, catalog: Catalog) -> Analysis:
        with self._lock:
            found = self._analyses.get(text)
            if found is not None:
                self._analyses.move_to_end(text)
                return found
        made = analyse(text, catalog)
        with self._lock:
            self._analyses[text] = made
            while len(self._analyses) > self.size:
                self._analyses.popitem(last=False)
        return made

    def get(self, key: tuple[str, int]) -> Answer | None:
        with self._lock:
            answer = self._items.get(key)
            if answer is not None:
                self._items.move_to_end(key)
            return answer

    def put(self, key: tuple[str, int], answer: Answer) -> None:
        with self._lock:
            self._items[key] = answer
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


@per_build
def answer_cache(engine: AnswerEngine) -> _Answers:
    """The answer cache of one engine (a new build gets a new engine, so a new cache)."""
    return _Answers(CACHE_SIZE)


@dataclass
class Conversation:
    """Resolves and answers the user turns of one conversation over one engine."""

    engine: AnswerEngine
    k: int = 5
    _turns: list[Turn] = field(default_factory=list, repr=False)

    def reply(self, questions: Sequence[str]) -> Reply:
        """Answer the last question, earlier ones (oldest first) as context."""
        turn = self.resolve(questions)
        answer = self.answer(turn)
        # the next request of this conversation takes this turn as it is
        asked = _asked(questions)
        answer_cache(self.engine).put_turn((tuple(asked), self.k), turn)
        markdown, cited = render(answer, self.engine)
        return Reply(turn, answer, markdown, tuple(cited))

    def resolve(self, questions: Sequence[str]) -> Turn:
        """The last question as a ``Turn``, resolved against the turns before it (which are
        answered, to know what they listed)."""
        asked = _asked(questions)
        if not asked:
            raise ValueError("no question to answer")
        context: Context | None = None
        turn: Turn | None = None
        cache = answer_cache(self.engine)
        first = 0
        for n in range(len(asked) - 1, 0, -1):  # the longest earlier conversation resolved
            found, known = cache.context((tuple(asked[:n]), self.k))
            if found:
                context, first = known, n
                break
        for i, question in enumerate(asked):
            if i < first:
                continue
            if i > 0:
                cache.put_context((tuple(asked[:i]), self.k), context)
            last = i == len(asked) - 1
            turn = None if last else cache.turn((tuple(asked[: i + 1]), self.k))
            if turn is None:
                turn = self._resolve(question, context)
            if last:
                break
            answer = self.answer(turn)
            if turn.resolution.rule == "asked" and not turn.refs and context is not None:
                continue  # a turn that names nothing leaves the context as it was
            rewrite = turn.rewrite
            context = Context.after(
                context,
                turn.question,
                turn.text,
                turn.analysis,
                answer,
                self.engine.catalog,
                focus=rewrite.focus if rewrite else None,
                items=turn.kept or None,
                head=context.head if turn.resolution.rule == "restrict" and context else None,
                keep_subject=turn.resolution.rule in _SAME_SUBJECT
                and not (rewrite is not None and rewrite.new_subject),
            )
        assert turn is not None
        return turn

    def answer(self, turn: Turn) -> Answer:
        """The engine's answer to the turn's explicit question, shaped by its rule."""
        if turn.answer is not None:
            return turn.answer
        cache = answer_cache(self.engine)
        key = (turn.text, self.k)
        answer = cache.get(key)
        if answer is None:
            answer = self.engine.ask(turn.text, self.k)
            cache.put(key, answer)
        if turn.analysed is None:
            turn.analysed = analysis_of(turn.text, answer, self.engine.catalog)
        rewrite = turn.rewrite
        # A rewrite puts the turn's words (checked by the rule `outside`) into an earlier
        # question (checked when it was asked): it is checked again only when it carries over
        # a name the graph does not hold ("it" after a question about Alibaba Cloud ...).
        carried = turn.resolution.carried.get("entities") or []
        check = turn.resolution.rule in ("asked", "outside") or any(
            isinstance(e, dict) and e.get("iri") is None for e in carried
        )
        outside = (
            uncovered_name(turn.text, turn.analysis, self.engine.catalog, coverage(self.engine))
            if check
            else None
        )
        if outside is not None:
            answer = out_of_scope(answer, outside)
        elif rewrite is not None and rewrite.restrict_to:
            answer, kept = restricted(
                answer,
                rewrite.restrict_to,
                count=rewrite.count,
                verb=rewrite.verb,
                evidence=rewrite.evidence,
                repeated=rewrite.repeated,
                subject=_subject_label(turn.resolution.carried),
            )
            answer = _citing(answer, rewrite.found)
            turn.resolution.carried["intersection"] = [t.label for t in kept]
            if len(kept) == 1:
                rewrite.focus = Ref.of(kept[0])  # "which one is the default?" -> "it" is that one
            # "of those" next means the kept items; "which one" still the whole list
            turn.kept = kept if len(kept) >= 2 else list(rewrite.restrict_to)
        elif rewrite is not None and turn.resolution.rule == "restrict":
            turn.kept = None
        elif rewrite is not None and is_passage_question(turn.text):
            answer = passage_answer(answer, turn.text, rewrite.focus)
        elif rewrite is not None and turn.resolution.rule == "item" and rewrite.focus is not None:
            answer = item_answer(
                answer,
                turn.text,
                rewrite.focus,
                rewrite.siblings,
                rewrite.elsewhere,
                rewrite.named_as,
                rewrite.said,
            )
        elif rewrite is not None and rewrite.continues is not None:
            answer = continued_answer(
                answer, turn.question, rewrite.continues, _subject_label(turn.resolution.carried)
            )
        turn.answer = answer
        return answer

    def _resolve(self, question: str, context: Context | None) -> Turn:
        catalog = self.engine.catalog
        cache = answer_cache(self.engine)
        analysis = cache.analysis(question, catalog)
        if context is not None:
            followup = Followup(question, analysis, context, catalog, coverage(self.engine))
            for rule in RULES:
                rewrite = rule.apply(followup)
                if rewrite is None:
                    continue
                text = _sentence(rewrite.text)
                # the engine analyses the rewrite as it answers it: read from the answer
                analysed = analysis if text == question else cache.known(text)
                resolution = Resolution(rule.name, context.question, text, rewrite.carried)
                return Turn(question, text, analysed, resolution, rewrite)
        source = context.question if context is not None else None
        carried: dict[str, Any] = {"entities": [], "intent": None}
        return Turn(question, question, analysis, Resolution("asked", source, question, carried))


def analysis_of(text: str, answer: Answer, catalog: Catalog) -> Analysis:
    """The analysis of ``text`` as the engine reported it in ``answer`` (``Analysis.as_dict``),
    with each entity's kind from the catalog and its place in ``text``: what the follow-up
    rules and contexts read (entities, names the notes never use, intent, bound, dimension,
    relation, head), without analysing the question a second time. A scattered name (found
    word by word) has no place."""
    data = answer.analysis
    entities: list[Linked] = []
    listed = data.get("entities")
    for e in listed if isinstance(listed, list) else []:
        entry = catalog.entries.get(str(e.get("iri"))) if isinstance(e, dict) else None
        if entry is None:
            continue
        written = str(e.get("text") or "")
        at = text.find(written) if written else -1
        end = at + len(written) if at >= 0 else -1
        entities.append(Linked(entry.iri, str(e.get("label")), entry.kind, written, at, end, 1.0))
    dimension, unknown = data.get("dimension"), data.get("unknown")
    return Analysis(
        text,
        entities=entities,
        unknown=[str(u) for u in unknown] if isinstance(unknown, list) else [],
        intent=str(data.get("intent") or "general"),
        bound=_str_or_none(data.get("bound")),
        dimension=Dimension(dimension) if isinstance(dimension, str) and dimension else None,
        relation=_str_or_none(data.get("relation")),
        head=_str_or_none(data.get("head")),
        counted=_str_or_none(data.get("counted")),
    )


def _citing(answer: Answer, found: Sequence[Hit]) -> Answer:
    """The answer with the passage that holds the sentence it cites first, when that sentence
    was read where the list was found rather than in the answer's own passages."""
    cited = answer.analysis.get(CITED)
    if not isinstance(cited, str) or not cited:
        return answer
    key = squash(cited)
    if any(key in squash(h.text) for h in answer.passages):
        return answer
    hit = next((h for h in found if key in squash(h.text)), None)
    if hit is None:
        return answer
    return replace(answer, passages=(hit, *answer.passages))


def _str_or_none(value: object) -> str | None:
    return str(value) if value else None


def _subject_label(carried: dict[str, Any]) -> str:
    entities = carried.get("entities") or []
    first = entities[0] if entities and isinstance(entities[0], dict) else {}
    return str(first.get("label") or "")


def _asked(questions: Sequence[str]) -> list[str]:
    """The user turns that count: not empty, squashed, the last ``WINDOW``."""
    return [squash(q) for q in questions if q and q.strip()][-WINDOW:]


def _sentence(text: str) -> str:
    text = squash(text)
    return text[:1].upper() + text[1:] if text else text
