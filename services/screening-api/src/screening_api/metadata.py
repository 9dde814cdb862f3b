"""`GET /fhir/metadata`: the CapabilityStatement, built from what the routers really support."""

from screening_api import __version__
from screening_api.observations.extraction import SCREENING_OBSERVATION_PROFILE
from screening_api.observations.search import PARAMETERS as OBSERVATION_PARAMETERS
from screening_api.questionnaires.search import PARAMETERS as QUESTIONNAIRE_PARAMETERS
from screening_api.questionnaires.tools import SDC_QUESTIONNAIRE_PROFILE
from signpost_platform.fhir.capability import (
    ResourceInteraction,
    RestResource,
    metadata_router,
    read_and_search,
)
from signpost_schemas.fhir.screening_response import SCREENING_RESPONSE_PROFILE

router = metadata_router(
    software="Signpost screening-api",
    version=__version__,
    documentation="Social-welfare screening questionnaires, their responses and the "
    "Observations extracted from them. Every error is an OperationOutcome.",
    resources=[
        read_and_search("Questionnaire", SDC_QUESTIONNAIRE_PROFILE, QUESTIONNAIRE_PARAMETERS),
        RestResource(
            type="QuestionnaireResponse",
            profile=SCREENING_RESPONSE_PROFILE,
            interaction=[
                ResourceInteraction(
                    code="create",
                    documentation="Validated against the questionnaire version it names; "
                    "conditional with If-None-Exist: identifier=<system>|<value>",
                ),
                ResourceInteraction(code="read"),
                ResourceInteraction(
                    code="update",
                    documentation="Drafts (in-progress) only; version-aware: If-Match, else "
                    "the resource's meta.versionId, names the version replaced",
                ),
            ],
            versioning="versioned-update",
            readHistory=False,
            updateCreate=False,
            conditionalCreate=True,
            conditionalUpdate=False,
        ),
        read_and_search("Observation", SCREENING_OBSERVATION_PROFILE, OBSERVATION_PARAMETERS),
    ],
)
