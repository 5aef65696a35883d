"""Parsed notes -> entities, relations and limits, each tied to the span it was read from.

Pure functions over ``ParsedDocument``: no RDF, no I/O. The steps:

1. *Discover* services the notes introduce that the lexicon does not know (a heading such as
   ``## AWS Fargate``, or "X is a ... service").
2. Give every section a *subject*: the service or component its heading names, else the one
   its text is about, else the previous section's service, else a topic named by its heading.
3. Read each block: list items and table rows become *features* (with the kind the list
   enumerates), sentences yield *relations* (supports, replicatesTo, chargedBy, usedFor,
   inCategory) and *limits* (see ``kg.extract.limits``). A sentence's subject is the service it
   names in subject position, else the label it elaborates, else its section's subject.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from kg import vocab
from kg.extract.limits import LimitFact, extract_limits, merge_block_limits, names_a_quantity
from kg.extract.tables import Row, read_row
from kg.lexicon import Lexicon, Matcher, Mention
from kg.model import Block, BlockKind, Document, Evidence, ParsedDocument, Section, Sentence
from kg.parse.notes import clean_text
from kg.text.phrases import (
    clean_name,
    is_generic_lead,
    kind_of,
    lead_term,
    looks_like_name_list,
    split_list,
    strip_determiners,
)
from kg.text.units import Dimension, Quantity, find_quantities
from kg.text.words import STOPWORDS, norm_key, singular, squash

VENDOR_PREFIX = re.compile(
    r"^(?:AWS|Amazon|Microsoft Azure|Azure|Google Cloud|GCP|Google|Oracle Cloud|OCI|IBM Cloud|"
    r"Alibaba Cloud|Cloudflare|DigitalOcean)\s+[A-Z0-9]",
)
_DEFINITION = re.compile(
    r"^(?:The\s+)?(?P<name>(?:(?:AWS|Amazon|Azure|Google Cloud|GCP)\s+)?"
    r"[A-Z][\w.-]*(?:\s+[A-Z0-9][\w.-]*){0,4})"
    r"(?:\s+(?:is|provides|offers)|\s*[:—–]|\s+-)\s+(?:a|an)\s+(?P<what>[^.]{0,120}?)\b"
    r"(?P<head>service|engine|platform|database|warehouse|queue|store|system|tool|solution|cache|"
    r"network|registry|directory|orchestrator|scheduler|broker|runtime)s?\b",
)
_NON_SUBJECT_BEFORE = re.compile(
    r"\b(?:like|such as|including|e\.g\.|than|from|into|to|with|via|by|using|use|of|for|in|on|"
    r"between|and|or|as|through|at|across|over|within|behind|against|about|toward|towards|"
    r"onto|per|without)\s*$",
    re.IGNORECASE,
)
_VERB_BEFORE = re.compile(
    r"\b(?:is|are|was|were|be|been|can|could|will|would|must|should|may|has|have|had|do|does|"
    r"did|supports?|allows?|provides?|lets?|enables?|uses?|needs?|gives?|connects?|sends?|"
    r"stores?|replicates?|creates?|runs?)\b",
    re.IGNORECASE,
)


def _in_subject_position(before: str) -> bool:
    """A name opens its clause when nothing before it is a preposition or a verb, and it is
    not an aside in parentheses ("Warm storage: $0.05 per GB-month (EFS, EBS)")."""
    if before.count("(") > before.count(")"):
        return False
    return not _NON_SUBJECT_BEFORE.search(before) and not _VERB_BEFORE.search(before)


# "AWS Backup supports the following resources:", "A rule can take one of the following
# actions:", "MSK integrates with these services:" (the items follow as a list)
_ANNOUNCED_LIST = re.compile(
    r"\b(?P<verb>supports?|can\s+protect|protects?|can\s+back\s+up|backs?\s+up|covers?|"
    r"works?\s+with|integrates?\s+with|can\s+take|takes?|offers?|provides?|includes?|"
    r"comes?\s+with|adds?)\s+(?:one\s+of\s+|any\s+of\s+)?(?:the\s+)?(?:following|these|"
    r"below)\s+(?P<noun>[\w/-]+(?:\s+[\w/-]+){0,3}?)\s*:\s*",
    re.IGNORECASE,
)
_DOCUMENT_TITLE = re.compile(
    r"\b(?:notes?|study|wiki|guide|cheat\s*sheet|summary|handbook|runbook|playbook|primer|"
    r"deep\s+dive|reference)\b",
    re.IGNORECASE,
)
_SUPPORTED_INCLUDE = re.compile(
    r"\s*(?P<verb>supported)\s+(?P<noun>[\w-]+(?:\s+[\w-]+){0,2}?)\s+(?:include|includes|are)\s+",
    re.IGNORECASE,
)
_PRONOUN_START = re.compile(r"^\s*(?:it|they|this|these|its|it’s|it's)\b", re.IGNORECASE)
_EXAMPLE = re.compile(r"^\s*(?:for example|for instance|e\.g\.|so if|if you have)\b", re.I)
_LOCATION_WORD = re.compile(
    r"\b(?:regions?|availability zones?|AZs?|AZ’s|AZ's|data ?cent(?:er|re)s?|datacenters?|"
    r"edge locations?|zones?)\b",
    re.IGNORECASE,
)


@dataclass
class Entity:
    iri: str
    kind: str  # "service" | "feature" | "topic" | "pricing" | "location" | "category"
    label: str
    aliases: set[str] = field(default_factory=set)
    owner: str | None = None
    feature_kind: str | None = None
    definition: tuple[str, Evidence] | None = None
    evidence: list[Evidence] = field(default_factory=list)
    known: bool = False  # a lexicon entry rather than something the notes introduced
    reference_names: frozenset[str] = frozenset()  # the lexicon's names of a known entity

    def cite(self, ev: Evidence) -> None:
        if ev not in self.evidence:
            self.evidence.append(ev)


@dataclass(frozen=True, slots=True)
class Relation:
    subject: str
    predicate: str  # local name in the ckg namespace, e.g. "supports"
    object: str  # an entity IRI, or the text itself when ``literal``
    evidence: Evidence
    literal: bool = False


@dataclass
class Extraction:
    document: Document
    sections: tuple[Section, ...]
    entities: dict[str, Entity]
    relations: list[Relation]
    limits: list[LimitFact]

    def section_title(self, ev: Evidence) -> str | None:
        for s in self.sections:
            if s.start <= ev.start < s.end:
                return " › ".join(s.path) if s.path else None
        return None


@dataclass(frozen=True, slots=True)
class DiscoveredService:
    label: str
    aliases: tuple[str, ...]
    evidence: Evidence


def discover_services(parsed: ParsedDocument, matcher: Matcher) -> list[DiscoveredService]:
    """Services a note introduces that ``matcher`` does not know yet."""
    text = parsed.document.text
    found: dict[str, DiscoveredService] = {}

    def consider(name: str, aliases: Iterable[str], ev: Evidence) -> None:
        name = squash(name).strip(" .:-–")
        if not name or len(name.split()) > 6 or not name[0].isupper():
            return
        known = matcher.find(name)
        if known and known[0].start == 0 and known[0].end >= len(name) - 1:
            return
        found.setdefault(norm_key(name), DiscoveredService(name, tuple(aliases), ev))

    for section in parsed.sections:
        if section.title is None or section.heading_start is None:
            continue
        main, aliases = _heading_name(section.title)
        ev = Evidence(section.heading_start, section.heading_end or section.heading_start)
        if main and VENDOR_PREFIX.match(main):
            if _names_a_product(main, matcher):
                consider(main, aliases, ev)
            continue
        first = next((s for s in parsed.sentences if section.start <= s.start < section.end), None)
        if main and first is not None:
            m = _DEFINITION.match(clean_text(first.text))
            if m and _same_name(m.group("name"), main, aliases) and _is_service_head(m):
                consider(main, aliases, ev)
    for sent in parsed.sentences:
        m = _DEFINITION.match(clean_text(sent.text))
        if m and VENDOR_PREFIX.match(m.group("name")) and _is_service_head(m):
            consider(m.group("name"), _abbreviations(sent.text), Evidence(sent.start, sent.end))
    del text
    return list(found.values())


_NOT_PRODUCT_WORDS = frozenset(
    """summary overview notes basics introduction intro exam certification certified course stack
    console account cloud region regions architecture associate professional cheat sheet guide
    pricing limits faq best practices tips security monitoring performance encryption networking
    quotas features concepts integration integrations setup configuration deployment replication
    scaling cost costs billing logging access permissions troubleshooting""".split()
)


def _names_a_product(name: str, matcher: Matcher) -> bool:
    """ "AWS Fargate" names a product; "AWS Stack", "AWS Storage Classes" and "AWS EC2 Instance
    Types" are headings about something else."""
    words = name.split()
    rest = words[1:] if words[0] in ("AWS", "Amazon", "Azure", "Google", "GCP", "OCI") else words
    if not rest or len(rest) > 4 or any(w.lower() in _NOT_PRODUCT_WORDS for w in rest):
        return False
    if rest[-1].endswith("s") and rest[-1][:-1].isalpha() and not rest[-1].isupper():
        return False  # a plural: a heading about several things
    known = matcher.find(" ".join(rest))
    # "Amazon RDS Proxy" names a product of its own; "Amazon RDS" is the known one
    return not known or (
        known[0].start == 0
        and len(known) == 1
        and known[0].end < len(" ".join(rest))
        and rest[-1][0].isupper()
        and rest[-1].lower() not in _NOT_PRODUCT_WORDS
    )


