"""Follow-up rules: a follow-up and the context before it -> one explicit question.

``RULES`` is an ordered table; the first rule that applies wins. Each rule carries the example
it exists for (an earlier question, the follow-up, and how the follow-up is read);
``tests/test_chat.py`` checks every example against the bundled notes, so the table and its
examples cannot drift apart. A turn no rule applies to stands alone (rule ``asked``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kg.answer.analysis import Analysis
from kg.answer.catalog import Catalog, Linked
from kg.answer.compose import join_names, plural
from kg.chat.answers import fact_keys
from kg.chat.context import (
    CARRIED_KINDS,
    GENERIC_HEADS,
    ORDINALS,
    Context,
    Ref,
    features_named,
    features_of,
    find_item,
    kind_words,
    name_runs,
    source_hits,
)
from kg.chat.phrases import (
    AND,
    BOUND_TEXT,
    BOUND_WORDS,
    HOW_MANY_OF_THEM,
    ITEM_REF,
    PHRASE,
    QUESTION_START,
    RESTRICT,
    content_words,
    contrast,
    counted_phrase,
    phrase_span,
    pronoun_spans,
    strip_lead,
    swap_bound,
    words_only,
)
from kg.chat.scope import Coverage, uncovered_name
from kg.model import Answer, Hit, Term
from kg.text.spellings import is_unit_word
from kg.text.words import STOPWORDS, singular, squash

__all__ = ["RULES", "Example", "Followup", "Rewrite", "Rule"]


@dataclass(frozen=True)
class Followup:
    """A user turn to resolve, what it names and asks, and the conversation before it."""

    question: str
    analysis: Analysis
    context: Context
    catalog: Catalog
    covered: Coverage | None = None  # what the notes mention (None: names in the graph count)


@dataclass
class Rewrite:
    """What a rule made of a follow-up."""

    text: str
    carried: dict[str, Any]
    focus: Ref | None = None  # the thing the rewritten question is about, for the next turn
    restrict_to: tuple[Term, ...] | None = None  # answer over these items only
    siblings: tuple[Term, ...] = ()  # for a question about one item: the list it is one of
    elsewhere: tuple[Hit, ...] = ()  # ... and the passages where that list was found
    named_as: str = ""  # ... how the rewritten question names the item
    said: str = ""  # ... and what the user called it ("latency")
    continues: Answer | None = None  # the answer a follow-up on the same subject continues
    count: bool = False  # "how many of them": count the intersection
    verb: str = ""  # what the restricted items must do, in the user's words
    evidence: tuple[str, ...] = ()  # where the previous list was found, to check items in
    found: tuple[Hit, ...] = ()  # ... as passages, to cite from
    repeated: frozenset[tuple[str | None, ...]] = frozenset()  # the previous list's facts
    new_subject: bool = False  # the rewrite swapped in a name of its own ("in MSK Serverless")


@dataclass(frozen=True)
class Example:
    before: str
    follow_up: str
    read_as: str


@dataclass(frozen=True)
class Rule:
    name: str
    example: Example
    apply: Callable[[Followup], Rewrite | None] = field(repr=False)


# ---- rules --------------------------------------------------------------------------------------


def _outside(f: Followup) -> Rewrite | None:
    """A cloud or a name the notes do not cover: the turn stands alone, out of scope."""
    name = uncovered_name(f.question, f.analysis, f.catalog, f.covered)
    if name is None:
        return None
    return Rewrite(f.question, {"entities": [], "intent": None, "outside": name})


def _restrict(f: Followup) -> Rewrite | None:
    """ "Which of them support read replicas?" -> the list's question, over its items only."""
    ctx = f.context
    body = strip_lead(f.question)
    m = RESTRICT.search(body)
    # "which of the policies" names its list, which may be an earlier one than the last
    listed = ctx.list_of(m.group("noun")) if m is not None and m.group("noun") else None
    items = listed.items if listed is not None else ctx.items
    head = listed.head if listed is not None else ctx.head
    if m is None or (len(items) < 2 and not head):
        return None
    lead = (m.group("lead") or m.group("lead2") or m.group("lead3") or "which").lower()
    if m.group("lead4") and (len(items) < 2 or _own(f)):
        return None  # "Which is the default?" restricts a list; "Which is cheaper, S3 or ...?" not
    rest = squash(body[: m.start()] + " " + body[m.end() :]).strip(" ,?.!")
    one = (m.group("ones") or "").lower() == "one"
    # the user's own noun ("which of the policies") first, then the list's, less any number
    noun = m.group("noun") or re.sub(r"^(?:\d+|two|three|four|five|six|the)\s+", "", head or "")
    if not noun or singular(noun.split()[-1].lower()) in GENERIC_HEADS:
        noun = _items_noun(items, f.catalog) or ("" if m.group("noun") is None else noun)
    # "which of them is ..." asks for one; "for which of them does WAF ..." is only inverted
    one = one or (not m.group("prep") and bool(re.match(r"(?:is|has|does|was)\b", rest, re.I)))
    if one and noun:
        words = noun.split()
        noun = " ".join([*words[:-1], singular(words[-1])])
    subject = ctx.subject.label if ctx.subject else ""
    if subject and noun and subject.lower() in noun.lower():
        subject = ""
    prep = (m.group("prep") or "").capitalize()
    which = f"{prep} which" if prep else "Which"
    text = " ".join(w for w in (which, subject, noun, rest) if w) + "?"
    carried = {
        "entities": [ctx.subject.as_dict()] if ctx.subject else [],
        "intent": ctx.analysis.intent,
        "relation": ctx.analysis.relation,
        "items": [t.label for t in items],
        "count": lead.startswith("how many"),
    }
    if items is ctx.items:
        found = (*source_hits(ctx.answer), *ctx.answer.passages)
        repeated = fact_keys(ctx.answer)
    else:  # an earlier list: where it was found
        found, repeated = listed.found_in if listed else (), frozenset()
    return Rewrite(
        text,
        carried,
        restrict_to=items if len(items) >= 2 else None,
        count=lead.startswith("how many"),
        verb="" if prep else rest,
        evidence=tuple(h.text for h in found),
        found=found,
        repeated=repeated,
    )


