"""The service-use rules: which referral a count is for, whether it is of the six months before
or after it, and whether it replaces the count held.

A count is kept once per (referral, measure, period). One that differs from the held count
replaces it when its timestamp (`meta.lastUpdated`, else when it arrived) is later, or at the
same instant its content hash is larger; one that says the same as the held count changes
nothing. So a resent Observation or a reloaded extract never duplicates or bumps a version.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.lifecycle.service import served_id
from referral_api.messages.bundle import CLOCK_SKEW
from referral_api.referrals.access import Reach
from referral_api.service_use.repository import CountedReferral, ServiceUseRepository
from signpost_platform.errors import Unprocessable
from signpost_platform.fhir.responses import served_json
from signpost_schemas import systems
from signpost_schemas.fhir import profiles
from signpost_schemas.fhir.datatypes import Reference
from signpost_schemas.fhir.service_use import ServiceUseObservation, period_of

Outcome = Literal["created", "updated", "unchanged", "superseded"]
Origin = Literal["observation", "message", "extract"]


@dataclass(frozen=True, slots=True)
class Recorded:
    """A count as held after a write, and what the write did."""

    outcome: Outcome
    id: str
    version: int
    last_updated_at: datetime
    resource: str


async def referral_of(
    session: AsyncSession, reference: Reference, reach: Reach, where: str
) -> CountedReferral:
    """The referral `basedOn` names: `ServiceRequest/<id>`, or a business identifier of it."""
    repository = ServiceUseRepository(session)
    if reference.reference:
        kind, _, referral_id = reference.reference.rpartition("/")
        found = (
            await repository.referral(referral_id, reach)
            if kind in ("", "ServiceRequest") and referral_id
            else None
        )
        if found is None:
            raise Unprocessable(
                f"{where}: no referral {reference.reference} that the caller may see",
                expression=where,
                issue_code="not-found",
            )
        return found
    identifier = reference.identifier
    if identifier is None or not identifier.value:
        raise Unprocessable(
            f"{where}: name the referral by reference (ServiceRequest/<id>) or identifier",
            expression=where,
            issue_code="required",
        )
    matches = await repository.referral_by_identifier(identifier.system, identifier.value, reach)
    if len(matches) != 1:
        raise Unprocessable(
            f"{where}: "
            + ("no referral" if not matches else "more than one referral")
            + " has that identifier (among those the caller may see)",
            expression=where,
            issue_code="not-found",
        )
    return matches[0]


async def check_person(
    session: AsyncSession,
    referral: CountedReferral,
    system: str | None,
    value: str,
    where: str,
) -> None:
    """Refuse a count whose person is not the referral's: by NHS number, or by a sender's own
    patient identifier of the person."""
    if system == systems.NHS_NUMBER or (system is None and _looks_like_nhs_number(value)):
        if referral.nhs_number == value:
            return
    elif await ServiceUseRepository(session).has_local_identifier(
        referral.person_key, system, value
    ):
        return
    raise Unprocessable(
        f"{where}: the person named is not the person the referral is for",
        expression=where,
        issue_code="business-rule",
    )


def _looks_like_nhs_number(value: str) -> bool:
    return len(value) == 10 and value.isdigit()


async def record(
    session: AsyncSession,
    resource: ServiceUseObservation,
    reach: Reach,
    origin: Origin,
    now: datetime,
) -> Recorded:
    """Check a count sent on its own (or loaded) against its referral and keep it if it is new
    or newer."""
    referral = await referral_of(session, resource.basedOn[0], reach, "Observation.basedOn[0]")
    subject = resource.subject.identifier if resource.subject else None
    if subject is not None and subject.value:
        await check_person(
            session, referral, subject.system, subject.value, "Observation.subject.identifier"
        )
    as_of = (
        resource.meta.lastUpdated.astimezone(UTC)
        if resource.meta and resource.meta.lastUpdated and resource.meta.lastUpdated.tzinfo
        else now
    )
    if as_of > now + CLOCK_SKEW:
        # It orders versions: a future one would outrank every later correction.
        raise Unprocessable(
            "Observation.meta.lastUpdated is in the future: it orders versions of the count, "
            "so it must be when the sender last changed it",
            expression="Observation.meta.lastUpdated",
            issue_code="value",
        )
    return await keep(session, referral, resource, origin, as_of, now)


async def keep(
    session: AsyncSession,
    referral: CountedReferral,
    resource: ServiceUseObservation,
    origin: Origin,
    as_of: datetime,
    now: datetime,
    where: str = "Observation",
) -> Recorded:
    """Keep a count of `referral` unless the one held is the same or newer; `where` names the
    resource in errors (`Bundle.entry[3].resource` in a message)."""
    referral_day = referral.authored_at.astimezone(UTC).date()
    counted = resource.counted_period
    period = period_of(counted, referral_day)
    if period is None:
        raise Unprocessable(
            f"{where}.effectivePeriod: {counted.start.isoformat()} to "
            f"{counted.end.isoformat()} straddles the referral date "
            f"{referral_day.isoformat()}: a count is of a period wholly before or wholly after it",
            expression=f"{where}.effectivePeriod",
            issue_code="business-rule",
        )
    measure = resource.measure.code
    content = resource.to_fhir()
    content.pop("meta", None)
    content_hash = hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()
    repository = ServiceUseRepository(session)
    held = await repository.held(referral.id, measure, period)
    if held is not None and (
        held.content_hash == content_hash or (as_of, content_hash) < (held.as_of, held.content_hash)
    ):
        stored = await repository.stored(held.id)
        assert stored is not None
        outcome: Outcome = "unchanged" if held.content_hash == content_hash else "superseded"
        return Recorded(outcome, held.id, stored[0], stored[1], stored[2])
    resource_id = held.id if held else served_id(referral.id, "ServiceUse", f"{measure}/{period}")
    version = held.version + 1 if held else 1
    served = _served_json(resource, resource_id, version, now, referral)
    await repository.save(
        {
            "id": resource_id,
            "referral_id": referral.id,
            "measure": measure,
            "period": period,
            "period_start_on": counted.start,
            "period_end_on": counted.end,
            "count": resource.count,
            "status": resource.status,
            "origin": origin,
            "source_id": resource.id,
            "as_of": as_of,
            "content_hash": content_hash,
            "version": version,
            "last_updated_at": now,
            "resource": served,
        },
        exists=held is not None,
    )
    return Recorded("updated" if held else "created", resource_id, version, now, served)


def _served_json(
    resource: ServiceUseObservation,
    resource_id: str,
    version: int,
    at: datetime,
    referral: CountedReferral,
) -> str:
    """The count as Signpost serves it: our id, the referral and person, the sender's id kept."""
    body: dict[str, Any] = resource.to_fhir()
    body["basedOn"] = [{"reference": f"ServiceRequest/{referral.id}", "type": "ServiceRequest"}]
    if referral.nhs_number:
        body["subject"] = {
            "type": "Patient",
            "identifier": {"system": systems.NHS_NUMBER, "value": referral.nhs_number},
        }
    else:
        body.pop("subject", None)
    if resource.id:
        sender_id = {"system": profiles.SENDER_RESOURCE_ID, "value": resource.id}
        body["identifier"] = [*(body.get("identifier") or []), sender_id]
    profile = profiles.SERVICE_USE_PROFILE
    return served_json("Observation", resource_id, version, at, profile, body)
