"""Extraction on tiny notes: what is read, what it is attached to, and where it came from."""

from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest

from kg.extract.context import Extraction
from kg.extract.discover import discover_services
from kg.extract.document import Extractor
from kg.extract.quantity_names import NAMING_RULES, NamingRule
from kg.lexicon import Lexicon, Matcher
from kg.model import Document, ParsedDocument
from kg.parse.notes import parse_document


@cache
def lexicon() -> Lexicon:
    return Lexicon.load()


def extract(text: str, fmt: str = "text") -> Extraction:
    return _extracted(parse_document(Document(id="t", path="t", text=text, format=fmt)))


def extract_file(path: Path, text: str) -> Extraction:
    """A file written and read by the reader for its format (CSV, XLSX ...)."""
    from kg.parse import read_file

    path.write_text(text, encoding="utf-8")
    return _extracted(read_file(path).parsed)


def _extracted(parsed: ParsedDocument) -> Extraction:
    probe = lexicon().matcher()
    ex = Extractor(lexicon(), discover_services(parsed, probe))
    return ex.extract(parsed)


def label(x: Extraction, iri: str) -> str:
    return x.entities[iri].label


def limits(x: Extraction) -> list[tuple[str, str, dict[str, Decimal]]]:
    return [(label(x, lim.subject), lim.quantity, lim.bounds()) for lim in x.limits]


def relations(x: Extraction, predicate: str) -> set[tuple[str, str]]:
    return {
        (label(x, r.subject), r.object if r.literal else label(x, r.object))
        for r in x.relations
        if r.predicate == predicate
    }


def test_matcher_spacing_plurals_and_misspellings():
    m = Matcher(common_words={"genesis"})
    m.add("Route 53", "r53")
    m.add("CloudWatch", "cw")
    m.add("Kinesis", "kin")
    m.add("VPC", "vpc")
    found = m.find("Route53 and Cloud Watch watch VPCs; Kinesys streams, not genesis.")
    assert [(f.keys[0], f.text) for f in found] == [
        ("r53", "Route53"),
        ("cw", "Cloud Watch"),
        ("vpc", "VPCs"),
        ("kin", "Kinesys"),
    ]
    assert found[-1].fuzzy


def test_a_word_that_is_a_name_of_its_own_is_no_typo_inside_another_name():
    m = Matcher()
    m.add("Google Firestore", "firestore")
    m.add("Filestore", "filestore")
    found = m.find("a Google Filestore Basic instance, a Google Firestre database")
    assert [(f.keys, f.text) for f in found] == [
        (("filestore",), "Filestore"),
        (("firestore",), "Google Firestre"),
    ]


def test_case_sensitive_names_do_not_match_at_sentence_start():
    m = Matcher()
    m.add("Backup", "aws-backup", case_sensitive=True)
    assert not m.find("Backup: one day retention.")
    assert [f.keys for f in m.find("Use AWS with Backup for it.")] == [("aws-backup",)]
    assert not m.find("we take a backup daily")


def test_a_name_left_without_its_vendor_words_is_as_case_sensitive_as_its_peer():
    # AWS Batch is "Batch" only as written; so are Google Cloud Batch and Azure Batch.
    m = lexicon().matcher({"batch"})
    assert not m.find("tiny messages -> batch them, FlexRS is for batch only")
    [found] = m.find("We run the jobs on Batch with Spot VMs.")
    assert {k.rsplit("/", 1)[-1] for k in found.keys} == {
        "aws-batch",
        "google-cloud-batch",
        "azure-batch",
    }


def test_range_and_default_in_one_sentence_are_one_limit():
    x = extract(
        "SQS: Simple Queue Service\n\n"
        "Messages can be kept in the queue from 1 min to 14 days, "
        "the default retention period is 4 days.\n"
    )
    [(subject, quantity, bounds)] = limits(x)
    assert subject == "Amazon SQS"
    assert "retention" in quantity
    assert bounds == {"min": 60, "max": 14 * 86400, "default": 4 * 86400}


def test_maximum_minimum_and_units_are_normalised():
    x = extract(
        "NAT Gateway\n\n"
        "  • Starts at 5Gbps and scales currently up to 45 Gbps.\n"
        "  • Files can be up to 5 TB.\n"
    )
    found = {q: b for _, q, b in limits(x)}
    assert found["bandwidth"] == {"min": Decimal(5 * 10**9), "max": Decimal(45 * 10**9)}
    assert found["file size"] == {"max": Decimal(5 * 10**12)}


def test_prices_counts_and_granularity():
    x = extract(
        "AWS Lambda\n\n"
        "By number of requests: first 1 million requests are free. Then $0.20 per 1 million "
        "requests thereafter. By duration, rounded up to the nearest 100ms. You are charged "
        "$0.00001667 for every GB-second used.\n"
    )
    found = {q: b for _, q, b in limits(x)}
    assert found["free requests"] == {"value": Decimal(10**6)}
    assert found["price per 1 million requests"] == {"value": Decimal("0.20")}
    assert found["price per GB-second"] == {"value": Decimal("0.00001667")}
    assert any("increment" in q and b == {"value": Decimal("0.1")} for q, b in found.items())
    charged = {o for s, o in relations(x, "chargedBy") if s == "AWS Lambda"}
    assert {"requests", "duration", "GB-second"} <= charged


def test_flattened_table_rows_become_features_with_limits():
    x = extract(
        "EBS: Elastic Block Store\n\n"
        "  • Storage Types:\n"
        "Type Description API Name Volume Size Max. IOPS / Volume\n"
        "General Purpose (SSD) Balanced price and performance gp2 1GB-16TB 16000\n"
        "Cold HDD Lowest cost HDD sc1 500GB - 16TB 250\n"
    )
    features = {e.label: e for e in x.entities.values() if e.kind == "feature"}
    assert features["General Purpose (SSD)"].feature_kind == "storage type"
    assert "gp2" in features["General Purpose (SSD)"].aliases
    found = limits(x)
    assert (
        "Cold HDD",
        "volume size",
        {"min": Decimal(500 * 10**9), "max": Decimal(16 * 10**12)},
    ) in found
    assert ("General Purpose (SSD)", "IOPS per volume", {"max": Decimal(16000)}) in found


