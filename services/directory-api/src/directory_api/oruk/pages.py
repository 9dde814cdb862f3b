"""The ORUK paginated envelope, spliced around stored JSON."""

import math
from collections.abc import Sequence

import orjson

from directory_api.oruk.params import QueryReader
from directory_api.services.search import Page


def read_page(query: QueryReader, default_size: int, max_size: int) -> Page:
    """`page` (1-based) and `per_page` (capped: over the cap is refused, not trimmed)."""
    return Page(
        number=query.integer("page", 1, 1_000_000, 1),
        size=query.integer("per_page", 1, max_size, default_size),
    )


def envelope(total: int, page: Page, contents: Sequence[bytes]) -> bytes:
    """`total_items`, `total_pages`, `page_number`, `size`, `first_page`, `last_page`, `empty`
    and `contents`, with each item already serialised."""
    size = page.size or max(total, 1)
    total_pages = math.ceil(total / size) if total else 0
    head = {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": page.number,
        "size": len(contents),
        "first_page": page.number == 1,
        "last_page": page.number >= total_pages,
        "empty": not contents,
    }
    return orjson.dumps(head)[:-1] + b',"contents":[' + b",".join(contents) + b"]}"
