"""The engine's answer, shaped for what a follow-up asked: restricted to the items of the
previous list ("which of them ..."), taken from passages ("how does X work?"), or out of
scope ("The notes don't cover Oracle Cloud ...").

Everything here works on the public results of ``AnswerEngine.ask`` (facts, passages, the
answer sentence); nothing reaches into the engine.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache

from kg.answer.analysis import QUESTION_WORDS
from kg.answer.compose import join_names
from kg.chat.context import LIMIT_PREDICATES, Ref, same_item
from kg.chat.render import CITED
from kg.model import Answer, Hit, Term
from kg.text.words import STOPWORDS, edit_distance, norm_key, singular, squash, stem

__all__ = [
    "CITED",
    "continued_answer",
    "fact_keys",
    "item_answer",
    "out_of_scope",
    "passage_answer",
    "restricted",
]

_POSITIVE = re.compile(r"^(?:(?:yes|y|true|supported|included|available|optional)\b|[✔✓☑])", re.I)
_NEGATIVE = re.compile(r"^(?:no|n|[✘✗✖x]|false|-|—|–|n/a|none|not\b.*)$", re.I)
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)", re.M)


# ---- "which of them ..." ------------------------------------------------------------------------


def restricted(
    answer: Answer,
    items: Sequence[Term],
    *,
    count: bool = False,
    verb: str = "",
    evidence: Sequence[str] = (),
    repeated: frozenset[tuple[str | None, ...]] = frozenset(),
    subject: str = "",
) -> tuple[Answer, list[Term]]:
    """The answer over ``items`` only, and the items kept. An item is kept when a fact of the
    answer names it, when a table row marks its column (the row is then cited), when the
    answer sentence names it, when it is the item the quoted passage names just before the
    sentence (a sentence that shares a word with ``verb``), or else when a sentence of the
    passages (or of ``evidence``, where the list was found) names it alone with every word
    of ``verb`` but the ``subject``'s ("Standard (default): ..." for "is the default";
    "... used without enabling GD itself" for "can be used without enabling GuardDuty
    itself"). Facts that only repeat the previous list (``repeated``) keep nothing: the
    engine answered the list again, not the question. Nothing kept: the reply says the notes
    do not say which."""
    if answer.route == "none" or not items:
        return answer, []
    sentence = squash(answer.answer)
    again = bool(repeated) and fact_keys(answer) <= repeated
    wanted = _wanted(verb, subject)
    related = not wanted or bool(wanted & {stem(singular(w)) for w in _label_words(sentence)})
    table, row = _by_table(sentence, answer.passages, items, evidence, verb)
    kept = (
        ([] if again else _by_facts(answer, items))
        or table
        or _named_in(sentence, items)
        or (_named_before(sentence, answer.passages, items, verb) if related else [])
    )
    if table and kept == table and row:
        sentence = row
    if not kept:
        texts = [h.text for h in answer.passages] + list(evidence)
        kept, found = _by_sentences(wanted, texts, items, verb)
        sentence = found or sentence
    names = join_names([t.label for t in kept])
    if not kept:
        asked = f" {verb}" if verb else ""
        text = f"The notes don't say which of them{asked}."
        if sentence:
            text += f' The closest they come: "{sentence}"'
        analysis = {**answer.analysis, CITED: sentence}
        return replace(answer, answer=text, facts=(), confidence=0.0, analysis=analysis), []
    if count:
        text = f"{len(kept)} of them{_verb(verb, len(kept))}: {names}."
    elif verb and not re.match(r"(?:do|does|did)\b", verb, re.I):
        text = f"Of those, {names} {_agree(verb, len(kept))}."
    else:
        text = f"Of those: {names}."
    keys = {t.iri for t in kept if t.iri}
    facts = tuple(
        f
        for f in answer.facts
        if f.object.iri in keys
        or f.subject.iri in keys
        or (f.predicate.iri in LIMIT_PREDICATES and f.subject.iri in keys)
    )
    analysis = dict(answer.analysis)
    if not facts and sentence:
        analysis[CITED] = sentence
    return replace(answer, answer=text, facts=facts, analysis=analysis), kept


def _key(label: str) -> str:
    return re.sub(r"^(?:amazon|aws|azure|google|cloud)\s+", "", norm_key(label))


def fact_keys(answer: Answer) -> frozenset[tuple[str | None, ...]]:
    return frozenset((f.subject.iri, f.predicate.iri, f.object.iri) for f in answer.facts)


def _wanted(verb: str, subject: str = "") -> set[str]:
    """The words a sentence must have to say ``verb`` of an item: not the verbs every
    sentence has, not the subject's name (its own notes abbreviate it)."""
    own = {stem(singular(w)) for w in _label_words(subject)}
    return {stem(singular(w)) for w in _label_words(verb)} - _VERBS - own


