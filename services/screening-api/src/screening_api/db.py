"""The ORM base of screening-api's own database (every table is registered in `models.py`)."""

from sqlalchemy.orm import DeclarativeBase

from signpost_platform.db import service_metadata


class Base(DeclarativeBase):
    metadata = service_metadata()
