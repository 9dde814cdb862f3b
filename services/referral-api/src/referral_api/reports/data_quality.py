"""The data-quality report's vocabulary: its warnings, dimensions and options.

A warning is a family of recorded gaps (`quality.models.ReferralGap`, kinds from
`signpost_schemas.fhir.gaps.GapKind`) a sender can act on. Each is declared once here; the
report's columns, the SQL that counts referrals having it and the catalogue come from
`WARNINGS`. A referral counts once per warning however many such gaps it has; gaps no warning
names count under "other data gaps", so nothing recorded is left out.
"""

from dataclasses import dataclass

from referral_api.reports.dimensions import ODS_CODE, SOURCE_SYSTEMS, Dimension
from referral_api.reports.query import Option
from signpost_schemas import systems
from signpost_schemas.fhir.gaps import GapKind

# The elements gaps are recorded against (FHIRPath without list indexes).
SOURCE_OF_REFERRAL_ELEMENT = (
    f"ServiceRequest.extension('{systems.SOURCE_OF_SERVICE_REQUEST_EXTENSION}')"
)
REASON_ELEMENT = "ServiceRequest.reasonCode"


@dataclass(frozen=True, slots=True)
class QualityWarning:
    """Referrals with a gap of `kind` on `element` (or on an element inside it); `element`
    None: on any element."""

    name: str
    label: str
    kind: GapKind
    element: str | None = None


WARNINGS: tuple[QualityWarning, ...] = (
    QualityWarning(
        "no_source",
        "No source of referral",
        GapKind.NOT_RECORDED,
        SOURCE_OF_REFERRAL_ELEMENT,
    ),
    QualityWarning(
        "unmapped_reason",
        "Reason code Signpost cannot map",
        GapKind.UNMAPPED_CODE,
        REASON_ELEMENT,
    ),
    QualityWarning(
        "text_only_reason",
        "Reason sent as text only",
        GapKind.UNCODED_TEXT,
        REASON_ELEMENT,
    ),
    QualityWarning(
        "no_nhs_number",
        "No NHS number (local patient number only)",
        GapKind.NO_NHS_NUMBER,
    ),
    QualityWarning(
        "not_interpreted",
        "Elements kept but not interpreted",
        GapKind.NOT_INTERPRETED,
    ),
    QualityWarning(
        "personal_data_removed",
        "Personal data removed (not kept)",
        GapKind.REMOVED_PERSONAL_DATA,
    ),
    QualityWarning(
        "replaced_characters",
        "Free text with control characters replaced (pasted from letters)",
        GapKind.REPLACED_CHARACTERS,
    ),
)
OTHER_GAP = "other_gap"
WITH_GAP = "with_gap"
ANY_UNMAPPED = "any_unmapped"
# The 0/1 flags of a referral the report counts (`report_quality`).
QUALITY_FLAGS = (WITH_GAP, *(w.name for w in WARNINGS), OTHER_GAP, ANY_UNMAPPED)

DIMENSIONS: dict[str, Dimension] = {
    d.name: d
    for d in (
        Dimension(
            "source-system",
            "The system the referral came from (emis, rio, api, import)",
            values=SOURCE_SYSTEMS,
        ),
        Dimension(
            "sender",
            "The organisation that sent the referral (the requester's ODS code)",
            pattern=ODS_CODE,
        ),
        Dimension(
            "month",
            "Calendar month (UTC) in which Signpost received the referral, as YYYY-MM",
            filterable=False,
        ),
    )
}
DEFAULT_GROUP_BY = ("source-system", "sender", "month")

VIEW = Option(
    "view",
    "warnings: one row per group with every warning; unmapped-codes: the most frequent "
    "codes Signpost could not map, per group",
    "warnings",
    ("warnings", "unmapped-codes"),
)
LIMIT = Option(
    "limit",
    "How many unmapped codes to show per group (view=unmapped-codes)",
    "10",
    minimum=1,
    maximum=100,
)
