"""The FHIR R4 view of the directory: HealthcareService, Location and Organization (UK Core)."""
