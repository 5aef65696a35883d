"""What each section, block and sentence is about: the service or component its heading
names, else the service of the Markdown section it nests in, else the one its text is about
in subject position, else the label it elaborates, else the previous section's service, else
a topic named by its heading. A block nested under a short list item is about the part that
item names ("Basic" under "SKUs")."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from kg.extract.context import Context, DocumentContext, Entity
from kg.extract.limits import names_a_quantity
from kg.extract.patterns import (
    DOCUMENT_TITLE,
    NON_SUBJECT_BEFORE,
    PRONOUN_START,
    VERB_BEFORE,
)
from kg.extract.structure import list_kind, plural_heading
from kg.lexicon import Mention
from kg.model import Block, BlockKind, Evidence, Section, Sentence
from kg.text.phrases import (
    BOLD_LEAD,
    MAX_ITEM_WORDS,
    Lead,
    is_generic_lead,
    lead_term,
)
from kg.text.words import STOPWORDS, squash


def in_subject_position(before: str) -> bool:
    """A name opens its clause when nothing before it is a preposition or a verb, and it is
    not an aside in parentheses ("Warm storage: $0.05 per GB-month (EFS, EBS)")."""
    if before.count("(") > before.count(")"):
        return False
    return not NON_SUBJECT_BEFORE.search(before) and not VERB_BEFORE.search(before)


@dataclass(frozen=True)
class SubjectWeights:
    """How much a mention counts towards what a section is about (without a heading that
    names it): the highest-scoring service wins."""

    carried: float = 1.5  # the previous section's subject, until another is named
    document_service: float = 3.0  # the service the note's title names
    subject_position: float = 1.0  # a mention that opens its clause
    aside: float = 0.6  # a mention after a preposition or a verb, or in parentheses
    opens_sentence: float = 2.0  # the first mention of a sentence, in subject position
    lead: float = 2.0  # a mention in a list item's lead ("Kinesis Streams: ...")
    console_path: float = 3.0  # "Go to Route53 > Register Domain"
    enumerated: float = 0.5  # a table row, or an item of a list the heading names


SUBJECT_WEIGHTS = SubjectWeights()


def section_subjects(cx: DocumentContext) -> None:
    previous = Context(None, None)
    for section in cx.parsed.sections:
        cx.section = section.index
        ctx = _subject_of_section(cx, section, previous)
        if section.index == 0 and ctx.service is not None and _titles_document(cx, section):
            found = cx.find(section.title or "")
            cx.title_things = {cx.choose(m, None) for m in found}
            named = {cx.owner_service(m.keys[0]) for m in found}
            if len(named) == 1:  # "AWS Backup - study notes", not "WAF and Shield"
                cx.document_service = ctx.service
        cx.section_subject[section.index] = ctx
        # Only what a heading names carries on to the sections after it, not what one
        # section's text happens to be about (a cheat sheet's "TL;DR" on Hyperdisk).
        inferred = bool(section.title) and not cx.find(section.title or "") and ctx != previous
        if (ctx.service is not None or ctx.subject is not None) and not inferred:
            previous = ctx


def _titles_document(cx: DocumentContext, section: Section) -> bool:
    """The first heading titles the whole note ("# Amazon FSx" over "##" sections, "AWS
    Backup - study notes"), rather than opening the first of many services' sections."""
    title = section.title or ""
    nested = any(section.title in s.parents for s in cx.parsed.sections[1:])
    return nested or bool(DOCUMENT_TITLE.search(title))


def _subject_of_section(cx: DocumentContext, section: Section, previous: Context) -> Context:
    if section.title and section.heading_start is not None:
        title = section.title
        heading_mentions = cx.find(title) or _name_heading(cx, title)
        listy = "," in title.split(":", 1)[-1]
        if heading_mentions and not listy:
            key = cx.choose(heading_mentions[0], previous.service)
            ent = cx.entity_for_key(key)
            return Context(key, cx.owner_service(key) or (key if ent.kind == "service" else None))
    scores: dict[str, float] = defaultdict(float)
    raw: Counter[str] = Counter()
    w = SUBJECT_WEIGHTS
    carried = previous.subject if _names_thing(cx, previous.subject) else previous.service
    if carried and not cx.of_other_provider(carried):
        # The thing the previous heading named stays the subject until another is named:
        # "Aurora Serverless v2 basics", then "Engines supported", "Pricing" ...
        scores[carried] += w.carried
    if cx.document_service is not None and not cx.of_other_provider(cx.document_service):
        # A note titled by a service is about it where a section names nothing else
        # as its subject, however many services its lists mention.
        scores[cx.document_service] += w.document_service
    parent = _parent_subject(cx, section)
    if parent is not None and not cx.of_other_provider(parent):
        # "## 1. AWS Config" then "### 1.1 Rules": still AWS Config, whatever the rules
        # mention (a "VNet" column in API Management's tier table).
        return Context(parent, cx.owner_service(parent) or parent)
    # Under a heading that names a list ("Supported locations", "Destinations"), the
    # services the items name are what is listed, not what the section is about.
    listing = bool(section.title) and plural_heading(section.title or "")
    for sent in cx.parsed.sentences_in(section.start, section.end):
        block = cx.parsed.blocks[sent.block]
        lead = lead_term(cx.text[block.start : block.end]) if sent.start == block.start else None
        for k, m in enumerate(cx.mentions.get(sent.start, [])):
            if cx.foreign(m):
                continue  # "unlike SQS" in an Azure section: named, not what it is about
            service = cx.owner_service(m.keys[0]) or m.keys[0]
            if carried is not None and carried != previous.service == service:
                service = carried  # "Aurora MySQL" under "Aurora Serverless" headings
            before = cx.text[sent.start : m.start]
            after = cx.text[m.end : m.end + 3]
            weight = w.subject_position if in_subject_position(before) else w.aside
            if k == 0 and in_subject_position(before):
                weight = w.opens_sentence
            if lead and m.start - block.start < lead.end:
                weight = w.lead
            if after.lstrip().startswith(">"):
                weight = w.console_path  # "Go to Route53 > Register Domain"
            if block.kind is BlockKind.TABLE_ROW or (
                listing and block.kind in (BlockKind.BULLET, BlockKind.NUMBERED)
            ):
                weight = w.enumerated  # what a table or a list enumerates
            scores[service] += weight
            raw[service] += 1
    if section.title and section.heading_start is not None:
        # A heading that lists things is a topic of its own when it names services ("EC2,
        # Lambda, ECS"); one that names none ("MACHINES, POOLS, PRICING") is a part of the
        # service the text goes on about.
        title_listy = "," in section.title.split(":", 1)[-1] and bool(cx.find(section.title))
        overview = len(raw) >= 4 and max(raw.values()) <= 1
        asked = section.title.rstrip().endswith("?")  # a flashcard's question names no topic
        if (title_listy or overview or not scores) and asked and previous.subject is not None:
            return previous
        if title_listy or overview or not scores:
            ev = Evidence(section.heading_start, section.heading_end or section.heading_start)
            topic = cx.topic(section.title, ev)
            return Context(topic.iri, None)
    if not scores:
        return previous
    best = max(scores, key=lambda k: (scores[k], raw[k]))
    return Context(best, cx.owner_service(best) or best)


def _name_heading(cx: DocumentContext, title: str) -> list[Mention]:
    """A heading that is nothing but a name which the note also writes inside its sentences
    ("Part 1: Glue" over "... moved the jobs to Glue"): an ordinary word that opens a heading
    names nothing by itself, but the note's own use says it is the service's name."""
    tail = title.rsplit(":", 1)[-1].strip()
    named = {m.keys[0] for mentions in cx.mentions.values() for m in mentions}
    return [
        m
        for m in cx.find(tail, opening_names=True)
        if m.text == tail and m.keys[0] in named and not m.fuzzy
    ]


def _parent_subject(cx: DocumentContext, section: Section) -> str | None:
    """The subject of the section a Markdown heading nests in, if it names one."""
    if not section.parents:
        return None
    for earlier in reversed(cx.parsed.sections[: section.index]):
        if earlier.title == section.parents[-1] and earlier.level < section.level:
            ctx = cx.section_subject.get(earlier.index)
            named = {cx.owner_service(m.keys[0]) for m in cx.find(earlier.title)}
            if ctx is None or ctx.service is None or len(named) > 1:
                return None  # "Runbook: AWS Config and AWS Security Hub" names two
            return ctx.subject
    return None


def _names_thing(cx: DocumentContext, iri: str | None) -> bool:
    """A feature the note's title names ("AURORA SERVERLESS V2 AND RDS PROXY - study
    notes"): what the note is about, not one section's aside."""
    ent = cx.entities.get(iri) if iri else None
    return ent is not None and ent.kind == "feature" and ent.iri in cx.title_things


def block_context(cx: DocumentContext, block: Block) -> Context:
    section_ctx = cx.section_subject.get(block.section, Context(None, None))
    if block.kind is BlockKind.TABLE_ROW:
        return section_ctx  # refined per row in _lists_and_tables
    # "About NAT gateway:" / "Kinesis Streams:" / "• Simple Routing Policy" then text.
    for ref in (block.lead, block.intro):
        if ref is None:
            continue
        ref_block = cx.parsed.blocks[ref]
        ctx = cx.block_subject.get(ref)
        label_ent = cx.label_entity(ref_block, section_ctx)
        if label_ent is not None:
            return Context(label_ent.iri, cx.owner_service(label_ent.iri) or section_ctx.service)
        part = _nested_part(cx, block, ref_block, ctx or section_ctx)
        if part is not None:
            return Context(part.iri, cx.owner_service(part.iri) or section_ctx.service)
        if ctx is not None and ctx.subject != section_ctx.subject:
            return ctx
    return section_ctx


def _nested_part(cx: DocumentContext, block: Block, parent: Block, ctx: Context) -> Entity | None:
    """A short item that other items nest under names a part of what it is about: "Basic"
    under "SKUs", over "- max 300 backend instances", is a SKU of the load balancer."""
    items = (BlockKind.BULLET, BlockKind.NUMBERED)
    text = cx.text[parent.start : parent.end].strip()
    if (
        block.intro != parent.index
        or parent.kind not in items
        or block.depth <= parent.depth
        or not 1 <= len(text.split()) <= 4
        or re.search(r"[\d:;=,.()]", text)
        or is_generic_lead(text)
        or plural_heading(text)  # "SKUs" names the kind of its items, not a part
        or ctx.subject is None
    ):
        return None
    return cx.feature(
        ctx.subject, text, Evidence(parent.start, parent.end), kind=list_kind(cx, parent)
    )


def sentence_context(cx: DocumentContext, sent: Sentence, block: Block, ctx: Context) -> Context:
    if block.kind is BlockKind.TABLE_ROW:
        return cx.block_subject.get(block.index, ctx)
    lead = _item_lead(cx, block) if block.kind is BlockKind.BULLET else None
    lead_ent = None
    if (
        lead is not None
        and not is_generic_lead(lead.term)
        and not cx.is_category_line(block)
        and not (names_a_quantity(lead.term) and not cx.find(lead.term))
    ):
        lead_ent = _lead_feature(cx, block, lead, ctx)
    if PRONOUN_START.match(cx.text[sent.start : sent.end]):
        previous = cx.previous_in_block.get(block.index)
        if previous is not None:
            return previous  # "Multi-AZ for disaster recovery. It's only supported for ..."
    for m in cx.mentions.get(sent.start, []):
        before = cx.text[sent.start : m.start]
        if not in_subject_position(before):
            continue
        if lead is not None and block.start + lead.start <= m.start < block.start + lead.end:
            break  # the sentence is about the item its lead names, not the service in it
        key = cx.choose(m, ctx.service)
        cx.entity_for_key(key)
        return Context(key, cx.owner_service(key) or ctx.service)
    if lead_ent is not None:
        return Context(lead_ent.iri, cx.owner_service(lead_ent.iri) or ctx.service)
    if ctx.subject is None or ctx.subject == cx.section_subject.get(block.section, ctx).subject:
        chain = _chain_mention(cx, block)
        if chain is not None and cx.parsed.sections[block.section].title is None:
            return Context(chain, cx.owner_service(chain) or chain)
    return ctx


_OPENING = re.compile(
    r"\s*(?:[\[(]\d{1,2}:\d{2}(?::\d{2})?[\])]\s*)?(?:[A-Z][A-Za-z]{1,20}:\s+)?"
    r"(?:(?:so|and|now|ok(?:ay)?|right|alright|next(?: up)?|then)[,.:]?\s+)*",
    re.I,
)


def announced_service(cx: DocumentContext, sent: Sentence) -> str | None:
    """The service a sentence of talk (a transcript, a chat, notes without headings) is
    nothing but the name of, after a timestamp, a speaker and a filler word: "[14:18] AWS
    Direct Connect.", "Virtual Machine Scale Sets, VMSS.", "Welcome back. Cloud Spanner."
    The talk is on it until another is announced."""
    mentions = cx.mentions.get(sent.start, [])
    if not mentions or cx.foreign(mentions[0]):
        return None
    text = cx.text[sent.start : sent.end]
    if not _OPENING.fullmatch(text[: mentions[0].start - sent.start]):
        return None
    services = {cx.owner_service(cx.choose(m, None)) or cx.choose(m, None) for m in mentions}
    rest = (
        "".join(
            text[m.end - sent.start : n.start - sent.start]
            for m, n in zip(mentions, [*mentions[1:], None], strict=False)
            if n is not None
        )
        + text[mentions[-1].end - sent.start :]
    )
    if len(services) != 1 or rest.strip(" .,:;!?()—–-"):
        return None
    service = services.pop()
    ent = cx.entities.get(service) or cx.entity_for_key(service)
    return service if ent.kind == "service" else None


def _chain_mention(cx: DocumentContext, block: Block) -> str | None:
    """The last service named in the list a block elaborates ("Go to Route53 > ...")."""
    ref = block.lead if block.lead is not None else block.intro
    if ref is None:
        return None
    ref_block = cx.parsed.blocks[ref]
    start = ref_block.intro if ref_block.intro is not None else ref
    for b in reversed(cx.parsed.blocks[start : ref + 1]):
        for s in reversed(cx.sentences_by_block.get(b.index, [])):
            ms = cx.mentions.get(s.start, [])
            if ms:
                return cx.choose(ms[-1], None)
    return None


def _item_lead(cx: DocumentContext, block: Block) -> Lead | None:
    """The label a list item opens with: "Kinesis Streams: ..." or a bold term set off by a
    dash ("**Standard** — 1 MB events, 7 days retention")."""
    lead = lead_term(cx.text[block.start : block.end])
    if lead is not None:
        return lead
    raw = cx.parsed.document.text[block.start : block.end]  # with its markup
    bold = BOLD_LEAD.match(raw)
    if bold is None or not _DASH_AFTER.match(raw, bold.end()):
        return None
    term = squash(bold.group(1)).strip(" .,;:`")
    if not term or len(term.split()) > MAX_ITEM_WORDS:
        return None
    return Lead(term, bold.start(1), bold.start(1) + len(term), bold.end())


_DASH_AFTER = re.compile(r"\s+[—–-]\s+\S")


def _lead_feature(cx: DocumentContext, block: Block, lead: Lead, ctx: Context) -> Entity | None:
    ev = Evidence(block.start, block.end)
    owner = cx.section_subject.get(block.section, ctx).subject or ctx.subject
    if block.intro is not None or block.lead is not None:
        owner = ctx.subject or owner
    return cx.feature(owner, lead.term, ev, kind=list_kind(cx, block))


def subject_before(cx: DocumentContext, sent: Sentence, pos: int, ctx: Context) -> str | None:
    """The entity named between the clause start and ``pos`` (a verb), else the context."""
    clause_start = sent.start
    before = cx.text[sent.start : pos]
    cut = max(before.rfind(";"), before.rfind(":"), before.rfind(". "))
    if cut >= 0:
        clause_start = sent.start + cut + 1
    if ", " in before[clause_start - sent.start :]:
        tail = before[clause_start - sent.start :]
        clause_start += tail.rfind(", ") + 2
    phrase = cx.text[clause_start:pos]
    if PRONOUN_START.match(phrase) or not phrase.strip():
        return ctx.subject
    for m in cx.mentions.get(sent.start, []):
        if clause_start <= m.start < pos and not NON_SUBJECT_BEFORE.search(
            cx.text[clause_start : m.start]
        ):
            return cx.choose(m, ctx.service)
    words = [w for w in phrase.split() if w.lower() not in STOPWORDS]
    if words:
        ent = cx.link(" ".join(words[-3:]), ctx.subject, allow_new=False)
        if ent is not None:
            return ent.iri
    return ctx.subject


def nearest_before(cx: DocumentContext, sent: Sentence, pos: int) -> str | None:
    before = [m for m in cx.mentions.get(sent.start, []) if m.end <= pos]
    return cx.choose(before[-1], None) if before else None


def named_in(cx: DocumentContext, sent: Sentence, iri: str, pos: int) -> bool:
    return any(x.start < pos and iri in x.keys for x in cx.mentions.get(sent.start, [])) or (
        iri in cx.entities and cx.entities[iri].kind == "feature"
    )