def test_lists_make_features_and_supports():
    x = extract(
        "RDS: Relational Database Service\n\n"
        "At the moment, RDS supports the next database engines: SQL Server, MySQL, Aurora.\n\n"
        "  • Read replicas for performance: spread the load. It’s only supported for MySQL "
        "and Aurora.\n"
        "  • It does not support tape drives.\n"
    )
    assert relations(x, "supports") >= {
        ("Amazon RDS", "SQL Server"),
        ("Amazon RDS", "MySQL"),
        ("Amazon RDS", "Amazon Aurora"),
        ("Read Replica", "MySQL"),
        ("Read Replica", "Amazon Aurora"),
    }
    assert not any("tape" in o.lower() for _, o in relations(x, "supports"))
    assert ("Read Replica", "performance") in relations(x, "usedFor")
    mysql = next(e for e in x.entities.values() if e.label == "MySQL")
    assert mysql.feature_kind == "database engine"


def test_replication_targets():
    x = extract(
        "Amazon Redshift\n\n"
        "Redshift can also asynchronously replicate your snapshots to S3 in another region.\n"
    )
    assert relations(x, "replicatesTo") == {
        ("Amazon Redshift", "Amazon S3"),
        ("Amazon Redshift", "another region"),
    }


def test_subject_of_a_section_with_a_lost_heading_is_inferred():
    x = extract(
        "SQS: Simple Queue Service\n\nSQS is a queue.\n\n\n"
        "Amazon Aurora is a MySQL-compatible relational database.\n\n"
        "  • Start with 10GB, scales in 10GB increments to 64TB (storage autoscaling).\n"
    )
    found = limits(x)
    assert (
        "Amazon Aurora",
        "storage",
        {"min": Decimal(10**10), "max": Decimal(64 * 10**12)},
    ) in found


def test_unknown_service_from_markdown_heading_with_table_and_pricing():
    note = (
        "# Amazon Nebula Queue\n\n"
        "Amazon Nebula Queue is a fully managed message streaming service.\n\n"
        "## Limits\n\n| Limit | Default | Maximum |\n|---|---|---|\n"
        "| Message size | 64 KB | 1 MB |\n\n"
        "## Pricing\n\n- You are charged $0.40 per 1 million published messages.\n"
    )
    x = extract(note, "markdown")
    service = next(e for e in x.entities.values() if e.kind == "service")
    assert service.label == "Amazon Nebula Queue" and not service.known
    assert "Nebula Queue" in service.aliases
    assert (
        "Amazon Nebula Queue",
        "message size",
        {"default": Decimal(64000), "max": Decimal(10**6)},
    ) in limits(x)
    assert ("Amazon Nebula Queue", "published messages") in relations(x, "chargedBy")


@pytest.mark.parametrize(
    "heading",
    [
        "AWS Certified Solutions Architect Summary",
        "AWS Stack",
        "AWS Storage Classes",
        "AWS EC2 Instance Types",
    ],
)
def test_headings_that_merely_start_with_a_vendor_are_not_services(heading):
    parsed = parse_document(
        Document(id="t", path="t", text=f"{heading}\n\nSome text here.\n", format="text")
    )
    assert discover_services(parsed, lexicon().matcher()) == []


def test_every_fact_cites_a_span_of_the_document():
    text = "SQS: Simple Queue Service\n\nMessages can obtain up to 256 KB of text in any format.\n"
    x = extract(text)
    [limit] = x.limits
    assert "256 KB" in text[limit.evidence.start : limit.evidence.end]
    assert limit.stated_as == "256 KB"


def test_a_count_of_kind_nouns_is_a_limit_only_with_a_bound():
    x = extract(
        "Amazon EKS\n\n"
        "There are three types of node groups. A cluster can have up to 30 managed node "
        "groups, and each managed node group can contain a maximum of 450 nodes.\n"
    )
    found = {(q, tuple(b.values())) for _, q, b in limits(x)}
    assert any(v == (Decimal(30),) for _, v in found)
    assert any(v == (Decimal(450),) for _, v in found)
    assert not any(v == (Decimal(3),) for _, v in found)


def test_what_is_billed_follows_the_billing_granularity():
    x = extract(
        "AWS Fargate\n\n"
        "Fargate is billed per second for the vCPU and memory a task requests, with a "
        "one-minute minimum.\n"
    )
    assert {o for _, o in relations(x, "chargedBy")} == {"vCPU", "memory"}


def test_a_default_raised_later_is_one_limit_and_a_restated_amount_is_dropped():
    x = extract(
        "# Amazon Nebula Stream\n\n"
        "- The maximum message size is 1 MB by default and can be raised to 8 MB.\n"
        "- A cluster can have up to 30 brokers per cluster by default (you can request an "
        "increase to 90).\n"
        "- The default retention period for topics is 7 days (168 hours).\n",
        "markdown",
    )
    found = {q: b for _, q, b in limits(x)}
    assert found["message size"] == {"default": Decimal(10**6), "max": Decimal(8 * 10**6)}
    assert found["brokers per cluster"] == {"default": Decimal(30), "max": Decimal(90)}
    assert [b for q, b in found.items() if "retention" in q] == [{"default": Decimal(604800)}]


def test_what_an_amount_measures_can_follow_it():
    x = extract(
        "# Amazon Nebula Stream\n\n"
        "A serverless cluster supports up to 200 MBps of write throughput and 400 MBps of read "
        "throughput.\n",
        "markdown",
    )
    found = {q: b for _, q, b in limits(x)}
    assert found["write throughput"] == {"max": Decimal(200 * 10**6)}
    assert found["read throughput"] == {"max": Decimal(400 * 10**6)}


