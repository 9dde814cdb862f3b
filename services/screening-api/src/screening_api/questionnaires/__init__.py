"""The screening questionnaires: served as FHIR Questionnaire, scored from their responses."""
