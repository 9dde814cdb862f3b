"""Base classes for FHIR-shaped models."""

from typing import Any

from pydantic import BaseModel, ConfigDict


class FhirModel(BaseModel):
    """A FHIR element: unknown elements are refused, empty values are left out on output."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)

    def to_fhir(self) -> dict[str, Any]:
        """The JSON-ready dict of this element, without empty values."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class FhirResource(FhirModel):
    """A FHIR resource; subclasses pin `resourceType` with a Literal."""
