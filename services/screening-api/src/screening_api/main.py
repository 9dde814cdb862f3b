"""The screening-api app factory: `uvicorn --factory screening_api.main:create_app`."""

import httpx
from fastapi import FastAPI

import screening_api.models  # noqa: F401  (registers every table before the first query)
from screening_api import __version__
from screening_api.access import ALL_ORGANISATIONS
from screening_api.audit import trail
from screening_api.config import ScreeningSettings
from screening_api.handoff.router import router as handoff_router
from screening_api.handoff.worker import handoff_lifecycle
from screening_api.invitations.router import router as invitations_router
from screening_api.metadata import router as metadata_router
from screening_api.observations.router import router as observations_router
from screening_api.openapi_examples import EXAMPLES
from screening_api.openapi_links import LINKS
from screening_api.pages.router import router as pages_router
from screening_api.pages.router import shared_routes as shared_page_routes
from screening_api.questionnaires.catalogue import QuestionnaireCatalogue
from screening_api.questionnaires.router import router as questionnaires_router
from screening_api.reports.router import router as reports_router
from screening_api.responses.router import router as responses_router
from signpost_platform.app import create_app as create_service_app
from signpost_schemas.disclosure import UNSUPPRESSED_SCOPE

DESCRIPTION = """
The social-welfare screening questionnaire (the Barts Social Welfare Screening Tool and its short
form) as FHIR Questionnaires, ready for renderers such as LHC-Forms and Smart Forms. Completed
QuestionnaireResponses are validated against the questionnaire version they name, scored (flags by
domain, screen positive, wants help), extracted into Observations, and — when the screen is
positive and the person wants help — handed to referral-api as a referral to a social prescribing
link worker, through an outbox that survives referral-api being down. Authenticate with a bearer
token carrying `screening:write` to submit, `screening:read` to read, `reports:read` for the
process metrics. Questionnaires are public. Every error on a `/fhir` route is an OperationOutcome
whose `expression` names the offending item.
"""


def create_app(
    settings: ScreeningSettings | None = None,
    *,
    questionnaires: QuestionnaireCatalogue | None = None,
    referral_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The app; `questionnaires` and `referral_transport` replace the packaged tools and the
    network route to referral-api (tests run referral-api in-process through the latter)."""

    def configure(app: FastAPI) -> None:
        app.state.questionnaires = questionnaires or QuestionnaireCatalogue()

    return create_service_app(
        service_name="screening",
        title="Signpost screening-api",
        version=__version__,
        description=DESCRIPTION,
        settings=settings or ScreeningSettings(),
        routers=[
            questionnaires_router,
            responses_router,
            invitations_router,
            observations_router,
            metadata_router,
            handoff_router,
            reports_router,
            pages_router,
            shared_page_routes,
        ],
        wider_scopes=[ALL_ORGANISATIONS, UNSUPPRESSED_SCOPE],
        openapi_tags=[
            {"name": "Questionnaire", "description": "The screening questionnaires"},
            {"name": "QuestionnaireResponse", "description": "Submitted screens and outcomes"},
            {"name": "Task", "description": "Invitations to complete a questionnaire"},
            {"name": "Observation", "description": "Answers extracted from completed screens"},
            {"name": "metadata", "description": "The FHIR CapabilityStatement"},
            {"name": "referral hand-off", "description": "Delivery of referrals to referral-api"},
            {"name": "reports", "description": "Process metrics with disclosure control"},
        ],
        lifecycles=[handoff_lifecycle(referral_transport)],
        examples=EXAMPLES,
        links=LINKS,
        audit=trail,
        configure=configure,
    )
