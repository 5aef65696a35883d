"""Every number that ranks or routes an answer, in one place. ``docs/answering.md`` lists them
and a test checks the two agree."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    """When an answer is given, and by which route; calibrated in docs/answering.md."""

    graph: float = 0.45  # a graph candidate at least this sure answers on its own
    hybrid: float = 0.7  # below this, a graph answer whose source search also found is "hybrid"
    search_none: float = 0.30  # top dense score below this, no entity named: not covered
    search_weak: float = 0.22  # top dense score below this even with entities: not covered
    general_limit: float = 0.6  # a general question answered by a limit needs at least this
    catalog: float = 0.95  # an answer from the service catalog (cross-cloud equivalents)
    answer: float = 0.28  # an answer less likely right than this is withheld (route none)


@dataclass(frozen=True)
class Weights:
    """How candidates are scored; each adds to (or, negative, takes from) a score."""

    # limits: does this limit answer the question?
    dimension_match: float = 0.30  # of the dimension asked (bytes, seconds, USD ...)
    dimension_related: float = 0.10  # a related one (counts and rates, bits and bytes per second)
    dimension_conflict: float = -0.35  # any other dimension
    bound_match: float = 0.15  # the bound asked (max, min, default) is stated
    default_missing: float = -0.05  # a default was asked and none is stated
    bound_opposite: float = -0.15  # the largest was asked and only a least is stated
    exact_value: float = 0.05  # no bound asked and the limit is an exact value
    counted_match: float = 0.25  # a count question: the limit counts that thing
    counted_other: float = -0.15  # a count question: it counts something else
    interval_asked: float = 0.20  # "how often": an interval or frequency
    interval_missing: float = -0.10  # "how often": not one
    quantity_word: float = 0.18  # each question word in the quantity's name (up to 3)
    source_word: float = 0.06  # each question word in the source sentence (up to 3)
    near_word: float = 0.05  # each question word right next to the amount (up to 2, and a number)
    limit_similarity: float = 0.45  # times the cosine of question and source sentence
    own_limit: float = 0.05  # the limit is the linked entity's own, not a feature's
    subject_named: float = 0.35  # a feature's limit, and the question names that feature
    subject_unnamed: float = -0.10  # a feature's limit, and the question does not name it
    linked: float = 0.05  # times how exactly the question names the limit's subject
    limit_margin: float = 0.30  # times the lead over the next limit (up to 0.5)
    # lists: does this group of related things answer the question?
    list_base: float = 0.35  # the confidence a list starts from
    charged_asked: float = 0.60  # "how is X charged" and the group is what X is charged by
    charged_other: float = -0.40  # "how is X charged" and the group is something else
    relation_asked: float = 0.45  # the relation asked for (supports, replicates ...)
    unasked_relation: float = -0.30  # billing or category when another relation was asked
    unasked_relation_general: float = -0.20  # billing or category when none was asked
    works_with_unasked: float = -0.30  # "works with" when not asked
    in_category: float = -0.20  # a category membership
    kind_word: float = 0.30  # each question word in the group's kind (up to 2)
    member_word: float = 0.08  # each question word in the members' names (up to 3)
    head_in_kind: float = 0.15  # the noun the question lists ("engines") is the kind
    services_asked: float = 0.30  # "which services" and every member is a service
    entity_order: float = 0.08  # the entity named first in the question
    named_feature: float = 0.20  # the group belongs to a feature the question names
    group_size: float = 0.02  # each member (up to 5)
    named_members: float = 0.25  # a generic feature list narrowed to the members named
    # lists the notes enumerate: a lead and its items (kg.extract.enumerations)
    enum_base: float = 0.20  # the confidence an enumerated list starts from
    enum_similarity: float = 0.80  # times the cosine of the question and the lead (or items)
    enum_lead_word: float = 0.15  # each question word in the lead or its kind (up to 2)
    # "which service is used to ...": the purpose that answers
    used_base: float = 0.20
    purpose_word: float = 0.25  # each question word in the purpose (up to 2)
    used_source_word: float = 0.05  # each question word in its sentence (up to 3)
    used_named: float = 0.30  # the purpose is tied to a service the question names
    used_similarity: float = 0.40  # times the cosine of question and sentence
    # comparisons across features
    compare_base: float = 0.55
    compare_word: float = 0.10  # each question word in the compared quantity (up to 2)
    compare_none: float = 0.50  # "none of them" answers this sure
    supported_by: float = 0.90  # an exact "what supports X" relation
    # reading an amount from a sentence (kg.answer.reader)
    reader_similarity: float = 0.60  # times the cosine of question and sentence
    reader_fit: float = 0.25  # times how well its amount is of the kind asked (0, 0.5 or 1)
    reader_word: float = 0.05  # each question word in the sentence and its headings (up to 3)
    reader_bound: float = 0.10  # the sentence has the bound asked ("by default", "up to")
    reader_named: float = 0.10  # the sentence itself names the thing asked about
    reader_rank: float = -0.03  # each rank of its passage below the first
    list_items: float = 0.03  # each name a sentence lists (up to 5)
    list_reading: float = 1.25  # a listing sentence wins when this times its score is surer
    joint_reading: float = 0.25  # times a sentence's score, added to the limit read from it
    reading_alone: float = 0.8  # added to a sentence no limit was read from
    # the sentence a search answer quotes
    sentence_word: float = 0.03  # each question word in the sentence (up to 3)
    sentence_rank: float = -0.05  # each rank of its passage below the first