def _by_sentences(
    wanted: set[str], texts: Sequence[str], items: Sequence[Term], verb: str = ""
) -> tuple[list[Term], str | None]:
    """The items that a sentence names alone with every ``wanted`` word (or, in a list, the
    one whose note in brackets holds them), and the first such sentence. An item written
    whole ("Malware Protection for S3") counts before one whose words are only scattered in
    it ("S3 ... protection")."""
    if not wanted:
        return [], None
    negated = bool(_NEGATION.search(verb))  # "... when the subscriber isn't publicly reachable"
    kept: list[Term] = []
    first: str | None = None
    for text in texts:
        for m in _SENTENCE.finditer(text):
            words = {stem(singular(w)) for w in _label_words(m.group())}
            if not wanted <= words or (_NEGATION.search(m.group()) and not negated):
                continue
            named = [t for t in items if _says(m.group(), t)] or [
                t for t in items if _mentions(m.group(), t)
            ]
            if len(named) > 1:  # "Delete (default for most), Retain, Snapshot": Delete's note
                named = [t for t in named if wanted <= _noted(m.group(), t)]
            if len(named) == 1 and named[0] not in kept:
                kept.append(named[0])
                first = first or squash(m.group())
    return (kept, first) if len(kept) < len(items) else ([], None)


def _noted(sentence: str, item: Term) -> set[str]:
    """The words of the note in brackets right after the item's name ("default" and "most" in
    "Delete (default for most)")."""
    m = re.search(rf"(?<!\w){re.escape(item.label)}\s*\(([^()]*)\)", sentence, re.I)
    return {stem(singular(w)) for w in _label_words(m.group(1))} if m else set()


_VERBS = frozenset(
    stem(w) for w in "is are be can could do does have has support supports use uses".split()
)


def _verb(verb: str, n: int) -> str:
    if not verb or re.match(r"(?:do|does|did|is|are|can|could|will|would)\b", verb, re.I):
        return ""
    return " " + _agree(verb, n)


def _agree(verb: str, n: int) -> str:
    """ "support read replicas" for many, "supports read replicas" for one."""
    first, _, rest = verb.partition(" ")
    low = first.lower()
    if n == 1 and low in ("are", "have", "do"):
        first = {"are": "is", "have": "has", "do": "does"}[low]
    elif n == 1 and low.isalpha() and not low.endswith("s") and low not in _MODALS:
        first = first + ("es" if low.endswith(("sh", "ch", "x", "o")) else "s")
    elif n > 1 and low in ("is", "has", "does"):
        first = {"is": "are", "has": "have", "does": "do"}[low]
    elif n > 1 and low.endswith("s") and not low.endswith("ss") and low not in ("is", "was"):
        first = first[:-2] if low.endswith(("shes", "ches", "xes")) else first[:-1]
    return f"{first} {rest}".strip()


_MODALS = frozenset("can could will would should may might must".split())


def _by_facts(answer: Answer, items: Sequence[Term]) -> list[Term]:
    named = [f.object for f in answer.facts if f.predicate.iri not in LIMIT_PREDICATES]
    named += [f.subject for f in answer.facts]
    return [t for t in items if any(same_item(t, n) for n in named)]


def _label_words(label: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9][\w+-]*", label.lower()) if w not in STOPWORDS]


def _mentions(text: str, item: Term) -> bool:
    """Whether ``text`` names ``item`` (its label, or all of its words, one typo allowed)."""
    low, words = _text_words(text)
    key, wanted = _label_stems(item.label)
    if key in low:
        return True
    return bool(wanted) and all(
        w in words
        or (
            len(w) >= 5
            and any(abs(len(x) - len(w)) <= 1 and edit_distance(w, x, 1) <= 1 for x in words)
        )
        for w in wanted
    )


@lru_cache(maxsize=8192)
def _text_words(text: str) -> tuple[str, frozenset[str]]:
    low = norm_key(text)
    return low, frozenset(stem(singular(w)) for w in re.findall(r"[a-z0-9][\w+-]*", low))


