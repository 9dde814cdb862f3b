"""Reading a resource as senders send it: keep what can be stored safely, say what was not read.

`read(document, model)` walks the sender's JSON beside the profile (the Pydantic model's
fields, recursively) and splits it:

- elements of the profile are validated strictly, as before: a malformed or missing essential
  element is still refused;
- elements outside the profile, at any depth (`ServiceRequest.supportingInfo`,
  `ServiceRequest.reasonCode[0].foo`), and extensions the element does not read (its
  `read_extensions`; the parts of a complex extension are read with it) are kept as sent, put
  back where they were by `to_fhir()`, and named by a NOT_INTERPRETED gap each;
- personal data outside the dataset (the resource's `personal_elements`, and for a resource
  that `keeps_unknown_elements` is False every element outside the profile) is removed, never
  stored, and named by a REMOVED_PERSONAL_DATA gap;
- a `modifierExtension` anywhere is refused: FHIR forbids processing a resource whose meaning
  is changed by something the reader does not understand.

The gaps the profile's own validators note (a dataset item not recorded) come back with these.
"""

import functools
import types
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from signpost_schemas.fhir.base import FhirModel, FhirResource
from signpost_schemas.fhir.gaps import Gap, GapKind

Resource = TypeVar("Resource", bound=FhirResource)
JsonPath = tuple[str | int, ...]

NOT_INTERPRETED_MESSAGE = "kept and served back as sent, but Signpost does not read it"
REMOVED_MESSAGE = "personal data outside the referral dataset: removed, not kept"


@dataclass(frozen=True, slots=True)
class Reading(Generic[Resource]):
    """A resource read leniently, and the gaps found in it (FHIRPaths from the resource)."""

    resource: Resource
    gaps: list[Gap]


def read(document: dict[str, Any], model: type[Resource]) -> Reading[Resource]:
    """Validate `document` against `model`, keeping or removing what the model does not read.

    Raises ValidationError, as `model.model_validate` does, for what cannot be stored safely.
    """
    resource_type = str(document.get("resourceType") or model.__name__)
    _refuse_modifier_extensions(document, resource_type, ())
    walk = _Walk(model)
    known = walk.split(document, model, (), resource_type, "", read_all_extensions=False)
    noted: list[Gap] = []
    resource = model.model_validate(known, context={"gaps": noted})
    resource._kept = walk.kept
    return Reading(resource, noted + walk.gaps)


def known_part(document: dict[str, Any], model: type[Resource]) -> tuple[dict[str, Any], list[Gap]]:
    """The part of `document` that `model` reads, not yet validated, and the gaps of what was
    left out: for a resource validated inside another (a contained Patient)."""
    walk = _Walk(model)
    resource_type = str(document.get("resourceType") or model.__name__)
    known = walk.split(document, model, (), resource_type, "", read_all_extensions=False)
    return known, walk.gaps


def relocated(text: str, resource_type: str, where: str) -> str:
    """An element path (or a message that starts with one) named from `where`, the resource's
    place inside a Bundle: `Task.note` → `Bundle.entry[2].resource.note`."""
    return where + text[len(resource_type) :] if text.startswith(resource_type) else text


def relocate(gap: Gap, resource_type: str, where: str) -> Gap:
    """A gap named from inside a Bundle: `Task.note` → `Bundle.entry[2].resource.note`."""
    if not gap.element.startswith(resource_type):
        return gap
    return Gap(
        gap.kind,
        relocated(gap.element, resource_type, where),
        relocated(gap.message, resource_type, where),
        gap.code,
    )


