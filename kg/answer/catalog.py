"""Everything the graph names, in memory, for linking questions to entities.

Loaded once per build from the graph store (one SPARQL query); questions are linked against
it without touching the store. Knows three more things: the words the notes use (a name the
notes never use is out of scope), the lexicon of known services (a known service the notes
never mention is out of scope), and common English (never matched fuzzily).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from kg import vocab
from kg.graph.base import GraphStore
from kg.lexicon import Lexicon, Matcher, Mention
from kg.text.words import STOPWORDS, deletes, norm_key, singular, stem, tokens


@dataclass(frozen=True, slots=True)
class Linked:
    """An entity a question names, and where."""

    iri: str
    label: str
    kind: str
    text: str  # as written in the question
    start: int
    end: int
    score: float  # 1.0 for an exact name, less for fuzzy or scattered words


_KINDS = {
    vocab.CKG + "Service": "service",
    vocab.CKG + "Feature": "feature",
    vocab.CKG + "Topic": "topic",
    vocab.CKG + "Category": "category",
    vocab.CKG + "PricingDimension": "pricing",
    vocab.CKG + "Location": "location",
}
_LINKED_KINDS = frozenset({"service", "feature", "topic", "category"})
_P = vocab.sparql_prefixes(("ckg", "rdfs", "skos"))
# One query per property: a single query with OPTIONALs multiplies aliases by owners by kinds
# and grows quadratically with the corpus.
_ENTITIES = (
    _P
    + """SELECT DISTINCT ?s ?type ?label WHERE {
  VALUES ?type { ckg:Service ckg:Feature ckg:Topic ckg:Category ckg:PricingDimension
                 ckg:Location }
  ?s a ?type ; rdfs:label ?label }"""
)
_ALIASES = _P + "SELECT DISTINCT ?s ?name WHERE { ?s skos:altLabel ?name }"
_OWNERS = (
    _P
    + """SELECT DISTINCT ?s ?owner WHERE {
  { ?owner ckg:hasFeature ?s } UNION { ?s ckg:partOf ?owner } }"""
)
_FEATURE_KINDS = _P + "SELECT DISTINCT ?s ?kind WHERE { ?s ckg:featureKind ?kind }"


@dataclass
class Entry:
    iri: str
    kind: str
    label: str
    names: set[str] = field(default_factory=set)
    owners: set[str] = field(default_factory=set)
    feature_kind: str | None = None


_GENERIC_KIND_WORDS = frozenset("type kind option variant flavor flavour sort".split())


def _kind_head(kind: str | None) -> str | None:
    """The noun a kind is a kind of: "workflow type" -> "workflow", "queue type" -> "queue"."""
    if not kind:
        return None
    words = [w for w in kind.split() if w.lower() not in _GENERIC_KIND_WORDS]
    return " ".join(words) or None


class Catalog:
    def __init__(
        self,
        entries: Iterable[Entry],
        *,
        vocabulary: Iterable[str] = (),
        lexicon: Lexicon | None = None,
        common_words: Iterable[str] = (),
    ) -> None:
        self.entries = {e.iri: e for e in entries}
        self._by_name: dict[str, list[Entry]] | None = None
        self._by_stem: dict[str, list[Entry]] | None = None
        self.common = frozenset(common_words)
        self._plain_words = self.common | STOPWORDS
        self.matcher = Matcher(self.common, singulars=True)
        self._scattered: list[tuple[frozenset[str], str]] = []
        for e in self.entries.values():
            if e.kind not in _LINKED_KINDS:
                continue  # known for labels, never linked: "requests", "another region"
            head = _kind_head(e.feature_kind)
            if head and e.kind == "feature" and head.lower() not in e.label.lower():
                e.names.add(
                    f"{e.label} {head}"
                )  # "Express" of kind "workflow type": "Express workflow"
            for name in {e.label, *e.names}:
                self.matcher.add(name, e.iri)
                words = [
                    w
                    for w in re.findall(r"[A-Za-z0-9][\w.+#-]*", name.lower())
                    if w not in STOPWORDS
                ]
                if e.kind in ("feature", "topic") and len(words) >= 2:
                    self._scattered.append((frozenset(stem(singular(w)) for w in words), e.iri))
        self.vocabulary = frozenset(w.lower() for w in vocabulary)
        self._vocab_deletes: dict[str, str] = {}
        for w in self.vocabulary:
            if len(w) >= 5:
                for d in deletes(w):
                    self._vocab_deletes.setdefault(d, w)
        self.lexicon = lexicon
        self._lexicon_matcher = lexicon.matcher(self.common) if lexicon else None
        for known in lexicon.entries.values() if lexicon else ():
            if lexicon is not None and known.iri in self.entries:
                for name in lexicon.exact_names(known):  # "Config" (AWS Config), not "config"
                    self.matcher.add(name, known.iri, case_sensitive=True)

    @classmethod
    def load(
        cls,
        store: GraphStore,
        *,
        vocabulary: Iterable[str] = (),
        lexicon: Lexicon | None = None,
        common_words: Iterable[str] = (),
    ) -> Catalog:
        entries: dict[str, Entry] = {}
        for row in store.select(_ENTITIES):
            iri, kind = row["s"].value, _KINDS[row["type"].value]
            e = entries.get(iri)
            if e is None:
                entries[iri] = Entry(iri, kind, row["label"].value)
            elif kind == "service":
                e.kind = "service"  # listed as a kind of another service, still a service
        for query, add in (
            (_ALIASES, lambda e, r: e.names.add(r["name"].value)),
            (_OWNERS, lambda e, r: e.owners.add(r["owner"].value)),
            (_FEATURE_KINDS, lambda e, r: setattr(e, "feature_kind", r["kind"].value)),
        ):
            for row in store.select(query):
                entry = entries.get(row["s"].value)
                if entry is not None:
                    add(entry, row)
        return cls(
            entries.values(), vocabulary=vocabulary, lexicon=lexicon, common_words=common_words
        )

    def named(self, name: str) -> list[Entry]:
        """The entries whose label or an alias is ``name`` (case, spacing and punctuation
        aside), services first."""
        if self._by_name is None:
            by_name: dict[str, list[Entry]] = {}
            for e in sorted(self.entries.values(), key=lambda e: (e.kind != "service", e.label)):
                for key in {norm_key(n) for n in (e.label, *e.names)}:
                    by_name.setdefault(key, []).append(e)
            self._by_name = by_name
        return self._by_name.get(norm_key(name), [])

    def extended(self, name: str) -> list[Entry]:
        """The entries named ``name`` and one more word ("SMB" -> "SMB protocol")."""
        if self._by_stem is None:
            by_stem: dict[str, list[Entry]] = {}
            for e in self.entries.values():
                words = norm_key(e.label).split()
                if len(words) >= 2:
                    by_stem.setdefault(" ".join(words[:-1]), []).append(e)
            self._by_stem = by_stem
        return self._by_stem.get(norm_key(name), [])

    def label(self, iri: str) -> str:
        """The preferred name of anything the graph names (the IRI's last part otherwise)."""
        entry = self.entries.get(iri)
        return entry.label if entry is not None else iri.rsplit("/", 1)[-1]

    def services(self) -> list[Entry]:
        return [e for e in self.entries.values() if e.kind == "service"]

    def owner_services(self, iri: str) -> set[str]:
        """The services an entity belongs to (itself for a service)."""
        out: set[str] = set()
        todo, seen = [iri], set()
        while todo:
            cur = todo.pop()
            if cur in seen:
                continue
            seen.add(cur)
            e = self.entries.get(cur)
            if e is None:
                continue
            if e.kind == "service":
                out.add(cur)
                if cur != iri:
                    continue
            todo.extend(e.owners)
        return out or {iri}

    def link(self, question: str) -> list[Linked]:
        """Entities the question names, best first; overlapping names keep the longest."""
        return self.link_words(question)[0]

    def link_words(self, question: str) -> tuple[list[Linked], list[tuple[int, int]]]:
        """``link``, and the places of plain words that name a feature only of a service the
        question does not name ("throughput"): no entity of the question, nor an unknown name."""
        found: list[Linked] = []
        for m in self.matcher.find(question):
            keys = [k for k in m.keys if k in self.entries]
            if not keys:
                continue
            found.append(
                Linked(
                    keys[0],
                    self.entries[keys[0]].label,
                    self.entries[keys[0]].kind,
                    m.text,
                    m.start,
                    m.end,
                    0.8 if m.fuzzy else 1.0,
                )
            )
            for other in keys[1:]:
                found.append(
                    Linked(
                        other,
                        self.entries[other].label,
                        self.entries[other].kind,
                        m.text,
                        m.start,
                        m.end,
                        0.7,
                    )
                )
        # Multi-word feature names whose words are all in the question, in any order.
        qstems = {stem(singular(t.lower)) for t in tokens(question)}
        for words, iri in self._scattered:
            if words <= qstems and not any(f.iri == iri for f in found):
                e = self.entries[iri]
                found.append(Linked(iri, e.label, e.kind, e.label, -1, -1, 0.6 + 0.05 * len(words)))
        return self._resolve(found)

    def _resolve(self, found: list[Linked]) -> tuple[list[Linked], list[tuple[int, int]]]:
        """Drop single common words that name a feature of a service the question does not
        name ("origin" counts only next to CloudFront); among one name's several meanings keep
        those belonging to a named service."""
        services = {f.iri for f in found if f.kind == "service"}
        named_owners = set(services)
        for f in found:
            named_owners |= self.owner_services(f.iri) if f.kind == "service" else {f.iri}
        kept: list[Linked] = []
        words: list[tuple[int, int]] = []
        for f in found:
            e = self.entries[f.iri]
            one_word = len(f.text.split()) == 1
            single = one_word and f.text.lower() in self._plain_words
            owners = self.owner_services(f.iri)
            if f.kind == "feature":
                owners = owners - {f.iri}  # a feature without a service owns nothing itself
            owned = bool(owners & named_owners) or bool(e.owners & named_owners)
            if f.kind != "service" and single and not owned:
                continue
            if f.kind == "feature" and one_word and f.text.islower() and services and not owned:
                words.append((f.start, f.end))  # "throughput modes of Amazon EFS"
                continue
            if f.kind == "service" and single and f.text.islower() and services - {f.iri}:
                words.append((f.start, f.end))  # "BigQuery batch load jobs": no Google Batch
                continue
            if f.kind == "category" and f.text.islower():
                continue  # "database engines" names no category
            if (
                f.score < 1.0
                and f.start >= 0
                and not owned
                and any(k.start == f.start and k.iri != f.iri for k in found)
            ):
                continue
            kept.append(f)
        # Same span, several meanings: keep the ones under a named service, else the first.
        by_span: dict[tuple[int, int], list[Linked]] = {}
        for f in kept:
            by_span.setdefault((f.start, f.end), []).append(f)
        out: list[Linked] = []
        for (start, _), group in by_span.items():
            if start < 0 or len(group) == 1:
                out += group
                continue
            preferred = [g for g in group if self.owner_services(g.iri) & named_owners - {g.iri}]
            out += preferred or group[:1]
        out.sort(key=lambda f: (-f.score, f.start))
        return out, words

    def unknown_names(
        self, question: str, linked: list[Linked], words: Sequence[tuple[int, int]] = ()
    ) -> list[str]:
        """Names in the question that the notes never mention: a known service absent from
        the graph, or a capitalised name (or a rare word) the notes never use. ``words``: the
        places of words the notes use (``link_words``)."""
        covered = [(f.start, f.end) for f in linked if f.start >= 0] + list(words)
        unknown: list[str] = []
        clouds = self.lexicon.providers.find(question) if self.lexicon is not None else []
        if self._lexicon_matcher is not None:
            for m in self._lexicon_matcher.find(question):
                if self._within(m, covered, clouds):
                    continue  # "Google Filestore": the notes' Filestore, not a fuzzy Firestore
                if not any(k in self.entries for k in m.keys):
                    if self._of_another_cloud(m, clouds):
                        continue  # "Artifact" (AWS Artifact) in "Google ... Artifact Analysis"
                    if not self._described(m.text, m.keys, clouds, m.start):
                        unknown.append(m.text)
                    covered.append((m.start, m.end))
        covered += [(m.start, m.end) for m in clouds]  # "Azure", "GCP": a cloud, not a name
        for i, t in enumerate(tokens(question)):
            if any(s <= t.start < e for s, e in covered):
                continue
            word = t.lower
            if len(word) < 3 or word in STOPWORDS or not word[0].isalpha() or self.knows(word):
                continue
            # Only names count: a capitalised word inside the question, or a word with capitals
            # or digits inside it ("DocumentDB", "G5"). Plain words may be paraphrase or typos.
            capitalised = t.text[0].isupper() and i > 0
            product_like = any(c.isupper() for c in t.text[1:]) or any(c.isdigit() for c in t.text)
            if capitalised or product_like:
                unknown.append(t.text)
        return unknown

    def _of_another_cloud(self, m: Mention, clouds: list[Mention]) -> bool:
        """A one-word name of a service of a cloud the question does not name, in a question
        that names its cloud: too weak a name to ask about that service, as in the notes
        (``kg.extract.context``): "Artifact" (AWS Artifact) in "How much does Artifact Analysis
        charge ... Google Artifact Registry?"."""
        if self.lexicon is None or not clouds or len(m.text.split()) > 1:
            return False
        named = {k for c in clouds for k in c.keys}
        providers = {self.lexicon.entries[k].provider for k in m.keys if k in self.lexicon.entries}
        return bool(providers) and not providers & named

    @staticmethod
    def _within(m: Mention, covered: list[tuple[int, int]], clouds: list[Mention]) -> bool:
        """Whether a catalog name adds nothing but a cloud's name to names already linked:
        "Google Filestore" over "Filestore", not "Amazon Kinesis Video Streams" over "Amazon
        Kinesis"."""
        if not any(s < m.end and m.start < e for s, e in covered):
            return False
        spans = covered + [(c.start, c.end) for c in clouds]
        return all(
            any(s <= m.start + t.start < e for s, e in spans) or t.lower in STOPWORDS
            for t in tokens(m.text)
        )

    def _described(self, text: str, keys: tuple[str, ...], clouds: list[Mention], at: int) -> bool:
        """A catalog feature the notes describe in their own words without its catalog name:
        "Azure Spot VM" where the notes say "Spot VMs" (every word but the cloud's is theirs).
        A service must be named: "Kinesis Video Streams" is not "video" in Kinesis notes."""
        if self.lexicon is None or not all(
            (entry := self.lexicon.entries.get(k)) is not None and entry.part_of for k in keys
        ):
            return False
        cloud = [(c.start - at, c.end - at) for c in clouds]
        words = [
            t.lower
            for t in tokens(text)
            if t.lower not in STOPWORDS and not any(s <= t.start < e for s, e in cloud)
        ]
        return bool(words) and all(self.knows(w) for w in words)

    def knows(self, word: str) -> bool:
        """Whether the notes use this word (or a one-typo variant of it, its singular or its
        plural), or each part of a compound ("MMA/OMS")."""
        w = word.lower()
        if not self.vocabulary:
            return True
        forms = (w, singular(w), stem(w), f"{w}s", f"{w}es")
        if any(f in self.vocabulary for f in forms):
            return True
        parts = [p for p in re.split(r"[/.-]", w) if p]
        if len(parts) > 1:
            return all(self.knows(p) for p in parts)
        if len(w) < 5:
            return False
        return w in self._vocab_deletes or any(
            d in self.vocabulary or d in self._vocab_deletes for d in deletes(w)
        )