def _is_service_head(m: re.Match[str]) -> bool:
    return m.group("head") == "service" or bool(VENDOR_PREFIX.match(m.group("name")))


def _heading_name(title: str) -> tuple[str, list[str]]:
    """ "EKS: Elastic Kubernetes Service" -> ("Elastic Kubernetes Service", ["EKS"]);
    "AWS Fargate (serverless containers)" -> ("AWS Fargate", [])."""
    aliases: list[str] = []
    main = title
    m = re.match(r"^([A-Z][A-Za-z0-9]{1,7})\s*[:–-]\s+(.+)$", title)
    if m and m.group(1).isupper():
        aliases.append(m.group(1))
        main = m.group(2)
    elif ":" in title:
        main = title.split(":", 1)[0]
    paren = re.search(r"\(([^)]*)\)", main)
    if paren:
        inner = paren.group(1).strip()
        if re.fullmatch(r"[A-Z][A-Za-z0-9]{1,7}", inner):
            aliases.append(inner)
        main = (main[: paren.start()] + main[paren.end() :]).strip()
    if re.search(r"\b(?:vs|versus|how|what|why|when|and|or|with)\b", main, re.I):
        return "", aliases
    return main.strip(), aliases


def _same_name(defined: str, heading: str, aliases: list[str]) -> bool:
    d = norm_key(defined)
    return (
        d == norm_key(heading)
        or d in {norm_key(a) for a in aliases}
        or norm_key(heading).endswith(d)
    )


def _abbreviations(text: str) -> list[str]:
    m = re.search(r"\(([A-Z][A-Za-z0-9]{1,7})\)", text)
    return [m.group(1)] if m else []


# --------------------------------------------------------------------------------------------


@dataclass
class _Context:
    """What a sentence is about, as far as the text around it tells."""

    subject: str | None  # entity IRI
    service: str | None  # the service the subject belongs to


class Extractor:
    """Extracts one document at a time against a lexicon plus every discovered service."""

    def __init__(
        self,
        lexicon: Lexicon,
        discovered: Iterable[DiscoveredService] = (),
        common_words: Iterable[str] = (),
    ) -> None:
        self.lexicon = lexicon
        self.matcher = lexicon.matcher(common_words)
        self.discovered = {vocab.service_iri(d.label): d for d in discovered}
        for iri, d in self.discovered.items():
            for name in (d.label, *d.aliases, *_vendorless(d.label)):
                self.matcher.add(name, iri)
        self.category_matcher = lexicon.matcher(kinds=("category",))

    def extract(self, parsed: ParsedDocument) -> Extraction:
        return _DocumentExtraction(self, parsed).run()


def _vendorless(label: str) -> list[str]:
    m = VENDOR_PREFIX.match(label)
    if not m:
        return []
    rest = re.sub(
        r"^(?:AWS|Amazon|Microsoft Azure|Azure|Google Cloud|GCP|Google|Oracle Cloud|OCI|"
        r"IBM Cloud|Alibaba Cloud|Cloudflare|DigitalOcean)\s+",
        "",
        label,
    )
    return [rest] if len(rest) > 3 and (" " in rest or rest[0].isupper()) else []