class _Walk:
    def __init__(self, model: type[FhirResource]) -> None:
        self.personal = model.personal_elements
        self.keep_unknown = model.keeps_unknown_elements
        self.kept: list[tuple[JsonPath, Any]] = []
        self.gaps: list[Gap] = []

    def split(
        self,
        value: dict[str, Any],
        model: type[BaseModel],
        path: JsonPath,
        fhirpath: str,
        relative: str,
        *,
        read_all_extensions: bool,
    ) -> dict[str, Any]:
        """The part of `value` that `model` reads; the rest is kept or removed."""
        fields = _fields(model)
        known: dict[str, Any] = {}
        for key, item in value.items():
            where, below = f"{fhirpath}.{key}", f"{relative}.{key}".lstrip(".")
            if below in self.personal:
                self._remove(where)
                continue
            field = fields.get(key)
            if field is None:
                self._keep((*path, key), item, where)
                continue
            target, is_list = field
            if target is None:
                known[key] = item
            elif isinstance(item, dict):
                known[key] = self.split(
                    item, target, (*path, key), where, below, read_all_extensions=False
                )
            elif isinstance(item, list) and is_list:
                known[key] = self._split_list(
                    item,
                    target,
                    (*path, key),
                    where,
                    below,
                    extensions=_read_extensions(key, model, read_all_extensions),
                )
            else:
                known[key] = item  # the wrong shape: validation names it
        return known

    def _split_list(
        self,
        items: list[Any],
        target: type[BaseModel],
        path: JsonPath,
        fhirpath: str,
        relative: str,
        *,
        extensions: frozenset[str] | None,
    ) -> list[Any]:
        known: list[Any] = []
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                known.append(item)
                continue
            url = item.get("url")
            is_extension = extensions is not None and isinstance(url, str)
            if is_extension and extensions is not None and url not in extensions:
                self._keep((*path, index), item, f"{fhirpath}('{url}')")
                continue
            known.append(
                self.split(
                    item,
                    target,
                    (*path, index),
                    f"{fhirpath}[{index}]",
                    relative,
                    read_all_extensions=is_extension,
                )
            )
        return known

    def _keep(self, path: JsonPath, value: Any, where: str) -> None:
        if not self.keep_unknown:
            self._remove(where)
            return
        self.kept.append((path, value))
        self.gaps.append(Gap(GapKind.NOT_INTERPRETED, where, f"{where}: {NOT_INTERPRETED_MESSAGE}"))

    def _remove(self, where: str) -> None:
        self.gaps.append(Gap(GapKind.REMOVED_PERSONAL_DATA, where, f"{where}: {REMOVED_MESSAGE}"))


def _read_extensions(key: str, model: type[BaseModel], read_all: bool) -> frozenset[str] | None:
    """The urls read in `model.<key>`, when it is an extension list (None: not one)."""
    if key != "extension" or not issubclass(model, FhirModel):
        return None
    if read_all:  # the parts of a complex extension are read with it
        return None
    return model.read_extensions


@functools.cache
def _fields(model: type[BaseModel]) -> dict[str, tuple[type[BaseModel] | None, bool]]:
    """The JSON keys `model` reads (aliases and names), each with the model its value is read
    with (None: a value of a primitive type) and whether it is a list. Worked out once per
    model: every message walks the same few models."""
    found: dict[str, tuple[type[BaseModel] | None, bool]] = {}
    for name, info in model.model_fields.items():
        shape = (_model_in(info.annotation), _is_list(info.annotation))
        found[name] = shape
        if info.alias:
            found[info.alias] = shape
    return found


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The one model class an annotation holds (through Optional, list and Annotated)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _model_in(get_args(annotation)[0])
    if origin in (Union, types.UnionType, list):
        models = {m for m in map(_model_in, get_args(annotation)) if m is not None}
        return models.pop() if len(models) == 1 else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _is_list(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _is_list(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return any(_is_list(a) for a in get_args(annotation))
    return origin is list


def _refuse_modifier_extensions(value: Any, fhirpath: str, path: JsonPath) -> None:
    if isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_modifier_extensions(item, f"{fhirpath}[{index}]", (*path, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{fhirpath}.{key}"
            if key == "modifierExtension":
                error = PydanticCustomError(
                    "not_supported",
                    "a modifierExtension changes the meaning of the element it is in, and "
                    "Signpost does not understand it: the resource cannot be stored safely",
                    {"expression": where},
                )
                detail: InitErrorDetails = {"type": error, "loc": (*path, key), "input": item}
                raise ValidationError.from_exception_data(fhirpath.split(".")[0], [detail])
            _refuse_modifier_extensions(item, where, (*path, key))


__all__ = ["Reading", "read", "relocate"]