def _item(f: Followup) -> Rewrite | None:
    """ "How does the latency one work?" -> the item of the previous list it names."""
    ctx = f.context
    m = ITEM_REF.search(f.question)
    if m is None:
        return None
    words = m.group("words") or m.group("ordinal") or ""
    if m.group("words") and words_only(words) == []:
        return None  # "the same one", "the other one"
    positional = bool(m.group("ordinal")) or words.lower().strip() in ORDINALS
    term = find_item(words, ctx.items)
    if term is None and not positional:
        # a position counts in a list the answer gave, never in the graph's unordered features
        term = features_named(words, ctx.subject, f.catalog)
    ref = Ref.of(term) if term is not None else None
    if term is None and positional:
        return _unplaced(f, m)
    if term is None:
        if not ctx.items and not ctx.head:
            return None
        term = Term(_fallback_label(words, ctx, f.catalog))
        ref = Ref(term.label, None, "item", words)
    assert ref is not None
    phrase = _item_phrase(term, ctx, f.catalog)
    rest = strip_lead(f.question[: m.start()] + " " + f.question[m.end() :])
    if content_words(rest):
        text = f.question[: m.start()] + phrase + f.question[m.end() :]
        text = strip_lead(text, keep_question=True)
    else:
        previous = ctx.focus
        if previous is not None and previous.label in ctx.text:
            text = ctx.text.replace(previous.label, term.label, 1)
        else:
            text = f"What is {phrase}?"
    carried = {
        "entities": [ref.as_dict()],
        "intent": ctx.analysis.intent if not content_words(rest) else None,
        "item": term.label,
        "of": ctx.subject.as_dict() if ctx.subject else None,
    }
    return Rewrite(
        text,
        carried,
        focus=ref,
        siblings=ctx.items if len(ctx.items) >= 2 else tuple(features_of(ctx.subject, f.catalog)),
        elsewhere=ctx.found_in,
        named_as=phrase,
        said=" ".join(words_only(words)) if m.group("words") else "",
    )


def _unplaced(f: Followup, m: re.Match[str]) -> Rewrite | None:
    """ "... for the first one?" when the answer gave no list to count in: the question is
    about the subject the items would belong to, not about a feature picked by its place in
    the graph."""
    subject = f.context.subject
    if subject is None:
        return None
    text = strip_lead(
        f.question[: m.start()] + subject.label + f.question[m.end() :], keep_question=True
    )
    carried = {"entities": [subject.as_dict()], "intent": None, "item": None}
    return Rewrite(text, carried)


