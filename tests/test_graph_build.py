"""The graph built from the bundled notes holds what the notes state, with sources."""

from decimal import Decimal

import pyoxigraph as ox
import pytest

from kg import vocab
from kg.build import build
from kg.graph.oxigraph import OxigraphStore
from kg.graph.stores import open_graph_store
from kg.settings import Settings

P = vocab.sparql_prefixes()

REQUIRED_SERVICES = [
    "IAM", "S3", "CloudFront", "Storage Gateway", "EC2", "ELB", "EBS", "EFS", "CloudWatch",
    "CloudTrail", "RDS", "Aurora", "DynamoDB", "Redshift", "ElastiCache", "Route 53", "VPC",
    "Direct Connect", "CloudFormation", "Elastic Beanstalk", "SQS", "SWF", "SNS",
    "Elastic Transcoder", "API Gateway", "Kinesis", "Cognito", "Lambda",
]  # fmt: skip


def services(store: OxigraphStore) -> dict[str, set[str]]:
    rows = store.select(
        P + "SELECT ?s ?name WHERE { ?s a ckg:Service . { ?s rdfs:label ?name } UNION "
        "{ ?s skos:altLabel ?name } }"
    )
    out: dict[str, set[str]] = {}
    for r in rows:
        out.setdefault(r["s"].value, set()).add(r["name"].value.lower())
    return out


def service_iri(store: OxigraphStore, name: str) -> str:
    for iri, names in services(store).items():
        if name.lower() in names:
            return iri
    raise AssertionError(f"no service named {name}")


def limits_of(store: OxigraphStore, name: str) -> list[dict[str, str]]:
    rows = store.select(
        P
        + """SELECT ?s ?q ?min ?max ?default ?value ?unit ?stated WHERE {
             ?s ckg:hasLimit ?l . ?l ckg:quantity ?q ; ckg:unit ?unit ; ckg:statedAs ?stated .
             OPTIONAL { ?l ckg:minValue ?min } OPTIONAL { ?l ckg:maxValue ?max }
             OPTIONAL { ?l ckg:defaultValue ?default } OPTIONAL { ?l ckg:value ?value } }""",
        s=ox.NamedNode(service_iri(store, name)),
    )
    return [{k: v.value for k, v in r.items()} for r in rows]


def test_at_least_30_services_with_the_required_ones(corpus_store):
    found = services(corpus_store)
    assert len(found) >= 30
    names = set().union(*found.values())
    missing = [s for s in REQUIRED_SERVICES if s.lower() not in names]
    assert not missing


def test_at_least_60_limits_with_numbers(corpus_graph, corpus_store):
    rows = corpus_store.select(
        P + "SELECT (COUNT(DISTINCT ?l) AS ?n) WHERE { ?l a ckg:Limit . "
        "{ ?l ckg:minValue ?v } UNION { ?l ckg:maxValue ?v } UNION { ?l ckg:defaultValue ?v } "
        "UNION { ?l ckg:value ?v } FILTER(datatype(?v) = xsd:decimal) }"
    )
    assert int(rows[0]["n"].value) >= 60
    assert corpus_graph.report.limits >= 60


@pytest.mark.parametrize(
    ("service", "quantity", "bound", "value", "unit"),
    [
        ("S3", "size", "max", "5000000000000", "BYTE"),
        ("SQS", "retention", "max", "1209600", "SEC"),
        ("SQS", "retention", "default", "345600", "SEC"),
        ("SQS", "message size", "max", "256000", "BYTE"),
        ("SQS", "window", "max", "43200", "SEC"),
        ("Aurora", "storage", "max", "64000000000000", "BYTE"),
        ("VPC", "VPCs per region", "default", "5", "NUM"),
        ("Lambda", "GB-second", "value", "0.00001667", "USD"),
        ("Redshift", "compute nodes", "max", "128", "NUM"),
        ("RDS", "retention period", "max", "3024000", "SEC"),
    ],
)
def test_named_limits(corpus_store, service, quantity, bound, value, unit):
    limits = limits_of(corpus_store, service)
    match = [
        lim for lim in limits
        if quantity.lower() in lim["q"].lower() and Decimal(lim.get(bound, "-1")) == Decimal(value)
    ]  # fmt: skip
    assert match, f"{service} {quantity} {bound}={value} not in {limits}"
    assert match[0]["unit"].endswith(unit)


