"""The ORUK paginated envelope, spliced around stored JSON."""

import math
from collections.abc import Sequence

import orjson

from directory_api.oruk.params import FORMAT_JSON, PAGE, PER_PAGE, QueryReader
from directory_api.services.search import Page, SearchNote


def read_page(query: QueryReader, default_size: int, max_size: int) -> Page:
    """`page` (1-based) and `per_page` (capped: over the cap is refused, not trimmed)."""
    return Page(
        number=query.integer(PAGE.name),
        size=query.integer(PER_PAGE.name, default_size, maximum=max_size),
    )


def read_list_page(query: QueryReader, default_size: int, max_size: int) -> Page:
    """The page of a list that `LIST_PARAMETERS` (JSON only) are read for."""
    query.choice(FORMAT_JSON.name)
    return read_page(query, default_size, max_size)


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
