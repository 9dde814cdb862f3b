"""`GET /fhir/metadata`: the CapabilityStatement, built from what the routers really support."""

from referral_api import __version__
from referral_api.careplans.search import PARAMETERS as CARE_PLAN_PARAMETERS
from referral_api.consent.search import PARAMETERS as CONSENT_PARAMETERS
from referral_api.export.sources import EXPORTABLE_TYPES
from referral_api.lifecycle.search import PARAMETERS as LIFECYCLE_PARAMETERS
from referral_api.referrals.search import PARAMETERS
from signpost_platform.fhir.capability import (
    Operation,
    ResourceInteraction,
    RestResource,
    metadata_router,
    search_params,
)
from signpost_schemas import systems
from signpost_schemas.fhir import profiles

BULK_EXPORT = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"
GROUP_EXPORT = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export"
EXPORT_DOCUMENTATION = (
    "FHIR Bulk Data Access v2, asynchronous (Prefer: respond-async): "
    f"{', '.join(EXPORTABLE_TYPES)} as NDJSON, with _type, _since, _outputFormat "
    "(application/fhir+ndjson) and _pseudonymise. Needs referral:export, and "
    "referral:export-identifiable for NHS numbers (else always pseudonymised); the caller's "
    "organisation's "
    "referrals only, without the people who withdrew consent to share (counted in the "
    "manifest's extension.withdrawnConsent)."
)

router = metadata_router(
    software="Signpost referral-api",
    version=__version__,
    documentation="Referrals to personalised-care roles (the Signpost minimum referral "
    "dataset). Every error is an OperationOutcome. The acceptance, decline and closure of a "
    "referral are sent back to its referrer as BaRS-shaped messages (MessageHeader event "
    "servicerequest-response, focus the referral Task, with the GP-record SNOMED CT codes) to "
    "the endpoint configured for the requester's ODS code; GET /gp-messages shows their "
    "delivery.",
    operations=[
        Operation(
            name="process-message",
            definition="http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message",
            documentation="BaRS-shaped referral messages (new referrals and their "
            "lifecycle: Task, Encounter, Observation, Procedure). Idempotent on Bundle.id.",
        ),
        Operation(
            name="export",
            definition=BULK_EXPORT,
            documentation=EXPORT_DOCUMENTATION,
        ),
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
                    *(
                        [
                            ResourceInteraction(
                                code="create",
                                documentation="Service-use counts only (profile "
                                f"{profiles.SERVICE_USE_PROFILE}): GP appointments, A&E "
                                "attendances, emergency admissions in six months before or "
                                "after a referral; read and searched with the wellbeing "
                                "assessments",
                            )
                        ]
                        if resource_type == "Observation"
                        else []
                    ),
                ],
                versioning="versioned",
                searchParam=search_params(LIFECYCLE_PARAMETERS[resource_type]),
            )
            for resource_type, profile in (
                ("Task", profiles.TASK_PROFILE),
                ("Encounter", profiles.ENCOUNTER_PROFILE),
                ("Observation", profiles.OBSERVATION_PROFILE),
                ("Procedure", profiles.PROCEDURE_PROFILE),
            )
        ),
        RestResource(
            type="CarePlan",
            profile=profiles.CARE_PLAN_PROFILE,
            interaction=[
                ResourceInteraction(
                    code="create",
                    documentation="One plan per referral (basedOn): a second is refused with 409",
                ),
                ResourceInteraction(code="read"),
                ResourceInteraction(
                    code="update",
                    documentation="Version-aware: If-Match, else the resource's "
                    "meta.versionId (412 if stale, 428 if neither is sent)",
                ),
                ResourceInteraction(
                    code="search-type",
                    documentation="review-due=lt<date> with based-on.performer and "
                    "based-on.performer-type lists a team's overdue reviews",
                ),
            ],
            versioning="versioned-update",
            readHistory=False,
            updateCreate=False,
            searchParam=search_params(CARE_PLAN_PARAMETERS),
        ),
        RestResource(
            type="Consent",
            profile=profiles.CONSENT_PROFILE,
            interaction=[
                ResourceInteraction(
                    code="create",
                    documentation="Consent for information sharing (scope patient-privacy); a "
                    "withdrawal is a new Consent (inactive, or provision.type deny)",
                ),
                ResourceInteraction(code="read"),
                ResourceInteraction(code="search-type"),
            ],
            versioning="versioned",
            searchParam=search_params(CONSENT_PARAMETERS),
        ),
        RestResource(
            type="Group",
            interaction=[],
            operation=[
                Operation(
                    name="export",
                    definition=GROUP_EXPORT,
                    documentation="Group ids: organization-<ODS code> (the referrals that "
                    "organisation received) and role-<personalised-care role code>. "
                    + EXPORT_DOCUMENTATION,
                )
            ],
        ),
    ],
)
