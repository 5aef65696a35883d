"""Lists and tables -> features: list items and table rows name features of the kind their
lead enumerates ("Types of queues:", "There are three types: ..."), lists announced by a
verb ("supports the following:") become relations, "Compute: ec2, lambda" a category."""

from __future__ import annotations

import re

from kg import vocab
from kg.extract.context import Context, DocumentContext, Entity
from kg.extract.patterns import (
    ANNOUNCED_LIST,
    SUPPORTED_INCLUDE,
)
from kg.extract.tables import read_row
from kg.model import Block, BlockKind, Evidence, Sentence
from kg.text.phrases import (
    clean_name,
    kind_of,
    lead_term,
    looks_like_name_list,
    split_list,
)
from kg.text.units import Dimension, Quantity
from kg.text.words import STOPWORDS, norm_key, singular, squash


def plural_heading(title: str) -> bool:
    title = re.sub(r"\s+(?:supported|available|offered|included)$", "", title, flags=re.I)
    last = title.split()[-1].lower() if title.split() else ""
    return last.endswith("s") and not last.endswith("ss") and len(title.split()) <= 4


def _is_step(text: str) -> bool:
    """A how-to step ("Go to Route53 > Register Domain"), not a name."""
    first = text.split()[0].lower() if text.split() else ""
    return ">" in text or first in {
        "go",
        "select",
        "create",
        "fill",
        "enable",
        "set",
        "choose",
        "attach",
        "edit",
        "change",
        "name",
        "click",
        "search",
        "purchase",
        "then",
        "open",
        "add",
        "configure",
        "run",
        "type",
    }


def _shared_head(names: list[str]) -> str | None:
    """The head noun written once for a whole list: "application, network and classic load
    balancers" -> "load balancer"."""
    last = re.sub(r"\s*\([^)]*\)", "", names[-1]).split()
    plural = len(last) >= 2 and last[-1].lower().endswith("s") and not last[-1].isupper()
    if plural and all(len(re.sub(r"\s*\([^)]*\)", "", n).split()) == 1 for n in names[:-1]):
        return " ".join(singular(w) for w in last[1:])
    return None


def _titlecase_if_lower(name: str) -> str:
    return name[0].upper() + name[1:] if name and name[0].islower() else name


def list_kind(cx: DocumentContext, block: Block) -> str | None:
    if block.intro is not None:
        intro = cx.parsed.blocks[block.intro]
        intro_text = cx.text[intro.start : intro.end]
        lead = lead_term(intro_text)
        kind = kind_of(
            lead.term if lead and intro_text.rstrip().endswith(":") is False else intro_text
        )
        if kind:
            return kind
    section = cx.parsed.sections[block.section]
    if section.title and block.kind in (BlockKind.BULLET, BlockKind.NUMBERED):
        title = section.title
        for m in reversed(cx.find(title)):
            title = title[: m.start] + title[m.end :]
        title = re.sub(r"^\s*(?:AWS|Amazon)\s+", "", squash(title))
        return kind_of(title) if title and plural_heading(title) else None
    return None


def read_lists_and_tables(cx: DocumentContext, block: Block, ctx: Context) -> None:
    ev = Evidence(block.start, block.end)
    text = cx.text[block.start : block.end]
    if block.kind is BlockKind.TABLE_ROW:
        _table_row(cx, block, ctx)
        return
    if block.kind in (BlockKind.BULLET, BlockKind.NUMBERED):
        if _introduced_item(cx, block):
            return
        if block.kind is BlockKind.NUMBERED and _is_step(text):
            return
        kind = list_kind(cx, block)
        lead = lead_term(text)
        fragment = re.match(r"([A-Z][\w-]*(?:\s+[\w-]+){0,3})\s+for\s+([a-z][\w\s-]{2,30})\.", text)
        if lead is None and fragment and block.kind is BlockKind.BULLET:
            ent = cx.feature(ctx.subject, f"{fragment.group(1)} for {fragment.group(2)}", ev)
            if ent is not None:
                cx.previous_in_block[block.index] = Context(ent.iri, ctx.service)
        bare = re.sub(r"\s*\([^)]*\)", "", text)  # "Aurora MySQL (version 3.02 and higher)"
        standalone_label = len(bare.split()) <= 6 and not text.rstrip().endswith((".", ":"))
        if lead is None and standalone_label and kind and not cx.is_category_line(block):
            cx.feature(ctx.subject, text, ev, kind=kind)
        elif (
            lead is None
            and text.rstrip().endswith(":")
            and len(text.split()) <= 4
            and cx.label_entity(block, ctx) is None
            and kind_of(text) is None
        ):
            cx.feature(ctx.subject, text.rstrip(":"), ev)
    if block.kind in (BlockKind.BULLET, BlockKind.NUMBERED, BlockKind.PARAGRAPH):
        _categories(cx, block)
        _inline_kinds(cx, block, ctx)


