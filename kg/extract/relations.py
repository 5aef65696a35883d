"""Sentences -> relations: supports, replicatesTo, chargedBy, usedFor, worksWith, and a
service's definition sentence."""

from __future__ import annotations

import re

from kg import vocab
from kg.extract.context import Context, DocumentContext, Entity, local_name
from kg.extract.patterns import (
    DEFINITION,
    LOCATION_WORD,
)
from kg.extract.structure import announced_inline, heading_kind, objects
from kg.extract.subjects import named_in, nearest_before, subject_before
from kg.model import Block, BlockKind, Evidence, Sentence
from kg.text.phrases import (
    kind_of,
    lead_term,
    looks_like_name_list,
    split_list,
)
from kg.text.quantities import find_quantities, time_unit
from kg.text.units import Dimension, Quantity
from kg.text.words import STOPWORDS, singular, squash


def _before_next_clause(body: str) -> str:
    """Up to a capitalised word that opens something new after a lowercase one ("storage Next
    ..."), keeping names ("OpenSearch Compute Units", "data transfer between Availability
    Zones")."""
    for m in re.finditer(r"\s(?=[A-Z][a-z])", body):
        words = body[: m.start()].split()
        previous = words[-1] if words else ""
        if previous.islower() and previous not in _JOINING_WORDS:
            return body[: m.start()]
    return body


_JOINING_WORDS = frozenset("between across to from in within of for into over".split())


def _dimension_label(item: str) -> str | None:
    """ "number of requests" -> "requests"; "the minutes that you transcode" -> "minutes";
    "memory a task requests" -> "memory"; "Data Transfer Pricing" -> "data transfer"."""
    text = re.sub(
        r"\s+(?:that|which|at which|where|used|you|thereafter)\b.*$", "", item.strip(), flags=re.I
    )
    # A relative clause without "that": "<noun> a task requests", "<noun> your queries scan".
    text = re.sub(
        r"(?<!\bof)(?<!\bto)(?<!\bin)(?<!\bon)(?<!\bfor)(?<!\bfrom)(?<!\bby)"
        r"\s+(?:a|an|the|your|each)\s+\w+\s+\w+$",
        "",
        text,
        flags=re.I,
    )
    text = re.sub(
        r"^(?:(?:in|for|by|on|the|a|an|their|its|your|number of|amount of|each|every)\s+)+",
        "",
        text,
        flags=re.I,
    )
    text = re.sub(r"\s+(?:by|per|for|in)\s+(?:each|every|a|an|the)\s+\w+$", "", text, flags=re.I)
    text = re.sub(r"\s+pricing$", "", text, flags=re.I)
    text = re.sub(
        r"^(?:(?:billed|charged|priced|paid)\s+)?(?:per|by)\s+(?:the\s+)?", "", text, flags=re.I
    )
    text = re.sub(r"^(?:\d[\d,.]*\s*)?(?:million|thousand|billion)?\s*", "", text)
    text = text.strip(" .,:;")
    if not text or len(text.split()) > 5 or not re.search(r"[a-z]", text, re.I):
        return None
    if text.lower() in STOPWORDS or text.lower() in {"free", "example", "more", "less"}:
        return None
    if re.search(r"\b(?:you|we|they|it|dont|don't|not|never|twice)\b", text, re.I):
        return None  # a clause, not a billing dimension: "you dont get charged twice"
    unit = time_unit(text) if len(text) <= 3 else None
    if unit is not None:
        return unit.name  # "$0.30/h": billed by the hour
    inner_capital = any(re.search(r"[A-Z]", w[1:]) for w in text.split())  # vCPU, GB-month
    return text if text.isupper() or inner_capital else text.lower()


def _purpose(text: str) -> str:
    return squash(re.sub(r"\s+(?:and|but)\s+(?:it|they|we)\b.*$", "", text)).strip(" .,")


def read_relations(cx: DocumentContext, sent: Sentence, block: Block, ctx: Context) -> None:
    text = cx.text[sent.start : sent.end]
    ev = Evidence(sent.start, sent.end)
    _definition(cx, sent, ctx)
    _supports(cx, text, sent, ev, ctx)
    _replicates(cx, text, sent, ev, ctx)
    _charged(cx, text, sent, block, ev, ctx)
    _used_for(cx, text, sent, ev, ctx)
    _integrations(cx, text, sent, ev, ctx)
    _options(cx, text, ev, ctx)
    announced_inline(cx, text, ev, ctx)
    _quoted_terms(cx, sent, block, ev, ctx)


