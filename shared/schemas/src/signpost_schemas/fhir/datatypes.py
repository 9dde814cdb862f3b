"""FHIR R4 data types used by Signpost's profiles."""

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from signpost_schemas import systems
from signpost_schemas.fhir.base import OUTSIDE_UTC_RANGE, FhirModel

FhirId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9\-\.]{1,64}$")]
FhirCode = Annotated[str, StringConstraints(pattern=r"^[^\s]+( [^\s]+)*$", max_length=256)]
FhirUri = Annotated[str, StringConstraints(min_length=1, max_length=2048, pattern=r"^\S+$")]
FhirString = Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
# FHIR's request-status value set, the status of the request resources (ServiceRequest, CarePlan).
RequestStatus = Literal[
    "draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"
]


def _on_a_real_day(value: str) -> str:
    """A FHIR date or dateTime kept as text (at the precision sent) must name a day the calendar
    has, and a moment must be expressible in UTC, as it is stored: the pattern alone lets
    `0000-01-01`, `2026-02-30` and `0001-01-01T00:00:00+14:00` through to the code that reads
    them."""
    day, _, time = value.partition("T")
    year, month, day_of_month = [*day.split("-"), "01", "01"][:3]
    try:
        date(int(year), int(month), int(day_of_month))
        moment = datetime.fromisoformat(value.replace("Z", "+00:00")) if time else None
    except ValueError:
        raise PydanticCustomError(
            "date_parsing",
            "not a date the calendar has (years from 0001, months 01 to 12, days to the end of "
            "the month, hours 00 to 23, minutes and seconds 00 to 59)",
        ) from None
    if moment is not None:
        try:
            moment.astimezone(UTC)
        except OverflowError:
            raise PydanticCustomError("value_error", OUTSIDE_UTC_RANGE) from None
    return value


# FHIR date and dateTime as text, at the precision sent (a year, a month, a day or, for a
# dateTime, a moment with its offset).
FhirDate = Annotated[
    str,
    StringConstraints(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$"),
    AfterValidator(_on_a_real_day),
]
FhirDateTime = Annotated[
    str,
    StringConstraints(
        pattern=r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?)?)?$"
    ),
    AfterValidator(_on_a_real_day),
]
# Systems and identifier values are stored (and indexed) in columns of 255 characters.
MAX_STORED_LENGTH = 255
FhirSystem = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_STORED_LENGTH, pattern=r"^\S+$"),
    AfterValidator(systems.normalise_system),
]


class Coding(FhirModel):
    system: FhirSystem | None = None
    version: FhirString | None = None
    code: FhirCode | None = None
    display: FhirString | None = None
    userSelected: bool | None = None


class CodeableConcept(FhirModel):
    coding: list[Coding] | None = None
    text: FhirString | None = None


class Identifier(FhirModel):
    use: FhirCode | None = None
    type: CodeableConcept | None = None
    system: FhirSystem | None = None
    value: FhirString | None = None

    @model_validator(mode="after")
    def _fits_its_columns(self) -> "Identifier":
        # A validator, not a type, so that profiles narrowing `value` keep the limit.
        for name in ("system", "value"):
            value = getattr(self, name)
            if isinstance(value, str) and len(value) > MAX_STORED_LENGTH:
                raise PydanticCustomError(
                    "string_too_long",
                    f"an identifier {name} has at most {MAX_STORED_LENGTH} characters",
                    {"element": name},
                )
        return self


class Reference(FhirModel):
    reference: FhirString | None = None
    type: FhirUri | None = None
    identifier: Identifier | None = None
    display: FhirString | None = None


class Meta(FhirModel):
    versionId: FhirId | None = None
    lastUpdated: datetime | None = None
    source: FhirUri | None = None
    profile: list[FhirUri] | None = None
    tag: list[Coding] | None = None


class Narrative(FhirModel):
    status: FhirCode
    div: FhirString


class Annotation(FhirModel):
    authorString: FhirString | None = None
    time: datetime | None = None
    text: FhirString


class Expression(FhirModel):
    """An expression (FHIRPath, for SDC pre-population) and the language it is written in."""

    description: FhirString | None = None
    name: FhirId | None = None
    language: FhirCode
    expression: FhirString | None = None
    reference: FhirUri | None = None


class Extension(FhirModel):
    """An extension; Signpost reads the value types its profiles use."""

    url: FhirUri
    valueCodeableConcept: CodeableConcept | None = None
    valueCoding: Coding | None = None
    valueString: FhirString | None = None
    valueCode: FhirCode | None = None
    valueBoolean: bool | None = None
    valueInteger: int | None = None
    valueDecimal: float | None = None
    valueDateTime: datetime | date | None = None
    valueUri: FhirUri | None = None
    valueReference: Reference | None = None
    valueIdentifier: Identifier | None = None
    valueExpression: Expression | None = None
    extension: list["Extension"] | None = None


JsonObject = dict[str, Any]
NonEmptyList = Field(min_length=1)
