"""Question analysis, templates and routing on small graphs (fake embedder, no model)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest

from kg.answer.analysis import INTENT_RULES, IntentRule, analyse
from kg.answer.catalog import Catalog, Entry
from kg.answer.engine import AnswerEngine
from kg.build import build
from kg.serve.runtime import Runtime
from kg.settings import Settings
from kg.text.units import Dimension

from .conftest import CORPUS, FIXTURES


@contextmanager
def engine_over(tmp_path: Path, name: str, text: str) -> Iterator[AnswerEngine]:
    """The answer engine over one small note, built with the fake embedder."""
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / name).write_text(text, encoding="utf-8")
    settings = Settings(data=tmp_path / "data", embedder="fake")
    build(settings, [notes])
    rt = Runtime(settings)
    try:
        yield rt.engine()
    finally:
        rt.close()


def catalog() -> Catalog:
    entries = [
        Entry("s:sqs", "service", "Amazon SQS", {"SQS", "Simple Queue Service"}),
        Entry("s:rds", "service", "Amazon RDS", {"RDS"}),
        Entry("s:r53", "service", "Amazon Route 53", {"Route 53", "Route53"}),
        Entry("f:rr", "feature", "Read Replica", {"Read Replicas"}, {"s:rds"}),
        Entry("f:ge", "feature", "Gateway endpoint", set(), {"s:vpc"}),
        Entry("s:vpc", "service", "Amazon VPC", {"VPC"}),
        Entry("f:origin", "feature", "Origin", set(), {"s:cf"}),
        Entry("s:cf", "service", "Amazon CloudFront", {"CloudFront"}),
        Entry("f:throughput", "feature", "Throughput", set(), {"s:vpc"}),
        Entry("t:exam", "topic", "exam composition", {"exam"}),
    ]
    words = (
        "message messages queue keep kept days retention default maximum engines replica".split()
    )
    return Catalog(entries, vocabulary=words, common_words={"origin", "message", "default"})


@pytest.mark.parametrize(
    ("question", "unknown"),
    [
        ("What IP range does a Google Filestore Basic instance need?", []),  # not Firestore
        ("How much notice does an Azure Spot VM get?", []),  # the notes say "Spot VMs"
        ("How many backends can a Standard SKU balancer have?", []),  # the notes say "SKUs"
        ("When was the old agent (MMA/OMS) retired?", []),  # "MMA / OMS agent"
        (
            "How long does Amazon Kinesis Video Streams keep video?",
            ["Amazon Kinesis Video Streams"],
        ),
        # "Artifact" alone names AWS Artifact; in a question about Google Cloud it is a word
        ("How much does Artifact Analysis cost per image on Google Cloud?", []),
        ("How long does AWS Artifact keep reports?", ["AWS Artifact"]),
    ],
)
def test_names_the_notes_use_in_their_own_words_are_not_unknown(question, unknown):
    from kg.lexicon import Lexicon

    entries = [
        Entry("https://w3id.org/cloudkg/id/service/filestore", "service", "Filestore"),
        Entry("https://w3id.org/cloudkg/id/service/azure-virtual-machines", "service", "Azure VMs"),
        Entry("https://w3id.org/cloudkg/id/service/amazon-kinesis", "service", "Amazon Kinesis"),
    ]
    words = "filestore basic ip range spot vms notice standard skus backends mma oms agent old"
    words += " retired kinesis video streams keep artifact analysis cost image reports"
    cat = Catalog(entries, vocabulary=words.split(), lexicon=Lexicon.load())
    assert analyse(question, cat).unknown == unknown


@pytest.mark.parametrize(
    ("question", "intent", "bound", "dimension"),
    [
        ("How long does SQS keep a message by default?", "limit", "default", Dimension.SECONDS),
        (
            "What is the maximum retention period for SQS messages?",
            "limit",
            "max",
            Dimension.SECONDS,
        ),
        ("How large can an SQS message be?", "limit", "max", Dimension.BYTES),
        ("How many messages can SQS hold?", "limit", "max", Dimension.COUNT),
        ("How much does SQS charge per million requests?", "limit", None, Dimension.USD),
        ("What is SQS charged by?", "pricing", None, None),
        ("Which engines does RDS support?", "list", None, None),
        ("What kinds of queues does SQS have?", "list", None, None),
        ("What SKUs does Amazon VPC have?", "list", None, None),  # an acronym's plural
        ("What IOPS does RDS give?", "general", None, None),  # ... not an acronym ending in S
        ("Which service should I put in front of RDS for caching?", "relation", None, None),
        ("Why would I use SQS?", "general", None, None),
        ("What is the hourly charge for each SQS queue?", "limit", None, Dimension.USD),
        ("What's the hourly compute rate for RDS?", "limit", None, Dimension.USD),
        ("What does AWS charge me for when I use SQS?", "pricing", None, None),
        ("What are the billing components for SQS?", "pricing", None, None),
        ("What's the maxium message size in SQS?", "limit", "max", Dimension.BYTES),
        ("What's the minimum billed duration for an SQS request?", "limit", "min", None),
        ("What is the SQS rate per queue-hour in us-east-1?", "limit", None, Dimension.USD),
    ],
)
def test_intent_bound_and_dimension(question, intent, bound, dimension):
    a = analyse(question, catalog())
    assert a.intent == intent
    assert a.bound == bound
    if dimension is not None:
        assert a.dimension == dimension


def test_comparisons_against_a_number_and_superlatives():
    a = analyse("Which RDS engines allow more than 10,000 IOPS?", catalog())
    assert (a.intent, a.compare_op, a.compare_value) == ("compare", ">", Decimal(10000))
    a = analyse("Which RDS storage types can be smaller than 100 GB?", catalog())
    assert (a.compare_op, a.compare_value, a.compare_dimension) == (
        "<",
        Decimal(10**11),
        Dimension.BYTES,
    )
    a = analyse("Which RDS engine has the lowest maximum IOPS?", catalog())
    assert (a.intent, a.superlative) == ("compare", "min")


def test_linking_spacing_plurals_misspellings_and_scattered_words():
    found = {
        e.iri for e in analyse("Do Route53 read replicas in RDS replicate?", catalog()).entities
    }
    assert {"s:r53", "f:rr", "s:rds"} <= found
    assert "s:vpc" in {e.iri for e in analyse("How many VPCs can SQS use?", catalog()).entities}
    # the words of a multi-word feature name, not adjacent
    assert "f:ge" in {
        e.iri
        for e in analyse("Which services do gateway VPC endpoints support?", catalog()).entities
    }


def test_a_common_word_names_a_feature_only_next_to_its_service():
    assert "f:origin" not in {
        e.iri for e in analyse("What is the origin of the word queue?", catalog()).entities
    }
    linked = {
        e.iri
        for e in analyse(
            "What can serve as the origin of a CloudFront distribution?", catalog()
        ).entities
    }
    assert "f:origin" in linked


def test_a_lower_case_word_names_no_feature_of_a_service_the_question_does_not_name():
    def linked(question: str) -> set[str]:
        return {e.iri for e in analyse(question, catalog()).entities}

    assert "f:throughput" not in linked("Which throughput modes does Amazon SQS have?")
    assert "f:throughput" in linked("What throughput does an Amazon VPC endpoint have?")
    assert "f:throughput" in linked("Which services have a throughput limit?")
    # ... and the word is one the notes use, not a name they never mention
    assert not analyse("Which throughput modes does Amazon SQS have?", catalog()).unknown


def test_a_feature_of_a_topic_named_by_a_common_word_is_no_owner_of_itself():
    entries = [
        Entry("t:sa", "topic", "service accounts"),
        Entry("f:kinds", "feature", "kinds", set(), {"t:sa"}),
        Entry("s:cdn", "service", "Cloud CDN"),
    ]
    cat = Catalog(entries, vocabulary=["kinds", "origins"], common_words={"kinds"})
    found = analyse("What kinds of origins can Cloud CDN cache from?", cat).entities
    assert [e.iri for e in found] == ["s:cdn"]


def test_a_lower_case_common_word_names_no_service_beside_a_service_the_question_names():
    entries = [
        Entry("s:batch", "service", "Google Cloud Batch", {"Batch"}),
        Entry("s:bq", "service", "BigQuery", {"BQ"}),
    ]
    cat = Catalog(entries, vocabulary=["batch", "jobs"], common_words={"batch"})

    def linked(question: str) -> set[str]:
        return {e.iri for e in analyse(question, cat).entities}

    assert linked("Which file formats can BigQuery batch load jobs ingest?") == {"s:bq"}
    assert linked("How many vCPUs can a Batch job use beside BigQuery?") == {"s:batch", "s:bq"}
    assert linked("How are batch jobs priced?") == {"s:batch"}


def test_names_the_notes_never_mention_are_unknown():
    assert analyse("What is the maximum memory of an Azure Function?", catalog()).unknown == [
        "Azure",
        "Function",
    ]
    assert analyse("What is the capital of France?", catalog()).unknown == ["France"]
    # lower-case words may be paraphrases or typos: not unknown names
    assert analyse("What is the granularity of SQS retention?", catalog()).unknown == []


@pytest.mark.parametrize(
    ("question", "counted"),
    [
        ("What is the largest number of nodes in one RDS read replica?", "node"),
        ("How many read replicas can RDS have per region?", "replica"),
        ("How many days does SQS keep messages?", None),  # a duration
        ("What's the max number of SQS queues one account can have?", "queue"),
        ("How many messages fit in one SQS queue?", "message"),
    ],
)
def test_what_a_count_question_counts(question, counted):
    a = analyse(question, catalog())
    assert a.dimension is (Dimension.COUNT if counted else Dimension.SECONDS)
    assert a.counted == counted


def test_the_count_of_the_asked_thing_wins(tmp_path):
    with engine_over(
        tmp_path,
        "clusters.txt",
        "Amazon EKS\n\n"
        "EKS is a managed Kubernetes service. A cluster can have up to 30 managed node groups, "
        "and each managed node group can contain a maximum of 450 nodes. Snapshots are taken "
        "every hour and kept for 7 days.\n",
    ) as engine:
        nodes = engine.ask("What is the largest number of nodes in one EKS managed node group?")
        assert "450" in nodes.answer
        groups = engine.ask("How many managed node groups can an EKS cluster have?")
        assert "30" in groups.answer
        often = engine.ask("How often are EKS snapshots taken?")
        assert "1 hour" in often.answer
        # Nothing in the notes counts add-ons: no count of something else stands in.
        addons = engine.ask("How many add-ons can an EKS cluster have?")
        assert addons.route == "none" and "30" not in addons.answer


def test_a_feature_named_only_by_words_of_a_named_service_is_dropped():
    entries = [
        Entry("s:backup", "service", "AWS Backup", set()),
        Entry("f:backup", "feature", "Backup", set(), {"s:redshift"}),
        Entry("s:redshift", "service", "Amazon Redshift", {"Redshift"}),
    ]
    cat = Catalog(entries, vocabulary=["backups", "kept"], common_words={"backup"})
    a = analyse("How long are backups kept by default in AWS Backup?", cat)
    assert [e.iri for e in a.entities] == ["s:backup"]
    a = analyse("How long are Redshift backups kept?", cat)
    assert "f:backup" in [e.iri for e in a.entities]


def test_a_case_sensitive_name_links_only_as_written():
    from kg.lexicon import Lexicon

    entries = [Entry("https://w3id.org/cloudkg/id/service/aws-config", "service", "AWS Config")]
    cat = Catalog(entries, lexicon=Lexicon.load())
    assert [e.label for e in analyse("How long is Config history kept?", cat).entities] == [
        "AWS Config"
    ]
    assert analyse("How long is the config history kept?", cat).entities == []


def test_a_name_does_not_ask_for_an_amount():
    entries = [Entry("f:so", "feature", "Snowball Edge Storage Optimized")]
    a = analyse("How much does a Snowball Edge Storage Optimized device weigh?", Catalog(entries))
    assert a.dimension is None


def test_a_common_noun_asks_for_its_amount_though_a_note_named_a_feature_after_it():
    entries = [
        Entry("s:msk", "service", "Amazon MSK", {"MSK"}),
        Entry("f:st", "feature", "Storage"),
    ]
    a = analyse("How much storage can each broker of an Amazon MSK cluster have?", Catalog(entries))
    assert a.dimension is Dimension.BYTES


@pytest.mark.parametrize(
    "question",
    ["What pricing tiers does Amazon SQS have?", "What service tiers does Amazon RDS offer?"],
)
def test_two_words_before_a_plural_name_the_kind_a_list_question_asks_for(question):
    a = analyse(question, catalog())
    assert (a.intent, a.relation) == ("list", None)


def test_protecting_is_supporting():
    a = analyse("Which resources can WAF protect?", catalog())
    assert (a.intent, a.relation) == ("list", "supports")


# --- the engine over a real (small) build, fake embedder -----------------------------------


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    notes = tmp_path_factory.mktemp("notes")
    shutil.copy(CORPUS / "aws-solutions-architect-notes.txt", notes)
    shutil.copy(FIXTURES / "nebula-queue.md", notes)
    settings = Settings(data=tmp_path_factory.mktemp("data"), embedder="fake")
    build(settings, [notes])
    rt = Runtime(settings)
    yield rt
    rt.close()


def test_a_limit_question_is_answered_from_the_graph_with_its_source(runtime):
    answer = runtime.engine().ask("What is the maximum retention period for SQS messages?")
    assert answer.route in ("graph", "hybrid")
    assert "14 days" in answer.answer
    fact = next(f for f in answer.facts if "maximum" in f.predicate.label)
    assert fact.object.value == 14 * 86400 and fact.object.unit.endswith("SEC")
    assert (
        "14 days" in fact.source.text
        and fact.source.document == "aws-solutions-architect-notes.txt"
    )
    assert answer.sparql and "VALUES ?entity" in answer.sparql


def test_a_list_question_joins_the_items_in_the_notes_order(runtime):
    answer = runtime.engine().ask("Which database engines does RDS support?")
    assert answer.route in ("graph", "hybrid")
    assert answer.answer.index("SQL Server") < answer.answer.index("MariaDB")
    assert {f.object.label for f in answer.facts} >= {"MySQL", "PostgreSQL", "Oracle"}
    assert all(f.source and f.source.text for f in answer.facts)


@pytest.mark.parametrize(
    "question",
    [
        "What is the maximum retention period for SQS messages?",  # the service's own limit
        "What is the maximum size of an EBS Provisioned IOPS volume?",  # a feature's own
        "What is the maximum IOPS of EBS?",  # the limit of one of the service's features
        "Which database engines does RDS support?",
        "What is Amazon S3 charged by?",
    ],
)
def test_the_reported_query_alone_returns_the_facts(runtime, question):
    """`sparql` is the one query that found the answer: run as it is, it returns every fact's
    source passage."""
    engine = runtime.engine()
    answer = engine.ask(question)
    assert answer.route in ("graph", "hybrid") and answer.facts and answer.sparql
    rows = engine.store.select(answer.sparql)
    found = {(r["doc"].value, int(r["start"].value)) for r in rows}
    for fact in answer.facts:
        assert (fact.source.document, fact.source.start) in found


def test_comparison_on_normalised_values(runtime):
    answer = runtime.engine().ask("Which EBS volume types allow more than 10,000 IOPS?")
    assert "General Purpose" in answer.answer and "Provisioned IOPS" in answer.answer
    assert "Cold HDD" not in answer.answer and "Magnetic" not in answer.answer
    lowest = runtime.engine().ask("Which EBS volume type has the lowest maximum IOPS?")
    assert "Magnetic" in lowest.answer


def test_a_service_only_the_new_note_describes_is_answered_from_it(runtime):
    engine = runtime.engine()
    answer = engine.ask("How large can a Nebula Queue message be?")
    assert answer.route in ("graph", "hybrid") and "1 MB" in answer.answer
    assert all(f.source.document == "nebula-queue.md" for f in answer.facts)
    pricing = engine.ask("What is Amazon Nebula Queue charged by?")
    assert pricing.route in ("graph", "hybrid") and "published messages" in pricing.answer
    retention = engine.ask("How long does Nebula Queue keep messages by default?")
    assert "2 days" in retention.answer


def test_out_of_scope_questions_abstain(runtime):
    engine = runtime.engine()
    for question in (
        "What is the maximum memory of an AWS Fargate task?",  # known service, not in the notes
        "How do I configure lifecycle rules in Azure Blob Storage?",
        "What is the capital of France?",
    ):
        answer = engine.ask(question)
        assert answer.route == "none" and answer.answer == "" and answer.facts == ()
        assert "never mention" in str(answer.analysis["reason"])


def test_passages_are_always_returned_with_their_scores(runtime):
    answer = runtime.engine().ask("How do I block an IP address?", k=4)
    assert 0 < len(answer.passages) <= 4
    for hit in answer.passages:
        assert {"dense", "bm25", "entity", "fused"} <= set(hit.scores)


def test_which_thing_supports_a_named_thing(tmp_path):
    with engine_over(
        tmp_path,
        "files.md",
        "# Amazon Nebula Files\n\n"
        "Amazon Nebula Files provides managed file systems.\n\n"
        "## Amazon Nebula Files for Windows\n\n"
        "- Supports the SMB protocol.\n\n"
        "## Amazon Nebula Files for ONTAP\n\n"
        "- Supports the NFS, SMB and iSCSI protocols.\n\n"
        "## Amazon Nebula Files for Linux\n\n"
        "- Supports the NFS protocol.\n",
    ) as engine:
        answer = engine.ask("Which Nebula Files flavour supports SMB?")
        assert answer.route == "graph"
        assert "Windows" in answer.answer and "ONTAP" in answer.answer
        assert "Linux" not in answer.answer
        assert all("SMB" in f.source.text for f in answer.facts)


def test_the_rest_of_a_bulleted_list_joins_its_kinded_items(tmp_path):
    with engine_over(
        tmp_path,
        "sync.txt",
        "AWS DataSync\n\n"
        "AWS DataSync is a managed data transfer service.\n\n"
        "Supported locations\n"
        "• NFS shares\n• SMB shares\n• Amazon S3 buckets\n• Amazon EFS file systems\n",
    ) as engine:
        answer = engine.ask("Which locations does DataSync support?")
        for item in ("NFS", "SMB", "S3", "EFS"):
            assert item in answer.answer


@pytest.mark.parametrize("rule", INTENT_RULES, ids=lambda r: r.name)
def test_each_intent_rule_decides_its_example(rule: IntentRule) -> None:
    a = analyse(rule.example, catalog())
    assert (a.rule, a.intent) == (rule.name, rule.intent)


@pytest.fixture(scope="module")
def two_clouds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    notes = tmp_path_factory.mktemp("clouds")
    (notes / "aws-queues.md").write_text(
        "# Amazon SQS\n\nThe maximum message size is 256 KB.\n", encoding="utf-8"
    )
    (notes / "gcp-pubsub.md").write_text(
        "# Pub/Sub\n\nGoogle Cloud Pub/Sub messages can be up to 10 MB.\n", encoding="utf-8"
    )
    settings = Settings(data=tmp_path_factory.mktemp("data"), embedder="fake")
    build(settings, [notes])
    rt = Runtime(settings)
    yield rt
    rt.close()


def test_an_equivalent_in_another_cloud_comes_from_the_catalog(two_clouds):
    answer = two_clouds.engine().ask("What is the Google Cloud equivalent of SQS?")
    assert answer.route == "graph"
    assert "Pub/Sub" in answer.answer and "the notes cover Pub/Sub" in answer.answer
    assert all(f.predicate.iri.endswith("closeMatch") for f in answer.facts)


def test_a_weak_equivalence_word_asks_across_clouds_only_with_another_cloud_named(two_clouds):
    engine = two_clouds.engine()
    across = engine.ask("Which Google Cloud service matches SQS?")
    assert across.analysis.get("via") == {"kind": "equivalents"} and "Pub/Sub" in across.answer
    within = engine.ask("Which message size corresponds to the limit of Amazon SQS?")
    assert within.analysis.get("via") != {"kind": "equivalents"}
    assert "256 KB" in within.answer


def test_a_provider_name_is_not_a_name_the_notes_lack(two_clouds):
    answer = two_clouds.engine().ask("What is the maximum message size of GCP Pub/Sub?")
    assert "GCP" not in answer.analysis["unknown"]  # type: ignore[operator]


def test_a_comparison_answers_each_service_from_its_own_notes(two_clouds):
    answer = two_clouds.engine().ask("Compare the maximum message size of SQS and Pub/Sub")
    assert answer.route != "none"
    assert "256 KB" in answer.answer and "10 MB" in answer.answer


def test_an_enumerated_item_reads_as_its_list_item_writes_it():
    from types import SimpleNamespace

    from kg.answer.candidates import GraphCandidates
    from kg.answer.weights import Thresholds, Weights

    entries = [
        Entry("s:vpn", "service", "Azure VPN Gateway", {"Virtual Network Gateway"}),
        Entry("s:r53", "service", "Amazon Route 53", {"Route 53"}),
        Entry("f:inet", "feature", "Internet"),
    ]
    graph = GraphCandidates(None, Catalog(entries), None, Weights(), Thresholds())  # type: ignore[arg-type]

    def row(item: str, text: str) -> dict[str, object]:
        return {"item": SimpleNamespace(value=item), "text": SimpleNamespace(value=text)}

    assert graph._item_as_written(row("s:vpn", "Virtual network gateway")) == (
        "Virtual network gateway"
    )
    assert graph._item_as_written(row("s:r53", "Route 53 hosted zones — DNS")) == (
        "Route 53 hosted zones"
    )
    assert graph._item_as_written(row("f:inet", "Internet")) == "Internet"
    # an inline list cites its whole sentence: the name as that sentence writes it
    assert graph._item_as_written(row("s:vpn", "Hops: Internet, virtual network gateway.")) == (
        "virtual network gateway"
    )


def test_a_data_rate_in_bits_fits_a_throughput_asked_in_bytes():
    from kg.answer.reader import fits
    from kg.text.quantities import find_quantities

    a = analyse("What is the maximum throughput of one SQS tunnel?", catalog())
    [rate] = find_quantities("1.25 gigabits per second")
    [pieces] = find_quantities("3 pieces")
    assert a.dimension is Dimension.BYTES_PER_SECOND
    assert fits(rate, a, "Each tunnel tops out at 1.25 gigabits per second.") == 0.9
    assert fits(pieces, a, "3 pieces") == 0.0


def test_a_count_of_an_acronyms_plural_counts_the_acronym():
    from kg.answer.rows import LimitRow
    from kg.answer.score import counts
    from kg.model import Source

    def row(quantity: str, stated: str) -> LimitRow:
        source = Source("d", None, 0, 1, "x")
        return LimitRow(
            "e", "e", "E", "l", quantity, {}, Dimension.COUNT, "", None, None, stated, source
        )

    counted = analyse("How many vCPUs does an ra3.4xlarge node have?", catalog()).counted
    assert counted is not None and counts(counted, row("vCPU", "12"))
    assert not counts(counted, row("nodes per cluster", "2–32"))
    assert counts("gpu", row("GPUs per VM", "8 GPUs"))
    # a phrase counted by its initials: "local secondary indexes" by "5 LSIs"
    from kg.answer.analysis import counted_initials

    initials = counted_initials("How many local secondary indexes can a DynamoDB table have?")
    assert initials == "lsi" and counts("index", row("LSIs per table", "5 LSIs"), initials)
    assert not counts("index", row("LSIs per table", "5 LSIs"))


def test_a_lead_is_matched_by_the_parts_a_question_names_not_its_services():
    words = analyse("Which gateway endpoint types does Amazon RDS support?", catalog()).asked
    assert {"gateway", "endpoint", "type"} <= words
    assert not {"amazon", "rds"} & words
    # and a limit's name: "read replicas" is asked, whatever it links to
    words = analyse("How many read replicas can an Amazon RDS database have?", catalog()).asked
    assert {"read", "replica"} <= words and not {"amazon", "rds"} & words


def test_a_table_rows_item_is_shown_as_its_first_cell_writes_it(tmp_path):
    with engine_over(
        tmp_path,
        "gke.md",
        "# Google Kubernetes Engine\n\nKubernetes Service types:\n\n"
        "| Service type | What it gives you |\n|---|---|\n"
        "| ClusterIP | internal virtual IP, only reachable inside the cluster |\n"
        "| NodePort | opens a static port on every node |\n"
        "| LoadBalancer | provisions a Google Cloud passthrough Network Load Balancer |\n",
    ) as engine:
        answer = engine.ask("What Kubernetes Service types can I use on Google Kubernetes Engine?")
        assert "LoadBalancer" in answer.answer and "|" not in answer.answer


def test_which_rows_of_a_table_have_a_yes_in_the_asked_column(tmp_path):
    with engine_over(
        tmp_path,
        "plans.md",
        "# Azure App Service\n\n## Plan tiers\n\n"
        "| Tier | SKUs | Max instances | Autoscale |\n|---|---|---|---|\n"
        "| Free | F1 | 1 | No |\n| Basic | B1, B2 | 3 | Manual only |\n"
        "| Standard | S1, S2 | 10 | Yes |\n| Premium v3 | P1v3 | 30 | Yes |\n",
    ) as engine:
        answer = engine.ask("Which Azure App Service plan tiers support autoscale?")
        assert "Standard" in answer.answer and "Premium v3" in answer.answer
        assert "Free" not in answer.answer and "Basic" not in answer.answer


def test_the_words_next_to_an_amount_qualify_it(tmp_path):
    with engine_over(
        tmp_path,
        "sql.md",
        "# Google Cloud SQL\n\n## Pricing extras\n\n"
        "- Committed use discounts: 25% for a 1 year commitment, 52% for a 3 year commitment\n",
    ) as engine:
        answer = engine.ask("What discount does a 3 year commitment give on Google Cloud SQL?")
        assert "52%" in answer.answer


def test_a_question_names_a_plural_name_in_the_singular():
    entries = [
        Entry("s:vm", "service", "Azure Virtual Machines", {"Azure Virtual Machine"}),
        Entry("s:vmss", "service", "Azure Virtual Machine Scale Sets", {"VMSS"}),
        Entry("s:kds", "service", "Amazon Kinesis Data Streams", set()),
    ]
    cat = Catalog(entries, vocabulary=["instances", "scale", "set", "data", "stream"])
    linked = analyse("How many instances can an Azure Virtual Machine Scale Set have?", cat)
    assert [e.iri for e in linked.entities] == ["s:vmss"]
    linked = analyse("What can consume data from an Amazon Kinesis data stream?", cat)
    assert [e.iri for e in linked.entities] == ["s:kds"]


def test_a_verb_in_the_third_person_is_no_plural_noun_of_a_list_question():
    assert analyse("What prefix identifies an SQS queue's URL?", catalog()).intent != "list"
    assert (
        analyse("Which severity range corresponds to a high finding?", catalog()).intent != "list"
    )
    assert analyse("What are the main hosting plans for SQS?", catalog()).intent == "list"


def test_an_aside_in_parentheses_does_not_hide_a_list_question():
    assert analyse("Which basic (primitive) roles does SQS have?", catalog()).intent == "list"


def test_a_list_of_the_named_service_beats_one_of_a_service_the_question_does_not_name(
    monkeypatch,
):
    from kg.answer.candidates import Candidate, GraphCandidates
    from kg.answer.weights import Thresholds, Weights
    from kg.model import Fact, Term

    cat = Catalog(
        [
            Entry("s:eh", "service", "Azure Event Hubs", set()),
            Entry("s:afd", "service", "Azure Front Door", set()),
            Entry("f:premium", "feature", "Premium", {"Premium tier"}, {"s:eh"}),
        ]
    )

    def listed(subject: str, item: str, confidence: float) -> Candidate:
        fact = Fact(Term(subject, subject), Term("has"), Term(item, item), None)
        return Candidate.of_kind("list", item, [fact], confidence)

    graph = GraphCandidates(None, cat, None, Weights(), Thresholds())  # type: ignore[arg-type]
    # Event Hubs' "Premium tier" group scores a hair above Front Door's own list.
    monkeypatch.setattr(graph, "lists", lambda a, e: listed("f:premium", "Kafka", 1.0))
    monkeypatch.setattr(graph, "enumerated", lambda a, e, v: listed("s:afd", "Bot", 0.9999))
    a = analyse("Which features do you get with the Premium tier of Azure Front Door?", cat)
    assert graph.for_question(a, None).answer == "Bot"  # type: ignore[arg-type, union-attr]


def test_a_word_for_the_least_asks_for_a_minimum_whatever_else_the_question_says():
    assert analyse("What's the lowest request limit you can set on SQS?", catalog()).bound == "min"


def test_the_largest_asked_is_no_least_stated(tmp_path):
    with engine_over(
        tmp_path,
        "disks.md",
        "# Google Cloud Persistent Disk\n\n"
        "- pd-extreme disk size: at least 500 GB\n"
        "- pd-balanced disk size: 64 TB\n",
    ) as engine:
        answer = engine.ask("What is the largest disk size of a Google Cloud Persistent Disk?")
        assert "64 TB" in answer.answer
