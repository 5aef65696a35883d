"""What an answered turn leaves for the next one: its subject, the narrower thing it was about
(its focus), the items its answer listed, and the limit it answered.

A follow-up refers to the previous ANSWER, not only to the previous question: "them" and
"which of them" mean the items the answer listed, "the latency one" one of those items, "it"
the thing the last turn was about, "and the default?" the limit the answer stated. ``Context``
holds exactly that, built turn by turn: ``Context.after(previous, turn, answer)``. What a turn
does not replace (a subject, a list) carries over from the context before it, so a third turn
can still say "which of the policies ..." about the list of the first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kg import vocab
from kg.answer.analysis import Analysis
from kg.answer.catalog import Catalog, Linked
from kg.model import Answer, Hit, Term
from kg.text.words import STOPWORDS, edit_distance, norm_key, singular, stem

__all__ = [
    "CARRIED_KINDS",
    "GENERIC_HEADS",
    "LIMIT_PREDICATES",
    "ORDINALS",
    "Context",
    "Listed",
    "Ref",
    "features_named",
    "features_of",
    "find_item",
    "kind_words",
    "list_items",
    "same_item",
    "source_hits",
]

CARRIED_KINDS = frozenset({"service", "feature", "topic", "category"})
LIMIT_PREDICATES = frozenset(
    vocab.CKG + p for p in ("minValue", "maxValue", "defaultValue", "value")
)
# List heads that say nothing about the items ("What are the three types of Kinesis?").
GENERIC_HEADS = frozenset(
    "type types kind kinds sort sorts option options variant variants flavour flavours flavor "
    "flavors way ways one ones thing things".split()
)
_EARLIER = 3  # earlier lists a turn can name
_ORDINALS = {
    **{w: i for i, w in enumerate("first second third fourth fifth sixth".split())},
    **{w: i for i, w in enumerate("1st 2nd 3rd 4th 5th 6th".split())},
}
ORDINALS = frozenset({*_ORDINALS, "last"})  # words that point at an item by its place


@dataclass(frozen=True)
class Ref:
    """Something a turn names and a later turn can refer to (``iri`` None: the notes never
    mention it)."""

    label: str
    iri: str | None
    kind: str  # service | feature | topic | category | item | name | unknown
    words: str | None = None  # what the user called it, when the label is made up from it

    def as_dict(self) -> dict[str, Any]:
        return {"iri": self.iri, "label": self.label, "kind": self.kind}

    @classmethod
    def of(cls, term: Term, kind: str = "item") -> Ref:
        return cls(term.label, term.iri, kind)


@dataclass(frozen=True)
class Listed:
    """A list an answer gave: what its items are (``head``), the items, where it was found."""

    head: str | None
    items: tuple[Term, ...]
    found_in: tuple[Hit, ...]
    asked: str = ""  # the question that listed them

    def names(self, noun: str) -> bool:
        """Whether ``noun`` ("policies") is a noun of the question that asked for the list
        ("What DeletionPolicy options does CloudFormation support?")."""
        text = f"{self.head or ''} {self.asked}"
        words = re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", text)
        return stem(singular(noun.lower())) in {stem(singular(w.lower())) for w in words}


@dataclass
class Context:
    """What the conversation so far offers a follow-up."""

    question: str  # the user's words
    text: str  # the question as answered
    analysis: Analysis
    answer: Answer
    subject: Ref | None = None  # the service (or entity) the conversation is about
    focus: Ref | None = None  # a narrower thing the last turn was about ("the latency one")
    items: tuple[Term, ...] = ()  # what the last list answer listed (or kept, for "of them")
    head: str | None = None  # what the items are ("routing policies")
    refs: list[Ref] = field(default_factory=list)  # everything the turn named
    found_in: tuple[Hit, ...] = ()  # the passages of the answer that listed the items
    earlier: tuple[Listed, ...] = ()  # the lists before this one, the last first
    listed_by: str = ""  # the question (as answered) that listed the items

    def list_of(self, noun: str) -> Listed:
        """The list a noun names ("which of the policies ...": the policies listed two turns
        back, not the resources listed since): the last one whose head holds the noun, else
        the last one."""
        last = Listed(self.head, self.items, self.found_in, self.listed_by)
        for listed in (last, *self.earlier):
            if listed.names(noun):
                return listed
        return last

    @property
    def target(self) -> Ref | None:
        """What "it" means: the focus, else the subject."""
        return self.focus or self.subject

    @property
    def limit(self) -> tuple[str | None, Term | None]:
        """The quantity and subject of the limit the answer stated ("message retention
        period", Amazon SQS)."""
        for f in self.answer.facts:
            if f.predicate.iri in LIMIT_PREDICATES:
                quantity = re.sub(r"\s*\([^)]*\)\s*$", "", f.predicate.label).strip()
                return quantity or None, f.subject
        return None, None

    @classmethod
    def after(
        cls,
        previous: Context | None,
        question: str,
        text: str,
        analysis: Analysis,
        answer: Answer,
        catalog: Catalog,
        *,
        focus: Ref | None = None,
        items: Sequence[Term] | None = None,
        head: str | None = None,
        keep_subject: bool = False,
    ) -> Context:
        """The context once ``question`` (asked as ``text``) has been answered. ``focus`` and
        ``items`` are what a rule resolved (the item named, the intersection kept)."""
        refs = named(analysis)
        subject = _subject(analysis, catalog) or (previous.subject if previous else None)
        if keep_subject and previous is not None and previous.subject is not None:
            subject = previous.subject  # "and the default?" is still about the same thing
        head = head or _head(analysis, question) or (previous.head if previous else None)
        if focus is None and not analysis.unknown:
            focus = _focus(analysis, subject, head, catalog)
        listed = list(items) if items is not None else list_items(answer)
        if items is None:
            listed = _lead_list(answer, listed, head, catalog, subject) or listed
        if items is None and _other_kind(listed, head, catalog):
            listed = []  # asked for tiers, answered with resource types: not the list asked
        if items is None and analysis.intent == "list" and len(listed) < 2:
            kinded = _kinded_features(subject, head, catalog)
            listed = (
                (kinded if len(kinded) >= 2 else [])
                or _header_cells(answer)
                or _section_list(answer.passages, head, catalog, subject)
                or kinded
                or listed
            )
        found_in = (*source_hits(answer), *answer.passages)
        if items is not None and previous is not None:
            found_in = (*previous.found_in, *source_hits(answer), *answer.passages)
        earlier = previous.earlier if previous is not None else ()
        listed_by = text
        if len(listed) < 2 and items is None and previous is not None and previous.items:
            # No list of its own: the previous list can still be referred to.
            listed, head = list(previous.items), previous.head
            found_in, listed_by = previous.found_in, previous.listed_by
        elif previous is not None and previous.items and tuple(listed) != previous.items:
            # A list of its own: the one before can still be named ("which of the policies")
            kept = Listed(previous.head, previous.items, previous.found_in, previous.listed_by)
            earlier = (kept, *earlier)[:_EARLIER]
        return cls(
            question,
            text,
            analysis,
            answer,
            subject,
            focus,
            tuple(listed),
            head,
            refs,
            found_in,
            earlier,
            listed_by,
        )


def source_hits(answer: Answer) -> list[Hit]:
    """The sentences the answer's facts were read from, as passages ("2. Push - PubSub sends
    an HTTPS POST to your endpoint" for the list item Push)."""
    return [
        Hit(f"{s.document}:{s.start}", s.text, s.document, s.section, s.start, s.end, 0.0)
        for s in dict.fromkeys(f.source for f in answer.facts if f.source is not None)
    ]


def named(analysis: Analysis) -> list[Ref]:
    """What a question names, services first, then in order; names the notes never use last."""
    seen: dict[str, Ref] = {}
    linked = sorted(
        (e for e in analysis.entities if e.kind in CARRIED_KINDS),
        key=lambda e: (e.kind != "service", e.start if e.start >= 0 else 10**6),
    )
    for e in linked:
        seen.setdefault(e.iri, Ref(e.label, e.iri, e.kind))
    return [*seen.values(), *(Ref(name, None, "unknown") for name in analysis.unknown)]


def _subject(analysis: Analysis, catalog: Catalog) -> Ref | None:
    """What the question is about: the first service it names; else the longest name it
    writes in capitals ("SSM Parameter Store", "Azure Load Balancer"), as written, since a
    feature the catalog links inside it may belong to some other service; else the first
    thing it names."""
    question = analysis.question
    services = sorted(
        (e for e in analysis.entities if e.kind == "service" and e.start >= 0),
        key=lambda e: e.start,
    )
    if services:
        return Ref(services[0].label, services[0].iri, "service")
    runs = [r for r in name_runs(question) if r[2].lower() not in _HEAD_WORDS]
    if runs:
        start, end, text = max(runs, key=lambda r: (len(r[2].split()), -r[0]))
        inside = [e for e in analysis.entities if e.start >= start and e.end <= end]
        exact = [e for e in inside if e.start == start and e.end == end]
        unknown = any(name in text for name in analysis.unknown)
        if exact:
            return Ref(exact[0].label, exact[0].iri, exact[0].kind)
        return Ref(text, None, "unknown" if unknown else "name")
    refs = named(analysis)
    return refs[0] if refs else None


_HEAD_WORDS = frozenset("skus types tiers kinds options plans".split())


def name_runs(text: str) -> list[tuple[int, int, str]]:
    """Runs of words written as names (a capital, or a digit, inside a question): "SSM
    Parameter Store", "Pub/Sub", "Route 53"; a question's first word is not a name."""
    runs: list[tuple[int, int, str]] = []
    words = list(re.finditer(r"[\w/&.+-]+", text))
    current: list[re.Match[str]] = []
    for i, w in enumerate(words):
        token = w.group().rstrip(".")
        name = (token[:1].isupper() or any(c.isupper() for c in token[1:])) and i > 0
        number = bool(current) and token.isdigit()
        if name or number:
            current.append(w)
            continue
        if current:
            runs.append(
                (
                    current[0].start(),
                    current[-1].end(),
                    text[current[0].start() : current[-1].end()],
                )
            )
            current = []
    if current:
        runs.append(
            (current[0].start(), current[-1].end(), text[current[0].start() : current[-1].end()])
        )
    return runs


def _focus(
    analysis: Analysis, subject: Ref | None, head: str | None, catalog: Catalog
) -> Ref | None:
    """A feature of the subject that the question names next to it ("the Consumption plan of
    Azure Functions"), unless the question asks for a list of such things. A feature of some
    other service is a stray match, not what the question is about."""
    if analysis.intent == "list" or subject is None or subject.iri is None:
        return None
    for e in sorted(analysis.entities, key=lambda e: e.start):
        if head and e.text.lower() == head.lower():
            continue  # "What SKUs does Azure Load Balancer have?" asks for the SKUs
        entry = catalog.entries.get(e.iri)
        owned = subject.iri in catalog.owner_services(e.iri) or (
            entry is not None and subject.iri in entry.owners
        )
        if e.kind == "feature" and e.start >= 0 and e.iri != subject.iri and owned:
            return Ref(e.label, e.iri, e.kind)
    return None


def _head(analysis: Analysis, question: str) -> str | None:
    """What a list question lists: the analysis's noun, unless it is only a kind-word or part
    of a name the question writes in capitals ("Which API Management tiers ..." lists tiers)."""
    own = list_noun(question)
    head = analysis.head if analysis.intent == "list" else None
    if head:
        last = singular(head.split()[-1].lower())
        named = any(
            head.lower() in text.lower() and len(text.split()) >= len(head.split())
            for _, _, text in name_runs(question)
        )
        if (last in GENERIC_HEADS or named) and own:
            return own
        return head
    return own


def list_noun(question: str) -> str | None:
    """The plural noun a list question asks for, when the analysis names none: "What tiers
    does SSM Parameter Store have?" -> "tiers"; "What types of Pub/Sub subscriptions are
    there?" -> "subscriptions" (a kind-word says less than the noun after it)."""
    m = re.match(
        r"\s*(?:what|which)\s+(?:are\s+the\s+)?(.*?)\s+(?:does|do|is|are|can|has|have)\b",
        question,
        re.I,
    )
    if m is None:
        return None
    nouns = [w for w in re.findall(r"[A-Za-z][\w-]*", m.group(1)) if re.search(r"[^s]s$", w)]
    specific = [w for w in nouns if w.lower() not in GENERIC_HEADS]
    return (specific or nouns or [None])[-1]


def list_items(answer: Answer) -> list[Term]:
    """What a list answer lists: the objects of its relation facts, or, for a comparison, the
    subjects of its limits ("Which EBS volume types ...")."""
    objects = [
        f.object
        for f in answer.facts
        if f.predicate.iri not in LIMIT_PREDICATES and f.object.iri is not None
    ]
    if objects:
        return list({t.iri: t for t in objects}.values())
    subjects = list({f.subject.iri: f.subject for f in answer.facts}.values())
    return subjects if len(subjects) > 1 else []


def _other_kind(items: Sequence[Term], head: str | None, catalog: Catalog) -> bool:
    """Whether the listed items are of another kind than the list asked for: their kinds are
    known and none holds the head's noun ("protection plans" answered with "formats"; "SQS
    queues" answered with "queue types" is fine)."""
    if not items or not head:
        return False
    noun = singular(head.split()[-1].lower())
    if noun in GENERIC_HEADS:
        return False
    known = _kinds(items, catalog)
    if len(known) * 2 < len(items):
        return False
    return not any(noun in {singular(w) for w in k.split()} for k in known)


def _kinds(items: Sequence[Term], catalog: Catalog) -> list[str]:
    """The items' feature kinds that say something (not a count, not a kind-word)."""
    kinds = [
        kind_words(catalog.entries[t.iri].feature_kind) for t in items if t.iri in catalog.entries
    ]
    return [k.lower() for k in kinds if k]


def kind_words(kind: str | None) -> str | None:
    """A feature kind without a count ("4 types", read from "SUBSCRIPTIONS 4 types" ->
    "types"), or None when all it says is a kind-word ("type", "options")."""
    words = [w for w in (kind or "").split() if not re.search(r"\d", w)]
    if all(singular(w.lower()) in GENERIC_HEADS for w in words):
        return None
    return " ".join(words)


def _kinded_features(subject: Ref | None, head: str | None, catalog: Catalog) -> list[Term]:
    """The subject's features of the kind a list question asked for ("tiers" -> its features
    of kind "tier"): the list, when the answer did not list it."""
    if subject is None or subject.iri is None or not head:
        return []
    kind = singular(head.split()[-1].lower())
    if kind in GENERIC_HEADS:
        return []
    return [
        Term(e.label, e.iri)
        for e in catalog.entries.values()
        if subject.iri in e.owners
        and e.feature_kind
        and singular(e.feature_kind.split()[-1].lower()) == kind
    ]


_YES_NO = re.compile(r"^(?:yes|no|y|n|[✔✓✘✗x]|-|—)$", re.I)


def _header_cells(answer: Answer) -> list[Term]:
    """The column names of a table header the answer quoted ("| Feature | Basic | Standard |
    Premium |" -> Basic, Standard, Premium): the list a comparison table gives."""
    text = answer.answer.strip()
    if not text.startswith("|"):
        return []
    cells = [c.strip(" *`") for c in text.strip("|").split("|")]
    names = [c for c in cells[1:] if c and not _YES_NO.match(c) and not re.search(r"\d", c)]
    return [Term(c) for c in names] if len(names) >= 2 else []


_SEPARATOR = re.compile(r"^\|?\s*:?-{3,}")
_BOLD_LEAD = re.compile(r"^\s*(?:[-*•+]|\d+[.)])?\s*\*\*(?P<name>[^*]{2,60})\*\*")
_NAME_LEAD = re.compile(r"^\s*(?:[-*•+]|\d+[.)])\s*(?P<name>[^:—–()]{2,40}?)\s*(?::|\s[—–-]\s|\()")


def _section_list(
    passages: Sequence[Hit], head: str | None, catalog: Catalog, subject: Ref | None
) -> list[Term]:
    """The list a section named by the list's noun holds, when the answer listed something
    else: under "Tiers", the columns of its table ("| Feature | Basic | Standard | Premium |"),
    or the rows when the first column is the noun ("| Tier | ..."); under "Protection plans
    (optional ...)", the names its bullets lead with ("- **S3 Protection** — ...")."""
    if not head:
        return []
    noun = singular(head.split()[-1].lower())
    if noun in GENERIC_HEADS:
        return []
    for hit in passages[:3]:
        title = {singular(w.lower()) for w in re.findall(r"[A-Za-z]+", hit.section or "")}
        if noun not in title:
            continue
        names = _table_names(hit.text, noun) or _bullet_names(hit.text)
        if len(names) >= 2:
            return [Term(n, _linked(n, catalog, subject)) for n in dict.fromkeys(names)]
    return []


def _lead_list(
    answer: Answer,
    listed: Sequence[Term],
    head: str | None,
    catalog: Catalog,
    subject: Ref | None,
) -> list[Term]:
    """The names the bullets around one bullet lead with, when the answer listed what that
    one bullet says of its own item: "FIFO (first-in-first-out): delivery and exactly-once
    processing" listed "delivery" and "exactly-once processing" for "What types of SQS
    queues are there?"; the list is Standard and FIFO, the leads of that bullet and the one
    beside it. Only when every listed item was read from that one line, and neither the
    items' kinds nor the bullet's lead are what the list asked for ("- Engines: MySQL,
    PostgreSQL" lists database engines)."""
    sources = {f.source.text for f in answer.facts if f.source is not None}
    if len(listed) < 2 or len(sources) != 1:
        return []
    noun = singular(head.split()[-1].lower()) if head else ""
    noun = "" if noun in GENERIC_HEADS else noun
    known = _kinds(listed, catalog)
    asked = noun and len(known) * 2 >= len(listed)
    if asked and any(noun in {singular(w) for w in k.split()} for k in known):
        return []  # the items are of the kind asked
    (source,) = sources
    for hit in answer.passages[:3]:
        lines = hit.text.splitlines()
        at = next((i for i, x in enumerate(lines) if source.strip() in x), None)
        if at is None or _lead(lines[at]) is None:
            continue
        lead = _lead(lines[at]) or ""
        if any(norm_key(t.label) == norm_key(lead) for t in listed):
            return []  # the line's own name is listed: a list of its own
        if noun and noun in {singular(w) for w in re.findall(r"[a-z]+", lead.lower())}:
            return []  # "Engines: ..." names what the list asked for: the line is the list
        depth = _depth(lines[at])
        run = [at]
        for step in (-1, 1):
            i = at + step
            while 0 <= i < len(lines) and _lead(lines[i]) is not None and _depth(lines[i]) == depth:
                run.append(i)
                i += step
        names = [_lead(lines[i]) for i in sorted(run)]
        found = [n for n in dict.fromkeys(names) if n]
        if len(found) >= 2:
            return [Term(n, _linked(n, catalog, subject)) for n in found]
        return []
    return []


def _lead(line: str) -> str | None:
    """The name a bullet leads with ("- **S3 Protection** — ...", "• FIFO (...): ...")."""
    m = _BOLD_LEAD.match(line) or _NAME_LEAD.match(line)
    if m is None or len(m.group("name").split()) > 5:
        return None
    return m.group("name").strip()


def _depth(line: str) -> int:
    return len(line) - len(line.lstrip())


def _table_names(text: str, noun: str) -> list[str]:
    lines = [x.strip() for x in text.splitlines()]
    for i in range(len(lines) - 1):
        if not (lines[i].startswith("|") and _SEPARATOR.match(lines[i + 1])):
            continue
        cells = [c.strip(" *`") for c in lines[i].strip("|").split("|")]
        if cells and singular(cells[0].lower()) == noun:
            rows = [x for x in lines[i + 2 :] if x.startswith("|")]
            return [r.strip("|").split("|")[0].strip(" *`") for r in rows if r.strip("|").strip()]
        return [c for c in cells[1:] if c and not _YES_NO.match(c) and not re.search(r"\d", c)]
    return []


def _bullet_names(text: str) -> list[str]:
    names = []
    for line in text.splitlines():
        m = _BOLD_LEAD.match(line) or _NAME_LEAD.match(line)
        if m is not None and len(m.group("name").split()) <= 5:
            names.append(m.group("name").strip())
    return names


def _linked(name: str, catalog: Catalog, subject: Ref | None = None) -> str | None:
    """The entity a listed name is, among the subject's own when the subject is known:
    "Standard" under SQS queue types is not the S3 storage class of that name."""
    found = catalog.named(name)
    if subject is not None and subject.iri is not None:
        found = [e for e in found if e.iri == subject.iri or subject.iri in e.owners]
    return found[0].iri if found else None


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9][\w+-]*", text.lower()) if w not in STOPWORDS]


