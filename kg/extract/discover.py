"""Services a note introduces that the lexicon does not know: a heading such as
``## AWS Fargate``, or a sentence "X is a ... service"."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from kg.extract.patterns import (
    DEFINITION,
    NOT_PRODUCT_WORDS,
    VENDOR_PREFIX,
    VENDOR_WORD,
)
from kg.extract.providers import Providers
from kg.lexicon import Matcher
from kg.model import Evidence, ParsedDocument
from kg.parse.notes import clean_text
from kg.text.words import is_english, norm_key, squash


@dataclass(frozen=True, slots=True)
class DiscoveredService:
    label: str
    aliases: tuple[str, ...]
    evidence: Evidence
    provider: str | None = None  # the provider of the section that introduces it


def discover_services(
    parsed: ParsedDocument,
    matcher: Matcher,
    providers: Providers | None = None,
    common: frozenset[str] = frozenset(),
) -> list[DiscoveredService]:
    """Services a note introduces that ``matcher`` does not know yet, each of the provider
    of the section that introduces it: a heading with a vendor's name ("AWS Fargate"), a
    heading a definition sentence calls a service, or a heading that is a coined name
    ("MEMORYSTORE", "Contoso Ledger": a word that is not ordinary English)."""
    found: dict[str, DiscoveredService] = {}
    section_provider = (
        providers.read(parsed, matcher, lambda m: providers.ordinary(m, common))[1]
        if providers is not None
        else {}
    )

    def consider(name: str, aliases: Iterable[str], ev: Evidence) -> None:
        name = squash(name).strip(" .:-–")
        if not name or len(name.split()) > 6 or not name[0].isupper():
            return
        known = matcher.find(name)
        if known and known[0].start == 0 and known[0].end >= len(name) - 1:
            return
        section = next((s for s in parsed.sections if s.start <= ev.start < s.end), None)
        provider = section_provider.get(section.index) if section is not None else None
        found.setdefault(norm_key(name), DiscoveredService(name, tuple(aliases), ev, provider))

    for section in parsed.sections:
        if section.title is None or section.heading_start is None:
            continue
        main, aliases = _heading_name(section.title)
        ev = Evidence(section.heading_start, section.heading_end or section.heading_start)
        if main and VENDOR_PREFIX.match(main):
            if _names_a_product(main, matcher):
                consider(main, aliases, ev)
            continue
        if main and common and _coined_name(main, common, matcher):
            consider(main.title() if main.isupper() else main, aliases, ev)
            continue
        first = next(iter(parsed.sentences_in(section.start, section.end)), None)
        if main and first is not None:
            m = DEFINITION.match(clean_text(first.text))
            if m and _same_name(m.group("name"), main, aliases) and _is_service_head(m):
                consider(main, aliases, ev)
    for sent in parsed.sentences:
        m = DEFINITION.match(clean_text(sent.text))
        if m and VENDOR_PREFIX.match(m.group("name")) and _is_service_head(m):
            consider(m.group("name"), _abbreviations(sent.text), Evidence(sent.start, sent.end))
    return list(found.values())


def _names_a_product(name: str, matcher: Matcher) -> bool:
    """ "AWS Fargate" names a product; "AWS Stack", "AWS Storage Classes" and "AWS EC2 Instance
    Types" are headings about something else."""
    words = name.split()
    rest = words[1:] if words[0] in ("AWS", "Amazon", "Azure", "Google", "GCP", "OCI") else words
    if not rest or len(rest) > 4 or any(w.lower() in NOT_PRODUCT_WORDS for w in rest):
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
        and rest[-1].lower() not in NOT_PRODUCT_WORDS
    )


def _coined_name(name: str, common: frozenset[str], matcher: Matcher) -> bool:
    """A product's name rather than a topic's: a title of at most four capitalised words, one
    of them not an ordinary English word nor part of a known name ("Memorystore", "Contoso
    Ledger"; not "Partitioning", "BIG PICTURE" or "Kinesis 101"), and not a plural."""
    words = name.split()
    if not 1 <= len(words) <= 4 or not all(w[0].isupper() or w[0].isdigit() for w in words):
        return False
    if any(w.lower() in NOT_PRODUCT_WORDS for w in words):
        return False
    last = words[-1]
    if last.endswith("s") and last[:-1].isalpha() and not last.isupper():
        return False
    known = {w.lower() for m in matcher.find(name) for w in m.text.split()}
    return any(
        w.isalpha() and len(w) >= 4 and w.lower() not in known and not is_english(w, common)
        for w in words
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


def vendorless(label: str) -> list[str]:
    m = VENDOR_PREFIX.match(label)
    if not m:
        return []
    rest = VENDOR_WORD.sub("", label)
    return [rest] if len(rest) > 3 and (" " in rest or rest[0].isupper()) else []
