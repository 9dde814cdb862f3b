"""The dimensions reports filter and group by, declared once (`SPECS`).

A dimension is a property of a referral (its role, source, month), of its person as at the
referral (practice, PCN, age band, gender, ethnicity, IMD decile of the LSOA), or one of its
reasons. Values are checked against the code lists, so a typo is a 400 naming the parameter,
never an empty report.

Each `DimensionSpec` names the fact column every fact table carries (`reports.models` makes the
ORM columns from it), the normalised column it is derived from and how it is coded
(`reports.facts_repository` makes the SELECT lists and the dictionary codes from it), and its
parameter name, description, values and labels (the catalogue below, the OpenAPI parameters and
`GET /reports`). A new dimension read from a column of `referral` or `referral_person` is one
entry here and one migration adding its column to the fact tables (and, for a `referral`
column, to the triggers' watched columns: `tests/reports/test_facts.py` fails until it is).
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

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
    each of them. A dimension with a `fact` (`table.column` of a child fact table) may have
    several values per referral: grouped by it, a referral counts under each (`note` says
    so); filtered by it, a referral with any of the values is kept. `reports` lists the only
    reports that offer it (None: every report built from the facts).
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
    fact: str | None = None
    note: str | None = None
    reports: tuple[str, ...] | None = None

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


# How a fact column holds its value: a `report_code` code of the dimension's values, the UTC
# date, months since January 2000, the IMD decile itself, or the referral's record key.
Coding = Literal["code", "date", "month", "decile", "record-key"]


@dataclass(frozen=True, slots=True)
class DimensionSpec:
    """One dimension (or one column every fact carries), declared once.

    `column` is the fact column every fact table carries (None for a dimension of the reason
    facts only); `source` the normalised column (`table.column`) it is derived from; `name` the
    parameter and `report_code` dimension (None for a fact column that is not a dimension: the
    referral date the period selects by, the record key). `values` and `labels` are read when
    the catalogue is first built (code lists load lazily)."""

    name: str | None
    column: str | None
    source: str
    coding: Coding
    description: str = ""
    required: bool = False
    values: Callable[[], tuple[str, ...]] | None = None
    pattern: re.Pattern[str] | None = None
    labels: Callable[[], dict[str, str]] | None = None
    filterable: bool = True
    per_reason: bool = False
    of_person: bool = False
    fact: str | None = None
    note: str | None = None
    reports: tuple[str, ...] | None = None


MULTI_COUNT_NOTE = (
    "Every reason of a referral is counted: a referral with three reasons counts once under "
    "each of them, so rows add up to more than the number of referrals."
)


def _roles() -> tuple[str, ...]:
    return tuple(c.code for c in codes.personalised_care_roles())


def _role_labels() -> dict[str, str]:
    return {c.code: c.display for c in codes.personalised_care_roles()}


def _ethnic_categories() -> tuple[str, ...]:
    return tuple(c.code for c in codes.ethnic_categories())


def _ethnic_category_labels() -> dict[str, str]:
    return {c.code: c.display for c in codes.ethnic_categories()}


def _reasons() -> tuple[str, ...]:
    return (*(c.code for c in codes.referral_reasons()), UNCODED_REASON)


def _reason_labels() -> dict[str, str]:
    return {
        **{c.code: c.display for c in codes.referral_reasons()},
        UNCODED_REASON: "Reason given as text only",
    }


SPECS: tuple[DimensionSpec, ...] = (
    DimensionSpec(None, "authored_on", "referral.authored_at", "date", required=True),
    DimensionSpec(
        "month",
        "month",
        "referral.authored_at",
        "month",
        "Calendar month (UTC) of the referral date, as YYYY-MM",
        required=True,
        filterable=False,
    ),
    DimensionSpec(
        "role",
        "role",
        "referral.received_by_role",
        "code",
        "The personalised-care role the referral was made to",
        required=True,
        values=_roles,
        labels=_role_labels,
    ),
    DimensionSpec(
        "source",
        "source",
        "referral.source_of_referral_group",
        "code",
        "Source of referral (the roll-up shared by the SNOMED, local and MHSDS source codes)",
        values=lambda: (*_groups(codes.sources_of_referral()), UNMAPPED_GROUP),
    ),
    DimensionSpec(
        "source-system",
        "source_system",
        "referral.source_system",
        "code",
        "The system the referral came from (emis, rio, api, import)",
        required=True,
        values=lambda: SOURCE_SYSTEMS,
    ),
    DimensionSpec(
        "practice",
        "practice",
        "referral_person.practice_ods",
        "code",
        "The person's GP practice (ODS code)",
        pattern=ODS_CODE,
        of_person=True,
    ),
    # The PCN received with the referral, else the one the practice-to-PCN lookup gives.
    DimensionSpec(
        "pcn",
        "pcn",
        "referral_person.pcn_ods",
        "code",
        "The person's primary care network (ODS code)",
        pattern=ODS_CODE,
        of_person=True,
    ),
    DimensionSpec(
        "age-band",
        "age_band",
        "referral_person.age_band",
        "code",
        "Age at the referral, in bands",
        values=age_bands,
        of_person=True,
    ),
    DimensionSpec(
        "gender",
        "gender",
        "referral_person.gender",
        "code",
        "Gender (the roll-up of stated gender and gender identity)",
        values=lambda: _groups(codes.genders()),
        of_person=True,
    ),
    DimensionSpec(
        "ethnicity",
        "ethnicity",
        "referral_person.ethnic_group",
        "code",
        "Ethnic group: the NHS 5-group roll-up (plus not stated, not known)",
        values=lambda: _groups(codes.ethnic_categories()),
        of_person=True,
    ),
    DimensionSpec(
        "ethnic-category",
        "ethnic_category",
        "referral_person.ethnic_category",
        "code",
        "Ethnic category: the 16 groups (A-S) plus Z and 99",
        values=_ethnic_categories,
        labels=_ethnic_category_labels,
        of_person=True,
    ),
    DimensionSpec(
        "imd-decile",
        "imd_decile",
        "lsoa_imd.imd_decile",
        "decile",
        "Index of Multiple Deprivation decile of the person's LSOA "
        "(1 most deprived); only where the LSOA is known and in the loaded lookup",
        values=lambda: tuple(str(d) for d in range(1, 11)),
        of_person=True,
    ),
    # The referral's record key (0-255) for disclosure control: a keyed hash of the referral's
    # id under REFERRAL_DISCLOSURE_KEY. A count's cell key is the sum of its records' keys.
    DimensionSpec(None, "record_key", "referral.id", "record-key", required=True),
    DimensionSpec(
        "reason",
        None,
        "referral_reason.reason_code",
        "code",
        "A reason for referral (every reason of a referral counts): a code of the "
        "referral-reasons list, any SNOMED CT concept id, or 'uncoded' (text only)",
        values=_reasons,
        pattern=SNOMED_CONCEPT_ID,
        labels=_reason_labels,
        per_reason=True,
        fact="report_reason.reason",
        note=MULTI_COUNT_NOTE,
    ),
    DimensionSpec(
        "reason-group",
        None,
        "referral_reason.reason_group",
        "code",
        "The reason's group (housing, finance, ...); 'unmapped' for a SNOMED CT code "
        "no group covers, 'uncoded' for a reason given as text only",
        values=lambda: (*_groups(codes.referral_reasons()), UNMAPPED_GROUP, UNCODED_GROUP),
        per_reason=True,
        fact="report_reason.reason_group",
        note=MULTI_COUNT_NOTE,
    ),
    DimensionSpec(
        "support-group",
        None,
        "support_offered.support_group",
        "code",
        "The group of the support offered to the referral (the service type: housing, "
        "finance, ...); empty for referrals offered none",
        values=lambda: _groups(codes.support_offered()),
        fact="report_support.support_group",
        note="Every group of support offered to a referral is counted: a referral offered "
        "support in two groups counts once under each, so rows add up to more than the number "
        "of referrals; referrals offered no support are in the row with no support group.",
        reports=("outcomes",),
    ),
)
# The columns every fact table carries, in order, and those holding `report_code` codes.
FACT_DIMENSIONS = tuple(spec for spec in SPECS if spec.column is not None)
DIMENSION_COLUMNS = tuple(spec.column for spec in FACT_DIMENSIONS if spec.column)


def column_name(dimension: str) -> str:
    """The result (and fact) column of a dimension: `age-band` -> `age_band`."""
    return dimension.replace("-", "_")


def coded_columns() -> dict[str, str]:
    """Fact columns of the dimensions that hold a `report_code` code → the dimension."""
    return {
        column_name(spec.name): spec.name
        for spec in SPECS
        if spec.name is not None and spec.coding == "code"
    }


@cache
def catalogue() -> dict[str, Dimension]:
    """Every dimension by its parameter name."""
    return {
        spec.name: Dimension(
            spec.name,
            spec.description,
            values=spec.values() if spec.values else None,
            pattern=spec.pattern,
            labels=spec.labels() if spec.labels else {},
            filterable=spec.filterable,
            per_reason=spec.per_reason,
            of_person=spec.of_person,
            fact=spec.fact,
            note=spec.note,
            reports=spec.reports,
        )
        for spec in SPECS
        if spec.name is not None
    }


def dimension(name: str) -> Dimension:
    return catalogue()[name]


def fans_out(group_by: Sequence[str]) -> bool:
    """Whether a referral may be in several groups (grouped by reasons, support groups)."""
    known = catalogue()
    return any(name in known and known[name].fact is not None for name in group_by)
