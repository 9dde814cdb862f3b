"""Every report, every value, against a recomputation from the history's own truth.

A seeded synthetic history (tests/support/report_history.py: a few thousand referrals, small
cells on purpose) is imported through the history import, and each report is asked for under
filter and group-by combinations, for the period the history is dated in. The expected values
are computed in plain Python from the generator's truth (tests/support/report_reference.py,
from the definitions in docs/reports.md), never from Signpost's counting, and compared with
every row, column and total served:

- the true figures (`reports:unsuppressed`): every count, percentage, rate, median, 90th
  percentile and mean exactly;
- the published figures (`reports:read`): every count is `publish_count(true count, its cell
  key)`, the documented rule, with the cell key the sum of the record keys the reference
  computes; every percentage and rate is computed from the published counts; every statistic
  is shown exactly when its count is. A count the differencing audit withholds on top (a
  secondary suppression) must be withheld in an answer that has a small-number suppression in
  the same column, and is counted.

A report that changes its definition must change the reference on purpose. A report the
reference does not recompute is listed in NOT_RECOMPUTED with where it is checked instead.
"""

from typing import Any

import pytest

from referral_api.reports.service import REPORTS as CATALOGUE
from signpost_schemas.disclosure import cell_key, publish_count, publish_unkeyed, ratio
from tests.reports.conftest import REPORTS, UNSUPPRESSED
from tests.support.history_loading import LoadedHistory
from tests.support.report_history import PERIOD
from tests.support.report_reference import Count, Table

Filters = dict[str, tuple[str, ...]]
Combination = tuple[Filters, tuple[str, ...], dict[str, str]]

# (rate column, numerator, denominator, scale) per report.
RATES: dict[str, tuple[tuple[str, str, str, int], ...]] = {
    "reasons": (("share", "referrals", "referrals_in_group", 100),),
    "reason-pairs": (("share", "referrals", "referrals_in_group", 100),),
    "support-match": (
        ("match_rate", "matched", "with_support", 100),
        ("supported_rate", "with_support", "referrals", 100),
    ),
    "attendance": (
        ("dna_rate", "dna", "appointments_due", 100),
        ("referrals_with_dna_rate", "referrals_with_dna", "referrals_with_contact", 100),
    ),
    "outcomes": (
        ("declined_rate", "declined", "referrals", 100),
        ("closed_rate", "closed", "referrals", 100),
    ),
    "closure-reasons": (("share", "referrals", "ended_total", 100),),
    "rates": (("rate", "referrals", "population", 10_000),),
    "wellbeing": (("improved_rate", "improved", "pairs", 100),),
    "re-referrals": (
        ("re_referral_rate", "re_referrals", "referrals", 100),
        ("parallel_rate", "parallel", "referrals", 100),
    ),
    "completeness": (("complete_rate", "complete", "applicable", 100),),
}
# Statistics and the count of the values they summarise.
STATISTICS = {
    "first_contact_median": "first_contact",
    "first_contact_p90": "first_contact",
    "closure_median": "closed",
    "closure_p90": "closed",
    "mean_baseline": "pairs",
    "mean_follow_up": "pairs",
    "mean_change": "pairs",
}

NAVIGATORS: Filters = {"role": ("care-navigator", "community-neighbourhood-link-worker")}
OLDER_WOMEN: Filters = {"gender": ("female",), "age-band": ("65-74", "75-84", "85+")}
FROM_SYSTEMS: Filters = {"source-system": ("emis", "rio")}
HOUSING: Filters = {"reason-group": ("housing", "safety")}
ODD_REASONS: Filters = {"reason": ("uncoded", "22298006", "713458007")}

