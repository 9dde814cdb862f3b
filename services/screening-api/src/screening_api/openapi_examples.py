"""Synthetic examples for screening-api's OpenAPI document, keyed by operationId.

The person is synthetic (9434765919 is a published test NHS number); the clinic code is
invented. The FHIR bodies are documented with the profiles the routes validate them with.
"""

from dataclasses import replace

from screening_api.questionnaires.tools import packaged_tools
from signpost_platform.openapi_docs import OperationExamples
from signpost_schemas.fhir.screening_invitation import InvitationTask
from signpost_schemas.fhir.screening_response import ScreeningResponse

# The Barts questionnaire exactly as served.
_BARTS = next(t.resource for t in packaged_tools() if t.name == "barts-social-welfare-screening")

_BARTS_SEARCH = (
    "https://screening.signpost.nhs.example/fhir/Questionnaire?name=barts&_count=20&_offset=0"
)

# A completed screen as stored: what the submission and a later read answer.
_SUBMITTED_RESPONSE = {
    "resourceType": "QuestionnaireResponse",
    "id": "629bb0e8-fcb2-4771-bab0-4bf41620ba96",
    "meta": {
        "versionId": "1",
        "lastUpdated": "2026-11-22T15:43:11.484Z",
        "profile": ["https://signpost.nhs.example/StructureDefinition/ScreeningResponse"],
    },
    "extension": [
        {
            "url": "https://signpost.nhs.example/StructureDefinition/screening-context",
            "extension": [
                {
                    "url": "clinic",
                    "valueIdentifier": {
                        "system": "https://fhir.nhs.uk/Id/ods-organization-code",
                        "value": "R1H12",
                    },
                },
                {"url": "pathway", "valueCode": "cardiology-outpatient"},
            ],
        }
    ],
    "identifier": {
        "system": "https://clinic-portal.example/response",
        "value": "CP-2026-004512",
    },
    "questionnaire": "https://signpost.nhs.example/Questionnaire/barts-social-welfare-screening|2023.1",
    "status": "completed",
    "subject": {
        "identifier": {
            "system": "https://fhir.nhs.uk/Id/nhs-number",
            "value": "9434765919",
        }
    },
    "authored": "2026-11-02T09:30:00Z",
    "item": [
        {
            "linkId": "1",
            "answer": [
                {
                    "valueCoding": {
                        "system": "http://loinc.org",
                        "code": "LA33-6",
                        "display": "Yes",
                    }
                }
            ],
        }
    ],
}

