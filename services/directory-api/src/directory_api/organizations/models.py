"""The organisation table."""

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from directory_api.db import Base, NestedColumns


class Organization(NestedColumns, Base):
    """An organisation; `document` is its ORUK object (identifiers included)."""

    __tablename__ = "organization"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    search_text: Mapped[str] = mapped_column(Text)