def _options(cx: DocumentContext, text: str, ev: Evidence, ctx: Context) -> None:
    """ "Origin: ... This can be an S3 bucket, an EC2 instance, or Route53": the thing
    the item names accepts each of the services listed."""
    m = re.search(r"\b(?:this|it|they|which)\s+can\s+be\s+(?:either\s+)?", text, re.I)
    if m is None or ctx.subject is None:
        return
    items = split_list(text[m.end() :])
    linked = [cx.link(item, ctx.subject) for item, _, _ in items]
    services = [e for e in linked if e is not None and e.kind == "service"]
    if len(items) >= 2 and len(services) == len(items):
        for ent in services:
            ent.cite(ev)
            cx.relate(ctx.subject, "supports", ent.iri, ev)


def _quoted_terms(
    cx: DocumentContext, sent: Sentence, block: Block, ev: Evidence, ctx: Context
) -> None:
    """ "we need to enable “Strongly Consistent Reads” instead": a named option."""
    if block.kind is BlockKind.NUMBERED or ctx.service is None:
        return
    for m in re.finditer(
        r"[“\"]([A-Z][\w-]*(?:\s+[A-Z][\w-]*){1,4})[”\"]", cx.doc.text[sent.start : sent.end]
    ):
        owner = ctx.service
        kind = cx.entities[ctx.subject].feature_kind if ctx.subject in cx.entities else None
        cx.feature(owner, m.group(1), ev, kind=kind)


def _definition(cx: DocumentContext, sent: Sentence, ctx: Context) -> None:
    text = cx.text[sent.start : sent.end]
    m = DEFINITION.match(text)
    ms = cx.mentions.get(sent.start, [])
    if not m or not ms or ms[0].start != sent.start + m.start("name"):
        return
    ent = cx.entity_for_key(cx.choose(ms[0], ctx.service))
    if ent.definition is None:
        ent.definition = (
            squash(cx.doc.text[sent.start : sent.end]),
            Evidence(sent.start, sent.end),
        )


def _supports(cx: DocumentContext, text: str, sent: Sentence, ev: Evidence, ctx: Context) -> None:
    for m in re.finditer(
        r"\b(?:supports?\b|supported\s+(?P<prep>for|by|on|in|with)\b|(?P<impl>implemented\s+by)\b|"
        r"(?P<sup>supported)\s+(?P<what>[\w\s-]{2,40}?)\s*:)\s*",
        text,
        re.IGNORECASE,
    ):
        if re.search(r"\b(?:not|n't|never|cannot|no)\s+(?:\w+\s+)?$", text[: m.start()], re.I):
            continue  # "does not support multi-tenancy"
        verb_pos = sent.start + m.start()
        body_start = sent.start + m.end()
        body = cx.text[body_start : sent.end]
        kind = None
        colon_list = False
        if m.group("sup"):
            subject = ctx.subject
            kind = kind_of(m.group("what"))
        elif m.group("prep") or m.group("impl"):
            # Passive: "Read replicas ... only supported for MySQL", "ElastiCache that is
            # implemented by memcached": the nearest thing named before the verb.
            subject = nearest_before(cx, sent, verb_pos) or ctx.subject
        else:
            subject = subject_before(cx, sent, verb_pos, ctx)
            colon = re.match(r"([^:.;]{0,60}):\s*", body)
            if colon:
                colon_list = True
                kind = kind_of(colon.group(1))
                body_start += colon.end()
                body = cx.text[body_start : sent.end]
            else:
                body = re.sub(r"^(?:both|also|only)\s+", "", body)
                body = re.split(r"\s+(?:on|at|from|within|into|across|between)\s+|\(", body)[0]
        if subject is None or re.match(r"(?:is|are|was|were|will|can|depends?|has|have)\b", body):
            continue
        if colon_list and not looks_like_name_list([i for i, _, _ in split_list(body)]):
            continue
        if kind is None:
            kind = heading_kind(cx, sent)
        owner = cx.owner_service(subject) or subject
        for obj in objects(cx, body, owner, ev, kind):
            cx.relate(subject, "supports", obj, ev)
            if kind and obj in cx.entities and cx.entities[obj].kind == "feature":
                cx.entities[obj].feature_kind = cx.entities[obj].feature_kind or kind
                cx.relate(owner, "hasFeature", obj, ev)


