"""Base classes for FHIR-shaped models."""

import itertools
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, PrivateAttr


class FhirModel(BaseModel):
    """A FHIR element: unknown elements are refused, empty values are left out on output.

    `signpost_schemas.fhir.lenient` reads senders' resources: there, elements outside the model
    are split off before validation instead of being refused.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)

    # The extensions (by url) this element reads. Any other extension in its `extension` list
    # is kept as sent, not read (see `lenient`).
    read_extensions: ClassVar[frozenset[str]] = frozenset()

    def to_fhir(self) -> dict[str, Any]:
        """The JSON-ready dict of this element, without empty values."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class FhirResource(FhirModel):
    """A FHIR resource; subclasses pin `resourceType` with a Literal."""

    # Elements (FHIRPath below the resource, without list indexes) holding personal data outside
    # the dataset: removed when read leniently, never stored. The narrative is free text that
    # may say anything about the person.
    personal_elements: ClassVar[frozenset[str]] = frozenset({"text"})
    # Whether elements outside the profile are kept and served back as sent. A resource that
    # is only about the person (the Patient) keeps nothing it does not read: the rest is
    # personal data outside the dataset, removed.
    keeps_unknown_elements: ClassVar[bool] = True

    # Elements kept as sent without being read, as (JSON path, value) in document order, put
    # back by `to_fhir` where they were (set by `lenient.read`).
    _kept: list[tuple[tuple[str | int, ...], Any]] = PrivateAttr(default_factory=list)

    def to_fhir(self) -> dict[str, Any]:
        """The JSON-ready dict of this resource, with the elements it keeps without reading."""
        document = super().to_fhir()
        for path, value in self._kept:
            _put(document, path, value)
        return document


def _put(document: dict[str, Any], path: tuple[str | int, ...], value: Any) -> None:
    """Put `value` back at `path`: a list item is inserted at its index, a key is set.

    Paths are replayed in document order, so the items removed before a list index are back in
    place by the time a path through that index is followed.
    """
    node: Any = document
    for step, following in itertools.pairwise(path):
        if isinstance(node, list):
            node = node[step]
        else:
            node = node.setdefault(step, [] if isinstance(following, int) else {})
    last = path[-1]
    if isinstance(node, list):
        assert isinstance(last, int)
        node.insert(last, value)
    else:
        node[last] = value
