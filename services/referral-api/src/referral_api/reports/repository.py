"""All SQL of the reports: aggregates over the report facts (`reports.models`).

Every query is one scan of one fact table: the referrals in scope (the period and the
filters) grouped by the group-by columns, which every fact row carries. Dimension values are
stored as `report_code` codes: filters are turned into codes and results back into values
here, so callers see only values. A filter on reasons keeps the referrals with any of those
reasons; a group-by on reasons joins the reason facts, so a referral with several reasons is
counted under each. Only grouped counts and histograms come back, unrounded: disclosure
control is applied by the service.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CompoundSelect,
    FromClause,
    Integer,
    SmallInteger,
    Table,
    and_,
    case,
    cast,
    delete,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import (
    BindParameter,
    ColumnElement,
    FunctionFilter,
    Label,
    UnaryExpression,
)
from sqlalchemy.sql.functions import FunctionElement

from referral_api.geography.models import LookupLoad
from referral_api.reports import wellbeing
from referral_api.reports.dimensions import catalogue, column_name, fans_out
from referral_api.reports.expressions import flag, month_label, month_of_day
from referral_api.reports.facts_repository import (
    MONTHLY_COUNTS,
    NO_MONTH,
    PAIR_LEVELS,
    PAIR_MONTHS,
    REASON_COUNTS,
    REASON_MONTHS,
    REASON_PEOPLE_MONTHS,
    REASON_WAIT_MONTHS,
    REFERRAL_COUNTS,
    REFERRAL_MONTHS,
    SUPPORT_COUNTS,
    SUPPORT_MONTHS,
    WAIT_CODES,
    WAIT_MONTHS,
    MonthlyCounts,
)
from referral_api.reports.measures import ATTENDANCE_COUNTS, COMPLETENESS_FLAGS
from referral_api.reports.models import (
    CODED_COLUMNS,
    PREVIOUS_MONTH,
    PREVIOUS_MONTH_COLUMNS,
    REASON_GROUP_PREVIOUS_MONTH,
    ListSize,
    LsoaImd,
    ReportCode,
    ReportReason,
    ReportReasonPair,
    ReportReferral,
    ReportScore,
    ReportSupport,
)
from referral_api.reports.query import ReportQuery
from referral_api.reports.tables import Row, key_of
from signpost_platform.cell_keys import distinct_key_sum, distinct_person_key_sum, key_sum
from signpost_platform.db import AnySelect, Repository, dialect_of, table_of

# What `ReportRepository.rows` runs: a SELECT, or a UNION ALL of them.
RowsStatement = AnySelect | CompoundSelect[*tuple[Any, ...]]

F = table_of(ReportReferral)
REASONS = table_of(ReportReason)
PAIRS = table_of(ReportReasonPair)
SUPPORT = table_of(ReportSupport)
SCORES = table_of(ReportScore)
LIST = table_of(ListSize)
# The fact tables a dimension with several values per referral may be read from.
CHILD_FACTS = {"report_reason": REASONS, "report_support": SUPPORT}
# The fact tables with a row per reason group (or reason) of a referral, grouped by reason group
# with no join.
REASON_GROUP_FACTS = frozenset(("report_reason", "report_service_use_reason"))
# The keys of each table of monthly counts: a dimension among them is grouped by with no join.
MONTHLY_KEYS = {kept.table.name: frozenset(kept.keys) for kept in MONTHLY_COUNTS}

CODE = table_of(ReportCode)
NO_CODE = -1  # matches nothing: a filter value the facts have never seen
# The prefix of the counts and sums, summed per group in a grouped scan, that add up to a total
# that counts each referral once (`once_totals`: support-match, referrals and service use by
# reason group).
ONCE = "once_"
# The dimension the support facts carry (`ReportRepository.lifecycle_status`).
SUPPORT_GROUP = "support-group"
Codes = dict[str, dict[str, int]]


def counted(
    name: str, table: FromClause, value: ColumnElement[Any] | None = None
) -> list[ColumnElement[Any]]:
    """A count and its key sum, in the same SELECT: COUNT(*) (or SUM(value), for a flag or a
    number of events per fact row) and SUM([value *] record_key)."""
    total = func.count() if value is None else func.coalesce(func.sum(value), 0)
    return [total.label(name), key_sum(table.c.record_key, value).label(key_of(name))]


def counted_distinct(name: str, table: FromClause) -> list[ColumnElement[Any]]:
    """Referrals counted once however many rows each has here, and their key sum."""
    return [
        func.count(func.distinct(table.c.referral_key)).label(name),
        distinct_key_sum(table.c.referral_key, table.c.record_key).label(key_of(name)),
    ]


def single_people(table: Table) -> list[ColumnElement[Any]]:
    """The people referred once (one row each) and their tags; `add_shared_people` adds the
    others."""
    single = table.c.shared_person == 0
    return [
        func.coalesce(func.sum(1 - table.c.shared_person), 0).label("single"),
        func.coalesce(func.sum(table.c.person_tag).filter(single), 0).label("single_tags"),
    ]


def _people(table: Table, dialect: str) -> list[ColumnElement[Any]]:
    """Distinct people: those referred once (one row each) plus the distinct pseudonyms of
    those with other referrals; the key sum adds their person tags (each person once)."""
    shared = table.c.shared_person == 1
    return [
        (
            func.count()
            - func.coalesce(func.sum(table.c.shared_person), 0)
            + func.count(func.distinct(table.c.person_key)).filter(shared)
        ).label("people"),
        (
            func.coalesce(func.sum(table.c.person_tag).filter(table.c.shared_person == 0), 0)
            + distinct_person_key_sum(dialect, table.c.person_key, table.c.person_tag, shared)
        ).label(key_of("people")),
    ]


def _additive(measure: ColumnElement[Any]) -> bool:
    """Whether a measure is a COUNT or a SUM (COALESCE(SUM(...), 0); FILTER allowed) without
    DISTINCT: its total is the sum of its groups' values."""
    element: Any = measure.element if isinstance(measure, Label) else measure
    if isinstance(element, FunctionFilter):
        element = element.func
    element = _uncoalesced(element)
    if isinstance(element, FunctionFilter):
        element = element.func
    if not isinstance(element, FunctionElement) or element.name not in ("count", "sum"):
        return False
    return not any(_is_distinct(part) for part in element.clauses)


def _uncoalesced(element: Any) -> Any:
    """The aggregate inside `COALESCE(aggregate, 0)`; `element` itself if it is no COALESCE;
    None for a COALESCE of anything else (its value on no rows is not 0)."""
    if not (isinstance(element, FunctionElement) and element.name == "coalesce"):
        return element
    arguments = list(element.clauses)
    zero = isinstance(arguments[-1], BindParameter) and arguments[-1].value == 0
    return arguments[0] if len(arguments) == 2 and zero else None


def _is_distinct(part: Any) -> bool:
    """DISTINCT, however written: `func.distinct(x)`, `distinct(x)` or `x.distinct()`."""
    if isinstance(part, FunctionElement) and part.name == "distinct":
        return True
    return isinstance(part, UnaryExpression) and part.operator is operators.distinct_op


def _name_of(measure: ColumnElement[Any]) -> str:
    """A measure's column name (its label)."""
    return str(measure.name) if isinstance(measure, Label) else str(measure.key)


