"""A conversation -> one explicit question -> a grounded reply with numbered citations.

The chat surface is stateless: every request carries the whole conversation, and only the
user turns count (an assistant turn may or may not carry the previous ``cloudkg`` payload, so
nothing is read from it). ``Conversation(engine).reply(questions)`` takes the user turns,
oldest first, and

1. resolves each turn against the previous one that named something, rewriting a follow-up
   into an explicit question the answer engine can answer on its own (``Resolution`` says
   which rule fired, what was carried over and the rewritten question);
2. answers the last turn with ``AnswerEngine.ask``; a "which of them ..." turn keeps only the
   items the previous answer listed;
3. renders Markdown: the answer with ``[n]`` markers, then "Sources:" with one line per
   citation (document › section: "quoted sentence"). When the notes do not cover the question
   the reply says so and names what they do cover, taken from the graph.

Follow-up rules, tried in this order; the first that applies wins:

* ``restrict``: "which/how many/do any of them|those|these ..." -> "Which Amazon RDS database
  engines support read replicas?"; the answer is intersected with the previous list (and
  counted for "how many").
* ``bound``: only a bound, maybe with a pronoun ("And the default one?", "the minimum?",
  "and its default?") -> "What is the default <quantity> of <subject>?" with the quantity and
  subject of the previous answer's limit, else the previous question with its bound words
  swapped.
* ``pronoun``: it, its, they, them, their, those, "that one", "this service", "does that
  cost" -> the previous entity's name ("How is it charged?" -> "How is AWS Lambda
  charged?"). An expletive "it" ("is it possible to ...") is not a pronoun.
* ``swap``: only an entity, maybe after "and"/"what about" ("And for SNS?", "What about FIFO
  queues?") -> the previous question about that entity (a feature of the previous service is
  added next to it rather than replacing it).
* ``carry``: no entity of its own, but a limit, list or pricing question, a bound, an amount,
  or a leading "and"/"what about" ("What is the default retention period?") -> the previous
  entity is added ("... for Amazon SQS?").

A turn naming things the notes never mention stands alone (and is answered as out of scope);
so does a turn with entities of its own and none of the signs above.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from kg.answer.analysis import QUESTION_WORDS, Analysis, analyse
from kg.answer.compose import join_names, plural
from kg.answer.engine import AnswerEngine
from kg.chat.render import LIMIT_PREDICATES, Citation, list_items, render
from kg.model import Answer, Term
from kg.text.words import STOPWORDS, norm_key, squash

__all__ = ["WINDOW", "Conversation", "Ref", "Reply", "Resolution", "Turn"]

WINDOW = 8  # user turns considered; older ones cannot be referred to
CARRIED_KINDS = frozenset({"service", "feature", "topic", "category"})

_BOUND_WORDS = {"default": "default", "max": "maximum", "min": "minimum"}
_BOUND_ADVERBS = {"default": "by default", "max": "at most", "min": "at least"}

# "And", "also", "what about", "and for" ... in front of an elliptical turn.
_LEAD = re.compile(
    r"^\s*(?:(?:and|also|so|but|then|ok|okay)\b[\s,]*)+(?:(?:for|with|in|about)\b\s*)?"
    r"|^\s*(?:what|how)\s+about\b\s*|^\s*same\s+(?:for|with)\b\s*",
    re.I,
)
_RESTRICT = re.compile(
    r"\b(?P<lead>which|what|how\s+many|do\s+any|does\s+any|are\s+any|is\s+any|can\s+any|any)"
    r"\s+of\s+(?:them|those|these|the\s+above)\b"
    r"|^\s*of\s+(?:them|those|these)\s*,?\s*(?P<lead2>which|what|how\s+many)\b"
    r"|\b(?P<lead3>which)\s+ones\b",
    re.I,
)
_EXPLETIVE = re.compile(
    r"\b(?:is|was|isn't|would|will|does|did|do)\s+it\s+(?:\w+\s+){0,2}?(?:to|that|if|whether)\b"
    r"|\bit\s+(?:is|was|seems|depends|takes|makes)\b|\bit['’]s\b",
    re.I,
)
_DEMONSTRATIVE_NP = re.compile(
    r"\b(?:this|that|the\s+same)\s+(?:one|service|feature|thing|option)\b", re.I
)
_POSSESSIVE = re.compile(r"\b(?:its|their)\b", re.I)
_SINGULAR = re.compile(r"\bit\b", re.I)
_PLURAL = re.compile(r"\b(?:they|them)\b|\b(?:those|these)\b(?=\s*(?:[?.!,]|$))", re.I)
_BARE_DEMONSTRATIVE = re.compile(
    r"\b(?:is|are|was|does|do|did|about|for|of|with|on|in|use|using)\s+(?P<d>this|that)\b"
    r"(?=\s*(?:[?.!,]|$)|\s+(?:cost|costs|work|works|support|supports|charged|billed|priced|"
    r"run|runs|scale|scales|store|stores|keep|keeps)\b)",
    re.I,
)
_BOUND_TEXT = re.compile(
    r"\bby\s+default\b|\bdefaults?\b|\bmax(?:imum)?\b|\bmin(?:imum)?\b|\bat\s+(?:most|least)\b|"
    r"\bup\s+to\b|\b(?:largest|biggest|longest|highest|smallest|shortest|lowest|least|most|"
    r"upper|lower)\b",
    re.I,
)
_BOUND_SWAP = re.compile(
    r"\b(?P<adv>by\s+default|at\s+most|at\s+least|up\s+to)\b"
    r"|\b(?P<adj>default|max(?:imum)?|min(?:imum)?|largest|biggest|longest|highest|smallest|"
    r"shortest|lowest)\b",
    re.I,
)
_QUESTION_START = re.compile(
    r"^\s*(?:what|which|who|whom|whose|when|where|why|how|is|are|was|were|do|does|did|can|"
    r"could|will|would|should|shall|may|might|must|has|have|had|tell|list|name|give|show)\b",
    re.I,
)
_FILLER = frozenset(
    "one ones value values setting settings please what's whats s about and also then ok okay "
    "for with".split()
)


# ---- conversation turns -------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """Something a turn names and a later turn can refer to."""

    label: str
    iri: str | None  # None for a name the notes never mention
    kind: str  # service | feature | topic | category | unknown

    def as_dict(self) -> dict[str, Any]:
        return {"iri": self.iri, "label": self.label, "kind": self.kind}


@dataclass(frozen=True)
class Resolution:
    """How a follow-up was read: the rule, the turn it refers to, what came over, the result."""

    rule: str  # restrict | pronoun | swap | bound | carry
    source: str  # the earlier user question it was resolved against
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
    analysis: Analysis
    resolution: Resolution | None = None
    restrict_to: list[Term] | None = None  # the previous list, for "which of them ..."
    answer: Answer | None = None  # filled when the turn is answered

    @property
    def refs(self) -> list[Ref]:
        """What the turn names, the one a singular pronoun means first (services first)."""
        seen: dict[str, Ref] = {}
        linked = sorted(
            (e for e in self.analysis.entities if e.kind in CARRIED_KINDS),
            key=lambda e: (e.kind != "service", e.start if e.start >= 0 else 10**6),
        )
        for e in linked:
            seen.setdefault(e.iri, Ref(e.label, e.iri, e.kind))
        refs = list(seen.values())
        refs += [Ref(name, None, "unknown") for name in self.analysis.unknown]
        return refs


@dataclass(frozen=True)
class Reply:
    """The answer to the last turn, its Markdown and the citations the Markdown numbers."""

    turn: Turn
    answer: Answer
    markdown: str
    citations: tuple[Citation, ...] = ()

    @property
    def resolution(self) -> Resolution | None:
        return self.turn.resolution


@dataclass
class Conversation:
    """Resolves and answers the user turns of one conversation over one engine."""

    engine: AnswerEngine
    k: int = 5
    _cache: dict[str, Answer] = field(default_factory=dict, repr=False)

    def reply(self, questions: Sequence[str]) -> Reply:
        """Answer the last question, earlier ones (oldest first) as context."""
        turn = self.resolve(questions)
        answer = self.answer(turn)
        markdown, cited = render(answer, self.engine)
        return Reply(turn, answer, markdown, tuple(cited))

    def resolve(self, questions: Sequence[str]) -> Turn:
        """The last question as a ``Turn``, resolved against the turns before it."""
        asked = [squash(q) for q in questions if q and q.strip()]
        if not asked:
            raise ValueError("no question to answer")
        previous: Turn | None = None
        turn: Turn | None = None
        for question in asked[-WINDOW:]:
            turn = self._resolve(question, previous)
            if turn.refs:
                previous = turn
        assert turn is not None
        return turn

    def answer(self, turn: Turn) -> Answer:
        """The engine's answer to the turn's explicit question (cached per conversation)."""
        if turn.answer is None:
            answer = self._cache.get(turn.text)
            if answer is None:
                answer = self._cache[turn.text] = self.engine.ask(turn.text, self.k)
            if turn.restrict_to is not None:
                answer = self._restrict(turn, answer)
            turn.answer = answer
        return turn.answer

    # ---- resolution ---------------------------------------------------------------------------

    def _resolve(self, question: str, previous: Turn | None) -> Turn:
        analysis = analyse(question, self.engine.catalog)
        turn = Turn(question, question, analysis)
        if previous is None or analysis.unknown or not previous.refs:
            return turn
        for rule in (self._restrict_rule, self._bound, self._pronoun, self._swap, self._carry):
            resolved = rule(turn, previous)
            if resolved is not None:
                return resolved
        return turn

    def _rewritten(
        self,
        turn: Turn,
        previous: Turn,
        rule: str,
        text: str,
        carried: dict[str, Any],
        restrict_to: list[Term] | None = None,
    ) -> Turn:
        text = _sentence(text)
        resolution = Resolution(rule, previous.question, text, carried)
        analysis = analyse(text, self.engine.catalog)
        return Turn(turn.question, text, analysis, resolution, restrict_to)

    def _restrict_rule(self, turn: Turn, previous: Turn) -> Turn | None:
        """ "Which of them support read replicas?" -> the previous list's subject, restricted."""
        body = _strip_lead(turn.question)
        m = _RESTRICT.search(body)
        if m is None:
            return None
        lead = (m.group("lead") or m.group("lead2") or m.group("lead3") or "which").lower()
        rest = (body[: m.start()] + " " + body[m.end() :]).strip(" ,")
        before = self.answer(previous)
        items = list_items(before)
        subject = _list_subject(before) or previous.refs[0].label
        noun = previous.analysis.head or self._items_noun(items)
        text = " ".join(w for w in ("Which", subject, noun, rest) if w)
        carried = {
            "entities": [r.as_dict() for r in previous.refs[:1]],
            "intent": previous.analysis.intent,
            "relation": previous.analysis.relation,
            "items": [t.label for t in items],
            "count": lead.startswith("how many"),
        }
        return self._rewritten(turn, previous, "restrict", text, carried, items or None)

    def _pronoun(self, turn: Turn, previous: Turn) -> Turn | None:
        """ "How is it charged?" -> "How is AWS Lambda charged?"."""
        spans = _pronoun_spans(turn.question)
        if not spans:
            return None
        refs = previous.refs
        one = refs[0].label
        services = [r.label for r in refs if r.kind == "service"]
        many = join_names(services) if len(services) > 1 else one
        text = turn.question
        for start, end, kind in sorted(spans, reverse=True):
            word = text[start:end].lower()
            if kind == "possessive":
                name = f"{many if word == 'their' else one}'s"
            else:
                name = many if kind == "plural" else one
            text = text[:start] + name + text[end:]
        used = refs[:1] if many == one else [r for r in refs if r.kind == "service"]
        carried = {"entities": [r.as_dict() for r in used], "intent": None}
        return self._rewritten(
            turn, previous, "pronoun", _strip_lead(text, keep_question=True), carried
        )

    def _swap(self, turn: Turn, previous: Turn) -> Turn | None:
        """ "And for SNS?" after a question about SQS -> the same question about SNS."""
        own = [e for e in turn.analysis.entities if e.kind in CARRIED_KINDS and e.start >= 0]
        if not own:
            return None
        rest = turn.question
        for e in sorted(own, key=lambda e: -e.start):
            rest = rest[: e.start] + " " + rest[e.end :]
        led = _strip_lead(turn.question) != turn.question.strip()
        if _content_words(_strip_lead(rest)):
            return None  # the turn asks something of its own
        if not led and _QUESTION_START.match(turn.question):
            return None  # "What is SNS?" stands alone; "SNS?" or "And SNS?" does not
        new = own[0]
        prev_text = previous.text
        spans = [e for e in previous.analysis.entities if e.start >= 0 and e.kind in CARRIED_KINDS]
        owners = self.engine.catalog.owner_services(new.iri)
        entry = self.engine.catalog.entries.get(new.iri)
        owned_by = [e for e in spans if e.iri in owners or (entry and e.iri in entry.owners)]
        same_kind = [e for e in spans if e.kind == new.kind and e.iri != new.iri]
        replaced: str | None = None
        if owned_by and new.kind != "service":
            e = owned_by[0]
            text = f"{prev_text[: e.end]} {new.text}{prev_text[e.end :]}"
        elif same_kind or spans:
            e = (same_kind or spans)[0]
            replaced = e.label
            text = prev_text[: e.start] + new.text + prev_text[e.end :]
        else:
            text = f"{prev_text.rstrip(' ?.!')} for {new.text}?"
        a = previous.analysis
        carried = {
            "entities": [Ref(new.label, new.iri, new.kind).as_dict()],
            "replaced": replaced,
            "intent": a.intent,
            "bound": a.bound,
            "dimension": a.dimension.value if a.dimension else None,
            "relation": a.relation,
        }
        return self._rewritten(turn, previous, "swap", text, carried)

    def _bound(self, turn: Turn, previous: Turn) -> Turn | None:
        """ "And the default one?" -> the previous limit question with the new bound."""
        a = turn.analysis
        if a.bound is None or _own(turn) or _content_words(_BOUND_TEXT.sub(" ", turn.question)):
            return None
        bound = a.bound
        quantity, subject = _limit_of(self.answer(previous))
        if quantity and subject:
            text = f"What is the {_BOUND_WORDS[bound]} {quantity} of {subject}?"
        else:
            text = _swap_bound(previous.text, bound)
        p = previous.analysis
        carried = {
            "entities": [r.as_dict() for r in previous.refs[:1]],
            "intent": "limit",
            "bound": bound,
            "quantity": quantity,
            "dimension": p.dimension.value if p.dimension else None,
        }
        return self._rewritten(turn, previous, "bound", text, carried)

    def _carry(self, turn: Turn, previous: Turn) -> Turn | None:
        """ "What is the default retention period?" -> "... for Amazon SQS?"."""
        a = turn.analysis
        if _own(turn) or a.relation == "usedFor":
            return None
        body = _strip_lead(turn.question)
        led = body != turn.question.strip()
        asks = a.intent in ("limit", "list", "pricing") or a.bound or a.dimension
        if not (led or asks) or not _content_words(body):
            return None
        if not _QUESTION_START.match(body):
            body = f"What is {body}"
        ref = previous.refs[0]
        text = f"{body.rstrip(' ?.!')} for {ref.label}?"
        intent = previous.analysis.intent if a.intent == "general" else None
        carried = {"entities": [ref.as_dict()], "intent": intent}
        return self._rewritten(turn, previous, "carry", text, carried)

    def _items_noun(self, items: list[Term]) -> str:
        kinds = []
        for t in items:
            entry = self.engine.catalog.entries.get(t.iri or "")
            if entry is not None:
                kinds.append("service" if entry.kind == "service" else entry.feature_kind)
        kind = max(set(kinds), key=kinds.count) if kinds else None
        return plural(kind) if kind else ""

    def _restrict(self, turn: Turn, answer: Answer) -> Answer:
        """Keep the items of ``answer`` that the previous list holds."""
        before = turn.restrict_to or []
        found = list_items(answer)
        if not found or answer.route == "none":
            return answer
        kept = [t for t in found if any(_same(t, b) for b in before)]
        count = False
        if turn.resolution is not None:
            turn.resolution.carried["intersection"] = [t.label for t in kept]
            count = bool(turn.resolution.carried.get("count"))
        if len(kept) == len(found) and not count:
            return answer
        if not kept:
            none = "None of them" if count else "None of those"
            return replace(answer, answer=f"{none}, according to the notes. {answer.answer}")
        keys = {t.iri for t in kept}
        facts = tuple(
            f
            for f in answer.facts
            if f.object.iri in keys
            or (f.predicate.iri in LIMIT_PREDICATES and f.subject.iri in keys)
        )
        names = join_names([t.label for t in kept])
        text = f"{len(kept)} of them: {names}." if count else f"Of those: {names}."
        return replace(answer, answer=text, facts=facts)