def test_a_price_is_named_by_what_it_is_for():
    x = extract(
        "# Amazon Nebula Stream\n\n"
        "Amazon Nebula Stream is a managed streaming service.\n\n"
        "## Pricing\n\n"
        "A shard costs $5.00 per month, and requests cost $0.60 per million. "
        "Tiered storage costs $0.06 per GB-month. Amazon Nebula Stream costs $30 per month "
        "with a support plan.\n\n"
        "- Warm storage: $0.05 per GB-month (EFS, EBS).\n\n"
        "| Item | Price | Unit |\n|---|---|---|\n| Broker storage | $0.10 | per GB-month |\n",
        "markdown",
    )
    found = {(s, q): b["value"] for s, q, b in limits(x) if "value" in b}
    subject = "Amazon Nebula Stream"
    assert found[(subject, "shard price per month")] == Decimal(5)
    assert found[(subject, "request price per million")] == Decimal("0.60")
    assert found[(subject, "tiered storage price per GB-month")] == Decimal("0.06")
    assert found[(subject, "price per month")] == Decimal(30)
    assert found[(subject, "warm storage price per GB-month")] == Decimal("0.05")
    assert found[(subject, "broker storage price")] == Decimal("0.10")
    [row] = [lim for lim in x.limits if lim.quantity == "broker storage price"]
    assert row.per == "GB-month"
    assert not any(e.label == "Price" for e in x.entities.values())


def test_items_of_a_list_announced_by_a_verb():
    x = extract(
        "# AWS Nebula Guard\n\n"
        "AWS Nebula Guard is a managed protection service.\n\n"
        "## Resources\n\n"
        "AWS Nebula Guard supports the following resources:\n\n"
        "- Amazon EBS volumes\n- Amazon RDS databases (incl. Aurora clusters)\n\n"
        "## Rules\n\n"
        "A rule can take one of the following actions:\n\n"
        "1. Allow — the request is forwarded.\n2. Block — the request is blocked.\n",
        "markdown",
    )
    assert {o for s, o in relations(x, "supports") if s == "AWS Nebula Guard"} >= {
        "Amazon EBS",
        "Amazon RDS",
    }
    actions = {e.label for e in x.entities.values() if e.feature_kind == "action"}
    assert actions == {"Allow", "Block"}


def test_items_of_an_inline_list_announced_by_a_verb():
    x = extract(
        "# AWS Nebula Guard\n\n"
        "AWS Nebula Guard can protect the following resources: Amazon CloudFront "
        "distributions, Amazon API Gateway REST APIs and AWS AppSync GraphQL APIs.\n",
        "markdown",
    )
    assert {o for s, o in relations(x, "supports") if s == "AWS Nebula Guard"} == {
        "Amazon CloudFront",
        "Amazon API Gateway",
        "AWS AppSync",
    }


def test_a_lead_that_names_a_kind_labels_its_items_and_is_not_a_feature():
    x = extract(
        "# Amazon Nebula Files\n\n"
        "- Deployment types: Single-AZ 1, Single-AZ 2 and Multi-AZ.\n"
        "- Storage types: SSD and HDD.\n"
        "- Governance mode: users with permissions can remove the lock.\n",
        "markdown",
    )
    kinds = {e.label: e.feature_kind for e in x.entities.values() if e.kind == "feature"}
    assert kinds["Single-AZ 2"] == "deployment type"
    assert kinds["HDD"] == "storage type"
    assert "Governance mode" in kinds
    assert "Deployment types" not in kinds and "Storage types" not in kinds


def test_a_note_titled_by_a_service_is_about_it_whatever_its_lists_mention():
    x = extract(
        "AWS Nebula Vault - study notes\n\n"
        "Overview\n\n"
        "AWS Nebula Vault: a managed service that protects data.\n\n"
        "Retention\n\n"
        "• Retention must be at least 1 day.\n"
        "• Only Amazon EFS and Amazon DynamoDB support cold storage.\n"
        "• Copies are kept in sync through Amazon S3 and Amazon EFS.\n"
    )
    [(subject, _, bounds)] = [lim for lim in limits(x) if "retention" in lim[1]]
    assert subject == "AWS Nebula Vault" and bounds == {"min": Decimal(86400)}


def test_what_is_billed_keeps_its_capitalised_name():
    x = extract(
        "# Amazon Nebula Search\n\n"
        "Amazon Nebula Search is billed by Nebula Compute Units (NCUs). You also pay for data "
        "transfer between Availability Zones.\n",
        "markdown",
    )
    charged = {o.lower() for _, o in relations(x, "chargedBy")}
    assert "nebula compute units" in charged
    assert any(o.startswith("data transfer between") for o in charged)


def test_every_unit_without_a_number_is_an_interval_of_one():
    x = extract(
        "# Amazon Nebula Search\n\n"
        "- Automated snapshots are taken every hour and kept for 14 days at no charge.\n",
        "markdown",
    )
    found = {q: b for _, q, b in limits(x)}
    assert found["automated snapshot interval"] == {"value": Decimal(3600)}
    assert found["automated snapshot retention period"] == {"value": Decimal(14 * 86400)}


def test_a_pasted_table_of_quantities_and_a_product_named_after_a_known_one():
    x = extract(
        "Amazon RDS Proxy\n"
        "• a fully managed database proxy\n\n"
        "Timeouts and connection settings\n"
        "Setting  Default  Minimum  Maximum\n"
        "Idle client connection timeout  30 minutes  1 minute  8 hours\n\n"
        "Quota table\n"
        "Quota                 Default   Adjustable\n"
        "Proxies per region    20        yes\n\n"
        "Pricing\n"
        "Item  Price  Unit\n"
        "I/O  $0.20  per million requests\n"
    )
    found = {(s, q): b for s, q, b in limits(x)}
    subject = "Amazon RDS Proxy"
    assert found[(subject, "idle client connection timeout")] == {
        "default": Decimal(1800),
        "min": Decimal(60),
        "max": Decimal(28800),
    }
    assert found[(subject, "proxies per region")] == {"default": Decimal(20)}
    assert found[(subject, "I/O price")] == {"value": Decimal("0.20")}


