"""A small SPARQL lexer that finds what the endpoint must refuse before any engine sees it.

pyoxigraph runs ``SERVICE`` and ``LOAD`` by making HTTP requests and has no switch to stop it,
so queries and updates are screened here. The scan skips strings, IRIs, comments, variables,
prefixed names, blank nodes and language tags, and reports the keywords left over.

Two details decide whether the screen can be walked around, and both err towards refusing:

* Oxigraph matches keywords without a word boundary (``SERVICESILENT<x>{}`` and
  ``SERVICEex:x {}`` both federate), so any bare word that *contains* SERVICE or LOAD is
  refused, as is a prefixed name whose prefix starts with SERVICE when a ``{`` follows it, and
  one whose prefix starts with LOAD at the top level of an update.
* ``<`` is an IRI only where a term may stand. Inside an expression, after an operand, it is
  the less-than operator, and what follows is scanned as code: otherwise
  ``FILTER(?a<?b)SERVICE#>`` would hide the keyword inside a pretend IRI.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\r\n]*)
  | (?P<str>\"\"\"(?:(?:\"|\"\")?(?:[^\"\\]|\\[\s\S]))*\"\"\"
          | '''(?:(?:'|'')?(?:[^'\\]|\\[\s\S]))*'''
          | \"(?:[^\"\\\r\n]|\\[\s\S])*\"
          | '(?:[^'\\\r\n]|\\[\s\S])*')
  | (?P<var>[?$][0-9A-Za-z_\u00B7\u00C0-\U000EFFFF]+)
  | (?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<bnode>_:[0-9A-Za-z_\u00B7\u00C0-\U000EFFFF.\-]*)
  | (?P<pname>(?P<prefix>[A-Za-z\u00C0-\U000EFFFF][0-9A-Za-z_\u00B7\u00C0-\U000EFFFF.\-]*)?
          :(?:[0-9A-Za-z_\u00B7\u00C0-\U000EFFFF.\-:%]|\\[^\s])*)
  | (?P<word>[0-9A-Za-z_]+)
  | (?P<punct>[\s\S])
    """,
    re.VERBOSE,
)
_IRI = re.compile(r"<[^<>\"{}|^`\\\x00-\x20]*>")

FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
_OPERAND_KINDS = frozenset({"iri", "var", "str", "lang", "pname", "bnode", "num"})
_NOT_CALLS = frozenset({"VALUES", "A"})


@dataclass(frozen=True)
class Inspection:
    """What the scan found in a query or update."""

    form: str | None = None  # SELECT, ASK, CONSTRUCT or DESCRIBE; None for updates or unknown
    has_dataset: bool = False  # the query names its own dataset (FROM / FROM NAMED)
    forbidden: tuple[str, ...] = ()  # "SERVICE", "LOAD"

    @property
    def kind(self) -> str | None:
        """ "results" for SELECT/ASK, "graph" for CONSTRUCT/DESCRIBE, None when unknown."""
        if self.form in ("SELECT", "ASK"):
            return "results"
        if self.form in ("CONSTRUCT", "DESCRIBE"):
            return "graph"
        return None


@dataclass
class _Tok:
    kind: str  # word, num, iri, var, str, lang, bnode, pname, punct
    text: str
    prefix: str = ""


def _tokens(text: str) -> list[_Tok]:
    """Tokens with context: a ``<`` is an IRI unless it follows an operand inside an expression."""
    out: list[_Tok] = []
    stack: list[str] = []  # "expr", "paren", "brace", "bracket"
    pos, end = 0, len(text)
    while pos < end:
        if text[pos] == "<":
            prev = out[-1] if out else None
            in_expr = bool(stack) and stack[-1] == "expr"
            operand = prev is not None and (
                prev.kind in _OPERAND_KINDS
                or (prev.kind == "punct" and prev.text in ")]")
                or (prev.kind == "word" and prev.text.upper() in ("TRUE", "FALSE"))
            )
            iri = None if (in_expr and operand) else _IRI.match(text, pos)
            if iri:
                out.append(_Tok("iri", iri.group()))
                pos = iri.end()
            else:
                out.append(_Tok("punct", "<"))
                pos += 1
            continue
        m = _TOKEN.match(text, pos)
        assert m is not None  # the last alternative matches any character
        pos = m.end()
        kind = m.lastgroup
        if kind in ("ws", "comment"):
            continue
        if kind == "pname":
            out.append(_Tok("pname", m.group(), m.group("prefix") or ""))
            continue
        value = m.group()
        if kind == "word" and value[0].isdigit():
            kind = "num"
        if kind == "punct":
            if value == "(":
                stack.append("expr" if _opens_expression(out, stack) else "paren")
            elif value == "{":
                stack.append("brace")
            elif value == "[":
                stack.append("bracket")
            elif value in ")}]" and stack:
                stack.pop()
        out.append(_Tok(kind or "punct", value))
    return out


def _opens_expression(before: list[_Tok], stack: list[str]) -> bool:
    """Whether a ``(`` starts an expression (rather than a collection, a VALUES row or a path).

    Every expression of SPARQL sits inside parentheses opened at the top level (SELECT, GROUP
    BY, ORDER BY, HAVING), after a keyword or function name (FILTER, BIND, STR, IN, ...), after a
    function IRI that follows one, or inside another expression.
    """
    if not stack or stack[-1] == "expr":
        return True
    prev = before[-1] if before else None
    if prev is None:
        return True
    if prev.kind == "word":
        return prev.text.upper() not in _NOT_CALLS
    if prev.kind in ("pname", "iri") and len(before) > 1:
        prev2 = before[-2]
        return prev2.kind == "word" and prev2.text.upper() not in _NOT_CALLS
    return False


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
    toks = _tokens(text)
    form: str | None = None
    has_dataset = False
    forbidden: set[str] = set()
    depth = 0
    after_prefix = False
    for i, tok in enumerate(toks):
        if tok.kind == "punct":
            if tok.text in "{([":
                depth += 1
            elif tok.text in "})]":
                depth = max(0, depth - 1)
            continue
        if tok.kind in ("word", "num"):
            upper = tok.text.upper()
            after_prefix = upper == "PREFIX"
            # "1e5SERVICE" is a number then the keyword to Oxigraph, so numbers are searched too.
            if "SERVICE" in upper:
                forbidden.add("SERVICE")
            if "LOAD" in upper:
                forbidden.add("LOAD")
            if depth == 0 and form is None and not update:
                form = next((f for f in FORMS if upper.startswith(f)), None)
            if depth == 0 and upper.startswith("FROM"):
                has_dataset = True
            continue
        if tok.kind == "pname":
            prefix = tok.prefix.upper()
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            if prefix.startswith("SERVICE") and nxt is not None and nxt.text == "{":
                forbidden.add("SERVICE")
            if update and depth == 0 and not after_prefix and prefix.startswith("LOAD"):
                forbidden.add("LOAD")
        after_prefix = False
    return Inspection(form, has_dataset, tuple(sorted(forbidden)))
