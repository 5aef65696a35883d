"""The ontology folder: the vocabulary, the SHACL shapes and the service lexicon agree."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyshacl import validate
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SH, SKOS, XSD

from kg.vocab import CKG as CKG_NS
from kg.vocab import CUR, ID, UNIT, category_iri, service_iri, slug

ONTOLOGY = Path(__file__).resolve().parent.parent / "ontology"
CKG = Namespace(CKG_NS)
NAME_PROPERTIES = (RDFS.label, SKOS.altLabel, SKOS.hiddenLabel, CKG.caseSensitiveLabel)

CLASSES = [
    "Service",
    "Feature",
    "Limit",
    "PricingDimension",
    "Category",
    "Passage",
    "Document",
    "Topic",
    "Location",
    "Provider",
]
OBJECT_PROPERTIES = [
    "hasFeature",
    "supports",
    "replicatesTo",
    "chargedBy",
    "hasLimit",
    "inCategory",
    "worksWith",
    "document",
    "unit",
    "partOf",
    "provider",
]
DATATYPE_PROPERTIES = [
    "quantity",
    "minValue",
    "maxValue",
    "defaultValue",
    "value",
    "statedAs",
    "per",
    "featureKind",
    "usedFor",
    "definition",
    "section",
    "startChar",
    "endChar",
    "text",
    "contentHash",
    "path",
    "builtAt",
]
DECLARATION_TYPES = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)

# Ordinary words or generic phrases in lower case: names only with exactly these capitals.
ORDINARY_WORDS = [
    "Batch",
    "Backup",
    "Config",
    "Connect",
    "Shield",
    "Glue",
    "Inspector",
    "Forecast",
    "Translate",
    "Personalize",
    "Detective",
    "Artifact",
    "Organizations",
    "Budgets",
    "Amplify",
    "Bedrock",
    "Comprehend",
    "Transcribe",
    "Outposts",
    "Outpost",
    "Snowball",
    "Pinpoint",
    "Chime",
    "WorkSpaces",
    "Firehose",
    "Proton",
    "Signer",
    "Wavelength",
    "Versioning",
    "Omics",
    "Console",
    "Auto Scaling",
    "Supply Chain",
    "Resource Groups",
    "File Cache",
    "Web Application Firewall",
    "Single Sign-On",
    "Command Line",
    "Direct Connection",
    "Compute Optimizer",
    "Lifecycle Management",
]
# Generic phrases and words that are never a name of a service or component at all.
NOT_NAMES = ("CDN", "Content Delivery Network", "Load Balancer", "RAM", "PCs", "Health", "Billing")

# Services the brief names, whether or not the bundled notes mention them.
REQUIRED_SERVICES = (
    "Amazon S3",
    "AWS Lambda",
    "Amazon EC2",
    "Elastic Load Balancing",
    "Amazon Route 53",
    "AWS Fargate",
    "Amazon EKS",
    "Amazon ECS",
    "Amazon Athena",
    "AWS Glue",
    "AWS Step Functions",
    "Amazon EventBridge",
    "AWS Secrets Manager",
    "AWS KMS",
    "AWS WAF",
    "AWS Shield",
    "Amazon GuardDuty",
    "Amazon Macie",
    "AWS Config",
    "AWS Systems Manager",
    "AWS Organizations",
    "AWS Snowball",
    "AWS DataSync",
    "AWS Transfer Family",
    "AWS AppSync",
    "AWS Amplify",
    "Amazon SageMaker",
    "Amazon Bedrock",
    "Amazon OpenSearch Service",
    "Amazon Neptune",
    "Amazon DocumentDB",
    "Amazon Keyspaces",
    "Amazon Timestream",
    "Amazon QLDB",
    "Amazon MemoryDB",
    "Amazon Aurora",
    "Amazon Lightsail",
    "AWS Batch",
    "AWS Outposts",
    "AWS Global Accelerator",
    "AWS Transit Gateway",
    "AWS PrivateLink",
    "AWS X-Ray",
    "AWS CodeBuild",
    "AWS IAM",
    "AWS Storage Gateway",
    "Amazon SWF",
    "Amazon Elastic Transcoder",
    "Amazon Cognito",
    "AWS Direct Connect",
    "AWS CloudFormation",
    "AWS Elastic Beanstalk",
    "Amazon CloudFront",
    "Amazon EBS",
    "Amazon EFS",
    "Amazon S3 Glacier",
    "AWS CloudTrail",
    "Amazon VPC",
    "Amazon SQS",
    "Amazon SNS",
    "Amazon DynamoDB",
    "Amazon RDS",
    "Amazon Redshift",
    "Amazon ElastiCache",
    "Amazon CloudWatch",
    "Amazon API Gateway",
    "Amazon Kinesis",
)


def _load(name: str) -> Graph:
    """A file of the ontology folder, or every file of a folder in it (the service catalog)."""
    path = ONTOLOGY / name
    g = Graph()
    for file in sorted(path.glob("*.ttl")) if path.is_dir() else [path]:
        g.parse(file, format="turtle")
    return g


@pytest.fixture(scope="module")
def vocab() -> Graph:
    return _load("cloudkg.ttl")


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return _load("shapes.ttl")


@pytest.fixture(scope="module")
def lexicon() -> Graph:
    return _load("services")


def _norm(name: str) -> str:
    """Case-, space- and punctuation-insensitive, as a matcher sees "Route 53" and "route53"."""
    return re.sub(r"[^0-9a-z]+", "", name.casefold())


def _strip_vendor(name: str) -> str:
    """As the lexicon's matcher does: AWS names are also written without "Amazon"/"AWS";
    other providers' catalogs list their bare names as aliases where they are distinctive."""
    return re.sub(r"^(amazon|aws)\s+", "", name, flags=re.IGNORECASE)


