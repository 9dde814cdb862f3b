"""The differencing attack on published reports, by interval reasoning across many answers.

An attacker with a plain `reports:read` token fetches many answers (every count report, no
group-by, one and two group-by dimensions, with and without a filter) and reasons with
intervals, knowing the public rule: a value shown as v is a true count within the rounding
and the largest adjustment of v, and at least 8; a suppressed cell is at least 1. Each cell is
an unknown identified by what it counts and where (a filter is just one more fixed
dimension), so one cell shown by several answers is one unknown; additive facts tie them
together: a table's rows add up to its total, a finer table's cells add up to the coarser
cell (outcomes by age band and gender to outcomes by age band), the status columns of
`outcomes` add up to its referrals, the reasons of `closure-reasons` to its `ended_total`.
Intervals are tightened by propagating those sums until nothing moves.

The answers come from referral-api (`fetch_answers`: the published figures with
`reports:read`, the true ones with `reports:unsuppressed`) or, for studying the rule on many
disclosure keys without a database, from the reference recomputation
(`reference_answers`: true counts and record keys in plain Python, published by
`publish_count`; no differencing audit, which only withholds more).
"""

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx

from signpost_schemas.disclosure import PerturbationTable, cell_key
from tests.support.clients import bearer
from tests.support.report_reference import Count, Reference

DIMENSIONS = ("role", "month", "age-band", "gender", "source-system")
FILTERS: tuple[dict[str, str], ...] = ({}, {"source-system": "emis"}, {"role": "care-coordinator"})
REPORTS_ATTACKED = (
    "referrals",
    "outcomes",
    "closure-reasons",
    "attendance",
    "waiting-times",
    "completeness",
)
STATUSES = ("received", "accepted", "declined", "cancelled", "closed")
ATTENDANCE = (
    "contacts",
    "attended",
    "dna",
    "not_seen",
    "cancelled_by_patient",
    "cancelled_by_provider",
    "booked",
    "appointments_due",
    "referrals_with_contact",
    "referrals_with_dna",
)

Cell = tuple[str, frozenset[tuple[str, str | None]]]  # (measure, fixed dimensions)


@dataclass
class Answer:
    number: int
    report: str
    group_by: tuple[str, ...]
    filters: dict[str, str]
    published: dict[str, Any] = field(default_factory=dict)
    true: dict[str, Any] = field(default_factory=dict)


def questions() -> Iterator[tuple[str, tuple[str, ...], dict[str, str]]]:
    """(report, group-by, filters) of every answer the attacker asks for."""
    group_bys = [(), *((d,) for d in DIMENSIONS), *itertools.combinations(DIMENSIONS, 2)]
    for report in REPORTS_ATTACKED:
        for group_by in group_bys:
            if report == "completeness" and not group_by:
                continue  # its default group-by is source-system: asked for explicitly
            for filters in FILTERS:
                yield report, group_by, filters


async def fetch(
    client: httpx.AsyncClient, period: tuple[date, date] | None, unsuppressed: bool = False
) -> list[dict[str, Any]]:
    """Every question's answer from referral-api (over `period` when given): as published to a
    `reports:read` token, or the true figures (`reports:unsuppressed`)."""
    scopes = ("reports:read", "reports:unsuppressed") if unsuppressed else ("reports:read",)
    headers = bearer(*scopes)
    bodies = []
    for report, group_by, filters in questions():
        params: dict[str, Any] = {**filters}
        if period:
            params |= {"from": period[0].isoformat(), "to": period[1].isoformat()}
        if group_by:
            params["group_by"] = ",".join(group_by)
        if unsuppressed:
            params["disclosure"] = "none"
        response = await client.get(f"/reports/{report}", params=params, headers=headers)
        assert response.status_code == 200, response.text
        bodies.append(response.json())
    return bodies


async def fetch_answers(
    client: httpx.AsyncClient,
    period: tuple[date, date] | None = None,
    true: list[dict[str, Any]] | None = None,
) -> list[Answer]:
    """Every answer, published and true, from referral-api (the true figures fetched unless
    given: they do not change with the disclosure rule)."""
    published = await fetch(client, period)
    true = true if true is not None else await fetch(client, period, unsuppressed=True)
    return [
        Answer(number, report, group_by, filters, shown, truth)
        for number, ((report, group_by, filters), shown, truth) in enumerate(
            zip(questions(), published, true, strict=True)
        )
    ]