def _bound(f: Followup) -> Rewrite | None:
    """ "And the default one?" -> the previous answer's limit, with this bound."""
    a = f.analysis
    if a.bound is None or _own(f) or content_words(BOUND_TEXT.sub(" ", f.question)):
        return None
    ctx = f.context
    quantity, subject = ctx.limit
    if quantity and subject:
        # a feature is named with its service: "the Consumption plan of Azure Functions"
        name = _name_of(Ref(subject.label, subject.iri, "feature"), ctx, f.catalog)
        text = f"What is the {BOUND_WORDS[a.bound]} {quantity} of {name}?"
    else:
        text = swap_bound(ctx.text, a.bound)
    p = ctx.analysis
    carried = {
        "entities": [ctx.target.as_dict()] if ctx.target else [],
        "intent": "limit",
        "bound": a.bound,
        "quantity": quantity,
        "dimension": p.dimension.value if p.dimension else None,
    }
    return Rewrite(text, carried, focus=ctx.focus, continues=ctx.answer)


def _swap(f: Followup) -> Rewrite | None:
    """ "And for SNS?" after a question about SQS -> the same question about SNS."""
    own = [
        e
        for e in f.analysis.entities
        if e.kind in CARRIED_KINDS and e.start >= 0 and not _stray(e, f)
    ]
    if not own:
        return _swap_name(f)
    rest = f.question
    for e in sorted(own, key=lambda e: -e.start):
        rest = rest[: e.start] + " " + rest[e.end :]
    led = strip_lead(f.question) != f.question.strip()
    if content_words(strip_lead(rest)):
        return None  # the turn asks something of its own
    if not led and QUESTION_START.match(f.question):
        return None  # "What is SNS?" stands alone; "SNS?" or "And SNS?" does not
    ctx = f.context
    new = own[0]
    previous = ctx.text
    phrase = PHRASE.match(AND.sub("", f.question.strip(), count=1))
    if phrase is not None and phrase_span(previous, phrase.group("prep").lower()) is not None:
        return None  # "And on Standard HDD?" replaces "on Premium SSD": a phrase, not a name
    spans = [e for e in ctx.analysis.entities if e.start >= 0 and e.kind in CARRIED_KINDS]
    owners = f.catalog.owner_services(new.iri)
    entry = f.catalog.entries.get(new.iri)
    owned_by = [e for e in spans if e.iri in owners or (entry and e.iri in entry.owners)]
    same_kind = [e for e in spans if e.kind == new.kind and e.iri != new.iri]
    # "the Premium plan" after "the Consumption plan of Azure Functions" takes its place
    beside = [e for e in same_kind if owners & f.catalog.owner_services(e.iri)]
    replaced: str | None = None
    if beside and new.kind != "service":
        e = beside[0]
        replaced = e.label
        text = previous[: e.start] + new.text + previous[e.end :]
    elif owned_by and new.kind != "service":
        e = owned_by[0]
        text = f"{previous[: e.end]} {new.text}{previous[e.end :]}"
    elif same_kind or spans:
        e = (same_kind or spans)[0]
        replaced = e.label
        text = previous[: e.start] + new.text + previous[e.end :]
        service = _service_lost(f, e, new, text)
        if service is not None:
            text = previous[: e.start] + f"{service} {new.text}" + previous[e.end :]
    else:
        text = f"{previous.rstrip(' ?.!')} for {new.text}?"
    a = ctx.analysis
    ref = Ref(new.label, new.iri, new.kind)
    carried = {
        "entities": [ref.as_dict()],
        "replaced": replaced,
        "intent": a.intent,
        "bound": a.bound,
        "dimension": a.dimension.value if a.dimension else None,
        "relation": a.relation,
    }
    return Rewrite(text, carried, focus=ref if new.kind != "service" else None)


def _service_lost(f: Followup, old: Linked, new: Linked | None, text: str) -> str | None:
    """The service of the part a swap replaces, when the new name (``None``: a name the
    graph does not link) is no part of it and the rewrite names that service no more: "And
    Archive?" after the Cloud Storage Coldline class asks for Cloud Storage's Archive, not
    for the EFS Archive another note describes."""
    theirs = f.catalog.owner_services(old.iri)
    if not theirs:
        return None
    if new is not None and (new.kind == "service" or theirs & f.catalog.owner_services(new.iri)):
        return None
    service = f.catalog.label(sorted(theirs)[0])
    return service if service.lower() not in text.lower() else None