def _introduced_item(cx: DocumentContext, block: Block) -> bool:
    """An item of a list its intro announces with a verb: "AWS Backup supports the
    following resources:" then "• Amazon EBS volumes" (a supported service), "A rule can
    take one of the following actions:" then "1. Allow — ..." (an action, a feature)."""
    if block.intro is None:
        return False
    intro = cx.parsed.blocks[block.intro]
    m = ANNOUNCED_LIST.search(cx.text[intro.start : intro.end])
    if m is None or cx.text[intro.start + m.end() : intro.end].strip():
        return False
    subject = cx.previous_in_block.get(block.intro, cx.block_subject.get(block.intro))
    if subject is None or subject.subject is None:
        return False
    text = cx.text[block.start : block.end]
    name = re.split(r"\s+[—–-]\s+|:\s|\s*\(|\.\s|\.$", text, maxsplit=1)[0].strip()
    ev = Evidence(block.start, block.end)
    ent = _announced(cx, subject, m, name, ev)
    if ent is not None and ent.kind != "service":
        cx.previous_in_block[block.index] = Context(ent.iri, subject.service)
    return ent is not None


def announced_inline(cx: DocumentContext, text: str, ev: Evidence, ctx: Context) -> None:
    """ "AWS WAF can protect the following resources: Amazon CloudFront distributions,
    Application Load Balancers (ALB) and AWS AppSync GraphQL APIs.", "Supported
    frameworks include Next.js, React, Angular and Vue." """
    m = ANNOUNCED_LIST.search(text)
    if m is not None and m.group("verb").lower().startswith("support"):
        return  # "supports the following X: a, b" is read by _supports
    m = m or SUPPORTED_INCLUDE.match(text)
    if m is None or ctx.subject is None:
        return
    items = split_list(text[m.end() :])
    if len(items) < 2:
        return
    for item, _, _ in items:
        if not re.match(r"(?:plus|other|and)\b", item, re.I):  # "plus other generators"
            _announced(cx, ctx, m, re.split(r"\s*\(", item, maxsplit=1)[0], ev)


def _announced(
    cx: DocumentContext, subject: Context, m: re.Match[str], name: str, ev: Evidence
) -> Entity | None:
    """One announced item: a service the subject supports (or works with), else a
    feature of the kind the announcement names."""
    name = name.strip(" .,;")
    if subject.subject is None or not name or len(name.split()) > 6:
        return None
    supports = not re.match(r"(?:integrat|work)", m.group("verb"), re.I)
    found = cx.find(name)
    lead = re.match(r"(?:(?:AWS|Amazon)\s+)?", name)
    if found and found[0].start <= (lead.end() if lead else 0):
        key = cx.choose(found[0], subject.service)
        target = cx.entity_for_key(key, ev)
        if target.kind in ("service", "feature") and key != subject.subject:
            cx.relate(subject.subject, "supports" if supports else "worksWith", key, ev)
            return target
    if not supports:
        return None
    ent = cx.feature(subject.subject, name, ev, kind=kind_of(m.group("noun")))
    if ent is not None and re.match(r"support", m.group("verb"), re.I):
        cx.relate(subject.subject, "supports", ent.iri, ev)
    return ent


