"""Which screening responses a caller may see and change.

A caller whose token names an organisation (a clinic's ODS code) sees and changes only the
responses given at that clinic, with their Observations and referral hand-offs; any other answers
404, as if it did not exist, and is left out of searches and lists. A response or invitation a
caller submits must name the caller's clinic.

A front end that serves many clinics, and the people who run the service, are granted
`screening:all-organisations`. A token with neither a clinic nor that scope is refused with 403
(`signpost_platform.access`). Reports are aggregates, behind their own scope.
"""

from typing import Any

from sqlalchemy import ColumnElement, Select, select

from screening_api.responses.models import ResponseRecord
from signpost_platform.access import OrganisationReach

ALL_ORGANISATIONS = "screening:all-organisations"


class Reach(OrganisationReach):
    """The responses a caller may see: one clinic's, or every response."""

    __slots__ = ()
    all_organisations_scope = ALL_ORGANISATIONS

    def conditions(self) -> list[ColumnElement[bool]]:
        """SQL conditions on `ResponseRecord` that keep only what the caller may see."""
        return self.matching(ResponseRecord.clinic_ods)

    def of_visible_responses(self, column: Any) -> list[ColumnElement[bool]]:
        """Conditions keeping rows whose `column` (a response id) is a visible response."""
        if self.unrestricted:
            return []
        visible: Select[str] = select(ResponseRecord.id).where(*self.conditions())
        return [column.in_(visible)]

    def check_clinic(self, clinic_ods: str, expression: str) -> None:
        self.require(clinic_ods, expression=expression, role="clinic")


EVERY_ORGANISATION = Reach(None)
