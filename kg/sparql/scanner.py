"""One scanner for SPARQL text, in linear time: the endpoint's screen and the graph client's
query reader both use it.

``tokens(text)`` yields the tokens of a query or update (strings, IRIs, variables, prefixed
names, blank nodes, language tags, numbers, bare words and punctuation) with their offsets;
whitespace and comments are skipped. ``inspect(text)`` reads what the endpoint must know before
any engine sees the text: the query form, whether the query names its own dataset, how deep it
nests, the prefixes it uses and declares, and whether it holds ``SERVICE`` or ``LOAD``, which
pyoxigraph would run by making HTTP requests (it has no switch to stop them).

**Linear time.** Every token is found by one match that never fails after scanning far: an
unterminated string runs to the end of its line (a long string to the end of the text), an
unterminated IRI stops at the first character an IRI cannot hold, and a run of name characters
that no ``:`` follows is remembered, so that no later position inside it looks for a prefixed
name again. (The previous lexer tried a prefixed name at every character of ``a.a.a.…`` and
rescanned the run each time: 40 KB took seconds.) The scanner imports only the standard
library, so the query workers load it without the rest of the package.

Two details decide whether the screen can be walked around, and both err towards refusing:

* Oxigraph matches keywords without a word boundary (``SERVICESILENT<x>{}`` and
  ``SERVICEex:x {}`` both federate), so any bare word that *contains* SERVICE or LOAD is
  refused, as is a prefixed name whose prefix starts with SERVICE when a ``{`` follows it, and
  one whose prefix starts with LOAD at the top level of an update.
* ``<`` is an IRI only where a term may stand. Inside an expression, after an operand, it is
  the less-than operator, and what follows is scanned as code: otherwise
  ``FILTER(?a<?b)SERVICE#>`` would hide the keyword inside a pretend IRI.

Whatever the scanner takes for a string or an IRI that the engine would not (an unterminated
one) makes the text a syntax error for the engine too, so nothing it skips can run.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

# Name characters of SPARQL (PN_CHARS_BASE and friends), as character-class bodies.
_BASE = "A-Za-z\u00c0-\U000effff"
_CHARS = "0-9A-Za-z_\u00b7\u00c0-\U000effff"

_TOKEN = re.compile(
    rf"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\r\n]*)
  | (?P<str>\"\"\"(?:[^\"\\]|\\[\s\S]?|\"(?!\"\"))*(?:\"\"\"|\Z)
          | '''(?:[^'\\]|\\[\s\S]?|'(?!''))*(?:'''|\Z)
          | \"(?:[^\"\\\r\n]|\\[^\r\n]?)*\"?
          | '(?:[^'\\\r\n]|\\[^\r\n]?)*'?)
  | (?P<var>[?$][{_CHARS}]+)
  | (?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<bnode>_:[{_CHARS}.\-]*)
  | (?P<local>:(?:[{_CHARS}.\-:%]|\\[^\s])*)
  | (?P<word>[0-9A-Za-z_]+)
  | (?P<punct>[\s\S])
    """,
    re.VERBOSE,
)
_NAME_RUN = re.compile(rf"[{_BASE}][{_CHARS}.\-]*")
_LOCAL = re.compile(rf"(?:[{_CHARS}.\-:%]|\\[^\s])*")
_IRI_BODY = re.compile(r"[^<>\"{}|^`\\\x00-\x20]+")
_IRI = re.compile(r"<(?:[^<>\"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>")

FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_KEYWORDS = (
    "INSERT",
    "DELETE",
    "LOAD",
    "CLEAR",
    "DROP",
    "CREATE",
    "ADD",
    "MOVE",
    "COPY",
    "WITH",
)
# Nesting deeper than this is refused: Oxigraph's parser recurses once per level and overflows
# its stack (and kills the process) a few hundred levels down on some constructs.
MAX_DEPTH = 128

_OPERAND_KINDS = frozenset({"iri", "var", "str", "lang", "pname", "bnode", "num"})
_NOT_CALLS = frozenset({"VALUES", "A"})
_OPENERS = {"(": ")", "{": "}", "[": "]"}


class Token(NamedTuple):
    kind: str  # iri, str, var, lang, bnode, pname, word, num, punct
    text: str
    start: int  # offset of the first character in the scanned text
    prefix: str = ""  # a prefixed name's prefix ("" for ``:x``)


