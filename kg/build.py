"""Notes on disk -> a published build: graph, search index, manifest.

One way through: collect files -> read and parse -> discover services across all notes ->
extract each document (cached by content hash) -> quads -> a new generation's graph store ->
SHACL check -> search index -> manifest -> publish. A failure anywhere before ``publish``
leaves the previous build live and untouched (see ``kg.datadir``).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from kg import vocab
from kg.datadir import DataDir
from kg.extract.discover import DiscoveredService, discover_services
from kg.extract.document import Extractor
from kg.extract.providers import Providers
from kg.graph.base import GraphStore
from kg.graph.oxigraph import OxigraphStore
from kg.graph.rdf import (
    build_quads,
    document_quads,
    iter_entities,
    lexicon_quads,
    ontology_quads,
)
from kg.lexicon import LEXICON_DIR, Lexicon, common_english_words
from kg.model import Document, ParsedDocument, content_hash
from kg.parse import ParseError, choose, format_of, read_file, skip_reason
from kg.settings import ONTOLOGY_DIR, Settings

if TYPE_CHECKING:
    from kg.search.embedder import Embedder

# The code that turns text into quads and passages: when any of it changes, cached
# extractions miss and an unchanged set of notes is built again.
_EXTRACTION_CODE = (
    "search/passages.py",
    "search/sentences.py",
    "text",
    "parse",
    "extract",
    "lexicon.py",
    "graph/rdf.py",
    "model.py",
    "vocab.py",
)


def _extractor_version() -> str:
    package = Path(__file__).parent
    sources = []
    for name in _EXTRACTION_CODE:
        path = package / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        sources += [f.read_text(encoding="utf-8") for f in files]
    return content_hash("\n".join(sources))[:16]


EXTRACTOR_VERSION = _extractor_version()

Progress = Callable[[str, int, int], None]  # (stage, done, total)


class BuildError(RuntimeError):
    """Nothing could be built (no readable notes) or the build could not complete."""


@dataclass
class BuildReport:
    generation: str | None = None
    up_to_date: bool = False
    documents: int = 0
    extracted: int = 0  # documents extracted this time (the rest came from the cache)
    services: int = 0
    features: int = 0
    limits: int = 0
    relations: int = 0
    passages: int = 0  # graph passages: spans that facts cite
    triples: int = 0
    search_passages: int = 0
    encoded: int = 0  # passages embedded this time
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "path: reason" for each file not read
    violations: list[str] = field(default_factory=list)
    # documents (ids) against the previous build: new, changed, left out, and kept (``keep``)
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class NoteFile:
    path: Path
    doc_id: str


def _inside(folder: Path) -> tuple[list[Path], list[str]]:
    """The files under ``folder``, sorted, and a "path: reason" line for each link found there
    whose target lies outside it (a file, or a folder, which is then not searched)."""
    root = folder.resolve()
    files: list[Path] = []
    outside: list[str] = []
    for p in sorted(folder.rglob("*")):
        if not p.resolve().is_relative_to(root):
            if p.is_symlink() and (p.is_file() or p.is_dir()):
                kind = "folder" if p.is_dir() else "file"
                outside.append(f"{p}: a link to a {kind} outside {folder}; skipped")
            continue
        if p.is_file():
            files.append(p)
    return files, outside


def collect_notes(paths: Iterable[Path]) -> tuple[list[NoteFile], list[str]]:
    """Notes files under ``paths`` (files or folders, recursively), and a "path: reason"
    line for every file or folder given or found that will not be read.

    Inside a folder, a symbolic link whose target lies outside that folder is skipped with a
    warning: a notes folder from someone else must not make the build read (and the API serve)
    other files of this machine, such as a ``notes.txt`` linking to ``/etc/passwd``. Links
    within the folder are followed; a file named on the command line is read wherever it is.
    """
    found: list[NoteFile] = []
    warnings: list[str] = []
    for path in paths:
        if not path.exists():
            warnings.append(f"{path}: no such file or folder")
        elif path.is_dir():
            inside, outside = _inside(path)
            files, skipped = choose(inside, path)
            warnings += outside + skipped
            if not files:
                warnings.append(f"{path}: no notes in this folder (see kg build --formats)")
            found += [NoteFile(p, p.relative_to(path).as_posix()) for p in files]
        elif format_of(path) is None:
            warnings.append(f"{path}: {skip_reason(path)}")
        else:
            found.append(NoteFile(path, path.name))
    seen: dict[str, NoteFile] = {}
    for note in found:
        if note.doc_id in seen and seen[note.doc_id].path.resolve() != note.path.resolve():
            warnings.append(f"{note.path}: same name as {seen[note.doc_id].path}; skipped")
            continue
        seen.setdefault(note.doc_id, note)
    return list(seen.values()), warnings


def read_notes(notes: Sequence[NoteFile]) -> tuple[list[ParsedDocument], list[str], list[str]]:
    """Each file read by the reader for its format: the parsed documents, a "path: reason"
    line for each file that could not be read, and the readers' notices."""
    parsed: list[ParsedDocument] = []
    failed: list[str] = []
    notices: list[str] = []
    for note in notes:
        try:
            reading = read_file(note.path, note.doc_id)
        except ParseError as exc:
            failed.append(str(exc))
        except OSError as exc:
            failed.append(f"{note.path}: cannot read ({exc.strerror or exc})")
        else:
            parsed.append(reading.parsed)
            notices += reading.notices
    return parsed, failed, notices


