"""`GET /fhir/metadata`: the CapabilityStatement, built from what the routers really support."""

from fastapi import APIRouter, Request
from starlette.responses import Response

from referral_api import __version__
from referral_api.lifecycle.search import PARAMETERS as LIFECYCLE_PARAMETERS
from referral_api.referrals.search import PARAMETERS
from signpost_platform.fhir.capability import (
    Operation,
    ResourceInteraction,
    RestResource,
    capability_statement,
    search_params,
)
from signpost_platform.fhir.responses import FhirResponse
from signpost_platform.urls import base_url
from signpost_schemas import systems
from signpost_schemas.fhir import profiles
from signpost_schemas.fhir.capability_statement import CapabilityStatement

router = APIRouter(prefix="/fhir", tags=["metadata"])


@router.get(
    "/metadata",
    operation_id="capabilities",
    description="The resources, interactions, search parameters and operations this FHIR endpoint"
    " really supports, built from the routes that serve them. Needs no token.",
    summary="The CapabilityStatement: resources, interactions and search parameters supported",
    responses={200: {"model": CapabilityStatement, "description": "The CapabilityStatement"}},
)
async def capabilities(request: Request) -> Response:
    statement = capability_statement(
        settings=request.app.state.settings,
        software="Signpost referral-api",
        version=__version__,
        base_url=f"{base_url(request)}/fhir",
        documentation="Referrals to personalised-care roles (the Signpost minimum referral "
        "dataset). Every error is an OperationOutcome.",
        operations=[
            Operation(
                name="process-message",
                definition="http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message",
                documentation="BaRS-shaped referral messages (new referrals and their "
                "lifecycle: Task, Encounter, Observation). Idempotent on Bundle.id.",
            )
        ],
        resources=[
            RestResource(
                type="ServiceRequest",
                profile=systems.SERVICE_REQUEST_PROFILE,
                interaction=[
                    ResourceInteraction(
                        code="create",
                        documentation="Conditional create with "
                        "If-None-Exist: identifier=<system>|<value> (or ?identifier=)",
                    ),
                    ResourceInteraction(code="read"),
                    ResourceInteraction(
                        code="vread",
                        documentation="Only the current version is kept: its version id is "
                        "served, any other is 404",
                    ),
                    ResourceInteraction(
                        code="update",
                        documentation="Version-aware: If-Match, else the resource's "
                        "meta.versionId, names the version replaced (412 if stale, 428 if "
                        "neither is sent)",
                    ),
                    ResourceInteraction(
                        code="search-type",
                        documentation="GET, or POST _search with form-encoded parameters",
                    ),
                ],
                versioning="versioned-update",
                readHistory=False,
                updateCreate=False,
                conditionalCreate=True,
                conditionalUpdate=False,
                searchParam=search_params(PARAMETERS),
            ),
            *(
                RestResource(
                    type=resource_type,
                    profile=profile,
                    interaction=[
                        ResourceInteraction(code="read"),
                        ResourceInteraction(
                            code="search-type",
                            documentation="Written through $process-message, read here",
                        ),
                    ],
                    versioning="versioned",
                    searchParam=search_params(LIFECYCLE_PARAMETERS[resource_type]),
                )
                for resource_type, profile in (
                    ("Task", profiles.TASK_PROFILE),
                    ("Encounter", profiles.ENCOUNTER_PROFILE),
                    ("Observation", profiles.OBSERVATION_PROFILE),
                )
            ),
        ],
    )
    return FhirResponse(statement.to_fhir())