def _swap_name(f: Followup) -> Rewrite | None:
    """ "And Archive?" after "What's the Coldline's minimum storage duration?": a name the
    graph does not link, alone after "and" / "what about", takes the place of the feature the
    last turn was about, as a linked one would."""
    question = f.question.strip()
    body = AND.sub("", question, count=1).strip(" ?.!")
    if body == question.strip(" ?.!"):
        return None  # "Archive?" alone may be a question of its own
    body = re.sub(r"^the\s+", "", body, flags=re.I)
    if not any(text == body for _, _, text in name_runs(question)):
        return None
    ctx = f.context
    focus = ctx.focus
    spans = [
        e
        for e in ctx.analysis.entities
        if focus is not None and focus.iri is not None and e.iri == focus.iri and e.start >= 0
    ]
    if not spans or focus is None or focus.kind == "service":
        return None
    e = spans[0]
    text = ctx.text[: e.start] + body + ctx.text[e.end :]
    service = _service_lost(f, e, None, text)
    if service is not None:  # Cloud Storage's Archive, not the one another note describes
        text = ctx.text[: e.start] + f"{service} {body}" + ctx.text[e.end :]
    a = ctx.analysis
    ref = Ref(body, None, "name")
    carried = {
        "entities": [ref.as_dict()],
        "replaced": e.label,
        "intent": a.intent,
        "bound": a.bound,
        "dimension": a.dimension.value if a.dimension else None,
        "relation": a.relation,
    }
    return Rewrite(text, carried, focus=ref)


def _phrase(f: Followup) -> Rewrite | None:
    """ "And for reads?", "And on Standard HDD?", "And with detailed monitoring turned on?":
    the previous question with its counterpart word or phrase swapped, or the condition added."""
    body = AND.sub("", f.question.strip(), count=1).strip().rstrip(" ?.!")
    led = body != f.question.strip().rstrip(" ?.!")
    if not led or not body or QUESTION_START.match(body):
        return None
    if any(e.kind == "service" and e.start >= 0 for e in f.analysis.entities) and not (
        PHRASE.match(body)
    ):
        return None
    ctx = f.context
    previous = ctx.text
    carried: dict[str, Any] = {
        "entities": [ctx.target.as_dict()] if ctx.target else [],
        "intent": ctx.analysis.intent,
        "phrase": body,
    }
    for word in re.findall(r"[A-Za-z][\w-]*", body):
        partner = contrast(word)
        hit = re.search(rf"\b{partner}(s?)\b", previous, re.I) if partner else None
        if hit is not None:
            form = singular(word.lower()) + hit.group(1)
            text = previous[: hit.start()] + form + previous[hit.end() :]
            carried["replaced"] = hit.group()
            return Rewrite(text, carried, focus=ctx.focus, continues=ctx.answer)
    m = PHRASE.match(body)
    if m is None:
        return None
    prep = m.group("prep").lower()
    span = phrase_span(previous, prep)
    if span is not None:
        start, end = span
        carried["replaced"] = previous[start:end]
        text = previous[:start] + body + _kept_tail(previous[start:end], body) + previous[end:]
        named = any(w[:1].isupper() for w in m.group("rest").split())
        return Rewrite(
            text,
            carried,
            focus=None if named else ctx.focus,
            new_subject=named,
            continues=None if named else ctx.answer,  # "in MSK Serverless" is elsewhere
        )
    base = re.sub(r"\s*\bby\s+default\b", "", previous).rstrip(" ?.!")
    return Rewrite(f"{base} {body}?", carried, focus=ctx.focus, continues=ctx.answer)


