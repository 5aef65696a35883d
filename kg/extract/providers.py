"""Which cloud a note, and each of its sections, is about.

A note rarely says "this is about Azure" once and for all; it says so in its file name, its
title, its headings, the services it names and the provider words it uses ("GCP", "AZ-305",
"AWS"). ``provider_signals`` weighs those (headings and the title more than body text), and
``dominant`` keeps a provider only when it clearly outweighs the others: a comparison of
three clouds has no document provider, and each of its sections gets its own from its
heading. A section inherits its parent's provider, then the document's; a section of a note
about no single cloud takes the provider its own text clearly names.

A mention of a service is read in the light of its section's provider: where a name could
denote services of several providers, the section's wins; and a name of another provider's
service that is only ordinary words ("Connect", "cloud storage") or one bare word ("AAD" in
AWS notes is additional authenticated data, "CLI" any command line) is not a mention at all
there, while one with its provider's name ("vs AWS SQS", "Azure AD") or a distinctive
multi-word name ("Simple Queue Service") still is.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable

from kg.lexicon import Lexicon, Matcher, Mention
from kg.model import ParsedDocument
from kg.text.words import STOPWORDS

HEADING_WEIGHT = 3.0  # a provider word or a service named in a heading or the file name
BODY_WEIGHT = 1.0  # the same in the text
DOMINANT_SHARE = 0.67  # of all the weight, for one provider to be the document's
MIN_WEIGHT = 2.0  # less than this says nothing

ProviderOf = Callable[[str], "str | None"]


class Providers:
    """The providers of a catalog: their names in text, and the provider of any entity key
    (a service's own, a component's service's, a discovered service's)."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.names = lexicon.providers
        self.discovered: dict[str, str | None] = {}

    def of(self, key: str) -> str | None:
        if key in self.discovered:
            return self.discovered[key]
        entry = self.lexicon.entries.get(key)
        if entry is None:
            return None
        if entry.part_of is not None:
            owner = self.lexicon.entries.get(entry.part_of)
            return owner.provider if owner is not None else None
        return entry.provider

    def read(
        self,
        parsed: ParsedDocument,
        matcher: Matcher,
        weak: Callable[[Mention], bool] = lambda _: False,
    ) -> tuple[str | None, dict[int, str | None], str | None]:
        """The document's provider, each section's, and the provider the document leans to
        (the most named, however slightly) for names several providers use where no section
        or document provider decides. A heading names its own provider only with a provider's
        word or a service name that is not ``weak`` ("Autoscaling" under a GKE heading is no
        Azure section)."""
        stated = parsed.document.metadata.get("provider") if parsed.document.metadata else None
        return section_providers(parsed, self.names, matcher, self.of, self._iri(stated), weak)

    def ordinary(self, m: Mention, common: frozenset[str]) -> bool:
        """Too weak a name to mean another provider's service: ordinary words ("Connect",
        "cloud storage") or one bare word ("AAD", "CLI", "WAF"), without a provider's name."""
        if self.names.find(m.text):
            return False  # "AWS WAF", "Azure AD"
        words = [w.lower() for w in re.findall(r"[A-Za-z0-9]+", m.text)]
        entries = [self.lexicon.entries.get(k) for k in m.keys]
        # A part of a service named without its service ("Read replicas", not "RDS Read
        # Replicas") is any cloud's part of that name.
        part = all(e is not None and e.part_of is not None for e in entries) and len(words) <= 2
        return part or len(words) <= 1 or all(w in common or w in STOPWORDS for w in words)

    def _iri(self, name: str | None) -> str | None:
        if not name:
            return None
        found = self.names.find(name) or self.names.find(name.title())
        return found[0].keys[0] if found else None


Signals = dict[str, float]  # provider IRI -> weight


def provider_signals(
    text: str,
    providers: Matcher,
    mentions: Iterable[Mention],
    provider_of: ProviderOf,
    weight: float,
) -> Signals:
    """How strongly a span names each provider: its provider words and the services it
    names that only one provider offers."""
    found: Signals = defaultdict(float)
    for m in providers.find(text):
        found[m.keys[0]] += weight
    for m in mentions:
        owners = {provider_of(k) for k in m.keys}
        owner = owners.pop() if len(owners) == 1 else None
        if owner is not None:
            found[owner] += weight
    return found


def _add(total: Signals, more: Signals) -> None:
    for provider, weight in more.items():
        total[provider] = total.get(provider, 0.0) + weight


def dominant(signals: Signals) -> str | None:
    total = sum(signals.values())
    if total < MIN_WEIGHT:
        return None
    provider = max(signals, key=lambda p: signals[p])
    return provider if signals[provider] >= DOMINANT_SHARE * total else None


def file_name_words(doc_id: str) -> str:
    """ "gcp-pubsub-tasks.txt" -> "gcp pubsub tasks": a file name often says the cloud."""
    stem = re.sub(r"\.[A-Za-z0-9]+$", "", doc_id.rsplit("/", 1)[-1])
    return re.sub(r"[-_.]+", " ", stem)


def section_providers(
    parsed: ParsedDocument,
    providers: Matcher,
    matcher: Matcher,
    provider_of: ProviderOf,
    stated: str | None = None,
    weak: Callable[[Mention], bool] = lambda _: False,
) -> tuple[str | None, dict[int, str | None], str | None]:
    """The document's provider and each section's (by section index)."""
    text = parsed.document.text
    by_section: dict[int, Signals] = {}
    for section in parsed.sections:
        body = text[section.start : section.end]
        by_section[section.index] = provider_signals(
            body, providers, matcher.find(body), provider_of, BODY_WEIGHT
        )
    headings: dict[int, str | None] = {}
    for section in parsed.sections:
        title = section.title or ""
        named = [m for m in matcher.find(title) if not weak(m)]
        found = provider_signals(title, providers, named, provider_of, HEADING_WEIGHT)
        headings[section.index] = dominant(found) if found else None
    name = file_name_words(parsed.document.id)
    document = provider_signals(name, providers, matcher.find(name), provider_of, HEADING_WEIGHT)
    for section in parsed.sections:
        _add(document, by_section[section.index])
        heading = headings[section.index]
        if heading:
            _add(document, {heading: HEADING_WEIGHT})
    doc_provider = stated or dominant(document)
    out: dict[int, str | None] = {}
    by_title: dict[tuple[str, ...], str | None] = {}
    for section in parsed.sections:
        own = headings[section.index]
        parent = by_title.get(section.parents) if section.parents else None
        provider = own or parent or doc_provider or dominant(by_section[section.index])
        out[section.index] = provider
        by_title[section.path] = provider
    leaning = max(document, key=lambda k: document[k]) if document else None
    return doc_provider, out, doc_provider or leaning


def prefer_provider(
    mention: Mention,
    provider: str | None,
    provider_of: ProviderOf,
    is_weak: Callable[[Mention], bool],
) -> Mention | None:
    """The mention with the keys of ``provider`` first; None when it only names another
    provider's service with ordinary words."""
    if provider is None or len(mention.keys) == 0:
        return mention
    own = [k for k in mention.keys if provider_of(k) in (provider, None)]
    if own:
        rest = [k for k in mention.keys if k not in own]
        if own == list(mention.keys[: len(own)]):
            return mention
        return Mention((*own, *rest), mention.start, mention.end, mention.text, mention.fuzzy)
    return None if is_weak(mention) else mention