@lru_cache(maxsize=4096)
def _label_stems(label: str) -> tuple[str, tuple[str, ...]]:
    return norm_key(label), tuple(stem(singular(w)) for w in _label_words(label))


_NEGATION = re.compile(r"\b(?:no|not|never|without|except|unlike|rule\s+out)\b|n['’]t\b|[✘✗]", re.I)


def _named_in(sentence: str, items: Sequence[Term]) -> list[Term]:
    if _NEGATION.search(sentence):
        return []  # '"needs topics" => rule out Basic' names Basic, but not as one that does
    found = [t for t in items if _mentions(sentence, t)]
    return found if len(found) < len(items) else []  # naming them all singles none out


def _named_before(
    sentence: str, passages: Sequence[Hit], items: Sequence[Term], verb: str = ""
) -> list[Term]:
    """The item a passage names last before the quoted sentence ("Kinesis Firehose: ...
    Here, there is no data persistence." for "which of them has no data persistence?"). A
    negation counts against the sentence only when the question (``verb``) has none."""
    if sentence.startswith("|"):
        return []  # a table row is read against its header, not against the rows above it
    if _NEGATION.search(sentence) and not _NEGATION.search(verb):
        return []
    for hit in passages[:3]:
        text = squash(hit.text)
        at = text.find(sentence) if sentence else -1
        if at < 0:
            continue
        before = text[max(0, at - _NEAR) : at]
        best: tuple[int, Term] | None = None
        lasts = [_label_words(t.label)[-1:] for t in items]
        for t, last in zip(items, lasts, strict=True):
            # its last word alone, when no other item ends with it ("Protection" is 4 plans')
            distinct = [w for w in last if sum(w in x for x in lasts) == 1]
            for w in [t.label, *distinct]:
                pos = before.lower().rfind(w.lower())
                if pos >= 0 and (best is None or pos > best[0]):
                    best = (pos, t)
        return [best[1]] if best else []
    return []


_NEAR = 400  # characters before a sentence in which the item it is about is named


def _cells(line: str) -> list[str]:
    line = line.strip()
    if "|" in line:
        return [c.strip(" *`") for c in line.strip("|").split("|")]
    return [c for c in re.split(r"\s{2,}|\t", line) if c] if re.search(r"\s{2,}|\t", line) else []


def _by_table(
    sentence: str,
    passages: Sequence[Hit],
    items: Sequence[Term],
    evidence: Sequence[str] = (),
    verb: str = "",
) -> tuple[list[Term], str]:
    """A table row ("| Topics | ✘ | ✔ | ✔ |", "Persistence NO YES"), read against the header
    that names the items (in the same passage, or where the list was found): the items whose
    column says yes. The row is the one the answer quotes, else one whose label holds the
    words asked about. Also the row read."""
    elsewhere = [squash(x) for text in evidence for x in text.splitlines() if x.strip()]
    ours = [squash(x) for hit in passages[:3] for x in hit.text.splitlines() if x.strip()]
    rows = [x for x in ours if sentence and (x == sentence or sentence in x)]
    wanted = {stem(singular(w)) for w in _label_words(verb)} - _VERBS
    if wanted:
        rows += [
            x
            for x in ours + elsewhere
            if _cells(x) and wanted <= {stem(singular(w)) for w in _label_words(_cells(x)[0])}
        ]
    keys = {_key(t.label): t for t in items}
    for row in dict.fromkeys(rows):
        for header in ours + elsewhere:
            if header == row:
                continue
            names = _cells(header) or header.split()
            columns = [keys.get(_key(c)) for c in names]
            if sum(c is not None for c in columns) < 2:
                continue
            values = (_cells(row) or row.split())[-len(columns) :]
            if len(values) != len(columns):
                continue
            if not any(_POSITIVE.match(v.strip()) or _NEGATIVE.match(v.strip()) for v in values):
                continue  # not a row of marks: a sentence that happens to have as many words
            kept = [
                t
                for t, v in zip(columns, values, strict=True)
                if t is not None and _POSITIVE.match(v.strip()) and not _NEGATIVE.match(v.strip())
            ]
            return kept, row
    return [], ""


# ---- "how does X work?" -------------------------------------------------------------------------


