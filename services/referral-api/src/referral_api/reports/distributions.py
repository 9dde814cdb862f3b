"""Percentiles of whole-day waits from their histogram (days -> how many referrals).

The database returns how many referrals waited each number of days; percentiles are computed
here exactly, the same way on SQLite and PostgreSQL, and histograms of groups add up to the
histogram of the whole. The definition is linear interpolation between the closest ranks
(as PostgreSQL's percentile_cont and the spreadsheet PERCENTILE.INC): with the n values
sorted, the p-th percentile is at position (n - 1) * p.
"""

from collections import Counter
from collections.abc import Iterable


def percentile(histogram: Counter[int], fraction: float) -> float | None:
    """The `fraction` (0..1) percentile of the values counted in `histogram`."""
    total = sum(histogram.values())
    if total == 0:
        return None
    position = (total - 1) * fraction
    lower_rank = int(position)
    weight = position - lower_rank
    lower = _value_at(histogram, lower_rank)
    if weight == 0:
        return float(lower)
    upper = _value_at(histogram, lower_rank + 1)
    return lower + (upper - lower) * weight


def _value_at(histogram: Counter[int], rank: int) -> int:
    """The value at 0-based `rank` among the sorted values."""
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if rank < seen:
            return value
    raise IndexError(rank)


def merged(histograms: Iterable[Counter[int]]) -> Counter[int]:
    total: Counter[int] = Counter()
    for histogram in histograms:
        total.update(histogram)
    return total
