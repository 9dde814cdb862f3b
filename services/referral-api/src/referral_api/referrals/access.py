"""Object-level authorisation: which referrals a caller may see and change.

A caller's token names its organisation by ODS code (the `ods` claim; the claim name is a
setting). The caller sees and changes only the referrals its organisation sent (the requester)
or received (the performer organisation); any other referral answers 404, exactly as if it did
not exist, and is left out of searches. A referral a caller creates or updates must keep naming
the caller's organisation as requester or performer.

Callers that act for every organisation (screening-api's hand-off, which refers on behalf of
many clinics; a service desk) are granted the scope `referral:all-organisations`. A token with
neither an organisation nor that scope is refused with 403: access fails closed.

Reports are aggregates over every organisation, behind their own scope, and are not narrowed.
"""

from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select

from referral_api.referrals.models import Referral
from signpost_platform.auth import Caller
from signpost_platform.errors import Forbidden
from signpost_schemas.fhir.service_request import ServiceRequest

ALL_ORGANISATIONS = "referral:all-organisations"


@dataclass(frozen=True, slots=True)
class Reach:
    """The referrals a caller may see: those of one organisation, or every referral."""

    organisation: str | None

    @classmethod
    def of(cls, caller: Caller) -> "Reach":
        if caller.has(ALL_ORGANISATIONS):
            return EVERY_ORGANISATION
        if caller.organisation_ods is None:
            raise Forbidden(
                "the token names no organisation (ODS code claim), and without one or the "
                f"scope {ALL_ORGANISATIONS} no referral can be shown"
            )
        return cls(caller.organisation_ods)

    @property
    def unrestricted(self) -> bool:
        return self.organisation is None

    def allows(self, requester_ods: str, receiver_ods: str | None) -> bool:
        return self.organisation is None or self.organisation in (requester_ods, receiver_ods)

    def conditions(self) -> list[ColumnElement[bool]]:
        """SQL conditions on `Referral` that keep only what the caller may see."""
        if self.organisation is None:
            return []
        return [
            or_(
                Referral.requester_ods == self.organisation,
                Referral.receiver_ods == self.organisation,
            )
        ]

    def visible_ids(self) -> object:
        """A subquery of the referral ids the caller may see (for tables keyed by referral)."""
        return select(Referral.id).where(*self.conditions())

    def check_parties(self, resource: ServiceRequest, where: str = "ServiceRequest") -> None:
        """Refuse content that would put the referral out of the caller's organisation's reach."""
        if self.allows(resource.requester_ods, resource.receiver_ods):
            return
        raise Forbidden(
            f"your organisation ({self.organisation}) must be the referral's requester or its "
            "performer organisation: a client records only referrals its organisation sent or "
            "received",
            expression=f"{where}.requester",
        )


EVERY_ORGANISATION = Reach(None)
