"""Which referrals a caller may see and change.

A caller whose token names an organisation sees and changes only the referrals that
organisation sent (the requester) or received (the performer organisation); any other referral
answers 404, exactly as if it did not exist, and is left out of searches. A referral a caller
creates or updates must keep naming the caller's organisation as requester or performer.

Callers that act for every organisation (screening-api's hand-off, which refers on behalf of
many clinics; a service desk) are granted `referral:all-organisations`. A token with neither an
organisation nor that scope is refused with 403 (`signpost_platform.access`).

Reports are aggregates over every organisation, behind their own scope, and are not narrowed.
"""

from typing import Any

from sqlalchemy import ColumnElement, Select, select

from referral_api.referrals.models import Referral
from signpost_platform.access import OrganisationReach
from signpost_platform.errors import Forbidden
from signpost_schemas import systems
from signpost_schemas.fhir.service_request import ServiceRequest

ALL_ORGANISATIONS = "referral:all-organisations"


class Reach(OrganisationReach):
    """The referrals a caller may see: those of one organisation, or every referral."""

    __slots__ = ()
    all_organisations_scope = ALL_ORGANISATIONS

    def conditions(self) -> list[ColumnElement[bool]]:
        """SQL conditions on `Referral` that keep only what the caller may see."""
        return self.matching(Referral.requester_ods, Referral.receiver_ods)

    def visible_ids(self) -> Select[str]:
        """The ids of the referrals the caller may see (for tables keyed by referral)."""
        return select(Referral.id).where(*self.conditions())

    def of_referrals(self, referral_id: Any) -> list[ColumnElement[bool]]:
        """SQL conditions keeping only the rows (of a table keyed by referral, `referral_id` its
        column naming the referral) whose referral the caller may see."""
        return [] if self.unrestricted else [referral_id.in_(self.visible_ids())]

    def check_parties(self, resource: ServiceRequest, where: str = "ServiceRequest") -> None:
        """Refuse content that would put the referral out of the caller's organisation's reach,
        or that claims an identifier only screening-api's hand-off issues (an organisation
        taking one first would block the referral of that screen)."""
        if not self.unrestricted:
            for index, identifier in enumerate(resource.identifier):
                if identifier.system == systems.SCREENING_RESPONSE:
                    raise Forbidden(
                        f"identifiers of system {systems.SCREENING_RESPONSE} are issued by the "
                        "screening service's hand-off only",
                        expression=f"{where}.identifier[{index}]",
                    )
        self.require(
            resource.requester_ods,
            resource.receiver_ods,
            expression=f"{where}.requester",
            role="requester or performer organisation",
        )

    def check_change(
        self, requester: str, receiver: str | None, resource: ServiceRequest, where: str
    ) -> None:
        """Refuse a change of who the referral is between: the requester never changes (but for
        a service holding referral:all-organisations), and only the requester may change the
        receiving organisation. Neither party can write the other out of a referral."""
        if self.unrestricted:
            return
        if resource.requester_ods != requester:
            raise Forbidden(
                f"the requester ({requester}) cannot be changed: it is the organisation that sent "
                "the referral",
                expression=f"{where}.requester",
            )
        if resource.receiver_ods != receiver and self.organisation != requester:
            raise Forbidden(
                "only the requester may change the performer organisation that receives the "
                "referral",
                expression=f"{where}.performer",
            )


EVERY_ORGANISATION = Reach(None)