def test_asides_are_not_features_and_price_table_items_are_what_is_charged():
    x = extract(
        "Nebula Gateway - study notes\n\n"
        "Nebula Gateway basics\n"
        "• Remember: a gateway needs one subnet per AZ.\n"
        "• Tip from lecture: hub and spoke can cost more.\n\n"
        "Engines supported\n"
        "• Nebula MySQL-Compatible Edition (version 3.02.0 and higher)\n"
        "• Nebula PostgreSQL-Compatible Edition (version 13.6 and higher)\n\n"
        "Pricing\n"
        "Item  Price  Unit\n"
        "Compute  $0.12  per ACU-hour\n"
        "I/O  $0.20  per million requests\n"
    )
    features = {e.label: e.feature_kind for e in x.entities.values() if e.kind == "feature"}
    assert "Remember" not in features and "Tip from lecture" not in features
    assert features["Nebula MySQL-Compatible Edition"] == "engine"
    assert {o for _, o in relations(x, "chargedBy")} >= {"compute", "I/O"}


def test_a_nested_markdown_section_keeps_its_parents_subject():
    x = extract(
        "# Runbook: AWS Config and AWS Security Hub\n\n"
        "## 1. AWS Config\n\n"
        "AWS Config records resource configurations.\n\n"
        "### 1.1 Limits\n\n"
        "Rules are stored in Amazon S3 buckets. Amazon S3 keeps the history. An account can "
        "have up to 400 rules per region.\n",
        "markdown",
    )
    [subject] = [s for s, _, b in limits(x) if b.get("max") == Decimal(400)]
    assert subject == "AWS Config"


def test_services_a_list_heading_enumerates_are_not_its_subject():
    x = extract(
        "AWS DataSync overview\n"
        "• DataSync moves data online and costs $0.0125 per GB copied.\n\n"
        "SUPPORTED LOCATIONS\n"
        "• Amazon S3 buckets\n• Amazon EFS file systems\n• Amazon S3 on Outposts\n\n"
        "Tasks\n"
        "• A task can copy up to 50 million files.\n"
    )
    assert {s for s, q, _ in limits(x) if "file" in q} == {"AWS DataSync"}
    assert ("AWS DataSync", "GB copied") in relations(x, "chargedBy")


def test_a_count_before_a_capitalised_noun_is_not_a_status_code():
    x = extract(
        "# AWS Config\n\n"
        "Each account can have at most 400 Config rules per region. The API returns "
        "404 Not Found for a deleted rule.\n",
        "markdown",
    )
    values = [b.get("max") or b.get("value") for _, _, b in limits(x)]
    assert Decimal(400) in values and Decimal(404) not in values


def test_a_price_list_row_that_names_another_service_belongs_to_it():
    x = extract(
        "# Glue and EMR\n\n## Amazon EMR\n\nEMR runs Spark.\n\n## Pricing summary\n\n"
        "| Component | Price |\n|---|---|\n| Glue ETL job | $0.44 per DPU-hour |\n"
        "| EMR uplift | $0.048 per instance-hour |\n",
        "markdown",
    )
    assert ("AWS Glue", "Glue ETL job") in relations(x, "hasFeature")
    assert ("Amazon EMR", "EMR uplift") in relations(x, "hasFeature")


def test_a_lead_that_names_a_quantity_names_its_amounts():
    x = extract(
        "Amazon Nebula Hose\n\n"
        "Buffering\n"
        "* Buffer size: 1 MiB to 128 MiB, default 5 MiB\n"
        "* Max record size: 1,000 KiB\n"
    )
    found = {(s, q): b for s, q, b in limits(x)}
    assert found[("Amazon Nebula Hose", "buffer size")] == {
        "min": Decimal(2**20),
        "max": Decimal(128 * 2**20),
        "default": Decimal(5 * 2**20),
    }
    assert ("Amazon Nebula Hose", "record size") in found
    assert not any(e.label == "Buffer size" for e in x.entities.values())


def test_a_list_ends_where_a_clause_about_it_begins():
    from kg.text.phrases import split_list

    items = split_list("Spark, Hive, Presto and Apache HBase are the frameworks we see most.")
    assert [i for i, _, _ in items] == ["Spark", "Hive", "Presto", "Apache HBase"]


def test_a_spaced_table_of_named_rows_and_a_spaced_comparison_table():
    x = extract(
        "Amazon Nebula Sail\n\n"
        "Amazon Nebula Sail is a simple virtual server service.\n\n"
        "Nebula Sail Bundles\n"
        "Bundle  vCPUs  Memory  Price\n"
        "Nano  2  0.5 GB  $3.50 per month\n"
        "Micro  2  1 GB  $5 per month\n\n"
        "Nebula Edge Compare\n"
        "Feature  Nebula Functions  Nebula Edge\n"
        "Max memory  2 MB  128 MB\n"
    )
    found = {(s, q): b for s, q, b in limits(x)}
    assert found[("Nano", "price")] == {"value": Decimal("3.50")}
    assert found[("Micro", "memory")] == {"value": Decimal(10**9)}
    assert found[("Nebula Functions", "memory")] == {"max": Decimal(2 * 10**6)}
    assert found[("Nebula Edge", "memory")] == {"max": Decimal(128 * 10**6)}


def test_supported_things_a_sentence_includes():
    from kg.text.phrases import split_list

    x = extract(
        "# AWS Nebula Hosting\n\nAWS Nebula Hosting deploys web apps.\n\n"
        "- Supported frameworks include Next.js (SSR and SSG), React and Vue, plus other "
        "static site generators.\n",
        "markdown",
    )
    assert {o for _, o in relations(x, "supports")} == {"Next.js", "React", "Vue"}
    assert [i for i, _, _ in split_list("Next.js (SSR and SSG), React and Vue")] == [
        "Next.js (SSR and SSG)",
        "React",
        "Vue",
    ]


