"""Questions across clouds, which the notes of one cloud rarely answer alone.

* **Equivalents**: "What is the Azure equivalent of SQS?", "What's the GCP counterpart of
  Azure Service Bus?". The service catalog pairs services as the providers' own comparison
  tables do (``skos:closeMatch``); the answer lists the named provider's equivalents (every
  provider's when none is named) and says which of them the notes cover.
* **Comparisons of one quantity**: "Compare the maximum message size of SQS and Pub/Sub",
  "Which has the longer retention, Event Hubs or Pub/Sub?". Each service's amount is answered
  on its own, with its own source; a service the notes say nothing about is named as such.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kg import vocab
from kg.answer.analysis import Analysis
from kg.answer.catalog import Catalog
from kg.answer.compose import join_names
from kg.lexicon import Lexicon
from kg.model import Fact, Term

# "equivalent" always asks across clouds; "matches", "corresponds to" only with another
# provider named ("Which GCP service matches Lambda?", not "Which severity range corresponds
# to a High finding in GuardDuty?").
_EQUIVALENT = re.compile(r"\b(?:equivalents?|counterparts?|analog(?:ue)?s?)\b", re.I)
_EQUIVALENT_WITH_PROVIDER = re.compile(
    r"\b(?:alternatives?|match(?:es)?|corresponds?\s+to|same\s+as|instead\s+of)\b", re.I
)
_COMPARE = re.compile(r"\bcompare\b|\bvs\.?\b|\bversus\b|\bor\b|\bbetween\b|\band\b", re.I)
CLOSE_MATCH = vocab.SKOS + "closeMatch"


@dataclass(frozen=True)
class Equivalents:
    service: str  # the named service's IRI
    provider: str | None  # the provider asked about, if named
    others: list[str]  # the equivalent services' IRIs (of that provider)


def providers_named(question: str, lexicon: Lexicon) -> list[str]:
    """The providers a question names ("Azure", "GCP", "Google Cloud")."""
    return list(dict.fromkeys(m.keys[0] for m in lexicon.providers.find(question)))


def equivalents(a: Analysis, catalog: Catalog) -> Equivalents | None:
    """An equivalence question and its answer from the catalog, or None."""
    lexicon = catalog.lexicon
    if lexicon is None:
        return None
    strong = _EQUIVALENT.search(a.question)
    if not strong and not _EQUIVALENT_WITH_PROVIDER.search(a.question):
        return None
    named = providers_named(a.question, lexicon)
    service = _service_named(a, catalog)
    if service is None:
        return None
    entry = lexicon.entries[service]
    wanted = [p for p in named if p != entry.provider]
    if not strong and not wanted:
        return None
    others = [
        o
        for o in entry.equivalents
        if o in lexicon.entries and (not wanted or _provider(lexicon, o) in wanted)
    ]
    return Equivalents(service, wanted[0] if wanted else None, others)


def _service_named(a: Analysis, catalog: Catalog) -> str | None:
    """The catalog service a question names, whether or not the notes cover it."""
    lexicon = catalog.lexicon
    assert lexicon is not None
    for e in a.entities:
        if e.iri in lexicon.services:
            return e.iri
    for m in lexicon.matcher(catalog.common).find(a.question):
        for key in m.keys:
            if key in lexicon.services:
                return key
    return None


def _provider(lexicon: Lexicon, iri: str) -> str | None:
    entry = lexicon.entries.get(iri)
    if entry is None:
        return None
    if entry.part_of:
        owner = lexicon.entries.get(entry.part_of)
        return owner.provider if owner else None
    return entry.provider


def describe_equivalents(found: Equivalents, catalog: Catalog) -> tuple[str, list[Fact]]:
    """ "Amazon SQS in Microsoft Azure: Azure Queue Storage and Azure Service Bus (the notes
    cover Azure Service Bus)." with one closeMatch fact per equivalent."""
    lexicon = catalog.lexicon
    assert lexicon is not None
    label = lexicon.entries[found.service].label
    where = f" in {lexicon.entries[found.provider].label}" if found.provider else " elsewhere"
    if not found.others:
        return f"The service catalog pairs {label} with nothing{where}.", []
    names = [lexicon.entries[o].label for o in found.others]
    covered = [lexicon.entries[o].label for o in found.others if o in catalog.entries]
    note = (
        f" (the notes cover {join_names(covered)})"
        if covered
        else " (the notes cover none of them)"
    )
    facts = [
        Fact(
            Term(label, found.service),
            Term("close match", CLOSE_MATCH),
            Term(lexicon.entries[o].label, o),
            None,
        )
        for o in found.others
    ]
    return f"{label}{where}: {join_names(names)}{note}.", facts


def compared_services(a: Analysis) -> list[str]:
    """The services a comparison of one quantity names: two or more, joined by "and",
    "or", "vs"; empty when the question is no such comparison."""
    services = [e for e in a.entities if e.kind == "service"]
    if len(services) < 2 or a.dimension is None or not _COMPARE.search(a.question):
        return []
    return list(dict.fromkeys(e.iri for e in services))
