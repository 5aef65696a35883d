"""IRIs of the cloudkg ontology and of the resources the build mints."""

from __future__ import annotations

import re
import unicodedata

CKG = "https://w3id.org/cloudkg/ontology#"
ID = "https://w3id.org/cloudkg/id/"
GRAPH = "https://w3id.org/cloudkg/graph/"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
PROV = "http://www.w3.org/ns/prov#"
DCT = "http://purl.org/dc/terms/"
UNIT = "http://qudt.org/vocab/unit/"
CUR = "http://qudt.org/vocab/currency/"
SH = "http://www.w3.org/ns/shacl#"
OWL = "http://www.w3.org/2002/07/owl#"

PREFIXES: dict[str, str] = {
    "ckg": CKG,
    "id": ID,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "skos": SKOS,
    "prov": PROV,
    "dcterms": DCT,
    "unit": UNIT,
    "cur": CUR,
    "owl": OWL,
}

ONTOLOGY_GRAPH = GRAPH + "ontology"  # cloudkg.ttl, the vocabulary itself
LEXICON_GRAPH = GRAPH + "lexicon"  # labels, aliases and categories of services the notes name
BUILD_GRAPH = GRAPH + "build"  # when and from what the data was built


def sparql_prefixes(names: tuple[str, ...] | None = None) -> str:
    """PREFIX lines for a query, all known prefixes unless ``names`` picks some."""
    chosen = names or tuple(PREFIXES)
    return "".join(f"PREFIX {n}: <{PREFIXES[n]}>\n" for n in chosen)


def slug(text: str) -> str:
    """An IRI-safe, readable local name: "Amazon S3" -> "amazon-s3"."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return text or "x"


def document_iri(doc_id: str) -> str:
    return f"{ID}doc/{slug(doc_id)}"


def passage_iri(doc_id: str, start: int, end: int) -> str:
    """Passage IRIs extend their document's IRI, so one prefix finds all graphs of a document."""
    return f"{document_iri(doc_id)}/{start}-{end}"


def service_iri(name: str) -> str:
    return f"{ID}service/{slug(name)}"


def category_iri(name: str) -> str:
    return f"{ID}category/{slug(name)}"
