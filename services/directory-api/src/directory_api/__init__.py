"""directory-api: services and the six personalised-care roles, published as Open Referral UK
(HSDS-UK 3.0) with a FHIR HealthcareService view."""

__version__ = "0.1.0"