def tokens(text: str) -> Iterator[Token]:
    """The tokens of ``text``, in order, without whitespace and comments (linear time).

    A ``<`` is an IRI unless it follows an operand inside an expression, where it is
    less-than; ``(`` opens an expression after a keyword or function name, or inside another
    expression, and a collection, a ``VALUES`` row or a path group elsewhere.
    """
    stack: list[str] = []  # "expr", "paren", "brace", "bracket"
    prev: Token | None = None
    prev2: Token | None = None
    pos, end = 0, len(text)
    no_pname_before = 0  # no prefixed name starts anywhere before this offset
    match_token, match_name, match_local, match_iri = (
        _TOKEN.match,
        _NAME_RUN.match,
        _LOCAL.match,
        _IRI.match,
    )
    while pos < end:
        c = text[pos]
        tok: Token | None = None
        if c == "<":
            in_expr = bool(stack) and stack[-1] == "expr"
            operand = prev is not None and (
                prev.kind in _OPERAND_KINDS
                or (prev.kind == "punct" and prev.text in ")]")
                or (prev.kind == "word" and prev.text.upper() in ("TRUE", "FALSE"))
            )
            iri = None if (in_expr and operand) else match_iri(text, pos)
            if iri is not None:
                tok = Token("iri", iri.group(), pos)
                pos = iri.end()
            else:
                tok = Token("punct", "<", pos)
                pos += 1
        elif pos >= no_pname_before and (c.isalpha() or c >= "\u00c0"):
            run = match_name(text, pos)
            if run is not None:
                colon = run.end()
                if colon < end and text[colon] == ":":
                    local = match_local(text, colon + 1)
                    assert local is not None  # it matches the empty string
                    tok = Token("pname", text[pos : local.end()], pos, text[pos:colon])
                    pos = local.end()
                else:
                    no_pname_before = colon
        if tok is None:
            m = match_token(text, pos)
            assert m is not None  # the last alternative matches any character
            kind = m.lastgroup or "punct"
            pos = m.end()
            if kind in ("ws", "comment"):
                continue
            value = m.group()
            if kind == "local":
                kind = "pname"
            elif kind == "word" and value[0].isdigit():
                kind = "num"
            elif kind == "punct":
                if value == "(":
                    stack.append("expr" if _opens_expression(prev, prev2, stack) else "paren")
                elif value == "{":
                    stack.append("brace")
                elif value == "[":
                    stack.append("bracket")
                elif value in ")}]" and stack:
                    stack.pop()
            tok = Token(kind, value, m.start())
        prev2, prev = prev, tok
        yield tok


def _opens_expression(prev: Token | None, prev2: Token | None, stack: list[str]) -> bool:
    """Whether a ``(`` starts an expression (rather than a collection, a VALUES row or a path).

    Every expression of SPARQL sits inside parentheses opened at the top level (SELECT, GROUP
    BY, ORDER BY, HAVING), after a keyword or function name (FILTER, BIND, STR, IN, ...), after
    a function IRI that follows one, or inside another expression.
    """
    if not stack or stack[-1] == "expr":
        return True
    if prev is None:
        return True
    if prev.kind == "word":
        return prev.text.upper() not in _NOT_CALLS
    if prev.kind in ("pname", "iri") and prev2 is not None:
        return prev2.kind == "word" and prev2.text.upper() not in _NOT_CALLS
    return False


@dataclass(frozen=True)
class Inspection:
    """What the scan found in a query or update."""

    form: str | None = None  # SELECT, ASK, CONSTRUCT or DESCRIBE; None for updates or unknown
    has_dataset: bool = False  # the query names its own dataset (FROM / FROM NAMED)
    forbidden: tuple[str, ...] = ()  # "SERVICE", "LOAD"
    depth: int = 0  # deepest nesting of (), {} and []
    first_word: str | None = None  # the first keyword after the prologue, upper case
    declared: frozenset[str] = frozenset()  # prefixes the text declares
    used: dict[str, int] = field(default_factory=dict)  # prefix -> offset of its first use

    @property
    def kind(self) -> str | None:
        """ "results" for SELECT/ASK, "graph" for CONSTRUCT/DESCRIBE, None when unknown."""
        if self.form in ("SELECT", "ASK"):
            return "results"
        if self.form in ("CONSTRUCT", "DESCRIBE"):
            return "graph"
        return None

    @property
    def is_update(self) -> bool:
        """Whether the text starts like an update (INSERT, DELETE, LOAD, CLEAR, ...)."""
        return self.first_word is not None and self.first_word.startswith(UPDATE_KEYWORDS)

    def undeclared(self, predeclared: frozenset[str] | set[str] = frozenset()) -> list[str]:
        """Prefixes used but neither declared nor among ``predeclared``, first used first."""
        known = self.declared | predeclared
        return sorted((p for p in self.used if p not in known), key=self.used.__getitem__)


