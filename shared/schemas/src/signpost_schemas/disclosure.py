"""Small-number disclosure control: the counting rule every Signpost report publishes by.

- A count of 0 is shown as 0; 1 to 7 is suppressed (None); every other count is rounded to the
  nearest 5 (8 and 12 become 10, 13 becomes 15).
- Percentages and rates are computed from the published (rounded) counts and withheld when
  either is suppressed or the denominator is 0.
- A caller holding `reports:unsuppressed` may ask for the true figures, marked as not for
  publication (`UNCONTROLLED`).

Each service's report module adds what its reports need on top (referral-api's differencing
audit and statistics rules) and states its full rule in the report notes.
"""

SUPPRESS_UP_TO = 7
ROUND_TO = 5
UNSUPPRESSED_SCOPE = "reports:unsuppressed"
UNCONTROLLED = (
    f"UNSUPPRESSED: true counts for a caller with the {UNSUPPRESSED_SCOPE} scope. Do not publish "
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


def ratio(
    numerator: float | None, denominator: float | None, scale: int = 100, decimals: int = 1
) -> float | None:
    """numerator / denominator * scale (a percentage by default, to one decimal); None when
    either is missing or the denominator is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return round(numerator * scale / denominator, decimals)
