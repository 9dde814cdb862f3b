"""Data gaps: what a sender left out, or sent in a form Signpost keeps but cannot interpret.

Signpost keeps every referral it can store safely. What is missing or uncoded is not a refusal:
it is a gap, recorded beside the referral, answered to the sender as an OperationOutcome issue of
severity `warning`, and counted per sender by the data-quality report.

Profiles report gaps while they validate: a validator that meets one calls `note_gap(info, ...)`,
which appends to the list a caller passed as the validation context `{"gaps": [...]}`. A caller
that passes no context (tests, internal re-reads) simply does not collect them.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import ValidationInfo

from signpost_schemas import systems

DATA_GAP_SYSTEM = f"{systems.LOCAL_BASE}/CodeSystem/data-gap"


class GapKind(StrEnum):
    """The kinds of gap, also the codes of the data-gap code system."""

    NOT_RECORDED = "not-recorded"  # an element of the dataset is missing: kept as not recorded
    UNMAPPED_CODE = "unmapped-code"  # a well-formed code Signpost cannot place in a group
    UNCODED_TEXT = "uncoded-text"  # a coded element sent as text only
    NO_NHS_NUMBER = "no-nhs-number"  # the person is identified by a local patient number
    NOT_INTERPRETED = "not-interpreted"  # kept and served back as sent, but not read
    REMOVED_PERSONAL_DATA = "removed-personal-data"  # personal data outside the dataset: not kept
    # free text holding characters a FHIR string cannot: kept with them replaced
    REPLACED_CHARACTERS = "replaced-characters"


# The OperationOutcome issue type (http://hl7.org/fhir/issue-type) each kind is reported with.
_ISSUE_TYPE: dict[GapKind, str] = {
    GapKind.NOT_RECORDED: "incomplete",
    GapKind.UNMAPPED_CODE: "code-invalid",
    GapKind.UNCODED_TEXT: "incomplete",
    GapKind.NO_NHS_NUMBER: "incomplete",
    GapKind.NOT_INTERPRETED: "informational",
    GapKind.REMOVED_PERSONAL_DATA: "informational",
    GapKind.REPLACED_CHARACTERS: "value",
}


@dataclass(frozen=True, slots=True)
class Gap:
    """One gap in one resource.

    `element` is the FHIRPath of the element concerned (`ServiceRequest.reasonCode[2]`); `code`
    is the code involved, as `system|code`, for unmapped codes (the data-quality report lists the
    most frequent ones).
    """

    kind: GapKind
    element: str
    message: str
    code: str | None = None

    def issue(self) -> dict[str, Any]:
        """The gap as an OperationOutcome issue (JSON) of severity `warning`."""
        return {
            "severity": "warning",
            "code": _ISSUE_TYPE[self.kind],
            "details": {"coding": [{"system": DATA_GAP_SYSTEM, "code": self.kind.value}]},
            "diagnostics": self.message,
            "expression": [self.element],
        }


def note_gap(info: ValidationInfo, gap: Gap) -> None:
    """Record `gap` in the validation context's `gaps` list, when the caller collects them."""
    context = info.context
    if isinstance(context, dict) and isinstance(context.get("gaps"), list):
        context["gaps"].append(gap)


def operation_outcome(gaps: list[Gap]) -> dict[str, Any]:
    """An OperationOutcome (JSON) with one warning per gap, or one `information` issue if none."""
    issues = [gap.issue() for gap in gaps] or [
        {"severity": "information", "code": "informational", "diagnostics": "no data gaps"}
    ]
    return {"resourceType": "OperationOutcome", "issue": issues}
