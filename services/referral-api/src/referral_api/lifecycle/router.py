"""Reading the lifecycle resources: `GET /fhir/Task|Encounter|Observation[/{id}]`."""

from fastapi import APIRouter, Request
from starlette.responses import Response

from referral_api import fhir_routes
from referral_api.fhir_routes import ReadCaller
from referral_api.lifecycle import search, service
from referral_api.referrals.access import Reach
from signpost_platform.db import ReadSessionDep
from signpost_platform.errors import NotFound
from signpost_platform.fhir.search import declare_search, search_request
from signpost_platform.routing import CheckedRoute
from signpost_schemas.fhir.base import FhirResource
from signpost_schemas.fhir.bundle import searchset_of
from signpost_schemas.fhir.encounter import Contact
from signpost_schemas.fhir.observation import WellbeingAssessment
from signpost_schemas.fhir.procedure import SharedDecision
from signpost_schemas.fhir.task import ReferralTask

router = APIRouter(route_class=CheckedRoute, prefix="/fhir", tags=["lifecycle"])


def _add_routes(resource_type: str, what: str, model: type[FhirResource]) -> None:
    parameter = search.REFERRAL_PARAMETER[resource_type]

    async def read(resource_id: str, session: ReadSessionDep, caller: ReadCaller) -> Response:
        found = await service.read_resource(session, resource_type, resource_id, Reach.of(caller))
        if found is None:
            raise NotFound(f"no {resource_type} with id {resource_id}")
        return await fhir_routes.read_answer(session, caller, resource_type, resource_id, found)

    async def find(request: Request, session: ReadSessionDep, caller: ReadCaller) -> Response:
        reach = Reach.of(caller)
        parsed = await search_request(request, search.PARAMETERS[resource_type])
        ids = search.referral_ids(parameter.name, parsed.occurrences(parameter.name))
        total, rows = await service.search_resources(session, resource_type, ids, parsed, reach)
        entries = [(i, r.encode()) for i, r in rows]
        return await fhir_routes.search_answer(
            request, session, caller, resource_type, parsed, (total, entries)
        )

    router.add_api_route(
        f"/{resource_type}/{{resource_id}}",
        read,
        methods=["GET"],
        operation_id=f"read{resource_type}",
        summary=f"Read a {what}",
        description="404 also when the referral it belongs to is not one the caller's "
        "organisation sent or received.",
        tags=[resource_type],
        responses={200: {"model": model, "description": f"The {resource_type}, with ETag"}},
    )
    router.add_api_route(
        f"/{resource_type}",
        find,
        methods=["GET"],
        operation_id=f"search{resource_type}",
        summary=f"Search {what}s of a referral ({parameter.name}=ServiceRequest/<id>)",
        description="Only those of referrals the caller's organisation sent or received.",
        tags=[resource_type],
        openapi_extra=declare_search(search.PARAMETERS[resource_type]),
        responses={
            200: {
                "model": searchset_of(model),
                "description": f"A searchset Bundle of {resource_type}s with total and paging "
                "links",
            }
        },
    )


_add_routes("Task", "referral Task (status, closure and support offered)", ReferralTask)
_add_routes("Encounter", "contact", Contact)
_add_routes("Observation", "wellbeing assessment", WellbeingAssessment)
_add_routes("Procedure", "shared decision making conversation", SharedDecision)
