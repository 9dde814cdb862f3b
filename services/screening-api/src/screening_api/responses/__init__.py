"""Questionnaire responses: validation, storage, scoring and the outcome told to the front end."""
