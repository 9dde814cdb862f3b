"""All SQL about care and support plans."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, insert, or_, select

from referral_api.careplans.models import CarePlan
from referral_api.careplans.search import CarePlanFilter
from referral_api.referrals.access import Reach
from referral_api.referrals.models import Referral
from referral_api.referrals.repository import referral_conditions
from signpost_platform.db import Repository, execute_core, replace_version
from signpost_platform.fhir.search import DateRange, date_condition
from signpost_platform.paging import sorted_page

_STORED = (
    CarePlan.id,
    CarePlan.referral_id,
    CarePlan.version,
    CarePlan.created_at,
    CarePlan.last_updated_at,
    CarePlan.resource,
)


@dataclass(frozen=True, slots=True)
class StoredPlan:
    id: str
    referral_id: str
    version: int
    created_at: datetime
    last_updated_at: datetime
    resource: str


@dataclass(frozen=True, slots=True)
class PlanColumns:
    """The searchable columns of a plan, derived from its resource."""

    status: str
    created_at: datetime
    period_start_at: datetime | None
    period_end_at: datetime | None
    review_due_on: date
    review_basis: str
    author_system: str | None
    author_value: str | None
    author_role: str | None


class CarePlanRepository(Repository):
    async def get(self, plan_id: str, reach: Reach) -> StoredPlan | None:
        """The plan, if the referral it belongs to is within `reach`."""
        statement = select(*_STORED).where(
            CarePlan.id == plan_id, *reach.of_referrals(CarePlan.referral_id)
        )
        row = (await execute_core(self.session, statement)).first()
        return StoredPlan(*row) if row else None

    async def of_referral(self, referral_id: str) -> StoredPlan | None:
        statement = select(*_STORED).where(CarePlan.referral_id == referral_id)
        row = (await execute_core(self.session, statement)).first()
        return StoredPlan(*row) if row else None

    async def insert(self, stored: StoredPlan, columns: PlanColumns) -> None:
        await execute_core(
            self.session,
            insert(CarePlan),
            {
                "id": stored.id,
                "referral_id": stored.referral_id,
                "version": stored.version,
                "last_updated_at": stored.last_updated_at,
                "resource": stored.resource,
                **_values(columns),
            },
        )

    async def replace(self, stored: StoredPlan, columns: PlanColumns, expected: int) -> bool:
        """Replace version `expected` of the plan; False when it is no longer current."""
        result = await execute_core(
            self.session, replace_version(CarePlan, stored, expected).values(**_values(columns))
        )
        return bool(result.rowcount)

    async def search(
        self, search: CarePlanFilter, reach: Reach
    ) -> tuple[int | None, list[StoredPlan]]:
        conditions = _conditions(search, reach)
        total, rows = await sorted_page(
            self.session, select(*_STORED), CarePlan, conditions, search
        )
        return total, [StoredPlan(*row) for row in rows]


def _values(columns: PlanColumns) -> dict[str, Any]:
    return {
        "status": columns.status,
        "created_at": columns.created_at,
        "period_start_at": columns.period_start_at,
        "period_end_at": columns.period_end_at,
        "review_due_on": columns.review_due_on,
        "review_basis": columns.review_basis,
        "author_system": columns.author_system,
        "author_value": columns.author_value,
        "author_role": columns.author_role,
    }


def _conditions(search: CarePlanFilter, reach: Reach) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        CarePlan.referral_id.in_(values) for values in search.referral_ids
    ]
    if search.names_referral:
        conditions.append(
            CarePlan.referral_id.in_(
                select(Referral.id).where(*referral_conditions(search.referral))
            )
        )
    conditions += [CarePlan.status.in_(values) for values in search.statuses]
    conditions += [_covers(date_range) for date_range in search.dates]
    conditions += [date_condition(CarePlan.review_due_on, days) for days in search.review_due]
    conditions += [CarePlan.id.in_(values) for values in search.ids]
    conditions += [date_condition(CarePlan.last_updated_at, r) for r in search.last_updated]
    conditions += reach.of_referrals(CarePlan.referral_id)
    return conditions


def _covers(date_range: DateRange) -> ColumnElement[bool]:
    """The plan's period (from its created date when it has no start) against a date
    parameter, as FHIR compares a period: eq, the period is within the range; ge/gt, it ends
    (or is open) at or after; le/lt, it starts at or before."""
    start = func.coalesce(CarePlan.period_start_at, CarePlan.created_at)
    end = CarePlan.period_end_at
    match date_range.prefix:
        case "ge":
            return or_(end.is_(None), end >= date_range.start)
        case "gt":
            return or_(end.is_(None), end >= date_range.end)
        case "le":
            return start < date_range.end
        case "lt":
            return start < date_range.start
        case _:
            return and_(start >= date_range.start, end.is_not(None), end < date_range.end)