def _word_matches(word: str, label_words: list[str]) -> bool:
    w = stem(singular(word))
    for lw in label_words:
        if stem(singular(lw)) == w:
            return True
        if len(word) >= 5 and edit_distance(lw, word, 1) <= 1:
            return True
        if len(word) >= 7 and edit_distance(lw, word, 2) <= 2:  # "latency" ~ the notes' "Letancy"
            return True
    return False


def find_item(words: str, items: Sequence[Term]) -> Term | None:
    """The item that ``words`` points at: "latency" (or "latency-based") -> "Letancy Routing
    Policy", "second" -> the second item, "last" -> the last. The item matching most of the
    words wins (at least one); a tie is no answer, unless one item is named exactly."""
    low = words.lower().strip()
    if low in _ORDINALS and _ORDINALS[low] < len(items):
        return items[_ORDINALS[low]]
    if low == "last" and items:
        return items[-1]
    wanted = [w for part in _words(low) for w in part.split("-") if w and w not in STOPWORDS]
    if not wanted:
        return None
    scored = [(sum(_word_matches(w, _words(t.label)) for w in wanted), t) for t in items]
    best = max((n for n, _ in scored), default=0)
    if best == 0:
        return None
    found = [t for n, t in scored if n == best]
    exact = [t for t in found if norm_key(t.label) == norm_key(words)]
    if len(found) > 1 and not exact:
        return None  # "the routing one" among routing policies: not said which
    return (exact or found)[0]


def features_of(subject: Ref | None, catalog: Catalog) -> list[Term]:
    """The subject's features (and topics) in the graph."""
    if subject is None or subject.iri is None:
        return []
    return [
        Term(e.label, e.iri)
        for e in catalog.entries.values()
        if subject.iri in e.owners and e.kind in CARRIED_KINDS
    ]


def features_named(words: str, subject: Ref | None, catalog: Catalog) -> Term | None:
    """The subject's feature that ``words`` points at, when no listed item does."""
    return find_item(words, features_of(subject, catalog))


def same_item(a: Term, b: Term) -> bool:
    if a.iri is not None and a.iri == b.iri:
        return True

    def key(t: Term) -> str:
        return re.sub(r"^(?:amazon|aws|azure|google|cloud)\s+", "", norm_key(t.label))

    return key(a) == key(b)


def linked_refs(entities: Sequence[Linked]) -> list[Ref]:
    return [Ref(e.label, e.iri, e.kind) for e in entities if e.kind in CARRIED_KINDS]