def _pronoun(f: Followup) -> Rewrite | None:
    """ "How is it charged?" -> "it" is the focus, else the subject, named in full."""
    ctx = f.context
    spans = pronoun_spans(f.question)
    how_many = HOW_MANY_OF_THEM.search(f.question)
    counted = counted_phrase(ctx.text) if how_many else None
    if not spans and counted is None:
        return None
    target = ctx.target
    if target is None:
        return None
    text = f.question
    if how_many is not None and counted is not None:
        spans = [s for s in spans if not (how_many.start() <= s[0] < how_many.end())]
    items = [t.label for t in ctx.items]
    one = _name_of(target, ctx, f.catalog)
    many = join_names(items) if 1 < len(items) <= 4 else one
    for start, end, kind in sorted(spans, reverse=True):
        word = text[start:end].lower()
        if kind == "possessive":
            whose = many if word == "their" else one
            # "BigQuery's" is a word the notes never use: a name the graph does not link
            # keeps no possessive ("BigQuery tables")
            name = f"{whose}'s" if target.iri is not None or word == "their" else whose
        else:
            name = many if kind == "plural" else one
        text = text[:start] + name + text[end:]
    if how_many is not None and counted is not None:
        shift = text.lower().find(how_many.group().lower())
        text = text[:shift] + f"how many {counted}" + text[shift + len(how_many.group()) :]
    carried: dict[str, Any] = {"entities": [target.as_dict()], "intent": None}
    if counted:
        carried["counted"] = counted
    return Rewrite(
        strip_lead(text, keep_question=True), carried, focus=ctx.focus, continues=ctx.answer
    )


def _carry(f: Followup) -> Rewrite | None:
    """ "How much per GB-second?" -> the subject (and the price asked) carried over."""
    a = f.analysis
    if _own(f) or a.relation == "usedFor":
        return None
    body = strip_lead(f.question)
    led = body != f.question.strip()
    asks = a.intent in ("limit", "list", "pricing") or a.bound or a.dimension
    if not (led or asks) or not content_words(body):
        return None
    ctx = f.context
    target = ctx.target
    if target is None:
        return None
    priced = ctx.analysis.intent == "pricing" or (
        ctx.analysis.dimension is not None and ctx.analysis.dimension.value == "usd"
    )
    much = re.match(r"\s*how\s+much\s+(?P<rest>(?:per|for|each|a|an|every)\b.*)$", body, re.I)
    if much and priced:
        text = f"How much does {target.label} cost {much.group('rest').rstrip(' ?.!')}?"
    else:
        if not QUESTION_START.match(body):
            body = f"What is {body}"
        text = f"{body.rstrip(' ?.!')} for {target.label}?"
    intent = ctx.analysis.intent if a.intent == "general" else None
    carried = {"entities": [target.as_dict()], "intent": intent}
    return Rewrite(text, carried, focus=ctx.focus, continues=ctx.answer)


RULES: tuple[Rule, ...] = (
    Rule(
        "outside",
        Example(
            "How is AWS Lambda charged?",
            "And how is Alibaba Cloud Function Compute priced?",
            "And how is Alibaba Cloud Function Compute priced?",
        ),
        _outside,
    ),
    Rule(
        "restrict",
        Example(
            "Which database engines does RDS support?",
            "Which of them support read replicas?",
            "Which Amazon RDS database engines support read replicas?",
        ),
        _restrict,
    ),
    Rule(
        "item",
        Example(
            "What routing policies can I use in Route 53?",
            "How does the latency one work?",
            "How does the Letancy Routing Policy of Amazon Route 53 work?",
        ),
        _item,
    ),
    Rule(
        "bound",
        Example(
            "What is the maximum message retention period for SQS?",
            "And the default one?",
            "What is the default message retention period of Amazon SQS?",
        ),
        _bound,
    ),
    Rule(
        "swap",
        Example(
            "How large can an SQS message be?",
            "And for SNS?",
            "How large can an SNS message be?",
        ),
        _swap,
    ),
    Rule(
        "phrase",
        Example(
            "How often does CloudWatch monitor EC2 instances by default?",
            "And with detailed monitoring turned on?",
            "How often does CloudWatch monitor EC2 instances with detailed monitoring turned on?",
        ),
        _phrase,
    ),
    Rule(
        "pronoun",
        Example("What is AWS Lambda?", "How is it charged?", "How is AWS Lambda charged?"),
        _pronoun,
    ),
    Rule(
        "carry",
        Example(
            "How is AWS Lambda charged?",
            "How much per GB-second?",
            "How much does AWS Lambda cost per GB-second?",
        ),
        _carry,
    ),
)


# ---- helpers ------------------------------------------------------------------------------------


def _kept_tail(old: str, new: str) -> str:
    """The words of a replaced phrase after the last word the new one repeats: "with 4 vCPU"
    for "with a 1 vCPU Fargate" keeps " Fargate"; nothing shared, nothing kept."""
    words = old.split()[1:]
    said = {w.lower() for w in new.split()[1:]}
    shared = [i for i, w in enumerate(words) if w.lower() in said]
    if not shared or shared[-1] == len(words) - 1:
        return ""
    return " " + " ".join(words[shared[-1] + 1 :])


