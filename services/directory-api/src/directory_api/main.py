"""The directory-api app factory: `uvicorn --factory directory_api.main:create_app`."""

from fastapi import FastAPI

from directory_api import __version__
from directory_api.config import DirectorySettings
from signpost_platform.app import create_app as create_service_app

DESCRIPTION = "Services and the six personalised-care roles, published as Open Referral UK (HSDS-UK 3.0) with a FHIR HealthcareService view."


def create_app(settings: DirectorySettings | None = None) -> FastAPI:
    return create_service_app(
        service_name="directory",
        title="Signpost directory-api",
        version=__version__,
        description=DESCRIPTION,
        settings=settings or DirectorySettings(),
        routers=[],
    )