def _replicates(cx: DocumentContext, text: str, sent: Sentence, ev: Evidence, ctx: Context) -> None:
    m = re.search(
        r"\b(?:replicat\w*|replicas?|copies|cop(?:y|ied)|stor(?:ed|es|ing)|spread|mirror\w*)\b"
        r"(?P<obj>[^.;]{0,40}?)\b(?P<prep>to|in|into|across|within|between)\s+"
        r"(?P<target>[^.;,()]{2,60})",
        text,
        re.IGNORECASE,
    )
    if not m:
        return
    target = m.group("target")
    loc = LOCATION_WORD.search(target)
    if loc is None:
        return
    verb = text[m.start() : m.end("obj")].lower()
    if not re.search(r"replica|cop|spread|mirror|across", verb + " " + m.group("prep").lower()):
        return
    target = target[: loc.end()]
    subject = subject_before(cx, sent, sent.start + m.start(), ctx)
    if subject is None:
        return
    ms = [x for x in cx.find(target) if cx.owner_service(x.keys[0]) == x.keys[0]]
    for x in ms:
        cx.relate(subject, "replicatesTo", x.keys[0], ev)
        target = target.replace(x.text, "").strip()
    label = squash(target).replace("’", "'").replace("AZ's", "AZs")
    label = re.sub(r"^(?:(?:in|of|the|a|an|its|their|your|each|every)\s+)+", "", label, flags=re.I)
    if not label:
        return
    iri = f"{vocab.ID}location/{vocab.slug(cx.doc.id)}/{vocab.slug(label)}"
    loc_ent = cx.entities.setdefault(iri, Entity(iri, "location", label))
    loc_ent.cite(ev)
    cx.relate(subject, "replicatesTo", iri, ev)


def _charged(
    cx: DocumentContext, text: str, sent: Sentence, block: Block, ev: Evidence, ctx: Context
) -> None:
    """chargedBy from "charged by/for X", "pay for X", "Pricing: in X and for Y",
    "price depends on X", "By X:" lines about billing, and the "per X" of stated prices."""
    subject = ctx.subject
    if subject is None:
        return
    bodies: list[str] = []
    for m in re.finditer(
        r"\bprice\s+depends\s+on\s+|"
        r"\b(?:charged|billed|priced|pay(?:s|ing)?|paid|rate|price\s+depends)\s+"
        r"(?:based\s+on|by\s+the|by|for|per|(?:in|on)(?!\s+(?:the|a|an|each|every|your)\b))\s+",
        # not "charged on the sending side", "charged in the dominant direction"
        text,
        re.IGNORECASE,
    ):
        bodies.append(text[m.end() :])
    fee = re.search(r"\bcharged\s+(?:a|an)\s+([\w\s-]{3,30}?)(?:[.,;]|$)", text, re.I)
    if fee:
        bodies.append(fee.group(1))
    lead = lead_term(cx.text[block.start : block.end])
    if sent.start == block.start and lead is not None and lead.term.lower() == "pricing":
        rest = cx.text[block.start + lead.rest_start : sent.end]
        if not re.search(r"\b(?:is|are|was|were|be|charged|billed|priced|costs?)\b", rest, re.I):
            bodies.append(rest)  # "Pricing: in compute node hours and for backups"
    by = re.match(r"\s*By\s+(?!default\b)([\w\s-]{2,40}?)(?::|,|\s+which\b|\s*$|\.)", text)
    if by and _pricing_context(cx, block):
        bodies.append(by.group(1))
    row = cx.rows.get(block.index) if block.kind is BlockKind.TABLE_ROW else None
    if (
        row is not None
        and row.quantity
        and any(
            isinstance(a, Quantity) and a.dimension is Dimension.USD
            for cell in row.cells
            for a in cell.amounts
        )
    ):
        bodies.append(row.quantity)  # "Compute  $0.12  per ACU-hour": charged for compute
    else:
        for q in find_quantities(text):
            if q.dimension is Dimension.USD and q.per:
                # "$0.02 per GB processed by the gateway" -> "GB processed"
                done = re.match(rf"\s*(?:per\s+)?{re.escape(q.per)}\s+([a-z]+ed)\b", text[q.end :])
                bodies.append(f"{q.per} {done.group(1)}" if done else q.per)
    for body in bodies:
        body = re.sub(r"\s*\([^)]*\)", "", body)
        # "billed per second for the vCPU and memory": what is billed follows "for".
        body = re.sub(
            r"^(?:milli)?(?:second|minute|hour|day|month)s?\s+for\s+", "", body, flags=re.I
        )
        body = _before_next_clause(re.split(r"[.;:(]|\$|\s+(?:with|without|thereafter)\b", body)[0])
        for item in re.split(r",\s*(?:and\s+)?|\s+and\s+(?:for\s+|by\s+)?|\s+or\s+", body):
            label = _dimension_label(item)
            if label:
                scope = local_name(cx.owner_service(subject) or subject)
                iri = f"{vocab.ID}pricing/{scope}/{vocab.slug(singular(label))}"
                ent = cx.entities.setdefault(iri, Entity(iri, "pricing", label, owner=subject))
                ent.cite(ev)
                cx.relate(subject, "chargedBy", iri, ev)


