"""The screening-api app factory: `uvicorn --factory screening_api.main:create_app`."""

from fastapi import FastAPI

from screening_api import __version__
from screening_api.config import ScreeningSettings
from signpost_platform.app import create_app as create_service_app

DESCRIPTION = "The social-welfare screening questionnaire as FHIR Questionnaire / QuestionnaireResponse, handing positive screens to referral-api."


def create_app(settings: ScreeningSettings | None = None) -> FastAPI:
    return create_service_app(
        service_name="screening",
        title="Signpost screening-api",
        version=__version__,
        description=DESCRIPTION,
        settings=settings or ScreeningSettings(),
        routers=[],
    )
