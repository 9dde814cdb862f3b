"""The referral-api app factory: `uvicorn --factory referral_api.main:create_app`."""

import httpx
from fastapi import FastAPI

import referral_api.models  # noqa: F401  (registers every table before the first query)
from referral_api import __version__
from referral_api.audit import trail
from referral_api.careplans.router import router as careplans_router
from referral_api.config import ReferralSettings
from referral_api.consent.router import router as consent_router
from referral_api.export.router import router as export_router
from referral_api.export.service import IDENTIFIABLE_SCOPE
from referral_api.export.worker import export_lifecycle
from referral_api.gp_messages.router import router as gp_messages_router
from referral_api.gp_messages.worker import gp_message_lifecycle
from referral_api.lifecycle.router import router as lifecycle_router
from referral_api.messages.router import router as messages_router
from referral_api.metadata import router as metadata_router
from referral_api.openapi_examples import EXAMPLES
from referral_api.openapi_links import LINKS
from referral_api.pages.router import router as pages_router
from referral_api.pages.router import shared_routes as shared_page_routes
from referral_api.referrals.access import ALL_ORGANISATIONS
from referral_api.referrals.router import router as referrals_router
from referral_api.reports.refresher import refresh_lifecycle
from referral_api.reports.router import router as reports_router
from referral_api.service_use.router import router as service_use_router
from signpost_platform.app import create_app as create_service_app
from signpost_schemas.disclosure import UNSUPPRESSED_SCOPE

DESCRIPTION = """
Referrals to the six personalised-care roles as FHIR R4 ServiceRequests (UK Core / BaRS shaped),
each with one or more coded reasons. Authenticate with an OAuth2 bearer token carrying
`referral:write` to create and update, `referral:read` to read and search. Every error on a
`/fhir` route is an OperationOutcome whose `expression` names the offending element.
"""


def create_app(
    settings: ReferralSettings | None = None,
    *,
    gp_message_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The app; `gp_message_transport` replaces the network route to the referrers' message
    endpoints (tests deliver to an in-process endpoint through it)."""

    return create_service_app(
        service_name="referral",
        title="Signpost referral-api",
        version=__version__,
        description=DESCRIPTION,
        settings=settings or ReferralSettings(),
        routers=[
            referrals_router,
            messages_router,
            lifecycle_router,
            service_use_router,
            careplans_router,
            gp_messages_router,
            metadata_router,
            pages_router,
            reports_router,
            shared_page_routes,
            consent_router,
            export_router,
        ],
        wider_scopes=[
            ALL_ORGANISATIONS,
            UNSUPPRESSED_SCOPE,
            IDENTIFIABLE_SCOPE,
        ],
        lifecycles=[
            refresh_lifecycle,
            gp_message_lifecycle(gp_message_transport),
            export_lifecycle(),
        ],
        openapi_tags=[
            {"name": "ServiceRequest", "description": "Referrals (the minimum referral dataset)"},
            {
                "name": "$process-message",
                "description": "Referral messages from EMIS, Rio and "
                "other systems: new referrals and their lifecycle",
            },
            {"name": "Task", "description": "Referral status, closure and support offered"},
            {"name": "Encounter", "description": "Contacts with the person"},
            {"name": "Observation", "description": "Wellbeing assessments"},
            {
                "name": "$export",
                "description": "Bulk Data export: record-level NDJSON for a warehouse",
            },
            {"name": "Consent", "description": "Consent for information sharing"},
            {"name": "Procedure", "description": "Shared decision making conversations"},
            {
                "name": "CarePlan",
                "description": "Care and support plans: what matters to the person, goals, "
                "actions and reviews",
            },
            {"name": "metadata", "description": "The FHIR CapabilityStatement"},
            {
                "name": "messages to referrers",
                "description": "Messages back to the GP and referrer on acceptance, decline "
                "and closure: their delivery state and retries",
            },
        ],
        examples=EXAMPLES,
        links=LINKS,
        audit=trail,
    )
