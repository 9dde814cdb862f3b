"""Synthetic examples for directory-api's OpenAPI document, keyed by operationId.

Every organisation, service, location and address here is invented (`.example` domains, the
synthetic London sample). The curation bodies are documented with the models the routes validate
them with, since those routes read their own bodies.
"""

from dataclasses import replace

from directory_api.locations.schemas import LocationIn
from directory_api.organizations.schemas import OrganizationIn
from directory_api.services.schemas import AssuranceIn, ServiceIn
from directory_api.taxonomy.schemas import TaxonomyIn, TaxonomyTermIn
from signpost_platform.openapi_docs import OperationExamples

IMPORT_SCHEMA = {
    "type": "array",
    "description": "Services as `GET /services/{id}` serves them (or one per line as NDJSON)",
    "items": {"type": "object"},
}

# One service through its life (created, updated, assured), shared by the curation examples.
_SERVICE_IN = {
    "id": "c5d6e7f8-9a0b-4c1d-8e2f-3a4b5c6d7e8f",
    "organization_id": "8a3f2b9e-1c4d-4e5f-9a6b-7c8d9e0f1a2b",
    "name": "Forest Gate money advice",
    "description": "Free help with debts and benefits.",
    "status": "active",
    "email": "money@forestgate-trust.org.example",
    "minimum_age": 18,
    "assured_date": "2026-10-01",
    "accepts_self_referral": True,
    "phones": [{"number": "020 7946 0123"}],
    "languages": [{"name": "English", "code": "en"}],
    "schedules": [{"freq": "WEEKLY", "byday": "MO,TH", "opens_at": "09:30", "closes_at": "13:00"}],
    "service_areas": [
        {
            "name": "Newham",
            "uri": "http://statistics.data.gov.uk/id/statistical-geography/E09000025",
        }
    ],
    "service_at_locations": [{"location_id": "3b7e9d21-5a6c-4f80-b1d2-e3f4a5b6c7d8"}],
    "attributes": [{"taxonomy_term_id": "f9945d5c-1ce1-57d4-92aa-049c5f2dad3b"}],
}
_UPDATED_DESCRIPTION = "Free help with debts, benefits and energy bills."
_STORED_SERVICE = {
    "id": "c5d6e7f8-9a0b-4c1d-8e2f-3a4b5c6d7e8f",
    "organization_id": "8a3f2b9e-1c4d-4e5f-9a6b-7c8d9e0f1a2b",
    "name": "Forest Gate money advice",
    "description": "Free help with debts and benefits.",
    "email": "money@forestgate-trust.org.example",
    "status": "active",
    "minimum_age": 18,
    "assured_date": "2026-10-01",
    "accepts_self_referral": True,
    "last_modified": "2026-11-22T15:40:59.214Z",
    "phones": [
        {
            "number": "020 7946 0123",
            "id": "d60115d0-ad21-5c93-ba8a-7aa6e245b873",
            "service_id": "c5d6e7f8-9a0b-4c1d-8e2f-3a4b5c6d7e8f",
        }
    ],
    "schedules": [
        {
            "freq": "WEEKLY",
            "byday": "MO,TH",
            "opens_at": "09:30",
            "closes_at": "13:00",
            "id": "4d79833c-8d25-5ceb-b715-a8b34b32ccf1",
            "service_id": "c5d6e7f8-9a0b-4c1d-8e2f-3a4b5c6d7e8f",
        }
    ],
    "service_areas": [
        {
            "name": "Newham",
            "uri": "http://statistics.data.gov.uk/id/statistical-geography/E09000025",
            "id": "acf75cc5-d3a9-57ad-9c34-fa13d407aa16",
            "service_id": "c5d6e7f8-9a0b-4c1d-8e2f-3a4b5c6d7e8f",
        }
    ],
    "languages": [
        {
            "name": "English",
            "code": "en",
            "id": "aac28c5c-6ec1-5c53-afb0-316c44508474",
            "service_id": "c5d6e7f8-9a0b-4c1d-8e2f-3a4b5c6d7e8f",
        }
    ],
    "service_at_locations": [
        {
            "id": "fcc68530-44b6-51d7-b537-b8cb794a2025",
            "service_id": "c5d6e7f8-9a0b-4c1d-8e2f-3a4b5c6d7e8f",
            "location_id": "3b7e9d21-5a6c-4f80-b1d2-e3f4a5b6c7d8",
            "location": {
                "id": "3b7e9d21-5a6c-4f80-b1d2-e3f4a5b6c7d8",
                "location_type": "physical",
                "name": "Forest Gate community centre (main hall)",
                "addresses": [
                    {
                        "id": "149ec7d3-426c-451b-987e-07592ed7a723",
                        "address_1": "10 Woodgrange Road",
                        "city": "London",
                        "state_province": "Greater London",
                        "postal_code": "E7 9NJ",
                        "country": "GB",
                        "address_type": "physical",
                        "location_id": "3b7e9d21-5a6c-4f80-b1d2-e3f4a5b6c7d8",
                    }
                ],
                "latitude": 51.5478,
                "longitude": 0.027,
            },
        }
    ],
    "attributes": [
        {
            "id": "fcddde48-9861-5ff4-a992-64579dfb674b",
            "link_id": "c5d6e7f8-9a0b-4c1d-8e2f-3a4b5c6d7e8f",
            "link_type": "service_type",
            "link_entity": "service",
            "taxonomy_term_id": "f9945d5c-1ce1-57d4-92aa-049c5f2dad3b",
            "taxonomy_term": {
                "id": "f9945d5c-1ce1-57d4-92aa-049c5f2dad3b",
                "name": "Debt advice",
                "description": "Debt and money-management advice",
                "code": "debt-advice",
                "parent_id": "3417efb5-c66b-5d1c-a691-49fe9a66edc3",
                "taxonomy": "Signpost service types",
                "taxonomy_id": "833b9b1f-0f8f-52b9-b187-110071f68177",
                "term_uri": "https://signpost.nhs.example/CodeSystem/support-offered/debt-advice",
                "term": "Debt advice",
            },
        }
    ],
    "organization": {
        "id": "8a3f2b9e-1c4d-4e5f-9a6b-7c8d9e0f1a2b",
        "name": "Forest Gate Community Trust (synthetic)",
        "description": "Community centre, advice and a food bank in Forest Gate.",
        "email": "info@forestgate-trust.org.example",
        "website": "https://forestgate-trust.org.example",
    },
}
_UPDATED_SERVICE = {
    **_STORED_SERVICE,
    "description": _UPDATED_DESCRIPTION,
    "last_modified": "2026-11-22T15:40:59.276Z",
}
_ASSURED_SERVICE = {
    **_UPDATED_SERVICE,
    "assured_date": "2026-11-01",
    "assurer_email": "curator@newham-directory.example",
    "last_modified": "2026-11-22T15:40:59.324Z",
}

