"""The query parameters of the message list, declared once for the parser (FastAPI reads them)
and the OpenAPI document."""

from typing import Annotated

from fastapi import Query

States = Annotated[
    list[str] | None,
    Query(description="pending, sent, failing or undeliverable (default: all but sent)"),
]
Requesters = Annotated[list[str] | None, Query(description="the referring organisation's ODS code")]