def _summed_groups(
    grouped: "Scope",
    additive: Sequence[ColumnElement[Any]],
    criterion: ColumnElement[bool] | None,
    counted_once: Sequence[Label[Any]],
) -> Any:
    """One statement: the `additive` measures per group by a plain GROUP BY (parallel), the
    `counted_once` ones by GROUPING SETS over the rows where `criterion` holds, joined to their
    groups; then the total row, the additive measures summed from the groups and the others
    from the grouping sets' total. `grouping_set` tells the total (1) from the groups (0)."""
    names = [name for name, _ in grouped.dims]
    dims = [expr for _, expr in grouped.dims]
    groups = (
        select(*(expr.label(name) for name, expr in grouped.dims), *additive)
        .select_from(grouped.from_)
        .where(*grouped.where)
        .group_by(*dims)
        .cte("report_groups")
    )
    sums = [c for c in groups.c if c.name not in names]
    summed = [integer_sum(c, c.name) for c in sums]
    if criterion is None or not counted_once:
        return union_all(
            select(*groups.c, literal(0).label("grouping_set")),
            select(*(null().label(n) for n in names), *summed, literal(1).label("grouping_set")),
        )
    once = (
        select(
            *(expr.label(name) for name, expr in grouped.dims),
            *counted_once,
            func.grouping(*dims).label("grouping_set"),
        )
        .select_from(grouped.from_)
        .where(*grouped.where, criterion)
        .group_by(func.grouping_sets(tuple_(*dims), tuple_()))
        .cte("report_counted_once")
    )
    in_group, overall = once.alias("once_in_group"), once.alias("once_overall")
    measured = [m.name for m in counted_once]
    per_group = select(
        *groups.c,
        *(func.coalesce(in_group.c[name], 0).label(name) for name in measured),
        literal(0).label("grouping_set"),
    ).select_from(
        groups.outerjoin(
            in_group,
            and_(
                in_group.c.grouping_set == 0,
                *(in_group.c[name].is_not_distinct_from(groups.c[name]) for name in names),
            ),
        )
    )
    total = select(
        *(null().label(name) for name in names),
        *summed,
        *(func.coalesce(func.max(overall.c[name]), 0).label(name) for name in measured),
        literal(1).label("grouping_set"),
    ).select_from(groups.outerjoin(overall, overall.c.grouping_set != 0))  # a bit per dimension
    return union_all(per_group, total)


def _filtered_distinct(
    measures: Sequence[ColumnElement[Any]],
) -> tuple[ColumnElement[bool] | None, list[Label[Any]]] | None:
    """For measures that are all `COUNT(DISTINCT x) FILTER (WHERE c)` or
    `COALESCE(SUM(DISTINCT x) FILTER (WHERE c), 0)` with one `c`: `c` and the measures without
    their FILTER (to count over the rows where `c` holds). None for any other measure."""
    criterion: ColumnElement[bool] | None = None
    unfiltered: list[Label[Any]] = []
    for measure in measures:
        if not isinstance(measure, Label):
            return None
        coalesced = _uncoalesced(measure.element) is not measure.element
        element: Any = _uncoalesced(measure.element)
        if not isinstance(element, FunctionFilter) or element.criterion is None:
            return None
        inner = element.func
        if inner.name not in ("count", "sum") or not any(
            _is_distinct(part) for part in inner.clauses
        ):
            return None
        if criterion is None:
            criterion = element.criterion
        elif not element.criterion.compare(criterion):
            return None
        plain: Any = func.coalesce(inner, 0) if coalesced else inner
        unfiltered.append(plain.label(measure.name))
    return criterion, unfiltered


@dataclass(frozen=True)
class FirstRows:
    """People counted by their previous month (docs/reports.md): each person's first row in a
    run of whole months from `first_month` (None: from the start) and in its group is counted,
    and its person tag summed for the cell key, as plain counts that add up over the groups, so
    PostgreSQL counts them in one parallel pass without a DISTINCT."""

    first_month: int | None

    def people(
        self,
        table: Table,
        column: str,
        name: str = "people",
        only: ColumnElement[bool] | None = None,
    ) -> list[Label[Any]]:
        """People of `table`'s rows (those where `only` holds, if given) by `column`, one of
        its previous-month columns."""
        previous = table.c[column]
        first: ColumnElement[bool] = (
            previous.is_(None)
            if self.first_month is None
            else or_(previous.is_(None), previous < self.first_month)
        )
        if only is not None:
            first = and_(only, first)
        return [
            func.count().filter(first).label(name),
            func.coalesce(func.sum(table.c.person_tag).filter(first), 0).label(key_of(name)),
        ]

    def monthly_people(
        self,
        rows: ColumnElement[Any],
        tags: ColumnElement[Any],
        previous: ColumnElement[Any],
        name: str,
    ) -> list[ColumnElement[Any]]:
        """`people` from monthly counts kept by previous month: the `rows` (and their person
        `tags`) whose `previous` month is before the range, or none (`NO_MONTH`, below every
        month)."""
        first: ColumnElement[bool] = (
            previous == NO_MONTH if self.first_month is None else previous < self.first_month
        )
        return [
            integer_sum(case((first, rows), else_=0), name),
            integer_sum(case((first, tags), else_=0), key_of(name)),
        ]


def first_rows_of(query: ReportQuery) -> FirstRows | None:
    """How `query` counts people by their previous month; None when it cannot (people by
    DISTINCT): a filter may drop a person's previous row and keep a later one, and a range
    from after the first of a month may leave out the person's earlier rows of that month."""
    starts = query.first_day
    if query.filters or (starts is not None and starts.day != 1):
        return None
    return FirstRows(None if starts is None else month_of_day(starts))


def _each_referral_once(query: ReportQuery, table: Table) -> bool:
    """Whether the waits of `query` can count each referral once too, on its `referral_first`
    row: grouped by reasons (`table` the reason facts) and by nothing that puts a referral in
    two groups besides."""
    others = [name for name in query.group_by if name not in ("reason", "reason-group")]
    return table is REASONS and not fans_out(others)


def once_totals(rows: list[Row], *by: str) -> dict[tuple[Any, ...], Row]:
    """The totals of the `ONCE` columns of `rows` (counts, their key sums and sums, each
    taken once per referral in every group), named without the prefix and taken out of the
    rows: per values of the `by` columns (all under `()` when none), which each total keeps."""
    totals: dict[tuple[Any, ...], Row] = {}
    for row in rows:
        values = tuple(row[column] for column in by)
        total = totals.get(values)
        if total is None:
            total = totals[values] = dict(zip(by, values, strict=True))
        for name in [name for name in row if name.startswith(ONCE)]:
            counted_once = name.removeprefix(ONCE)
            total[counted_once] = total.get(counted_once, 0) + int(row.pop(name) or 0)
    return totals


def _monthly(query: ReportQuery, kept: MonthlyCounts) -> bool:
    """Whether the monthly counts `kept` by the refresh answer `query`: over a run of whole
    months (or open at either end), grouped and filtered by their dimensions alone."""
    return query.whole_months and set(query.group_by) | set(query.filters) <= set(kept.dimensions)


def monthly_sums(table: Table, *names: str) -> list[ColumnElement[Any]]:
    """The counts `names` (and their key sums) of monthly counts, summed."""
    return [
        integer_sum(table.c[column], column) for name in names for column in (name, key_of(name))
    ]


