"""FHIR R4 Questionnaire and QuestionnaireResponse, as much of them as form renderers exchange.

Strict about structure (unknown elements are refused) but general: nothing here is specific to
one questionnaire. The rules that tie a response to its questionnaire are in `validation`.
"""

from typing import Annotated, Any, Literal

from pydantic import StrictBool, StrictInt, StringConstraints

from signpost_schemas.fhir.base import FhirModel, FhirResource
from signpost_schemas.fhir.datatypes import (
    Coding,
    Extension,
    FhirCode,
    FhirDate,
    FhirDateTime,
    FhirId,
    FhirString,
    FhirUri,
    Identifier,
    Meta,
    Narrative,
    Reference,
)

ItemType = Literal[
    "group",
    "display",
    "boolean",
    "decimal",
    "integer",
    "date",
    "dateTime",
    "time",
    "string",
    "text",
    "url",
    "choice",
    "open-choice",
    "attachment",
    "reference",
    "quantity",
]
EnableWhenOperator = Literal["exists", "=", "!=", ">", "<", ">=", "<="]
QuestionnaireStatus = Literal["draft", "active", "retired", "unknown"]
ResponseStatus = Literal["in-progress", "completed", "amended", "entered-in-error", "stopped"]

FhirTime = Annotated[str, StringConstraints(pattern=r"^\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$")]
LinkId = Annotated[str, StringConstraints(min_length=1, max_length=255)]


class Quantity(FhirModel):
    value: float | None = None
    comparator: Literal["<", "<=", ">=", ">"] | None = None
    unit: FhirString | None = None
    system: FhirUri | None = None
    code: FhirCode | None = None


class Attachment(FhirModel):
    contentType: FhirCode | None = None
    language: FhirCode | None = None
    data: str | None = None
    url: FhirUri | None = None
    size: StrictInt | None = None
    hash: str | None = None
    title: FhirString | None = None
    creation: FhirDateTime | None = None


# The value[x] choices a Questionnaire element or a response answer may carry, by element suffix.
VALUE_SUFFIXES = (
    "Boolean",
    "Decimal",
    "Integer",
    "Date",
    "DateTime",
    "Time",
    "String",
    "Uri",
    "Coding",
    "Quantity",
    "Reference",
    "Attachment",
)

_SUFFIX_SET = frozenset(VALUE_SUFFIXES)


class _ChoiceOfValue(FhirModel):
    """Mixin for elements with a `<prefix>[x]` choice; `prefix` names it (value, answer)."""

    def choices(self, prefix: str) -> list[tuple[str, Any]]:
        """The `(suffix, value)` pairs of the choice element that are present."""
        # Read the field values directly: this runs for every answer on the submission path.
        start = len(prefix)
        return [
            (name[start:], value)
            for name, value in self.__dict__.items()
            if value is not None and name.startswith(prefix) and name[start:] in _SUFFIX_SET
        ]


class AnswerOption(_ChoiceOfValue):
    extension: list[Extension] | None = None
    valueInteger: StrictInt | None = None
    valueDate: FhirDate | None = None
    valueTime: FhirTime | None = None
    valueString: FhirString | None = None
    valueCoding: Coding | None = None
    valueReference: Reference | None = None
    initialSelected: StrictBool | None = None


class EnableWhen(_ChoiceOfValue):
    question: LinkId
    operator: EnableWhenOperator
    answerBoolean: StrictBool | None = None
    answerDecimal: float | None = None
    answerInteger: StrictInt | None = None
    answerDate: FhirDate | None = None
    answerDateTime: FhirDateTime | None = None
    answerTime: FhirTime | None = None
    answerString: FhirString | None = None
    answerCoding: Coding | None = None
    answerQuantity: Quantity | None = None
    answerReference: Reference | None = None

    @property
    def answer(self) -> tuple[str, Any]:
        """The `(type suffix, value)` of `answer[x]` (the schema requires exactly one)."""
        found = self.choices("answer")
        if len(found) != 1:
            raise ValueError("enableWhen needs exactly one answer[x]")
        return found[0]


class _AnyValue(_ChoiceOfValue):
    """Every value[x] type an initial value or a response answer may carry."""

    valueBoolean: StrictBool | None = None
    valueDecimal: float | None = None
    valueInteger: StrictInt | None = None
    valueDate: FhirDate | None = None
    valueDateTime: FhirDateTime | None = None
    valueTime: FhirTime | None = None
    valueString: FhirString | None = None
    valueUri: FhirUri | None = None
    valueAttachment: Attachment | None = None
    valueCoding: Coding | None = None
    valueQuantity: Quantity | None = None
    valueReference: Reference | None = None


class Initial(_AnyValue):
    pass


class QuestionnaireItem(FhirModel):
    extension: list[Extension] | None = None
    linkId: LinkId
    definition: FhirUri | None = None
    code: list[Coding] | None = None
    prefix: FhirString | None = None
    text: FhirString | None = None
    type: ItemType
    enableWhen: list[EnableWhen] | None = None
    enableBehavior: Literal["all", "any"] | None = None
    required: StrictBool | None = None
    repeats: StrictBool | None = None
    readOnly: StrictBool | None = None
    maxLength: StrictInt | None = None
    answerValueSet: FhirUri | None = None
    answerOption: list[AnswerOption] | None = None
    initial: list[Initial] | None = None
    item: list["QuestionnaireItem"] | None = None


class NarratedResource(FhirResource):
    """The elements a Questionnaire and a QuestionnaireResponse open with: optional id, meta,
    narrative and extensions."""

    resourceType: str
    id: FhirId | None = None
    meta: Meta | None = None
    text: Narrative | None = None
    extension: list[Extension] | None = None


class Questionnaire(NarratedResource):
    """A form definition: items, their answers and when each item is enabled."""

    resourceType: Literal["Questionnaire"]
    url: FhirUri | None = None
    identifier: list[Identifier] | None = None
    version: FhirString | None = None
    name: FhirString | None = None
    title: FhirString | None = None
    derivedFrom: list[FhirUri] | None = None
    status: QuestionnaireStatus
    experimental: StrictBool | None = None
    subjectType: list[FhirCode] | None = None
    date: FhirDateTime | None = None
    publisher: FhirString | None = None
    description: FhirString | None = None
    purpose: FhirString | None = None
    copyright: FhirString | None = None
    approvalDate: FhirDate | None = None
    lastReviewDate: FhirDate | None = None
    code: list[Coding] | None = None
    item: list[QuestionnaireItem] | None = None

    @property
    def canonical(self) -> str:
        """`url|version`, the reference a response should carry."""
        return f"{self.url}|{self.version}" if self.version else str(self.url)


class ResponseAnswer(_AnyValue):
    extension: list[Extension] | None = None
    item: list["ResponseItem"] | None = None


class ResponseItem(FhirModel):
    extension: list[Extension] | None = None
    linkId: LinkId
    definition: FhirUri | None = None
    text: FhirString | None = None
    answer: list[ResponseAnswer] | None = None
    item: list["ResponseItem"] | None = None


class QuestionnaireResponse(NarratedResource):
    """Answers to a Questionnaire, as a renderer exports them."""

    resourceType: Literal["QuestionnaireResponse"]
    identifier: Identifier | None = None
    basedOn: list[Reference] | None = None
    partOf: list[Reference] | None = None
    questionnaire: FhirUri | None = None
    status: ResponseStatus
    subject: Reference | None = None
    encounter: Reference | None = None
    authored: FhirDateTime | None = None
    author: Reference | None = None
    source: Reference | None = None
    item: list[ResponseItem] | None = None
