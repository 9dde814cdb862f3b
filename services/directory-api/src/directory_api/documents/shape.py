"""What every served document shares: no empties, leading keys, timestamps, ids of children.

Empty values are left out everywhere (ORUK feeds must omit empty fields, never send null).
"""

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeVar, cast

from pydantic import BaseModel

from signpost_platform.fhir.responses import instant

Document = dict[str, Any]
T = TypeVar("T")


def without_empties(value: T) -> T:
    """`value` with None, "", [] and {} removed at every depth."""
    return cast(T, _cleaned(value))


def _cleaned(value: Any) -> Any:
    if isinstance(value, dict):
        cleaned = {k: _cleaned(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        cleaned_items = [_cleaned(item) for item in value]
        return [item for item in cleaned_items if item not in (None, "", [], {})]
    return value


def content_of(model: BaseModel, *, exclude: Iterable[str] = ()) -> Document:
    """The JSON-ready content of an input model, without empties and without `exclude`."""
    data = model.model_dump(mode="json", exclude_none=True, exclude=set(exclude))
    return without_empties(data)


def with_child_ids(items: list[Document] | None, **links: str) -> list[Document]:
    """Give each child object an id (kept if sent) and its link fields (`service_id`, ...)."""
    result = []
    for item in items or []:
        child = {"id": item.get("id") or str(uuid.uuid4()), **item}
        child.update(links)
        result.append(child)
    return result


def timestamp(moment: datetime) -> str:
    """RFC 3339 with milliseconds, as ORUK asks for `last_modified`."""
    return instant(moment)


def ordered(document: Document, first: Iterable[str]) -> Document:
    """`document` with the `first` keys leading, for readable output."""
    keys = [k for k in first if k in document]
    return {
        **{k: document[k] for k in keys},
        **{k: v for k, v in document.items() if k not in keys},
    }


def one_to_one(document: Document) -> Document:
    """Only the scalar fields of a document (ORUK list items carry no child arrays)."""
    return {k: v for k, v in document.items() if not isinstance(v, list | dict)}
