"""The dimensions reports filter and group by: their names, allowed values and labels.

A dimension is a property of a referral (its role, source, month), of its person as at the
referral (practice, PCN, age band, gender, ethnicity, IMD decile of the LSOA), or one of its
reasons. Values are checked against the code lists, so a typo is a 400 naming the parameter,
never an empty report.
"""

import re
from dataclasses import dataclass, field
from functools import cache

from referral_api.mapping.native import AGE_BANDS
from signpost_schemas import codes, snomed
from signpost_schemas.fhir.binding import UNCODED_GROUP, UNMAPPED_GROUP

SOURCE_SYSTEMS = ("api", "emis", "rio", "import")
ODS_CODE = re.compile(r"^[A-Z0-9]{3,10}$")
NOT_RECORDED = "Not recorded"
# A reason sent as text only is stored under this code (referrals.service.UNCODED_REASON).
UNCODED_REASON = "uncoded"
# Any well-formed SNOMED CT concept id (the reason filter takes codes outside the list).
SNOMED_CONCEPT_ID = re.compile(r"^[1-9][0-9]{5,17}$")


@dataclass(frozen=True, slots=True)
class Dimension:
    """One way to slice referrals.

    `values` is the list a filter value must come from, unless it matches `pattern` (`expects`
    says what the pattern admits); `labels` gives a display for coded values; `per_reason`
    dimensions come from a referral's reasons, so a referral with several reasons appears under
    each of them.
    """

    name: str
    description: str
    values: tuple[str, ...] | None = None
    pattern: re.Pattern[str] | None = None
    expects: str = "an ODS code (3 to 10 letters and digits)"
    labels: dict[str, str] = field(default_factory=dict)
    filterable: bool = True
    per_reason: bool = False
    of_person: bool = False

    def label(self, value: str | None) -> str:
        if value is None:
            return NOT_RECORDED
        return self.labels.get(value, value)

    def normalise(self, value: str) -> str:
        """The filter value as stored (ODS codes are upper case)."""
        return value.strip().upper() if self.pattern is ODS_CODE else value.strip()

    def accepts(self, value: str) -> bool:
        if self.values is not None and value in self.values:
            return True
        if self.pattern is SNOMED_CONCEPT_ID:
            return snomed.is_concept_id(value)
        return bool(self.pattern and self.pattern.match(value))


def age_bands() -> tuple[str, ...]:
    return (*(f"{low}-{high}" for low, high in AGE_BANDS), "85+")


def _groups(code_list: codes.CodeList) -> tuple[str, ...]:
    return tuple(dict.fromkeys(concept.group for concept in code_list if concept.group))


@cache
def catalogue() -> dict[str, Dimension]:
    """Every dimension by its parameter name."""
    roles = codes.personalised_care_roles()
    reasons = codes.referral_reasons()
    ethnic = codes.ethnic_categories()
    return {
        d.name: d
        for d in (
            Dimension(
                "month",
                "Calendar month (UTC) of the referral date, as YYYY-MM",
                filterable=False,
            ),
            Dimension(
                "role",
                "The personalised-care role the referral was made to",
                values=tuple(c.code for c in roles),
                labels={c.code: c.display for c in roles},
            ),
            Dimension(
                "source",
                "Source of referral (the roll-up shared by the SNOMED, local and "
                "MHSDS source codes)",
                values=(*_groups(codes.sources_of_referral()), UNMAPPED_GROUP),
            ),
            Dimension(
                "source-system",
                "The system the referral came from (emis, rio, api, import)",
                values=SOURCE_SYSTEMS,
            ),
            Dimension(
                "practice",
                "The person's GP practice (ODS code)",
                pattern=ODS_CODE,
                of_person=True,
            ),
            Dimension(
                "pcn",
                "The person's primary care network (ODS code)",
                pattern=ODS_CODE,
                of_person=True,
            ),
            Dimension(
                "age-band",
                "Age at the referral, in bands",
                values=age_bands(),
                of_person=True,
            ),
            Dimension(
                "gender",
                "Gender (the roll-up of stated gender and gender identity)",
                values=_groups(codes.genders()),
                of_person=True,
            ),
            Dimension(
                "ethnicity",
                "Ethnic group: the NHS 5-group roll-up (plus not stated, not known)",
                values=_groups(ethnic),
                of_person=True,
            ),
            Dimension(
                "ethnic-category",
                "Ethnic category: the 16 groups (A-S) plus Z and 99",
                values=tuple(c.code for c in ethnic),
                labels={c.code: c.display for c in ethnic},
                of_person=True,
            ),
            Dimension(
                "imd-decile",
                "Index of Multiple Deprivation decile of the person's LSOA "
                "(1 most deprived); only where the LSOA is known and in the loaded lookup",
                values=tuple(str(d) for d in range(1, 11)),
                of_person=True,
            ),
            Dimension(
                "reason",
                "A reason for referral (every reason of a referral counts): a code of the "
                "referral-reasons list, any SNOMED CT concept id, or 'uncoded' (text only)",
                values=(*(c.code for c in reasons), UNCODED_REASON),
                pattern=SNOMED_CONCEPT_ID,
                labels={
                    **{c.code: c.display for c in reasons},
                    UNCODED_REASON: "Reason given as text only",
                },
                per_reason=True,
            ),
            Dimension(
                "reason-group",
                "The reason's group (housing, finance, ...); 'unmapped' for a SNOMED CT code "
                "no group covers, 'uncoded' for a reason given as text only",
                values=(*_groups(reasons), UNMAPPED_GROUP, UNCODED_GROUP),
                per_reason=True,
            ),
        )
    }


def dimension(name: str) -> Dimension:
    return catalogue()[name]