def _forms(name: str) -> set[str]:
    """A name as written and without its vendor prefix, which people often drop."""
    return {_norm(name), _norm(_strip_vendor(name))} - {""}


def _names(g: Graph, node: URIRef) -> Iterator[str]:
    for prop in NAME_PROPERTIES:
        for name in g.objects(node, prop):
            yield str(name)


def _declared(vocab: Graph) -> set[URIRef]:
    return {
        s
        for kind in DECLARATION_TYPES
        for s in vocab.subjects(RDF.type, kind)
        if isinstance(s, URIRef) and s.startswith(CKG_NS)
    }


def _ckg_terms(g: Graph) -> set[URIRef]:
    return {t for triple in g for t in triple if isinstance(t, URIRef) and t.startswith(CKG_NS)}


def _services(lexicon: Graph) -> list[URIRef]:
    return sorted(s for s in lexicon.subjects(RDF.type, CKG.Service) if isinstance(s, URIRef))


def _label(g: Graph, node: URIRef) -> str:
    (label,) = g.objects(node, RDFS.label)
    return str(label)


@pytest.mark.parametrize("name", ["cloudkg.ttl", "shapes.ttl", "services"])
def test_files_parse(name: str) -> None:
    assert len(_load(name)) > 0


def test_vocabulary_is_an_ontology(vocab: Graph) -> None:
    ontology = URIRef("https://w3id.org/cloudkg/ontology")
    assert (ontology, RDF.type, OWL.Ontology) in vocab
    assert vocab.value(ontology, DCTERMS.title)
    assert vocab.value(ontology, DCTERMS.description)


def test_vocabulary_declares_the_contract_terms(vocab: Graph) -> None:
    for name in CLASSES:
        assert (CKG[name], RDF.type, OWL.Class) in vocab, name
    for name in OBJECT_PROPERTIES:
        assert (CKG[name], RDF.type, OWL.ObjectProperty) in vocab, name
    for name in DATATYPE_PROPERTIES:
        assert (CKG[name], RDF.type, OWL.DatatypeProperty) in vocab, name
    assert (CKG.caseSensitiveLabel, RDFS.subPropertyOf, SKOS.hiddenLabel) in vocab
    # prov:wasDerivedFrom is reused with a note on how, never redeclared.
    assert vocab.value(PROV.wasDerivedFrom, RDFS.comment)
    assert (PROV.wasDerivedFrom, RDF.type, None) not in vocab


