"""Workers: a contact's participants and a Task's owner are kept by the sender's staff
identifier (and role), never by name, and contacts and Tasks are found by the worker."""

from functools import partial
from typing import Any

from signpost_schemas import systems
from tests.referral.conftest import READ, send
from tests.referral.messages.test_kept_with_gaps import everything_stored, warnings
from tests.support.clients import bearer
from tests.support.messages import contact, emis_service_request, message, new_referral, task
from tests.support.rows import fetch_rows

STAFF = "https://emis.example/Id/staff"
NAME = "Synthetic Worker"


def worker(value: str, role: str | None = None, *, name: str | None = None) -> dict[str, Any]:
    """An Encounter.participant naming a worker by staff identifier (and role)."""
    participant: dict[str, Any] = {
        "individual": {"type": "Practitioner", "identifier": {"system": STAFF, "value": value}}
    }
    if name:
        participant["individual"]["display"] = name
    if role:
        participant["type"] = [
            {"coding": [{"system": systems.PERSONALISED_CARE_ROLE, "code": role}]}
        ]
    return participant


def seen_by(contact_id: str, start: str, *participants: dict[str, Any], **kwargs: Any) -> dict:
    encounter = contact(contact_id, start, **kwargs)
    encounter["participant"] = list(participants)
    return encounter


# The synthetic EMIS referral sent as new with the resources given.
referral_with = partial(new_referral, timestamp="2026-10-04T09:00:00Z")


async def found(client, resource_type: str, **params: str) -> list[str]:
    """The sender ids of the resources a search finds."""
    response = await client.get(f"/fhir/{resource_type}", params=params, headers=READ)
    assert response.status_code == 200, response.text
    return sorted(
        identifier["value"]
        for entry in response.json().get("entry", [])
        if entry["resource"]["resourceType"] == resource_type
        for identifier in entry["resource"]["identifier"]
        if identifier["system"].endswith("/Id/sender-resource")
    )


async def test_a_contact_keeps_its_workers_by_staff_identifier_and_never_their_names(
    client, referral_app
):
    body = referral_with(
        seen_by(
            "c1",
            "2026-10-03T10:00:00Z",
            worker("LW-1", "social-prescribing-link-worker", name=NAME),
            worker("HC-7"),
        )
    )

    response = await send(client, body)

    assert response.status_code == 200, response.text
    assert (
        "removed-personal-data",
        "Bundle.entry[3].resource.participant[0].individual.display",
    ) in warnings(response.json())
    rows = await fetch_rows(
        referral_app,
        "SELECT position, worker_system, worker_value, role FROM contact_worker ORDER BY position",
    )
    assert rows == [
        {
            "position": 1,
            "worker_system": STAFF,
            "worker_value": "LW-1",
            "role": "social-prescribing-link-worker",
        },
        {"position": 2, "worker_system": STAFF, "worker_value": "HC-7", "role": None},
    ]
    [entry] = (await client.get("/fhir/Encounter", headers=READ)).json()["entry"]
    served = entry["resource"]["participant"]
    assert served[0]["individual"] == {
        "type": "Practitioner",
        "identifier": {"system": STAFF, "value": "LW-1"},
    }
    assert NAME not in await everything_stored(referral_app)


async def test_contacts_are_found_by_the_worker_who_took_part(client, referral_app):
    body = referral_with(
        seen_by("c1", "2026-10-03T10:00:00Z", worker("LW-1")),
        seen_by("c2", "2026-10-04T10:00:00Z", worker("LW-1"), worker("HC-7")),
        seen_by("c3", "2026-10-04T11:00:00Z", worker("HC-7")),
    )
    assert (await send(client, body)).status_code == 200

    assert await found(client, "Encounter", **{"participant.identifier": f"{STAFF}|LW-1"}) == [
        "c1",
        "c2",
    ]
    assert await found(client, "Encounter", **{"participant:identifier": "HC-7"}) == ["c2", "c3"]
    elsewhere = {"participant.identifier": "https://other.example/staff|LW-1"}
    assert await found(client, "Encounter", **elsewhere) == []
    both = [("participant.identifier", "LW-1"), ("participant.identifier", "HC-7")]
    response = await client.get("/fhir/Encounter", params=both, headers=READ)
    assert [e["resource"]["identifier"][-1]["value"] for e in response.json()["entry"]] == ["c2"]


