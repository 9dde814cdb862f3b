"""The usual create as one statement of its own (`ReferralRepository.insert_alone`, PostgreSQL).

A REST create for a person named by NHS number alone takes its locks, looks for the person's
other referrals and for messages held for its identifiers, and writes, in one statement that is
its own transaction. Its looks must see what another writer of the person committed while it
waited for the person's lock, though the statement's own snapshot was taken before that wait;
when it finds neighbours it writes nothing and the create goes on as any other; and an
identifier another referral holds is a conflict that leaves nothing written.
"""

import asyncio

import pytest
from sqlalchemy import text

from signpost_platform.db import lock_keys
from tests.referral.conftest import WRITE
from tests.support.builders import NHS_NUMBERS, service_request
from tests.support.databases import someone_waits_for_a_lock
from tests.support.rows import count_rows, fetch_rows
from tests.support.statements import shape

PERSON, OTHER = NHS_NUMBERS[0], NHS_NUMBERS[1]


@pytest.mark.postgres_only
async def test_a_first_referral_is_written_by_one_statement_without_begin_or_commit(
    client, referral_app, sent
):
    response = await client.post("/fhir/ServiceRequest", json=service_request(), headers=WRITE)

    assert response.status_code == 201
    assert shape(sent) == ["WITH"]
    [statement] = [s for s in sent if "referral_lock_and_look" in s]
    assert "INSERT INTO referral " in statement and "INSERT INTO audit_event" in statement
    sent.clear()
    # The referral, its identifier, its reasons and its audit event are all there, committed.
    assert await count_rows(referral_app, "referral") == 1
    assert await count_rows(referral_app, "referral_identifier") == 1
    assert await count_rows(referral_app, "referral_reason") == len(service_request()["reasonCode"])
    [event] = await fetch_rows(referral_app, "SELECT action, resource_id FROM audit_event")
    assert event == {"action": "create", "resource_id": response.json()["id"]}


@pytest.mark.postgres_only
async def test_a_referral_for_a_person_with_a_referral_is_written_by_the_full_create(
    client, referral_app, sent
):
    first = await client.post("/fhir/ServiceRequest", json=service_request(), headers=WRITE)
    sent.clear()
    second = await client.post(
        "/fhir/ServiceRequest",
        json=service_request(identifier="EMIS-0002", role="care-navigator"),
        headers=WRITE,
    )

    assert (first.status_code, second.status_code) == (201, 201)
    # The one statement found the person's referral and wrote nothing; the create then took its
    # locks with BEGIN, inserted, relinked and committed.
    assert shape(sent)[:3] == ["WITH", "BEGIN", "WITH"]
    assert shape(sent)[-1] == "COMMIT"
    events = await fetch_rows(
        referral_app, "SELECT resource_id FROM audit_event WHERE action = 'create'"
    )
    assert sorted(e["resource_id"] for e in events) == sorted(
        [first.json()["id"], second.json()["id"]]
    )


@pytest.mark.postgres_only
async def test_a_referral_filed_under_the_person_while_the_create_waits_is_linked(
    client, referral_app
):
    # Filed under another person first; refiled under PERSON by a writer holding PERSON's lock
    # (as joining a local person into PERSON would) while the create for PERSON waits for it.
    first = await client.post(
        "/fhir/ServiceRequest",
        json=service_request(identifier="EMIS-0001", nhs_number=OTHER),
        headers=WRITE,
    )
    assert first.status_code == 201
    database = referral_app.state.database
    async with database.sessionmaker() as holder:
        await lock_keys(holder, [f"person|{PERSON}"])
        await holder.execute(
            text("UPDATE referral SET person_key = :person WHERE id = :id"),
            {"person": PERSON, "id": first.json()["id"]},
        )
        creating = asyncio.create_task(
            client.post(
                "/fhir/ServiceRequest",
                json=service_request(
                    identifier="EMIS-0002", nhs_number=PERSON, role="health-and-wellbeing-coach"
                ),
                headers=WRITE,
            )
        )
        await someone_waits_for_a_lock(database)
        await holder.commit()
    second = await creating

    assert second.status_code == 201
    links = await fetch_rows(
        referral_app,
        "SELECT referral_id, linked_referral_id, link_type FROM referral_link "
        "WHERE person_key = :person ORDER BY referral_id",
        person=PERSON,
    )
    ids = sorted([first.json()["id"], second.json()["id"]])
    assert [(link["referral_id"], link["linked_referral_id"]) for link in links] == [
        (ids[0], ids[1]),
        (ids[1], ids[0]),
    ]
    assert {link["link_type"] for link in links} == {"concurrent-other-role"}


@pytest.mark.postgres_only
async def test_a_create_that_finds_neighbours_writes_once_with_its_one_audit_event(
    client, referral_app
):
    bodies = [
        service_request(identifier=f"EMIS-000{n}", nhs_number=PERSON, role=role)
        for n, role in enumerate(("social-prescribing-link-worker", "care-navigator"), start=1)
    ]
    created = [
        await client.post("/fhir/ServiceRequest", json=body, headers=WRITE) for body in bodies
    ]

    assert [response.status_code for response in created] == [201, 201]
    assert await count_rows(referral_app, "referral") == 2
    assert await count_rows(referral_app, "referral_identifier") == 2
    assert await count_rows(referral_app, "referral_link") == 2
    events = await fetch_rows(
        referral_app,
        "SELECT resource_id FROM audit_event WHERE action = 'create' ORDER BY resource_id",
    )
    assert [event["resource_id"] for event in events] == sorted(r.json()["id"] for r in created)


async def test_a_used_identifier_for_another_person_is_a_conflict_that_writes_nothing(
    client, referral_app
):
    first = await client.post(
        "/fhir/ServiceRequest", json=service_request(nhs_number=OTHER), headers=WRITE
    )
    second = await client.post(
        "/fhir/ServiceRequest", json=service_request(nhs_number=PERSON), headers=WRITE
    )

    assert (first.status_code, second.status_code) == (201, 409)
    issue = second.json()["issue"][0]
    assert (issue["code"], issue["expression"]) == ("duplicate", ["ServiceRequest.identifier"])
    assert first.json()["id"] in issue["diagnostics"]
    assert await count_rows(referral_app, "referral") == 1
    assert await count_rows(referral_app, "referral_reason") == len(service_request()["reasonCode"])
    events = await fetch_rows(referral_app, "SELECT resource_id FROM audit_event")
    assert events == [{"resource_id": first.json()["id"]}]
