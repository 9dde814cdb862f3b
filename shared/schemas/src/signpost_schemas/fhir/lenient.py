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
  is changed by something the reader does not understand;
- free text a person typed (`FREE_TEXT`: a reason's `text`, a `display`, a `note`'s text, a
  `description`, ...) holding a character a FHIR string cannot hold (below U+0020 but tab,
  carriage return and line feed: what EMIS and Rio exports carry from pasted documents) is kept
  with each such character replaced (a vertical tab or form feed by a line feed, any other by
  U+FFFD), and named by a
  REPLACED_CHARACTERS gap. Identifiers, codes and other structured strings are not free text:
  a control character there still refuses the request (`signpost_platform.bodies`).

The gaps the profile's own validators note (a dataset item not recorded) come back with these.
"""

import functools
import re
import types
from collections import Counter
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from signpost_schemas.fhir.base import FhirModel, FhirResource
from signpost_schemas.fhir.gaps import Gap, GapKind

Resource = TypeVar("Resource", bound=FhirResource)
JsonPath = tuple[str | int, ...]

# How many gaps of one kind are named for one resource; the rest are counted in one more.
MOST_GAPS_OF_A_KIND = 20
NOT_INTERPRETED_MESSAGE = "kept and served back as sent, but Signpost does not read it"
REMOVED_MESSAGE = "personal data outside the referral dataset: removed, not kept"
# The elements that hold text a person typed, by JSON key: control characters in them are
# replaced rather than refused. Identifiers, codes, systems, references and dates are not here.
FREE_TEXT = frozenset(
    {"text", "display", "description", "comment", "patientInstruction", "valueString"}
)
# What a FHIR string may not hold (FHIR R4 datatypes, string): the characters below U+0020 but
# tab, carriage return and line feed. A vertical tab and a form feed are line breaks.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_LINE_BREAKS = frozenset("\x0b\x0c")
_REPLACEMENT = "\ufffd"


def _replace_control_characters(text: str) -> str:
    """`text` with each character a FHIR string cannot hold replaced: a vertical tab or form
    feed by a line feed, any other by U+FFFD (the Unicode replacement character)."""
    return CONTROL_CHARACTERS.sub(
        lambda found: "\n" if found.group() in _LINE_BREAKS else _REPLACEMENT, text
    )


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
    walk = _Walk(model)
    known = walk.split(document, model, (), resource_type, "", read_all_extensions=False)
    if walk.modifier is not None:
        _refuse_modifier_extension(document, resource_type, walk.modifier)
    noted: list[Gap] = []
    resource = model.model_validate(known, context={"gaps": noted})
    resource._kept = walk.kept
    return Reading(resource, _capped(noted + walk.gaps, resource_type))


def _capped(gaps: list[Gap], where: str) -> list[Gap]:
    """`gaps` with at most `MOST_GAPS_OF_A_KIND` of each kind named, the rest counted in one
    more gap of that kind on `where` (the resource): a body of 400 kB could otherwise be
    answered with 20,000 warnings, and as many rows stored."""
    counts = Counter(gap.kind for gap in gaps)
    if all(count <= MOST_GAPS_OF_A_KIND for count in counts.values()):
        return gaps
    kept: list[Gap] = []
    seen: Counter[GapKind] = Counter()
    for gap in gaps:
        seen[gap.kind] += 1
        if seen[gap.kind] <= MOST_GAPS_OF_A_KIND:
            kept.append(gap)
        elif seen[gap.kind] == counts[gap.kind]:
            more = counts[gap.kind] - MOST_GAPS_OF_A_KIND
            kept.append(
                Gap(
                    gap.kind,
                    where,
                    f"{where}: {more} more {gap.kind.value} gaps, not listed (at most "
                    f"{MOST_GAPS_OF_A_KIND} of a kind are named for one resource)",
                )
            )
    return kept


def known_part(document: dict[str, Any], model: type[Resource]) -> tuple[dict[str, Any], list[Gap]]:
    """The part of `document` that `model` reads, not yet validated, and the gaps of what was
    left out: for a resource validated inside another (a contained Patient)."""
    walk = _Walk(model)
    resource_type = str(document.get("resourceType") or model.__name__)
    known = walk.split(document, model, (), resource_type, "", read_all_extensions=False)
    return known, _capped(walk.gaps, resource_type)


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
    """One walk of a sender's JSON beside the model: the part the model reads (`split`), what is
    kept or removed beside it, and the first `modifierExtension` met, at any depth (`modifier`:
    its JSON path; None if there is none). The parts the model reads are walked by `split`
    itself, the rest (kept, removed, or of the wrong shape) by `_modifier_extension_in`, so the
    whole body is walked once, in order."""

    def __init__(self, model: type[FhirResource]) -> None:
        self.personal = model.personal_elements
        self.keep_unknown = model.keeps_unknown_elements
        self.kept: list[tuple[JsonPath, Any]] = []
        self.gaps: list[Gap] = []
        self.modifier: JsonPath | None = None

    def _look_within(self, path: JsonPath, value: Any) -> None:
        """Note the first `modifierExtension` inside `value` (at `path`), which `split` does not
        walk."""
        if self.modifier is None and isinstance(value, dict | list):
            found = _modifier_extension_in(value)
            if found is not None:
                self.modifier = (*path, *found)

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
            if key == "modifierExtension" and self.modifier is None:
                self.modifier = (*path, key)
            where = f"{fhirpath}.{key}"
            below = f"{relative}.{key}" if relative else key.lstrip(".")
            if below in self.personal:
                self._look_within((*path, key), item)
                self._remove(where)
                continue
            field = fields.get(key)
            if field is None:
                self._look_within((*path, key), item)
                self._keep((*path, key), item, where)
                continue
            target, is_list = field
            if target is None:
                self._look_within((*path, key), item)
                known[key] = _replaced(item, where, self.gaps) if key in FREE_TEXT else item
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
                self._look_within((*path, key), item)
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
                self._look_within((*path, index), item)
                known.append(item)
                continue
            url = item.get("url")
            is_extension = extensions is not None and isinstance(url, str)
            if is_extension and extensions is not None and url not in extensions:
                self._look_within((*path, index), item)
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
        free_text = path[-1] in FREE_TEXT  # a bare string under a free-text key
        kept = _replaced(value, where, self.gaps) if free_text else value
        self.kept.append((path, _replaced_within(kept, where, self.gaps)))
        self.gaps.append(Gap(GapKind.NOT_INTERPRETED, where, f"{where}: {NOT_INTERPRETED_MESSAGE}"))

    def _remove(self, where: str) -> None:
        self.gaps.append(Gap(GapKind.REMOVED_PERSONAL_DATA, where, f"{where}: {REMOVED_MESSAGE}"))


def free_text_replaced(value: Any, where: str) -> tuple[Any, list[Gap]]:
    """`value` (JSON, at FHIRPath `where`) with its free text's control characters replaced, and
    a REPLACED_CHARACTERS gap for each string changed: for what is not read with `read` (a
    message's MessageHeader)."""
    gaps: list[Gap] = []
    return _replaced_within(value, where, gaps), _capped(gaps, where)


def _replaced_within(value: Any, where: str, gaps: list[Gap]) -> Any:
    """`value` with the free text in it, at any depth, as `_replaced` leaves it."""
    if isinstance(value, dict):
        return {
            key: _replaced(item, f"{where}.{key}", gaps)
            if key in FREE_TEXT
            else _replaced_within(item, f"{where}.{key}", gaps)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [
            _replaced_within(item, f"{where}[{index}]", gaps) for index, item in enumerate(value)
        ]
    return value


def _replaced(value: Any, where: str, gaps: list[Gap]) -> Any:
    """A free-text value with the characters a FHIR string cannot hold replaced, noted in `gaps`."""
    if not isinstance(value, str) or CONTROL_CHARACTERS.search(value) is None:
        return value
    count = len(CONTROL_CHARACTERS.findall(value))
    gaps.append(
        Gap(
            GapKind.REPLACED_CHARACTERS,
            where,
            f"{where}: {count} control character{'s' if count > 1 else ''} replaced (a vertical "
            "tab or form feed by a line feed, any other by U+FFFD); a FHIR string cannot hold them",
        )
    )
    return _replace_control_characters(value)


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


def _refuse_modifier_extension(
    document: dict[str, Any], resource_type: str, path: JsonPath
) -> None:
    """Refuse `document` for the `modifierExtension` at `path` (the first in it)."""
    where = resource_type + "".join(
        f"[{step}]" if isinstance(step, int) else f".{step}" for step in path
    )
    error = PydanticCustomError(
        "not_supported",
        "a modifierExtension changes the meaning of the element it is in, and Signpost does "
        "not understand it: the resource cannot be stored safely",
        {"expression": where},
    )
    detail: InitErrorDetails = {"type": error, "loc": path, "input": _at(document, path)}
    raise ValidationError.from_exception_data(resource_type, [detail])


def _modifier_extension_in(value: Any) -> JsonPath | None:
    """The JSON path of the first `modifierExtension` in `value`, None if there is none: a
    walk that builds nothing until it finds one."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "modifierExtension":
                return (key,)
            if isinstance(item, dict | list):
                found = _modifier_extension_in(item)
                if found is not None:
                    return (key, *found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict | list):
                found = _modifier_extension_in(item)
                if found is not None:
                    return (index, *found)
    return None


def _at(value: Any, path: JsonPath) -> Any:
    for step in path:
        value = value[step]
    return value


__all__ = [
    "FREE_TEXT",
    "MOST_GAPS_OF_A_KIND",
    "Reading",
    "free_text_replaced",
    "read",
    "relocate",
]