# ---- small text helpers ------------------------------------------------------------------------


def _strip_lead(text: str, *, keep_question: bool = False) -> str:
    """ "And what about the default one?" -> "the default one?"."""
    out = text.strip()
    for _ in range(3):
        stripped = _LEAD.sub("", out, count=1).strip()
        if stripped == out or not stripped:
            break
        if keep_question and not _QUESTION_START.match(stripped):
            break
        out = stripped
    return out


def _sentence(text: str) -> str:
    text = squash(text)
    return text[:1].upper() + text[1:] if text else text


def _content_words(text: str) -> list[str]:
    """Words that carry meaning beyond question words, fillers and bounds."""
    words = re.findall(r"[A-Za-z0-9][\w'’-]*", text.lower())
    return [
        w
        for w in words
        if w not in STOPWORDS and w not in QUESTION_WORDS and w not in _FILLER and len(w) > 1
    ]


def _own(turn: Turn) -> bool:
    return any(e.kind in CARRIED_KINDS for e in turn.analysis.entities)


def _pronoun_spans(text: str) -> list[tuple[int, int, str]]:
    """Pronouns that refer back: (start, end, kind) with kind singular|plural|possessive."""
    expletive = [m.span() for m in _EXPLETIVE.finditer(text)]
    taken: list[tuple[int, int, str]] = []

    def add(start: int, end: int, kind: str) -> None:
        if any(s <= start < e for s, e, _ in taken):
            return
        if kind == "singular" and any(s <= start < e for s, e in expletive):
            return
        taken.append((start, end, kind))

    for m in _DEMONSTRATIVE_NP.finditer(text):
        add(m.start(), m.end(), "singular")
    for m in _POSSESSIVE.finditer(text):
        add(m.start(), m.end(), "possessive")
    for m in _SINGULAR.finditer(text):
        add(m.start(), m.end(), "singular")
    for m in _PLURAL.finditer(text):
        add(m.start(), m.end(), "plural")
    for m in _BARE_DEMONSTRATIVE.finditer(text):
        add(m.start("d"), m.end("d"), "singular")
    return taken