def inspect(text: str, *, update: bool = False) -> Inspection:
    """Scan a query (or an update, with ``update=True``). Applications repeat their queries,
    so the answers for the last thousand short ones are kept."""
    if len(text) <= 8192:
        return _inspect_cached(text, update)
    return _inspect(text, update)


@functools.lru_cache(maxsize=1024)
def _inspect_cached(text: str, update: bool) -> Inspection:
    return _inspect(text, update)


def _inspect(text: str, update: bool) -> Inspection:
    form: str | None = None
    first_word: str | None = None
    has_dataset = False
    forbidden: set[str] = set()
    declared: set[str] = set()
    used: dict[str, int] = {}
    depth = deepest = 0
    after_prefix = False
    pending_service: Token | None = None  # a pname whose prefix starts with SERVICE
    for tok in tokens(text):
        if pending_service is not None and tok.text == "{":
            forbidden.add("SERVICE")
        pending_service = None
        kind = tok.kind
        if kind == "punct":
            if tok.text in _OPENERS:
                depth += 1
                deepest = max(deepest, depth)
            elif tok.text in ")}]":
                depth = max(0, depth - 1)
            after_prefix = False
            continue
        if kind in ("word", "num"):
            upper = tok.text.upper()
            # "1e5SERVICE" is a number then the keyword to Oxigraph, so numbers are searched too.
            if "SERVICE" in upper:
                forbidden.add("SERVICE")
            if "LOAD" in upper:
                forbidden.add("LOAD")
            if depth == 0 and first_word is None and upper not in ("PREFIX", "BASE"):
                first_word = upper
            if depth == 0 and form is None and not update:
                form = next((f for f in FORMS if upper.startswith(f)), None)
            if depth == 0 and upper.startswith("FROM"):
                has_dataset = True
            after_prefix = upper == "PREFIX"
            continue
        if kind == "pname":
            if after_prefix:
                declared.add(tok.prefix)
            else:
                used.setdefault(tok.prefix, tok.start)
                prefix = tok.prefix.upper()
                if prefix.startswith("SERVICE"):
                    pending_service = tok
                if update and depth == 0 and prefix.startswith("LOAD"):
                    forbidden.add("LOAD")
        after_prefix = False
    return Inspection(
        form=form,
        has_dataset=has_dataset,
        forbidden=tuple(sorted(forbidden)),
        depth=deepest,
        first_word=first_word,
        declared=frozenset(declared),
        used=used,
    )


def position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset`` in ``text`` (columns count characters)."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


# Update operations with a WHERE clause, and the protocol's dataset for them.


class DatasetConflict(ValueError):
    """The update names its own dataset (USING or WITH) and the request names one too."""


def with_using(update: str, default: list[str], named: list[str]) -> str:
    """``update`` with the protocol's ``using-graph-uri`` (``default``) and
    ``using-named-graph-uri`` (``named``) applied to every operation that has a WHERE clause,
    as USING / USING NAMED clauses placed before that WHERE (SPARQL 1.1 Protocol 2.2.3).
    ``DELETE WHERE { P }`` becomes ``DELETE { P } USING ... WHERE { P }``, its definition.

    Raises DatasetConflict when the update has its own USING or WITH, which the protocol
    forbids together with the parameters.
    """
    for iri in (*default, *named):
        if not _IRI_BODY.fullmatch(iri) or ":" not in iri:
            raise ValueError(f"not an absolute IRI: {iri!r}")
    clause = "".join(f" USING <{g}>" for g in default)
    clause += "".join(f" USING NAMED <{g}>" for g in named)
    toks = list(tokens(update))
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement)
    depth = 0
    for i, tok in enumerate(toks):
        if tok.kind == "punct":
            if tok.text in _OPENERS:
                depth += 1
            elif tok.text in ")}]":
                depth = max(0, depth - 1)
            continue
        if depth or tok.kind != "word":
            continue
        word = tok.text.upper()
        if word in ("USING", "WITH"):
            raise DatasetConflict(
                f"the update has its own {word} clause: it cannot be combined with "
                "using-graph-uri or using-named-graph-uri"
            )
        if word != "WHERE":
            continue
        before = toks[i - 1] if i else None
        if before is not None and before.kind == "word" and before.text.upper() == "DELETE":
            group = _group(toks, i + 1)
            if group is None:
                continue  # malformed: the engine reports it
            body = update[toks[i + 1].start : group.start + 1]
            edits.append((before.start, tok.start + len(tok.text), f"DELETE {body}{clause} WHERE"))
        else:
            edits.append((tok.start, tok.start, clause.lstrip() + " "))
    out, last = [], 0
    for start, stop, replacement in edits:
        out += [update[last:start], replacement]
        last = stop
    out.append(update[last:])
    return "".join(out)


