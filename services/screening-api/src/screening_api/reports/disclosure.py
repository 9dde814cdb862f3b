"""Small-number disclosure control for published counts (NHS statistical practice).

A count of 1 to 7 is suppressed (shown as null, flagged `suppressed`); every other count is
rounded to the nearest 5, so suppressed cells cannot be recovered by subtracting from totals.
Zero is shown as 0. A percentage is shown only when neither its numerator nor its denominator is
suppressed, and is computed from the unrounded counts, to one decimal place.
"""

from dataclasses import dataclass

SUPPRESS_AT_OR_BELOW = 7
ROUND_TO = 5


@dataclass(frozen=True, slots=True)
class Published:
    """A count as published: `value` is None when suppressed."""

    value: int | None

    @property
    def suppressed(self) -> bool:
        return self.value is None


def publish(count: int) -> Published:
    if count == 0:
        return Published(0)
    if count <= SUPPRESS_AT_OR_BELOW:
        return Published(None)
    return Published(int(ROUND_TO * round(count / ROUND_TO)))


def publish_rate(numerator: int, denominator: int) -> float | None:
    """The percentage numerator/denominator, or None when either count is suppressed or zero."""
    if denominator == 0 or publish(numerator).suppressed or publish(denominator).suppressed:
        return None
    return round(100 * numerator / denominator, 1)
