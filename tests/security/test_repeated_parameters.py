"""Searches and lists refuse queries with too many values; PostgreSQL statements are timed out.

A search parameter repeated hundreds of times became hundreds of SQL conditions and held a
PostgreSQL backend at full CPU while planning.
"""

import httpx
import pytest
from fastapi import APIRouter
from sqlalchemy import text

from signpost_platform.app import create_app
from signpost_platform.db import SessionDep
from signpost_platform.parameters import MAX_OCCURRENCES, MAX_VALUES
from signpost_platform.routing import CheckedRoute
from signpost_platform.settings import ServiceSettings
from tests.support.clients import bearer, running

REFERRAL_READ = bearer("referral:read", "referral:all-organisations")
SCREENING_READ = bearer("screening:read", "screening:all-organisations")


def _repeated(name: str, value: str, times: int) -> str:
    return "&".join(f"{name}={value}" for _ in range(times))


def _refused_naming(response: httpx.Response, name: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    if body.get("resourceType") == "OperationOutcome":
        assert body["issue"][0]["expression"] == [name]
        assert body["issue"][0]["code"] == "too-costly"
    else:
        assert body["errors"][0]["parameter"] == name


async def test_a_referral_search_parameter_repeated_past_the_cap_is_refused(referral):
    many = await referral.get(
        f"/fhir/ServiceRequest?{_repeated('linkage', 'any', 60)}", headers=REFERRAL_READ
    )
    at_cap = await referral.get(
        f"/fhir/ServiceRequest?{_repeated('linkage', 'any', MAX_OCCURRENCES)}",
        headers=REFERRAL_READ,
    )

    _refused_naming(many, "linkage")
    assert at_cap.status_code == 200, at_cap.text


async def test_too_many_comma_separated_values_are_refused(referral):
    codes = ",".join(f"{n:06d}" for n in range(MAX_VALUES + 1))

    response = await referral.get(
        f"/fhir/ServiceRequest?reason-code={codes}", headers=REFERRAL_READ
    )

    _refused_naming(response, "reason-code")


async def test_values_spread_over_parameters_count_together(referral):
    codes = ",".join(f"{n:06d}" for n in range(MAX_VALUES - 5))
    query = f"reason-code={codes}&{_repeated('status', 'active', 6)}"

    response = await referral.get(f"/fhir/ServiceRequest?{query}", headers=REFERRAL_READ)

    _refused_naming(response, "status")


async def test_directory_lists_refuse_a_repeated_parameter(directory):
    response = await directory.get(f"/services?{_repeated('taxonomy_id', 'x', 200)}")

    _refused_naming(response, "taxonomy_id")


async def test_screening_searches_refuse_a_repeated_parameter(screening):
    response = await screening.get(
        f"/fhir/Observation?{_repeated('code', 'x', MAX_OCCURRENCES + 1)}", headers=SCREENING_READ
    )

    _refused_naming(response, "code")


@pytest.mark.postgres_only
async def test_a_statement_past_the_timeout_answers_503_with_retry_after(
    security_referral_database, backend
):
    router = APIRouter(route_class=CheckedRoute)

    @router.get("/slow", operation_id="slow", tags=["test"])
    async def slow(session: SessionDep) -> dict[str, str]:
        await session.execute(text("SELECT pg_sleep(2)"))
        return {"status": "finished"}

    settings = ServiceSettings(
        database_url=security_referral_database, db_statement_timeout_seconds=0.2
    )
    app = create_app(
        service_name="referral",
        title="t",
        version="0",
        description="d",
        settings=settings,
        routers=[router],
    )
    async with running(app, "http://slow.test") as client:
        response = await client.get("/slow")

    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["errors"][0]["code"] == "timeout"


@pytest.mark.postgres_only
async def test_the_services_run_with_the_statement_timeout_setting(referral_service, backend):
    app, _ = referral_service
    async with app.state.database.engine.connect() as connection:
        timeout = (await connection.execute(text("SHOW statement_timeout"))).scalar_one()

    assert timeout == "10s"