def _limit_of(answer: Answer) -> tuple[str | None, str | None]:
    """The quantity and subject of a limit answer's first fact ("message retention period",
    "Amazon SQS")."""
    for f in answer.facts:
        if f.predicate.iri in LIMIT_PREDICATES:
            quantity = re.sub(r"\s*\([^)]*\)\s*$", "", f.predicate.label).strip()
            return quantity or None, f.subject.label
    return None, None


def _list_subject(answer: Answer) -> str | None:
    subjects = [f.subject.label for f in answer.facts if f.predicate.iri not in LIMIT_PREDICATES]
    return subjects[0] if subjects else None


def _swap_bound(text: str, bound: str) -> str:
    """The question with its bound words replaced ("maximum" -> "default"), or the bound added."""
    m = _BOUND_SWAP.search(text)
    if m is None:
        return f"{text.rstrip(' ?.!')} {_BOUND_ADVERBS[bound]}?"
    word = _BOUND_ADVERBS[bound] if m.group("adv") else _BOUND_WORDS[bound]
    return text[: m.start()] + word + text[m.end() :]


def _same(a: Term, b: Term) -> bool:
    if a.iri is not None and a.iri == b.iri:
        return True

    def key(t: Term) -> str:
        return re.sub(r"^(?:amazon|aws)\s+", "", norm_key(t.label))

    return key(a) == key(b)
