"""Cue words and patterns the extractor reads notes with, each written once."""

from __future__ import annotations

import re

# The names a vendor puts in front of its products ("AWS Fargate", "Google Cloud Run").
VENDORS = (
    "AWS|Amazon|Microsoft Azure|Azure|Google Cloud|GCP|Google|Oracle Cloud|OCI|IBM Cloud|"
    "Alibaba Cloud|Cloudflare|DigitalOcean"
)
VENDOR_WORD = re.compile(rf"^(?:{VENDORS})\s+")
VENDOR_PREFIX = re.compile(rf"^(?:{VENDORS})\s+[A-Z0-9]")


DEFINITION = re.compile(
    r"^(?:The\s+)?(?P<name>(?:(?:AWS|Amazon|Azure|Google Cloud|GCP)\s+)?"
    r"[A-Z][\w.-]*(?:\s+[A-Z0-9][\w.-]*){0,4})"
    r"(?:\s+(?:is|provides|offers)|\s*[:—–]|\s+-)\s+(?:a|an)\s+(?P<what>[^.]{0,120}?)\b"
    r"(?P<head>service|engine|platform|database|warehouse|queue|store|system|tool|solution|cache|"
    r"network|registry|directory|orchestrator|scheduler|broker|runtime)s?\b",
)


NON_SUBJECT_BEFORE = re.compile(
    r"\b(?:like|such as|including|e\.g\.|than|from|into|to|with|via|by|using|use|of|for|in|on|"
    r"between|and|or|as|through|at|across|over|within|behind|against|about|toward|towards|"
    r"onto|per|without)\s*$",
    re.IGNORECASE,
)


VERB_BEFORE = re.compile(
    r"\b(?:is|are|was|were|be|been|can|could|will|would|must|should|may|has|have|had|do|does|"
    r"did|supports?|allows?|provides?|lets?|enables?|uses?|needs?|gives?|connects?|sends?|"
    r"stores?|replicates?|creates?|runs?)\b",
    re.IGNORECASE,
)


# "AWS Backup supports the following resources:", "A rule can take one of the following
# actions:", "MSK integrates with these services:" (the items follow as a list)
ANNOUNCED_LIST = re.compile(
    r"\b(?P<verb>supports?|can\s+protect|protects?|can\s+back\s+up|backs?\s+up|covers?|"
    r"works?\s+with|integrates?\s+with|can\s+take|takes?|offers?|provides?|includes?|"
    r"comes?\s+with|adds?)\s+(?:one\s+of\s+|any\s+of\s+)?(?:the\s+)?(?:following|these|"
    r"below)\s+(?P<noun>[\w/-]+(?:\s+[\w/-]+){0,3}?)\s*:\s*",
    re.IGNORECASE,
)


DOCUMENT_TITLE = re.compile(
    r"\b(?:notes?|study|wiki|guide|cheat\s*sheet|summary|handbook|runbook|playbook|primer|"
    r"deep\s+dive|reference)\b",
    re.IGNORECASE,
)


SUPPORTED_INCLUDE = re.compile(
    r"\s*(?P<verb>supported)\s+(?P<noun>[\w-]+(?:\s+[\w-]+){0,2}?)\s+(?:include|includes|are)\s+",
    re.IGNORECASE,
)


PRONOUN_START = re.compile(r"^\s*(?:it|they|this|these|its|it’s|it's)\b", re.IGNORECASE)


EXAMPLE = re.compile(r"^\s*(?:for example|for instance|e\.g\.|so if|if you have)\b", re.I)


LOCATION_WORD = re.compile(
    r"\b(?:regions?|availability zones?|AZs?|AZ’s|AZ's|data ?cent(?:er|re)s?|datacenters?|"
    r"edge locations?|zones?)\b",
    re.IGNORECASE,
)


NOT_PRODUCT_WORDS = frozenset(
    """summary overview notes basics introduction intro exam certification certified course stack
    console account cloud region regions architecture associate professional cheat sheet guide
    pricing limits faq best practices tips security monitoring performance encryption networking
    quotas features concepts integration integrations setup configuration deployment replication
    scaling cost costs billing logging access permissions troubleshooting""".split()
)


GENERIC_NOUNS = frozenset(
    """bucket buckets instance instances queue queues function functions table tables cluster
    clusters volume volumes service services database databases topic topics stream streams
    endpoint endpoints api apis resource resources account accounts server servers""".split()
)
