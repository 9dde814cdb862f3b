"""The rules of care and support plans: one per referral, written against the referral it is
based on, served with the person the referral names and the review the plan is due."""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.careplans.repository import CarePlanRepository, PlanColumns, StoredPlan
from referral_api.careplans.search import CarePlanFilter
from referral_api.referrals.access import Reach
from referral_api.referrals.repository import ReferralForUpdate, ReferralRepository
from referral_api.rendering.service_request import subject_identifier_of
from signpost_platform.errors import (
    Conflict,
    PreconditionFailed,
    Unprocessable,
    require_found,
    require_url_id,
)
from signpost_platform.fhir.responses import instant, served_json
from signpost_schemas import systems
from signpost_schemas.fhir import profiles
from signpost_schemas.fhir.care_plan import DUE, DUE_BASIS, CarePlan
from signpost_schemas.fhir.task import as_moment


async def create(
    session: AsyncSession, resource: CarePlan, reach: Reach, now: datetime | None = None
) -> StoredPlan:
    """Store the plan of a referral that has none yet (409 naming the plan it has)."""
    now = now or datetime.now(UTC)
    referral = await _referral(session, resource, reach)
    repository = CarePlanRepository(session)
    existing = await repository.of_referral(referral.stored.id)
    if existing is not None:
        raise Conflict(
            f"ServiceRequest/{referral.stored.id} already has a care and support plan, "
            f"CarePlan/{existing.id}: update it (PUT) instead",
            expression="CarePlan.basedOn[0]",
        )
    plan_id = str(uuid.uuid4())
    created_at = resource.created_at or now
    stored = StoredPlan(
        plan_id,
        referral.stored.id,
        1,
        created_at,
        now,
        _served(resource, plan_id, 1, now, referral, created_at),
    )
    await repository.insert(stored, _columns(resource, created_at))
    return stored


async def update(
    session: AsyncSession,
    plan_id: str,
    resource: CarePlan,
    expected_version: int,
    reach: Reach,
    now: datetime | None = None,
) -> StoredPlan:
    """Replace version `expected_version` of the plan (412 when it is no longer current)."""
    now = now or datetime.now(UTC)
    require_url_id(resource.id, plan_id, "CarePlan")
    repository = CarePlanRepository(session)
    held = require_found(await repository.get(plan_id, reach), "CarePlan", plan_id)
    if resource.referral_id != held.referral_id:
        raise Unprocessable(
            f"a plan stays with its referral: basedOn must remain ServiceRequest/"
            f"{held.referral_id}",
            expression="CarePlan.basedOn[0]",
        )
    referral = await _referral(session, resource, reach)
    if expected_version != held.version:
        raise PreconditionFailed(
            f"CarePlan/{plan_id} is at version {held.version}, not {expected_version}",
            expression="If-Match",
        )
    created_at = resource.created_at or held.created_at
    version = held.version + 1
    stored = StoredPlan(
        plan_id,
        held.referral_id,
        version,
        created_at,
        now,
        _served(resource, plan_id, version, now, referral, created_at),
    )
    if not await repository.replace(stored, _columns(resource, created_at), held.version):
        raise PreconditionFailed(
            f"CarePlan/{plan_id} changed while it was being updated", expression="If-Match"
        )
    return stored


async def read(session: AsyncSession, plan_id: str, reach: Reach) -> StoredPlan:
    return require_found(await CarePlanRepository(session).get(plan_id, reach), "CarePlan", plan_id)


async def search(
    session: AsyncSession, search: CarePlanFilter, reach: Reach
) -> tuple[int | None, list[StoredPlan]]:
    return await CarePlanRepository(session).search(search, reach)


async def _referral(session: AsyncSession, resource: CarePlan, reach: Reach) -> ReferralForUpdate:
    """The referral the plan is based on, locked (plans of one referral are written one after
    another), if the caller may see it; and the plan must name the referral's person."""
    referral = await ReferralRepository(session).for_update(resource.referral_id)
    if referral is None or not reach.allows(referral.requester_ods, referral.receiver_ods):
        raise Unprocessable(
            f"basedOn names no referral your organisation sent or received "
            f"(ServiceRequest/{resource.referral_id})",
            expression="CarePlan.basedOn[0]",
        )
    named = resource.subject_identifier
    if named is not None:
        system, value = systems.normalise_system(named[0]), named[1]
        same_number = system == systems.NHS_NUMBER and value.replace(" ", "") == (
            referral.nhs_number or ""
        )
        if system == systems.NHS_NUMBER and referral.nhs_number and not same_number:
            raise Unprocessable(
                "subject names another person than the referral the plan is based on",
                expression="CarePlan.subject.identifier",
            )
    return referral


def _columns(resource: CarePlan, created_at: datetime) -> PlanColumns:
    due, basis = resource.review_due(created_at)
    period = resource.period
    author = resource.author_worker
    return PlanColumns(
        status=resource.status,
        created_at=created_at,
        period_start_at=as_moment(period.start) if period and period.start else None,
        period_end_at=as_moment(period.end) if period and period.end else None,
        review_due_on=due,
        review_basis=basis,
        author_system=author.system if author else None,
        author_value=author.value if author else None,
        author_role=author.role if author else None,
    )


def _served(
    resource: CarePlan,
    plan_id: str,
    version: int,
    at: datetime,
    referral: ReferralForUpdate,
    created_at: datetime,
) -> str:
    """The plan as Signpost serves it: our id, the referral and its person, the review due."""
    body: dict[str, Any] = resource.to_fhir()
    subject = subject_identifier_of(referral.stored.resource)
    person = (
        {"type": "Patient", "identifier": {"system": subject[0], "value": subject[1]}}
        if subject
        else None
    )
    body["basedOn"] = [
        {"reference": f"ServiceRequest/{referral.stored.id}", "type": "ServiceRequest"}
    ]
    if person is not None:
        body["subject"] = person
        for goal in body.get("contained", []):
            goal["subject"] = person
    body.setdefault("created", instant(created_at))
    referenced = {reference.get("reference") for reference in body.get("goal", [])}
    for goal_id in resource.contained_goal_ids:
        if f"#{goal_id}" not in referenced:
            body.setdefault("goal", []).append({"reference": f"#{goal_id}"})
    due, basis = resource.review_due(created_at)
    extensions = [
        extension
        for extension in body.get("extension", [])
        if extension.get("url") != profiles.CARE_PLAN_REVIEW_EXTENSION
    ]
    sent = [
        part
        for extension in body.get("extension", [])
        if extension.get("url") == profiles.CARE_PLAN_REVIEW_EXTENSION
        for part in extension.get("extension", [])
        if part.get("url") not in (DUE, DUE_BASIS)
    ]
    review = [
        *sent,
        {"url": DUE, "valueDate": due.isoformat()},
        {"url": DUE_BASIS, "valueCode": basis},
    ]
    body["extension"] = [
        *extensions,
        {"url": profiles.CARE_PLAN_REVIEW_EXTENSION, "extension": review},
    ]
    return served_json("CarePlan", plan_id, version, at, profiles.CARE_PLAN_PROFILE, body)