def _own(f: Followup) -> bool:
    return any(e.kind in CARRIED_KINDS and not _stray(e, f) for e in f.analysis.entities)


def _stray(e: Linked, f: Followup) -> bool:
    """A feature of another service than the conversation's that the turn writes as a common
    word or a unit ("storage" after BigQuery, "GB" in "How much per GB-second?" after AWS
    Lambda), or that only its scattered words name: a word of the question, not a name of
    its own."""
    subject = f.context.subject
    if e.kind == "service" or subject is None or subject.iri is None:
        return False
    if subject.iri in f.catalog.owner_services(e.iri):
        return False
    return e.start < 0 or e.text.islower() or is_unit_word(e.text)


def _items_noun(items: tuple[Term, ...], catalog: Catalog) -> str:
    kinds = []
    for t in items:
        entry = catalog.entries.get(t.iri or "")
        if entry is not None:
            kinds.append("service" if entry.kind == "service" else entry.feature_kind)
    found = [k for k in kinds if k]
    kind = max(set(found), key=found.count) if found else None
    return plural(kind) if kind else ""


def _fallback_label(words: str, ctx: Context, catalog: Catalog) -> str:
    """ "advanced" after "What tiers does SSM Parameter Store have?" -> "Advanced tier", when
    neither the answer nor the graph lists it: the user's word and the list's noun (when the
    notes use that noun)."""
    name = " ".join(w if w[:1].isupper() else w.capitalize() for w in words.split())
    head = (ctx.head or "").split()
    if head:
        last = head[-1]
        noun = last[:-1] if re.fullmatch(r"[A-Z]+s", last) else singular(last.lower())
        # the noun and the word before it: "protection plans" -> "RDS protection plan"
        nouns = [w.lower() for w in head[-2:-1] if w.lower() not in STOPWORDS] + [noun]
        known = [w for w in nouns if w.lower() not in GENERIC_HEADS and catalog.knows(w.lower())]
        if known and known[-1] == noun:
            return f"{name} {' '.join(known)}"
    return name


def _item_phrase(term: Term, ctx: Context, catalog: Catalog) -> str:
    """How a rewritten question names an item: "the Cold HDD of Amazon EBS", "the Advanced
    tier of AWS Shield" (its kind added when its name is one word)."""
    label = term.label
    entry = catalog.entries.get(term.iri or "")
    kind = _kind_noun(entry.feature_kind if entry is not None else None, ctx, catalog)
    if kind and len(label.split()) == 1 and kind.lower() not in label.lower():
        label = f"{label} {kind}"
    subject = ctx.subject
    if subject is None or _shares_name(label, subject.label):
        return f"the {label}"
    return f"the {label} of {subject.label}"


def _kind_noun(kind: str | None, ctx: Context, catalog: Catalog) -> str | None:
    """What an item is called after its name: its kind without a count ("4 types" read from
    "SUBSCRIPTIONS 4 types" -> "type"); a kind-word says nothing, so the list's own noun
    instead, when the notes use it ("subscriptions" -> "Push subscription")."""
    words = kind_words(kind)
    if words:
        return words
    head = (ctx.head or "").split()
    last = head[-1] if head else ""
    noun = last[:-1] if re.fullmatch(r"[A-Z]+s", last) else singular(last.lower())
    if noun and noun.lower() not in GENERIC_HEADS and catalog.knows(noun.lower()):
        return noun
    return None


def _name_of(ref: Ref, ctx: Context, catalog: Catalog) -> str:
    """How a rewritten question names what "it" means: a service by its name, an item or a
    feature with its service ("the Standard queue type of Amazon SQS")."""
    subject = ctx.subject
    if ref.kind in ("service", "unknown") or subject is None or ref.iri == subject.iri:
        return ref.label
    return _item_phrase(Term(ref.label, ref.iri), ctx, catalog)


def _shares_name(label: str, subject: str) -> bool:
    """ "Volume Gateway" already says it is a Storage Gateway's."""
    short = re.sub(r"^(?:amazon|aws|azure|google|cloud)\s+", "", subject.lower())
    own = {singular(w) for w in re.findall(r"[a-z0-9]+", label.lower())} - STOPWORDS
    return short in label.lower() or bool(own & set(re.findall(r"[a-z0-9]+", short)))