# No dimension, then one and two, without filters: the first combinations of every report.
UNFILTERED: tuple[Combination, ...] = (
    ({}, (), {}),
    ({}, ("role",), {}),
    ({}, ("month",), {}),
    ({}, ("age-band", "gender"), {}),
)
# The combinations every report is asked for: one and two dimensions, with and without filters.
COMMON: tuple[Combination, ...] = (
    *UNFILTERED,
    (NAVIGATORS, ("reason-group",), {}),
    (FROM_SYSTEMS, ("practice", "imd-decile"), {}),
    (OLDER_WOMEN, ("ethnicity",), {}),
    (HOUSING, ("pcn", "source"), {}),
    (ODD_REASONS, ("source-system", "role"), {}),
    ({"imd-decile": ("1", "2")}, ("ethnic-category",), {}),
    ({}, ("reason",), {}),
)
# Reports that break down by reasons themselves take no reason group-by.
BY_REASON: tuple[Combination, ...] = (
    *UNFILTERED,
    (NAVIGATORS, ("source",), {}),
    (FROM_SYSTEMS, ("practice", "imd-decile"), {}),
    (OLDER_WOMEN, ("ethnicity",), {}),
    (HOUSING, ("pcn",), {}),
    (ODD_REASONS, ("source-system", "role"), {}),
)
COMBINATIONS: dict[str, tuple[Combination, ...]] = {
    # Unfiltered over whole months, the referrals report counts people by their previous
    # month in the group for each breakdown with its column, these three included.
    "referrals": (
        *COMMON,
        ({}, ("reason-group",), {}),
        ({}, ("pcn", "role"), {}),
        ({}, ("practice",), {}),
    ),
    # Unfiltered or by source system, over whole months and by month, role and source system
    # alone, reasons and support-match are summed from the reasons' monthly counts.
    "reasons": BY_REASON
    + tuple((f, g, {"level": "reason-group"}) for f, g, _ in BY_REASON[:5])
    + ((FROM_SYSTEMS, ("source-system", "role"), {"level": "reason-group"}),),
    # Unfiltered, or by role, over whole months and by role and month alone, reason pairs are
    # summed from their monthly counts.
    "reason-pairs": tuple((f, g, {"limit": "100"}) for f, g, _ in BY_REASON)
    + tuple((f, g, {"level": "reason-group", "limit": "100"}) for f, g, _ in BY_REASON[:5])
    + ((NAVIGATORS, ("month",), {"level": "reason-group", "limit": "100"}),),
    # Unfiltered or by source system, over whole months and by month, role and source system
    # alone, support is summed from the support's monthly counts.
    "support": COMMON
    + tuple((f, g, {"level": "support-group"}) for f, g, _ in COMMON[:5])
    + ((FROM_SYSTEMS, ("role",), {"level": "support-group"}),),
    "support-match": (*BY_REASON, (FROM_SYSTEMS, ("source-system", "role"), {})),
    "waiting-times": COMMON,
    # Unfiltered or by source system, over whole months and by month, role and source system
    # alone, attendance, outcomes and completeness are summed from the referrals' monthly
    # counts.
    "attendance": (*COMMON, (FROM_SYSTEMS, ("role",), {})),
    "outcomes": (
        *COMMON,
        ({}, ("support-group",), {}),
        (NAVIGATORS, ("support-group", "age-band"), {}),
        ({"support-group": ("housing", "finance")}, ("role",), {}),
        (HOUSING, ("support-group",), {}),
        (FROM_SYSTEMS, ("source-system", "role"), {}),
        (FROM_SYSTEMS, ("support-group",), {}),
    ),
    "closure-reasons": COMMON,
    "rates": (
        ({}, (), {}),
        ({}, ("practice",), {}),
        ({}, ("pcn", "age-band"), {}),
        ({}, ("gender",), {}),
        ({"gender": ("female", "male")}, ("age-band", "gender"), {}),
        (NAVIGATORS, ("month",), {}),
        ({"pcn": ("U00001",)}, ("role",), {}),
        ({"practice": ("F84001", "F84003")}, ("reason-group",), {}),
    ),
    "wellbeing": COMMON,
    "re-referrals": COMMON,
    "completeness": (
        *COMMON[1:],
        ({}, ("source-system",), {}),
        (FROM_SYSTEMS, ("source-system", "role"), {}),
    ),
}


# Reports that do not count referrals by the history's dimensions, each checked against
# hand-computed datasets instead.
NOT_RECOMPUTED = {
    # Referrals by the date received and their data gaps: tests/reports/test_data_quality.py.
    "data-quality",
    # Activity by worker, by contact date (the history names no workers):
    # tests/reports/test_workers.py.
    "workers",
    # Service use before and after (the history carries no counts):
    # tests/reports/test_service_use.py.
    "service-use",
}


def test_every_report_is_recomputed_or_said_not_to_be():
    assert set(COMBINATIONS) | NOT_RECOMPUTED == set(CATALOGUE)
    assert not set(COMBINATIONS) & NOT_RECOMPUTED


