"""The Signpost wellbeing assessment: one administration of a wellbeing instrument.

`code` names the instrument (ONS4, WEMWBS, SWEMWBS, PAM-13, CollaboRATE, MyCaW, EQ-5D-5L,
MSK-HQ, SF-12, the Friends and Family Test, from the wellbeing-instruments list), the
`Extension-Signpost-AssessmentTimepoint` says baseline, follow-up or discharge,
`effectiveDateTime` is the date it was taken, `valueQuantity` is the total for instruments that
have one (WEMWBS, SWEMWBS metric score, PAM score, MSK-HQ), and `component` carries item and
sub-scores coded with the instrument's own sub-codes. Every score is checked against the
instrument's range; instruments that are not summed (ONS4, MyCaW, EQ-5D-5L, SF-12, the Friends
and Family Test) refuse a total (CollaboRATE, the shared-decision-making measure, is not summed
either: its three items are its scores).
"""

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field, model_validator

from signpost_schemas import codes
from signpost_schemas.codes import Concept
from signpost_schemas.fhir import profiles
from signpost_schemas.fhir.base import FhirModel, FhirResource
from signpost_schemas.fhir.binding import custom_error, describe_codings, first_match
from signpost_schemas.fhir.datatypes import (
    CodeableConcept,
    Extension,
    FhirId,
    FhirString,
    Identifier,
    Meta,
    Reference,
)
from signpost_schemas.fhir.task import as_moment

ObservationStatus = Literal[
    "registered",
    "preliminary",
    "final",
    "amended",
    "corrected",
    "cancelled",
    "entered-in-error",
    "unknown",
]
Timepoint = Literal["baseline", "follow-up", "discharge"]
TIMEPOINTS: tuple[str, ...] = ("baseline", "follow-up", "discharge")
_EQ5D_PROFILE = re.compile(r"^[1-5]{5}$")


@dataclass(frozen=True, slots=True)
class ScoreRange:
    """The valid range of one score; `whole` when only whole numbers are valid."""

    low: float
    high: float
    whole: bool = True


# Ranges of each instrument's scores, as given in the wellbeing-instruments code list notes.
SCORE_RANGES: dict[str, ScoreRange] = {
    "ons4-life-satisfaction": ScoreRange(0, 10),
    "ons4-worthwhile": ScoreRange(0, 10),
    "ons4-happiness": ScoreRange(0, 10),
    "ons4-anxiety": ScoreRange(0, 10),
    "wemwbs-total": ScoreRange(14, 70),
    "swemwbs-raw": ScoreRange(7, 35),
    "swemwbs-metric": ScoreRange(7, 35, whole=False),
    "pam-13-score": ScoreRange(0, 100, whole=False),
    "pam-13-level": ScoreRange(1, 4),
    "collaborate-understand": ScoreRange(0, 9),
    "collaborate-listen": ScoreRange(0, 9),
    "collaborate-include": ScoreRange(0, 9),
    "mycaw-concern-1": ScoreRange(0, 6),
    "mycaw-concern-2": ScoreRange(0, 6),
    "mycaw-wellbeing": ScoreRange(0, 6),
    "msk-hq-score": ScoreRange(0, 56),
    "sf-12-pcs": ScoreRange(0, 100, whole=False),
    "sf-12-mcs": ScoreRange(0, 100, whole=False),
    "fft-response": ScoreRange(1, 6),
    "eq-5d-5l-mobility": ScoreRange(1, 5),
    "eq-5d-5l-self-care": ScoreRange(1, 5),
    "eq-5d-5l-usual-activities": ScoreRange(1, 5),
    "eq-5d-5l-pain-discomfort": ScoreRange(1, 5),
    "eq-5d-5l-anxiety-depression": ScoreRange(1, 5),
    "eq-5d-5l-vas": ScoreRange(0, 100),
    "eq-5d-5l-index": ScoreRange(-1, 1, whole=False),
}
# The total (valueQuantity) of instruments that have one, and its range.
TOTAL_RANGES: dict[str, ScoreRange] = {
    "wemwbs": SCORE_RANGES["wemwbs-total"],
    "swemwbs": SCORE_RANGES["swemwbs-metric"],
    "pam-13": SCORE_RANGES["pam-13-score"],
    "msk-hq": SCORE_RANGES["msk-hq-score"],
}
TEXT_SCORES = {"eq-5d-5l-profile"}


class Quantity(FhirModel):
    value: float
    unit: FhirString | None = None
    system: FhirString | None = None
    code: FhirString | None = None


class ObservationComponent(FhirModel):
    code: CodeableConcept
    valueQuantity: Quantity | None = None
    valueInteger: int | None = None
    valueString: FhirString | None = None


@dataclass(frozen=True, slots=True)
class ItemScore:
    code: str
    value: float | None
    text: str | None


class ReferralObservation(FhirResource):
    """What every Observation recorded against a referral has: the referral it is based on
    (`basedOn`), its status and code. Notes are free text about the person: never kept."""

    personal_elements: ClassVar[frozenset[str]] = frozenset({"text", "note", "subject.display"})

    resourceType: Literal["Observation"]
    id: FhirId | None = None
    meta: Meta | None = None
    extension: list[Extension] = Field(default_factory=list)
    identifier: list[Identifier] | None = None
    basedOn: list[Reference] = Field(min_length=1)
    status: ObservationStatus
    category: list[CodeableConcept] | None = None
    code: CodeableConcept
    subject: Reference | None = None


