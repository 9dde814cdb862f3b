"""Keeping the person of a referral: the minimum dataset from the message's Patient.

The postcode is used to derive the district and LSOA and then dropped; names and address lines
never reach this module (the Patient profile excludes them).
"""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.geography import service as geography
from referral_api.mapping import native
from referral_api.people.repository import PersonRepository
from signpost_schemas.fhir.patient import MessagePatient


async def apply_patient(
    session: AsyncSession,
    referral_id: str,
    patient: MessagePatient,
    *,
    as_of: datetime,
    content_hash: str,
    referral_year: int,
    place: geography.Geography | None = None,
) -> bool:
    """Store the person if this Patient is newer than the one held; True if stored.

    `place` is the geography already derived from the Patient's postcode, for a Patient held
    without it (`messages.held`); otherwise it is derived here.
    """
    repository = PersonRepository(session)
    held = await repository.held_version(referral_id)
    if held is not None and (as_of, content_hash) <= held:
        return False
    if place is None:
        place = await geography.derive(session, patient.postcode)
    practice = patient.practice_ods
    ethnicity = native.ethnicity(patient.ethnicity)
    gender = native.gender(patient.gender, patient.gender_identity)
    await repository.save(
        {
            "referral_id": referral_id,
            "nhs_number": patient.nhs_number,
            "birth_year": patient.birth_year,
            "age_band": native.age_band(patient.birth_year, referral_year),
            "gender": gender.group if gender else None,
            "stated_gender_code": gender.stated_gender_code if gender else None,
            "gender_identity_code": gender.gender_identity_code if gender else None,
            "gender_native_system": gender.native.system if gender else None,
            "gender_native_code": gender.native.code if gender else None,
            "ethnic_category": ethnicity.category if ethnicity else None,
            "ethnic_group": ethnicity.group if ethnicity else None,
            "ethnic_native_system": ethnicity.native.system if ethnicity else None,
            "ethnic_native_code": ethnicity.native.code if ethnicity else None,
            "postcode_district": place.postcode_district,
            "lsoa_code": place.lsoa_code,
            "lsoa_vintage": place.lsoa_vintage,
            "lsoa_status": place.lsoa_status,
            "practice_ods": practice,
            "pcn_ods": patient.pcn_ods or await geography.pcn_of(session, practice),
            "as_of": as_of,
            "content_hash": content_hash,
        },
        exists=held is not None,
    )
    return True
