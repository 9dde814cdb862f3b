"""ORUK organization objects as the curation API accepts them."""

from pydantic import Field

from directory_api.fields import Email, Name, OrukInput, Phone, RecordInput, Text, Url, Uuid


class PhoneIn(OrukInput):
    id: Uuid | None = None
    number: Phone
    extension: str | None = Field(default=None, max_length=20)
    type: str | None = Field(default=None, max_length=20)
    description: str | None = Field(default=None, max_length=1000)
    # Link fields, as exports (and this API) write them.
    service_id: Uuid | None = None
    organization_id: Uuid | None = None
    location_id: Uuid | None = None
    contact_id: Uuid | None = None
    service_at_location_id: Uuid | None = None


class OrganizationIdentifierIn(OrukInput):
    id: Uuid | None = None
    identifier_scheme: str | None = Field(default=None, max_length=50)
    identifier_type: Name
    identifier: Name
    organization_id: Uuid | None = None


class OrganizationIn(RecordInput):
    name: Name
    alternate_name: str | None = Field(default=None, max_length=255)
    description: Text
    email: Email | None = None
    website: Url | None = None
    logo: Url | None = None
    uri: Url | None = None
    legal_status: str | None = Field(default=None, max_length=255)
    parent_organization_id: Uuid | None = None
    organization_identifiers: list[OrganizationIdentifierIn] | None = None
    phones: list[PhoneIn] | None = None
