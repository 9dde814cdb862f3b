"""FHIR REST plumbing shared by the services: parsing, responses, search and capability."""