def passage_answer(answer: Answer, question: str, focus: Ref | None) -> Answer:
    """A "how does X work / why" question answered from passages: the sentence of the top
    passages about the thing asked (one that names it, or the one right after a heading or
    lead that names it) sharing most words with the question, instead of a fact about a limit
    or a list. The engine's own sentence stays when it is already such a sentence."""
    if answer.route == "none" or not answer.passages:
        return answer
    about = Term(focus.words or focus.label) if focus is not None else None
    sentence = squash(answer.answer)
    if answer.route == "search" and (
        about is None or (_mentions(sentence, about) and _describes(sentence, about))
    ):
        return answer
    asked = {stem(singular(w)) for w in _label_words(question)}
    best: tuple[float, str] | None = None
    for rank, hit in enumerate(answer.passages[:3]):
        under = False  # the previous sentence was only the thing's name: a heading or a lead
        for m in _SENTENCE.finditer(hit.text):
            candidate = squash(m.group())
            named = about is not None and _mentions(candidate, about)
            describes = about is None or (named and _describes(candidate, about)) or under
            under = named and not _describes(candidate, about) if about else False
            if len(candidate) < 20 or not describes:
                continue
            overlap = len(asked & {stem(singular(w)) for w in _label_words(candidate)})
            score = overlap - 0.5 * rank
            if best is None or score > best[0]:
                best = (score, candidate)
    if best is None:
        return answer
    analysis = {**answer.analysis, CITED: best[1]}
    return replace(answer, answer=best[1], route="search", facts=(), analysis=analysis)


def _describes(sentence: str, about: Term) -> bool:
    """Whether a sentence says something beyond the thing's name (not a heading)."""
    own = {stem(singular(w)) for w in _label_words(about.label)}
    rest = [w for w in _label_words(sentence) if stem(singular(w)) not in own]
    return len(rest) >= 3


# ---- a question about one item of the previous list ---------------------------------------------


def item_answer(
    answer: Answer,
    question: str,
    item: Ref,
    siblings: Sequence[Term] = (),
    elsewhere: Sequence[Hit] = (),
    named_as: str = "",
    said: str = "",
) -> Answer:
    """A question about one item of the previous list ("How many backend instances does the
    basic one support?") answered about that item. A fact of the item stands. Otherwise the
    lines about the item (one that names it and no other item, not as "no push"; one under a
    heading or lead that names it: "Basic" / "- max 300 backend instances"), in the answer's
    passages or ``elsewhere`` (where the list was found), are weighed against the engine's
    sentence by the words they share with the question (less ``named_as``, how the question
    names the item): a line wins over a sentence about the item or about nothing in the list
    only with more words; over a sentence about another item of the list (``siblings``) with
    any. Nothing about the item, and the sentence about another one: the notes don't say.
    What the user called the item (``said``: "premium" for "Premium messaging units") counts
    as its name for the engine's sentence."""
    if answer.route == "none" and not elsewhere:
        return answer
    if any(item.iri and item.iri in (f.subject.iri, f.object.iri) for f in answer.facts):
        return answer
    about = Term(item.words if item.iri is None and item.words else item.label, item.iri)
    hits = [*answer.passages[:3], *elsewhere]
    others = [
        t
        for t in [*siblings, *_peers(hits, about)]
        if not same_item(t, about) and not _mentions(t.label, about)
    ]
    sentence = squash(answer.answer)
    skip = _words_of(item.label) | _words_of(about.label) | _words_of(named_as) | _VERBS
    asked = _words_of(question) - skip

    def overlap(line: str) -> int:
        return len(asked & (_words_of(line) - skip))

    where = _context_of(hits, sentence)  # the line holding the sentence, the headings above

    def about_it(term: Term) -> bool:
        return (
            _names(sentence, term)
            or bool(where and _names(where[0], term))
            or any(_leads(h, term) for h in where[1:])
        )

    lines = [
        (rank, line, hit) for rank, hit in enumerate(hits) for line in _about([hit], about, others)
    ]
    found = answer.route != "none"
    own = found and (about_it(about) or bool(said and _names(sentence, Term(said))))
    best = max(lines, key=lambda x: (overlap(x[1]), -x[0]), default=None)
    gain = overlap(best[1]) if best is not None else 0
    # whether the sentence is about another item: asked only when it decides
    other = found and not own and (gain == 0 or gain <= overlap(sentence))
    other = other and any(about_it(t) for t in others)
    bar = 0 if other or not found else overlap(sentence)
    if best is not None and gain > bar:
        _, line, hit = best
        text = line if _mentions(line, about) else f"{item.label}: {line}"
        passages = (hit, *(h for h in answer.passages if h != hit))
        analysis = {**answer.analysis, CITED: line}
        return replace(
            answer, answer=text, route="search", facts=(), passages=passages, analysis=analysis
        )
    if other:
        text = f"The notes don't say that about {item.label}."
        analysis = {**answer.analysis, CITED: sentence}
        return replace(answer, answer=text, facts=(), confidence=0.0, analysis=analysis)
    return answer


