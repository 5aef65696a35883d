"""What extraction knows about one document while reading it: the entities found so far,
the relations between them, and how a phrase links to an entity.

``DocumentContext`` is the state the reading steps (``subjects``, ``structure``,
``relations``, ``limits``) share; ``Entity``, ``Relation`` and ``Extraction`` are what they
produce."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kg import vocab
from kg.extract.discover import vendorless
from kg.extract.limits import LimitFact
from kg.extract.patterns import (
    GENERIC_NOUNS,
)
from kg.extract.providers import prefer_provider
from kg.extract.tables import Row
from kg.lexicon import Mention
from kg.model import Block, Document, Evidence, ParsedDocument, Section, Sentence
from kg.parse.notes import clean_text
from kg.text.phrases import (
    clean_name,
    lead_term,
    strip_determiners,
)
from kg.text.spellings import is_unit
from kg.text.words import STOPWORDS, norm_key, singular, split_camel, squash

if TYPE_CHECKING:
    from kg.extract.document import Extractor
    from kg.extract.enumerations import Enumeration


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
    provider: str | None = None  # a service's provider
    _cited: set[Evidence] = field(default_factory=set, repr=False, compare=False)

    def cite(self, ev: Evidence) -> None:
        if ev not in self._cited:  # a set beside the list: a service named 10,000 times
            self._cited.add(ev)
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
    provider: str | None = None  # the cloud the whole document is about, if one
    enumerations: list[Enumeration] = field(default_factory=list)

    def section_title(self, ev: Evidence) -> str | None:
        # Sections are in document order: the last one starting at or before the evidence.
        i = bisect_right(self.sections, ev.start, key=lambda s: s.start) - 1
        if i >= 0 and self.sections[i].start <= ev.start < self.sections[i].end:
            path = self.sections[i].path
            return " › ".join(path) if path else None
        return None


@dataclass
class Context:
    """What a sentence is about, as far as the text around it tells."""

    subject: str | None  # entity IRI
    service: str | None  # the service the subject belongs to


def local_name(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


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


class DocumentContext:
    def __init__(self, ex: Extractor, parsed: ParsedDocument) -> None:
        self.ex = ex
        self.parsed = parsed
        self.doc = parsed.document
        self.text = clean_text(parsed.document.text)
        self.entities: dict[str, Entity] = {}
        self.relations: list[Relation] = []
        self._related: set[Relation] = set()  # the same, for membership in constant time
        self.limits: list[LimitFact] = []
        self.mentions: dict[int, list[Mention]] = {}  # sentence start -> mentions
        self.section_subject: dict[int, Context] = {}
        self.block_subject: dict[int, Context] = {}
        self.features_by_owner: dict[str, dict[str, str]] = {}
        self.rows: dict[int, Row] = {}  # table row block -> what the row says
        self.previous_in_block: dict[int, Context] = {}
        self.sentence_subject: dict[int, Context] = {}  # by sentence start
        self.document_service: str | None = None
        self.title_things: set[str] = set()
        self.sentences_by_block: dict[int, list[Sentence]] = {}
        for s in parsed.sentences:
            self.sentences_by_block.setdefault(s.block, []).append(s)
        self.provider, self.section_provider, self.leaning = ex.providers.read(
            parsed, ex.matcher, self._ordinary
        )
        self.section = 0  # the section being read: its provider decides what a name denotes
        self.initials: dict[str, str] = {}  # the note's own abbreviations (learn_initials)

    # ---- names ------------------------------------------------------------------------------

    @property
    def current_provider(self) -> str | None:
        return self.section_provider.get(self.section, self.provider)

    def find(self, text: str, offset: int = 0, *, opening_names: bool = False) -> list[Mention]:
        """The mentions in ``text``, read in the current section's provider (see
        ``kg.extract.providers``)."""
        provider = self.current_provider
        out = []
        for m in self.ex.matcher.find(text, offset, opening_names=opening_names):
            if provider is None and self.leaning is not None:
                # No provider decides here: a name several clouds use leans to the note's.
                m = prefer_provider(m, self.leaning, self.ex.providers.of, lambda _: False) or m
            kept = prefer_provider(m, provider, self.ex.providers.of, self._ordinary)
            if kept is not None:
                out.append(kept)
        if self.initials:
            out = self._with_initials(text, offset, out)
        cloud = provider or self.leaning
        if cloud is None:
            return out
        # "API Management" in Azure notes: Azure API Management, written as its users do.
        bare = [
            m
            for m in self.ex.bare_matcher.find(text, offset)
            if self.ex.providers.of(m.keys[0]) == cloud
            and not any(o.start < m.end and m.start < o.end for o in out)
        ]
        return sorted(out + bare, key=lambda m: m.start) if bare else out

    def learn_initials(self) -> None:
        """The note's own abbreviations of the services it names: "EH" for Azure Event Hubs,
        "GD" for Amazon GuardDuty, "AFD" for Azure Front Door. Initials count only when no
        other service the note names has them, the note writes them more than once, and they
        are no name, word or unit already."""
        seen: dict[str, set[str]] = {}
        titles = [self.find(s.title) for s in self.parsed.sections if s.title]
        for mentions in [*self.mentions.values(), *titles]:
            for m in mentions:
                entry = self.ex.lexicon.entries.get(m.keys[0])
                if entry is None or entry.kind != "service":
                    continue
                for short in _initials(entry.label):
                    seen.setdefault(short, set()).add(entry.iri)
        written = Counter(m.group(0) for m in _CAPITALS.finditer(self.text))  # one pass
        self.initials = {
            short: next(iter(keys))
            for short, keys in seen.items()
            if len(keys) == 1
            and written[short] >= 2  # a habit, not one "SG"
            and short.lower() not in self.ex.common
            and not is_unit(short)
            and not self.ex.matcher.find(f"the {short}")
        }

    def _with_initials(self, text: str, offset: int, found: list[Mention]) -> list[Mention]:
        extra = [
            Mention((self.initials[m.group(0)],), offset + m.start(), offset + m.end(), m.group(0))
            for m in _CAPITALS.finditer(text)
            if m.group(0) in self.initials
            and not any(f.start < offset + m.end() and offset + m.start() < f.end for f in found)
        ]
        return sorted(found + extra, key=lambda m: m.start) if extra else found

    def question_before(self, sent: Sentence) -> str | None:
        """The question a flashcard's answer answers, without its label: the sentence before
        it or the heading it is under ("Q: Max recipients per message?" -> "Max recipients
        per message"), or None when that is no question."""
        section = self.parsed.sections[self.parsed.blocks[sent.block].section]
        before = self.parsed.sentences_in(section.start, sent.start)
        text = self.text[before[-1].start : before[-1].end] if before else section.title or ""
        m = re.fullmatch(r"(?:[A-Z][a-z]{0,2}\s*[:.)]\s*)?(.+?)\s*\?", text.strip())
        return m.group(1) if m else None

    def _ordinary(self, m: Mention) -> bool:
        """Too weak a name to mean another provider's service here: ordinary words ("Connect",
        "cloud storage") or one bare word ("AAD", "CLI", "WAF"), without a provider's name."""
        return self.ex.providers.ordinary(m, self.ex.common)

    def of_other_provider(self, iri: str) -> bool:
        """Whether an entity belongs to another provider than the current section's."""
        provider = self.current_provider
        owner = self.owner_service(iri) or iri
        return provider is not None and self.ex.providers.of(owner) not in (provider, None)

    def foreign(self, m: Mention) -> bool:
        """A mention of a service of another provider than the current section's."""
        provider = self.current_provider
        return provider is not None and self.ex.providers.of(m.keys[0]) not in (provider, None)

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
                    self.index_feature(owner.iri, ent)
            else:
                d = self.ex.discovered[iri]
                aliases = set(d.aliases) | set(vendorless(d.label))
                ent = Entity(iri, "service", d.label, aliases, provider=d.provider)
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
        if name is None or len(name.label) < 2 or is_unit(name.label):
            return None  # "GB" in "100 GB default" is how much, not a part of anything
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
            iri = f"{vocab.ID}feature/{local_name(scope)}/{vocab.slug(name.label)}"
            ent = self.entities.get(iri) or Entity(iri, "feature", name.label, owner=owner)
            self.entities[iri] = ent
            ent.cite(ev)
            if owner:
                self.index_feature(owner, ent)
        ent.aliases.update(a for a in name.aliases if norm_key(a) != norm_key(ent.label))
        if kind and not ent.feature_kind and ent.kind in ("feature", "service"):
            ent.feature_kind = kind
        if owner and owner != ent.iri:
            self.relate(owner, "hasFeature", ent.iri, ev)
        if name.purpose:
            self.relate(ent.iri, "usedFor", name.purpose, ev, literal=True)
        return ent

    def index_feature(self, owner: str, ent: Entity) -> None:
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
        mentions = self.find(phrase)
        if len(mentions) == 1:
            m = mentions[0]
            rest = (phrase[: m.start] + " " + phrase[m.end :]).split()
            if all(w.lower() in GENERIC_NOUNS or w.lower() in STOPWORDS for w in rest):
                return self.entity_for_key(self.choose(m, owner))
        return None

    def choose(self, m: Mention, owner: str | None) -> str:
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
        if s != o and rel not in self._related:
            self._related.add(rel)
            self.relations.append(rel)

    def label_entity(self, block: Block, section_ctx: Context) -> Entity | None:
        """The entity a label line names ("About NAT gateway:", "Kinesis Streams:")."""
        text = self.text[block.start : block.end].strip()
        if len(text.split()) > 6:
            return None
        m = re.match(r"^(?:about|for)\s+(.+?):?$", text, re.IGNORECASE)
        if m:
            return self.link(m.group(1), section_ctx.subject) or self.feature(
                section_ctx.subject, m.group(1), Evidence(block.start, block.end)
            )
        mentions = self.find(text.rstrip(":"))
        if len(mentions) == 1 and len(mentions[0].text) >= len(text.rstrip(":")) - 2:
            return self.entity_for_key(self.choose(mentions[0], section_ctx.service))
        return None

    def named_service(self, name: str) -> str | None:
        """The service a name opens with: "Glue ETL job" -> AWS Glue."""
        # Read as mid-sentence: a case-sensitive name ("Glue") may open a table cell.
        found = self.find(f"the {name.strip()}")
        if not found or found[0].start != 4 or found[0].end >= len(name.strip()) + 3:
            return None
        service = self.owner_service(self.choose(found[0], None))
        if service is not None:
            self.entity_for_key(service)
        return service

    def is_category_line(self, block: Block) -> bool:
        lead = lead_term(self.text[block.start : block.end])
        return lead is not None and bool(self.ex.category_matcher.find(lead.term))

    def cite_mentions(self, sent: Sentence) -> None:
        ev = Evidence(sent.start, sent.end)
        for m in self.mentions.get(sent.start, []):
            key = self.choose(m, None)
            lex = self.ex.lexicon.entries.get(key)
            if lex is None or lex.kind == "service" or lex.part_of:
                self.entity_for_key(key, ev)


_CAPITALS = re.compile(r"\b[A-Z]{2,4}\b")
_PROVIDER_WORDS = frozenset("amazon aws azure microsoft google cloud gcp".split())


def _initials(label: str) -> list[str]:
    """ "Azure Event Hubs" -> ["EH", "AEH"]; "Amazon GuardDuty" -> ["GD", "AGD"]."""
    words = split_camel(label).replace("-", " ").split()
    core = [w for w in words if w.lower() not in _PROVIDER_WORDS]
    if len(core) < 2 or not all(w.isalpha() for w in core):
        return []  # "Amazon S3" is no "AS"
    out = []
    for part in (core, words):
        short = "".join(w[0] for w in part).upper()
        if 2 <= len(short) <= 4 and short not in out:
            out.append(short)
    return out