def _categories(cx: DocumentContext, block: Block) -> None:
    """ "Compute: ec2, lambda" -> both services are in the Compute category."""
    text = cx.text[block.start : block.end]
    lead = lead_term(text)
    if lead is None:
        return
    rest = text[lead.rest_start :]
    items = split_list(rest)
    if not items:
        return
    keys = []
    for item, _, _ in items:
        ms = cx.find(item)
        if len(ms) != 1 or len(ms[0].text) < len(item) - 1:
            return
        key = ms[0].keys[0]
        if cx.owner_service(key) != key:
            return
        keys.append(key)
    cats = cx.ex.category_matcher.find(lead.term)
    ev = Evidence(block.start, block.end)
    if cats:
        cat_iri, cat_label = cats[0].keys[0], cx.ex.lexicon.entries[cats[0].keys[0]].label
    else:
        cat_label = squash(lead.term)
        cat_iri = vocab.category_iri(cat_label)
    cat = cx.entities.setdefault(cat_iri, Entity(cat_iri, "category", cat_label, known=bool(cats)))
    cat.cite(ev)
    for key in keys:
        cx.entity_for_key(key, ev)
        cx.relate(key, "inCategory", cat_iri, ev)


def _inline_kinds(cx: DocumentContext, block: Block, ctx: Context) -> None:
    """ "There are three types: application (...), network (...) and classic load balancers",
    "2 types of replicas available: aurora replicas and MySQL replicas",
    "Types: (1) Web Distribution: ...; and (2) RTMP: ..."."""
    for sent in cx.sentences_by_block.get(block.index, []):
        text = cx.text[sent.start : sent.end]
        m = re.search(
            r"(?:^|\b)(?:there\s+are\s+|we\s+have\s+|it\s+has\s+)?(?:\w+\s+)?"
            r"((?:[\w-]+\s+)?(?:types?|kinds?|classes|tiers|modes|options|levels|sizes|"
            r"frameworks|formats|families|editions)"
            r"(?:\s+of\s+[\w-]+(?:\s+[\w-]+)?)?)(?:\s+available)?\s*:\s*",
            text,
            re.IGNORECASE,
        ) or re.search(
            r"^\s*(?:there\s+are|we\s+have|it\s+(?:has|offers|comes\s+in))\s+"
            r"(?:two|three|four|five|six|seven|eight|several|many|\d+)\s+"
            r"((?:[\w-]+\s+){0,2}[\w-]+s)\s*:\s*",
            text,
            re.IGNORECASE,
        )
        if not m:
            continue
        # "Deployment types: Single-AZ and Multi-AZ" -> "deployment type"
        kind = kind_of(text[: m.end()].rstrip().rstrip(":")) or kind_of(m.group(1)) or "type"
        body_start = sent.start + m.end()
        items = split_list(cx.text[body_start : sent.end])
        names = [i for i, _, _ in items]
        cleaned = [clean_name(n) for n in names]
        if not looks_like_name_list(
            [c.label if c else n for c, n in zip(cleaned, names, strict=True)]
        ):
            continue
        owner = ctx.subject
        head = _shared_head(names)
        ev = Evidence(sent.start, sent.end)
        for item, _, _ in items:
            name = item
            name = re.sub(r"\s*\([^)]*\)", "", name).strip()
            if head and not name.lower().endswith(head.lower()) and len(name.split()) == 1:
                name = f"{name} {head}"
            elif len(name.split()) == 1 and name.islower() and owner:
                owner_label = cx.entities[owner].label if owner in cx.entities else ""
                last = owner_label.split()[-1] if owner_label else ""
                if last and last[0].isalpha() and last.lower() not in STOPWORDS:
                    name = f"{name} {singular(last).lower()}"
            cx.feature(owner, _titlecase_if_lower(name), ev, kind=kind)


def _service_cell(cx: DocumentContext, text: str) -> str | None:
    """The service a table cell is nothing but the name of."""
    found = cx.find(text.strip())
    if len(found) != 1 or found[0].end - found[0].start < len(text.strip()) - 1:
        return None
    key = cx.choose(found[0], None)
    service = cx.owner_service(key) or key
    ent = cx.entities.get(service) or cx.entity_for_key(service)
    return service if ent.kind == "service" else None


