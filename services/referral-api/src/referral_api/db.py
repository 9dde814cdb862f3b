"""The ORM base of referral-api's own database (every table is registered in `models.py`)."""

from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, MappedColumn, mapped_column

from signpost_platform.db import service_metadata


class Base(DeclarativeBase):
    metadata = service_metadata()


def owner_key(target: str) -> MappedColumn[Any]:
    """A key column naming the row (`table.column`) that a row belongs to: the row is deleted
    with it."""
    return mapped_column(ForeignKey(target, ondelete="CASCADE"), primary_key=True)