def test_every_term_is_labelled_commented_and_typed(vocab: Graph) -> None:
    declared = _declared(vocab)
    assert declared
    for term in declared:
        assert vocab.value(term, RDFS.label), term
        assert vocab.value(term, RDFS.comment), term
        if (term, RDF.type, OWL.Class) in vocab:
            continue
        assert vocab.value(term, RDFS.range), term
        # builtAt describes whatever records a build, so it alone has no domain.
        assert vocab.value(term, RDFS.domain) or term == CKG.builtAt, term


def test_union_domains_and_ranges_list_declared_classes(vocab: Graph) -> None:
    classes = set(vocab.subjects(RDF.type, OWL.Class))
    for prop in (RDFS.domain, RDFS.range):
        for _, node in vocab.subject_objects(prop):
            if isinstance(node, BNode):
                members = list(Collection(vocab, vocab.value(node, OWL.unionOf)))
                assert len(members) >= 2
                assert set(members) <= classes, members


@pytest.mark.parametrize("name", ["services", "shapes.ttl", "cloudkg.ttl"])
def test_ckg_terms_used_are_declared(name: str, vocab: Graph) -> None:
    used = _ckg_terms(_load(name))
    assert used - _declared(vocab) == set()


def test_services_have_one_label_and_declared_categories(lexicon: Graph) -> None:
    categories = set(lexicon.subjects(RDF.type, CKG.Category))
    for service in _services(lexicon):
        labels = list(lexicon.objects(service, RDFS.label))
        assert len(labels) == 1, service
        assert isinstance(labels[0], Literal)
        assert labels[0].datatype in (None, XSD.string)
        assert labels[0].language is None
        found = set(lexicon.objects(service, CKG.inCategory))
        assert found, service
        assert found <= categories, service


def test_iris_are_minted_by_kg_vocab(lexicon: Graph) -> None:
    for service in _services(lexicon):
        assert str(service) == service_iri(_label(lexicon, service))
    for category in lexicon.subjects(RDF.type, CKG.Category):
        assert isinstance(category, URIRef)
        assert str(category) == category_iri(_label(lexicon, category))


def _group(lexicon: Graph, node: URIRef) -> str:
    """Names must be unique within a group: one provider's services and components, the
    categories, the providers."""
    owner = lexicon.value(node, CKG.partOf) or node
    provider = lexicon.value(owner, CKG.provider)
    if provider is not None:
        return str(provider)
    return "categories" if (node, RDF.type, CKG.Category) in lexicon else "providers"


def test_no_name_belongs_to_two_resources_of_one_provider(lexicon: Graph) -> None:
    owners: dict[tuple[str, str], set[URIRef]] = defaultdict(set)
    for prop in NAME_PROPERTIES:
        for node, name in lexicon.subject_objects(prop):
            assert isinstance(node, URIRef)
            assert str(name) == " ".join(str(name).split()), repr(name)
            for form in _forms(str(name)):
                owners[(_group(lexicon, node), form)].add(node)
    shared = {name: nodes for name, nodes in owners.items() if len(nodes) > 1}
    assert shared == {}


def test_every_service_has_a_provider_and_a_category(lexicon: Graph) -> None:
    providers = set(lexicon.subjects(RDF.type, CKG.Provider))
    for service in _services(lexicon):
        assert lexicon.value(service, CKG.provider) in providers, service
        assert lexicon.value(service, CKG.inCategory) is not None, service


def test_equivalents_join_services_of_different_providers(lexicon: Graph) -> None:
    for a, b in lexicon.subject_objects(SKOS.closeMatch):
        assert (a, RDF.type, CKG.Service) in lexicon, a
        assert (b, RDF.type, CKG.Service) in lexicon, b
        assert lexicon.value(a, CKG.provider) != lexicon.value(b, CKG.provider), (a, b)