def _group(toks: list[Token], i: int) -> Token | None:
    """The ``}`` closing the group that opens at ``toks[i]``."""
    if i >= len(toks) or toks[i].text != "{":
        return None
    depth = 0
    for tok in toks[i:]:
        if tok.kind != "punct":
            continue
        if tok.text == "{":
            depth += 1
        elif tok.text == "}":
            depth -= 1
            if depth == 0:
                return tok
    return None


# Syntax errors in the user's language.

KEYWORDS = frozenset(
    """BASE PREFIX SELECT DISTINCT REDUCED AS CONSTRUCT WHERE DESCRIBE ASK FROM NAMED GROUP BY
    HAVING ORDER ASC DESC LIMIT OFFSET VALUES LOAD SILENT INTO CLEAR DROP CREATE ADD TO MOVE
    COPY INSERT DATA DELETE WITH USING DEFAULT GRAPH ALL OPTIONAL SERVICE BIND UNDEF MINUS UNION
    FILTER IN NOT EXISTS STR LANG LANGMATCHES DATATYPE BOUND IRI URI BNODE RAND ABS CEIL FLOOR
    ROUND CONCAT STRLEN UCASE LCASE ENCODE_FOR_URI CONTAINS STRSTARTS STRENDS STRBEFORE STRAFTER
    YEAR MONTH DAY HOURS MINUTES SECONDS TIMEZONE TZ NOW UUID STRUUID MD5 SHA1 SHA256 SHA384
    SHA512 COALESCE IF STRLANG STRDT SAMETERM ISIRI ISURI ISBLANK ISLITERAL ISNUMERIC REGEX
    SUBSTR REPLACE COUNT SUM MIN MAX AVG SAMPLE GROUP_CONCAT SEPARATOR A TRUE FALSE LATERAL
    VERSION TRIPLE SUBJECT PREDICATE OBJECT ISTRIPLE LANGDIR STRLANGDIR HASLANG HASLANGDIR
    ADJUST""".split()
)
_CHAR_CLASS = re.compile(r",? ?\[[^\]]*\]|,? ?Prefix not found")


def explain(
    text: str,
    message: str,
    *,
    update: bool = False,
    predeclared: frozenset[str] | set[str] = frozenset(),
) -> tuple[str, int | None, int | None]:
    """A parser's syntax error about ``text``, said in the user's words when the scan sees
    what went wrong: an undeclared prefix, a misspelt keyword, a query sent as an update.
    Returns (message, line, column); the position is the culprit's, else the parser's."""
    found = inspect(text, update=update)
    m = re.search(r"\berror at (\d+):(\d+)", message)
    line, column = (int(m.group(1)), int(m.group(2))) if m else (None, None)
    undeclared = found.undeclared(predeclared)
    if undeclared:
        prefix = undeclared[0]
        line, column = position(text, found.used[prefix])
        listed = ", ".join(f"{p}:" for p in sorted(predeclared))
        hint = f" or use the predeclared prefixes ({listed})" if listed else ""
        return (
            f"unknown prefix {prefix}: at line {line}, column {column} — add "
            f"PREFIX {prefix}: <…>{hint}",
            line,
            column,
        )
    if update and found.first_word is not None and found.first_word.startswith(FORMS):
        return (
            f"{found.first_word} is a query, not an update: send it as query= (or "
            "application/sparql-query)",
            line,
            column,
        )
    for tok in tokens(text):
        if tok.kind == "word" and tok.text.upper() not in KEYWORDS:
            line, column = position(text, tok.start)
            close = difflib.get_close_matches(tok.text.upper(), KEYWORDS, n=1, cutoff=0.75)
            hint = f": did you mean {close[0]}?" if close else ""
            return (
                f"unknown word {tok.text} at line {line}, column {column}{hint}",
                line,
                column,
            )
    return _CHAR_CLASS.sub("", message), line, column
