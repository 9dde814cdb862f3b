"""Where a postcode is: its own centroid, or else its district's (an approximation, said so)."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from directory_api.geography.repository import PostcodeRepository

# How an operator fills the lookup, named in the error for a postcode whose district is unknown.
LOAD_LOOKUP_REMEDY = (
    "load the ONS Postcode Directory (or NSPL) CSV into the directory: "
    "`make load-directory-postcodes FILE=ONSPD.csv`, or "
    "`python -m directory_api.geography load ONSPD.csv`"
)


@dataclass(frozen=True, slots=True)
class PostcodePlace:
    """A postcode as a point and the areas (GSS codes) it lies in.

    `district` is set when the postcode itself is not in the lookup, or was a district alone
    (`district_given`; `postcode` is then the district), and the point is the centroid of its
    district's `district_postcodes` known postcodes; `area_codes` are then the local
    authorities any of them lie in.
    """

    postcode: str
    latitude: float
    longitude: float
    area_codes: list[str]
    district: str | None = None
    district_postcodes: int = 0
    # Whether the district was given alone (`E15`) rather than a full postcode.
    district_given: bool = False

    @property
    def approximate(self) -> bool:
        return self.district is not None


async def locate(session: AsyncSession, postcode: str) -> PostcodePlace | None:
    """The place of a normalised postcode: exact, else its district's; None if neither is known."""
    postcodes = PostcodeRepository(session)
    area = await postcodes.get(postcode)
    if area is not None:
        return PostcodePlace(
            postcode=postcode,
            latitude=area.latitude,
            longitude=area.longitude,
            area_codes=[code for code in (area.local_authority_code, area.lsoa_code) if code],
        )
    return await _district_place(postcodes, postcode.split(" ")[0], postcode)


async def locate_district(session: AsyncSession, district: str) -> PostcodePlace | None:
    """The place of a postcode district given alone (an outward code, `E15`): the centroid of
    its known postcodes; None if the lookup knows none of them."""
    return await _district_place(PostcodeRepository(session), district, district, given=True)


async def _district_place(
    postcodes: PostcodeRepository, district: str, postcode: str, *, given: bool = False
) -> PostcodePlace | None:
    found = await postcodes.district(district)
    if found is None:
        return None
    return PostcodePlace(
        postcode=postcode,
        latitude=found.latitude,
        longitude=found.longitude,
        area_codes=found.local_authority_codes,
        district=found.district,
        district_postcodes=found.postcode_count,
        district_given=given,
    )