class _DocumentExtraction:
    def __init__(self, ex: Extractor, parsed: ParsedDocument) -> None:
        self.ex = ex
        self.parsed = parsed
        self.doc = parsed.document
        self.text = clean_text(parsed.document.text)
        self.entities: dict[str, Entity] = {}
        self.relations: list[Relation] = []
        self.limits: list[LimitFact] = []
        self.mentions: dict[int, list[Mention]] = {}  # sentence start -> mentions
        self.section_subject: dict[int, _Context] = {}
        self.block_subject: dict[int, _Context] = {}
        self.features_by_owner: dict[str, dict[str, str]] = {}
        self.rows: dict[int, Row] = {}  # table row block -> what the row says
        self._previous_in_block: dict[int, _Context] = {}
        self._document_service: str | None = None
        self._title_things: set[str] = set()
        self._sentences_by_block: dict[int, list[Sentence]] = {}
        for s in parsed.sentences:
            self._sentences_by_block.setdefault(s.block, []).append(s)

    # ---- entities ---------------------------------------------------------------------------

    def entity_for_key(self, iri: str, ev: Evidence | None = None) -> Entity:
        ent = self.entities.get(iri)
        if ent is None:
            lex = self.ex.lexicon.entries.get(iri)
            if lex is not None:
                kind = "service" if lex.kind == "service" else "feature"
                names = frozenset(self.ex.lexicon.names(lex)) - {lex.label}
                ent = Entity(
                    iri,
                    kind,
                    lex.label,
                    set(names),
                    owner=lex.part_of,
                    known=True,
                    reference_names=names,
                )
                if lex.part_of:
                    owner = self.entity_for_key(lex.part_of)
                    self._index_feature(owner.iri, ent)
            else:
                d = self.ex.discovered[iri]
                ent = Entity(iri, "service", d.label, set(d.aliases) | set(_vendorless(d.label)))
                ent.cite(d.evidence)
            self.entities[iri] = ent
        if ev is not None:
            ent.cite(ev)
        return ent

    def owner_service(self, iri: str | None) -> str | None:
        seen = set()
        while iri is not None and iri not in seen:
            seen.add(iri)
            ent = self.entities.get(iri)
            if ent is None:
                lex = self.ex.lexicon.entries.get(iri)
                if lex is not None and lex.kind == "component":
                    iri = lex.part_of
                    continue
                return iri if iri in self.ex.discovered or lex is not None else None
            if ent.kind == "service":
                return iri
            iri = ent.owner
        return None

    def feature(
        self,
        owner: str | None,
        raw: str,
        ev: Evidence,
        *,
        kind: str | None = None,
        allow_services: bool = True,
    ) -> Entity | None:
        """The feature ``raw`` names under ``owner``: a known service or component when the
        name is exactly one, a feature already seen under the same service, or a new one."""
        name = clean_name(raw)
        if name is None or len(name.label) < 2:
            return None
        linked = self.link(name.label, owner, allow_new=False)
        if linked is None and name.aliases:
            linked = next(
                (e for a in name.aliases if (e := self.link(a, owner, allow_new=False))), None
            )
            if linked is not None:
                linked.aliases.add(name.label)
        if linked is not None and (allow_services or linked.kind != "service"):
            ent = linked
            ent.cite(ev)
        else:
            service = self.owner_service(owner)
            scope = service or owner or vocab.document_iri(self.doc.id)
            iri = f"{vocab.ID}feature/{_local(scope)}/{vocab.slug(name.label)}"
            ent = self.entities.get(iri) or Entity(iri, "feature", name.label, owner=owner)
            self.entities[iri] = ent
            ent.cite(ev)
            if owner:
                self._index_feature(owner, ent)
        ent.aliases.update(a for a in name.aliases if norm_key(a) != norm_key(ent.label))
        if kind and not ent.feature_kind and ent.kind in ("feature", "service"):
            ent.feature_kind = kind
        if owner and owner != ent.iri:
            self.relate(owner, "hasFeature", ent.iri, ev)
        if name.purpose:
            self.relate(ent.iri, "usedFor", name.purpose, ev, literal=True)
        return ent

    def _index_feature(self, owner: str, ent: Entity) -> None:
        service = self.owner_service(owner) or owner
        index = self.features_by_owner.setdefault(service, {})
        for name in (ent.label, *ent.aliases):
            index.setdefault(norm_key(name), ent.iri)
            index.setdefault(norm_key(singular(name)), ent.iri)

    def link(self, phrase: str, owner: str | None, *, allow_new: bool = True) -> Entity | None:
        """The entity a short phrase names: a feature of the owner's service, a known service
        or component named by the whole phrase (bar generic nouns: "an S3 bucket" is S3)."""
        phrase = strip_determiners(squash(phrase))
        if not phrase:
            return None
        service = self.owner_service(owner)
        for scope in (service, owner):
            if scope and scope in self.features_by_owner:
                index = self.features_by_owner[scope]
                for key in (norm_key(phrase), norm_key(singular(phrase))):
                    if key in index:
                        return self.entities[index[key]]
        mentions = self.ex.matcher.find(phrase)
        if len(mentions) == 1:
            m = mentions[0]
            rest = (phrase[: m.start] + " " + phrase[m.end :]).split()
            if all(w.lower() in _GENERIC_NOUNS or w.lower() in STOPWORDS for w in rest):
                return self.entity_for_key(self._choose(m, owner))
        return None

    def _choose(self, m: Mention, owner: str | None) -> str:
        """Pick among the entities a name may denote, preferring the owner's service."""
        if len(m.keys) == 1 or owner is None:
            return m.keys[0]
        service = self.owner_service(owner)
        for key in m.keys:
            lex = self.ex.lexicon.entries.get(key)
            if key == service or (lex is not None and lex.part_of == service):
                return key
        return m.keys[0]

    def topic(self, title: str, ev: Evidence) -> Entity:
        label = _topic_label(title)
        # Scoped by document: a topic is what one note's heading names ("exam composition").
        iri = f"{vocab.ID}topic/{vocab.slug(self.doc.id)}/{vocab.slug(label)}"
        ent = self.entities.get(iri)
        if ent is None:
            ent = Entity(iri, "topic", label, _topic_aliases(title, label))
            self.entities[iri] = ent
        ent.cite(ev)
        return ent

    def relate(self, s: str, p: str, o: str, ev: Evidence, *, literal: bool = False) -> None:
        rel = Relation(s, p, o, ev, literal)
        if s != o and rel not in self.relations:
            self.relations.append(rel)

    # ---- the run ------------------------------------------------------------------------------

    def run(self) -> Extraction:
        for sent in self.parsed.sentences:
            if self.parsed.blocks[sent.block].kind is not BlockKind.CODE:
                self.mentions[sent.start] = self.ex.matcher.find(
                    self.text[sent.start : sent.end], sent.start
                )
        self._section_subjects()
        for block in self.parsed.blocks:
            if block.kind is BlockKind.CODE:
                continue
            ctx = self._block_context(block)
            self.block_subject[block.index] = ctx
            self._lists_and_tables(block, ctx)
            for sent in self._sentences_by_block.get(block.index, []):
                sctx = self._sentence_context(sent, block, ctx)
                self._previous_in_block[block.index] = sctx
                self._cite_mentions(sent)
                self._relations(sent, block, sctx)
                if not _EXAMPLE.match(sent.text):
                    self.limits.extend(extract_limits(self, sent, block, sctx))
        limits = merge_block_limits(self.limits, self.doc.text)
        return Extraction(self.doc, self.parsed.sections, self.entities, self.relations, limits)

    def _cite_mentions(self, sent: Sentence) -> None:
        ev = Evidence(sent.start, sent.end)
        for m in self.mentions.get(sent.start, []):
            key = self._choose(m, None)
            lex = self.ex.lexicon.entries.get(key)
            if lex is None or lex.kind == "service" or lex.part_of:
                self.entity_for_key(key, ev)

    # ---- subjects -----------------------------------------------------------------------------

    def _section_subjects(self) -> None:
        previous = _Context(None, None)
        for section in self.parsed.sections:
            ctx = self._subject_of_section(section, previous)
            if section.index == 0 and ctx.service is not None and self._titles_document(section):
                found = self.ex.matcher.find(section.title or "")
                self._title_things = {self._choose(m, None) for m in found}
                named = {self.owner_service(m.keys[0]) for m in found}
                if len(named) == 1:  # "AWS Backup - study notes", not "WAF and Shield"
                    self._document_service = ctx.service
            self.section_subject[section.index] = ctx
            if ctx.service is not None or ctx.subject is not None:
                previous = ctx

    def _titles_document(self, section: Section) -> bool:
        """The first heading titles the whole note ("# Amazon FSx" over "##" sections, "AWS
        Backup - study notes"), rather than opening the first of many services' sections."""
        title = section.title or ""
        nested = any(section.title in s.parents for s in self.parsed.sections[1:])
        return nested or bool(_DOCUMENT_TITLE.search(title))

    def _subject_of_section(self, section: Section, previous: _Context) -> _Context:
        if section.title and section.heading_start is not None:
            title = section.title
            heading_mentions = self.ex.matcher.find(title)
            listy = "," in title.split(":", 1)[-1]
            if heading_mentions and not listy:
                key = self._choose(heading_mentions[0], previous.service)
                ent = self.entity_for_key(key)
                return _Context(
                    key, self.owner_service(key) or (key if ent.kind == "service" else None)
                )
        scores: dict[str, float] = defaultdict(float)
        raw: Counter[str] = Counter()
        carried = previous.subject if self._names_thing(previous.subject) else previous.service
        if carried:
            # The thing the previous heading named stays the subject until another is named:
            # "Aurora Serverless v2 basics", then "Engines supported", "Pricing" ...
            scores[carried] += 1.5
        if self._document_service is not None:
            # A note titled by a service is about it where a section names nothing else
            # as its subject, however many services its lists mention.
            scores[self._document_service] += 3.0
        parent = self._parent_subject(section)
        if parent is not None:
            scores[parent] += 3.0  # "## 1. AWS Config" then "### 1.1 Rules": still AWS Config
        # Under a heading that names a list ("Supported locations", "Destinations"), the
        # services the items name are what is listed, not what the section is about.
        listing = bool(section.title) and _plural_heading(section.title or "")
        for sent in self.parsed.sentences:
            if not section.start <= sent.start < section.end:
                continue
            block = self.parsed.blocks[sent.block]
            lead = (
                lead_term(self.text[block.start : block.end]) if sent.start == block.start else None
            )
            for k, m in enumerate(self.mentions.get(sent.start, [])):
                service = self.owner_service(m.keys[0]) or m.keys[0]
                if carried is not None and carried != previous.service == service:
                    service = carried  # "Aurora MySQL" under "Aurora Serverless" headings
                before = self.text[sent.start : m.start]
                after = self.text[m.end : m.end + 3]
                weight = 1.0 if _in_subject_position(before) else 0.6
                if k == 0 and _in_subject_position(before):
                    weight = 2.0
                if lead and m.start - block.start < lead.end:
                    weight = 2.0
                if after.lstrip().startswith(">"):
                    weight = 3.0  # a console path: "Go to Route53 > Register Domain"
                if block.kind is BlockKind.TABLE_ROW or (
                    listing and block.kind in (BlockKind.BULLET, BlockKind.NUMBERED)
                ):
                    weight = 0.5  # what a table or a list enumerates
                scores[service] += weight
                raw[service] += 1
        if section.title and section.heading_start is not None:
            title_listy = "," in section.title.split(":", 1)[-1]
            overview = len(raw) >= 4 and max(raw.values()) <= 1
            if title_listy or overview or not scores:
                ev = Evidence(section.heading_start, section.heading_end or section.heading_start)
                topic = self.topic(section.title, ev)
                return _Context(topic.iri, None)
        if not scores:
            return previous
        best = max(scores, key=lambda k: (scores[k], raw[k]))
        return _Context(best, self.owner_service(best) or best)

    def _parent_subject(self, section: Section) -> str | None:
        """The subject of the section a Markdown heading nests in, if it names one."""
        if not section.parents:
            return None
        for earlier in reversed(self.parsed.sections[: section.index]):
            if earlier.title == section.parents[-1] and earlier.level < section.level:
                ctx = self.section_subject.get(earlier.index)
                named = {self.owner_service(m.keys[0]) for m in self.ex.matcher.find(earlier.title)}
                if ctx is None or ctx.service is None or len(named) > 1:
                    return None  # "Runbook: AWS Config and AWS Security Hub" names two
                return ctx.subject
        return None

    def _names_thing(self, iri: str | None) -> bool:
        """A feature the note's title names ("AURORA SERVERLESS V2 AND RDS PROXY - study
        notes"): what the note is about, not one section's aside."""
        ent = self.entities.get(iri) if iri else None
        return ent is not None and ent.kind == "feature" and ent.iri in self._title_things

    def _block_context(self, block: Block) -> _Context:
        section_ctx = self.section_subject.get(block.section, _Context(None, None))
        if block.kind is BlockKind.TABLE_ROW:
            return section_ctx  # refined per row in _lists_and_tables
        # "About NAT gateway:" / "Kinesis Streams:" / "• Simple Routing Policy" then text.
        for ref in (block.lead, block.intro):
            if ref is None:
                continue
            ref_block = self.parsed.blocks[ref]
            ctx = self.block_subject.get(ref)
            label_ent = self._label_entity(ref_block, section_ctx)
            if label_ent is not None:
                return _Context(
                    label_ent.iri, self.owner_service(label_ent.iri) or section_ctx.service
                )
            if ctx is not None and ctx.subject != section_ctx.subject:
                return ctx
        return section_ctx

    def _label_entity(self, block: Block, section_ctx: _Context) -> Entity | None:
        """The entity a label line names ("About NAT gateway:", "Kinesis Streams:")."""
        text = self.text[block.start : block.end].strip()
        if len(text.split()) > 6:
            return None
        m = re.match(r"^(?:about|for)\s+(.+?):?$", text, re.IGNORECASE)
        if m:
            return self.link(m.group(1), section_ctx.subject) or self.feature(
                section_ctx.subject, m.group(1), Evidence(block.start, block.end)
            )
        mentions = self.ex.matcher.find(text.rstrip(":"))
        if len(mentions) == 1 and len(mentions[0].text) >= len(text.rstrip(":")) - 2:
            return self.entity_for_key(self._choose(mentions[0], section_ctx.service))
        return None

    def _sentence_context(self, sent: Sentence, block: Block, ctx: _Context) -> _Context:
        if block.kind is BlockKind.TABLE_ROW:
            return self.block_subject.get(block.index, ctx)
        lead = (
            lead_term(self.text[block.start : block.end])
            if block.kind is BlockKind.BULLET
            else None
        )
        lead_ent = None
        if (
            lead is not None
            and not is_generic_lead(lead.term)
            and not self._is_category_line(block)
            and not (names_a_quantity(lead.term) and not self.ex.matcher.find(lead.term))
        ):
            lead_ent = self._lead_feature(block, lead, ctx)
        if _PRONOUN_START.match(self.text[sent.start : sent.end]):
            previous = self._previous_in_block.get(block.index)
            if previous is not None:
                return previous  # "Multi-AZ for disaster recovery. It's only supported for ..."
        for m in self.mentions.get(sent.start, []):
            before = self.text[sent.start : m.start]
            if not _in_subject_position(before):
                continue
            if lead is not None and block.start + lead.start <= m.start < block.start + lead.end:
                break  # the sentence is about the item its lead names, not the service in it
            key = self._choose(m, ctx.service)
            self.entity_for_key(key)
            return _Context(key, self.owner_service(key) or ctx.service)
        if lead_ent is not None:
            return _Context(lead_ent.iri, self.owner_service(lead_ent.iri) or ctx.service)
        if (
            ctx.subject is None
            or ctx.subject == self.section_subject.get(block.section, ctx).subject
        ):
            chain = self._chain_mention(block)
            if chain is not None and self.parsed.sections[block.section].title is None:
                return _Context(chain, self.owner_service(chain) or chain)
        return ctx

    def _chain_mention(self, block: Block) -> str | None:
        """The last service named in the list a block elaborates ("Go to Route53 > ...")."""
        ref = block.lead if block.lead is not None else block.intro
        if ref is None:
            return None
        ref_block = self.parsed.blocks[ref]
        start = ref_block.intro if ref_block.intro is not None else ref
        for b in reversed(self.parsed.blocks[start : ref + 1]):
            for s in reversed(self._sentences_by_block.get(b.index, [])):
                ms = self.mentions.get(s.start, [])
                if ms:
                    return self._choose(ms[-1], None)
        return None

    def _lead_feature(self, block: Block, lead: object, ctx: _Context) -> Entity | None:
        from kg.text.phrases import Lead

        assert isinstance(lead, Lead)
        ev = Evidence(block.start, block.end)
        owner = self.section_subject.get(block.section, ctx).subject or ctx.subject
        if block.intro is not None or block.lead is not None:
            owner = ctx.subject or owner
        return self.feature(owner, lead.term, ev, kind=self._list_kind(block))

    # ---- lists, tables, features --------------------------------------------------------------

    def _list_kind(self, block: Block) -> str | None:
        if block.intro is not None:
            intro = self.parsed.blocks[block.intro]
            intro_text = self.text[intro.start : intro.end]
            lead = lead_term(intro_text)
            kind = kind_of(
                lead.term if lead and intro_text.rstrip().endswith(":") is False else intro_text
            )
            if kind:
                return kind
        section = self.parsed.sections[block.section]
        if section.title and block.kind in (BlockKind.BULLET, BlockKind.NUMBERED):
            title = section.title
            for m in reversed(self.ex.matcher.find(title)):
                title = title[: m.start] + title[m.end :]
            title = re.sub(r"^\s*(?:AWS|Amazon)\s+", "", squash(title))
            return kind_of(title) if title and _plural_heading(title) else None
        return None

    def _lists_and_tables(self, block: Block, ctx: _Context) -> None:
        ev = Evidence(block.start, block.end)
        text = self.text[block.start : block.end]
        if block.kind is BlockKind.TABLE_ROW:
            self._table_row(block, ctx)
            return
        if block.kind in (BlockKind.BULLET, BlockKind.NUMBERED):
            if self._introduced_item(block):
                return
            if block.kind is BlockKind.NUMBERED and _is_step(text):
                return
            kind = self._list_kind(block)
            lead = lead_term(text)
            fragment = re.match(
                r"([A-Z][\w-]*(?:\s+[\w-]+){0,3})\s+for\s+([a-z][\w\s-]{2,30})\.", text
            )
            if lead is None and fragment and block.kind is BlockKind.BULLET:
                ent = self.feature(ctx.subject, f"{fragment.group(1)} for {fragment.group(2)}", ev)
                if ent is not None:
                    self._previous_in_block[block.index] = _Context(ent.iri, ctx.service)
            bare = re.sub(r"\s*\([^)]*\)", "", text)  # "Aurora MySQL (version 3.02 and higher)"
            standalone_label = len(bare.split()) <= 6 and not text.rstrip().endswith((".", ":"))
            if lead is None and standalone_label and kind and not self._is_category_line(block):
                self.feature(ctx.subject, text, ev, kind=kind)
            elif (
                lead is None
                and text.rstrip().endswith(":")
                and len(text.split()) <= 4
                and self._label_entity(block, ctx) is None
                and kind_of(text) is None
            ):
                self.feature(ctx.subject, text.rstrip(":"), ev)
        if block.kind in (BlockKind.BULLET, BlockKind.NUMBERED, BlockKind.PARAGRAPH):
            self._categories(block)
            self._inline_kinds(block, ctx)

    def _introduced_item(self, block: Block) -> bool:
        """An item of a list its intro announces with a verb: "AWS Backup supports the
        following resources:" then "• Amazon EBS volumes" (a supported service), "A rule can
        take one of the following actions:" then "1. Allow — ..." (an action, a feature)."""
        if block.intro is None:
            return False
        intro = self.parsed.blocks[block.intro]
        m = _ANNOUNCED_LIST.search(self.text[intro.start : intro.end])
        if m is None or self.text[intro.start + m.end() : intro.end].strip():
            return False
        subject = self._previous_in_block.get(block.intro, self.block_subject.get(block.intro))
        if subject is None or subject.subject is None:
            return False
        text = self.text[block.start : block.end]
        name = re.split(r"\s+[—–-]\s+|:\s|\s*\(|\.\s|\.$", text, maxsplit=1)[0].strip()
        ev = Evidence(block.start, block.end)
        ent = self._announced(subject, m, name, ev)
        if ent is not None and ent.kind != "service":
            self._previous_in_block[block.index] = _Context(ent.iri, subject.service)
        return ent is not None

    def _announced_inline(self, text: str, ev: Evidence, ctx: _Context) -> None:
        """ "AWS WAF can protect the following resources: Amazon CloudFront distributions,
        Application Load Balancers (ALB) and AWS AppSync GraphQL APIs.", "Supported
        frameworks include Next.js, React, Angular and Vue." """
        m = _ANNOUNCED_LIST.search(text)
        if m is not None and m.group("verb").lower().startswith("support"):
            return  # "supports the following X: a, b" is read by _supports
        m = m or _SUPPORTED_INCLUDE.match(text)
        if m is None or ctx.subject is None:
            return
        items = split_list(text[m.end() :])
        if len(items) < 2:
            return
        for item, _, _ in items:
            if not re.match(r"(?:plus|other|and)\b", item, re.I):  # "plus other generators"
                self._announced(ctx, m, re.split(r"\s*\(", item, maxsplit=1)[0], ev)

    def _announced(
        self, subject: _Context, m: re.Match[str], name: str, ev: Evidence
    ) -> Entity | None:
        """One announced item: a service the subject supports (or works with), else a
        feature of the kind the announcement names."""
        name = name.strip(" .,;")
        if subject.subject is None or not name or len(name.split()) > 6:
            return None
        supports = not re.match(r"(?:integrat|work)", m.group("verb"), re.I)
        found = self.ex.matcher.find(name)
        lead = re.match(r"(?:(?:AWS|Amazon)\s+)?", name)
        if found and found[0].start <= (lead.end() if lead else 0):
            key = self._choose(found[0], subject.service)
            target = self.entity_for_key(key, ev)
            if target.kind in ("service", "feature") and key != subject.subject:
                self.relate(subject.subject, "supports" if supports else "worksWith", key, ev)
                return target
        if not supports:
            return None
        ent = self.feature(subject.subject, name, ev, kind=kind_of(m.group("noun")))
        if ent is not None and re.match(r"support", m.group("verb"), re.I):
            self.relate(subject.subject, "supports", ent.iri, ev)
        return ent

    def _named_service(self, name: str) -> str | None:
        """The service a name opens with: "Glue ETL job" -> AWS Glue."""
        # Read as mid-sentence: a case-sensitive name ("Glue") may open a table cell.
        found = self.ex.matcher.find(f"the {name.strip()}")
        if not found or found[0].start != 4 or found[0].end >= len(name.strip()) + 3:
            return None
        service = self.owner_service(self._choose(found[0], None))
        if service is not None:
            self.entity_for_key(service)
        return service

    def _is_category_line(self, block: Block) -> bool:
        lead = lead_term(self.text[block.start : block.end])
        return lead is not None and bool(self.ex.category_matcher.find(lead.term))

    def _categories(self, block: Block) -> None:
        """ "Compute: ec2, lambda" -> both services are in the Compute category."""
        text = self.text[block.start : block.end]
        lead = lead_term(text)
        if lead is None:
            return
        rest = text[lead.rest_start :]
        items = split_list(rest)
        if not items:
            return
        keys = []
        for item, _, _ in items:
            ms = self.ex.matcher.find(item)
            if len(ms) != 1 or len(ms[0].text) < len(item) - 1:
                return
            key = ms[0].keys[0]
            if self.owner_service(key) != key:
                return
            keys.append(key)
        cats = self.ex.category_matcher.find(lead.term)
        ev = Evidence(block.start, block.end)
        if cats:
            cat_iri, cat_label = cats[0].keys[0], self.ex.lexicon.entries[cats[0].keys[0]].label
        else:
            cat_label = squash(lead.term)
            cat_iri = vocab.category_iri(cat_label)
        cat = self.entities.setdefault(
            cat_iri, Entity(cat_iri, "category", cat_label, known=bool(cats))
        )
        cat.cite(ev)
        for key in keys:
            self.entity_for_key(key, ev)
            self.relate(key, "inCategory", cat_iri, ev)

    def _inline_kinds(self, block: Block, ctx: _Context) -> None:
        """ "There are three types: application (...), network (...) and classic load balancers",
        "2 types of replicas available: aurora replicas and MySQL replicas",
        "Types: (1) Web Distribution: ...; and (2) RTMP: ..."."""
        for sent in self._sentences_by_block.get(block.index, []):
            text = self.text[sent.start : sent.end]
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
            items = split_list(self.text[body_start : sent.end])
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
                    owner_label = self.entities[owner].label if owner in self.entities else ""
                    last = owner_label.split()[-1] if owner_label else ""
                    if last and last[0].isalpha() and last.lower() not in STOPWORDS:
                        name = f"{name} {singular(last).lower()}"
                self.feature(owner, _titlecase_if_lower(name), ev, kind=kind)

    def _table_row(self, block: Block, ctx: _Context) -> None:
        assert block.table is not None
        header = self.parsed.blocks[block.table]
        row = read_row(self, header, block)
        if row is not None:
            self.rows[block.index] = row
        if row is None:
            self.block_subject[block.index] = ctx
            return
        ev = Evidence(block.start, block.end)
        kind = None
        if header.intro is not None:
            intro = self.parsed.blocks[header.intro]
            kind = kind_of(self.text[intro.start : intro.end])
        kind = kind or row.kind
        if row.columns_are_entities:
            self.block_subject[block.index] = ctx  # the limits name the column's thing
            return
        if row.name is None:
            self.block_subject[block.index] = ctx
            return
        priced = any(
            isinstance(a, Quantity) and a.dimension is Dimension.USD
            for cell in row.cells
            for a in cell.amounts
        )
        # a price list across services: "| Glue ETL job | $0.44 per DPU-hour |"
        owner = (self._named_service(row.name) if priced else None) or ctx.subject
        ent = self.feature(owner, row.name, ev, kind=kind)
        if ent is None:
            self.block_subject[block.index] = ctx
            return
        for alias in row.aliases:
            if norm_key(alias) != norm_key(ent.label):
                ent.aliases.add(alias)
                self._index_feature(ctx.subject or ent.iri, ent)
        self.block_subject[block.index] = _Context(
            ent.iri, self.owner_service(ent.iri) or ctx.service
        )
        if owner != ctx.subject:
            return
        for column, value, feature_name in row.matrix:
            col = self.link(column, ctx.subject) or self.feature(ctx.subject, column, ev)
            if col is not None and value:
                self.relate(col.iri, "supports", ent.iri, ev)
            del feature_name

    # ---- relations ----------------------------------------------------------------------------

    def _relations(self, sent: Sentence, block: Block, ctx: _Context) -> None:
        text = self.text[sent.start : sent.end]
        ev = Evidence(sent.start, sent.end)
        self._definition(sent, ctx)
        self._supports(text, sent, ev, ctx)
        self._replicates(text, sent, ev, ctx)
        self._charged(text, sent, block, ev, ctx)
        self._used_for(text, sent, ev, ctx)
        self._integrations(text, sent, ev, ctx)
        self._options(text, ev, ctx)
        self._announced_inline(text, ev, ctx)
        self._quoted_terms(sent, block, ev, ctx)

    def _options(self, text: str, ev: Evidence, ctx: _Context) -> None:
        """ "Origin: ... This can be an S3 bucket, an EC2 instance, or Route53": the thing
        the item names accepts each of the services listed."""
        m = re.search(r"\b(?:this|it|they|which)\s+can\s+be\s+(?:either\s+)?", text, re.I)
        if m is None or ctx.subject is None:
            return
        items = split_list(text[m.end() :])
        linked = [self.link(item, ctx.subject) for item, _, _ in items]
        services = [e for e in linked if e is not None and e.kind == "service"]
        if len(items) >= 2 and len(services) == len(items):
            for ent in services:
                ent.cite(ev)
                self.relate(ctx.subject, "supports", ent.iri, ev)

    def _quoted_terms(self, sent: Sentence, block: Block, ev: Evidence, ctx: _Context) -> None:
        """ "we need to enable “Strongly Consistent Reads” instead": a named option."""
        if block.kind is BlockKind.NUMBERED or ctx.service is None:
            return
        for m in re.finditer(
            r"[“\"]([A-Z][\w-]*(?:\s+[A-Z][\w-]*){1,4})[”\"]", self.doc.text[sent.start : sent.end]
        ):
            owner = ctx.service
            kind = self.entities[ctx.subject].feature_kind if ctx.subject in self.entities else None
            self.feature(owner, m.group(1), ev, kind=kind)

    def _definition(self, sent: Sentence, ctx: _Context) -> None:
        text = self.text[sent.start : sent.end]
        m = _DEFINITION.match(text)
        ms = self.mentions.get(sent.start, [])
        if not m or not ms or ms[0].start != sent.start + m.start("name"):
            return
        ent = self.entity_for_key(self._choose(ms[0], ctx.service))
        if ent.definition is None:
            ent.definition = (
                squash(self.doc.text[sent.start : sent.end]),
                Evidence(sent.start, sent.end),
            )

    def _subject_before(self, sent: Sentence, pos: int, ctx: _Context) -> str | None:
        """The entity named between the clause start and ``pos`` (a verb), else the context."""
        clause_start = sent.start
        before = self.text[sent.start : pos]
        cut = max(before.rfind(";"), before.rfind(":"), before.rfind(". "))
        if cut >= 0:
            clause_start = sent.start + cut + 1
        if ", " in before[clause_start - sent.start :]:
            tail = before[clause_start - sent.start :]
            clause_start += tail.rfind(", ") + 2
        phrase = self.text[clause_start:pos]
        if _PRONOUN_START.match(phrase) or not phrase.strip():
            return ctx.subject
        for m in self.mentions.get(sent.start, []):
            if clause_start <= m.start < pos and not _NON_SUBJECT_BEFORE.search(
                self.text[clause_start : m.start]
            ):
                return self._choose(m, ctx.service)
        words = [w for w in phrase.split() if w.lower() not in STOPWORDS]
        if words:
            ent = self.link(" ".join(words[-3:]), ctx.subject, allow_new=False)
            if ent is not None:
                return ent.iri
        return ctx.subject

    def _heading_kind(self, sent: Sentence) -> str | None:
        """The kind a plural heading names: "Supported formats" -> "format"."""
        section = self.parsed.sections[self.parsed.blocks[sent.block].section]
        if not section.title or not _plural_heading(section.title):
            return None
        title = re.sub(
            r"^(?:supported|available|common|main|key)\s+", "", section.title, flags=re.I
        )
        for m in reversed(self.ex.matcher.find(title)):
            title = title[: m.start] + title[m.end :]
        return kind_of(squash(title)) if title.strip() else None

    def _nearest_before(self, sent: Sentence, pos: int) -> str | None:
        before = [m for m in self.mentions.get(sent.start, []) if m.end <= pos]
        return self._choose(before[-1], None) if before else None

    def _objects(
        self, body: str, body_start: int, owner: str | None, ev: Evidence, kind: str | None = None
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
            ent = self.link(item, owner) or self.feature(owner, item, ev, kind=kind)
            if ent is not None:
                out.append(ent.iri)
        del body_start
        return out

    def _supports(self, text: str, sent: Sentence, ev: Evidence, ctx: _Context) -> None:
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
            body = self.text[body_start : sent.end]
            kind = None
            colon_list = False
            if m.group("sup"):
                subject = ctx.subject
                kind = kind_of(m.group("what"))
            elif m.group("prep") or m.group("impl"):
                # Passive: "Read replicas ... only supported for MySQL", "ElastiCache that is
                # implemented by memcached": the nearest thing named before the verb.
                subject = self._nearest_before(sent, verb_pos) or ctx.subject
            else:
                subject = self._subject_before(sent, verb_pos, ctx)
                colon = re.match(r"([^:.;]{0,60}):\s*", body)
                if colon:
                    colon_list = True
                    kind = kind_of(colon.group(1))
                    body_start += colon.end()
                    body = self.text[body_start : sent.end]
                else:
                    body = re.sub(r"^(?:both|also|only)\s+", "", body)
                    body = re.split(r"\s+(?:on|at|from|within|into|across|between)\s+|\(", body)[0]
            if subject is None or re.match(
                r"(?:is|are|was|were|will|can|depends?|has|have)\b", body
            ):
                continue
            if colon_list and not looks_like_name_list([i for i, _, _ in split_list(body)]):
                continue
            if kind is None:
                kind = self._heading_kind(sent)
            owner = self.owner_service(subject) or subject
            for obj in self._objects(body, body_start, owner, ev, kind):
                self.relate(subject, "supports", obj, ev)
                if kind and obj in self.entities and self.entities[obj].kind == "feature":
                    self.entities[obj].feature_kind = self.entities[obj].feature_kind or kind
                    self.relate(owner, "hasFeature", obj, ev)

    def _replicates(self, text: str, sent: Sentence, ev: Evidence, ctx: _Context) -> None:
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
        loc = _LOCATION_WORD.search(target)
        if loc is None:
            return
        verb = text[m.start() : m.end("obj")].lower()
        if not re.search(r"replica|cop|spread|mirror|across", verb + " " + m.group("prep").lower()):
            return
        target = target[: loc.end()]
        subject = self._subject_before(sent, sent.start + m.start(), ctx)
        if subject is None:
            return
        ms = [x for x in self.ex.matcher.find(target) if self.owner_service(x.keys[0]) == x.keys[0]]
        for x in ms:
            self.relate(subject, "replicatesTo", x.keys[0], ev)
            target = target.replace(x.text, "").strip()
        label = squash(target).replace("’", "'").replace("AZ's", "AZs")
        label = re.sub(
            r"^(?:(?:in|of|the|a|an|its|their|your|each|every)\s+)+", "", label, flags=re.I
        )
        if not label:
            return
        iri = f"{vocab.ID}location/{vocab.slug(self.doc.id)}/{vocab.slug(label)}"
        loc_ent = self.entities.setdefault(iri, Entity(iri, "location", label))
        loc_ent.cite(ev)
        self.relate(subject, "replicatesTo", iri, ev)

    def _charged(
        self, text: str, sent: Sentence, block: Block, ev: Evidence, ctx: _Context
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
        lead = lead_term(self.text[block.start : block.end])
        if sent.start == block.start and lead is not None and lead.term.lower() == "pricing":
            rest = self.text[block.start + lead.rest_start : sent.end]
            if not re.search(
                r"\b(?:is|are|was|were|be|charged|billed|priced|costs?)\b", rest, re.I
            ):
                bodies.append(rest)  # "Pricing: in compute node hours and for backups"
        by = re.match(r"\s*By\s+(?!default\b)([\w\s-]{2,40}?)(?::|,|\s+which\b|\s*$|\.)", text)
        if by and self._pricing_context(block):
            bodies.append(by.group(1))
        row = self.rows.get(block.index) if block.kind is BlockKind.TABLE_ROW else None
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
                    done = re.match(
                        rf"\s*(?:per\s+)?{re.escape(q.per)}\s+([a-z]+ed)\b", text[q.end :]
                    )
                    bodies.append(f"{q.per} {done.group(1)}" if done else q.per)
        for body in bodies:
            body = re.sub(r"\s*\([^)]*\)", "", body)
            # "billed per second for the vCPU and memory": what is billed follows "for".
            body = re.sub(
                r"^(?:milli)?(?:second|minute|hour|day|month)s?\s+for\s+", "", body, flags=re.I
            )
            body = _before_next_clause(
                re.split(r"[.;:(]|\$|\s+(?:with|without|thereafter)\b", body)[0]
            )
            for item in re.split(r",\s*(?:and\s+)?|\s+and\s+(?:for\s+|by\s+)?|\s+or\s+", body):
                label = _dimension_label(item)
                if label:
                    scope = _local(self.owner_service(subject) or subject)
                    iri = f"{vocab.ID}pricing/{scope}/{vocab.slug(singular(label))}"
                    ent = self.entities.setdefault(
                        iri, Entity(iri, "pricing", label, owner=subject)
                    )
                    ent.cite(ev)
                    self.relate(subject, "chargedBy", iri, ev)

    def _pricing_context(self, block: Block) -> bool:
        """Whether a "By X" line is about billing: its section mentions money or charging, or
        it sits in a list of several "By ..." items."""
        section = self.parsed.sections[block.section]
        body = self.text[section.start : section.end]
        if re.search(r"\$\s?\d|\bcharg|\bpric|\bbill|\bfree\b|\bcost", body, re.I):
            return True
        siblings = [
            b
            for b in self.parsed.blocks
            if b.section == block.section
            and b.kind is block.kind
            and re.match(r"\s*By\s+(?!default)", self.text[b.start : b.end])
        ]
        return len(siblings) >= 3

    def _used_for(self, text: str, sent: Sentence, ev: Evidence, ctx: _Context) -> None:
        m = re.search(r"\b(?:is|are)\s+used\s+(?:to|for)\s+(?P<what>[^.;]{3,80})", text, re.I)
        if m:
            subject = self._subject_before(sent, sent.start + m.start(), ctx)
            if subject is not None and self._named_in(sent, subject, sent.start + m.start()):
                self.relate(subject, "usedFor", _purpose(m.group("what")), ev, literal=True)
                self._works_with(subject, m.group("what"), ev)
        m = re.search(
            r"^\s*For\s+(?P<what>[\w\s-]{3,40}?),\s*(?:we|you)?\s*(?:need\s+to|should|can|must)?\s*use\s+",
            text,
            re.I,
        )
        if m:
            rest_start = sent.start + m.end()
            for x in self.mentions.get(sent.start, []):
                if x.start >= rest_start - 1 and x.start <= rest_start + 10:
                    key = self._choose(x, ctx.service)
                    self.entity_for_key(key, ev)
                    self.relate(key, "usedFor", _purpose(m.group("what")), ev, literal=True)
                    if ctx.service and ctx.service != key:
                        self.relate(key, "worksWith", ctx.service, ev)
                    break

    def _integrations(self, text: str, sent: Sentence, ev: Evidence, ctx: _Context) -> None:
        """ "works with both Amazon ECS and Amazon EKS", "integrates with CloudWatch"."""
        m = re.search(r"\b(?:works?|integrates?|integrated)\s+(?:\w+\s+)?with\s+", text, re.I)
        if m is None:
            return
        subject = self._subject_before(sent, sent.start + m.start(), ctx)
        if subject is not None:
            self._works_with(subject, text[m.end() :], ev)

    def _named_in(self, sent: Sentence, iri: str, pos: int) -> bool:
        return any(x.start < pos and iri in x.keys for x in self.mentions.get(sent.start, [])) or (
            iri in self.entities and self.entities[iri].kind == "feature"
        )

    def _works_with(self, subject: str, text: str, ev: Evidence) -> None:
        for x in self.ex.matcher.find(text):
            key = x.keys[0]
            if key != subject and self.owner_service(key) == key:
                self.entity_for_key(key, ev)
                self.relate(subject, "worksWith", key, ev)


_GENERIC_NOUNS = frozenset(
    """bucket buckets instance instances queue queues function functions table tables cluster
    clusters volume volumes service services database databases topic topics stream streams
    endpoint endpoints api apis resource resources account accounts server servers""".split()
)


def _local(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def _plural_heading(title: str) -> bool:
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


def _topic_label(title: str) -> str:
    main = title.split(":", 1)
    label = (
        main[1]
        if len(main) == 2 and main[0].lower().startswith(("the basics", "basics"))
        else main[0]
    )
    return re.sub(r"^(?:the|a|an)\s+", "", label.strip(), flags=re.I) or title


def _topic_aliases(title: str, label: str) -> set[str]:
    aliases = set()
    for part in re.split(r"[:,]|\band\b", title):
        part = re.sub(r"^(?:the|a|an)\s+", "", part.strip(), flags=re.I)
        if part and part != label and part.lower() not in ("the basics", "basics"):
            aliases.add(part)
    words = [w for w in label.split() if w.lower() not in STOPWORDS]
    if len(words) > 1 and words[0][0].islower():
        aliases.add(words[0])
    return aliases


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
    inner_capital = any(re.search(r"[A-Z]", w[1:]) for w in text.split())  # vCPU, GB-month
    return text if text.isupper() or inner_capital else text.lower()


def _purpose(text: str) -> str:
    return squash(re.sub(r"\s+(?:and|but)\s+(?:it|they|we)\b.*$", "", text)).strip(" .,")