@pytest.mark.parametrize("rule", NAMING_RULES, ids=lambda r: r.name)
def test_each_quantity_naming_rule_names_its_example(rule: NamingRule) -> None:
    x = extract("Amazon SQS\n\n" + rule.example)
    assert [quantity for _, quantity, _ in limits(x)] == [rule.names]


def test_an_inline_list_whose_items_carry_asides_in_parentheses():
    x = extract(
        "# AWS Nebula Params\n\n"
        "Types: String, StringList, SecureString (encrypted with KMS, default key alias).\n",
        "markdown",
    )
    found = [e for e in x.enumerations if e.lead == "Types"]
    assert [label(x, item) for item, _ in found[0].items] == [
        "String",
        "StringList",
        "SecureString",
    ]


def test_bullets_that_are_clauses_are_no_list_of_names():
    x = extract(
        "# AWS Nebula Params\n\n## Hosting plans\n\n"
        "- Container hosting also exists (barely on the exam)\n"
        "- Classic hosting is being retired\n"
        "- Flex hosting = Linux only\n",
        "markdown",
    )
    assert not [e for e in x.enumerations if e.lead == "Hosting plans"]


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_a_flashcard_answer_states_the_amount_its_question_asks_for(fmt):
    x = extract(
        "Amazon SES\n\nQ: Max recipients per message?\nA: 50 (To + CC + BCC combined).\n\n"
        "Q: Max message size?\nA: 40 MB including attachments.\n",
        fmt,
    )
    assert limits(x) == [
        ("Amazon SES", "recipients per message", {"value": Decimal("50")}),
        ("Amazon SES", "message size", {"value": Decimal("40000000")}),
    ]


def test_columns_that_name_bounded_quantities_make_each_row_a_thing():
    x = extract(
        "# Azure Nebula Functions\n\n## Hosting plans\n\n"
        "| Plan | Max instances | Default timeout | Max timeout |\n|---|---|---|---|\n"
        "| Consumption | 200 | 5 min | 10 min |\n"
        "| Flex Consumption | 1,000 | 30 min | unlimited |\n",
        "markdown",
    )
    found = {(s, q): b for s, q, b in limits(x)}
    assert found[("Consumption", "timeout")] == {"default": Decimal(300), "max": Decimal(600)}
    assert found[("Flex Consumption", "timeout")] == {"default": Decimal(1800)}


def test_a_note_about_a_cloud_names_its_services_without_the_vendor():
    azure = extract(
        "# API Management\n\nAzure notes. APIM tiers.\n\n## Tiers\n\n"
        "- Premium: up to 12 units per region.\n",
        "markdown",
    )
    premium = azure.limits[0].subject
    assert label(azure, azure.entities[premium].owner or premium) == "Azure API Management"
    aws = extract(
        "# Amazon EC2 notes\n\nPut a Load Balancer in front of Amazon EC2 instances.\n", "markdown"
    )
    assert "Azure Load Balancer" not in {e.label for e in aws.entities.values()}


def test_a_markdown_section_keeps_its_parent_across_blank_lines():
    parsed = parse_document(
        Document(
            id="t",
            path="t",
            text="# Azure Nebula\n\n## Policies\n\nText.\n\n\n\nMore text.\n\n## Scopes\n\nText.\n",
            format="markdown",
        )
    )
    assert [(s.title, s.parents) for s in parsed.sections] == [
        ("Azure Nebula", ()),
        ("Policies", ("Azure Nebula",)),
        ("Scopes", ("Azure Nebula",)),
    ]


def test_a_flashcard_answer_lists_what_its_question_asks_for():
    x = extract(
        "Amazon SES\n\nQ: Sending interfaces?\nA: SMTP interface and the console.\n\n"
        "Q: Event destinations for a config set?\nA: CloudWatch, SNS, EventBridge, Pinpoint.\n"
    )
    [found] = [e for e in x.enumerations if e.lead == "Event destinations for a config set"]
    assert label(x, found.owner) == "Amazon SES"
    assert len(found.items) == 4


def test_items_nested_under_a_short_item_are_about_the_part_it_names():
    x = extract(
        "Azure Load Balancer\n  SKUs\n    Basic\n      - max 300 backend instances\n"
        "    Standard\n      - up to 1,000 backend instances\n"
    )
    found = {s: b for s, _, b in limits(x)}
    assert found == {"Basic": {"max": Decimal(300)}, "Standard": {"max": Decimal(1000)}}
    basic = next(e for e in x.entities.values() if e.label == "Basic")
    assert label(x, basic.owner) == "Azure Load Balancer"
    assert (basic.feature_kind or "").lower().startswith("sku")


def test_an_amount_denied_or_asked_about_is_not_stated():
    x = extract(
        "# Amazon DynamoDB\n\nThe max item size is 400 KB, not 4 MB.\n\n"
        "Wasn't it 100 GB per partition?\n\nNo, a partition holds 10 GB (it used to be 5 GB).\n",
        "markdown",
    )
    assert limits(x) == [
        ("Amazon DynamoDB", "item size", {"max": Decimal(400_000)}),
        ("Amazon DynamoDB", "partition size", {"value": Decimal(10_000_000_000)}),
    ]


def test_a_column_header_gives_its_unit_to_the_bare_numbers_below():
    x = extract(
        "# Cloud Nebula Table\n\n| Tier | SSD storage per node (TB) | Latency (ms) | Nodes |\n"
        "|---|---|---|---|\n| Standard | up to 5 | 6 | 30 |\n",
        "markdown",
    )
    assert [b for _, _, b in limits(x)] == [
        {"value": Decimal(5_000_000_000_000)},
        {"value": Decimal("0.006")},
        {"value": Decimal(30)},
    ]


def test_amounts_in_a_table_rows_name_name_the_row_and_are_no_limits():
    x = extract(
        "# Cloud Nebula CDN\n\n| Item | Price |\n|---|---|\n"
        "| Cache egress, 150–500 TiB | $0.03 / GiB |\n| Cache fill | $0.01 / GiB |\n",
        "markdown",
    )
    assert [(q, b) for _, q, b in limits(x)] == [
        ("cache egress, 150–500 TiB price", {"value": Decimal("0.03")}),
        ("cache fill price", {"value": Decimal("0.01")}),
    ]


