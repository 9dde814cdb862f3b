"""The ORUK paginated envelope, spliced around stored JSON, and the page a list asks for."""

import math
from collections.abc import Sequence

import orjson
from fastapi import Request

from directory_api.oruk.params import FORMAT_JSON, PAGE, PER_PAGE, QueryReader
from directory_api.services.search import Page, SearchNote
from signpost_platform.parameters import QueryParameter


def read_page(query: QueryReader, default_size: int, max_size: int) -> Page:
    """`page` (1-based) and `per_page` (capped: over the cap is refused, not trimmed)."""
    return Page(
        number=query.integer(PAGE.name),
        size=query.integer(PER_PAGE.name, default_size, maximum=max_size),
    )


def read_list(request: Request, parameters: Sequence[QueryParameter]) -> tuple[QueryReader, Page]:
    """The query of a list that answers JSON only (`LIST_PARAMETERS` and its own), and the
    page it asks for within the service's page sizes."""
    settings = request.app.state.settings
    query = QueryReader(list(request.query_params.multi_items()), parameters)
    query.choice(FORMAT_JSON.name)
    return query, read_page(query, settings.oruk_default_per_page, settings.oruk_max_per_page)


def envelope(
    total: int, page: Page, contents: Sequence[bytes], notes: Sequence[SearchNote] = ()
) -> bytes:
    """`total_items`, `total_pages`, `page_number`, `size`, `first_page`, `last_page`, `empty`
    and `contents`, with each item already serialised; `notes` (a Signpost extension, only
    when there are some) says how the search was approximated."""
    size = page.size or max(total, 1)
    total_pages = math.ceil(total / size) if total else 0
    head: dict[str, object] = {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": page.number,
        "size": len(contents),
        "first_page": page.number == 1,
        "last_page": page.number >= total_pages,
        "empty": not contents,
    }
    if notes:
        head["notes"] = [note.as_json() for note in notes]
    return orjson.dumps(head)[:-1] + b',"contents":[' + b",".join(contents) + b"]}"
