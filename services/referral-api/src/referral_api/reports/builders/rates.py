"""Referrals per 10,000 registered patients.

Its spec (`SPEC`: name, title, options, as `GET /reports` lists them) and its builder.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.reports.builders.common import (
    Context,
    ReportSpec,
    group_key,
    grouped_report,
)
from referral_api.reports.dimensions import (
    catalogue,
)
from referral_api.reports.query import ReportQuery
from referral_api.reports.repository import ReportRepository
from referral_api.reports.tables import Column, Report, count
from signpost_platform.errors import BadRequest, Conflict

POPULATION_DIMENSIONS = ("practice", "pcn", "age-band", "gender")


def _no_population() -> tuple[str, ...]:
    """Properties of the person that list sizes are not split by: rates refuse them rather
    than divide by the wrong population."""
    return tuple(
        d.name for d in catalogue().values() if d.of_person and d.name not in POPULATION_DIMENSIONS
    )


async def rates(session: AsyncSession, query: ReportQuery, context: Context) -> Report:
    """Referrals per 10,000 registered patients, where list sizes are loaded."""
    no_population = _no_population()
    for name in query.group_by:
        if name in no_population:
            raise BadRequest(
                f"group_by: rates need a population, and list sizes are by practice, PCN, age "
                f"band and sex only, not {name}",
                expression="group_by",
            )
    for name in query.filters:
        if name in no_population:
            raise BadRequest(
                f"{name}: rates need a population, and list sizes are by practice, PCN, age "
                "band and sex only",
                expression=name,
            )
    repository = ReportRepository(session)
    loaded = await repository.list_size_levels()
    if not loaded:
        raise Conflict(
            "no list sizes are loaded: load them with python -m referral_api.reports.load "
            "--list-sizes FILE (docs/reports.md)"
        )
    wanted = set(query.group_by) | set(query.filters)
    if "practice" in wanted or "pcn" not in wanted:
        level = "practice" if "practice" in loaded else "pcn"
    else:
        level = "pcn" if "pcn" in loaded else "practice"
    if level == "pcn" and "practice" in wanted:
        raise BadRequest(
            "practice: only PCN list sizes are loaded, so rates cannot be by practice",
            expression="practice",
        )
    rows, total = await repository.rate_numerators(query, level)
    population_dims = [name for name in query.group_by if name in POPULATION_DIMENSIONS]
    populations = {
        group_key(row, population_dims): int(row["population"])
        for row in await repository.populations(level, population_dims, query.filters)
    }
    for row in rows:
        # A group with no list size (another gender, no age band) has no denominator: empty,
        # not a population of 0.
        row["population"] = populations.get(group_key(row, population_dims))
    whole = await repository.populations(level, (), query.filters)
    total["population"] = int(whole[0]["population"]) if whole else None
    area = "practices" if level == "practice" else "PCNs"
    return grouped_report(
        query,
        f"Referrals of people registered at {area} with a list size loaded, per 10,000 "
        "patients registered there (in the group's age band and sex).",
        [
            count("referrals", "Referrals"),
            Column("population", "Registered patients", "population"),
            Column(
                "rate",
                "Referrals per 10,000",
                "per-10000",
                numerator="referrals",
                denominator="population",
            ),
        ],
        rows,
        [total],
        [
            f"Denominators: {area} list sizes by age band and sex. Gender is matched to the "
            "registered sex: genders other than male and female have no denominator.",
            "Referrals from areas without a list size are left out of both parts of the rate.",
        ],
        chart_measure="rate",
    )


SPEC = ReportSpec(
    "rates",
    "Rates per 10,000",
    "Referrals per 10,000 registered patients, where list sizes are loaded.",
    rates,
    heading="Referral rates per 10,000 registered patients",
    needs="practice or PCN list sizes (python -m referral_api.reports.load --list-sizes)",
)
