"""Keeping each referral's data gaps in step with the content it holds.

A referral's gaps are those of its ServiceRequest and of the Patient its messages brought. They
are written whenever either is written; the part not written this time keeps its stored gaps.
Gaps of lifecycle resources (Task, Encounter, Observation) are answered to the sender but not
stored: the table describes the referral dataset.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.quality.repository import GapRepository
from referral_api.terminology import service as terminology
from signpost_schemas.fhir.gaps import Gap


async def record(
    session: AsyncSession,
    referral_id: str,
    *,
    service_request: list[Gap] | None = None,
    patient: list[Gap] | None = None,
    new: bool = False,
) -> None:
    """Store the referral's gaps; a part given as None is unchanged (keeps its stored gaps).

    `new` says the referral was created in this transaction, so nothing is stored yet.
    """
    if service_request is None and patient is None:
        return
    if service_request:
        # A code the loaded SNOMED CT release places in a group is not unmapped.
        service_request = await terminology.without_gaps_of_placed_codes(session, service_request)
    repository = GapRepository(session)
    stored = [] if new else await repository.current(referral_id)
    gaps = [
        *(_part(stored, "ServiceRequest") if service_request is None else service_request),
        *(_part(stored, "Patient") if patient is None else patient),
    ]
    if gaps or stored:
        await repository.replace(referral_id, gaps, new=new)


def _part(gaps: list[Gap], resource_type: str) -> list[Gap]:
    return [g for g in gaps if g.element.split(".")[0].split("(")[0] == resource_type]
