"""`GET /`: the ORUK api_details that tell validators which profile this API follows."""

from fastapi import APIRouter, Request

from signpost_platform.routing import CheckedRoute
from signpost_platform.urls import base_url

router = APIRouter(route_class=CheckedRoute, tags=["Open Referral UK"])

ORUK_VERSION = "HSDS-UK-3.0"


@router.get(
    "/",
    operation_id="getAPIMetaInformation",
    description="The ORUK api_details: version HSDS-UK-3.0, the profile and where the OpenAPI "
    "document is.",
    summary="api_details: the HSDS version and profile, and where this API's OpenAPI lives",
)
async def api_details(request: Request) -> dict[str, str]:
    return {
        "version": ORUK_VERSION,
        "profile": request.app.state.settings.oruk_profile_url,
        "openapi_url": f"{base_url(request)}/openapi.json",
    }
