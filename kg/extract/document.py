"""Parsed notes -> entities, relations and limits, each tied to the span it was read from.

Pure functions over ``ParsedDocument``: no RDF, no I/O. The steps:

1. *Discover* services the notes introduce that the lexicon does not know (a heading such as
   ``## AWS Fargate``, or "X is a ... service").
2. Give every section a *subject*: the service or component its heading names, else the one
   its text is about, else the previous section's service, else a topic named by its heading.
3. Read each block: list items and table rows become *features* (with the kind the list
   enumerates), sentences yield *relations* (supports, replicatesTo, chargedBy, usedFor,
   inCategory) and *limits* (see ``kg.extract.limits``). A sentence's subject is the service it
   names in subject position, else the label it elaborates, else its section's subject."""

from __future__ import annotations

from collections.abc import Iterable

from kg import vocab
from kg.extract.context import Context, DocumentContext, Extraction
from kg.extract.discover import DiscoveredService, vendorless
from kg.extract.enumerations import read_enumerations
from kg.extract.limits import extract_limits, merge_block_limits
from kg.extract.patterns import (
    EXAMPLE,
)
from kg.extract.providers import Providers
from kg.extract.relations import read_relations
from kg.extract.structure import read_lists_and_tables
from kg.extract.subjects import (
    announced_service,
    block_context,
    section_subjects,
    sentence_context,
)
from kg.lexicon import Lexicon
from kg.model import BlockKind, ParsedDocument


class Extractor:
    """Extracts one document at a time against a lexicon plus every discovered service."""

    def __init__(
        self,
        lexicon: Lexicon,
        discovered: Iterable[DiscoveredService] = (),
        common_words: Iterable[str] = (),
    ) -> None:
        self.lexicon = lexicon
        self.common = frozenset(w.lower() for w in common_words)
        self.matcher = lexicon.matcher(common_words)
        self.discovered = {vocab.service_iri(d.label): d for d in discovered}
        self.providers = Providers(lexicon)
        for iri, d in self.discovered.items():
            self.providers.discovered[iri] = d.provider
            for name in (d.label, *d.aliases, *vendorless(d.label)):
                self.matcher.add(name, iri)
        self.category_matcher = lexicon.matcher(kinds=("category",))
        self.bare_matcher = lexicon.bare_matcher()

    def extract(self, parsed: ParsedDocument) -> Extraction:
        return run(DocumentContext(self, parsed))


def run(cx: DocumentContext) -> Extraction:
    for sent in cx.parsed.sentences:
        block = cx.parsed.blocks[sent.block]
        if block.kind is not BlockKind.CODE:
            cx.section = block.section
            cx.mentions[sent.start] = cx.find(cx.text[sent.start : sent.end], sent.start)
    cx.learn_initials()
    if cx.initials:  # read again where the note writes them ("EH = big-data streaming ...")
        for sent in cx.parsed.sentences:
            if sent.start in cx.mentions and any(s in sent.text for s in cx.initials):
                cx.section = cx.parsed.blocks[sent.block].section
                cx.mentions[sent.start] = cx.find(cx.text[sent.start : sent.end], sent.start)
    section_subjects(cx)
    # Sections whose heading names nothing: a transcript, a chat, notes under a lecture title.
    talk = {s.index for s in cx.parsed.sections if not s.title or not cx.find(s.title)}
    topic: dict[int, Context] = {}  # per section without a heading: the service announced
    for block in cx.parsed.blocks:
        if block.kind is BlockKind.CODE:
            continue
        cx.section = block.section
        ctx = block_context(cx, block)
        cx.block_subject[block.index] = ctx
        read_lists_and_tables(cx, block, ctx)
        for sent in cx.sentences_by_block.get(block.index, []):
            sctx = sentence_context(cx, sent, block, ctx)
            if block.section in talk and block.kind is BlockKind.PARAGRAPH:
                announced = announced_service(cx, sent)
                if announced is not None:
                    topic[block.section] = sctx = Context(announced, announced)
                elif sctx is ctx and block.section in topic:
                    sctx = topic[block.section]
            cx.previous_in_block[block.index] = sctx
            cx.sentence_subject[sent.start] = sctx
            cx.cite_mentions(sent)
            read_relations(cx, sent, block, sctx)
            if not EXAMPLE.match(sent.text):
                cx.limits.extend(extract_limits(cx, sent, block, sctx))
    limits = merge_block_limits(cx.limits)
    enumerations = read_enumerations(cx)
    return Extraction(
        cx.doc, cx.parsed.sections, cx.entities, cx.relations, limits, cx.provider, enumerations
    )
