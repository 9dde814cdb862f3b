"""Value-set bindings for CodeableConcepts, as reusable Pydantic validators."""

from collections.abc import Callable
from typing import Any

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from signpost_schemas.codes import CodeList, Concept
from signpost_schemas.fhir.datatypes import CodeableConcept, Coding


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


def custom_error(kind: str, message: str, expression: str, **ctx: Any) -> PydanticCustomError:
    """A validation error that names its FHIRPath `expression` explicitly.

    Used by model-level rules, whose errors Pydantic would otherwise attach to the whole resource.
    """
    return PydanticCustomError(kind, message, {"expression": expression, **ctx})
