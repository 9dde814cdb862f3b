"""The shape every report answers with: columns, rows and a total row.

A report is one table. Dimension columns classify a row (with a label column for coded
values); count columns hold whole numbers that disclosure control suppresses and rounds;
derived columns (percentages, rates, days, scores) are computed from counts and are withheld
when the counts they depend on are. `totals` are the same measures over the whole scope: one
row, or one per category for reports broken down by one (reasons, fields, measures); their
group-by columns are empty.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

ColumnKind = Literal[
    "dimension", "label", "count", "population", "percentage", "per-10000", "days", "score"
]
COUNT_KINDS = ("count", "population")

Row = dict[str, Any]
# Beside every raw count `name`, the sum of its records' keys (disclosure control: the cell key
# method, `signpost_schemas.disclosure`). Published rows never carry it.
KEY_SUFFIX = "_cell_key"


def key_of(name: str) -> str:
    """The raw column holding the key sum of count `name`."""
    return f"{name}{KEY_SUFFIX}"


K = TypeVar("K")


def rows_by(rows: Iterable[Row], key: Callable[[Row], K]) -> dict[K, list[Row]]:
    """`rows` gathered by `key`, the keys in the order first met."""
    gathered: dict[K, list[Row]] = {}
    for row in rows:
        gathered.setdefault(key(row), []).append(row)
    return gathered


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a report.

    Percentages and rates are `numerator / denominator * scale`; days and scores are
    statistics over the rows counted in `base`, shown only when that count is.

    For disclosure control a count knows how its cells relate to the totals: `additive` when
    the cells of a breakdown add up to the total (False for people, who can be in two groups);
    `one_category_each` overrides the report's (offers add up across support types even
    though referrals do not); `varies_by` None when a cell is identified by all the row's
    dimension columns, else only by the group-by columns plus these (a count repeated on every
    row of a group).
    """

    name: str
    label: str
    kind: ColumnKind
    numerator: str | None = None
    denominator: str | None = None
    base: str | None = None
    decimals: int = 1
    additive: bool = True
    one_category_each: bool | None = None
    varies_by: tuple[str, ...] | None = None

    @property
    def is_count(self) -> bool:
        return self.kind in COUNT_KINDS

    @property
    def is_rate(self) -> bool:
        return self.kind in ("percentage", "per-10000")

    @property
    def is_statistic(self) -> bool:
        return self.kind in ("days", "score")


def count(
    name: str,
    label: str,
    *,
    additive: bool = True,
    one_category_each: bool | None = None,
    varies_by: tuple[str, ...] | None = None,
) -> Column:
    return Column(
        name,
        label,
        "count",
        additive=additive,
        one_category_each=one_category_each,
        varies_by=varies_by,
    )


def percentage(name: str, label: str, numerator: str, denominator: str) -> Column:
    return Column(name, label, "percentage", numerator=numerator, denominator=denominator)


def statistic(name: str, label: str, kind: ColumnKind, base: str) -> Column:
    return Column(name, label, kind, base=base)


@dataclass
class Report:
    """A report as computed (raw) or as published (after disclosure control)."""

    name: str
    title: str
    description: str
    columns: list[Column]
    rows: list[Row]
    totals: list[Row]
    notes: list[str] = field(default_factory=list)
    # The measure charts draw.
    chart_measure: str = ""
    # The group-by columns (the other dimension columns are the report's own categories);
    # whether each referral is in one group only (False when grouped by a reason dimension);
    # whether each referral is in one category only (a closure reason, not a reason).
    group_columns: tuple[str, ...] = ()
    one_group_each: bool = True
    one_category_each: bool = False
    # A "top" list: rows ranked by the published `rank_by` count (default the chart measure)
    # within each group, `limit` kept.
    ranked: bool = False
    rank_by: str | None = None
    limit: int | None = None
    rank_within: tuple[str, ...] = ()

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def dimension_columns(self) -> list[Column]:
        return [c for c in self.columns if c.kind == "dimension"]

    @property
    def category_columns(self) -> list[str]:
        return [c.name for c in self.dimension_columns if c.name not in self.group_columns]
