"""Small-number disclosure control of the screening reports.

The counting rule is the one every Signpost report publishes by (`signpost_schemas.disclosure`):
0 stays 0, 1 to 7 is suppressed, other counts round to the nearest 5, and percentages come from
the rounded counts. A total is computed from the true figures and then published by the same
rule, never summed from published cells.
"""

from signpost_schemas.disclosure import ROUND_TO, SUPPRESS_UP_TO

RULE = (
    f"Counts of 1 to {SUPPRESS_UP_TO} are suppressed (null, named in the row's `suppressed`) and "
    f"other counts rounded to the nearest {ROUND_TO}; totals are computed from the true figures "
    "and then rounded; percentages are computed from the rounded counts and withheld when either "
    "count is suppressed."
)