class Comparison:
    """What one answer shows against what the reference expects."""

    def __init__(self, name: str, label: str, expected: Table, groups: int) -> None:
        self.name, self.label, self.expected, self.groups = name, label, expected, groups
        self.mismatches: list[str] = []
        self.compared = 0
        self.secondary = 0

    def key_of(self, row: dict[str, Any], is_total: bool) -> tuple[Any, ...]:
        """A served row's key: its group-by values (none in a total), then its categories; a
        pair of reasons in either order."""
        columns = self.expected.key_columns
        group = tuple(None if is_total else row.get(c) for c in columns[: self.groups])
        categories = columns[self.groups :]
        if categories == ("pair",):
            pair = (row.get("first"), row.get("second"))
            return (*group, None if pair[0] is None else tuple(sorted(pair)))
        return (*group, *(row.get(c) for c in categories))

    def check(self, where: str, shown: Any, expected: Any) -> None:
        self.compared += 1
        if shown != expected:
            self.mismatches.append(f"{self.label} {where}: served {shown!r}, expected {expected!r}")

    def rows(self, answer: dict[str, Any]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
        """(where, served row, expected row) for every row and total; missing rows reported."""
        paired = []
        for kind, is_total, expected in (
            ("row", False, self.expected.rows),
            ("total", True, self.expected.totals),
        ):
            served = {self.key_of(r, is_total): r for r in answer[kind + "s"]}
            if set(served) != set(expected):
                self.mismatches.append(
                    f"{self.label} {kind}s: served but not expected "
                    f"{sorted(set(served) - set(expected), key=str)[:5]}, expected but not "
                    f"served {sorted(set(expected) - set(served), key=str)[:5]}"
                )
            for key in served.keys() & expected.keys():
                paired.append((f"{kind} {key}", served[key], expected[key]))
        return paired

    def true_figures(self, answer: dict[str, Any]) -> None:
        for where, served, expected in self.rows(answer):
            for column, value in expected.items():
                if isinstance(value, Count):
                    self.check(f"{where} {column}", served.get(column), value.value)
                elif column in STATISTICS:
                    self.check(f"{where} {column}", served.get(column), _rounded(value))
                else:
                    self.check(f"{where} {column}", served.get(column), value)
            for rate, numerator, denominator, scale in RATES.get(self.name, ()):
                self.check(
                    f"{where} {rate}",
                    served.get(rate),
                    ratio(
                        _value(expected.get(numerator)), _value(expected.get(denominator)), scale
                    ),
                )

    def published_figures(self, answer: dict[str, Any]) -> None:
        rows = self.rows(answer)
        # Columns with a small-number suppression somewhere in this answer: the audit may
        # withhold more cells of those columns.
        small = {
            column
            for _, _, expected in rows
            for column, value in expected.items()
            if isinstance(value, Count) and publish_count(value.value, cell_key(value.keys)) is None
        }
        for where, served, expected in rows:
            for column, value in expected.items():
                shown = served.get(column)
                if isinstance(value, Count):
                    published = publish_count(value.value, cell_key(value.keys))
                    if (
                        shown is None
                        and published is not None
                        and column in small
                        and column in served["suppressed"]
                    ):
                        self.secondary += 1
                        self.compared += 1
                        continue
                    self.check(f"{where} {column} (published)", shown, published)
                elif column == "population":
                    expected_population = None if value is None else publish_unkeyed(value)
                    self.check(f"{where} {column} (published)", shown, expected_population)
                elif column in STATISTICS:
                    base = served.get(STATISTICS[column])
                    self.check(
                        f"{where} {column} (published)",
                        shown,
                        None if base is None else _rounded(value),
                    )
                else:
                    self.check(f"{where} {column} (published)", shown, value)
            for rate, numerator, denominator, scale in RATES.get(self.name, ()):
                self.check(
                    f"{where} {rate} (published)",
                    served.get(rate),
                    ratio(served.get(numerator), served.get(denominator), scale),
                )


def _value(found: Any) -> Any:
    return found.value if isinstance(found, Count) else found


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def _parameters(filters: Filters, group_by: tuple[str, ...], options: dict[str, str]) -> dict:
    parameters: dict[str, str] = {"from": PERIOD[0].isoformat(), "to": PERIOD[1].isoformat()}
    parameters |= {name: ",".join(values) for name, values in filters.items()}
    if group_by:
        parameters["group_by"] = ",".join(group_by)
    return parameters | options


@pytest.mark.parametrize("name", list(COMBINATIONS))
async def test_report_matches_its_recomputation(loaded_history: LoadedHistory, name: str):
    compared = secondary = 0
    mismatches: list[str] = []
    for filters, group_by, options in COMBINATIONS[name]:
        parameters = _parameters(filters, group_by, options)
        label = f"{name}?{'&'.join(f'{k}={v}' for k, v in parameters.items())}"
        expected = loaded_history.reference.report(name, filters, group_by, options)
        comparison = Comparison(name, label, expected, len(group_by))
        for headers, check in (
            (UNSUPPRESSED, comparison.true_figures),
            (REPORTS, comparison.published_figures),
        ):
            response = await loaded_history.client.get(
                f"/reports/{name}", params=parameters, headers=headers
            )
            assert response.status_code == 200, response.text
            check(response.json())
        compared += comparison.compared
        secondary += comparison.secondary
        mismatches += comparison.mismatches
    print(
        f"{name}: {len(COMBINATIONS[name])} combinations, {compared} values compared, "
        f"{secondary} withheld by the differencing audit"
    )
    assert not mismatches, f"{len(mismatches)} mismatches:\n" + "\n".join(mismatches[:40])
    assert compared > 0