def reference_answers(reference: Reference, table: PerturbationTable) -> list[Answer]:
    """Every answer as the reference computes it, published by the rule under `table` with the
    reference's record keys (rows as referral-api serves them, count columns only)."""
    answers = []
    for number, (report, group_by, filters) in enumerate(questions()):
        computed = reference.report(report, {k: (v,) for k, v in filters.items()}, group_by, {})
        answer = Answer(number, report, group_by, filters)
        for target, value in (
            ("true", lambda count: count.value),
            ("published", lambda count: table.publish(count.value, cell_key(count.keys))),
        ):
            shown: dict[str, Any] = {}
            for kind, rows in (("rows", computed.rows), ("totals", computed.totals)):
                shown[kind] = [
                    dict(zip(computed.key_columns, key, strict=True))
                    | {c: value(v) for c, v in row.items() if isinstance(v, Count)}
                    for key, row in rows.items()
                ]
            setattr(answer, target, shown)
        answers.append(answer)
    return answers


def cells_of(answer: Answer, row: dict[str, Any], is_total: bool) -> dict[Cell, Any]:
    """The unknowns a row shows: measure and fixed dimensions → its value there."""
    fixed: dict[str, str | None] = dict(answer.filters)
    for name in () if is_total else answer.group_by:
        fixed[name] = row.get(name.replace("-", "_"))

    def cell(measure: str, **extra: str | None) -> Cell:
        return (measure, frozenset({**fixed, **extra}.items()))

    found: dict[Cell, Any] = {}
    if answer.report in ("referrals", "waiting-times"):
        found[cell("referrals")] = row["referrals"]
    if answer.report == "waiting-times":
        found[cell("first-contact")] = row["first_contact"]
        found[cell("waits-closed")] = row["closed"]
    if answer.report == "outcomes":
        found[cell("referrals")] = row["referrals"]
        for status in STATUSES:
            found[cell("referrals", status=status)] = row[status]
    if answer.report == "closure-reasons":
        found[cell("referrals", status=row["ended"], code=row["code"])] = row["referrals"]
        found[cell("referrals", status=row["ended"])] = row["ended_total"]
    if answer.report == "attendance":
        for name in ATTENDANCE:
            found[cell(f"attendance-{name}")] = row[name]
    if answer.report == "completeness":
        if row["field"] != "closure_reason":
            found[cell("referrals")] = row["applicable"]
        found[cell(f"complete-{row['field']}")] = row["complete"]
    return found


