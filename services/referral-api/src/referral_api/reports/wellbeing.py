"""The wellbeing scores a change can be measured on, and which direction is better.

A measure is an instrument's total (WEMWBS, SWEMWBS metric, PAM score, MSK-HQ:
`assessment.total_score`) or one numeric item or sub-score (ONS4's four questions, MyCaW
ratings, EQ-5D-5L levels, VAS and index, the SWEMWBS raw score, the PAM activation level, the
SF-12 physical and mental component summaries: `assessment_score.value`). A component that
restates a total is not a measure of its own. The EQ-5D-5L profile is a label and a
Friends and Family Test response a category: neither is ever averaged.
Directions follow the wellbeing-instruments code list notes.
"""

from functools import cache

from signpost_schemas import codes
from signpost_schemas.fhir.observation import SCORE_RANGES, TEXT_SCORES, TOTAL_RANGES

# Measures where a fall is an improvement (the code list notes say "LOWER is better" or
# "higher is worse").
LOWER_IS_BETTER = frozenset(
    {
        "ons4-anxiety",
        "mycaw-concern-1",
        "mycaw-concern-2",
        "mycaw-wellbeing",
        "eq-5d-5l-mobility",
        "eq-5d-5l-self-care",
        "eq-5d-5l-usual-activities",
        "eq-5d-5l-pain-discomfort",
        "eq-5d-5l-anxiety-depression",
    }
)
TOTAL_MEASURES = tuple(TOTAL_RANGES)
# The components that restate an instrument's total (WEMWBS total, SWEMWBS metric, PAM score):
# the total is the measure, so the same figure is never reported twice.
RESTATED_TOTALS = frozenset({"wemwbs-total", "swemwbs-metric", "pam-13-score", "msk-hq-score"})
# Responses that are categories, not scores (the Friends and Family Test's 6 is "don't know"):
# kept and range-checked, never averaged.
CATEGORIES = frozenset({"fft-response"})
ITEM_MEASURES = tuple(
    code
    for code in SCORE_RANGES
    if code not in TEXT_SCORES and code not in RESTATED_TOTALS and code not in CATEGORIES
)
FOLLOW_UP_TIMEPOINTS = ("follow-up", "discharge")
# Assessments that no longer stand.
WITHDRAWN_STATUSES = ("entered-in-error", "cancelled")


@cache
def labels() -> dict[str, str]:
    """Measure code -> display, from the wellbeing-instruments code list."""
    return {c.code: c.display for c in codes.wellbeing_instruments()}


def instrument_of(measure: str) -> str:
    """The instrument a measure belongs to (a total is its own instrument)."""
    if measure in TOTAL_MEASURES:
        return measure
    concept = next(c for c in codes.wellbeing_instruments() if c.code == measure)
    return concept.group


def measures() -> tuple[str, ...]:
    return (*TOTAL_MEASURES, *ITEM_MEASURES)