def test_amounts_listed_in_rising_order_are_the_values_a_setting_allows():
    x = extract(
        "# AWS WAF\n\n- evaluation window: 1, 2, **5 (default)** or 10 minutes\n"
        "- commitment: 1 or 3 years\n",
        "markdown",
    )
    window = {"min": Decimal(60), "max": Decimal(600), "default": Decimal(300)}
    assert ("AWS WAF", "evaluation window", window) in limits(x)
    assert len([b for _, _, b in limits(x) if b.get("value") == Decimal(94_608_000)]) == 1


def test_a_generic_lead_is_qualified_by_its_items_label_and_one_word_names_are_names():
    x = extract(
        "# Dataproc\n\n- Secondary workers: compute only, no HDFS. Types: preemptible (the "
        "default), Spot, or non-preemptible.\n- Rule actions: Allow, Block, Count, CAPTCHA\n",
        "markdown",
    )
    leads = {e.lead: [label(x, i) for i, _ in e.items] for e in x.enumerations}
    assert leads["Secondary workers Types"] == ["preemptible", "Spot", "non-preemptible"]
    assert leads["Rule actions"] == ["Allow", "Block", "Count", "CAPTCHA"]


def test_prose_that_counts_its_items_then_labels_each_one_is_a_list():
    x = extract(
        "Azure Virtual Machine Scale Sets lecture\n\n"
        "[27:50] Upgrade policy, so how model changes get rolled out. Three modes. Manual: "
        "nothing happens until you upgrade. Automatic: instances update at once, careful. "
        "Rolling: updates in batches. Twenty percent per batch by default.\n"
        "[28:10] kenji: ok. maria: sure. kenji: next.\n"
    )
    leads = {e.lead: [label(x, i) for i, _ in e.items] for e in x.enumerations}
    lead = "Upgrade policy, so how model changes get rolled out. Three modes."
    assert leads[lead] == ["Manual", "Automatic", "Rolling"]
    # Speakers repeat and nothing counts them: no list.
    assert not [e for e in x.enumerations if "kenji" in e.lead.lower() or len(e.items) > 3]


def test_flashcards_belong_to_the_deck_heading_above_them():
    text = (
        "CLOUD BUILD BASICS\n\nQ: Max number of steps in one build?\nA: 300 steps.\n\n"
        "MACHINES, POOLS, PRICING\n\nQ: Concurrent builds in the default pool?\n"
        "A: 30 concurrent builds per region; more queue. Private pools peer with your VPC.\n\n"
        "Q: Trigger event types?\nA: - push to a branch\n- pull request\n- Pub/Sub message\n"
    )
    parsed = parse_document(Document(id="t", path="t", text=text, format="text"))
    deck = [(s.title, s.parents, s.level) for s in parsed.sections if s.title]
    assert ("Q: Concurrent builds in the default pool?", ("MACHINES, POOLS, PRICING",), 2) in deck
    x = extract(text)
    # A heading that lists no service stays with the service the deck is about.
    owners = {label(x, lf.subject) for lf in x.limits if lf.quantity.startswith("concurrent")}
    assert owners == {"Cloud Build"}
    # The card's question leads the list its answer starts on the label's line.
    [found] = [e for e in x.enumerations if e.lead == "Trigger event types"]
    assert [label(x, i) for i, _ in found.items][:2] == ["push to a branch", "pull request"]


def test_a_heading_named_by_another_clouds_ordinary_word_keeps_the_notes_cloud():
    x = extract(
        "# GKE and Cloud SQL study guide\n\n## Google Kubernetes Engine\n\n### Autoscaling\n\n"
        "- node auto-provisioning creates node pools, max 1000 nodes per pool\n\n"
        "## Cloud SQL\n\n### Read replicas\n\n- up to 10 read replicas per primary instance\n",
        "markdown",
    )
    owners = {label(x, lf.subject) for lf in x.limits}
    assert owners <= {"Google Kubernetes Engine", "Cloud SQL"} and len(owners) == 2


def test_a_unit_is_no_feature():
    x = extract(
        "CLOUD BUILD BASICS\n\nQ: Default build disk size and max?\n"
        "A: 100 GB default; set options: diskSizeGb up to 4,000 GB (4 TB).\n"
    )
    assert not [e for e in x.entities.values() if e.label in ("GB", "TB")]
    assert x.limits


def test_spoken_lists_name_each_item_as_they_go():
    x = extract(
        "Lecture 4\n\n[03:12] INSTRUCTOR: Now the storage classes of Cloud Storage. There are four "
        "storage classes. Standard, for hot data. Nearline, for stuff you touch once a month. "
        "Coldline, maybe once a quarter. And Archive, for once a year.\n"
        "[03:40] INSTRUCTOR: Disks. So managed disks, three types. Standard HDD, Standard SSD "
        "and Premium SSD.\n"
        "[04:00] INSTRUCTOR: Max interleaving depth is 7 tables. Parents: up to 7. Kids: none.\n"
        "[05:00] INSTRUCTOR: There are three replica types. Read-write replicas: they vote. "
        "Read-only replicas — serve reads. And witness replicas: no full copy.\n"
    )
    leads = {e.lead: [label(x, i) for i, _ in e.items] for e in x.enumerations}
    classes = leads["There are four storage classes."]  # (the catalog's "Coldline Storage")
    assert [c.split()[0] for c in classes] == ["Standard", "Nearline", "Coldline", "Archive"]
    assert leads["So managed disks, three types."] == [
        "Standard HDD",
        "Standard SSD",
        "Premium SSD",
    ]
    assert not [lead for lead in leads if "interleaving" in lead]  # an amount, not a count of items
    replicas = leads["There are three replica types."]
    assert [r.split()[0].lower() for r in replicas] == ["read-write", "read-only", "witness"]


