"""Enumerations: a lead and the items it introduces, read from the document's structure.

However a note words it, a list is a lead plus items:

* list items under the line that introduces them ("Routing methods (six):", "There are three
  types:", "Types of queues:"), or under a list item they are nested in, or under the heading
  of their section when nothing else introduces them;
* an inline list after a colon ("Engines: MySQL, PostgreSQL, SQL Server");
* a table's first column (its rows' names), or its header when the columns are the things
  compared ("| | Basic | Standard | Premium |").

Each becomes one ``Enumeration``: the entity it belongs to (the subject of its lead, else of
its section), the lead as written, the kind of thing the lead names when it names one, and
the items, each a feature (or a known service) with the span it was read from. An item's name
is what it starts with, up to a colon, a dash, a parenthesis or the end of its first clause;
a list whose items are sentences rather than names is no enumeration. Answering matches a
question to the leads by meaning (``kg.answer``), so nothing here depends on the lead's words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kg.extract.context import Context, DocumentContext, Entity
from kg.model import Block, BlockKind, Evidence, Section, Sentence
from kg.text.phrases import (
    BOLD_LEAD,
    is_generic_lead,
    item_name,
    kind_of,
    lead_term,
    list_names,
    looks_like_name_list,
    split_list,
)
from kg.text.quantities import find_quantities
from kg.text.units import Dimension
from kg.text.words import squash

_LEAD_COUNT = re.compile(r"\s*\((?:\w+|\d+)\)\s*$")  # "Routing methods (six)"
_ITEMS = (BlockKind.BULLET, BlockKind.NUMBERED)


@dataclass
class Enumeration:
    owner: str  # the entity the list belongs to
    lead: str  # the lead as written, without its colon
    kind: str | None  # the kind of thing the lead names ("routing policy"), if it names one
    evidence: Evidence  # where the lead is: a block, or the section's heading
    items: list[tuple[str, Evidence]] = field(default_factory=list)  # entity IRIs, in order


def read_enumerations(cx: DocumentContext) -> list[Enumeration]:
    """Every enumeration of the document, in reading order."""
    out: list[Enumeration] = []
    groups: dict[tuple[int, int | None, int], list[Block]] = {}
    for block in cx.parsed.blocks:
        if block.kind in _ITEMS:
            groups.setdefault((block.section, block.intro, block.depth), []).append(block)
    for (section, intro, _), items in groups.items():
        cx.section = section
        found = _item_list(cx, cx.parsed.sections[section], intro, items)
        if found is not None:
            out.append(found)
    for block in cx.parsed.blocks:
        cx.section = block.section
        if block.kind in (*_ITEMS, BlockKind.PARAGRAPH):
            out += _inline_lists(cx, block)
    for part in cx.parsed.sections:
        cx.section = part.index
        out += _label_runs(cx, part)
    out += _table_lists(cx)
    out.sort(key=lambda e: e.evidence.start)
    return out


def _subject(cx: DocumentContext, block: Block | None, section: int) -> str | None:
    ctx = cx.block_subject.get(block.index) if block is not None else None
    if block is not None:
        ctx = cx.previous_in_block.get(block.index, ctx)
    ctx = ctx or cx.section_subject.get(section, Context(None, None))
    return ctx.subject


def _item_list(
    cx: DocumentContext, section: Section, intro: int | None, items: list[Block]
) -> Enumeration | None:
    # An item that is itself a lead with its list ("Storage types: SSD and HDD") is a list of
    # its own (read by _inline_lists), not an item of this one.
    items = [b for b in items if not _leads_a_list(cx.text[b.start : b.end])]
    # Items that lead with a bold term are the list; the plain ones beside them are notes on
    # it ("- replication is **asynchronous**" under "- **Cascading replica** — ...").
    raw = cx.parsed.document.text  # with its markup: bold is blanked out of ``cx.text``
    bold = [b for b in items if BOLD_LEAD.match(raw[b.start : b.end])]
    if 2 <= len(bold) < len(items):
        items = bold
    names = [
        item_name(raw[b.start : b.end]) if b in bold else item_name(cx.text[b.start : b.end])
        for b in items
    ]
    kept = [(n, b) for n, b in zip(names, items, strict=True) if n is not None]
    if len(kept) < 2 or 3 * len(kept) < 2 * len(items):
        return None
    if not looks_like_name_list([n for n, _ in kept]):
        return None
    first = cx.sentences_by_block.get(items[0].index, [])
    asked = cx.question_before(first[0]) if intro is None and first else None
    if asked is not None:
        # "Q: Which protocols does Amazon MQ support?" then "A: - OpenWire ...": the card's
        # question leads the list, whatever heading the card sits under.
        lead_text, owner = asked, _subject(cx, items[0], section.index)
        before = cx.parsed.sentences_in(section.start, first[0].start)
        evidence = (
            Evidence(before[-1].start, before[-1].end)
            if before
            else Evidence(
                section.heading_start or section.start, section.heading_end or section.start
            )
        )
    elif intro is not None:
        lead_block = cx.parsed.blocks[intro]
        start = _lead_start(cx, lead_block)
        lead_text = lead_block_lead(cx.text[start : lead_block.end])
        said = cx.sentences_by_block.get(intro, [])
        if _only_counts(lead_text) and said:  # "A: Three:" under "Q: Search algorithms?"
            lead_text = cx.question_before(said[0]) or lead_text
        evidence = Evidence(start, lead_block.end)
        owner = _subject(cx, lead_block, section.index)
    elif section.title and section.heading_start is not None:
        lead_text = section.title
        evidence = Evidence(section.heading_start, section.heading_end or section.heading_start)
        owner = _subject(cx, None, section.index)
    else:
        return None
    if owner is None or not lead_text:
        return None
    return _enumeration(cx, owner, lead_text, evidence, [(n, b.start, b.end) for n, b in kept])


def _lead_start(cx: DocumentContext, block: Block) -> int:
    """Where the lead of the list a paragraph introduces starts: at its last sentence ("...
    which cuts both cost and time. There are three kinds:"), with the one before when that
    one alone says too little, or at its last line when that line stands on its own
    ("Standard ~$35 per month ...\nPremium only features:")."""
    sents = cx.sentences_by_block.get(block.index, [])
    if not sents:
        return block.start
    last = sents[-1]
    text = cx.text[last.start : last.end]
    line = text.rfind("\n") + 1
    if line and text[line:].lstrip()[:1].isupper():
        return last.start + line
    if len(text.split()) <= 4 and len(sents) >= 2:
        return sents[-2].start
    return last.start


def _lead_service(cx: DocumentContext, lead: str) -> Entity | None:
    """The service a lead opens with: "LA trigger types" lists Logic Apps' trigger types."""
    mentions = cx.find(lead)
    if not mentions or lead[: mentions[0].start].strip():
        return None
    ent = cx.entity_for_key(cx.choose(mentions[0], None))
    return ent if ent is not None and ent.kind == "service" else None


def _sets_an_amount(name: str) -> bool:
    """An item that names something and gives it an amount ("interval default 5 s", "max
    request body 2 MB") states a setting, not a name; an amount alone ("3 years") is one."""
    for q in find_quantities(name):
        if q.dimension is not Dimension.COUNT and re.search(
            r"[A-Za-z]", name[: q.start] + name[q.end :]
        ):
            return True
    return False


def _only_counts(lead: str) -> bool:
    """ "There are three", "we have TWO": a lead that counts its items but says not what."""
    words = re.findall(r"[a-z0-9]+", _STAMP.sub(" ", lead).lower())
    counts = [w for w in words if w in _NUMBERS or w.isdigit()]  # "A:" alone counts nothing
    return bool(counts) and all(w in _COUNT_ONLY or w in counts for w in words)


_COUNT_ONLY = frozenset("a there are is re s we you have get just only basically so now".split())


def _leads_a_list(text: str) -> bool:
    colon = text.find(": ")
    if colon <= 0:
        return False
    items = split_list(text[colon + 2 :])
    return len(items) >= 2 and looks_like_name_list([i for i, _, _ in items])


def lead_block_lead(raw: str) -> str:
    """The lead a block gives a list: its own text without the colon, or its label."""
    text = squash(raw).rstrip(":").strip()
    lead = lead_term(raw)
    if lead is not None and not raw.rstrip().endswith(":"):
        text = lead.term  # "• Kinesis Streams: ..." nests a list under "Kinesis Streams"
    return _LEAD_COUNT.sub("", text) or text


def _inline_lists(cx: DocumentContext, block: Block) -> list[Enumeration]:
    """ "Engines: MySQL, PostgreSQL, SQL Server", "There are three types: A, B and C"."""
    out: list[Enumeration] = []
    if cx.is_category_line(block):
        return out  # "Compute: ec2, lambda" files services under a category (kg.extract.structure)
    for sent in cx.sentences_by_block.get(block.index, []):
        text = cx.text[sent.start : sent.end]
        labelled = None
        # The colon that opens the list: the first before a name list ("DeletionPolicy:\n
        # Delete, Retain, Snapshot"), not one over a label ("Parameter Store:\nTypes: ...").
        colon = next(
            (
                m.start()
                for m in re.finditer(r":\s", text[:81])
                if ":" not in text[m.end() : m.end() + 40].split(",")[0]
            ),
            -1,
        )
        if colon <= 0:
            continue
        lead_text = _LEAD_COUNT.sub("", text[:colon].strip()) or text[:colon].strip()
        before = [b for b in cx.sentences_by_block.get(block.index, []) if b.end <= sent.start]
        if _only_counts(lead_text) and before:
            # "Scale-in policy decides which VM gets removed. There are three: Default, ...":
            # the sentence before says what is counted.
            lead_text = _STAMP.sub(" ", cx.text[before[-1].start : sent.start] + lead_text)
        elif len(lead_text) <= 3:  # "A: CloudWatch, SNS" answers "Q: Event destinations?"
            lead_text = cx.question_before(sent) or lead_text
        elif sent.start > block.start and is_generic_lead(lead_text):
            # "Secondary workers: compute only. Types: preemptible, Spot": whose types.
            label = lead_term(cx.text[block.start : block.end])
            lead_text = f"{label.term} {lead_text}" if label else lead_text
            # ... and they belong to what the label names ("Parameter Store: ... Types: ...").
            labelled = cx.link(label.term, None, allow_new=False) if label else None
        items = split_list(text[colon + 2 :])
        # An aside in parentheses is no part of the name: "SecureString (encrypted with KMS)".
        bare = list_names([i for i, _, _ in items])
        if len(items) < 2 or not looks_like_name_list(bare):
            continue
        items = items[: len(bare)]  # an open end ("and any OpenID Connect provider") names none
        base = sent.start + colon + 2
        named = [(n, base + s, base + e) for i, s, e in items if (n := item_name(i)) is not None]
        # The list belongs to what its lead names, else to what the block is about: not to a
        # service that opens the sentence as one of the items ("CloudFront, Route 53, VPC").
        head, _, tail = lead_text.rpartition(":")
        if head and is_generic_lead(tail.strip()):  # "Parameter Store:\nTypes: String, ..."
            labelled = cx.link(head.strip(), None, allow_new=False)
        lead_entity = (
            cx.link(lead_text, None, allow_new=False) or labelled or _lead_service(cx, lead_text)
        )
        owner = (
            Context(lead_entity.iri, None)
            if lead_entity
            # else what the talk is about where the list starts (a transcript's paragraph
            # may run over several services): not a service the list itself names
            else cx.sentence_subject.get(before[-1].start)
            if before
            else cx.block_subject.get(block.index)
        )
        if owner is None or owner.subject is None or len(named) < 2:
            continue
        found = _enumeration(
            cx, owner.subject, lead_text, Evidence(sent.start, sent.end), named, whole=sent
        )
        if found is not None:
            out.append(found)
    return out


_STAMP = re.compile(
    r"\s*(?:\[\d{1,2}:\d{2}(?::\d{2})?\]|\(\d{1,2}:\d{2}(?::\d{2})?\))\s*"
    r"(?:[A-Z][A-Za-z]{1,20}:\s+(?=\S))?"  # a timestamp, and a speaker ("INSTRUCTOR:")
)
# "Manual: nothing ...", "Read-only transactions — no locks ...", "And witness replicas: ..."
_LABEL = re.compile(
    r"(?:(?i:and|then|finally|lastly)\s+([\w/&+'-]+(?: [\w/&+'-]+){0,3})"
    r"|([A-Z][\w/&+'-]*(?: [\w/&+'-]+){0,3}))(?::|\s+[—–]|\s+-(?=\s))\s+\S"
)
# "Standard, for hot data ...", "And Flexible, which ...": a name set off by a comma
_NAMED = re.compile(
    r"(?:(?i:and|then|finally|lastly)\s+)?"
    r"(?:(?i:an?|the)\s+([\w/&+'-]+(?: [\w/&+'-]+)?)|([A-Z][\w/&+'-]*(?: [A-Z0-9][\w/&+'-]*){0,2}))"
    r",\s+(?=[a-z])"
)  # ... then a clause about it, not the next name ("Standard HDD, Standard SSD, ...")
# "First one, ...", "Second, ...", "Number two, ...", "And third is ...", "Four, ..."
_ORDINAL = re.compile(
    r"(?i:(?:and\s+)?(?:(?:the\s+)?(?:first|second|third|fourth|fifth|sixth|last)(?:\s+one)?"
    r"|number\s+(?:one|two|three|four|five|six|\d)|one|two|three|four|five|six))"
    r"(?:\s*[,:]\s+|\s+is\s+)(?=\S)"
)
_NUMBERS = {w: n for n, w in enumerate("two three four five six seven eight nine ten".split(), 2)}
_COUNTED = re.compile(
    r"\b(two|three|four|five|six|seven|eight|nine|ten|\d{1,2})\s+(?:[\w-]+\s+){0,2}[a-z][\w-]*s\b",
    re.I,
)
_RUN_GAP = 3  # sentences of explanation an item may run on for before the next label
_NOT_LABELS = frozenset(
    "yes no ok okay right well so now also plus again first second third next then one two"
    " three four five six seven eight nine ten".split()
)


def _label_runs(cx: DocumentContext, section: Section) -> list[Enumeration]:
    """Prose that counts its items, then names each one in turn: "Three modes. Manual:
    nothing happens ... Automatic: ... Rolling: ..." or "There are four storage classes.
    Standard, for hot data ... Nearline, for ... And Archive, for ..." (lectures,
    transcripts). The sentence that counts is the lead; the names that open the sentences
    after it are the items, as many as it counts, while at most ``_RUN_GAP`` sentences of
    explanation separate one from the next; names that repeat (a chat's speakers) are no
    list."""
    sents = [
        s
        for s in cx.parsed.sentences_in(section.start, section.end)
        if cx.parsed.blocks[s.block].kind is BlockKind.PARAGRAPH
    ]
    out: list[Enumeration] = []
    k = 0
    while k < len(sents):
        lead_sent = sents[k]
        lead = _STAMP.sub(" ", cx.text[lead_sent.start : lead_sent.end]).strip()
        counted = _announces(lead)
        k += 1
        if counted is None:
            continue
        word = counted.group(1).lower()
        count = int(word) if word.isdigit() else _NUMBERS[word]
        items: list[tuple[str, int, int]] = []
        gap, at = 0, k
        listed = _name_list(cx, sents[k]) if k < len(sents) else []
        if len(listed) == count:  # "So managed disks, five types. Standard HDD, Standard SSD, ..."
            items, at = listed[:count], k + 1
        while at < len(sents) and len(items) < count and gap <= _RUN_GAP:
            label = _label_in(cx, sents[at])
            if label is not None:
                items.append(label)
                gap = 0
            elif not items:
                break  # the list starts right after its lead
            else:
                gap += 1
            at += 1
        names = [n for n, _, _ in items]
        if len(items) < 2 or len(set(names)) < len(names) or not looks_like_name_list(names):
            continue
        if len(lead.split()) <= 3 and k >= 2:  # "Three modes." says what only with the one before
            before = sents[k - 2]
            lead = _STAMP.sub(" ", cx.text[before.start : lead_sent.end]).strip()
        owner = cx.sentence_subject.get(lead_sent.start)
        if owner is None or owner.subject is None:
            continue
        found = _enumeration(
            cx, owner.subject, lead, Evidence(lead_sent.start, lead_sent.end), items
        )
        if found is not None:
            out.append(found)
            k = at
    return out


def _name_list(cx: DocumentContext, sent: Sentence) -> list[tuple[str, int, int]]:
    """The names of a sentence that is nothing but a list of names."""
    text = _STAMP.sub(lambda m: " " * len(m.group(0)), cx.text[sent.start : sent.end])
    items = split_list(text.rstrip(" ."))
    names = [(n, sent.start + a, sent.start + b) for i, a, b in items if (n := item_name(i))]
    if (
        len(names) < 2
        or len(names) < len(items)
        or not looks_like_name_list([n for n, _, _ in names])
    ):
        return []
    return names


def _announces(lead: str) -> re.Match[str] | None:
    """The count a sentence ends on when it announces a list ("There are four storage
    classes.", "Three modes.", "AWS has the resiliency toolkit, three models."), not when
    it states an amount ("Max interleaving depth is 7 tables.")."""
    found = None
    for m in _COUNTED.finditer(lead):
        found = m
    if found is None:
        return None
    before = lead[: found.start()].split()
    tail = lead[found.end() :].strip(" .:;!—-").split()
    # "There are three storage classes in EFS now.": what has them may follow the count.
    counts = bool(before) and before[-1].lower() in ("are", "have", "has")
    if tail and not (counts and len(tail) <= 4 and not any(c.isdigit() for c in tail)):
        return None
    return None if before and before[-1].lower() in _AMOUNT_BEFORE else found


_AMOUNT_BEFORE = frozenset("is was be of to than up at by over under about around max min".split())


def _label_in(cx: DocumentContext, sent: Sentence) -> tuple[str, int, int] | None:
    """The name a sentence opens with as a label ("Manual: ...") or set off by a comma
    ("Standard, for hot data ..."), or after the word that counts it ("First one, EFS
    Standard, that's ...", "Number two, Amazon FSx File Gateway.", "And third is ...")."""
    text = cx.text[sent.start : sent.end].replace("\n", " ")  # prose wraps its lines
    stamp = _STAMP.match(text)
    at = stamp.end() if stamp else 0
    ordinal = _ORDINAL.match(text, at)
    if ordinal is not None:
        name = item_name(text[ordinal.end() :])
        if name is None or len(name.split()) > 5:
            return None
        start = sent.start + ordinal.end()
        return name, start, start + len(name)
    m = _LABEL.match(text, at) or _NAMED.match(text, at)
    if m is None:
        return None
    g = next(i for i in range(1, (m.re.groups or 0) + 1) if m.group(i))  # the name's group
    name = m.group(g)
    if item_name(name) != name or name.lower() in _NOT_LABELS:
        return None
    return name, sent.start + m.start(g), sent.start + m.end(g)


def _table_lists(cx: DocumentContext) -> list[Enumeration]:
    """A table's row names, and its columns when they are the things compared."""
    out = []
    headers = [b for b in cx.parsed.blocks if b.kind is BlockKind.TABLE_HEADER]
    for header in headers:
        cx.section = header.section
        rows = [b for b in cx.parsed.blocks if b.table == header.index and b.index in cx.rows]
        section = cx.parsed.sections[header.section]
        owner = _subject(cx, None, header.section)
        if owner is None or not rows:
            continue
        title = section.title or ""
        first = header.cells[0].text if header.cells else ""
        names = [(cx.rows[r.index].name, r.start, r.end) for r in rows]
        named = [(n, s, e) for n, s, e in names if n]
        if cx.rows[rows[0].index].columns_are_entities and len(header.cells) > 2:
            columns = [(c.text, c.start, c.end) for c in header.cells[1:] if c.text]
            found = _enumeration(
                cx, owner, title or first, Evidence(header.start, header.end), columns
            )
            if found is not None:
                out.append(found)
        elif len(named) >= 2:
            lead_text = f"{title} {first}".strip() if first and first.lower() != "" else title
            found = _enumeration(
                cx,
                owner,
                lead_text or first,
                Evidence(header.start, header.end),
                named,
            )
            if found is not None:
                out.append(found)
    return out


def _enumeration(
    cx: DocumentContext,
    owner: str,
    lead_text: str,
    evidence: Evidence,
    names: list[tuple[str, int, int]],
    *,
    whole: object = None,
) -> Enumeration | None:
    lead_text = squash(lead_text)
    if len(lead_text) < 3:
        return None  # a table without a title or a header to name what it lists
    if any(_sets_an_amount(name) for name, _, _ in names):
        return None  # "health probes:" over "interval default 5 s", "source IP ...": settings
    kind = kind_of(lead_text)
    found = Enumeration(owner, lead_text, kind, evidence)
    for name, start, end in names:
        ev = Evidence(start, end) if whole is None else evidence
        linked = cx.link(name, owner, allow_new=False)
        ent: Entity | None = linked
        if linked is not None and linked.kind == "service":
            linked.cite(ev)  # "Handlers: Azure Functions, Event Hubs": services, not features
        else:
            ent = cx.feature(owner, name, ev, kind=kind)
        if ent is not None and ent.iri != owner and ent.iri not in {i for i, _ in found.items}:
            found.items.append((ent.iri, ev))
    return found if len(found.items) >= 2 else None