def test_ordinary_words_only_count_with_their_capitals(lexicon: Graph) -> None:
    strict = {str(name) for name in lexicon.objects(None, CKG.caseSensitiveLabel)}
    assert set(ORDINARY_WORDS) <= strict
    ordinary = {_norm(word) for word in ORDINARY_WORDS}
    never = {_norm(word) for word in NOT_NAMES}
    things = {*lexicon.subjects(RDF.type, CKG.Service), *lexicon.subjects(RDF.type, CKG.Feature)}
    for node in things:
        own_strict = {str(name) for name in lexicon.objects(node, CKG.caseSensitiveLabel)}
        for prop in (RDFS.label, SKOS.altLabel, SKOS.hiddenLabel):
            for name in map(str, lexicon.objects(node, prop)):
                assert _norm(name) not in ordinary | never, name
                bare = _strip_vendor(name)
                assert _norm(bare) not in never, name
                # A matcher that drops the vendor prefix must be told the bare word is strict.
                if _norm(bare) in ordinary:
                    assert bare in own_strict, name


def test_components_are_part_of_declared_services(lexicon: Graph) -> None:
    services = set(_services(lexicon))
    components = list(lexicon.subjects(RDF.type, CKG.Feature))
    assert len(components) >= 40
    for component in components:
        assert isinstance(component, URIRef)
        assert len(list(lexicon.objects(component, RDFS.label))) == 1, component
        (service,) = lexicon.objects(component, CKG.partOf)
        assert service in services, component
        prefix = f"{ID}feature/{slug(_label(lexicon, service))}/"
        assert component.startswith(prefix), component
        # The last segment is the slug of one of the component's names.
        assert component.removeprefix(prefix) in {slug(n) for n in _names(lexicon, component)}


def test_lexicon_covers_services_beyond_the_notes(lexicon: Graph) -> None:
    services = set(_services(lexicon))
    by_provider: dict[str, int] = defaultdict(int)
    for service in services:
        by_provider[str(lexicon.value(service, CKG.provider)).rsplit("/", 1)[-1]] += 1
    assert by_provider["aws"] >= 240
    assert by_provider["azure"] >= 150
    missing = [name for name in REQUIRED_SERVICES if URIRef(service_iri(name)) not in services]
    assert missing == []
    categories = set(lexicon.subjects(RDF.type, CKG.Category))
    assert categories == set(lexicon.objects(None, CKG.inCategory))


@pytest.mark.parametrize(
    ("alias", "label"),
    [
        ("S3", "Amazon S3"),
        ("simple storage service", "Amazon S3"),
        ("EC2", "Amazon EC2"),
        ("Elastic Compute Cloud", "Amazon EC2"),
        ("ELB", "Elastic Load Balancing"),
        ("Route53", "Amazon Route 53"),
        ("Cloud Watch", "Amazon CloudWatch"),
        ("Identity Access Management", "AWS IAM"),
        ("Simple Work Flow Service", "Amazon SWF"),
        ("Kinesis Streams", "Amazon Kinesis Data Streams"),
        ("Kinesis Firehose", "Amazon Data Firehose"),
        ("Elasticsearch Service", "Amazon OpenSearch Service"),
        ("Key Management Service", "AWS KMS"),
        ("Glacier", "Amazon S3 Glacier"),
        ("Virtual Private Cloud", "Amazon VPC"),
    ],
)
def test_aliases_name_the_right_service(alias: str, label: str, lexicon: Graph) -> None:
    owners = {
        node
        for prop in NAME_PROPERTIES
        for node, name in lexicon.subject_objects(prop)
        if _norm(str(name)) == _norm(alias)
    }
    assert owners == {URIRef(service_iri(label))}


# --- SHACL -----------------------------------------------------------------------------------