def _names(text: str, item: Term) -> bool:
    """Whether ``text`` names the item, other than to deny it ("no push")."""
    if not _mentions(text, item):
        return False
    first = _label_words(item.label)[:1]
    denied = first and re.search(
        rf"\b(?:no|not|never|without|except)\s+(?:\w+\s+)?{re.escape(first[0])}", text, re.I
    )
    return not denied


_BULLET = re.compile(r"^\s*(?:#+|[-*•>+]+|\d+[.)])\s*")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _about(hits: Sequence[Hit], item: Term, others: Sequence[Term] = ()) -> list[str]:
    """The lines of ``hits`` about ``item``, bullets dropped: a line that names it, says more
    and names none of ``others`` ("Two tiers: Standard and Advanced" is about both), and the
    lines under one that leads with its name (indented deeper, or up to the next heading
    after a Markdown heading)."""
    out: list[str] = []
    for hit in hits:
        lines = hit.text.splitlines()
        for i, raw in enumerate(lines):
            line = _BULLET.sub("", raw).strip()
            if not line or not _names(line, item):
                continue
            if _describes(line, item) and not any(_says(line, t) for t in others):
                out.append(squash(line))
            if not _leads(line, item):
                continue
            heading = raw.lstrip().startswith("#")
            for below in lines[i + 1 :]:
                if not below.strip():
                    if heading:
                        continue
                    break
                if heading and below.lstrip().startswith("#"):
                    break
                if not heading and _indent(below) <= _indent(raw):
                    break
                out.append(squash(_BULLET.sub("", below)))
    return list(dict.fromkeys(x for x in out if x))


def _context_of(hits: Sequence[Hit], sentence: str) -> list[str]:
    """The line of ``hits`` that holds ``sentence`` and the headings it is under (each less
    indented than the one below it, or a Markdown heading of a higher level), bullets
    dropped, nearest first."""
    if not sentence:
        return []
    for hit in hits:
        lines = hit.text.splitlines()
        at = next((i for i, raw in enumerate(lines) if sentence in squash(raw)), None)
        if at is None:
            continue
        out = [_BULLET.sub("", lines[at]).strip()]
        depth, level = _indent(lines[at]), _level(lines[at])
        for above in reversed(lines[:at]):
            if not above.strip():
                continue
            if _level(above) < level or (level == _NO_HEADING and _indent(above) < depth):
                out.append(_BULLET.sub("", above).strip())
                depth, level = _indent(above), _level(above)
        return out
    return []


_NO_HEADING = 7


def _level(line: str) -> int:
    """A Markdown heading's level ("## Push" -> 2); other lines are no heading."""
    m = re.match(r"\s*(#{1,6})\s", line)
    return len(m.group(1)) if m else _NO_HEADING


def _peers(hits: Sequence[Hit], item: Term) -> list[Term]:
    """The headings beside the item's own in an outline: under "SKUs", "Basic" has the peers
    "Standard" and "Gateway" (lines as deep as its own, with lines under them)."""
    out: list[Term] = []
    for hit in hits:
        lines = [x for x in hit.text.splitlines() if x.strip()]
        heads = [
            i
            for i in range(len(lines) - 1)
            if _indent(lines[i + 1]) > _indent(lines[i]) and len(lines[i].split()) <= 4
        ]
        for i in heads:
            if not _leads(_BULLET.sub("", lines[i]), item):
                continue
            depth = _indent(lines[i])
            start = next((j for j in range(i, -1, -1) if _indent(lines[j]) < depth), -1)
            end = next((j for j in range(i + 1, len(lines)) if _indent(lines[j]) < depth), None)
            for j in heads:
                if start < j < (end or len(lines)) and j != i and _indent(lines[j]) == depth:
                    out.append(Term(_BULLET.sub("", lines[j]).strip()))
    return out