EXAMPLES: dict[str, OperationExamples] = {
    "getAPIMetaInformation": OperationExamples(
        responses={
            200: {
                "version": "HSDS-UK-3.0",
                "profile": "https://github.com/OpenReferralUK/uk-profile/blob/main/docs/index.md",
                "openapi_url": "https://directory.signpost.nhs.example/openapi.json",
            }
        },
    ),
    "getPaginatedListOfServices": OperationExamples(
        responses={
            200: {
                "total_items": 19,
                "total_pages": 19,
                "page_number": 1,
                "size": 1,
                "first_page": True,
                "last_page": False,
                "empty": False,
                "contents": [
                    {
                        "id": "40616a8f-097f-5675-993c-ef8086c78c09",
                        "organization_id": "8df55431-deee-5757-a005-c9434d8257f7",
                        "name": "Arts on prescription",
                        "description": "Eight-week creative course for people with low mood or "
                        "anxiety: painting, printmaking and pottery.",
                        "status": "temporarily closed",
                        "minimum_age": 18,
                        "assured_date": "2026-03-03",
                        "assurer_email": "directory.team@newham.gov.example",
                        "alert": "Closed for refurbishment until January; referrals still "
                        "accepted.",
                        "accepts_self_referral": True,
                        "last_modified": "2026-11-22T15:40:58.380Z",
                        "organization": {
                            "id": "8df55431-deee-5757-a005-c9434d8257f7",
                            "name": "Camden Creative Wellbeing (synthetic)",
                            "description": "Arts on prescription and creative groups.",
                            "website": "https://camden-creative.org.example",
                        },
                    }
                ],
            }
        },
    ),
    "getFullyNestedServiceById": OperationExamples(
        responses={
            200: {
                "id": "40616a8f-097f-5675-993c-ef8086c78c09",
                "organization_id": "8df55431-deee-5757-a005-c9434d8257f7",
                "name": "Arts on prescription",
                "description": "Eight-week creative course for people with low mood or anxiety: "
                "painting, printmaking and pottery.",
                "status": "temporarily closed",
                "minimum_age": 18,
                "assured_date": "2026-03-03",
                "assurer_email": "directory.team@newham.gov.example",
                "alert": "Closed for refurbishment until January; referrals still accepted.",
                "accepts_self_referral": True,
                "last_modified": "2026-11-22T15:40:58.380Z",
                "schedules": [
                    {
                        "freq": "WEEKLY",
                        "byday": "WE",
                        "opens_at": "14:00",
                        "closes_at": "16:00",
                        "attending_type": "in person",
                        "id": "2da02403-660f-5f64-8064-281727b0f373",
                        "service_id": "40616a8f-097f-5675-993c-ef8086c78c09",
                    }
                ],
                "service_areas": [
                    {
                        "name": "Camden",
                        "uri": "http://statistics.data.gov.uk/id/statistical-geography/E09000007",
                        "service_area": "Camden",
                        "id": "6f764ff9-1da4-57ed-bfc1-61fcf31bb774",
                        "service_id": "40616a8f-097f-5675-993c-ef8086c78c09",
                    }
                ],
                "service_at_locations": [
                    {
                        "id": "f317815f-7752-5265-8803-ea8a1e9c676d",
                        "service_id": "40616a8f-097f-5675-993c-ef8086c78c09",
                        "location_id": "13865ff4-648b-5c31-8736-b33b6d35af9e",
                        "location": {
                            "id": "13865ff4-648b-5c31-8736-b33b6d35af9e",
                            "location_type": "physical",
                            "name": "Euston creative studio",
                            "addresses": [
                                {
                                    "id": "ebd9112d-176b-511a-b5be-4b01ef7a08bc",
                                    "address_1": "12 Eversholt Street",
                                    "city": "London",
                                    "state_province": "Greater London",
                                    "postal_code": "NW1 2DB",
                                    "country": "GB",
                                    "address_type": "physical",
                                    "location_id": "13865ff4-648b-5c31-8736-b33b6d35af9e",
                                }
                            ],
                            "latitude": 51.529,
                            "longitude": -0.132,
                        },
                    }
                ],
                "attributes": [
                    {
                        "id": "e5a3a30b-76a7-5592-b129-750524f8d4f6",
                        "link_id": "40616a8f-097f-5675-993c-ef8086c78c09",
                        "link_type": "service_type",
                        "link_entity": "service",
                        "taxonomy_term_id": "bc5c2682-14b7-50ff-a970-2d2904c6376d",
                        "taxonomy_term": {
                            "id": "bc5c2682-14b7-50ff-a970-2d2904c6376d",
                            "name": "Arts and creative activities",
                            "description": "Arts on prescription, music, crafts, creative groups",
                            "code": "arts-creative",
                            "parent_id": "c8968a99-0811-5e31-9ed7-950e74aff4e1",
                            "taxonomy": "Signpost service types",
                            "taxonomy_id": "833b9b1f-0f8f-52b9-b187-110071f68177",
                            "term_uri": "https://signpost.nhs.example/CodeSystem/support-offered/arts-creative",
                            "term": "Arts and creative activities",
                        },
                    }
                ],
                "organization": {
                    "id": "8df55431-deee-5757-a005-c9434d8257f7",
                    "name": "Camden Creative Wellbeing (synthetic)",
                    "description": "Arts on prescription and creative groups.",
                    "website": "https://camden-creative.org.example",
                },
            }
        },
    ),
    "getPaginatedListOfServiceAtLocation": OperationExamples(
        responses={
            200: {
                "total_items": 20,
                "total_pages": 20,
                "page_number": 1,
                "size": 1,
                "first_page": True,
                "last_page": False,
                "empty": False,
                "contents": [
                    {
                        "id": "f317815f-7752-5265-8803-ea8a1e9c676d",
                        "service_id": "40616a8f-097f-5675-993c-ef8086c78c09",
                        "location_id": "13865ff4-648b-5c31-8736-b33b6d35af9e",
                        "location": {
                            "id": "13865ff4-648b-5c31-8736-b33b6d35af9e",
                            "location_type": "physical",
                            "name": "Euston creative studio",
                            "addresses": [
                                {
                                    "id": "ebd9112d-176b-511a-b5be-4b01ef7a08bc",
                                    "address_1": "12 Eversholt Street",
                                    "city": "London",
                                    "state_province": "Greater London",
                                    "postal_code": "NW1 2DB",
                                    "country": "GB",
                                    "address_type": "physical",
                                    "location_id": "13865ff4-648b-5c31-8736-b33b6d35af9e",
                                }
                            ],
                            "latitude": 51.529,
                            "longitude": -0.132,
                        },
                        "service": {
                            "id": "40616a8f-097f-5675-993c-ef8086c78c09",
                            "organization_id": "8df55431-deee-5757-a005-c9434d8257f7",
                            "name": "Arts on prescription",
                            "description": "Eight-week creative course for people with "
                            "low mood or anxiety: painting, printmaking "
                            "and pottery.",
                            "status": "temporarily closed",
                            "minimum_age": 18,
                            "assured_date": "2026-03-03",
                            "assurer_email": "directory.team@newham.gov.example",
                            "alert": "Closed for refurbishment until January; referrals "
                            "still accepted.",
                            "accepts_self_referral": True,
                            "last_modified": "2026-11-22T15:40:58.380Z",
                            "organization": {
                                "id": "8df55431-deee-5757-a005-c9434d8257f7",
                                "name": "Camden Creative Wellbeing (synthetic)",
                                "description": "Arts on prescription and creative groups.",
                                "website": "https://camden-creative.org.example",
                            },
                        },
                    }
                ],
            }
        },
    ),
    "getServiceAtLocationWithNestedDataById": OperationExamples(
        responses={
            200: {
                "id": "f317815f-7752-5265-8803-ea8a1e9c676d",
                "service_id": "40616a8f-097f-5675-993c-ef8086c78c09",
                "location_id": "13865ff4-648b-5c31-8736-b33b6d35af9e",
                "location": {
                    "id": "13865ff4-648b-5c31-8736-b33b6d35af9e",
                    "location_type": "physical",
                    "name": "Euston creative studio",
                    "addresses": [
                        {
                            "id": "ebd9112d-176b-511a-b5be-4b01ef7a08bc",
                            "address_1": "12 Eversholt Street",
                            "city": "London",
                            "state_province": "Greater London",
                            "postal_code": "NW1 2DB",
                            "country": "GB",
                            "address_type": "physical",
                            "location_id": "13865ff4-648b-5c31-8736-b33b6d35af9e",
                        }
                    ],
                    "latitude": 51.529,
                    "longitude": -0.132,
                },
                "service": {
                    "id": "40616a8f-097f-5675-993c-ef8086c78c09",
                    "organization_id": "8df55431-deee-5757-a005-c9434d8257f7",
                    "name": "Arts on prescription",
                    "description": "Eight-week creative course for people with low mood or "
                    "anxiety: painting, printmaking and pottery.",
                    "status": "temporarily closed",
                    "minimum_age": 18,
                    "assured_date": "2026-03-03",
                    "assurer_email": "directory.team@newham.gov.example",
                    "alert": "Closed for refurbishment until January; referrals still accepted.",
                    "accepts_self_referral": True,
                    "last_modified": "2026-11-22T15:40:58.380Z",
                    "schedules": [
                        {
                            "freq": "WEEKLY",
                            "byday": "WE",
                            "opens_at": "14:00",
                            "closes_at": "16:00",
                            "attending_type": "in person",
                            "id": "2da02403-660f-5f64-8064-281727b0f373",
                            "service_id": "40616a8f-097f-5675-993c-ef8086c78c09",
                        }
                    ],
                    "service_areas": [
                        {
                            "name": "Camden",
                            "uri": "http://statistics.data.gov.uk/id/statistical-geography/E09000007",
                            "service_area": "Camden",
                            "id": "6f764ff9-1da4-57ed-bfc1-61fcf31bb774",
                            "service_id": "40616a8f-097f-5675-993c-ef8086c78c09",
                        }
                    ],
                    "attributes": [
                        {
                            "id": "e5a3a30b-76a7-5592-b129-750524f8d4f6",
                            "link_id": "40616a8f-097f-5675-993c-ef8086c78c09",
                            "link_type": "service_type",
                            "link_entity": "service",
                            "taxonomy_term_id": "bc5c2682-14b7-50ff-a970-2d2904c6376d",
                            "taxonomy_term": {
                                "id": "bc5c2682-14b7-50ff-a970-2d2904c6376d",
                                "name": "Arts and creative activities",
                                "description": "Arts on prescription, "
                                "music, crafts, creative "
                                "groups",
                                "code": "arts-creative",
                                "parent_id": "c8968a99-0811-5e31-9ed7-950e74aff4e1",
                                "taxonomy": "Signpost service types",
                                "taxonomy_id": "833b9b1f-0f8f-52b9-b187-110071f68177",
                                "term_uri": "https://signpost.nhs.example/CodeSystem/support-offered/arts-creative",
                                "term": "Arts and creative activities",
                            },
                        }
                    ],
                    "organization": {
                        "id": "8df55431-deee-5757-a005-c9434d8257f7",
                        "name": "Camden Creative Wellbeing (synthetic)",
                        "description": "Arts on prescription and creative groups.",
                        "website": "https://camden-creative.org.example",
                    },
                },
            }
        },
    ),
    "getPaginatedListOfOrganizations": OperationExamples(
        responses={
            200: {
                "total_items": 15,
                "total_pages": 15,
                "page_number": 1,
                "size": 1,
                "first_page": True,
                "last_page": False,
                "empty": False,
                "contents": [
                    {
                        "id": "c30f6482-c571-5335-ac2a-fe28cb1beb61",
                        "name": "Barking and Dagenham Work and Skills (synthetic)",
                        "description": "Employment and skills support run by the council.",
                        "website": "https://bd-work.gov.example",
                    }
                ],
            }
        },
    ),
    "getOrganizationById": OperationExamples(
        responses={
            200: {
                "id": "c30f6482-c571-5335-ac2a-fe28cb1beb61",
                "name": "Barking and Dagenham Work and Skills (synthetic)",
                "description": "Employment and skills support run by the council.",
                "website": "https://bd-work.gov.example",
                "services": [
                    {
                        "id": "cda380ca-a394-5c49-a751-0ac7226f951f",
                        "organization_id": "c30f6482-c571-5335-ac2a-fe28cb1beb61",
                        "name": "Job club and CV help",
                        "description": "Weekly job club with CV writing, interview practice and "
                        "help applying online.",
                        "status": "active",
                        "minimum_age": 16,
                        "maximum_age": 64,
                        "assured_date": "2026-05-18",
                        "assurer_email": "directory.team@newham.gov.example",
                        "accepts_self_referral": True,
                        "last_modified": "2026-11-22T15:40:58.108Z",
                        "organization": {
                            "id": "c30f6482-c571-5335-ac2a-fe28cb1beb61",
                            "name": "Barking and Dagenham Work and Skills (synthetic)",
                            "description": "Employment and skills support run by the council.",
                            "website": "https://bd-work.gov.example",
                        },
                    }
                ],
            }
        },
    ),
    "getPaginatedListOfTaxonomies": OperationExamples(
        responses={
            200: {
                "total_items": 3,
                "total_pages": 3,
                "page_number": 1,
                "size": 1,
                "first_page": True,
                "last_page": False,
                "empty": False,
                "contents": [
                    {
                        "id": "68c0c7f2-cc5a-58ae-a02b-cf1a5bdcd1d9",
                        "name": "Personalised-care roles",
                        "description": "The six personalised-care roles.",
                        "uri": "https://signpost.nhs.example/CodeSystem/personalised-care-role",
                    }
                ],
            }
        },
    ),
    "getTaxonomyById": OperationExamples(
        responses={
            200: {
                "id": "68c0c7f2-cc5a-58ae-a02b-cf1a5bdcd1d9",
                "name": "Personalised-care roles",
                "description": "The six personalised-care roles.",
                "uri": "https://signpost.nhs.example/CodeSystem/personalised-care-role",
                "taxonomy_terms": [
                    {
                        "id": "62e805ab-beae-54ca-b8e8-1f359cbd49d3",
                        "name": "Care coordinator",
                        "description": "Does: coordinates care and personalised care and "
                        "support planning for people the practice "
                        "identifies, about 5 new cases a week",
                        "code": "care-coordinator",
                        "taxonomy": "Personalised-care roles",
                        "taxonomy_id": "68c0c7f2-cc5a-58ae-a02b-cf1a5bdcd1d9",
                        "term_uri": "https://signpost.nhs.example/CodeSystem/personalised-care-role/care-coordinator",
                        "term": "Care coordinator",
                    }
                ],
            }
        },
    ),
    "getPaginatedListOfTaxonomyTerms": OperationExamples(
        responses={
            200: {
                "total_items": 82,
                "total_pages": 82,
                "page_number": 1,
                "size": 1,
                "first_page": True,
                "last_page": False,
                "empty": False,
                "contents": [
                    {
                        "id": "c8e5b106-5ba8-5957-b816-453d29f98041",
                        "name": "Adult social care",
                        "description": "Referral to council adult social care (e.g",
                        "code": "adult-social-care",
                        "parent_id": "7bc96d73-5d68-556b-9acf-e6d226eb303b",
                        "taxonomy": "Signpost service types",
                        "taxonomy_id": "833b9b1f-0f8f-52b9-b187-110071f68177",
                        "term_uri": "https://signpost.nhs.example/CodeSystem/support-offered/adult-social-care",
                        "term": "Adult social care",
                    }
                ],
            }
        },
    ),
    "getTaxonomyTermById": OperationExamples(
        responses={
            200: {
                "id": "c8e5b106-5ba8-5957-b816-453d29f98041",
                "name": "Adult social care",
                "description": "Referral to council adult social care (e.g",
                "code": "adult-social-care",
                "parent_id": "7bc96d73-5d68-556b-9acf-e6d226eb303b",
                "taxonomy": "Signpost service types",
                "taxonomy_id": "833b9b1f-0f8f-52b9-b187-110071f68177",
                "term_uri": "https://signpost.nhs.example/CodeSystem/support-offered/adult-social-care",
                "term": "Adult social care",
            }
        },
    ),
    "getChanges": OperationExamples(
        responses={
            200: {
                "next": "https://directory.signpost.nhs.example/changes?afterChangeNumber=1&limit=1",
                "items": [
                    {
                        "id": "97add23e-9446-5e95-b2ff-b310e023602d",
                        "kind": "taxonomy",
                        "state": "updated",
                        "modified": 1,
                        "changed_at": "2026-11-22T15:40:55.168Z",
                        "data": {
                            "id": "97add23e-9446-5e95-b2ff-b310e023602d",
                            "name": "Signpost needs",
                            "description": "Needs and concerns a person is referred for (the "
                            "referral-reasons code list), grouped in the buckets "
                            "shared with service types.",
                            "uri": "https://signpost.nhs.example/ValueSet/referral-reasons",
                        },
                    }
                ],
            }
        },
    ),
    "unassuredServices": OperationExamples(
        responses={
            200: {
                "months": 3,
                "assured_before": "2026-08-22",
                "total": 14,
                "services": [
                    {"id": "9448dcb5-8e13-5ee5-bb04-b3f30f38283c", "name": "Care coordinator"}
                ],
            }
        },
    ),
    "directoryCapabilities": OperationExamples(
        responses={
            200: {
                "resourceType": "CapabilityStatement",
                "status": "active",
                "date": "2026-11-22",
                "publisher": "Signpost",
                "kind": "instance",
                "software": {"name": "Signpost directory-api", "version": "0.1.0"},
                "implementation": {
                    "description": "Signpost directory-api",
                    "url": "https://directory.signpost.nhs.example/fhir",
                },
                "fhirVersion": "4.0.1",
                "format": ["application/fhir+json"],
                "rest": [
                    {
                        "mode": "server",
                        "documentation": "A read-only FHIR view of the Signpost directory (Open "
                        "Referral UK at the service root). Also _count and _offset. "
                        "Every error is an OperationOutcome.",
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
                            "cors": True,
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
                            "signpost-directory-api, with the scope each operation names. "
                            "Obtain them at https://auth.signpost.nhs.example/oauth2/token with "
                            "the client credentials grant (SMART Backend Services; client "
                            "authentication private_key_jwt). The SMART configuration (token "
                            "endpoint, grant, scopes) is at https://directory.signpost.nhs.example"
                            "/fhir/.well-known/smart-configuration.",
                        },
                        "resource": [
                            {
                                "type": "HealthcareService",
                                "profile": "https://fhir.hl7.org.uk/StructureDefinition/UKCore-HealthcareService",
                                "interaction": [{"code": "read"}],
                                "versioning": "no-version",
                                "readHistory": False,
                                "updateCreate": False,
                                "conditionalCreate": False,
                                "conditionalUpdate": False,
                                "searchParam": [
                                    {
                                        "name": "service-type",
                                        "definition": "http://hl7.org/fhir/SearchParameter/HealthcareService-service-type",
                                        "type": "token",
                                        "documentation": "A service type: system|code "
                                        "(system = the taxonomy uri) "
                                        "or a code; child terms "
                                        "included; comma-separated "
                                        "values OR",
                                    }
                                ],
                            }
                        ],
                    }
                ],
            }
        },
    ),
    "searchHealthcareService": OperationExamples(
        responses={
            200: {
                "resourceType": "Bundle",
                "type": "searchset",
                "total": 19,
                "link": [
                    {
                        "relation": "self",
                        "url": "https://directory.signpost.nhs.example/fhir/HealthcareService?_count=1&_offset=0",
                    }
                ],
                "entry": [
                    {
                        "fullUrl": "https://directory.signpost.nhs.example/fhir/HealthcareService/40616a8f-097f-5675-993c-ef8086c78c09",
                        "resource": {
                            "resourceType": "HealthcareService",
                            "id": "40616a8f-097f-5675-993c-ef8086c78c09",
                            "meta": {
                                "lastUpdated": "2026-11-22T15:40:58.380Z",
                                "profile": [
                                    "https://fhir.hl7.org.uk/StructureDefinition/UKCore-HealthcareService"
                                ],
                            },
                            "extension": [
                                {
                                    "url": "https://signpost.nhs.example/StructureDefinition/directory-assured-date",
                                    "valueDate": "2026-03-03",
                                }
                            ],
                            "identifier": [
                                {
                                    "system": "https://signpost.nhs.example/Id/directory-service",
                                    "value": "40616a8f-097f-5675-993c-ef8086c78c09",
                                }
                            ],
                            "active": True,
                            "providedBy": {
                                "reference": "Organization/8df55431-deee-5757-a005-c9434d8257f7",
                                "display": "Camden Creative Wellbeing (synthetic)",
                            },
                            "type": [
                                {
                                    "coding": [
                                        {
                                            "system": "https://signpost.nhs.example/CodeSystem/support-offered",
                                            "code": "arts-creative",
                                            "display": "Arts and creative activities",
                                        }
                                    ],
                                    "text": "Arts and creative activities",
                                }
                            ],
                            "location": [
                                {"reference": "Location/13865ff4-648b-5c31-8736-b33b6d35af9e"}
                            ],
                            "name": "Arts on prescription",
                            "comment": "Eight-week creative course for people with low mood "
                            "or anxiety: painting, printmaking and pottery.",
                            "extraDetails": "Eight-week creative course for people with low "
                            "mood or anxiety: painting, printmaking and "
                            "pottery.",
                            "coverageArea": [{"display": "Camden"}],
                            "serviceProvisionCode": [
                                {
                                    "coding": [
                                        {
                                            "system": "http://terminology.hl7.org/CodeSystem/service-provision-conditions",
                                            "code": "free",
                                        }
                                    ]
                                }
                            ],
                            "eligibility": [{"comment": "Ages 18 and over."}],
                            "availableTime": [
                                {
                                    "daysOfWeek": ["wed"],
                                    "availableStartTime": "14:00:00",
                                    "availableEndTime": "16:00:00",
                                }
                            ],
                            "notAvailable": [
                                {
                                    "description": "Closed for refurbishment "
                                    "until January; referrals "
                                    "still accepted."
                                }
                            ],
                        },
                        "search": {"mode": "match"},
                    }
                ],
            }
        },
    ),
    "readHealthcareService": OperationExamples(
        responses={
            200: {
                "resourceType": "HealthcareService",
                "id": "40616a8f-097f-5675-993c-ef8086c78c09",
                "meta": {
                    "lastUpdated": "2026-11-22T15:40:58.380Z",
                    "profile": [
                        "https://fhir.hl7.org.uk/StructureDefinition/UKCore-HealthcareService"
                    ],
                },
                "extension": [
                    {
                        "url": "https://signpost.nhs.example/StructureDefinition/directory-assured-date",
                        "valueDate": "2026-03-03",
                    }
                ],
                "identifier": [
                    {
                        "system": "https://signpost.nhs.example/Id/directory-service",
                        "value": "40616a8f-097f-5675-993c-ef8086c78c09",
                    }
                ],
                "active": True,
                "providedBy": {
                    "reference": "Organization/8df55431-deee-5757-a005-c9434d8257f7",
                    "display": "Camden Creative Wellbeing (synthetic)",
                },
                "type": [
                    {
                        "coding": [
                            {
                                "system": "https://signpost.nhs.example/CodeSystem/support-offered",
                                "code": "arts-creative",
                                "display": "Arts and creative activities",
                            }
                        ],
                        "text": "Arts and creative activities",
                    }
                ],
                "location": [{"reference": "Location/13865ff4-648b-5c31-8736-b33b6d35af9e"}],
                "name": "Arts on prescription",
                "comment": "Eight-week creative course for people with low mood or anxiety: "
                "painting, "
                "printmaking and pottery.",
                "extraDetails": "Eight-week creative course for people with low mood or anxiety: "
                "painting, printmaking and pottery.",
                "coverageArea": [{"display": "Camden"}],
                "serviceProvisionCode": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/service-provision-conditions",
                                "code": "free",
                            }
                        ]
                    }
                ],
                "eligibility": [{"comment": "Ages 18 and over."}],
                "availableTime": [
                    {
                        "daysOfWeek": ["wed"],
                        "availableStartTime": "14:00:00",
                        "availableEndTime": "16:00:00",
                    }
                ],
                "notAvailable": [
                    {
                        "description": "Closed for refurbishment until January; referrals "
                        "still accepted."
                    }
                ],
            }
        },
    ),
    "searchLocation": OperationExamples(
        responses={
            200: {
                "resourceType": "Bundle",
                "type": "searchset",
                "total": 18,
                "link": [
                    {
                        "relation": "self",
                        "url": "https://directory.signpost.nhs.example/fhir/Location?_count=1&_offset=0",
                    }
                ],
                "entry": [
                    {
                        "fullUrl": "https://directory.signpost.nhs.example/fhir/Location/9e45273b-949a-5f52-8d23-95ae8fd1b8eb",
                        "resource": {
                            "resourceType": "Location",
                            "id": "9e45273b-949a-5f52-8d23-95ae8fd1b8eb",
                            "meta": {
                                "lastUpdated": "2026-11-22T15:40:58.094Z",
                                "profile": [
                                    "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Location"
                                ],
                            },
                            "identifier": [
                                {
                                    "system": "https://signpost.nhs.example/Id/directory-location",
                                    "value": "9e45273b-949a-5f52-8d23-95ae8fd1b8eb",
                                }
                            ],
                            "status": "active",
                            "name": "Barking learning centre",
                            "mode": "instance",
                            "address": {
                                "use": "work",
                                "type": "physical",
                                "line": ["2 Axe Street"],
                                "city": "London",
                                "district": "Greater London",
                                "postalCode": "IG11 7PB",
                                "country": "GB",
                            },
                            "physicalType": {
                                "coding": [
                                    {
                                        "system": "http://terminology.hl7.org/CodeSystem/location-physical-type",
                                        "code": "bu",
                                        "display": "Building",
                                    }
                                ]
                            },
                            "position": {"latitude": 51.539, "longitude": 0.081},
                        },
                        "search": {"mode": "match"},
                    }
                ],
            }
        },
    ),
    "readLocation": OperationExamples(
        responses={
            200: {
                "resourceType": "Location",
                "id": "9e45273b-949a-5f52-8d23-95ae8fd1b8eb",
                "meta": {
                    "lastUpdated": "2026-11-22T15:40:58.094Z",
                    "profile": ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Location"],
                },
                "identifier": [
                    {
                        "system": "https://signpost.nhs.example/Id/directory-location",
                        "value": "9e45273b-949a-5f52-8d23-95ae8fd1b8eb",
                    }
                ],
                "status": "active",
                "name": "Barking learning centre",
                "mode": "instance",
                "address": {
                    "use": "work",
                    "type": "physical",
                    "line": ["2 Axe Street"],
                    "city": "London",
                    "district": "Greater London",
                    "postalCode": "IG11 7PB",
                    "country": "GB",
                },
                "physicalType": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/location-physical-type",
                            "code": "bu",
                            "display": "Building",
                        }
                    ]
                },
                "position": {"latitude": 51.539, "longitude": 0.081},
            }
        },
    ),
    "searchOrganization": OperationExamples(
        responses={
            200: {
                "resourceType": "Bundle",
                "type": "searchset",
                "total": 15,
                "link": [
                    {
                        "relation": "self",
                        "url": "https://directory.signpost.nhs.example/fhir/Organization?_count=1&_offset=0",
                    }
                ],
                "entry": [
                    {
                        "fullUrl": "https://directory.signpost.nhs.example/fhir/Organization/c30f6482-c571-5335-ac2a-fe28cb1beb61",
                        "resource": {
                            "resourceType": "Organization",
                            "id": "c30f6482-c571-5335-ac2a-fe28cb1beb61",
                            "meta": {
                                "lastUpdated": "2026-11-22T15:40:58.080Z",
                                "profile": [
                                    "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Organization"
                                ],
                            },
                            "identifier": [
                                {
                                    "system": "https://signpost.nhs.example/Id/directory-organization",
                                    "value": "c30f6482-c571-5335-ac2a-fe28cb1beb61",
                                }
                            ],
                            "active": True,
                            "name": "Barking and Dagenham Work and Skills (synthetic)",
                            "telecom": [
                                {
                                    "system": "url",
                                    "value": "https://bd-work.gov.example",
                                    "use": "work",
                                }
                            ],
                        },
                        "search": {"mode": "match"},
                    }
                ],
            }
        },
    ),
    "readOrganization": OperationExamples(
        responses={
            200: {
                "resourceType": "Organization",
                "id": "c30f6482-c571-5335-ac2a-fe28cb1beb61",
                "meta": {
                    "lastUpdated": "2026-11-22T15:40:58.080Z",
                    "profile": ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Organization"],
                },
                "identifier": [
                    {
                        "system": "https://signpost.nhs.example/Id/directory-organization",
                        "value": "c30f6482-c571-5335-ac2a-fe28cb1beb61",
                    }
                ],
                "active": True,
                "name": "Barking and Dagenham Work and Skills (synthetic)",
                "telecom": [
                    {"system": "url", "value": "https://bd-work.gov.example", "use": "work"}
                ],
            }
        },
    ),
    "createOrganization": OperationExamples(
        request={
            "id": "8a3f2b9e-1c4d-4e5f-9a6b-7c8d9e0f1a2b",
            "name": "Forest Gate Community Trust (synthetic)",
            "description": "Community centre and advice in Forest Gate.",
            "email": "info@forestgate-trust.org.example",
            "website": "https://forestgate-trust.org.example",
        },
        request_schema=OrganizationIn,
        responses={
            201: {
                "id": "8a3f2b9e-1c4d-4e5f-9a6b-7c8d9e0f1a2b",
                "name": "Forest Gate Community Trust (synthetic)",
                "description": "Community centre and advice in Forest Gate.",
                "email": "info@forestgate-trust.org.example",
                "website": "https://forestgate-trust.org.example",
            }
        },
    ),
    "updateOrganization": OperationExamples(
        request={
            "id": "8a3f2b9e-1c4d-4e5f-9a6b-7c8d9e0f1a2b",
            "name": "Forest Gate Community Trust (synthetic)",
            "description": "Community centre, advice and a food bank in Forest Gate.",
            "email": "info@forestgate-trust.org.example",
            "website": "https://forestgate-trust.org.example",
        },
        request_schema=OrganizationIn,
        responses={
            200: {
                "id": "8a3f2b9e-1c4d-4e5f-9a6b-7c8d9e0f1a2b",
                "name": "Forest Gate Community Trust (synthetic)",
                "description": "Community centre, advice and a food bank in Forest Gate.",
                "email": "info@forestgate-trust.org.example",
                "website": "https://forestgate-trust.org.example",
            }
        },
    ),
    "createLocation": OperationExamples(
        request={
            "id": "3b7e9d21-5a6c-4f80-b1d2-e3f4a5b6c7d8",
            "location_type": "physical",
            "name": "Forest Gate community centre",
            "addresses": [
                {
                    "address_1": "10 Woodgrange Road",
                    "city": "London",
                    "state_province": "Greater London",
                    "postal_code": "E7 9NJ",
                    "country": "GB",
                    "address_type": "physical",
                }
            ],
        },
        request_schema=LocationIn,
        responses={
            201: {
                "id": "3b7e9d21-5a6c-4f80-b1d2-e3f4a5b6c7d8",
                "location_type": "physical",
                "name": "Forest Gate community centre",
                "addresses": [
                    {
                        "id": "c0f543df-acd9-4f2c-9d92-9dd063925653",
                        "address_1": "10 Woodgrange Road",
                        "city": "London",
                        "state_province": "Greater London",
                        "postal_code": "E7 9NJ",
                        "country": "GB",
                        "address_type": "physical",
                        "location_id": "3b7e9d21-5a6c-4f80-b1d2-e3f4a5b6c7d8",
                    }
                ],
                "latitude": 51.5478,
                "longitude": 0.027,
            }
        },
    ),
    "getLocation": OperationExamples(
        responses={
            200: {
                "id": "3b7e9d21-5a6c-4f80-b1d2-e3f4a5b6c7d8",
                "location_type": "physical",
                "name": "Forest Gate community centre",
                "addresses": [
                    {
                        "id": "c0f543df-acd9-4f2c-9d92-9dd063925653",
                        "address_1": "10 Woodgrange Road",
                        "city": "London",
                        "state_province": "Greater London",
                        "postal_code": "E7 9NJ",
                        "country": "GB",
                        "address_type": "physical",
                        "location_id": "3b7e9d21-5a6c-4f80-b1d2-e3f4a5b6c7d8",
                    }
                ],
                "latitude": 51.5478,
                "longitude": 0.027,
            }
        },
    ),
    "updateLocation": OperationExamples(
        request={
            "id": "3b7e9d21-5a6c-4f80-b1d2-e3f4a5b6c7d8",
            "location_type": "physical",
            "name": "Forest Gate community centre (main hall)",
            "addresses": [
                {
                    "address_1": "10 Woodgrange Road",
                    "city": "London",
                    "state_province": "Greater London",
                    "postal_code": "E7 9NJ",
                    "country": "GB",
                    "address_type": "physical",
                }
            ],
        },
        request_schema=LocationIn,
        responses={
            200: {
                "id": "3b7e9d21-5a6c-4f80-b1d2-e3f4a5b6c7d8",
                "location_type": "physical",
                "name": "Forest Gate community centre (main hall)",
                "addresses": [
                    {
                        "id": "149ec7d3-426c-451b-987e-07592ed7a723",
                        "address_1": "10 Woodgrange Road",
                        "city": "London",
                        "state_province": "Greater London",
                        "postal_code": "E7 9NJ",
                        "country": "GB",
                        "address_type": "physical",
                        "location_id": "3b7e9d21-5a6c-4f80-b1d2-e3f4a5b6c7d8",
                    }
                ],
                "latitude": 51.5478,
                "longitude": 0.027,
            }
        },
    ),
    "createService": OperationExamples(
        request=_SERVICE_IN,
        request_schema=ServiceIn,
        responses={201: _STORED_SERVICE},
    ),
    "updateService": OperationExamples(
        request={**_SERVICE_IN, "description": _UPDATED_DESCRIPTION},
        request_schema=ServiceIn,
        responses={200: _UPDATED_SERVICE},
    ),
    "assureService": OperationExamples(
        request={"assurer_email": "curator@newham-directory.example", "assured_date": "2026-11-01"},
        request_schema=AssuranceIn,
        responses={200: _ASSURED_SERVICE},
    ),
    "createTaxonomy": OperationExamples(
        request={
            "id": "0f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f",
            "name": "Newham local needs",
            "description": "Local terms for Newham services",
            "uri": "https://newham-directory.example/taxonomy/local-needs",
            "version": "1",
        },
        request_schema=TaxonomyIn,
        responses={
            201: {
                "id": "0f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f",
                "name": "Newham local needs",
                "description": "Local terms for Newham services",
                "uri": "https://newham-directory.example/taxonomy/local-needs",
                "version": "1",
            }
        },
    ),
    "updateTaxonomy": OperationExamples(
        request={
            "id": "0f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f",
            "name": "Newham local needs",
            "description": "Local terms for Newham services",
            "uri": "https://newham-directory.example/taxonomy/local-needs",
            "version": "2",
        },
        request_schema=TaxonomyIn,
        responses={
            200: {
                "id": "0f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f",
                "name": "Newham local needs",
                "description": "Local terms for Newham services",
                "uri": "https://newham-directory.example/taxonomy/local-needs",
                "version": "2",
            }
        },
    ),
    "createTaxonomyTerm": OperationExamples(
        request={
            "id": "6e5d4c3b-2a19-4807-b6a5-948372615f4e",
            "name": "Warm spaces",
            "description": "Heated places open to the public in winter",
            "code": "warm-spaces",
            "taxonomy_id": "0f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f",
        },
        request_schema=TaxonomyTermIn,
        responses={
            201: {
                "id": "6e5d4c3b-2a19-4807-b6a5-948372615f4e",
                "name": "Warm spaces",
                "description": "Heated places open to the public in winter",
                "code": "warm-spaces",
                "taxonomy": "Newham local needs",
                "taxonomy_id": "0f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f",
                "term": "Warm spaces",
            }
        },
    ),
    "updateTaxonomyTerm": OperationExamples(
        request={
            "id": "6e5d4c3b-2a19-4807-b6a5-948372615f4e",
            "name": "Warm spaces",
            "description": "Heated places open to anyone in winter",
            "code": "warm-spaces",
            "taxonomy_id": "0f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f",
        },
        request_schema=TaxonomyTermIn,
        responses={
            200: {
                "id": "6e5d4c3b-2a19-4807-b6a5-948372615f4e",
                "name": "Warm spaces",
                "description": "Heated places open to anyone in winter",
                "code": "warm-spaces",
                "taxonomy": "Newham local needs",
                "taxonomy_id": "0f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f",
                "term": "Warm spaces",
            }
        },
    ),
    "retireTaxonomyTerm": OperationExamples(
        responses={
            200: {
                "id": "6e5d4c3b-2a19-4807-b6a5-948372615f4e",
                "name": "Warm spaces",
                "description": "Heated places open to anyone in winter",
                "code": "warm-spaces",
                "taxonomy": "Newham local needs",
                "taxonomy_id": "0f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f",
                "term": "Warm spaces",
            }
        },
    ),
    "importServices": OperationExamples(
        request=[
            {
                **_ASSURED_SERVICE,
                "id": "d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6",
                "name": "Forest Gate energy advice",
            }
        ],
        request_schema=IMPORT_SCHEMA,
        responses={
            201: {
                "id": "07b66baf-91f6-4731-9c71-779a5260d413",
                "status": "completed",
                "total_records": 1,
                "processed_records": 1,
                "imported_records": 0,
                "unchanged_records": 0,
                "failed_records": 1,
                "errors": [
                    {
                        "record": 1,
                        "id": "d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6",
                        "status": 409,
                        "field": "id",
                        "detail": "id fcc68530-44b6-51d7-b537-b8cb794a2025 (a service_at_location "
                        "or attribute) belongs to another service",
                    }
                ],
                "started_at": "2026-11-22T15:40:59.457936+00:00",
                "finished_at": "2026-11-22T15:40:59.571149+00:00",
                "url": "https://directory.signpost.nhs.example/imports/07b66baf-91f6-4731-9c71-779a5260d413",
            }
        },
    ),
    "getImport": OperationExamples(
        responses={
            200: {
                "id": "07b66baf-91f6-4731-9c71-779a5260d413",
                "status": "completed",
                "total_records": 1,
                "processed_records": 1,
                "imported_records": 0,
                "unchanged_records": 0,
                "failed_records": 1,
                "errors": [
                    {
                        "record": 1,
                        "id": "d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6",
                        "status": 409,
                        "field": "id",
                        "detail": "id fcc68530-44b6-51d7-b537-b8cb794a2025 (a service_at_location "
                        "or attribute) belongs to another service",
                    }
                ],
                "started_at": "2026-11-22T15:40:59.457936+00:00",
                "finished_at": "2026-11-22T15:40:59.571149+00:00",
                "url": "https://directory.signpost.nhs.example/imports/07b66baf-91f6-4731-9c71-779a5260d413",
            }
        },
    ),
    "retireService": OperationExamples(
        responses={
            200: {
                "id": "c5d6e7f8-9a0b-4c1d-8e2f-3a4b5c6d7e8f",
                "organization_id": "8a3f2b9e-1c4d-4e5f-9a6b-7c8d9e0f1a2b",
                "name": "Forest Gate money advice",
                "description": "Free help with debts, benefits and energy bills.",
                "email": "money@forestgate-trust.org.example",
                "status": "defunct",
                "minimum_age": 18,
                "assured_date": "2026-11-01",
                "assurer_email": "curator@newham-directory.example",
                "accepts_self_referral": True,
                "last_modified": "2026-11-22T15:40:59.595Z",
                "phones": [
                    {
                        "number": "020 7946 0123",
                        "id": "d60115d0-ad21-5c93-ba8a-7aa6e245b873",
                        "service_id": "c5d6e7f8-9a0b-4c1d-8e2f-3a4b5c6d7e8f",
                    }
                ],
                "schedules": [
                    {
                        "freq": "WEEKLY",
                        "byday": "MO,TH",
                        "opens_at": "09:30",
                        "closes_at": "13:00",
                        "id": "4d79833c-8d25-5ceb-b715-a8b34b32ccf1",
                        "service_id": "c5d6e7f8-9a0b-4c1d-8e2f-3a4b5c6d7e8f",
                    }
                ],
                "service_areas": [
                    {
                        "name": "Newham",
                        "uri": "http://statistics.data.gov.uk/id/statistical-geography/E09000025",
                        "id": "acf75cc5-d3a9-57ad-9c34-fa13d407aa16",
                        "service_id": "c5d6e7f8-9a0b-4c1d-8e2f-3a4b5c6d7e8f",
                    }
                ],
                "languages": [
                    {
                        "name": "English",
                        "code": "en",
                        "id": "aac28c5c-6ec1-5c53-afb0-316c44508474",
                        "service_id": "c5d6e7f8-9a0b-4c1d-8e2f-3a4b5c6d7e8f",
                    }
                ],
                "service_at_locations": [
                    {
                        "id": "fcc68530-44b6-51d7-b537-b8cb794a2025",
                        "service_id": "c5d6e7f8-9a0b-4c1d-8e2f-3a4b5c6d7e8f",
                        "location_id": "3b7e9d21-5a6c-4f80-b1d2-e3f4a5b6c7d8",
                        "location": {
                            "id": "3b7e9d21-5a6c-4f80-b1d2-e3f4a5b6c7d8",
                            "location_type": "physical",
                            "name": "Forest Gate community centre (main hall)",
                            "addresses": [
                                {
                                    "id": "149ec7d3-426c-451b-987e-07592ed7a723",
                                    "address_1": "10 Woodgrange Road",
                                    "city": "London",
                                    "state_province": "Greater London",
                                    "postal_code": "E7 9NJ",
                                    "country": "GB",
                                    "address_type": "physical",
                                    "location_id": "3b7e9d21-5a6c-4f80-b1d2-e3f4a5b6c7d8",
                                }
                            ],
                            "latitude": 51.5478,
                            "longitude": 0.027,
                        },
                    }
                ],
                "attributes": [
                    {
                        "id": "fcddde48-9861-5ff4-a992-64579dfb674b",
                        "link_id": "c5d6e7f8-9a0b-4c1d-8e2f-3a4b5c6d7e8f",
                        "link_type": "service_type",
                        "link_entity": "service",
                        "taxonomy_term_id": "f9945d5c-1ce1-57d4-92aa-049c5f2dad3b",
                        "taxonomy_term": {
                            "id": "f9945d5c-1ce1-57d4-92aa-049c5f2dad3b",
                            "name": "Debt advice",
                            "description": "Debt and money-management advice",
                            "code": "debt-advice",
                            "parent_id": "3417efb5-c66b-5d1c-a691-49fe9a66edc3",
                            "taxonomy": "Signpost service types",
                            "taxonomy_id": "833b9b1f-0f8f-52b9-b187-110071f68177",
                            "term_uri": "https://signpost.nhs.example/CodeSystem/support-offered/debt-advice",
                            "term": "Debt advice",
                        },
                    }
                ],
                "organization": {
                    "id": "8a3f2b9e-1c4d-4e5f-9a6b-7c8d9e0f1a2b",
                    "name": "Forest Gate Community Trust (synthetic)",
                    "description": "Community centre, advice and a food bank in Forest Gate.",
                    "email": "info@forestgate-trust.org.example",
                    "website": "https://forestgate-trust.org.example",
                },
            }
        },
    ),
    "retireLocation": OperationExamples(
        responses={
            200: {
                "id": "3b7e9d21-5a6c-4f80-b1d2-e3f4a5b6c7d8",
                "location_type": "physical",
                "name": "Forest Gate community centre (main hall)",
                "addresses": [
                    {
                        "id": "149ec7d3-426c-451b-987e-07592ed7a723",
                        "address_1": "10 Woodgrange Road",
                        "city": "London",
                        "state_province": "Greater London",
                        "postal_code": "E7 9NJ",
                        "country": "GB",
                        "address_type": "physical",
                        "location_id": "3b7e9d21-5a6c-4f80-b1d2-e3f4a5b6c7d8",
                    }
                ],
                "latitude": 51.5478,
                "longitude": 0.027,
            }
        },
    ),
    "retireOrganization": OperationExamples(
        responses={
            200: {
                "id": "8a3f2b9e-1c4d-4e5f-9a6b-7c8d9e0f1a2b",
                "name": "Forest Gate Community Trust (synthetic)",
                "description": "Community centre, advice and a food bank in Forest Gate.",
                "email": "info@forestgate-trust.org.example",
                "website": "https://forestgate-trust.org.example",
            }
        },
    ),
}

# Repeating a create with the same id and content answers 200 with the stored record.
for _operation_id in (
    "createService",
    "createOrganization",
    "createLocation",
    "createTaxonomy",
    "createTaxonomyTerm",
):
    _created = EXAMPLES[_operation_id]
    EXAMPLES[_operation_id] = replace(
        _created, responses={**_created.responses, 200: _created.responses[201]}
    )