def test_a_talk_is_on_the_service_it_announces_until_the_next():
    x = extract(
        "Course transcript\n\n"
        "[01:00] INSTRUCTOR: Cloud Storage first. Objects can be up to 5 TiB.\n"
        "[09:00] INSTRUCTOR: Welcome back. Cloud Spanner. One node holds up to 10 TiB of data.\n"
    )
    owners = {lf.stated_as: label(x, lf.subject) for lf in x.limits}
    assert owners["10 TiB"] == "Spanner"
    assert owners["5 TiB"] == "Cloud Storage"


def test_an_arrow_ends_a_list_items_name():
    x = extract(
        "Amazon MSK\n\nAuth / access control - 4 options:\n"
        "1) IAM access control -> kafka actions in IAM policies, no kafka ACLs needed\n"
        "2) SASL/SCRAM -> username/password in Secrets Manager\n"
        "3) mutual TLS (mTLS) => client certs issued by AWS Private CA\n"
        "4) unauthenticated access\n"
    )
    [found] = [e for e in x.enumerations if e.lead.startswith("Auth")]
    names = [label(x, i) for i, _ in found.items]
    assert names[:2] == ["IAM access control", "SASL/SCRAM"] and len(names) == 4


def test_items_that_lead_with_a_bold_term_are_the_list_and_plain_ones_notes():
    x = extract(
        "# Cloud SQL\n\n## Read replicas\n\nReplica types:\n"
        "- **In-region read replica**\n"
        "- **Cross-region read replica** — also used for DR\n"
        "- **Cascading replica** — a replica of a replica\n"
        "- replication is **asynchronous**; promoting a replica is irreversible\n"
        "- you can't configure backups on read replicas\n\n"
        "## Connecting\n\n"
        "- **Private IP** via private services access\n"
        "- **Cloud SQL Auth Proxy** — IAM-authorized, TLS-encrypted tunnel\n"
        "- **IAM database authentication** works for MySQL and PostgreSQL\n",
        "markdown",
    )
    leads = {e.lead: [label(x, i) for i, _ in e.items] for e in x.enumerations}
    assert len(leads["Replica types"]) == 3
    assert leads["Connecting"][-1] == "IAM database authentication"


def test_what_parentheses_hold_does_not_end_an_inline_list():
    from kg.text.phrases import split_list

    items = split_list("path (`/v2`), header (e.g. `Api-Version: v2`), query string (`?v=2`)")
    assert [i.split(" (")[0] for i, _, _ in items] == ["path", "header", "query string"]


def test_a_sheet_of_service_item_value_rows_names_each_limit_by_its_item(tmp_path):
    x = extract_file(
        tmp_path / "limits.csv",
        "Service,Resource,Quota,Adjustable,Notes\n"
        'ECS,Clusters per account per Region,"10,000",Yes,\n'
        "Fargate,Price vCPU (Linux x86),$0.04048 per vCPU-hour,,up to 20% more elsewhere\n",
    )
    found = {(label(x, lf.subject), lf.quantity) for lf in x.limits}
    assert ("Amazon ECS", "clusters per account per region") in found
    assert any(s == "AWS Fargate" and q.startswith("price vCPU") for s, q in found)
    assert not any(q in ("notes", "quota", "ECS") for _, q in found)
    assert not [r for r in x.relations if r.predicate == "supports"]  # "Adjustable: Yes"


def test_a_service_column_says_what_each_row_is_about(tmp_path):
    x = extract_file(
        tmp_path / "Limits.csv",
        "Name,Service,Tier,Value,Tags\n"
        "Max event size,Event Grid,Basic,1 MB,events\n"
        "Max policy document size,API Management,All,256 KB,policies\n",
    )
    owners = {lf.quantity: label(x, lf.subject) for lf in x.limits}
    assert owners["policy document size"] == "Azure API Management"  # tier "All"
    assert owners["event size"] == "Basic"  # the Basic tier of Event Grid
    basic = next(e for e in x.entities.values() if e.label == "Basic")
    assert label(x, basic.owner) == "Azure Event Grid"


def test_a_generic_lead_under_a_label_belongs_to_what_the_label_names():
    x = extract(
        "AWS Systems Manager notes\n\nParameter Store:\n"
        "Types: String, StringList, SecureString (encrypted with KMS).\n"
        "Hierarchy with slashes, up to 15 levels.\n"
    )
    [found] = [e for e in x.enumerations if e.lead.endswith("Types")]
    assert label(x, found.owner) == "Parameter Store"
    assert len(found.items) == 3


def test_an_inline_list_may_start_on_the_line_after_its_colon():
    x = extract(
        "AWS CloudFormation notes\n\nDeletionPolicy:\n"
        "Delete (default for most), Retain, Snapshot, RetainExceptOnCreate.\n"
        "Snapshot only for resources that support it.\n"
    )
    [found] = [e for e in x.enumerations if e.lead == "DeletionPolicy"]
    assert [label(x, i) for i, _ in found.items] == [
        "Delete",
        "Retain",
        "Snapshot",
        "RetainExceptOnCreate",
    ]


def test_a_paragraph_that_introduces_a_list_leads_it_with_its_last_line_or_sentence():
    x = extract(
        "Azure Front Door\n\n"
        "Standard ~$35 per month base fee, Premium ~$330 per month base fee\n"
        "plus data transfer out + per-request fees\n"
        "Premium only features:\n"
        "1) WAF managed rule sets - Standard only gets custom rules\n"
        "2) Bot protection (bot manager rule set)\n"
        "3) Security analytics / reports\n"
        "both tiers: custom domains, caching, compression\n\n"
        "Google BigQuery\n\n"
        "This fixed my hourly job. Partitioning splits a table into segments and lets\n"
        "the planner skip the ones a filter excludes. There are two kinds:\n\n"
        "- ingestion-time partitioning, using the pseudo-column\n"
        "- integer-range partitioning, where you give a start and end\n"
    )
    leads = {e.lead: [label(x, i) for i, _ in e.items] for e in x.enumerations}
    assert leads["Premium only features"] == [
        "WAF managed rule sets",
        "Bot protection",
        "Security analytics / reports",
    ]
    [partitions] = [lead for lead in leads if lead.endswith("There are two kinds")]
    assert partitions.startswith("Partitioning splits a table")