def _monthly_sum(table: Table, count: str, name: str) -> list[ColumnElement[Any]]:
    """The count `count` of monthly counts, and its key sum, summed as `name`."""
    return [integer_sum(table.c[count], name), integer_sum(table.c[key_of(count)], key_of(name))]


def integer_sum(column: ColumnElement[Any], name: str) -> ColumnElement[Any]:
    """SUM(column) AS name, 0 (not NULL) over no rows, as an integer: PostgreSQL sums integers
    as numeric, which arrive as Decimals, ten times slower to read and add up."""
    return cast(func.coalesce(func.sum(column), 0), BigInteger).label(name)


def in_months(column: ColumnElement[Any], query: ReportQuery) -> list[ColumnElement[bool]]:
    """The rows of counts kept per month (`column`: the month number) in `query`'s period."""
    where: list[ColumnElement[bool]] = []
    if query.first_day is not None:
        where.append(column >= month_of_day(query.first_day))
    if query.last_day is not None:
        where.append(column <= month_of_day(query.last_day))
    return where


def _once_total(rows: list[Row], names: Sequence[str]) -> Row:
    """The whole scope's `once_totals` of the counts `names` (and their key sums); 0 for
    each when there are no rows."""
    total: Row = {column: 0 for name in names for column in (name, key_of(name))}
    total.update(once_totals(rows).get((), {}))
    return total


# The people of the whole scope, counted beside the groups' when the total is summed from them.
PEOPLE_OVERALL = "people_overall"


def people_overall_in_totals(rows: list[Row], *totals: Row) -> None:
    """The totals' people are the whole scope's (`PEOPLE_OVERALL`), not the sum of the
    groups'; the groups keep their own."""
    for row in rows:
        row.pop(PEOPLE_OVERALL)
        row.pop(key_of(PEOPLE_OVERALL))
    for total in totals:
        if total:
            total["people"] = total.pop(PEOPLE_OVERALL)
            total[key_of("people")] = total.pop(key_of(PEOPLE_OVERALL))


class Scope:
    """The fact rows a report covers (FROM and WHERE) and its group-by columns."""

    def __init__(
        self, table: Table, query: ReportQuery, group_by: Sequence[str], codes: Codes
    ) -> None:
        self.table = table
        self.query = query
        self.group_by = tuple(group_by)
        self.codes = codes
        self.from_: FromClause = table
        self.where: list[ColumnElement[bool]] = []
        self._reasons: FromClause | None = None
        self._several: dict[str, ColumnElement[Any]] = {}
        self._filter()
        self.dims = [(column_name(name), self.dimension(name)) for name in self.group_by]

    def code_of(self, dimension: str, values: Sequence[str]) -> list[int]:
        known = self.codes.get(dimension, {})
        return [known.get(value, NO_CODE) for value in values]

    def dimension(self, name: str) -> ColumnElement[Any]:
        if column_name(name) in MONTHLY_KEYS.get(self.table.name, ()):
            return self.table.c[column_name(name)]
        if name == "reason-group" and self.table.name in REASON_GROUP_FACTS:
            return self.table.c.reason_group
        if name in ("reason", "reason-group"):
            reasons = self.reasons()
            return reasons.c.reason if name == "reason" else reasons.c.reason_group
        found = catalogue().get(name)
        if found is not None and found.fact is not None:
            table_name, column = found.fact.split(".")
            if table_name == self.table.name:  # the child facts themselves: one row each
                return self.table.c[column]
            return self.several(found.fact)
        return self.table.c[column_name(name)]

    def several(self, fact: str) -> ColumnElement[Any]:
        """A group column of a child fact table (`table.column`), each referral's distinct
        values joined to the scope: a referral with two is in two groups, one with none in
        the group with no value. The child's `group_first` rows carry each value once, so
        no DISTINCT has to sort or hash a million rows."""
        if fact not in self._several:
            table_name, column = fact.split(".")
            table = CHILD_FACTS[table_name]
            values = (
                select(table.c.referral_key, table.c[column])
                .where(table.c.group_first == 1)
                .subquery(f"{column}_of")
            )
            self.from_ = self.from_.outerjoin(
                values, values.c.referral_key == self.table.c.referral_key
            )
            self._several[fact] = values.c[column]
        return self._several[fact]

    def reasons(self) -> FromClause:
        """The reasons to group by: the table itself, or the reason facts joined to it (one row
        per reason group of a referral when only the group is wanted)."""
        if self.table is REASONS:
            return REASONS
        if self._reasons is None:
            joined = REASONS.alias("reason_of")
            on = joined.c.referral_key == self.table.c.referral_key
            if "reason" not in self.group_by:
                on = and_(on, joined.c.group_first == 1)
            self.from_ = self.from_.join(joined, on)
            self._reasons = joined
        return self._reasons

    def _filter(self) -> None:
        table, query = self.table, self.query
        if query.first_day is not None:
            self.where.append(table.c.authored_on >= query.first_day)
        if query.last_day is not None:
            self.where.append(table.c.authored_on <= query.last_day)
        for name, values in query.filters.items():
            if name in ("reason", "reason-group"):
                reason = REASONS.c.reason if name == "reason" else REASONS.c.reason_group
                self.where.append(
                    table.c.referral_key.in_(
                        select(REASONS.c.referral_key).where(reason.in_(self.code_of(name, values)))
                    )
                )
            elif (fact := catalogue()[name].fact) is not None:
                table_name, column = fact.split(".")
                child = CHILD_FACTS[table_name]
                self.where.append(
                    table.c.referral_key.in_(
                        select(child.c.referral_key).where(
                            child.c[column].in_(self.code_of(name, values))
                        )
                    )
                )
            elif name == "imd-decile":
                self.where.append(table.c.imd_decile.in_([int(v) for v in values]))
            else:
                self.where.append(table.c[column_name(name)].in_(self.code_of(name, values)))

    def select(self, *measures: ColumnElement[Any], grouped: bool = True) -> AnySelect:
        """SELECT the group-by columns and `measures` FROM the scope, grouped."""
        dims = self.dims if grouped else []
        statement = (
            select(*(expr.label(name) for name, expr in dims), *measures)
            .select_from(self.from_)
            .where(*self.where)
        )
        if dims:
            statement = statement.group_by(*(expr for _, expr in dims))
        return statement


# Dimensions with a code per member of staff rather than per category, loaded only by the
# reports that read them.
LARGE_DIMENSIONS = ("worker",)