def _says(text: str, item: Term) -> bool:
    """Whether ``text`` writes the item's name as one phrase ("Files ... gateway" does not
    name the File Gateway)."""
    return bool(re.search(rf"(?<!\w){re.escape(norm_key(item.label))}(?!\w)", norm_key(text)))


def _leads(line: str, item: Term) -> bool:
    """Whether a line starts with the item's name ("Basic", "2. Push - PubSub sends ...")."""
    first = _label_words(item.label)[:1]
    words = _label_words(line)[:1]
    return bool(first) and bool(words) and stem(singular(first[0])) == stem(singular(words[0]))


def _words_of(text: str) -> set[str]:
    return {stem(singular(w)) for w in _label_words(text) if w not in QUESTION_WORDS}


# ---- a follow-up that stays where the previous answer was --------------------------------------


def continued_answer(answer: Answer, question: str, previous: Answer, subject: str = "") -> Answer:
    """A follow-up that stays on the previous subject ("And what is the duration rounded up
    to?" after the price per GB-second) answered from the passage the previous answer was
    read from: when the engine read its answer elsewhere, and a sentence there shares at least
    two of the words the user wrote (``question``, the turn as asked, less the subject's name;
    a number counts twice: "99.99%") and more than the engine's sentence or the sentences its
    facts were read from. The notes tend to say the next thing next to the last. A sentence
    the previous answer rested on is not an answer to a new question."""
    if answer.route == "none":
        return answer
    rested = [squash(x) for x in _said_by(previous) if x]
    hits = [h for h in previous.passages if any(r and r in squash(h.text) for r in rested)]
    if not hits:
        return answer
    skip = _numbered_words(subject) | _VERBS
    asked = _numbered_words(question) - skip

    def overlap(text: str) -> int:
        shared = asked & _numbered_words(text)
        return len(shared) + sum(w[0].isdigit() for w in shared)  # a number the user wrote: 2

    said = [squash(x) for x in _said_by(answer)]
    own = max((overlap(x) for x in said), default=0)
    if any(x and x in squash(h.text) for x in said for h in hits):
        return answer  # the engine read the same passage: its pick stands
    best: tuple[int, str, Hit] | None = None
    for hit in hits:
        # a line the notes wrapped goes on in lower case on the next one
        text = re.sub(r"(?<![.!?:])\n(?=[ \t]*[a-z])", " ", hit.text)
        for m in _CLAUSE.finditer(text):
            candidate = squash(_BULLET.sub("", m.group()))
            if any(candidate in r or r in candidate for r in rested if r):
                continue
            score = overlap(candidate)
            if score >= _CONTINUED and score > own and (best is None or score > best[0]):
                best = (score, candidate, hit)
    if best is None:
        return answer
    _, sentence, hit = best
    passages = (hit, *(h for h in answer.passages if h != hit))
    analysis = {**answer.analysis, CITED: sentence}
    return replace(
        answer, answer=sentence, route="search", facts=(), passages=passages, analysis=analysis
    )


_CONTINUED = 2  # words of the follow-up a sentence of the previous passage must share


def _said_by(answer: Answer) -> list[str]:
    """The sentences an answer rests on: its facts' sources, the sentence it cites or is."""
    out = [f.source.text for f in answer.facts if f.source is not None]
    cited = answer.analysis.get(CITED)
    return [*out, *([cited] if isinstance(cited, str) and cited else []), answer.answer]


# A sentence ends at ".", "!" or "?" before a space or the end of a line ("99.99%" is one word).
_CLAUSE = re.compile(r"\S[^\n]*?(?:[.!?]+(?=\s|$)|$)", re.M)


def _numbered_words(text: str) -> set[str]:
    """Content stems, with numbers whole ("99.99", not "99" twice)."""
    words = re.findall(r"\d+(?:[.,]\d+)*|[a-z][\w+-]*", text.lower())
    return {w if w[0].isdigit() else stem(singular(w)) for w in words} - STOPWORDS - QUESTION_WORDS


# ---- out of scope -------------------------------------------------------------------------------


def out_of_scope(answer: Answer, name: str) -> Answer:
    """The answer to a question about something the notes do not cover: route none, whatever
    the engine found for the words it does know."""
    analysis = {**answer.analysis, "reason": f"the notes never mention {name}", "outside": name}
    return replace(answer, answer="", route="none", confidence=0.0, facts=(), analysis=analysis)
