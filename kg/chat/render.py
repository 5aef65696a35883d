"""Markdown for an answer: the sentence with ``[n]`` citation markers and a Sources list, or
a plain statement that the notes do not cover the question, with what they do cover."""

from __future__ import annotations

__all__ = ["MAX_CITATIONS", "Citation", "citations", "covered_services", "render"]

import re
import threading
import weakref
from dataclasses import dataclass
from typing import Any

from kg import vocab
from kg.answer.card import entity_card
from kg.answer.compose import join_names
from kg.answer.engine import AnswerEngine
from kg.chat.builds import per_build
from kg.chat.scope import PROVIDERS, provider_of
from kg.model import Answer, Source
from kg.text.words import squash

MAX_CITATIONS = 6


MAX_QUOTE = 280
CITED = "cited"  # analysis key: the sentence a reshaped answer rests on (kg.chat.answers)


@dataclass(frozen=True)
class Citation:
    number: int
    document: str
    section: str | None
    start: int
    end: int
    quote: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "document": self.document,
            "section": self.section,
            "start": self.start,
            "end": self.end,
            "quote": self.quote,
        }

    def markdown(self) -> str:
        where = f"{self.document} › {self.section}" if self.section else self.document
        return f'[{self.number}] {where}: "{self.quote}"'


def render(answer: Answer, engine: AnswerEngine) -> tuple[str, list[Citation]]:
    """Markdown for an answer: the sentence with ``[n]`` markers, then "Sources:"; or, when
    the notes do not cover the question, a plain statement and what they do cover."""
    if answer.route == "none" or not answer.answer:
        return _not_covered(answer, engine), []
    cited = citations(answer)
    markers = "".join(f"[{c.number}]" for c in cited)
    text = f"{answer.answer} {markers}".strip()
    if cited:
        text += "\n\nSources:\n" + "\n".join(f"- {c.markdown()}" for c in cited)
    return text, cited


def citations(answer: Answer) -> list[Citation]:
    """The passage the answer sentence was taken from (search answers), then every fact's
    source, each span once."""
    sources: list[Source] = []
    sentence = squash(answer.answer)
    cited = answer.analysis.get(CITED)
    candidates = [squash(cited)] if isinstance(cited, str) and cited else []
    for candidate in [*candidates, sentence, sentence.split(": ", 1)[-1]]:
        hit = next((h for h in answer.passages if candidate and candidate in squash(h.text)), None)
        if hit is not None:
            sources.append(Source(hit.document, hit.section, hit.start, hit.end, candidate))
            break
    sources += [f.source for f in answer.facts if f.source is not None]
    if not sources and answer.passages:
        top = answer.passages[0]
        sources.append(Source(top.document, top.section, top.start, top.end, top.text))
    out: list[Citation] = []
    seen: set[tuple[str, int, int]] = set()
    for s in sources:
        key = (s.document, s.start, s.end)
        if key in seen:
            continue
        seen.add(key)
        out.append(Citation(len(out) + 1, s.document, s.section, s.start, s.end, _quote(s.text)))
        if len(out) == MAX_CITATIONS:
            break
    return out


_SERVICES_QUERY = (
    vocab.sparql_prefixes(("ckg", "prov"))
    + """
SELECT ?s (COUNT(DISTINCT ?p) AS ?n) WHERE { ?s a ckg:Service ; prov:wasDerivedFrom ?p }
GROUP BY ?s"""
)


@per_build
def covered_services(engine: AnswerEngine) -> list[str]:
    """The services the notes mention, most often mentioned first (once per build)."""
    counts: list[tuple[int, str]] = []
    for row in engine.store.select(_SERVICES_QUERY):
        entry = engine.catalog.entries.get(row["s"].value)
        if entry is not None:
            counts.append((-int(row["n"].value), entry.label))
    return [label for _, label in sorted(counts)]


def _not_covered(answer: Answer, engine: AnswerEngine) -> str:
    """ "The notes don't cover Oracle Cloud Infrastructure Monitoring.", what they say about
    the entities the question named, and what they cover (of the same cloud, when the name
    is one of a covered cloud's)."""
    reason = str(answer.analysis.get("reason") or "")
    outside = answer.analysis.get("outside")
    never = re.match(r"the notes never mention (.+)", reason)
    if isinstance(outside, str) and outside:
        lines = [f"The notes don't cover {outside}."]
    elif never:
        lines = [f"The notes don't cover that: they never mention {never.group(1)}."]
    else:
        lines = ["The notes don't cover that."]
    entities = answer.analysis.get("entities") or []
    if isinstance(entities, list) and entities and not outside:
        named = join_names([str(e.get("label")) for e in entities if isinstance(e, dict)])
        about = _what_notes_say(engine, [str(e["iri"]) for e in entities if isinstance(e, dict)])
        if about:
            lines.append(f"About {named} they cover {about}.")
    services = covered_services(engine)
    cloud = provider_of(outside) if isinstance(outside, str) and outside else None
    same_cloud = [s for s in services if cloud and provider_of(s) == cloud]
    if same_cloud:
        shown = join_names(same_cloud[:8])
        lines.append(f"Of {cloud} they cover {len(same_cloud)} services, for example {shown}.")
    elif services:
        clouds = [name for name, _ in PROVIDERS if any(provider_of(s) == name for s in services)]
        shown = join_names(services[:8])
        over = f" across {join_names(clouds)}" if len(clouds) > 1 else ""
        lines.append(
            f"They cover {len(services)} services{over}, for example {shown}; ask about one"
            " of those."
        )
    return "\n\n".join(lines)


_said: weakref.WeakKeyDictionary[AnswerEngine, dict[str, str]] = weakref.WeakKeyDictionary()
_said_lock = threading.Lock()


def _what_notes_say(engine: AnswerEngine, iris: list[str]) -> str:
    """ "its features FIFO and Standard, and its limits on message size ..." from the graph
    (remembered per build: the entity card takes several queries)."""
    if not iris:
        return ""
    with _said_lock:
        known = _said.setdefault(engine, {})
        if iris[0] in known:
            return known[iris[0]]
    text = _card_summary(engine, iris[0])
    with _said_lock:
        if len(known) >= _SAID_SIZE:
            known.clear()
        known[iris[0]] = text
    return text


_SAID_SIZE = 1024


def _card_summary(engine: AnswerEngine, iri: str) -> str:
    parts: list[str] = []
    card = entity_card(engine, iri)
    features = [f["label"] for f in card["features"]][:6]
    limits = list(dict.fromkeys(str(lim["quantity"]) for lim in card["limits"]))[:6]
    if features:
        parts.append(f"features ({join_names(features)})")
    if limits:
        parts.append(f"limits on {join_names(limits)}")
    return " and ".join(parts)


def _quote(text: str) -> str:
    text = squash(text)
    if len(text) <= MAX_QUOTE:
        return text
    cut = text[:MAX_QUOTE].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + " …"
