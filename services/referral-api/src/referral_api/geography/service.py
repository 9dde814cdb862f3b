"""Deriving a person's geography from the postcode a sender gives, without keeping the postcode.

Only the postcode district (E15) and the LSOA are stored. `lsoa_status` says why an LSOA is
missing: no postcode, only a district (a partial postcode), a postcode that is not a valid UK
postcode, or a valid one that the loaded lookup does not contain.
"""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.geography.repository import GeographyRepository
from signpost_schemas.geography import normalise_postcode, postcode_shape


@dataclass(frozen=True, slots=True)
class Geography:
    postcode_district: str | None
    lsoa_code: str | None
    lsoa_vintage: str | None
    lsoa_status: str


async def derive(session: AsyncSession, postcode: str | None) -> Geography:
    """District and LSOA of `postcode`, with the reason when the LSOA could not be derived."""
    if not postcode or not postcode.strip():
        return Geography(None, None, None, "no-postcode")
    shape = postcode_shape(postcode)
    if shape == "district-only":
        return Geography(postcode.strip().upper(), None, None, shape)
    if shape == "invalid-postcode":
        return Geography(None, None, None, shape)
    normalised = normalise_postcode(postcode)
    district = normalised.split(" ")[0]
    found = await GeographyRepository(session).lsoa_of(normalised)
    if found is None:
        return Geography(district, None, None, "postcode-not-in-lookup")
    return Geography(district, found[0], found[1], "derived")


async def pcn_of(session: AsyncSession, practice_ods: str | None) -> str | None:
    """The practice's PCN from the loaded practice-to-PCN lookup."""
    if not practice_ods:
        return None
    return await GeographyRepository(session).pcn_of(practice_ods)
