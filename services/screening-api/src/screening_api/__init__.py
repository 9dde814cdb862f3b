"""screening-api: The social-welfare screening questionnaire as FHIR Questionnaire / QuestionnaireResponse, handing positive screens to referral-api."""

__version__ = "0.1.0"
