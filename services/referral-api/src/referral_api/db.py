"""The ORM base of referral-api's own database (every table is registered in `models.py`)."""

from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy.dialects.postgresql import Insert as PostgresqlInsert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import DeclarativeBase, MappedColumn, mapped_column

from signpost_platform.db import service_metadata


class Base(DeclarativeBase):
    metadata = service_metadata()


def owner_key(target: str) -> MappedColumn[Any]:
    """A key column naming the row (`table.column`) that a row belongs to: the row is deleted
    with it."""
    return mapped_column(ForeignKey(target, ondelete="CASCADE"), primary_key=True)


def conflict_insert(dialect: str, model: Any) -> PostgresqlInsert | SqliteInsert:
    """An INSERT into `model` that can say what to do ON CONFLICT, in the database's dialect
    (`signpost_platform.db.dialect_of`)."""
    if dialect == "postgresql":
        return postgresql_insert(model)
    return sqlite_insert(model)
