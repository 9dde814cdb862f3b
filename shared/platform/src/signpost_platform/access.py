"""Object-level authorisation by organisation: whose records a caller may see and change.

A token names the caller's organisation by ODS code (the `ods` claim; the claim's name is a
setting). Such a caller reaches only the records of its own organisation; each service says
which columns name a record's organisations. Callers that act for every organisation hold the
service's `...:all-organisations` scope. A token with neither is refused with 403: access fails
closed.
"""

from dataclasses import dataclass
from typing import Any, ClassVar, Self

from sqlalchemy import ColumnElement, or_

from signpost_platform.auth import Caller
from signpost_platform.binds import Binds, bound
from signpost_platform.errors import Forbidden


@dataclass(frozen=True, slots=True)
class OrganisationReach:
    """The records a caller may see: those of one organisation (ODS code), or every record."""

    organisation: str | None
    # The scope that reaches every organisation's records; each service's subclass names it.
    all_organisations_scope: ClassVar[str]

    @classmethod
    def of(cls, caller: Caller) -> Self:
        """The caller's reach; 403 for a token with neither an organisation nor the scope."""
        if caller.has(cls.all_organisations_scope):
            return cls(None)
        if caller.organisation_ods is None:
            raise Forbidden(
                "the token names no organisation (ODS code claim), and without one or the "
                f"scope {cls.all_organisations_scope} no record can be shown"
            )
        return cls(caller.organisation_ods)

    @property
    def unrestricted(self) -> bool:
        return self.organisation is None

    def allows(self, *organisations: str | None) -> bool:
        """Whether a record naming these organisations is within reach."""
        return self.organisation is None or self.organisation in organisations

    def matching(self, *columns: Any) -> list[ColumnElement[bool]]:
        """SQL conditions keeping the rows where any of `columns` names the organisation."""
        if self.organisation is None:
            return []
        organisation = bound(self.organisation)
        return [or_(*(column == organisation for column in columns))]

    def shaped(self, binds: Binds) -> Self:
        """This reach with its organisation held by `binds`: for `matching` only (a statement
        built once per shape), not for `allows`."""
        return self if self.organisation is None else type(self)(binds(self.organisation))

    def require(self, *organisations: str | None, expression: str, role: str) -> None:
        """Refuse content that would put a record out of the caller's organisation's reach."""
        if not self.allows(*organisations):
            raise Forbidden(
                f"your organisation ({self.organisation}) must be the record's {role}: a client "
                "records only what its own organisation sent or received",
                expression=expression,
            )
