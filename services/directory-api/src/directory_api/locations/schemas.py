"""ORUK location objects (with addresses) as the curation API accepts them."""

from typing import Literal, Self

from pydantic import Field, model_validator

from directory_api.fields import Name, OrukInput, RecordInput, Text, UkPostcode, Url, Uuid
from directory_api.organizations.schemas import PhoneIn

# Great Britain and Northern Ireland with a margin: a point outside is a swapped or mistyped pair.
UK_LATITUDE = (49.0, 61.5)
UK_LONGITUDE = (-8.9, 2.1)


class AddressIn(OrukInput):
    id: Uuid | None = None
    attention: str | None = Field(default=None, max_length=255)
    address_1: Name
    address_2: str | None = Field(default=None, max_length=255)
    city: Name
    region: str | None = Field(default=None, max_length=255)
    state_province: Name
    postal_code: UkPostcode
    country: Literal["GB"] = "GB"
    address_type: Literal["physical", "postal", "virtual"] = "physical"
    location_id: Uuid | None = None


class AccessibilityIn(OrukInput):
    id: Uuid | None = None
    description: str | None = Field(default=None, max_length=2000)
    details: str | None = Field(default=None, max_length=2000)
    url: Url | None = None
    accessibility: str | None = Field(default=None, max_length=2000)
    location_id: Uuid | None = None


class LocationIn(RecordInput):
    location_type: Literal["physical", "postal", "virtual"]
    name: str | None = Field(default=None, max_length=255)
    alternate_name: str | None = Field(default=None, max_length=255)
    description: Text | None = None
    transportation: str | None = Field(default=None, max_length=2000)
    latitude: float | None = None
    longitude: float | None = None
    external_identifier: str | None = Field(default=None, max_length=100)
    external_identifier_type: str | None = Field(default=None, max_length=50)
    url: Url | None = None
    organization_id: Uuid | None = None
    addresses: list[AddressIn] | None = None
    accessibility: list[AccessibilityIn] | None = None
    phones: list[PhoneIn] | None = None

    @model_validator(mode="after")
    def _coordinates_are_a_uk_pair(self) -> Self:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude must be given together")
        if self.latitude is not None and self.longitude is not None:
            if not UK_LATITUDE[0] <= self.latitude <= UK_LATITUDE[1]:
                raise ValueError(f"latitude {self.latitude} is outside the UK (WGS84 degrees)")
            if not UK_LONGITUDE[0] <= self.longitude <= UK_LONGITUDE[1]:
                raise ValueError(f"longitude {self.longitude} is outside the UK (WGS84 degrees)")
        if self.location_type == "physical" and self.latitude is None and not self.addresses:
            raise ValueError("a physical location needs an address or coordinates")
        return self

    @property
    def postcode(self) -> str | None:
        """The postcode of the first physical (else any) address."""
        addresses = self.addresses or []
        physical = [a for a in addresses if a.address_type == "physical"]
        chosen = next(iter(physical or addresses), None)
        return chosen.postal_code if chosen else None