class ReportRepository(Repository):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.codes: Codes = {}
        self.values: dict[str, dict[int, str]] = {}

    async def load_codes(self, *large: str) -> None:
        """The dimension dictionary (a few hundred rows), once per request, with the codes of
        the `LARGE_DIMENSIONS` named in `large` (the workers report's staff identifiers)."""
        if self.codes:
            return
        statement = select(CODE.c.dimension, CODE.c.value, CODE.c.code)
        skipped = [name for name in LARGE_DIMENSIONS if name not in large]
        if skipped:
            statement = statement.where(CODE.c.dimension.not_in(skipped))
        for dimension, value, code in await self.session.execute(statement):
            self.codes.setdefault(dimension, {})[value] = code
            self.values.setdefault(dimension, {})[code] = value

    def code_of(self, dimension: str, values: Sequence[str]) -> list[int]:
        known = self.codes.get(dimension, {})
        return [known.get(value, NO_CODE) for value in values]

    def scope(
        self, table: Table, query: ReportQuery, group_by: Sequence[str] | None = None
    ) -> Scope:
        return Scope(table, query, query.group_by if group_by is None else group_by, self.codes)

    async def rows(
        self,
        statement: RowsStatement,
        decode: dict[str, str] | None = None,
        *,
        coded: bool = True,
    ) -> list[Row]:
        """The result rows with codes turned back into values (`decode` names the dimension
        of columns not named after theirs; `coded=False` for rows of values, not facts)."""
        result = await self.session.execute(statement)
        names = tuple(result.keys())
        dimensions = {**CODED_COLUMNS, **(decode or {})} if coded else {}
        # How each column that needs it is turned back into a value, worked out once per
        # result: a report of ten thousand rows and twenty columns would otherwise test every
        # cell's name against the rules.
        converters: list[tuple[str, Callable[[Any], Any]]] = []
        for name in dict.fromkeys(names):  # a name given twice keeps its last value
            if name == "month":
                converters.append((name, month_label))
            elif name == "imd_decile":
                converters.append((name, str))
            elif name in dimensions:
                converters.append((name, self.values.get(dimensions[name], {}).get))
        rows: list[Row] = [dict(zip(names, row, strict=True)) for row in result]
        for name, convert in converters:
            for values in rows:
                value = values[name]
                if value is not None:
                    values[name] = convert(value)
        return rows

    async def grouped_and_total(
        self,
        table: Table,
        query: ReportQuery,
        measures: Sequence[ColumnElement[Any]],
        where: Sequence[ColumnElement[bool]] = (),
    ) -> tuple[list[Row], Row]:
        """The measures per group and over the whole scope (computed, not summed): one scan
        with GROUPING SETS on PostgreSQL, two statements on SQLite or when the groups join the
        reasons (the total must count each referral once)."""
        await self.load_codes()
        grouped = self.scope(table, query)
        grouped.where.extend(where)
        if not query.group_by:
            rows = await self.rows(grouped.select(*measures))
            return rows, rows[0] if rows else {}
        if dialect_of(self.session) == "postgresql" and not fans_out(query.group_by):
            return await self._grouped_and_total_in_one_scan(grouped, measures)
        rows = await self.rows(grouped.select(*measures))
        whole = self.scope(table, query, ())
        whole.where.extend(where)
        totals = await self.rows(whole.select(*measures))
        return rows, totals[0] if totals else {}

    async def _grouped_and_total_in_one_scan(
        self, grouped: Scope, measures: Sequence[ColumnElement[Any]]
    ) -> tuple[list[Row], Row]:
        """The groups and the total of `grouped_and_total` in one statement (one snapshot),
        scanning the facts in parallel where PostgreSQL can: it runs a plain GROUP BY on
        parallel workers, GROUPING SETS in one process (measured at a million referrals:
        completeness by source system 569 ms with GROUPING SETS, 275 ms grouped in parallel).

        - Counts and sums: grouped in parallel, the total summed from the groups.
        - Distinct counts of a few rows (`COUNT(DISTINCT x) FILTER (WHERE c)`, one `c` for
          all): the rest as above, and the distinct counts by GROUPING SETS over the rows
          where `c` holds, which a parallel scan finds (re-referrals by role: 486 -> 290 ms).
        - Anything else: all of them by GROUPING SETS.
        """
        additive = [m for m in measures if _additive(m)]
        distinct = _filtered_distinct([m for m in measures if not _additive(m)])
        if distinct is None:
            return await self._grouping_sets(grouped, measures)
        rows, total = await self.split_total(_summed_groups(grouped, additive, *distinct))
        # In the measures' own order, as GROUPING SETS answers them.
        order = [name for name, _ in grouped.dims] + [_name_of(m) for m in measures]
        return [{name: row[name] for name in order} for row in rows], {
            name: total[name] for name in order if name in total
        }

    async def _grouping_sets(
        self,
        grouped: Scope,
        measures: Sequence[ColumnElement[Any]],
        only: ColumnElement[bool] | None = None,
    ) -> tuple[list[Row], Row]:
        """Measures per group and over the whole scope (its rows where `only` holds, if given)
        by GROUPING SETS (one process)."""
        dims = [expr for _, expr in grouped.dims]
        statement = (
            select(
                *(expr.label(name) for name, expr in grouped.dims),
                *measures,
                func.grouping(*dims).label("grouping_set"),
            )
            .select_from(grouped.from_)
            .where(*grouped.where, *([] if only is None else [only]))
            .group_by(func.grouping_sets(tuple_(*dims), tuple_()))
        )
        return await self.split_total(statement)

    async def split_total(
        self, statement: Any, decode: dict[str, str] | None = None
    ) -> tuple[list[Row], Row]:
        """The groups and the whole scope (the row marked `grouping_set`) of a statement by
        GROUPING SETS; `decode` as for `rows`."""
        rows: list[Row] = []
        totals: list[Row] = []
        for row in await self.rows(statement, decode):
            (totals if row.pop("grouping_set") else rows).append(row)
        return rows, totals[0] if totals else {}

    # Referrals and people ---------------------------------------------------------------------

    async def referral_counts(
        self, query: ReportQuery, people: bool = False, several: bool = False
    ) -> tuple[list[Row], Row]:
        """Referrals (and people, by pseudonym) per group and in total.

        Without people, from the referrals' monthly counts when they answer the query
        (`referral_measures`). Without filters, over whole months
        (`first_rows_of`), and grouped by nothing or by a breakdown with a previous-month
        column (month, role, PCN and role, practice, reason group), people are plain counts of
        each person's first row in the range and group.
        Otherwise people are the referrals of people referred once (`shared_person` 0, one row
        each) plus the distinct pseudonyms of the others, so the distinct count sees about a
        sixth of the rows. Grouped by reason, the groups are counted on the reason facts (which
        carry the pseudonym) and their distinct pseudonyms by a separate hashed aggregate (a
        COUNT(DISTINCT) there would walk the reason index in group order); the total on the
        referral facts."""
        await self.load_codes()
        several_names = ["several", "several_groups"] if several else []
        if not people and _monthly(query, REFERRAL_MONTHS):
            return await self.referral_measures(query, ["referrals", *several_names])
        first_rows = first_rows_of(query) if people else None

        def measures(people_measures: Sequence[ColumnElement[Any]]) -> list[ColumnElement[Any]]:
            counts = [*counted("referrals", F), *people_measures]
            for name in several_names:
                counts += counted(name, F, REFERRAL_COUNTS[name])
            return counts

        if self._per_reason_table(query) is not REASONS:
            in_group = PREVIOUS_MONTH_COLUMNS.get(frozenset(query.group_by))
            if first_rows is None or in_group is None:
                return await self.grouped_and_total(
                    F, query, measures(_people(F, dialect_of(self.session)) if people else [])
                )
            by_previous = first_rows.people(F, in_group)
            if query.group_by:
                by_previous += first_rows.people(F, PREVIOUS_MONTH, PEOPLE_OVERALL)
            rows, total = await self.grouped_and_total(F, query, measures(by_previous))
            if query.group_by:
                people_overall_in_totals(rows, total)
            return rows, total
        scope = self._reason_scope(query)
        grouped: list[ColumnElement[Any]] = counted("referrals", REASONS)
        if first_rows is not None and query.group_by == ("reason-group",) and not several:
            if _monthly(query, REASON_PEOPLE_MONTHS):
                return await self._people_by_reason_group_monthly(query, first_rows)
            return await self._people_by_reason_group(scope, first_rows)
        if people:
            grouped += single_people(REASONS)
        rows = await self.rows(scope.select(*grouped))
        people_total: list[ColumnElement[Any]] = []
        if people:
            people_total += (
                _people(F, dialect_of(self.session))
                if first_rows is None
                else first_rows.people(F, PREVIOUS_MONTH)
            )
        totals = await self.rows(self.scope(F, query, ()).select(*measures(people_total)))
        if people:
            await self.add_shared_people(rows, scope)
        return rows, totals[0]

    async def referral_measures(
        self, query: ReportQuery, names: Sequence[str], by_status: dict[str, str] | None = None
    ) -> tuple[list[Row], Row]:
        """The referral facts' counts `names` (`REFERRAL_COUNTS`), and the referrals of each
        status in `by_status` (count name: status), per group and over the whole scope: from
        their monthly counts kept by the refresh when those answer the query (`_monthly`), else
        from the facts."""
        await self.load_codes()
        statuses = {
            name: self.code_of("status", [status]) for name, status in (by_status or {}).items()
        }
        if not _monthly(query, REFERRAL_MONTHS):
            measures = [m for name in names for m in counted(name, F, REFERRAL_COUNTS[name])]
            for name, codes in statuses.items():
                measures += counted(name, F, flag(F.c.status.in_(codes)))
            return await self.grouped_and_total(F, query, measures)
        table = REFERRAL_MONTHS.table
        measures = monthly_sums(table, *names)
        for name, codes in statuses.items():
            of_status = table.c.status.in_(codes)
            measures += [
                integer_sum(case((of_status, table.c[column]), else_=0), counted_as)
                for column, counted_as in (("referrals", name), (key_of("referrals"), key_of(name)))
            ]
        rows = await self.rows(self.monthly_scope(table, query).select(*measures))
        if not query.group_by:
            return rows, rows[0]
        totals = await self.rows(self.monthly_scope(table, query, ()).select(*measures))
        return rows, totals[0]

    @staticmethod
    def monthly(query: ReportQuery, kept: MonthlyCounts) -> bool:
        """Whether the monthly counts `kept` answer `query` (`_monthly`, looked up when called:
        the tests that compare both paths replace it)."""
        return _monthly(query, kept)

    def monthly_scope(
        self, table: Table, query: ReportQuery, group_by: Sequence[str] | None = None
    ) -> Scope:
        """The rows of monthly counts `table` (`_monthly`) in `query`'s months and filters."""
        scope = self.scope(table, replace(query, first_day=None, last_day=None), group_by)
        scope.where.extend(in_months(table.c.month, query))
        return scope

    async def _people_by_reason_group(
        self, scope: Scope, first_rows: FirstRows
    ) -> tuple[list[Row], Row]:
        """Referrals and people per reason group and in total from one scan of the reason
        facts' group rows (`scope`): a group's people by their previous month in the group,
        and the total's on each referral's `referral_first` row by its previous month of any
        group, which add up over the groups. Every referral has one such row, as the
        support-match total relies on too: a referral sent without a reason is kept with the
        `reason-not-recorded` reason (`signpost_schemas.fhir.service_request`)."""
        once = REASONS.c.referral_first == 1
        rows = await self.rows(
            scope.select(
                *counted("referrals", REASONS),
                *first_rows.people(REASONS, REASON_GROUP_PREVIOUS_MONTH),
                *counted(ONCE + "referrals", REASONS, REASONS.c.referral_first),
                *first_rows.people(REASONS, PREVIOUS_MONTH, ONCE + "people", once),
            )
        )
        return rows, _once_total(rows, ("referrals", "people"))

    async def _people_by_reason_group_monthly(
        self, query: ReportQuery, first_rows: FirstRows
    ) -> tuple[list[Row], Row]:
        """`_people_by_reason_group` over whole months, unfiltered, from the reason facts'
        monthly counts kept by the refresh (`REASON_PEOPLE_MONTHS`): a group's people are its
        group rows whose previous month in the group is before the range (or none), the
        total's the referrals' first rows by their previous month of any group."""
        table = REASON_PEOPLE_MONTHS.table
        c = table.c
        scope = self.monthly_scope(table, query)
        statement = scope.select(
            *_monthly_sum(table, "group_rows", "referrals"),
            *first_rows.monthly_people(c.group_rows, c.group_tags, c.previous, "people"),
            *_monthly_sum(table, "first_rows", ONCE + "referrals"),
            *first_rows.monthly_people(
                c.first_rows, c.first_tags, c.first_previous, ONCE + "people"
            ),
        ).having(func.sum(table.c.group_rows) > 0)
        rows = await self.rows(statement)
        return rows, _once_total(rows, ("referrals", "people"))

    async def add_shared_people(
        self, rows: list[Row], scope: Scope, *more: ColumnElement[Any]
    ) -> None:
        """Complete the people of `rows`, counted with `single_people` per group of `scope`
        (and the labelled columns `more`), with the distinct pseudonyms of people with other
        referrals: rows of (group, pseudonym) made distinct with a hash, then counted (with
        their tags). The main statement then needs no COUNT(DISTINCT), which would sort all
        its rows by group rather than hash them."""
        table = scope.table
        columns = [*(expr.label(name) for name, expr in scope.dims), *more]
        names = [column.name for column in columns]
        pairs = (
            select(*columns, table.c.person_key, table.c.person_tag)
            .select_from(scope.from_)
            .where(*scope.where, table.c.shared_person == 1)
            .distinct()
            .subquery("shared_people")
        )
        people = select(
            *(pairs.c[n] for n in names),
            func.count().label("people"),
            func.coalesce(func.sum(pairs.c.person_tag), 0).label("tags"),
        ).group_by(*(pairs.c[n] for n in names))
        shared = {
            tuple(row.get(n) for n in names): (int(row["people"]), int(row["tags"]))
            for row in await self.rows(people)
        }
        for row in rows:
            found, tags = shared.get(tuple(row.get(n) for n in names), (0, 0))
            row["people"] = int(row.pop("single") or 0) + found
            row[key_of("people")] = int(row.pop("single_tags") or 0) + tags

    def _per_reason_table(self, query: ReportQuery) -> Table:
        """The reason facts when the groups are reasons (they carry what referral counts and
        waits need), else the referral facts."""
        if any(name in ("reason", "reason-group") for name in query.group_by):
            return REASONS
        return F

    def _reason_scope(self, query: ReportQuery) -> Scope:
        """Reason facts grouped by reason: one row per reason group of a referral when only
        the group is wanted, so each referral counts once per group."""
        scope = self.scope(REASONS, query)
        if "reason" not in query.group_by:
            scope.where.append(REASONS.c.group_first == 1)
        return scope

    # Reasons ----------------------------------------------------------------------------------

    async def reason_counts(
        self, query: ReportQuery, level: str
    ) -> tuple[list[Row], list[Row], Row]:
        """Referrals per group and reason (or reason group), every reason counted; and from the
        same scan the referrals of each group and of the whole scope, each counted once (on
        its `referral_first` row). Every referral has a reason row (one sent without a reason
        is stored with "reason not recorded"), filters keep whole referrals, and `query`
        groups by no dimension that puts a referral in two groups, so those counts add up."""
        assert not fans_out(query.group_by), "a referral in two groups would be counted twice"
        await self.load_codes()
        if _monthly(query, REASON_MONTHS):
            table = REASON_MONTHS.table
            scope = self.monthly_scope(table, query, (*query.group_by, level))
            measures = [
                *_monthly_sum(
                    table, "reasons" if level == "reason" else "group_first", "referrals"
                ),
                *_monthly_sum(table, "referral_first", "once"),
            ]
        else:
            scope = self.scope(REASONS, query, (*query.group_by, level))
            if level == "reason-group":
                scope.where.append(REASONS.c.group_first == 1)
            measures = [
                *counted("referrals", REASONS),
                *counted("once", REASONS, REASONS.c.referral_first),
            ]
        rows = await self.rows(scope.select(*measures))
        names = [column_name(name) for name in query.group_by]
        groups: dict[tuple[Any, ...], Row] = {}
        total: Row = {"referrals": 0, key_of("referrals"): 0}
        for row in rows:
            once, once_key = int(row.pop("once")), int(row.pop(key_of("once")))
            group = groups.setdefault(
                tuple(row[name] for name in names),
                {**{name: row[name] for name in names}, "referrals": 0, key_of("referrals"): 0},
            )
            for counts in (group, total):
                counts["referrals"] += once
                counts[key_of("referrals")] += once_key
        return rows, list(groups.values()), total

    async def reason_pairs(self, query: ReportQuery, level: str) -> list[Row]:
        """Referrals per group carrying both reasons (or reason groups) of each pair: from the
        monthly counts kept by the refresh when the query allows (`_monthly`), else
        from the pair facts."""
        await self.load_codes()
        if _monthly(query, PAIR_MONTHS):
            table = PAIR_MONTHS.table
            scope = self.monthly_scope(table, query)
            counts = monthly_sums(table, "referrals")
        else:
            scope = self.scope(PAIRS, query)
            counts = list(counted("referrals", PAIRS))
            table = PAIRS
        scope.where.append(table.c.level == PAIR_LEVELS[level])
        statement = scope.select(
            table.c.first.label("first"), table.c.second.label("second"), *counts
        ).group_by(table.c.first, table.c.second)
        return await self.rows(statement, {"first": level, "second": level})

    # Support ----------------------------------------------------------------------------------

    async def support_counts(self, query: ReportQuery, level: str) -> tuple[list[Row], Row]:
        """Support offers and the referrals offered each support (or support group): from the
        support's monthly counts when they answer the query (`_monthly`), else from the
        facts; and the referrals offered any (`referral_measures`)."""
        await self.load_codes()
        # A referral offered two types of support in one group counts once in that group.
        sums = {
            "referrals": "supports" if level == "support" else "group_first",
            "offers": "offers",
            "onward_referrals": "onward_referrals",
        }
        if _monthly(query, SUPPORT_MONTHS):
            table = SUPPORT_MONTHS.table
            scope = self.monthly_scope(table, query)
            counts = [m for name, kept in sums.items() for m in _monthly_sum(table, kept, name)]
            whole = self.monthly_scope(table, query, ())
        else:
            table, scope, whole = (
                SUPPORT,
                self.scope(SUPPORT, query),
                self.scope(SUPPORT, query, ()),
            )
            counts = [
                m
                for name, kept in sums.items()
                for m in counted(name, SUPPORT, SUPPORT_COUNTS[kept])
            ]
        column = table.c.support if level == "support" else table.c.support_group
        rows = await self.rows(
            scope.select(column.label("support"), *counts).group_by(column), {"support": level}
        )
        _, offered = await self.referral_measures(replace(query, group_by=()), ["offered"])
        total = {"referrals": offered["offered"], key_of("referrals"): offered[key_of("offered")]}
        summed = ("offers", key_of("offers"), "onward_referrals", key_of("onward_referrals"))
        if not fans_out(query.group_by):  # each support row is in one group: the groups add up
            return rows, {**total, **{name: sum(row[name] for row in rows) for name in summed}}
        offers = await self.rows(whole.select(*counts[2:]))
        return rows, {**total, **offers[0]}

    async def support_match(
        self, query: ReportQuery, groups: Sequence[str]
    ) -> tuple[list[Row], Row]:
        """Per group and need (reason group): referrals with it, those offered any support and
        those offered support that addresses it; and the same once per referral.

        The total comes from the same scan, on each referral's `referral_first` row (its
        `first_has_need` and `first_need_met`), which may be a reason of a group no support
        addresses: every reason group is counted, and those outside `groups` dropped after.
        Filters keep whole referrals, and the report groups by no dimension that puts a
        referral in two groups (reasons are its own rows), so the groups' counts add up."""
        assert not fans_out(query.group_by), "a referral in two groups would be counted twice"
        await self.load_codes()
        # Each count: the reason facts' count it is (`REASON_COUNTS`, on the group rows).
        sums = {
            "referrals": "group_first",
            "with_support": "with_support",
            "matched": "matched",
            ONCE + "referrals": "first_has_need",
            ONCE + "with_support": "first_with_support",
            ONCE + "matched": "first_need_met",
        }
        if _monthly(query, REASON_MONTHS):
            table = REASON_MONTHS.table
            scope = self.monthly_scope(table, query)
            counts = [m for name, kept in sums.items() for m in _monthly_sum(table, kept, name)]
        else:
            table, scope = REASONS, self.scope(REASONS, query)
            scope.where.append(REASONS.c.group_first == 1)
            counts = [
                m
                for name, kept in sums.items()
                for m in counted(name, REASONS, REASON_COUNTS[kept])
            ]
        group = table.c.reason_group
        rows = await self.rows(scope.select(group.label("reason_group"), *counts).group_by(group))
        total = _once_total(rows, ["referrals", "with_support", "matched"])
        needs = set(groups)
        return [row for row in rows if row["reason_group"] in needs], total

    # Waiting times ----------------------------------------------------------------------------

    async def waiting_histograms(self, query: ReportQuery) -> tuple[list[Row], list[Row] | None]:
        """Rows of (group, wait, days, referrals): how many referrals waited so many days
        to the first attended contact, and to closure; plus referrals per group. And the same
        rows for the whole scope, with no group, when the scan counted them too (each referral
        once): None when the caller must ask again ungrouped."""
        await self.load_codes()
        table = self._per_reason_table(query)
        kept = WAIT_MONTHS if table is F else REASON_WAIT_MONTHS
        # By reason group, unfiltered only: a filter on reason group keeps whole referrals,
        # their other groups too, which counts per group cannot tell apart.
        if self.monthly(query, kept) and (kept is WAIT_MONTHS or not query.filters):
            return await self._waiting_monthly(query, kept)
        if dialect_of(self.session) == "postgresql":
            return await self._waiting_in_one_scan(query, table)
        return await self._waiting_in_branches(query, table)

    async def _waiting_monthly(
        self, query: ReportQuery, kept: MonthlyCounts
    ) -> tuple[list[Row], list[Row] | None]:
        """The rows of `waiting_histograms` from their monthly counts (`_monthly`): the
        histograms' rows summed per group. By reason group, its group rows, and the whole
        scope's from their referrals' first rows, each referral once, summed over the groups."""
        table = kept.table
        reasons = kept is REASON_WAIT_MONTHS
        counts = _monthly_sum(table, "group_rows" if reasons else "referrals", "referrals")
        if reasons:
            counts += _monthly_sum(table, "first_rows", ONCE + "referrals")
        statement = self.monthly_scope(table, query).select(table.c.wait, table.c.days, *counts)
        rows = await self.rows(statement.group_by(table.c.wait, table.c.days))
        if not query.group_by and not rows:  # ungrouped, the referrals are counted: none
            rows = [{"wait": WAIT_CODES["referrals"], "days": 0, **{c.name: 0 for c in counts}}]
        waits = {code: wait for wait, code in WAIT_CODES.items()}
        for row in rows:
            row["wait"] = waits[row["wait"]]
            if row["wait"] == "referrals":
                row["days"] = None
        return rows, (list(once_totals(rows, "wait", "days").values()) if reasons else None)

    async def _waiting_in_branches(
        self, query: ReportQuery, table: Table
    ) -> tuple[list[Row], list[Row] | None]:
        """The rows of `waiting_histograms`, one UNION ALL branch per wait (SQLite); grouped
        by reasons alone, the whole scope's from each referral's `referral_first` row, as
        `_waiting_in_one_scan` counts them."""
        once = _each_referral_once(query, table)
        branches = []
        for measure, column in (
            ("referrals", None),
            ("first_contact", table.c.first_contact_days),
            ("closure", table.c.closure_days),
        ):
            scope = self._reason_scope(query) if table is REASONS else self.scope(F, query)
            days: ColumnElement[Any] = cast(null(), Integer) if column is None else column
            if column is not None:
                scope.where.append(column.is_not(None))
            statement = scope.select(
                literal_column(f"'{measure}'").label("wait"),
                days.label("days"),
                *counted("referrals", table),
                *(counted(ONCE + "referrals", table, table.c.referral_first) if once else ()),
            )
            if column is not None:
                statement = statement.group_by(column)
            branches.append(statement)
        rows = await self.rows(union_all(*branches))
        return rows, (list(once_totals(rows, "wait", "days").values()) if once else None)

    async def _waiting_in_one_scan(
        self, query: ReportQuery, table: Table
    ) -> tuple[list[Row], list[Row] | None]:
        """The three histograms of `waiting_histograms` from one scan: the fact rows counted
        per group and pair of waits first (an aggregate PostgreSQL can spread over parallel
        workers, unlike GROUPING SETS), then those counts summed by GROUPING SETS.

        Grouped by reasons alone, the whole scope's histograms come from the same scan: each
        referral counted once, on its `referral_first` row, and summed over the groups."""
        scope = self._reason_scope(query) if table is REASONS else self.scope(F, query)
        names = [name for name, _ in scope.dims]
        once = _each_referral_once(query, table)
        waits = (table.c.first_contact_days, table.c.closure_days)
        pairs = (
            select(
                *(expr.label(name) for name, expr in scope.dims),
                waits[0].label("first_contact"),
                waits[1].label("closure"),
                *counted("referrals", table),
                *(counted(ONCE + "referrals", table, table.c.referral_first) if once else ()),
            )
            .select_from(scope.from_)
            .where(*scope.where)
            .group_by(*(expr for _, expr in scope.dims), *waits)
            .subquery("wait_pairs")
        )
        dims = [pairs.c[name] for name in names]
        first, closure = pairs.c.first_contact, pairs.c.closure
        summed = ["referrals", key_of("referrals")]
        sets = [tuple_(*dims, first), tuple_(*dims, closure), tuple_(*dims)]
        if once:
            summed += [ONCE + "referrals", key_of(ONCE + "referrals")]
            sets += [tuple_(first), tuple_(closure), tuple_()]
        statement = select(
            *dims,
            first,
            closure,
            *(
                # 0, not NULL, when nothing matches (the grand total of no rows)
                integer_sum(pairs.c[name], name)
                for name in summed
            ),
            func.grouping(first, closure).label("grouping_set"),
            *([func.grouping(*dims).label("ungrouped")] if once else []),
        ).group_by(func.grouping_sets(*sets))
        rows: list[Row] = []
        whole: list[Row] = []
        for row in await self.rows(statement):
            # grouping(first, closure): 1 when grouped by first, 2 by closure, 3 by neither.
            kind = row.pop("grouping_set")
            first_days, closure_days = row.pop("first_contact"), row.pop("closure")
            into = rows
            if once:
                once_counts = {n: row.pop(ONCE + n) for n in ("referrals", key_of("referrals"))}
                if row.pop("ungrouped"):  # the whole scope's sets: each referral counted once
                    into, row = whole, once_counts
            if kind == 3:
                into.append({**row, "wait": "referrals", "days": None})
            elif kind == 1 and first_days is not None:
                into.append({**row, "wait": "first_contact", "days": first_days})
            elif kind == 2 and closure_days is not None:
                into.append({**row, "wait": "closure", "days": closure_days})
        return rows, (whole if once else None)

    # Attendance and outcomes ------------------------------------------------------------------

    async def attendance(self, query: ReportQuery) -> tuple[list[Row], Row]:
        """Contacts by attendance outcome, and referrals with a contact or a DNA."""
        return await self.referral_measures(query, ATTENDANCE_COUNTS)

    async def lifecycle_status(self, query: ReportQuery) -> list[Row]:
        """Referrals per group and lifecycle status (received when nothing came back).

        Grouped by support group, the referrals offered support are counted on the support
        facts (their `group_first` rows carry the referral's status) and those offered none
        on the referral facts, in the group with no value: no join of the two. When the
        monthly counts answer the query (`_monthly`: the support's, and the referrals', which
        count those offered any), they are summed instead."""
        await self.load_codes()
        if SUPPORT_GROUP not in query.group_by:
            if _monthly(query, REFERRAL_MONTHS):
                table = REFERRAL_MONTHS.table
                scope = self.monthly_scope(table, query)
                referrals = monthly_sums(table, "referrals")
            else:
                table, scope, referrals = F, self.scope(F, query), counted("referrals", F)
            return await self.rows(
                scope.select(table.c.status.label("status"), *referrals).group_by(table.c.status)
            )
        others = [name for name in query.group_by if name != SUPPORT_GROUP]
        if _monthly(replace(query, group_by=tuple(others)), SUPPORT_MONTHS):
            # The same from the support's and the referrals' monthly counts.
            offered = self.monthly_scope(SUPPORT_MONTHS.table, query)
            offered_counts = _monthly_sum(SUPPORT_MONTHS.table, "group_first", "referrals")
            months = REFERRAL_MONTHS.table
            none = self.monthly_scope(months, query, others)
            # The referrals offered none: all less those offered any, and their key sums.
            without = [
                months.c.referrals - months.c.offered,
                months.c[key_of("referrals")] - months.c[key_of("offered")],
            ]
            none_counts = [
                integer_sum(without[0], "referrals"),
                integer_sum(without[1], key_of("referrals")),
            ]
            only = func.sum(without[0]) > 0
        else:
            offered = self.scope(SUPPORT, query)
            offered.where.append(SUPPORT.c.group_first == 1)
            offered_counts = counted("referrals", SUPPORT)
            none = self.scope(F, query, others)
            none.where.append(F.c.has_support == 0)
            none_counts, only = counted("referrals", F), None
        branches = []
        for scope, dims, counts in (
            (offered, dict(offered.dims), offered_counts),
            (
                none,
                {**dict(none.dims), column_name(SUPPORT_GROUP): cast(null(), SmallInteger)},
                none_counts,
            ),
        ):
            table = scope.table
            columns = [dims[column_name(name)].label(column_name(name)) for name in query.group_by]
            statement = (
                select(*columns, table.c.status.label("status"), *counts)
                .select_from(scope.from_)
                .where(*scope.where)
                .group_by(*(expr for _, expr in scope.dims), table.c.status)
            )
            if only is not None and scope is none:  # no row for a group every referral left
                statement = statement.having(only)
            branches.append(statement)
        return await self.rows(union_all(*branches))

    async def closure_reasons(self, query: ReportQuery) -> list[Row]:
        """Closed and declined referrals per group, ending and reason."""
        await self.load_codes()
        scope = self.scope(F, query)
        scope.where.append(F.c.status.in_(self.code_of("status", ["closed", "declined"])))
        return await self.rows(
            scope.select(
                F.c.status.label("ended"),
                F.c.ended_reason.label("code"),
                *counted("referrals", F),
            ).group_by(F.c.status, F.c.ended_reason),
            {"ended": "status", "code": "ended-reason"},
        )

    # Rates ------------------------------------------------------------------------------------

    async def list_size_levels(self) -> set[str]:
        """Which area types have list sizes loaded (practice, pcn)."""
        result = await self.session.execute(select(LIST.c.area_type).distinct())
        return {row[0] for row in result}

    async def rate_numerators(self, query: ReportQuery, level: str) -> tuple[list[Row], Row]:
        """Referrals of people registered in areas that have a list size loaded."""
        await self.load_codes()
        areas = await self.session.execute(
            select(LIST.c.area_code).where(LIST.c.area_type == level).distinct()
        )
        area = F.c.practice if level == "practice" else F.c.pcn
        loaded = area.in_(self.code_of(level, [row[0] for row in areas]))
        return await self.grouped_and_total(F, query, counted("referrals", F), where=[loaded])

    async def populations(
        self, level: str, group_by: Sequence[str], filters: dict[str, tuple[str, ...]]
    ) -> list[Row]:
        """Registered population per combination of the population dimensions in `group_by`
        (practice, pcn, age-band, gender), restricted by the same filters."""
        columns = {
            "practice": LIST.c.area_code,
            "pcn": LIST.c.area_code if level == "pcn" else LIST.c.pcn_ods,
            "age-band": LIST.c.age_band,
            "gender": LIST.c.sex,
        }
        dims = [(column_name(name), columns[name]) for name in group_by if name in columns]
        statement = select(
            *(expr.label(name) for name, expr in dims),
            func.coalesce(func.sum(LIST.c.population), 0).label("population"),
        ).where(LIST.c.area_type == level)
        for name, values in filters.items():
            if name in columns:
                statement = statement.where(columns[name].in_(values))
        if dims:
            statement = statement.group_by(*(expr for _, expr in dims))
        return await self.rows(statement, coded=False)

    # Wellbeing --------------------------------------------------------------------------------

    async def wellbeing_change(self, query: ReportQuery) -> tuple[list[Row], list[Row]]:
        """Per group and score: pairs, the sums of baseline, follow-up and change, and how many
        improved; and the same per score over the whole scope."""
        await self.load_codes()
        change = SCORES.c.follow_up - SCORES.c.baseline
        lower = self.code_of("measure", sorted(wellbeing.LOWER_IS_BETTER))
        improved = case((SCORES.c.measure.in_(lower), flag(change < 0)), else_=flag(change > 0))
        measures = [
            SCORES.c.measure.label("measure"),
            *counted("pairs", SCORES),
            func.sum(SCORES.c.baseline).label("baseline_sum"),
            func.sum(SCORES.c.follow_up).label("follow_up_sum"),
            func.sum(change).label("change_sum"),
            *counted("improved", SCORES, improved),
        ]
        rows = await self.rows(
            self.scope(SCORES, query).select(*measures).group_by(SCORES.c.measure)
        )
        if not query.group_by:
            return rows, rows
        whole = await self.rows(
            self.scope(SCORES, query, ()).select(*measures).group_by(SCORES.c.measure)
        )
        return rows, whole

    # Re-referrals and parallel referrals ------------------------------------------------------

    async def linkage(self, query: ReportQuery) -> tuple[list[Row], Row]:
        """Referrals, re-referrals and referrals in parallel per group and in total, and the
        people with a referral in parallel, each once. The counts come from the referrals'
        monthly counts when those answer the query (`referral_measures`), and the people from
        the facts' referrals in parallel alone (a partial index finds them)."""
        await self.load_codes()
        in_parallel = F.c.parallel == 1
        people = [
            # Everyone with a parallel referral has other referrals, so has a pseudonym.
            func.count(func.distinct(F.c.person_key))
            .filter(in_parallel)
            .label("people_in_parallel"),
            distinct_person_key_sum(
                dialect_of(self.session), F.c.person_key, F.c.person_tag, in_parallel
            ).label(key_of("people_in_parallel")),
        ]
        counts = ("referrals", "re_referrals", "parallel")
        if not _monthly(query, REFERRAL_MONTHS):
            measures = [m for name in counts for m in counted(name, F, REFERRAL_COUNTS[name])]
            return await self.grouped_and_total(F, query, [*measures, *people])
        rows, total = await self.referral_measures(query, counts)
        people_rows, people_total = await self.grouped_and_total(
            F, query, people, where=[in_parallel]
        )
        names = ("people_in_parallel", key_of("people_in_parallel"))
        dims = [column_name(d) for d in query.group_by]
        found = {tuple(row[d] for d in dims): row for row in people_rows}
        for row in rows:  # without a breakdown, the total is the one row
            counted_people = found.get(tuple(row[d] for d in dims), {})
            row.update({name: counted_people.get(name) or 0 for name in names})
        if query.group_by:
            total.update({name: people_total.get(name) or 0 for name in names})
        return rows, total

    # Completeness -----------------------------------------------------------------------------

    async def completeness(self, query: ReportQuery) -> tuple[list[Row], Row]:
        """Per group: referrals, and how many have each field present and coded (`has_<field>`;
        `has_closed` counts the closed referrals the closure reason applies to)."""
        names = ["referrals", *(f"has_{field}" for field in COMPLETENESS_FLAGS)]
        return await self.referral_measures(query, names, {"has_closed": "closed"})

    # Lookups ----------------------------------------------------------------------------------

    async def replace_imd(self, rows: Sequence[dict[str, Any]]) -> None:
        await self.session.execute(delete(LsoaImd))
        for start in range(0, len(rows), 5_000):
            await self.session.execute(table_of(LsoaImd).insert(), rows[start : start + 5_000])

    async def replace_list_sizes(self, area_type: str, rows: Sequence[dict[str, Any]]) -> None:
        await self.session.execute(delete(ListSize).where(ListSize.area_type == area_type))
        for start in range(0, len(rows), 5_000):
            await self.session.execute(table_of(ListSize).insert(), rows[start : start + 5_000])

    async def record_load(self, lookup: str, source: str, is_sample: bool, count: int) -> None:
        await self.session.execute(
            table_of(LookupLoad)
            .insert()
            .values(
                lookup=lookup,
                source=source,
                is_sample=is_sample,
                row_count=count,
                loaded_at=datetime.now(UTC),
            )
        )
