"""Taxonomy tables."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from directory_api.db import Base
from signpost_platform.db import UtcDateTime


class Taxonomy(Base):
    """A vocabulary of terms (e.g. Signpost service types)."""

    __tablename__ = "taxonomy"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text)
    uri: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[str | None] = mapped_column(String(50))
    last_modified_at: Mapped[datetime] = mapped_column(UtcDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # SHA-256 of the input last accepted: a repeated create or import is recognised, not re-applied.
    input_digest: Mapped[str] = mapped_column(String(64))


class TaxonomyTerm(Base):
    """A term of a taxonomy; `code` is the scheme's own code (CURIE or code) for lookups."""

    __tablename__ = "taxonomy_term"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    taxonomy_id: Mapped[str | None] = mapped_column(ForeignKey("taxonomy.id"), index=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("taxonomy_term.id"), index=True)
    code: Mapped[str | None] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(255))
    # The term as published (ORUK shape), without the nested taxonomy.
    document: Mapped[str] = mapped_column(Text)
    last_modified_at: Mapped[datetime] = mapped_column(UtcDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # SHA-256 of the input last accepted: a repeated create or import is recognised, not re-applied.
    input_digest: Mapped[str] = mapped_column(String(64))


class NeedServiceType(Base):
    """A need term mapped to a service-type term that meets it (searching by need uses this)."""

    __tablename__ = "need_service_type"

    need_term_id: Mapped[str] = mapped_column(ForeignKey("taxonomy_term.id"), primary_key=True)
    service_type_term_id: Mapped[str] = mapped_column(
        ForeignKey("taxonomy_term.id"), primary_key=True
    )

    __table_args__ = (Index("ix_need_service_type_service_type_term_id", "service_type_term_id"),)