EXAMPLE = f"""
@prefix ckg: <{CKG_NS}> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix unit: <{UNIT}> .
@prefix cur: <{CUR}> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@base <{ID}> .

<doc/notes-txt> a ckg:Document ; ckg:contentHash "ab12" ; ckg:path "corpus/notes.txt" .
<doc/notes-txt/10-60> a ckg:Passage ;
    ckg:document <doc/notes-txt> ; ckg:section "S3" ;
    ckg:startChar 10 ; ckg:endChar 60 ; ckg:text "Files can be from 0 Bytes to 5 TB." .
<service/amazon-s3> a ckg:Service ; rdfs:label "Amazon S3" ;
    ckg:inCategory <category/storage> ; ckg:hasLimit <limit/s3-object-size> .
<category/storage> a ckg:Category ; rdfs:label "Storage" .
<limit/s3-object-size> a ckg:Limit ;
    ckg:quantity "object size" ;
    ckg:minValue 0.0 ; ckg:maxValue 5000000000000.0 ;
    ckg:unit unit:BYTE ; ckg:statedAs "0 Bytes to 5 TB" ;
    prov:wasDerivedFrom <doc/notes-txt/10-60> .
<pricing/lambda-requests> a ckg:PricingDimension ; rdfs:label "requests" ;
    ckg:hasLimit <limit/lambda-request-price> .
<limit/lambda-request-price> a ckg:Limit ;
    ckg:quantity "price" ; ckg:value 0.20 ; ckg:per "1 million requests" ;
    ckg:unit cur:USD ; ckg:statedAs "$0.20 per 1 million requests" ;
    prov:wasDerivedFrom <doc/notes-txt/10-60> .
<feature/amazon-s3/versioning> a ckg:Feature ; rdfs:label "Versioning" ;
    ckg:partOf <service/amazon-s3> .
"""

BROKEN_LIMIT = EXAMPLE.replace(
    "ckg:minValue 0.0 ; ckg:maxValue 5000000000000.0 ;\n    ckg:unit unit:BYTE ;",
    'ckg:maxValue "5 TB" ;',
)

EMPTY_PASSAGE = EXAMPLE.replace("ckg:startChar 10", "ckg:startChar 60")


def _validate(data: Graph, shapes: Graph) -> tuple[bool, Graph]:
    conforms, report, _ = validate(data, shacl_graph=shapes, inference="none", meta_shacl=True)
    assert isinstance(report, Graph)
    return bool(conforms), report


def _with_vocab(turtle: str, vocab: Graph) -> Graph:
    data = Graph().parse(data=turtle, format="turtle")
    for triple in vocab:
        data.add(triple)
    return data


def _failing_paths(report: Graph) -> set[URIRef]:
    return {p for p in report.objects(None, SH.resultPath) if isinstance(p, URIRef)}


def test_shapes_target_declared_classes_with_core_constraints(shapes: Graph, vocab: Graph) -> None:
    targets = {
        shapes.value(shape, SH.targetClass) for shape in shapes.subjects(RDF.type, SH.NodeShape)
    }
    assert targets == {CKG[name] for name in CLASSES} - {CKG.Topic, CKG.Location}
    assert not set(shapes.subjects(RDF.type, SH.SPARQLConstraint))


def test_lexicon_conforms(lexicon: Graph, vocab: Graph, shapes: Graph) -> None:
    conforms, report = _validate(lexicon + vocab, shapes)
    assert conforms, report.serialize(format="turtle")


def test_example_graph_conforms(vocab: Graph, shapes: Graph) -> None:
    conforms, report = _validate(_with_vocab(EXAMPLE, vocab), shapes)
    assert conforms, report.serialize(format="turtle")


def test_limit_without_unit_and_with_a_text_value_does_not_conform(
    vocab: Graph, shapes: Graph
) -> None:
    assert BROKEN_LIMIT != EXAMPLE
    conforms, report = _validate(_with_vocab(BROKEN_LIMIT, vocab), shapes)
    assert not conforms
    assert {CKG.unit, CKG.maxValue} <= _failing_paths(report)


def test_passage_must_start_before_it_ends(vocab: Graph, shapes: Graph) -> None:
    conforms, report = _validate(_with_vocab(EMPTY_PASSAGE, vocab), shapes)
    assert not conforms
    assert _failing_paths(report) == {CKG.startChar}
