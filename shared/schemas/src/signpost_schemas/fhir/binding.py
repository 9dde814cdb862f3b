"""Value-set bindings for CodeableConcepts, as reusable Pydantic validators."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from signpost_schemas import snomed, systems
from signpost_schemas.codes import CodeList, Concept
from signpost_schemas.fhir.datatypes import CodeableConcept, Coding
from signpost_schemas.fhir.gaps import Gap, GapKind

# The groups of what the shipped code lists cannot place: a well-formed SNOMED CT concept id
# outside them (until a loaded release places it), and a concept sent as text only.
UNMAPPED_GROUP = "unmapped"
UNCODED_GROUP = "uncoded"


def first_match(concept: CodeableConcept, code_list: CodeList) -> tuple[Coding, Concept] | None:
    """The first coding of `concept` that belongs to `code_list`, with its catalogue entry."""
    for coding in concept.coding or []:
        if coding.system and coding.code:
            found = code_list.get(coding.system, coding.code)
            if found is not None:
                return coding, found
    return None


def describe_codings(concept: CodeableConcept) -> str:
    codings = [f"{c.system or '(no system)'}|{c.code or '(no code)'}" for c in concept.coding or []]
    return ", ".join(codings) or "no coding"


def bound_to(load: Callable[[], CodeList], what: str) -> AfterValidator:
    """Require a coding from the code list `load()` returns (a required binding)."""

    def check(concept: CodeableConcept) -> CodeableConcept:
        code_list = load()
        if first_match(concept, code_list) is None:
            raise PydanticCustomError(
                "code_invalid",
                "{what} must carry a coding from the {value_set} value set (got {got})",
                {"what": what, "value_set": code_list.name, "got": describe_codings(concept)},
            )
        return concept

    return AfterValidator(check)


@dataclass(frozen=True, slots=True)
class CodedValue:
    """A CodeableConcept as Signpost reads it: one code (or only text) and its group.

    `listed` says the code is in the shipped code list, whose `group` it takes. A well-formed
    SNOMED CT concept id outside the list is kept as sent with the group `unmapped` (a loaded
    SNOMED CT release may place it: referral-api resolves that); a concept with text and no
    coding has no system or code and the group `uncoded`.
    """

    system: str | None
    code: str | None
    display: str | None
    group: str
    listed: bool
    text: str | None = None

    @property
    def unlisted_snomed(self) -> bool:
        """A SNOMED CT code the shipped list does not hold (a loaded release may group it)."""
        return not self.listed and self.system == systems.SNOMED and self.code is not None

    @property
    def token(self) -> str | None:
        """`system|code`, as data gaps and search parameters name a code."""
        return f"{self.system}|{self.code}" if self.system and self.code else None


def check_snomed_codings(concept: CodeableConcept, expression: str) -> None:
    """Refuse a SNOMED CT coding whose code is not a well-formed concept id, naming it."""
    for index, coding in enumerate(concept.coding or []):
        if coding.system != systems.SNOMED or coding.code is None:
            continue
        if (problem := snomed.concept_id_problem(coding.code)) is not None:
            raise custom_error(
                "code_invalid",
                "{code} is not a SNOMED CT concept id: {problem}",
                f"{expression}.coding[{index}].code",
                code=coding.code,
                problem=problem,
            )


def read_coded(
    concept: CodeableConcept, code_list: CodeList, *, text_only: bool = False
) -> CodedValue | None:
    """The code Signpost keeps for `concept`: the first coding in `code_list`, else the first
    SNOMED CT coding (well-formed: see `check_snomed_codings`), else, with `text_only`, the text
    of a concept without coding. None when there is none of these (the caller refuses)."""
    match = first_match(concept, code_list)
    if match is not None:
        coding, found = match
        return CodedValue(found.system, found.code, coding.display, found.group, True, concept.text)
    for coding in concept.coding or []:
        if coding.system == systems.SNOMED and coding.code and snomed.is_concept_id(coding.code):
            return CodedValue(
                systems.SNOMED, coding.code, coding.display, UNMAPPED_GROUP, False, concept.text
            )
    if text_only and not concept.coding and concept.text and concept.text.strip():
        return CodedValue(None, None, None, UNCODED_GROUP, False, concept.text)
    return None


def gap_of(value: CodedValue, expression: str, what: str) -> Gap | None:
    """The data gap a kept value carries: an unlisted SNOMED CT code, or text only."""
    if value.unlisted_snomed:
        return Gap(
            GapKind.UNMAPPED_CODE,
            expression,
            f"{what} {value.code} (SNOMED CT) is kept, but Signpost cannot place it in a group: "
            "it is counted as unmapped",
            code=value.token,
        )
    if value.group == UNCODED_GROUP:
        return Gap(
            GapKind.UNCODED_TEXT,
            expression,
            f"{what} was sent as text only: it is kept with its text and counted as uncoded",
        )
    return None


def custom_error(kind: str, message: str, expression: str, **ctx: Any) -> PydanticCustomError:
    """A validation error that names its FHIRPath `expression` explicitly.

    Used by model-level rules, whose errors Pydantic would otherwise attach to the whole resource.
    """
    return PydanticCustomError(kind, message, {"expression": expression, **ctx})
