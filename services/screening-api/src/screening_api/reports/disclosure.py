"""Small-number disclosure control, by the same rules as referral-api's reports.

- A count of 0 is shown as 0; 1 to 7 is suppressed (null, and named in the row's `suppressed`);
  every other count is rounded to the nearest 5 (8 and 12 become 10, 13 becomes 15).
- A total is computed from the true figures and then published by the same rule, never summed
  from published cells.
- A percentage is computed from the published (rounded) counts and is withheld when either of
  them is suppressed.
- A caller holding `reports:unsuppressed` may ask for the true figures (`disclosure=none`),
  which are marked as not for publication.

The rule text and the counting rule match `referral_api.reports.disclosure`; the two belong in one
shared module once the report plumbing moves to the shared packages.
"""

SUPPRESS_UP_TO = 7
ROUND_TO = 5
RULE = (
    f"Counts of 1 to {SUPPRESS_UP_TO} are suppressed (null, named in the row's `suppressed`) and "
    f"other counts rounded to the nearest {ROUND_TO}; totals are computed from the true figures "
    "and then rounded; percentages are computed from the rounded counts and withheld when either "
    "count is suppressed."
)
UNCONTROLLED = (
    "UNSUPPRESSED: true counts for a caller with the reports:unsuppressed scope. Do not publish "
    "or share these figures; ask for disclosure=controlled for a publishable version."
)


def publish_count(count: int) -> int | None:
    """A count as published: 0 stays 0, 1 to 7 is suppressed (None), others round to 5."""
    if count < 0:
        raise ValueError("a count cannot be negative")
    if count == 0:
        return 0
    if count <= SUPPRESS_UP_TO:
        return None
    return (count + ROUND_TO // 2) // ROUND_TO * ROUND_TO


def percentage(numerator: int | None, denominator: int | None) -> float | None:
    """numerator / denominator as a percentage to one decimal; None if either is missing or the
    denominator is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return round(100 * numerator / denominator, 1)
