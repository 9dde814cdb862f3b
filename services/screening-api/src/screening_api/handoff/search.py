"""The query parameters of the hand-off list, declared once for the parser (FastAPI reads them)
and the OpenAPI document."""

from typing import Annotated

from fastapi import Query

States = Annotated[list[str] | None, Query(description="pending, sent or failing")]
