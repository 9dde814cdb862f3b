"""The usual create as one statement of its own (`ReferralRepository.insert_alone`, PostgreSQL).

A REST create for a person named by NHS number alone takes its locks, looks for the person's
referrals it could be linked to and for messages held for its identifiers, and writes, in one
statement that is its own transaction. Its looks must see what another writer of the person
committed while it waited for the person's lock, though the statement's own snapshot was taken
before that wait; when it finds something to link or release it writes nothing and the create
goes on as any other; a create it writes leaves nothing to link; and an identifier another
referral holds is a conflict that leaves nothing written.
"""

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from referral_api.linkage.service import relink
from signpost_platform.db import lock_keys
from signpost_schemas.fhir import profiles
from tests.referral.conftest import WRITE, send
from tests.support.builders import NHS_NUMBERS, service_request
from tests.support.databases import someone_waits_for_a_lock
from tests.support.messages import emis_patient, emis_service_request, message, task
from tests.support.rows import count_rows, fetch_rows
from tests.support.statements import shape

PERSON, OTHER = NHS_NUMBERS[0], NHS_NUMBERS[1]
ROLES = ("social-prescribing-link-worker", "care-navigator", "health-and-wellbeing-coach")
WINDOW_DAYS = 90  # the service's default linkage window (REFERRAL_LINKAGE_WINDOW_DAYS)


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


def at(day: datetime, hours: int = 0) -> str:
    return (day + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


async def refer_by_message(client, identifier: str, role: str, authored: datetime) -> dict:
    request = emis_service_request(identifier, nhs_number=PERSON, role=role, authored=at(authored))
    new = message(
        request, reason_code="new", patient=emis_patient(PERSON), timestamp=at(authored, 1)
    )
    assert (await send(client, new)).status_code == 200
    return request


async def close_by_message(client, request: dict, accepted: datetime, ended: datetime) -> None:
    closed = task(
        f"task-{request['identifier'][0]['value']}",
        "completed",
        accepted=accepted.date().isoformat(),
        ended=ended.date().isoformat(),
        reason=(profiles.REFERRAL_CLOSURE_REASON, "needs-met"),
    )
    assert (
        await send(client, message(request, closed, timestamp=at(ended, 12)))
    ).status_code == 200


async def create(client, sent, identifier: str, role: str, authored: datetime) -> list[str]:
    """Create a referral of PERSON by REST; the shape of the statements it took."""
    sent.clear()
    body = service_request(
        identifier=identifier,
        identifier_system="https://screening.example/referral-id",
        nhs_number=PERSON,
        role=role,
        authored=at(authored),
    )
    response = await client.post("/fhir/ServiceRequest", json=body, headers=WRITE)
    assert response.status_code == 201, response.text
    return shape(sent)


async def links_of_person(referral_app) -> list[tuple[str, str]]:
    rows = await fetch_rows(
        referral_app,
        "SELECT l.link_type, r.identifier_value FROM referral_link l "
        "JOIN referral_identifier r ON r.referral_id = l.referral_id "
        "WHERE l.person_key = :person ORDER BY 1, 2",
        person=PERSON,
    )
    return [(row["link_type"], row["identifier_value"]) for row in rows]


DAY = datetime(2025, 6, 2, 9, tzinfo=UTC)


@pytest.mark.postgres_only
async def test_a_later_referral_to_the_same_role_while_the_first_is_open_is_one_statement(
    client, referral_app, sent
):
    await refer_by_message(client, "EMIS-1", ROLES[0], DAY)

    assert await create(client, sent, "SCREEN-1", ROLES[0], DAY + timedelta(days=3)) == ["WITH"]
    assert await count_rows(referral_app, "referral") == 2
    assert await links_of_person(referral_app) == []


@pytest.mark.postgres_only
async def test_a_referral_to_another_role_outside_the_window_is_one_statement(
    client, referral_app, sent
):
    await refer_by_message(client, "EMIS-1", ROLES[0], DAY)
    later = DAY + timedelta(days=WINDOW_DAYS, seconds=1)

    assert await create(client, sent, "SCREEN-1", ROLES[1], later) == ["WITH"]
    assert await links_of_person(referral_app) == []


@pytest.mark.postgres_only
@pytest.mark.parametrize("days", [-WINDOW_DAYS, WINDOW_DAYS])
async def test_a_referral_to_another_role_at_the_window_s_edge_is_linked(
    client, referral_app, sent, days
):
    await refer_by_message(client, "EMIS-1", ROLES[0], DAY)

    assert await create(client, sent, "SCREEN-1", ROLES[1], DAY + timedelta(days=days)) != ["WITH"]
    assert await links_of_person(referral_app) == [
        ("concurrent-other-role", "EMIS-1"),
        ("concurrent-other-role", "SCREEN-1"),
    ]


@pytest.mark.postgres_only
async def test_a_re_referral_to_the_same_role_after_closure_is_linked(client, referral_app, sent):
    first = await refer_by_message(client, "EMIS-1", ROLES[0], DAY)
    await close_by_message(client, first, DAY, DAY + timedelta(days=20))

    assert await create(client, sent, "SCREEN-1", ROLES[0], DAY + timedelta(days=30)) != ["WITH"]
    assert await links_of_person(referral_app) == [
        ("re-referral-of", "SCREEN-1"),
        ("re-referred-as", "EMIS-1"),
    ]


@pytest.mark.postgres_only
@pytest.mark.parametrize("seed", range(24))
async def test_every_create_leaves_the_links_the_rule_gives(client, referral_app, sent, seed):
    # A person's referrals by message, to random roles on random days, some closed; then REST
    # creates on random days: whichever way each create went, relinking the person afterwards
    # changes nothing.
    rng = random.Random(seed)
    roles = ROLES[:2]  # two roles: as many re-referrals to a role as referrals to another
    moments = []  # when the person's referrals were made and ended
    for n in range(rng.randrange(1, 5)):
        authored = DAY + timedelta(days=rng.randrange(0, 240))
        request = await refer_by_message(client, f"EMIS-{n}", rng.choice(roles), authored)
        moments.append(authored)
        if rng.random() < 0.7:
            ended = authored + timedelta(days=rng.randrange(1, 120))
            await close_by_message(client, request, authored, ended)
            moments.append(ended)
    ways = []
    for n in range(4):
        # Near one of those moments, before or after: inside the window or just out of it.
        authored = rng.choice(moments) + timedelta(days=rng.randrange(-100, 100), hours=3)
        ways.append(await create(client, sent, f"SCREEN-{n}", rng.choice(roles), authored))
        moments.append(authored)
        async with referral_app.state.database.sessionmaker() as session:
            assert await relink(session, PERSON, WINDOW_DAYS) == set(), ways
            await session.rollback()


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


@pytest.mark.postgres_only
async def test_the_previous_release_s_create_still_finds_its_function(client, referral_app):
    # Pods of the release before migration 7b2d4e9f1a63 call the four-argument function until
    # the rollout replaces them (docs/deploy.md, expand then contract).
    first = await client.post("/fhir/ServiceRequest", json=service_request(), headers=WRITE)
    assert first.status_code == 201

    rows = await fetch_rows(
        referral_app,
        "SELECT person_known, held FROM referral_lock_and_look("
        "ARRAY['person|' || :person], :person, ARRAY[]::text[], ARRAY[]::text[])",
        person=PERSON,
    )
    assert rows == [{"person_known": True, "held": False}]
