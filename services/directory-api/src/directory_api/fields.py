"""Validated field types shared by the ORUK-shaped input models (ids, emails, URLs, postcodes)."""

import re
import uuid
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from signpost_schemas.geography import InvalidPostcode, normalise_postcode

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_PHONE = re.compile(r"^\+?[0-9 ()-]{7,20}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


class OrukInput(BaseModel):
    """An ORUK object sent to the curation API: unknown fields are refused, not dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise ValueError("must be a UUID") from None


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("must be an email address")
    return value


def _url(value: str) -> str:
    if not _URL.match(value):
        raise ValueError("must be an absolute http(s) URL")
    return value


def _phone(value: str) -> str:
    if not _PHONE.match(value):
        raise ValueError("must be a telephone number (digits, spaces, +, brackets, hyphens)")
    return value


def _postcode(value: str) -> str:
    try:
        return normalise_postcode(value)
    except InvalidPostcode as error:
        raise ValueError(str(error)) from None


def _language(value: str) -> str:
    lowered = value.lower()
    if not _LANGUAGE.match(lowered):
        raise ValueError("must be an ISO 639-1 or 639-3 language code (en, ur, bn, yue)")
    return lowered


def _iso_date(value: object) -> object:
    if isinstance(value, str):
        try:
            date.fromisoformat(value)
        except ValueError:
            raise ValueError("must be a date YYYY-MM-DD") from None
    return value


Uuid = Annotated[str, AfterValidator(_uuid)]
Email = Annotated[str, Field(max_length=254), AfterValidator(_email)]
Url = Annotated[str, Field(max_length=2000), AfterValidator(_url)]
Phone = Annotated[str, AfterValidator(_phone)]
UkPostcode = Annotated[str, AfterValidator(_postcode)]
LanguageCode = Annotated[str, AfterValidator(_language)]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
Text = Annotated[str, Field(min_length=1, max_length=10_000)]
Name = Annotated[str, Field(min_length=1, max_length=255)]


# An ORUK record sent to the curation API, with the id it is saved under (none: a new one).
class RecordInput(OrukInput):
    id: Uuid | None = None