def _pricing_context(cx: DocumentContext, block: Block) -> bool:
    """Whether a "By X" line is about billing: its section mentions money or charging, or
    it sits in a list of several "By ..." items."""
    section = cx.parsed.sections[block.section]
    body = cx.text[section.start : section.end]
    if re.search(r"\$\s?\d|\bcharg|\bpric|\bbill|\bfree\b|\bcost", body, re.I):
        return True
    siblings = [
        b
        for b in cx.parsed.blocks
        if b.section == block.section
        and b.kind is block.kind
        and re.match(r"\s*By\s+(?!default)", cx.text[b.start : b.end])
    ]
    return len(siblings) >= 3


def _used_for(cx: DocumentContext, text: str, sent: Sentence, ev: Evidence, ctx: Context) -> None:
    m = re.search(r"\b(?:is|are)\s+used\s+(?:to|for)\s+(?P<what>[^.;]{3,80})", text, re.I)
    if m:
        subject = subject_before(cx, sent, sent.start + m.start(), ctx)
        if subject is not None and named_in(cx, sent, subject, sent.start + m.start()):
            cx.relate(subject, "usedFor", _purpose(m.group("what")), ev, literal=True)
            _works_with(cx, subject, m.group("what"), ev)
    m = re.search(
        r"^\s*For\s+(?P<what>[\w\s-]{3,40}?),\s*(?:we|you)?\s*(?:need\s+to|should|can|must)?\s*use\s+",
        text,
        re.I,
    )
    if m:
        rest_start = sent.start + m.end()
        for x in cx.mentions.get(sent.start, []):
            if x.start >= rest_start - 1 and x.start <= rest_start + 10:
                key = cx.choose(x, ctx.service)
                cx.entity_for_key(key, ev)
                cx.relate(key, "usedFor", _purpose(m.group("what")), ev, literal=True)
                if ctx.service and ctx.service != key:
                    cx.relate(key, "worksWith", ctx.service, ev)
                break


def _integrations(
    cx: DocumentContext, text: str, sent: Sentence, ev: Evidence, ctx: Context
) -> None:
    """ "works with both Amazon ECS and Amazon EKS", "integrates with CloudWatch"."""
    m = re.search(r"\b(?:works?|integrates?|integrated)\s+(?:\w+\s+)?with\s+", text, re.I)
    if m is None:
        return
    subject = subject_before(cx, sent, sent.start + m.start(), ctx)
    if subject is not None:
        _works_with(cx, subject, text[m.end() :], ev)


def _works_with(cx: DocumentContext, subject: str, text: str, ev: Evidence) -> None:
    for x in cx.find(text):
        key = x.keys[0]
        if key != subject and cx.owner_service(key) == key:
            cx.entity_for_key(key, ev)
            cx.relate(subject, "worksWith", key, ev)
