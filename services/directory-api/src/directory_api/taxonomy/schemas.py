"""ORUK taxonomy and taxonomy_term objects as the curation API accepts them."""

from pydantic import Field

from directory_api.fields import Name, RecordInput, Text, Url, Uuid


class TaxonomyTermIn(RecordInput):
    name: Name
    description: Text
    code: str | None = Field(default=None, max_length=255)
    parent_id: Uuid | None = None
    taxonomy_id: Uuid | None = None
    taxonomy: str | None = Field(default=None, max_length=255)
    term_uri: Url | None = None
    term: str | None = Field(default=None, max_length=255)
    language: str | None = Field(default=None, max_length=10)


class TaxonomyIn(RecordInput):
    name: Name
    description: Text
    uri: Url | None = None
    version: str | None = Field(default=None, max_length=50)
    taxonomy_terms: list[TaxonomyTermIn] | None = None
