"""All SQL about the data gaps of referrals."""

import re

from sqlalchemy import delete, insert, select

from referral_api.quality.models import ReferralGap
from signpost_platform.db import Repository
from signpost_schemas.fhir.gaps import Gap, GapKind

_INDEX = re.compile(r"\[\d+\]")


def element_path(expression: str) -> str:
    """The FHIRPath without list indexes, so gaps of one element count together."""
    return _INDEX.sub("", expression)[:255]


class GapRepository(Repository):
    async def replace(self, referral_id: str, gaps: list[Gap], *, new: bool = False) -> None:
        """Make `gaps` the referral's gaps (none removes them); `new`: the referral was created
        in this transaction, so it has none to remove."""
        if not new:
            await self.session.execute(
                delete(ReferralGap).where(ReferralGap.referral_id == referral_id)
            )
        if gaps:
            await self.session.execute(
                insert(ReferralGap),
                [
                    {
                        "referral_id": referral_id,
                        "position": position,
                        "kind": gap.kind.value,
                        "element": element_path(gap.element),
                        "code": gap.code[:320] if gap.code else None,
                    }
                    for position, gap in enumerate(gaps)
                ],
            )

    async def current(self, referral_id: str) -> list[Gap]:
        """The referral's stored gaps, in order (their messages are not stored)."""
        rows = await self.session.execute(
            select(ReferralGap.kind, ReferralGap.element, ReferralGap.code)
            .where(ReferralGap.referral_id == referral_id)
            .order_by(ReferralGap.position)
        )
        return [Gap(GapKind(kind), element, "", code) for kind, element, code in rows]
