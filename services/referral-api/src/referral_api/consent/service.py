"""Recording Consent for information sharing, and the person's decision derived from it.

A Consent is created, never changed (a create repeating the identifier of one recorded returns
it): a person who withdraws is recorded with a new Consent
(`inactive`, or `deny`), and their decision is that of their latest one (`person_consent`).
Honoured by the linked-referral extensions shown to other organisations (`linkage.service`)
and by record-level exports (`export`).
"""

import uuid
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.consent.repository import ConsentFilter, ConsentRepository, StoredConsent
from referral_api.referrals.access import Reach
from signpost_platform.errors import Conflict, Unprocessable, require_found
from signpost_platform.fhir.responses import instant
from signpost_platform.fhir.search import SearchQuery
from signpost_schemas import systems
from signpost_schemas.fhir import profiles
from signpost_schemas.fhir.consent import InformationSharingConsent


async def create(
    session: AsyncSession, consent: InformationSharingConsent, reach: Reach, now: datetime
) -> tuple[StoredConsent, bool]:
    """The Consent recorded, and whether this call recorded it (False: a retry carrying the
    identifier of one already recorded, which is returned as it is)."""
    organisation = consent.organization_ods or reach.organisation
    if organisation is None:
        raise Unprocessable(
            "name the organisation recording the consent (organization, by ODS code)",
            expression="Consent.organization",
        )
    reach.require(organisation, expression="Consent.organization", role="recording organization")
    repository = ConsentRepository(session)
    identifier = consent.business_identifier
    if identifier is not None:
        await repository.lock_identifier(*identifier)
        found = await repository.by_identifier(*identifier)
        if found is not None:
            existing, recorded_by = found
            if not reach.allows(recorded_by):
                raise Conflict(
                    "a Consent with this identifier was recorded by another organisation",
                    expression="Consent.identifier",
                )
            return existing, False
    person_key = consent.nhs_number
    referral_ids = consent.referral_ids
    for index, referral_id in enumerate(referral_ids):
        referred = await repository.referral_person(referral_id, reach)
        where = f"Consent.provision.data[{index}].reference"
        if referred is None:
            raise Unprocessable(f"no ServiceRequest {referral_id}", expression=where)
        if referred != person_key:
            raise Unprocessable(
                f"ServiceRequest {referral_id} is about another person than the Consent's patient",
                expression=where,
            )
    consent_id = str(uuid.uuid4())
    start, end = consent.period
    document: dict[str, Any] = {
        "resourceType": "Consent",
        "id": consent_id,
        "meta": {
            "versionId": "1",
            "lastUpdated": instant(now),
            "profile": [profiles.CONSENT_PROFILE],
        },
    }
    document.update((k, v) for k, v in consent.served().items() if k != "resourceType")
    if not consent.organization:
        document["organization"] = [
            {"identifier": {"system": systems.ODS_ORGANIZATION, "value": organisation}}
        ]
    resource = orjson.dumps(document).decode()
    await repository.add(
        {
            "id": consent_id,
            "version": 1,
            "identifier_system": identifier[0] if identifier else None,
            "identifier_value": identifier[1] if identifier else None,
            "status": consent.status,
            "person_key": person_key,
            "referral_id": referral_ids[0] if referral_ids else None,
            "provision_type": consent.provision_type,
            "provision_start_at": start,
            "provision_end_at": end,
            "decided_at": consent.dateTime or now,
            "organization_ods": organisation,
            "withdrawn": consent.withdrawn,
            "created_at": now,
            "last_updated_at": now,
            "resource": resource,
        }
    )
    await repository.decide(person_key)
    return StoredConsent(consent_id, 1, now, resource), True


async def read(session: AsyncSession, consent_id: str, reach: Reach) -> StoredConsent:
    return require_found(
        await ConsentRepository(session).get(consent_id, reach), "Consent", consent_id
    )


async def search(
    session: AsyncSession, found: ConsentFilter, query: SearchQuery, reach: Reach
) -> tuple[int | None, list[StoredConsent]]:
    return await ConsentRepository(session).search(
        found, query.rows_read, query.offset, query.total, reach
    )
