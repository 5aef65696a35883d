"""The SPARQL-compiled validator agrees with pyshacl, the reference, on good and broken data."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
import rdflib
from pyshacl import validate as pyshacl_validate

from kg.graph.oxigraph import OxigraphStore
from kg.graph.shacl import UnsupportedShape, compile_shapes, validate
from kg.settings import ONTOLOGY_DIR

SHAPES = ONTOLOGY_DIR / "shapes.ttl"
HEAD = """
@prefix ckg: <https://w3id.org/cloudkg/ontology#> .
@prefix id: <https://w3id.org/cloudkg/id/> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix unit: <http://qudt.org/vocab/unit/> .
"""
GOOD = (
    HEAD
    + """
id:doc a ckg:Document ; ckg:contentHash "abc" .
id:p a ckg:Passage ; ckg:document id:doc ; ckg:startChar 0 ; ckg:endChar 10 ;
     ckg:text "ten chars!" .
id:cat a ckg:Category ; rdfs:label "Storage" .
id:s3 a ckg:Service ; rdfs:label "Amazon S3" ; ckg:inCategory id:cat ; ckg:hasLimit id:l .
id:l a ckg:Limit ; ckg:quantity "object size" ; ckg:minValue 0.0 ; ckg:maxValue 5000000000000.0 ;
     ckg:unit unit:BYTE ; ckg:statedAs "0 Bytes to 5 TB" ; prov:wasDerivedFrom id:p .
"""
)
BROKEN = {
    "limit without a value": GOOD.replace("ckg:minValue 0.0 ; ckg:maxValue 5000000000000.0 ;", ""),
    "integer where a decimal is due": GOOD.replace(
        "ckg:maxValue 5000000000000.0", "ckg:maxValue 5"
    ),
    "min above max": GOOD.replace("ckg:minValue 0.0", "ckg:minValue 9000000000000.0"),
    "unit not QUDT": GOOD.replace("unit:BYTE", "<http://example.org/byte>"),
    "two quantities": GOOD.replace('"object size"', '"object size", "file size"'),
    "passage ends before it starts": GOOD.replace("ckg:startChar 0", "ckg:startChar 20"),
    "category that is not one": GOOD.replace("ckg:inCategory id:cat", "ckg:inCategory id:doc"),
    "service without a label": GOOD.replace('rdfs:label "Amazon S3" ;', ""),
    "source is not a passage": GOOD.replace(
        "prov:wasDerivedFrom id:p", "prov:wasDerivedFrom id:doc"
    ),
}


def ours(turtle: str) -> set[str]:
    store = OxigraphStore()
    store.store.load(turtle.encode(), format=ox.RdfFormat.TURTLE)
    return {v.split(" ", 1)[0] for v in validate(store, compile_shapes(SHAPES))}


def reference(turtle: str) -> set[str]:
    data = rdflib.Graph().parse(data=turtle, format="turtle")
    shapes = rdflib.Graph().parse(SHAPES, format="turtle")
    _, report, _ = pyshacl_validate(data, shacl_graph=shapes, inference="none")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    return {
        str(report.value(r, sh.focusNode))
        for r in report.subjects(rdflib.RDF.type, sh.ValidationResult)
    }


def test_conforming_data_has_no_violations():
    assert ours(GOOD) == set() == reference(GOOD)


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_data_is_flagged_on_the_same_nodes(case):
    found = ours(BROKEN[case])
    assert found, f"{case}: not flagged"
    assert found == reference(BROKEN[case])


def test_unsupported_features_are_refused(tmp_path):
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n@prefix ex: <http://example.org/> .\n"
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ;\n"
        "  sh:property [ sh:path ex:p ; sh:qualifiedMinCount 1 ] .\n"
    )
    with pytest.raises(UnsupportedShape, match="qualifiedMinCount"):
        compile_shapes(shapes)