EXAMPLES: dict[str, OperationExamples] = {
    "searchQuestionnaire": OperationExamples(
        responses={
            200: {
                "resourceType": "Bundle",
                "type": "searchset",
                "total": 1,
                "link": [
                    {"relation": relation, "url": _BARTS_SEARCH} for relation in ("self", "first")
                ],
                "entry": [
                    {
                        "fullUrl": f"https://screening.signpost.nhs.example/fhir/Questionnaire/{_BARTS['id']}",
                        "resource": _BARTS,
                        "search": {"mode": "match"},
                    }
                ],
            }
        },
    ),
    "readQuestionnaire": OperationExamples(responses={200: _BARTS}),
    "createInvitationTask": OperationExamples(
        request={
            "resourceType": "Task",
            "status": "requested",
            "intent": "order",
            "code": {
                "coding": [
                    {
                        "system": "http://hl7.org/fhir/uv/sdc/CodeSystem/temp",
                        "code": "complete-questionnaire",
                    }
                ]
            },
            "for": {
                "identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}
            },
            "authoredOn": "2026-11-01T09:00:00Z",
            "requester": {
                "identifier": {
                    "system": "https://fhir.nhs.uk/Id/ods-organization-code",
                    "value": "R1H12",
                }
            },
            "input": [
                {
                    "type": {
                        "coding": [
                            {
                                "system": "http://hl7.org/fhir/uv/sdc/CodeSystem/temp",
                                "code": "questionnaire",
                            }
                        ]
                    },
                    "valueCanonical": "https://signpost.nhs.example/Questionnaire/barts-social-welfare-screening|2023.1",
                }
            ],
            "extension": [
                {
                    "url": "https://signpost.nhs.example/StructureDefinition/screening-context",
                    "extension": [{"url": "pathway", "valueCode": "cardiology-outpatient"}],
                }
            ],
        },
        request_schema=InvitationTask,
        responses={
            201: {
                "resourceType": "Task",
                "id": "70051e2b-6c57-40fa-944f-1e528783d848",
                "meta": {"versionId": "1", "lastUpdated": "2026-11-22T15:43:11.449Z"},
                "extension": [
                    {
                        "url": "https://signpost.nhs.example/StructureDefinition/screening-context",
                        "extension": [{"url": "pathway", "valueCode": "cardiology-outpatient"}],
                    }
                ],
                "status": "requested",
                "intent": "order",
                "code": {
                    "coding": [
                        {
                            "system": "http://hl7.org/fhir/uv/sdc/CodeSystem/temp",
                            "code": "complete-questionnaire",
                        }
                    ]
                },
                "for": {
                    "identifier": {
                        "system": "https://fhir.nhs.uk/Id/nhs-number",
                        "value": "9434765919",
                    }
                },
                "authoredOn": "2026-11-01T09:00:00Z",
                "requester": {
                    "identifier": {
                        "system": "https://fhir.nhs.uk/Id/ods-organization-code",
                        "value": "R1H12",
                    }
                },
                "input": [
                    {
                        "type": {
                            "coding": [
                                {
                                    "system": "http://hl7.org/fhir/uv/sdc/CodeSystem/temp",
                                    "code": "questionnaire",
                                }
                            ]
                        },
                        "valueCanonical": "https://signpost.nhs.example/Questionnaire/barts-social-welfare-screening|2023.1",
                    }
                ],
            }
        },
    ),
    "createQuestionnaireResponse": OperationExamples(
        request={
            "resourceType": "QuestionnaireResponse",
            "status": "completed",
            "subject": {
                "identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}
            },
            "authored": "2026-11-02T09:30:00Z",
            "item": [
                {
                    "linkId": "1",
                    "answer": [
                        {
                            "valueCoding": {
                                "system": "http://loinc.org",
                                "code": "LA33-6",
                                "display": "Yes",
                            }
                        }
                    ],
                },
                {
                    "linkId": "2",
                    "answer": [
                        {
                            "valueCoding": {
                                "system": "http://loinc.org",
                                "code": "LA33-6",
                                "display": "Yes",
                            }
                        }
                    ],
                },
                {
                    "linkId": "3",
                    "answer": [
                        {
                            "valueCoding": {
                                "system": "http://loinc.org",
                                "code": "LA33-6",
                                "display": "Yes",
                            }
                        }
                    ],
                },
                {
                    "linkId": "4",
                    "answer": [
                        {
                            "valueCoding": {
                                "system": "http://loinc.org",
                                "code": "LA33-6",
                                "display": "Yes",
                            }
                        }
                    ],
                },
                {
                    "linkId": "5",
                    "answer": [
                        {
                            "valueCoding": {
                                "system": "http://loinc.org",
                                "code": "LA32-8",
                                "display": "No",
                            }
                        }
                    ],
                },
                {
                    "linkId": "6",
                    "answer": [
                        {
                            "valueCoding": {
                                "system": "http://loinc.org",
                                "code": "LA32-8",
                                "display": "No",
                            }
                        }
                    ],
                },
                {
                    "linkId": "7",
                    "answer": [
                        {
                            "valueCoding": {
                                "system": "http://loinc.org",
                                "code": "LA33-6",
                                "display": "Yes",
                            }
                        }
                    ],
                },
            ],
            "questionnaire": "https://signpost.nhs.example/Questionnaire/barts-social-welfare-screening|2023.1",
            "extension": [
                {
                    "url": "https://signpost.nhs.example/StructureDefinition/screening-context",
                    "extension": [
                        {
                            "url": "clinic",
                            "valueIdentifier": {
                                "system": "https://fhir.nhs.uk/Id/ods-organization-code",
                                "value": "R1H12",
                            },
                        },
                        {"url": "pathway", "valueCode": "cardiology-outpatient"},
                    ],
                }
            ],
            "identifier": {
                "system": "https://clinic-portal.example/response",
                "value": "CP-2026-004512",
            },
        },
        request_schema=ScreeningResponse,
        responses={201: _SUBMITTED_RESPONSE},
    ),
    "readQuestionnaireResponse": OperationExamples(
        responses={200: _SUBMITTED_RESPONSE},
    ),
    "updateQuestionnaireResponse": OperationExamples(
        request={
            "resourceType": "QuestionnaireResponse",
            "status": "completed",
            "subject": {
                "identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}
            },
            "authored": "2026-11-02T09:30:00Z",
            "item": [
                {
                    "linkId": "1",
                    "answer": [
                        {
                            "valueCoding": {
                                "system": "http://loinc.org",
                                "code": "LA32-8",
                                "display": "No",
                            }
                        }
                    ],
                },
                {
                    "linkId": "2",
                    "answer": [
                        {
                            "valueCoding": {
                                "system": "http://loinc.org",
                                "code": "LA32-8",
                                "display": "No",
                            }
                        }
                    ],
                },
                {
                    "linkId": "3",
                    "answer": [
                        {
                            "valueCoding": {
                                "system": "http://loinc.org",
                                "code": "LA33-6",
                                "display": "Yes",
                            }
                        }
                    ],
                },
                {
                    "linkId": "4",
                    "answer": [
                        {
                            "valueCoding": {
                                "system": "http://loinc.org",
                                "code": "LA33-6",
                                "display": "Yes",
                            }
                        }
                    ],
                },
                {
                    "linkId": "5",
                    "answer": [
                        {
                            "valueCoding": {
                                "system": "http://loinc.org",
                                "code": "LA32-8",
                                "display": "No",
                            }
                        }
                    ],
                },
                {
                    "linkId": "6",
                    "answer": [
                        {
                            "valueCoding": {
                                "system": "http://loinc.org",
                                "code": "LA32-8",
                                "display": "No",
                            }
                        }
                    ],
                },
            ],
            "questionnaire": "https://signpost.nhs.example/Questionnaire/barts-social-welfare-screening|2023.1",
            "extension": [
                {
                    "url": "https://signpost.nhs.example/StructureDefinition/screening-context",
                    "extension": [
                        {
                            "url": "clinic",
                            "valueIdentifier": {
                                "system": "https://fhir.nhs.uk/Id/ods-organization-code",
                                "value": "R1H12",
                            },
                        },
                        {"url": "pathway", "valueCode": "cardiology-outpatient"},
                    ],
                }
            ],
            "identifier": {
                "system": "https://clinic-portal.example/response",
                "value": "CP-2026-004513",
            },
            "id": "24fec980-76f0-4e54-96ea-3500fdc63cbc",
        },
        request_schema=ScreeningResponse,
        responses={
            200: {
                "resourceType": "QuestionnaireResponse",
                "id": "24fec980-76f0-4e54-96ea-3500fdc63cbc",
                "meta": {
                    "versionId": "2",
                    "lastUpdated": "2026-11-22T15:43:11.545Z",
                    "profile": [
                        "https://signpost.nhs.example/StructureDefinition/ScreeningResponse"
                    ],
                },
                "extension": [
                    {
                        "url": "https://signpost.nhs.example/StructureDefinition/screening-context",
                        "extension": [
                            {
                                "url": "clinic",
                                "valueIdentifier": {
                                    "system": "https://fhir.nhs.uk/Id/ods-organization-code",
                                    "value": "R1H12",
                                },
                            },
                            {"url": "pathway", "valueCode": "cardiology-outpatient"},
                        ],
                    }
                ],
                "identifier": {
                    "system": "https://clinic-portal.example/response",
                    "value": "CP-2026-004513",
                },
                "questionnaire": "https://signpost.nhs.example/Questionnaire/barts-social-welfare-screening|2023.1",
                "status": "completed",
                "subject": {
                    "identifier": {
                        "system": "https://fhir.nhs.uk/Id/nhs-number",
                        "value": "9434765919",
                    }
                },
                "authored": "2026-11-02T09:30:00Z",
                "item": [
                    {
                        "linkId": "1",
                        "answer": [
                            {
                                "valueCoding": {
                                    "system": "http://loinc.org",
                                    "code": "LA32-8",
                                    "display": "No",
                                }
                            }
                        ],
                    }
                ],
            }
        },
    ),
    "searchObservation": OperationExamples(
        responses={
            200: {
                "resourceType": "Bundle",
                "type": "searchset",
                "total": 13,
                "link": [
                    {
                        "relation": "self",
                        "url": "https://screening.signpost.nhs.example/fhir/Observation?_count=1&_offset=0",
                    }
                ],
                "entry": [
                    {
                        "fullUrl": "https://screening.signpost.nhs.example/fhir/Observation/22cc5a1e-f73b-4419-b6a0-15fcf9b42b4c",
                        "resource": {
                            "resourceType": "Observation",
                            "id": "22cc5a1e-f73b-4419-b6a0-15fcf9b42b4c",
                            "meta": {
                                "versionId": "1",
                                "lastUpdated": "2026-11-22T15:43:11.545Z",
                                "profile": [
                                    "https://signpost.nhs.example/StructureDefinition/ScreeningResponseObservation"
                                ],
                            },
                            "status": "final",
                            "category": [
                                {
                                    "coding": [
                                        {
                                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                            "code": "survey",
                                            "display": "Survey",
                                        }
                                    ]
                                },
                                {
                                    "coding": [
                                        {
                                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                            "code": "social-history",
                                            "display": "Social History",
                                        }
                                    ]
                                },
                                {
                                    "coding": [
                                        {
                                            "system": "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes",
                                            "code": "financial-insecurity",
                                            "display": "Financial Insecurity",
                                        }
                                    ]
                                },
                            ],
                            "code": {
                                "coding": [
                                    {
                                        "system": "https://signpost.nhs.example/CodeSystem/screening-question",
                                        "code": "difficulty-making-ends-meet",
                                        "display": "Do you have difficulty making "
                                        "ends meet at the end of the "
                                        "month?",
                                    }
                                ],
                                "text": "Do you have difficulty making ends meet at "
                                "the end of the month?",
                            },
                            "subject": {
                                "identifier": {
                                    "system": "https://fhir.nhs.uk/Id/nhs-number",
                                    "value": "9434765919",
                                }
                            },
                            "effectiveDateTime": "2026-11-02T09:30:00.000Z",
                            "issued": "2026-11-22T15:43:11.545Z",
                            "valueCodeableConcept": {
                                "coding": [
                                    {
                                        "system": "http://loinc.org",
                                        "code": "LA32-8",
                                        "display": "No",
                                    }
                                ]
                            },
                            "derivedFrom": [
                                {
                                    "reference": "QuestionnaireResponse/"
                                    "24fec980-76f0-4e54-96ea-3500fdc63cbc"
                                }
                            ],
                        },
                        "search": {"mode": "match"},
                    }
                ],
            }
        },
    ),
    "readObservation": OperationExamples(
        responses={
            200: {
                "resourceType": "Observation",
                "id": "22cc5a1e-f73b-4419-b6a0-15fcf9b42b4c",
                "meta": {
                    "versionId": "1",
                    "lastUpdated": "2026-11-22T15:43:11.545Z",
                    "profile": [
                        "https://signpost.nhs.example/StructureDefinition/ScreeningResponseObservation"
                    ],
                },
                "status": "final",
                "category": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                "code": "survey",
                                "display": "Survey",
                            }
                        ]
                    },
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                "code": "social-history",
                                "display": "Social History",
                            }
                        ]
                    },
                    {
                        "coding": [
                            {
                                "system": "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes",
                                "code": "financial-insecurity",
                                "display": "Financial Insecurity",
                            }
                        ]
                    },
                ],
                "code": {
                    "coding": [
                        {
                            "system": "https://signpost.nhs.example/CodeSystem/screening-question",
                            "code": "difficulty-making-ends-meet",
                            "display": "Do you have difficulty making ends meet at the end of "
                            "the month?",
                        }
                    ],
                    "text": "Do you have difficulty making ends meet at the end of the month?",
                },
                "subject": {
                    "identifier": {
                        "system": "https://fhir.nhs.uk/Id/nhs-number",
                        "value": "9434765919",
                    }
                },
                "effectiveDateTime": "2026-11-02T09:30:00.000Z",
                "issued": "2026-11-22T15:43:11.545Z",
                "valueCodeableConcept": {
                    "coding": [{"system": "http://loinc.org", "code": "LA32-8", "display": "No"}]
                },
                "derivedFrom": [
                    {"reference": "QuestionnaireResponse/24fec980-76f0-4e54-96ea-3500fdc63cbc"}
                ],
            }
        },
    ),
    "capabilities": OperationExamples(
        responses={
            200: {
                "resourceType": "CapabilityStatement",
                "status": "active",
                "date": "2026-11-22",
                "publisher": "Signpost",
                "kind": "instance",
                "software": {"name": "Signpost screening-api", "version": "0.1.0"},
                "implementation": {
                    "description": "Signpost screening-api",
                    "url": "https://screening.signpost.nhs.example/fhir",
                },
                "fhirVersion": "4.0.1",
                "format": ["application/fhir+json"],
                "rest": [
                    {
                        "mode": "server",
                        "documentation": "Social-welfare screening questionnaires, their responses "
                        "and the Observations extracted from them. Every error is an "
                        "OperationOutcome.",
                        "security": {
                            "extension": [
                                {
                                    "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                                    "extension": [
                                        {
                                            "url": "token",
                                            "valueUri": "https://auth.signpost.nhs.example/oauth2/token",
                                        }
                                    ],
                                }
                            ],
                            "cors": False,
                            "service": [
                                {
                                    "coding": [
                                        {
                                            "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                            "code": "SMART-on-FHIR",
                                            "display": "SMART-on-FHIR",
                                        }
                                    ],
                                    "text": "SMART Backend Services: OAuth2 client credentials, "
                                    "bearer JWT with scopes",
                                }
                            ],
                            "description": "OAuth2 bearer tokens (signed JWTs, RS256 or RS512) "
                            "issued by https://auth.signpost.nhs.example for the audience "
                            "signpost-screening-api, with the scope each operation names. "
                            "Obtain them at https://auth.signpost.nhs.example/oauth2/token with "
                            "the client credentials grant (SMART Backend Services; client "
                            "authentication private_key_jwt). The SMART configuration (token "
                            "endpoint, grant, scopes) is at https://screening.signpost.nhs.example/fhir/.well-known/"
                            "smart-configuration.",
                        },
                        "resource": [
                            {
                                "type": "Questionnaire",
                                "profile": "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire",
                                "interaction": [{"code": "read"}, {"code": "search-type"}],
                                "searchParam": [
                                    {
                                        "name": "url",
                                        "definition": "http://hl7.org/fhir/SearchParameter/Questionnaire-url",
                                        "type": "uri",
                                        "documentation": "The canonical URL of the "
                                        "questionnaire (exact)",
                                    },
                                    {
                                        "name": "name",
                                        "definition": "http://hl7.org/fhir/SearchParameter/Questionnaire-name",
                                        "type": "string",
                                        "documentation": "The computable name; matches "
                                        "names that start with the "
                                        "value, ignoring case",
                                    },
                                    {
                                        "name": "version",
                                        "definition": "http://hl7.org/fhir/SearchParameter/Questionnaire-version",
                                        "type": "token",
                                        "documentation": "The business version (exact)",
                                    },
                                ],
                            },
                            {
                                "type": "QuestionnaireResponse",
                                "profile": "https://signpost.nhs.example/StructureDefinition/ScreeningResponse",
                                "interaction": [
                                    {
                                        "code": "create",
                                        "documentation": "Validated against the "
                                        "questionnaire version it "
                                        "names; conditional with "
                                        "If-None-Exist: "
                                        "identifier=<system>|<value>",
                                    },
                                    {"code": "read"},
                                    {
                                        "code": "update",
                                        "documentation": "Drafts (in-progress) only; "
                                        "version-aware: If-Match, else the resource's "
                                        "meta.versionId, names the version replaced",
                                    },
                                ],
                                "versioning": "versioned-update",
                                "readHistory": False,
                                "updateCreate": False,
                                "conditionalCreate": True,
                                "conditionalUpdate": False,
                                "searchParam": [],
                            },
                            {
                                "type": "Observation",
                                "profile": "https://signpost.nhs.example/StructureDefinition/ScreeningResponseObservation",
                                "interaction": [{"code": "read"}, {"code": "search-type"}],
                                "searchParam": [
                                    {
                                        "name": "derived-from",
                                        "definition": "http://hl7.org/fhir/SearchParameter/Observation-derived-from",
                                        "type": "reference",
                                        "documentation": "The response it was "
                                        "extracted from: "
                                        "QuestionnaireResponse/<id>",
                                    },
                                    {
                                        "name": "patient.identifier",
                                        "type": "token",
                                        "documentation": "The person's NHS number: "
                                        "https://fhir.nhs.uk/Id/nhs-number|9434765919 "
                                        "or the number",
                                    },
                                    {
                                        "name": "code",
                                        "definition": "http://hl7.org/fhir/SearchParameter/Observation-code",
                                        "type": "token",
                                        "documentation": "The question's code: system|code or code",
                                    },
                                ],
                            },
                        ],
                    }
                ],
            }
        },
    ),
    "listReferralHandoffs": OperationExamples(
        responses={
            200: {
                "total": 1,
                "items": [
                    {
                        "response_id": "629bb0e8-fcb2-4771-bab0-4bf41620ba96",
                        "state": "pending",
                        "attempts": 0,
                        "created_at": "2026-11-22T15:43:11.484Z",
                        "next_attempt_at": "2026-11-22T15:43:11.484Z",
                        "referral_accepted": False,
                        "referral_closed": False,
                    }
                ],
            }
        },
    ),
    "readReferralHandoff": OperationExamples(
        responses={
            200: {
                "response_id": "629bb0e8-fcb2-4771-bab0-4bf41620ba96",
                "state": "pending",
                "attempts": 1,
                "created_at": "2026-11-22T15:43:11.484Z",
                "next_attempt_at": "2026-11-22T15:44:11.577Z",
                "last_attempt_at": "2026-11-22T15:43:11.577Z",
                "referral_accepted": False,
                "referral_closed": False,
            }
        },
    ),
    "screeningReport": OperationExamples(
        responses={
            200: {
                "report": "screening",
                "filters": {
                    "from": None,
                    "to": None,
                    "clinic": [],
                    "pathway": [],
                    "questionnaire": [],
                },
                "disclosure": "controlled",
                "notes": [
                    "Counts of 1 to 7 are suppressed (null, named in the row's `suppressed`) and "
                    "other counts rounded to the nearest 5; totals are computed from the true "
                    "figures and then rounded; percentages are computed from the rounded counts "
                    "and withheld when either count is suppressed."
                ],
                "groups": [
                    {
                        "month": "2026-11",
                        "clinic": "R1H12",
                        "pathway": "cardiology-outpatient",
                        "invited": None,
                        "completed": None,
                        "positive": None,
                        "wants_help": None,
                        "declined_help": 0,
                        "referred": 0,
                        "referral_pending": None,
                        "referral_accepted": 0,
                        "referral_closed": 0,
                        "positive_by_domain": {
                            "financial-insecurity": None,
                            "food-insecurity": None,
                        },
                        "positive_rate": None,
                        "wants_help_rate": None,
                        "referred_rate": None,
                        "suppressed": ["invited", "completed", "positive"],
                    }
                ],
                "total": {
                    "invited": None,
                    "completed": None,
                    "positive": None,
                    "wants_help": None,
                    "declined_help": 0,
                    "referred": 0,
                    "referral_pending": None,
                    "referral_accepted": 0,
                    "referral_closed": 0,
                    "positive_by_domain": {"financial-insecurity": None, "food-insecurity": None},
                    "positive_rate": None,
                    "wants_help_rate": None,
                    "referred_rate": None,
                    "suppressed": ["invited", "completed", "positive"],
                },
                "items": [
                    {
                        "questionnaire": "https://signpost.nhs.example/Questionnaire/barts-social-welfare-screening",
                        "version": "2023.1",
                        "link_id": "1",
                        "answered": None,
                        "declined_to_answer": 0,
                        "declined_to_answer_rate": None,
                        "suppressed": ["answered"],
                    }
                ],
            }
        },
    ),
    "listAuditEvents": OperationExamples(
        responses={
            200: {
                "events": [
                    {
                        "id": 6,
                        "occurred_at": "2026-11-22T15:43:11.561408+00:00",
                        "subject": "dev-user",
                        "client_id": "signpost-dev-client",
                        "action": "read",
                        "resource_type": "Observation",
                        "resource_id": "22cc5a1e-f73b-4419-b6a0-15fcf9b42b4c",
                        "correlation_id": "a8b0d369-b492-4081-a316-f733af4f2793",
                    }
                ]
            }
        },
    ),
}

# Repeating a submission with the same identifier answers 200 with the stored response.
_created = EXAMPLES["createQuestionnaireResponse"]
EXAMPLES["createQuestionnaireResponse"] = replace(
    _created, responses={**_created.responses, 200: _created.responses[201]}
)