def _lexicon_hash() -> str:
    parts = [f.read_text("utf-8") for f in sorted(LEXICON_DIR.glob("*.ttl"))]
    parts.append((ONTOLOGY_DIR / "cloudkg.ttl").read_text("utf-8"))
    return content_hash("\n".join(parts))


def build(
    settings: Settings,
    paths: Sequence[Path] | None = None,
    *,
    progress: Progress | None = None,
    search: bool = True,
    embedder: Embedder | None = None,
    force: bool = False,
    keep: bool = False,
) -> BuildReport:
    """Build the notes under ``paths`` (default: the bundled corpus) into ``settings.data``.

    The build holds exactly those notes, unless ``keep``: then the documents of the previous
    build that lie outside ``paths`` stay, read again from the files they were built from (one
    that is gone is removed, with a warning). ``report.added/updated/removed/kept`` say what
    changed against the previous build.

    With ``search`` the build also indexes passages and sentences (``kg.search``), encoding
    only text the embedding cache has not seen; the model loads only if something is new.
    Raises BuildError when no notes could be read; a locked data folder raises
    ``kg.datadir.BuildLockedError``.
    """
    started = time.perf_counter()
    report = BuildReport()
    given = list(paths or [settings.corpus])
    notes, report.skipped = collect_notes(given)
    data = DataDir(settings.data)
    previous: dict[str, dict[str, str]] = (data.manifest() or {}).get("documents", {})
    if keep:
        notes += _kept_notes(previous, given, {n.doc_id for n in notes}, report)
    parsed, failed, read_warnings = read_notes(notes)
    report.skipped += failed
    report.warnings += read_warnings
    docs = [p.document for p in parsed]
    if not docs:
        raise BuildError("nothing to build: " + ("; ".join(report.skipped) or "no notes given"))
    _changes(report, previous, docs)
    with data.lock():
        key = _build_key(docs, settings)
        manifest = data.manifest()
        if not force and manifest is not None and manifest.get("build_key") == key:
            report.up_to_date = True
            report.generation = data.current_id()
            report.documents = len(docs)
            _copy_counts(report, manifest)
            report.seconds = time.perf_counter() - started
            return report
        gen = data.new_generation()
        _build_generation(settings, data, gen, parsed, report, progress, search, embedder, force)
        manifest = {
            "build_key": key,
            "extractor_version": EXTRACTOR_VERSION,
            "embedder": settings.embedder,
            "documents": {
                d.id: {"sha256": d.sha256, "path": str(Path(d.path).resolve())} for d in docs
            },
            "counts": {k: getattr(report, k) for k in _KEPT_COUNTS},
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        (gen / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        data.publish(gen)
        report.generation = gen.name
    report.seconds = time.perf_counter() - started
    return report


def _kept_notes(
    previous: dict[str, dict[str, str]],
    given: Sequence[Path],
    ids: set[str],
    report: BuildReport,
) -> list[NoteFile]:
    """The previous build's documents that ``given`` does not cover: not under a given path
    (a file deleted there is meant to go) and not named again by a given note."""
    roots = [p.resolve() for p in given]
    kept = []
    for doc_id, info in sorted(previous.items()):
        path = Path(info.get("path", "")).resolve()
        if doc_id in ids or any(path == r or r in path.parents for r in roots):
            continue
        if not path.is_file():
            report.warnings.append(
                f"{doc_id}: its file {path} is gone, so it cannot be kept; removed"
            )
            continue
        kept.append(NoteFile(path, doc_id))
        report.kept.append(doc_id)
    return kept


def _changes(
    report: BuildReport, previous: dict[str, dict[str, str]], docs: Sequence[Document]
) -> None:
    current = {d.id: d.sha256 for d in docs}
    report.added = sorted(set(current) - set(previous))
    report.updated = sorted(
        i for i in current if i in previous and previous[i].get("sha256") != current[i]
    )
    report.removed = sorted(set(previous) - set(current))
    report.kept = [i for i in report.kept if i in current]


def _build_key(docs: Sequence[Document], settings: Settings) -> str:
    parts = [EXTRACTOR_VERSION, _lexicon_hash(), settings.embedder, settings.vector_store]
    parts += sorted(f"{d.id}:{_fingerprint(d)}" for d in docs)
    return content_hash("\n".join(parts))


def _fingerprint(doc: Document) -> str:
    """A document's text hash, with its metadata when it has any: the properties of a DOCX,
    XLSX or HTML file are not in its text."""
    if not doc.metadata:
        return doc.sha256
    return content_hash(doc.sha256 + json.dumps(sorted(doc.metadata.items())))


_KEPT_COUNTS = (
    "services",
    "features",
    "limits",
    "relations",
    "passages",
    "triples",
    "search_passages",
)


def _copy_counts(report: BuildReport, manifest: dict[str, Any]) -> None:
    for k in _KEPT_COUNTS:
        setattr(report, k, manifest.get("counts", {}).get(k, 0))


def _build_generation(
    settings: Settings,
    data: DataDir,
    gen: Path,
    parsed: Sequence[ParsedDocument],
    report: BuildReport,
    progress: Progress | None,
    search: bool,
    embedder: Embedder | None,
    force: bool = False,
) -> None:
    lexicon = Lexicon.load()
    common = common_english_words()
    probe = lexicon.matcher(common)
    providers = Providers(lexicon)
    discovered: list[DiscoveredService] = []
    for p in parsed:
        discovered += discover_services(p, probe, providers, common)
    state = content_hash(
        "\n".join(
            [
                EXTRACTOR_VERSION,
                _lexicon_hash(),
                *sorted(f"{d.label} {d.provider}" for d in discovered),
            ]
        )
    )
    extractor = Extractor(lexicon, discovered, common)
    cache = data.cache / "extract"
    cache.mkdir(parents=True, exist_ok=True)
    documents: dict[str, tuple[str, list[ox.Quad]]] = {}  # IRI -> (extraction key, quads)
    mentioned: set[str] = set()
    for i, p in enumerate(parsed):
        key, quads, stats, from_cache = _document(extractor, p, cache, state)
        report.extracted += 0 if from_cache else 1
        doc = ox.NamedNode(vocab.document_iri(p.document.id))
        stamp = ox.Quad(doc, ox.NamedNode(vocab.CKG + "extractionKey"), ox.Literal(key), doc)
        documents[doc.value] = (key, [*quads, stamp])
        mentioned.update(stats["entities"])
        if progress:
            progress("extract", i + 1, len(parsed))
    shared = {
        vocab.ONTOLOGY_GRAPH: ontology_quads(),
        vocab.LEXICON_GRAPH: lexicon_quads(lexicon, mentioned),
        vocab.BUILD_GRAPH: build_quads(gen.name, len(parsed)),
    }
    report.documents = len(parsed)
    if settings.graph_store == "oxigraph":
        store = OxigraphStore(gen / "graph")
        try:
            # One bulk load: each call writes and ingests its own files, so a call per
            # document made 2,000 small notes take 80 s (and 8,000 files) instead of one.
            store.store.bulk_extend(_all_quads(documents, shared))
            store.store.flush()
            _count(store, report)
            report.violations = validate(store)
        finally:
            store.close()
    else:
        _write_remote(settings, documents, shared, report, force)
    if search:
        _index(settings, data, gen, parsed, report, progress, embedder)


def _write_remote(
    settings: Settings,
    documents: dict[str, tuple[str, list[ox.Quad]]],
    shared: dict[str, list[ox.Quad]],
    report: BuildReport,
    force: bool,
) -> None:
    """Write into a SPARQL server, document by document: a document whose extraction key
    (text, lexicon, discovered services, extraction code) the server already holds is left
    alone unless ``force``; a changed one is replaced (its graphs dropped first, so nothing is
    duplicated); one that is gone is removed. Validation runs on an in-memory copy.

    Before writing, the server's default graph must be the union of its graphs, as ``kg
    serve`` requires: else the counts would be zeros and the answers empty. Any failure of the
    server is a one-line ``BuildError``."""
    from kg.graph.base import GraphStoreError
    from kg.graph.sparql import SparqlStore

    try:
        store = SparqlStore.from_settings(settings)
    except GraphStoreError as exc:
        raise BuildError(str(exc)) from None
    try:
        store.check_union_default_graph(probe=True)
        held = {
            r["doc"].value: r["key"].value
            for r in store.select(
                vocab.sparql_prefixes(("ckg",))
                + "SELECT ?doc ?key WHERE { ?doc a ckg:Document ; ckg:extractionKey ?key }"
            )
        }
        for doc_iri in {
            r["doc"].value
            for r in store.select(
                vocab.sparql_prefixes(("ckg",)) + "SELECT ?doc WHERE { ?doc a ckg:Document }"
            )
        }:
            held.setdefault(doc_iri, "")
        for doc_iri, (key, quads) in documents.items():
            if force or held.get(doc_iri) != key:
                store.replace_document(doc_iri, quads)
        for doc_iri in set(held) - set(documents):
            store.remove_document(doc_iri)
        for graph, quads in shared.items():
            store.replace_graph(graph, quads)
        _count(store, report)
    except (GraphStoreError, SyntaxError) as exc:  # one line: the server, its status and words
        raise BuildError(str(exc)) from None
    finally:
        store.close()
    copy = OxigraphStore()
    copy.store.bulk_extend(_all_quads(documents, shared))
    report.violations = validate(copy)


def _all_quads(
    documents: dict[str, tuple[str, list[ox.Quad]]], shared: dict[str, list[ox.Quad]]
) -> Iterator[ox.Quad]:
    for _, quads in documents.values():
        yield from quads
    for quads in shared.values():
        yield from quads


def _index(
    settings: Settings,
    data: DataDir,
    gen: Path,
    parsed: Sequence[ParsedDocument],
    report: BuildReport,
    progress: Progress | None,
    embedder: Embedder | None,
) -> None:
    """Passages and sentences into the vector store, encoding only what the cache lacks."""
    from kg.search.embedder import make_embedder
    from kg.search.index import build_search_index
    from kg.search.sentences import build_sentence_index

    # A build is a batch job: it may use every core (serving keeps torch_threads).
    threads = max(settings.torch_threads, os.cpu_count() or 1)
    embedder = embedder or make_embedder(settings.embedder, threads, lazy=True, cache=data.cache)
    counts = build_search_index(
        settings=settings,
        data=data,
        generation=gen,
        parsed=parsed,
        progress=progress,
        embedder=embedder,
    )
    sentences = build_sentence_index(
        settings=settings,
        data=data,
        generation=gen,
        parsed=parsed,
        progress=progress,
        embedder=embedder,
    )
    report.search_passages = counts["passages"]
    report.encoded = counts["encoded"] + sentences["encoded"]


def _document(
    extractor: Extractor, parsed: ParsedDocument, cache: Path, state: str
) -> tuple[str, list[ox.Quad], dict[str, Any], bool]:
    """A document's quads, from the cache when its text, the lexicon, the services discovered
    across the notes and the extraction code are unchanged (all folded into its key)."""
    key = content_hash(f"{state}\n{parsed.document.id}\n{_fingerprint(parsed.document)}")
    nq, meta = cache / f"{key}.nq", cache / f"{key}.json"
    if nq.exists() and meta.exists():
        try:
            quads = list(ox.parse(path=str(nq), format=ox.RdfFormat.N_QUADS))
            return key, quads, json.loads(meta.read_text("utf-8")), True
        except (OSError, SyntaxError, ValueError):
            pass  # a damaged cache entry is rebuilt
    x = extractor.extract(parsed)
    quads = document_quads(x)
    stats = {"entities": sorted(iter_entities(x))}
    tmp = nq.with_suffix(".tmp")
    ox.serialize(quads, output=str(tmp), format=ox.RdfFormat.N_QUADS)
    tmp.replace(nq)
    meta.write_text(json.dumps(stats), encoding="utf-8")
    return key, quads, stats, False


_COUNTS = {
    "services": "?s a ckg:Service",
    "features": "?s a ckg:Feature",
    "limits": "?s a ckg:Limit",
    "passages": "?s a ckg:Passage",
}


def _count(store: GraphStore, report: BuildReport) -> None:
    prefixes = vocab.sparql_prefixes(("ckg",))
    for attr, pattern in _COUNTS.items():
        rows = store.select(f"{prefixes}SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {pattern} }}")
        setattr(report, attr, int(rows[0]["n"].value))
    rows = store.select(
        prefixes
        + """SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o }
             VALUES ?p { ckg:supports ckg:replicatesTo ckg:chargedBy ckg:hasFeature
                         ckg:inCategory ckg:worksWith ckg:usedFor } }"""
    )
    report.relations = int(rows[0]["n"].value)
    report.triples = store.count()


def validate(store: GraphStore) -> list[str]:
    """SHACL violations of the built graph (all graphs merged) against ontology/shapes.ttl,
    checked by queries in the store itself (``kg.graph.shacl``)."""
    from kg.graph.shacl import compile_shapes
    from kg.graph.shacl import validate as run_checks

    return run_checks(store, compile_shapes(ONTOLOGY_DIR / "shapes.ttl"))