def _table_row(cx: DocumentContext, block: Block, ctx: Context) -> None:
    assert block.table is not None
    header = cx.parsed.blocks[block.table]
    row = read_row(cx, header, block)
    if row is not None:
        cx.rows[block.index] = row
        named = _service_cell(cx, row.service) if row.service else None
        if named is not None:  # "| Max policy document size | API Management | 256 KB |"
            ctx = Context(named, named)
        if row.tier and row.name is None and ctx.service is not None:
            # "| Built-in cache | API Management | Premium | 5 GB per unit |": Premium's limit
            tier = cx.feature(ctx.service, row.tier, Evidence(block.start, block.end), kind="tier")
            if tier is not None:
                ctx = Context(tier.iri, ctx.service)
    if row is None:
        cx.block_subject[block.index] = ctx
        return
    ev = Evidence(block.start, block.end)
    kind = None
    if header.intro is not None:
        intro = cx.parsed.blocks[header.intro]
        kind = kind_of(cx.text[intro.start : intro.end])
    kind = kind or row.kind
    if row.columns_are_entities:
        cx.block_subject[block.index] = ctx  # the limits name the column's thing
        return
    if row.name is None:
        cx.block_subject[block.index] = ctx
        return
    priced = any(
        isinstance(a, Quantity) and a.dimension is Dimension.USD
        for cell in row.cells
        for a in cell.amounts
    )
    # a price list across services: "| Glue ETL job | $0.44 per DPU-hour |"
    owner = (cx.named_service(row.name) if priced else None) or ctx.subject
    ent = cx.feature(owner, row.name, ev, kind=kind)
    if ent is None:
        cx.block_subject[block.index] = ctx
        return
    for alias in row.aliases:
        if norm_key(alias) != norm_key(ent.label):
            ent.aliases.add(alias)
            cx.index_feature(ctx.subject or ent.iri, ent)
    cx.block_subject[block.index] = Context(ent.iri, cx.owner_service(ent.iri) or ctx.service)
    if owner != ctx.subject:
        return
    for column, value, _ in row.matrix:
        col = cx.link(column, ctx.subject) or cx.feature(ctx.subject, column, ev)
        if col is not None and value:
            cx.relate(col.iri, "supports", ent.iri, ev)
    for column in row.has:  # "| Standard | ... | Yes |" under "Autoscale": Standard supports it
        col = cx.link(column, ctx.subject) or cx.feature(ctx.subject, column, ev)
        if col is not None and col.iri != ent.iri:
            cx.relate(ent.iri, "supports", col.iri, ev)


def heading_kind(cx: DocumentContext, sent: Sentence) -> str | None:
    """The kind a plural heading names: "Supported formats" -> "format"."""
    section = cx.parsed.sections[cx.parsed.blocks[sent.block].section]
    if not section.title or not plural_heading(section.title):
        return None
    title = re.sub(r"^(?:supported|available|common|main|key)\s+", "", section.title, flags=re.I)
    for m in reversed(cx.find(title)):
        title = title[: m.start] + title[m.end :]
    return kind_of(squash(title)) if title.strip() else None


def objects(
    cx: DocumentContext,
    body: str,
    owner: str | None,
    ev: Evidence,
    kind: str | None = None,
) -> list[str]:
    out = []
    items = [i for i, _, _ in split_list(body)]
    head = _shared_head(items) if len(items) > 1 else None
    for item in items:
        item = re.sub(r"\s*\([^)]*\)\s*$", "", item).strip()
        if head and len(item.split()) == 1 and item.islower():
            item = f"{item} {head}"
        item = re.sub(r"^(?:the|a|an|any|all|both)\s+", "", item, flags=re.I)
        if not item or len(item.split()) > 6 or item.lower() in STOPWORDS:
            continue
        ent = cx.link(item, owner) or cx.feature(owner, item, ev, kind=kind)
        if ent is not None:
            out.append(ent.iri)
    return out
