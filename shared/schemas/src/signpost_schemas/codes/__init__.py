"""Code systems and value sets loaded from the CSV code lists shipped as package data.

Every concept keeps the `confidence` and `source` of its row so that callers can tell a verified
national code from a local or unverified one (see `data/README.md`). Concepts are matched on
`(system, code)`, never on the display.
"""

from signpost_schemas.codes.catalogue import (
    CodeList,
    Concept,
    Confidence,
    attendance,
    code_list,
    consultation_mechanisms,
    ethnic_categories,
    genders,
    personal_health_budget,
    personalised_care_roles,
    referral_reasons,
    referral_status_and_closure,
    screening_answers,
    service_use,
    shared_decision_making,
    sources_of_referral,
    support_offered,
    wellbeing_instruments,
)

__all__ = [
    "CodeList",
    "Concept",
    "Confidence",
    "attendance",
    "code_list",
    "consultation_mechanisms",
    "ethnic_categories",
    "genders",
    "personal_health_budget",
    "personalised_care_roles",
    "referral_reasons",
    "referral_status_and_closure",
    "screening_answers",
    "service_use",
    "shared_decision_making",
    "sources_of_referral",
    "support_offered",
    "wellbeing_instruments",
]
