"""Base classes for FHIR-shaped models."""

import inspect
import itertools
import re
from datetime import UTC, date, datetime
from typing import Any, ClassVar, cast, get_args

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    FutureDate,
    FutureDatetime,
    NaiveDatetime,
    PastDate,
    PastDatetime,
    PrivateAttr,
    model_validator,
)
from pydantic_core import PydanticCustomError

# Pydantic reads a number, or a string of digits, as a Unix time; FHIR dates are text.
_NUMBER_TEXT = re.compile(r"\s*[+-]?\d+(\.\d*)?\s*")
_TEMPORAL_FIELDS: dict[type, tuple[tuple[str, str], ...]] = {}


_TEMPORAL_TYPES = (
    datetime,
    date,
    AwareDatetime,
    NaiveDatetime,
    PastDatetime,
    FutureDatetime,
    PastDate,
    FutureDate,
)


def _is_temporal(annotation: Any) -> bool:
    if any(annotation is kind for kind in _TEMPORAL_TYPES):
        return True
    return any(_is_temporal(argument) for argument in get_args(annotation))


def _temporal_fields(model: type["FhirModel"]) -> tuple[tuple[str, str], ...]:
    """(field name, input key) of each field of `model` that holds a date or dateTime, kept
    once found (the checks read it on every instance)."""
    found = _TEMPORAL_FIELDS.get(model)
    if found is None:
        found = _TEMPORAL_FIELDS[model] = _dated_fields(model)
    return found


def _dated_fields(model: type[BaseModel]) -> tuple[tuple[str, str], ...]:
    return tuple(
        (name, field.alias or name)
        for name, field in model.model_fields.items()
        if _is_temporal(field.annotation)
    )


# Moments are stored in UTC: one that is not a moment of years 1 to 9999 there is refused.
OUTSIDE_UTC_RANGE = "this dateTime is outside the range that can be stored (year 1 to 9999 in UTC)"


def _checks_dates(model: type[BaseModel]) -> bool:
    """Whether `model` has the date checks (`FhirModel.__init_subclass__`), its own or a base's."""
    return any("_dates_are_text" in vars(base) for base in model.__mro__)


def _is_decorated(value: Any) -> bool:
    """Whether a class attribute is a Pydantic validator or serializer (its decorator's proxy)."""
    return hasattr(value, "decorator_info")


def _dates_are_text(cls: type["FhirModel"], data: Any) -> Any:
    """Refuse a date or dateTime given as a number, or as a string of digits (a Unix time)."""
    if not isinstance(data, dict):
        return data
    for _, key in _temporal_fields(cls):
        value = data.get(key)
        values = value if isinstance(value, list) else [value]
        for item in values:
            if (isinstance(item, int | float) and not isinstance(item, bool)) or (
                isinstance(item, str) and _NUMBER_TEXT.fullmatch(item)
            ):
                raise PydanticCustomError(
                    "datetime_type",
                    "a date or dateTime must be written as text (YYYY-MM-DD, or an ISO 8601 "
                    "dateTime with a time zone), not as a number",
                    {"element": key},
                )
    return data


def _dates_fit_in_utc(model: "FhirModel") -> "FhirModel":
    """Refuse a dateTime that cannot be expressed in UTC (`0001-01-01T00:00:00+01:00`)."""
    for name, key in _temporal_fields(type(model)):
        value = getattr(model, name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, datetime) and item.tzinfo is not None:
                try:
                    item.astimezone(UTC)
                except OverflowError:
                    raise PydanticCustomError(
                        "value_error", OUTSIDE_UTC_RANGE, {"element": key}
                    ) from None
    return model


class FhirModel(BaseModel):
    """A FHIR element: unknown elements are refused, empty values are left out on output.

    `signpost_schemas.fhir.lenient` reads senders' resources: there, elements outside the model
    are split off before validation instead of being refused.

    Dates and dateTimes are strict: a number (or a string of digits), which Pydantic would read
    as a Unix time, is refused, and so is a dateTime that cannot be expressed in UTC
    (`0001-01-01T00:00:00+01:00`). Errors name the element (`element` in the error context).
    """

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        str_strip_whitespace=True,
        json_schema_extra=lambda schema, _model: no_nulls(schema),
    )

    # The extensions (by url) this element reads. Any other extension in its `extension` list
    # is kept as sent, not read (see `lenient`).
    read_extensions: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Give the date checks to a subclass declaring a date or dateTime field, unless a base
        has them: a validator costs each instance a call into Python, and most elements (a
        Coding, a Reference) hold no date. Run as the class is made, before Pydantic collects
        its validators; they go ahead of the class's own, as a base's would."""
        super().__init_subclass__(**kwargs)
        declared = inspect.get_annotations(cls).values()
        if any(_is_temporal(annotation) for annotation in declared) and not _checks_dates(cls):
            before: Any = classmethod(_dates_are_text)
            checks = {
                "_dates_are_text": model_validator(mode="before")(before),
                "_dates_fit_in_utc": model_validator(mode="after")(_dates_fit_in_utc),
            }
            # Pydantic orders a class's own validators as its namespace holds them.
            own = {name: value for name, value in vars(cls).items() if _is_decorated(value)}
            for name in own:
                delattr(cls, name)
            for name, value in {**checks, **own}.items():
                setattr(cls, name, value)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """Refuse to make a model holding a date without the date checks (one declared in a way
        `__init_subclass__` cannot see: a string annotation, a mixin's field)."""
        super().__pydantic_init_subclass__(**kwargs)
        # Not kept: a model whose annotations are not all resolved yet may gain dated fields.
        if _dated_fields(cls) and not _checks_dates(cls):
            raise TypeError(f"{cls.__qualname__} holds a date but has no date checks")

    def to_fhir(self) -> dict[str, Any]:
        """The JSON-ready dict of this element, without empty values."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def no_nulls(schema: dict[str, Any]) -> None:
    """Take `null` out of the JSON schema of each optional element of a model, in place.

    FHIR JSON never carries null (an absent element is left out), and `to_fhir` leaves empty
    values out, so an optional element's schema is its type alone, with no `default: null`.
    """
    for name, element in schema.get("properties", {}).items():
        variants = element.get("anyOf")
        if not isinstance(variants, list) or {"type": "null"} not in variants:
            continue
        kept = [variant for variant in variants if variant != {"type": "null"}]
        rest = {k: v for k, v in element.items() if k != "anyOf" and not _null_default(k, v)}
        single = len(kept) == 1
        schema["properties"][name] = {**kept[0], **rest} if single else {**rest, "anyOf": kept}


def _null_default(key: str, value: Any) -> bool:
    return key == "default" and value is None


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
            node = node[cast(int, step)]
        else:
            node = node.setdefault(step, [] if isinstance(following, int) else {})
    last = path[-1]
    if isinstance(node, list):
        assert isinstance(last, int)
        node.insert(last, value)
    else:
        node[last] = value
