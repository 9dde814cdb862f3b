"""Reading Tasks, contacts and assessments through the FHIR API."""

import pytest

from tests.referral.lifecycle.conftest import READ, send
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
    response = await client.get(path, params=params, headers=READ)

    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == [expression]


async def test_an_unknown_id_is_not_found(client):
    response = await client.get("/fhir/Observation/nope", headers=READ)

    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"


async def test_the_capability_statement_lists_process_message(client):
    statement = (await client.get("/fhir/metadata")).json()

    [operation] = statement["rest"][0]["operation"]
    assert operation["name"] == "process-message"