def test_rds_supports_all_six_engines(corpus_store):
    rows = corpus_store.select(
        P + "SELECT DISTINCT ?name WHERE { ?rds skos:altLabel 'RDS' ; ckg:supports ?e . "
        "?e rdfs:label ?name }"
    )
    names = {r["name"].value for r in rows}
    for engine in ("SQL Server", "Oracle", "MySQL", "PostgreSQL", "MariaDB"):
        assert engine in names
    assert any("Aurora" in n for n in names)


def count_objects(store: OxigraphStore, alias: str, predicate: str) -> int:
    rows = store.select(
        P
        + "SELECT ?a (COUNT(DISTINCT ?o) AS ?n) "
        + f"WHERE {{ ?s skos:altLabel ?a ; ckg:{predicate} ?o }} GROUP BY ?a",
        a=ox.Literal(alias),
    )
    return int(rows[0]["n"].value)


def test_pricing_and_replication(corpus_store):
    assert count_objects(corpus_store, "Lambda", "chargedBy") >= 2
    assert count_objects(corpus_store, "S3", "chargedBy") >= 5
    rows = corpus_store.select(P + "SELECT (COUNT(*) AS ?n) WHERE { ?s ckg:replicatesTo ?o }")
    assert int(rows[0]["n"].value) >= 3


def test_every_limit_traces_to_a_passage_with_its_text(corpus_store):
    rows = corpus_store.select(
        P
        + """SELECT ?l ?stated ?text WHERE {
             ?l a ckg:Limit ; ckg:statedAs ?stated .
             OPTIONAL { GRAPH ?p { ?l a ckg:Limit } ?p ckg:text ?text } }"""
    )
    assert rows
    traced = [r for r in rows if "text" in r]
    assert len(traced) / len(rows) >= 0.95
    # the stated wording is literally in the cited passage
    for r in traced:
        first = r["stated"].value.split(";")[0].split(" | ")[0]
        assert first in r["text"].value, (first, r["text"].value)


def test_passage_offsets_point_into_the_document(corpus_store):
    from kg.settings import DEFAULT_CORPUS

    text = (DEFAULT_CORPUS / "aws-solutions-architect-notes.txt").read_text("utf-8")
    rows = corpus_store.select(
        P + "SELECT ?start ?end ?text WHERE { ?p a ckg:Passage ; ckg:startChar ?start ; "
        "ckg:endChar ?end ; ckg:text ?text }"
    )
    assert len(rows) > 100
    for r in rows:
        span = text[int(r["start"].value) : int(r["end"].value)]
        assert " ".join(span.split()) == r["text"].value


def test_shacl_shapes_validate_the_output(corpus_graph):
    assert corpus_graph.report.violations == []


def test_misspelt_routing_policies_are_features_of_route_53(corpus_store):
    rows = corpus_store.select(
        P + "SELECT ?name WHERE { ?r skos:altLabel 'Route 53' ; ckg:hasFeature ?f . "
        "?f rdfs:label ?name ; ckg:featureKind 'routing policy' }"
    )
    names = {r["name"].value for r in rows}
    assert {
        "Letancy Routing Policy",
        "Fallover Routing Policy",
        "Geolocation Routing Policy",
    } <= names
    assert len(names) == 7


def test_shared_entities_are_described_once_and_headings_stay_per_note(tmp_path):
    """Two notes naming the same service and using the same heading: the service's label lives
    in one graph only (so a query over the union returns it once), while each note's heading
    is its own topic."""
    notes = tmp_path / "notes"
    notes.mkdir()
    for name in ("alpha", "beta"):
        (notes / f"{name}.md").write_text(
            "# Exam tips\n\nThe exam lasts 130 minutes.\n\n"
            "# Storage\n\nAmazon S3 stores objects. S3 supports versioning.\n",
            encoding="utf-8",
        )
    settings = Settings(data=tmp_path / "data", embedder="fake")
    build(settings, [notes], search=False)
    store = open_graph_store(settings)
    try:
        s3 = service_iri(store, "Amazon S3")
        rows = store.select(f"SELECT ?g WHERE {{ GRAPH ?g {{ <{s3}> <{vocab.RDFS}label> ?l }} }}")
        assert len(rows) == 1
        topics = store.select(
            f"SELECT DISTINCT ?t WHERE {{ ?t a <{vocab.CKG}Topic> ; <{vocab.RDFS}label> ?l . "
            'FILTER(LCASE(STR(?l)) = "exam tips") }'
        )
        assert len(topics) == 2
    finally:
        store.close()
