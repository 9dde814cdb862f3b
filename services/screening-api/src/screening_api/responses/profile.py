"""The Signpost profile of QuestionnaireResponse for screening.

On top of what a renderer exports, the front end adds who answered and where:
- `subject.identifier`: the person's NHS number (Modulus 11 checked); names are never kept;
- the screening-context extension: the clinic's ODS code (the referral's requester) and,
  optionally, the pathway (for example `cardiology-outpatient`), used in the process metrics.
"""

import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import StringConstraints

from signpost_schemas import systems
from signpost_schemas.fhir.datatypes import Extension
from signpost_schemas.fhir.service_request import ODS_CODE_PATTERN, PatientReference
from signpost_schemas.questionnaire import QuestionnaireResponse

SCREENING_CONTEXT_EXTENSION = f"{systems.LOCAL_BASE}/StructureDefinition/screening-context"
SCREENING_RESPONSE_PROFILE = f"{systems.LOCAL_BASE}/StructureDefinition/ScreeningResponse"
PATHWAY_PATTERN = r"^[a-z0-9][a-z0-9\-]{0,63}$"

Pathway = Annotated[str, StringConstraints(pattern=PATHWAY_PATTERN)]


class ScreeningResponse(QuestionnaireResponse):
    """A screening response: a QuestionnaireResponse about a person identified by NHS number."""

    subject: PatientReference  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class ScreeningContext:
    clinic_ods: str
    pathway: str | None


@dataclass(frozen=True, slots=True)
class ContextProblem:
    expression: str
    diagnostics: str


def screening_context(response: QuestionnaireResponse) -> ScreeningContext | ContextProblem:
    """The clinic and pathway the response carries, or what is wrong with them."""
    where = f"QuestionnaireResponse.extension('{SCREENING_CONTEXT_EXTENSION}')"
    found = [
        (index, e)
        for index, e in enumerate(response.extension or [])
        if e.url == SCREENING_CONTEXT_EXTENSION
    ]
    if len(found) != 1:
        return ContextProblem(
            where,
            "exactly one screening-context extension is required, naming the clinic's ODS code "
            f"(found {len(found)})",
        )
    index, extension = found[0]
    base = f"QuestionnaireResponse.extension[{index}]"
    parts: dict[str, Extension] = {part.url: part for part in extension.extension or []}
    urls = [part.url for part in extension.extension or []]
    if repeated := sorted({url for url in urls if urls.count(url) > 1}):
        return ContextProblem(
            f"{base}.extension", f"each part is given once: {repeated} appear more than once"
        )
    unknown = set(parts) - {"clinic", "pathway"}
    if unknown:
        return ContextProblem(
            f"{base}.extension", f"unknown parts {sorted(unknown)}: use clinic, pathway"
        )
    clinic = parts.get("clinic")
    identifier = clinic.valueIdentifier if clinic else None
    if (
        identifier is None
        or systems.normalise_system(identifier.system or "") != systems.ODS_ORGANIZATION
        or not identifier.value
        or not re.match(ODS_CODE_PATTERN, identifier.value.strip().upper())
    ):
        return ContextProblem(
            f"{base}.extension('clinic').valueIdentifier",
            f"the clinic is a valueIdentifier with system {systems.ODS_ORGANIZATION} and an "
            "ODS code",
        )
    pathway = parts.get("pathway")
    if pathway is not None and (
        pathway.valueCode is None or not re.match(PATHWAY_PATTERN, pathway.valueCode)
    ):
        return ContextProblem(
            f"{base}.extension('pathway').valueCode",
            "the pathway is a valueCode of lower-case letters, digits and hyphens",
        )
    return ScreeningContext(
        identifier.value.strip().upper(), pathway.valueCode if pathway else None
    )