def test_spoken_lists_count_their_items_with_ordinals_or_after_a_count_alone():
    x = extract(
        "EFS lecture\n\n"
        "[03:05] so now storage classes, this is important. There are three storage classes in "
        "EFS now.\nFirst one, EFS Standard, that's SSD-backed. Second, EFS Infrequent\n"
        "Access, people call it IA. And third is EFS Archive, which came out in 2023.\n"
        "[06:36] now throughput modes. There are three: Elastic, Provisioned, and Bursting.\n"
    )
    leads = {e.lead: [label(x, i) for i, _ in e.items] for e in x.enumerations}
    assert leads["There are three storage classes in EFS now."] == [
        "EFS Standard",
        "EFS Infrequent Access",
        "EFS Archive",
    ]
    [modes] = [lead for lead in leads if lead.endswith("There are three")]
    assert "throughput modes" in modes
    assert leads[modes] == ["Elastic", "Provisioned", "Bursting"]
    assert {label(x, e.owner) for e in x.enumerations} == {"Amazon EFS"}


def test_a_heading_that_is_only_a_name_the_note_uses_names_its_service():
    x = extract(
        "# Glue vs EMR: moving our nightly ETL\n\nWe moved the jobs from EMR to Glue.\n\n"
        "## Part 1: Glue\n\n### Pricing\n\n- the standard rate is $0.44 per DPU-hour\n",
        "markdown",
    )
    assert {label(x, lf.subject) for lf in x.limits} == {"AWS Glue"}


def test_a_subject_read_from_a_sections_text_does_not_carry_to_the_next_section():
    x = extract(
        "# GCE + Persistent Disk / Hyperdisk - cheat sheet\n\n"
        "## 0. Things I get wrong\n\n- Hyperdisk performance is provisioned\n"
        "- Hyperdisk Balanced goes up to 160,000 IOPS\n\n"
        "## 1. Machine families\n\n"
        "Encryption options: Google-managed keys, CMEK via Cloud KMS, CSEK\n",
        "markdown",
    )
    [found] = [e for e in x.enumerations if e.lead == "Encryption options"]
    assert label(x, found.owner) == "Compute Engine"


def test_a_flashcard_answer_that_only_counts_its_list_is_led_by_the_question():
    x = extract(
        "## Deck: Vertex AI\n\nQ: Hyperparameter tuning search algorithms?\nA: Three:\n"
        " * grid search\n * random search\n * Bayesian optimization - the default\n"
    )
    [found] = [e for e in x.enumerations if "search algorithms" in e.lead]
    assert [label(x, i) for i, _ in found.items] == [
        "grid search",
        "random search",
        "Bayesian optimization",
    ]


def test_a_note_may_write_a_service_it_names_by_its_initials():
    x = extract(
        "Azure Event Hubs and Azure Logic Apps and Amazon S3\n\n"
        "EVENT HUBS\n"
        "EH = big-data streaming ingestion, partitioned log.\n"
        "EH keeps events for 7 days by default.\n"
        "Each LA run is billed per action.\n"
        "LA trigger types: Recurrence, Polling, Push, Request.\n"
        "The BGP AS path decides the route. It is set to 7 hops.\n"
    )
    owners = {lf.stated_as: label(x, lf.subject) for lf in x.limits}
    assert owners["7 days"] == "Azure Event Hubs"
    [triggers] = [e for e in x.enumerations if e.lead == "LA trigger types"]
    assert label(x, triggers.owner) == "Azure Logic Apps"  # the service its lead opens with
    assert "Amazon S3" not in {label(x, lf.subject) for lf in x.limits}  # no "AS"


def test_a_bold_term_set_off_by_a_dash_is_what_its_item_is_about():
    x = extract(
        "# Azure Event Hubs\n\n## Tiers\n\n"
        "- **Basic** — 256 KB max event size, 1 day retention\n"
        "- **Standard** — 1 MB max event size, 7 days retention\n",
        "markdown",
    )
    owners = {lf.stated_as: label(x, lf.subject) for lf in x.limits}
    assert owners["1 day"] == "Basic" and owners["7 days"] == "Standard"


def test_items_that_give_a_setting_its_amount_are_no_list_of_names():
    x = extract(
        "# Azure Load Balancer\n\nHealth probes:\n\n- interval default 5 s\n"
        "- source IP 168.63.129.16\n\nSKUs: Basic, Standard, Gateway\n",
        "markdown",
    )
    assert {e.lead for e in x.enumerations} == {"SKUs"}


def test_an_inline_list_of_labels_with_asides_emphasis_and_an_open_end():
    x = extract(
        "# Amazon Nebula Auth\n\n"
        "- Custom challenge: Define auth challenge, Create auth challenge, Verify auth challenge\n"
        "- Identity providers: **Facebook** (consumer), Google, Apple, and any OIDC provider\n",
        "markdown",
    )
    leads = {e.lead: [label(x, i) for i, _ in e.items] for e in x.enumerations}
    assert leads["Custom challenge"] == [
        "Define auth challenge",
        "Create auth challenge",
        "Verify auth challenge",
    ]
    assert leads["Identity providers"] == ["Facebook", "Google", "Apple"]


def test_the_names_an_inline_list_gives():
    from kg.text.phrases import list_names, looks_like_name_list, split_list

    def names(text: str) -> list[str]:
        return list_names([i for i, _, _ in split_list(text)])

    assert names("**301** (permanent), **302** (temporary), **404** (custom)") == [
        "301",
        "302",
        "404",
    ]
    assert names("`Basic`, Standard (most teams), Premium, etc.") == [
        "Basic",
        "Standard",
        "Premium",
    ]
    assert looks_like_name_list(["Define auth challenge", "Create auth challenge"])
    # A verb opening one item of a sentence's list is still a clause: no names.
    assert not looks_like_name_list(["Basic", "create a replica"])