async def test_a_later_version_of_a_contact_replaces_its_workers(client, referral_app):
    first = seen_by("c1", "2026-10-03T10:00:00Z", worker("LW-1"))
    assert (await send(client, referral_with(first))).status_code == 200
    corrected = seen_by("c1", "2026-10-03T10:00:00Z", worker("LW-2", "care-coordinator"))
    update = message(emis_service_request(), corrected, timestamp="2026-10-05T09:00:00Z")
    assert (await send(client, update)).status_code == 200

    rows = await fetch_rows(referral_app, "SELECT worker_value, role FROM contact_worker")
    assert rows == [{"worker_value": "LW-2", "role": "care-coordinator"}]
    assert await found(client, "Encounter", **{"participant.identifier": "LW-1"}) == []


async def test_a_participant_named_by_no_staff_identifier_is_kept_with_a_warning(
    client, referral_app
):
    unnamed = {"individual": {"reference": "Practitioner/link-worker-1", "display": NAME}}
    body = referral_with(seen_by("c1", "2026-10-03T10:00:00Z", unnamed))

    response = await send(client, body)

    assert response.status_code == 200, response.text
    assert warnings(response.json()) >= {
        ("not-recorded", "Bundle.entry[3].resource.participant[0].individual.identifier"),
        ("removed-personal-data", "Bundle.entry[3].resource.participant[0].individual.display"),
    }
    assert await fetch_rows(referral_app, "SELECT * FROM contact_worker") == []
    [entry] = (await client.get("/fhir/Encounter", headers=READ)).json()["entry"]
    assert entry["resource"]["participant"] == [
        {"individual": {"reference": "Practitioner/link-worker-1"}}
    ]


async def test_a_participant_role_outside_the_six_roles_is_refused(client, referral_app):
    body = referral_with(seen_by("c1", "2026-10-03T10:00:00Z", worker("LW-1", "receptionist")))

    response = await send(client, body)

    assert response.status_code == 422, response.text
    [issue] = [i for i in response.json()["issue"] if i["severity"] == "error"]
    assert issue["expression"] == ["Bundle.entry[3].resource.participant[0].type[0]"]
    assert await fetch_rows(referral_app, "SELECT id FROM referral") == []


async def test_a_task_owner_is_the_worker_who_holds_the_referral(client, referral_app):
    held = task("t1", "accepted", accepted="2026-10-02")
    held["owner"] = {
        "type": "Practitioner",
        "identifier": {"system": STAFF, "value": "LW-1"},
        "display": NAME,
    }
    response = await send(client, referral_with(held))

    assert response.status_code == 200, response.text
    assert ("removed-personal-data", "Bundle.entry[3].resource.owner.display") in warnings(
        response.json()
    )
    assert await found(client, "Task", **{"owner.identifier": f"{STAFF}|LW-1"}) == ["t1"]
    assert await found(client, "Task", **{"owner:identifier": "LW-2"}) == []
    assert NAME not in await everything_stored(referral_app)


async def test_an_organisation_owning_the_task_is_no_worker(client, referral_app):
    held = task("t1", "accepted", accepted="2026-10-02")
    held["owner"] = {"identifier": {"system": systems.ODS_ORGANIZATION, "value": "F84001"}}
    assert (await send(client, referral_with(held))).status_code == 200

    rows = await fetch_rows(referral_app, "SELECT owner_system, owner_value FROM referral_task")
    assert rows == [{"owner_system": None, "owner_value": None}]


async def test_workers_are_searched_only_within_the_callers_organisation(client, referral_app):
    body = referral_with(seen_by("c1", "2026-10-03T10:00:00Z", worker("LW-1")))
    assert (await send(client, body)).status_code == 200
    other = bearer("referral:read", ods="Y99999")

    response = await client.get(
        "/fhir/Encounter", params={"participant.identifier": "LW-1"}, headers=other
    )

    assert response.status_code == 200
    assert response.json()["total"] == 0
