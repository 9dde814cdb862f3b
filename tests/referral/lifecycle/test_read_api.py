"""Reading Tasks, contacts and assessments through the FHIR API."""

import pytest

from tests.referral.conftest import READ, send
from tests.support.messages import journey


@pytest.fixture
async def referral_id(client, referral_app):
    for item in journey("emis"):
        assert (await send(client, item)).status_code == 200
    return (await client.get("/fhir/ServiceRequest", headers=READ)).json()["entry"][0]["resource"][
        "id"
    ]


async def test_a_task_is_read_by_id_with_its_version(client, referral_id):
    [task] = (await client.get("/fhir/Task", params={"focus": referral_id}, headers=READ)).json()[
        "entry"
    ]
    response = await client.get(f"/fhir/Task/{task['resource']['id']}", headers=READ)

    assert response.status_code == 200
    assert response.headers["etag"] == 'W/"3"'  # accepted, in progress, completed
    assert response.json()["identifier"] == [
        {"system": "https://signpost.nhs.example/Id/sender-resource", "value": "t1"}
    ]


async def test_contacts_are_paged_in_date_order(client, referral_id):
    page = (
        await client.get(
            "/fhir/Encounter",
            params={"based-on": f"ServiceRequest/{referral_id}", "_count": 2},
            headers=READ,
        )
    ).json()

    assert page["total"] == 3
    assert [e["resource"]["period"]["start"] for e in page["entry"]] == [
        "2026-10-03T10:00:00Z",
        "2026-10-05T10:00:00Z",
    ]
    assert any(link["relation"] == "next" for link in page["link"])


async def test_search_for_another_referral_finds_nothing(client, referral_id):
    page = (
        await client.get(
            "/fhir/Observation", params={"based-on": "ServiceRequest/none"}, headers=READ
        )
    ).json()

    assert page["total"] == 0


@pytest.mark.parametrize(
    ("path", "params", "expression"),
    [
        ("/fhir/Task", {"focus": "Patient/1"}, "focus"),
        ("/fhir/Encounter", {"patient": "x"}, "patient"),
    ],
)
async def test_bad_search_parameters_are_refused(client, path, params, expression):
    # An unknown parameter is refused only under strict handling (ignored with a warning else).
    response = await client.get(path, params=params, headers={**READ, "Prefer": "handling=strict"})

    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == [expression]


async def test_an_unknown_id_is_not_found(client):
    response = await client.get("/fhir/Observation/nope", headers=READ)

    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"


async def test_the_capability_statement_lists_process_message_and_export(client):
    statement = (await client.get("/fhir/metadata")).json()

    operations = {o["name"]: o["definition"] for o in statement["rest"][0]["operation"]}
    assert operations == {
        "process-message": "http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message",
        "export": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
    }
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    [group_export] = resources["Group"]["operation"]
    assert group_export["definition"].endswith("/group-export")
    assert {i["code"] for i in resources["Consent"]["interaction"]} == {
        "create",
        "read",
        "search-type",
    }


async def test_unknown_parameter_is_ignored_with_a_warning_entry(client):
    bundle = (
        await client.get(
            "/fhir/Encounter",
            params={"based-on": "ServiceRequest/none", "patient": "x"},
            headers=READ,
        )
    ).json()

    assert bundle["total"] == 0
    assert bundle["entry"][-1]["search"]["mode"] == "outcome"
    assert bundle["entry"][-1]["resource"]["issue"][0]["expression"] == ["patient"]


@pytest.mark.parametrize("resource_type", ["Task", "Encounter", "Observation"])
async def test_lifecycle_searches_take_id_and_last_updated(client, resource_type):
    for query in ({"_id": "nope"}, {"_lastUpdated": "lt2000-01-01"}):
        response = await client.get(
            f"/fhir/{resource_type}", params=query, headers={**READ, "Prefer": "handling=strict"}
        )
        assert response.status_code == 200, response.text
        assert response.json()["total"] == 0


async def test_contacts_by_id_and_last_updated(client, referral_id):
    based_on = {"based-on": f"ServiceRequest/{referral_id}"}
    every = (await client.get("/fhir/Encounter", params=based_on, headers=READ)).json()
    first, second = (e["resource"]["id"] for e in every["entry"][:2])

    by_id = (
        await client.get("/fhir/Encounter", params={**based_on, "_id": first}, headers=READ)
    ).json()
    by_ids = (
        await client.get(
            "/fhir/Encounter", params={**based_on, "_id": f"{first},{second}"}, headers=READ
        )
    ).json()
    since_2000 = (
        await client.get(
            "/fhir/Encounter", params={**based_on, "_lastUpdated": "ge2000-01-01"}, headers=READ
        )
    ).json()

    assert [e["resource"]["id"] for e in by_id["entry"]] == [first]
    assert by_ids["total"] == 2
    assert since_2000["total"] == every["total"] == 3