class WellbeingAssessment(ReferralObservation):
    """A wellbeing score (Observation) recorded against a referral."""

    read_extensions: ClassVar[frozenset[str]] = frozenset({profiles.ASSESSMENT_TIMEPOINT_EXTENSION})

    id: FhirId
    effectiveDateTime: AwareDatetime | date
    valueQuantity: Quantity | None = None
    component: list[ObservationComponent] | None = None

    @model_validator(mode="after")
    def _scores(self) -> "WellbeingAssessment":
        instrument = self.instrument
        found = [
            (i, e)
            for i, e in enumerate(self.extension)
            if e.url == profiles.ASSESSMENT_TIMEPOINT_EXTENSION
        ]
        if len(found) != 1 or found[0][1].valueCode not in TIMEPOINTS:
            raise custom_error(
                "required",
                "one {url} extension with valueCode baseline, follow-up or discharge is required",
                "Observation.extension",
                url=profiles.ASSESSMENT_TIMEPOINT_EXTENSION,
            )
        if self.valueQuantity is not None:
            total_range = TOTAL_RANGES.get(instrument.code)
            if total_range is None:
                raise custom_error(
                    "business_rule",
                    "{instrument} has no total: send its items as components",
                    "Observation.valueQuantity",
                    instrument=instrument.display,
                )
            _check_range(total_range, self.valueQuantity.value, "Observation.valueQuantity.value")
        seen: set[str] = set()
        for index, component in enumerate(self.component or []):
            self._check_component(index, component, instrument, seen)
        if self.valueQuantity is None and not self.component:
            raise custom_error(
                "required",
                "an assessment needs a total (valueQuantity) or item scores (component)",
                "Observation.value[x]",
            )
        return self

    def _check_component(
        self, index: int, component: ObservationComponent, instrument: Concept, seen: set[str]
    ) -> None:
        where = f"Observation.component[{index}]"
        match = first_match(component.code, codes.wellbeing_instruments())
        if match is None or match[1].group != instrument.code:
            raise custom_error(
                "code_invalid",
                "a component of {instrument} must be coded with one of its item codes (got {got})",
                f"{where}.code",
                instrument=instrument.display,
                got=describe_codings(component.code),
            )
        code = match[1].code
        if code in seen:
            raise custom_error(
                "duplicate", "the item {code} is given twice", f"{where}.code", code=code
            )
        seen.add(code)
        values = [
            v
            for v in (component.valueQuantity, component.valueInteger, component.valueString)
            if v is not None
        ]
        if len(values) != 1:
            raise custom_error(
                "required", "a component needs exactly one value", f"{where}.value[x]"
            )
        if code in TEXT_SCORES:
            if component.valueString is None or not _EQ5D_PROFILE.match(component.valueString):
                raise custom_error(
                    "value_error",
                    "the EQ-5D-5L profile is five digits 1-5 in valueString (e.g. 21131)",
                    f"{where}.valueString",
                )
            return
        if component.valueString is not None:
            raise custom_error(
                "value_error", "{code} is a number, not a string", f"{where}.valueString", code=code
            )
        value = component.valueQuantity.value if component.valueQuantity else component.valueInteger
        assert value is not None
        path = where + (".valueQuantity.value" if component.valueQuantity else ".valueInteger")
        _check_range(SCORE_RANGES[code], value, path)

    # Typed views.

    @property
    def instrument(self) -> Concept:
        match = first_match(self.code, codes.wellbeing_instruments())
        if match is None or match[1].group != "instrument":
            raise custom_error(
                "code_invalid",
                "Observation.code must name an instrument from the "
                "wellbeing-instruments list (got {got})",
                "Observation.code",
                got=describe_codings(self.code),
            )
        return match[1]

    @property
    def timepoint(self) -> Timepoint:
        for extension in self.extension:
            if extension.url == profiles.ASSESSMENT_TIMEPOINT_EXTENSION:
                return extension.valueCode  # type: ignore[return-value]
        raise AssertionError("validated assessment without a timepoint")

    @property
    def assessed_at(self) -> datetime:
        return as_moment(self.effectiveDateTime)

    @property
    def total(self) -> float | None:
        return self.valueQuantity.value if self.valueQuantity else None

    @property
    def items(self) -> list[ItemScore]:
        result = []
        for component in self.component or []:
            match = first_match(component.code, codes.wellbeing_instruments())
            assert match is not None
            number = (
                component.valueQuantity.value
                if component.valueQuantity
                else float(component.valueInteger)
                if component.valueInteger is not None
                else None
            )
            result.append(ItemScore(match[1].code, number, component.valueString))
        return result


def _check_range(score_range: ScoreRange, value: float, expression: str) -> None:
    if not score_range.low <= value <= score_range.high or (
        score_range.whole and value != int(value)
    ):
        number = "a whole number" if score_range.whole else "a number"
        raise custom_error(
            "value_error",
            "the score {value} is out of range: {number} from {low} to {high}",
            expression,
            value=_plain(value),
            number=number,
            low=_plain(score_range.low),
            high=_plain(score_range.high),
        )


def _plain(number: float) -> str:
    return str(int(number)) if number == int(number) else str(number)