@dataclass
class Attack:
    table: PerturbationTable
    bounds: dict[Cell, tuple[float, float]] = field(default_factory=dict)
    true: dict[Cell, int] = field(default_factory=dict)
    hidden: set[Cell] = field(default_factory=set)  # suppressed, or shown as another value
    shown: dict[Cell, set[int]] = field(default_factory=dict)  # the values published for it
    seen_in: dict[Cell, set[int]] = field(default_factory=dict)
    sums: list[tuple[Cell, list[Cell]]] = field(default_factory=list)
    answers: int = 0

    @classmethod
    def of(cls, table: PerturbationTable, answers: list[Answer]) -> "Attack":
        """The attack on `answers`, propagated."""
        attack = cls(table)
        for answer in answers:
            attack.observe(answer)
        attack.propagate()
        return attack

    def observe(self, answer: Answer) -> None:
        # Ranked reports order rows by published counts: rows are matched by what they show.
        self.answers += 1
        published: dict[Cell, Any] = {}
        for key, is_total in (("rows", False), ("totals", True)):
            for shown in answer.published[key]:
                published.update(cells_of(answer, shown, is_total))
        truth = [(row, False) for row in answer.true["rows"]]
        truth += [(row, True) for row in answer.true["totals"]]
        grouped: dict[tuple[Cell, str], list[Cell]] = {}  # (cell, dimension summed over)
        for true, is_total in truth:
            row_cells = cells_of(answer, true, is_total)
            for cell, value in row_cells.items():
                self._learn(cell, published[cell], int(value), answer.number)
                if is_total:
                    continue
                # A row of a grouped answer is part of the cell without each group-by value.
                measure, fixed = cell
                for name in answer.group_by:
                    if name in answer.filters:
                        continue
                    parent = (measure, frozenset((k, v) for k, v in fixed if k != name))
                    grouped.setdefault((parent, name), []).append(cell)
            # Columns that split another: the statuses of outcomes' referrals (all five are
            # columns), the reasons of closure-reasons' ending (every reason is a row).
            part = {"outcomes": "status", "closure-reasons": "code"}.get(answer.report)
            for cell in row_cells:
                measure, fixed = cell
                if part and part in dict(fixed):
                    parent = (measure, frozenset((k, v) for k, v in fixed if k != part))
                    grouped.setdefault((parent, part), []).append(cell)
        for (parent, _), children in grouped.items():
            if answer.report == "attendance" and parent[0].endswith("appointments_due"):
                continue
            self.sums.append((parent, sorted(set(children), key=str)))

    def _learn(self, cell: Cell, published: int | None, true: int, answer: int) -> None:
        low, high = self.table.bounds(published)
        if published is None:
            high = None  # suppressed as a small number, or to protect another cell
        else:
            self.shown.setdefault(cell, set()).add(published)
        bound = (float(low), math.inf if high is None else float(high))
        old = self.bounds.get(cell, (0.0, math.inf))
        self.bounds[cell] = (max(old[0], bound[0]), min(old[1], bound[1]))
        assert self.true.setdefault(cell, true) == true, (cell, self.true[cell], true)
        if published is None or published != true:
            self.hidden.add(cell)
        self.seen_in.setdefault(cell, set()).add(answer)

    def propagate(self, rounds: int = 50) -> None:
        """Tighten every interval with every known sum until nothing changes."""
        usable = [(p, c) for p, c in self.sums if p in self.bounds]
        for _ in range(rounds):
            changed = False
            for parent, children in usable:
                lows = [self.bounds[c][0] for c in children]
                highs = [self.bounds[c][1] for c in children]
                finite_high = sum(h for h in highs if not math.isinf(h))
                unbounded = sum(1 for h in highs if math.isinf(h))
                low = sum(lows)
                p_low, p_high = self.bounds[parent]
                new_parent = (max(p_low, low), min(p_high, math.inf if unbounded else finite_high))
                if new_parent != (p_low, p_high):
                    self.bounds[parent], changed = new_parent, True
                p_low, p_high = new_parent
                for child, c_low, c_high in zip(children, lows, highs, strict=True):
                    if math.isinf(c_high):
                        others_high = math.inf if unbounded > 1 else finite_high
                    else:
                        others_high = math.inf if unbounded else finite_high - c_high
                    new = (max(c_low, p_low - others_high), min(c_high, p_high - (low - c_low)))
                    if new != (c_low, c_high):
                        self.bounds[child], changed = new, True
            if not changed:
                return

    def inconsistent(self) -> dict[Cell, set[int]]:
        """Cells published as different values in different answers (the method promises one
        value per set of records; a cell the audit withholds in one answer is not counted)."""
        return {cell: values for cell, values in self.shown.items() if len(values) > 1}

    def pinned(self) -> list[Cell]:
        for cell, (low, high) in self.bounds.items():
            assert low <= self.true[cell] <= high, (cell, low, high, self.true[cell])
        return [c for c in self.hidden if self.bounds[c][0] == self.bounds[c][1]]

    def answer_pairs(self) -> int:
        pairs: set[tuple[int, int]] = set()
        for parent, children in self.sums:
            if parent not in self.bounds:
                continue
            answers = set().union(*(self.seen_in[c] for c in (parent, *children)))
            pairs.update(itertools.combinations(sorted(answers), 2))
        return len(pairs)

    def summary(self, name: str) -> str:
        sums = sum(1 for parent, _ in self.sums if parent in self.bounds)
        return (
            f"{name}: {self.answers} answers, {self.answer_pairs()} pairs of answers tied by "
            f"{sums} sums, {len(self.bounds)} cells ({len(self.hidden)} suppressed or "
            f"adjusted), {len(self.pinned())} pinned to their true value"
        )
