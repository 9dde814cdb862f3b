"""Service tables: searchable columns, one row per filterable fact, and the rendered documents.

A service's own ORUK content is kept as JSON (`content`); the documents served (`document`, fully
nested; `summary`, the list item; `fhir_resource`, the HealthcareService) are rendered when the
service or anything nested in it changes, so reads never rebuild object graphs. The JSON lives in
`service_document`, beside a narrow `service` table that searches scan.
"""

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from directory_api.db import Base
from signpost_platform.db import UtcDateTime


class Service(Base):
    """One service (the six personalised-care roles among them)."""

    __tablename__ = "service"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id"), index=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(20))
    # Lower-cased name, alternate name, description and organisation name, for text search.
    search_text: Mapped[str] = mapped_column(Text)
    minimum_age: Mapped[float | None] = mapped_column(Float)
    maximum_age: Mapped[float | None] = mapped_column(Float)
    assured_on: Mapped[date | None] = mapped_column(Date)
    accepts_self_referral: Mapped[bool | None] = mapped_column(Boolean)
    free_of_charge: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_modified_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # SHA-256 of the input last accepted: a repeated create or import is recognised, not re-applied.
    input_digest: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        # Text search is LIKE '%word%' on both backends; on PostgreSQL a trigram index serves it
        # (on SQLite this is a plain index, unused by such searches).
        Index(
            "ix_service_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )


class OfService:
    """A table of what one service has (its documents, languages, openings...): keyed first by
    the service, and deleted with it."""

    service_id: Mapped[str] = mapped_column(
        ForeignKey("service.id", ondelete="CASCADE"), primary_key=True, sort_order=-1
    )


class ServiceDocument(OfService, Base):
    """A service's own content and the documents rendered from it (one row per service)."""

    __tablename__ = "service_document"

    content: Mapped[str] = mapped_column(Text)
    document: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    fhir_resource: Mapped[str] = mapped_column(Text)


class LinkOfService:
    """A table of a service's links (to locations, to terms): each link has its own id and is
    deleted with the service."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, sort_order=-1)
    service_id: Mapped[str] = mapped_column(
        ForeignKey("service.id", ondelete="CASCADE"), index=True, sort_order=-1
    )


class ServiceAtLocation(LinkOfService, Base):
    """A service delivered at a location; `content` keeps its own schedules and description."""

    __tablename__ = "service_at_location"

    location_id: Mapped[str] = mapped_column(ForeignKey("location.id"), index=True)
    content: Mapped[str] = mapped_column(Text)


class ServiceAttribute(LinkOfService, Base):
    """A taxonomy term attached to a service (an ORUK attribute)."""

    __tablename__ = "service_attribute"

    taxonomy_term_id: Mapped[str] = mapped_column(ForeignKey("taxonomy_term.id"))
    link_type: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (Index("ix_service_attribute_term_service", "taxonomy_term_id", "service_id"),)


class ServiceLanguage(OfService, Base):
    """A language a service is delivered in (ISO 639 code, lower case)."""

    __tablename__ = "service_language"

    language_code: Mapped[str] = mapped_column(String(3), primary_key=True)

    __table_args__ = (Index("ix_service_language_code_service", "language_code", "service_id"),)


class ServiceDeliveryMode(OfService, Base):
    """How a service is delivered: in-person, phone or online (derived from its content)."""

    __tablename__ = "service_delivery_mode"

    delivery_mode: Mapped[str] = mapped_column(String(10), primary_key=True)

    __table_args__ = (
        Index("ix_service_delivery_mode_mode_service", "delivery_mode", "service_id"),
    )


class ServiceOpening(OfService, Base):
    """One weekly opening slot of a service (from its schedules), in minutes from midnight."""

    __tablename__ = "service_opening"

    weekday: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0 = Monday
    opens_minute: Mapped[int] = mapped_column(Integer, primary_key=True)
    closes_minute: Mapped[int] = mapped_column(Integer, primary_key=True)

    __table_args__ = (Index("ix_service_opening_weekday_service", "weekday", "service_id"),)


class ServiceAreaCode(OfService, Base):
    """A GSS area code (local authority, LSOA, ...) a service covers, from its service areas."""

    __tablename__ = "service_area_code"

    area_code: Mapped[str] = mapped_column(String(9), primary_key=True)

    __table_args__ = (Index("ix_service_area_code_code_service", "area_code", "service_id"),)


class ServicePlace(Base):
    """Where a service can be found: each of its links to a located place, with coordinates,
    copied here so proximity searches read one narrow table (index-only) instead of locations."""

    __tablename__ = "service_place"

    service_at_location_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    service_id: Mapped[str] = mapped_column(
        ForeignKey("service.id", ondelete="CASCADE"), index=True
    )
    location_id: Mapped[str] = mapped_column(String(36))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)

    __table_args__ = (
        Index(
            "ix_service_place_latitude_longitude",
            "latitude",
            "longitude",
            "service_id",
            "service_at_location_id",
        ),
    )
