"""The same person referred to two roles at once shows the link on both referrals; so does a
re-referral to the same role after closure. Links do not depend on arrival order."""

import pytest

from signpost_schemas.fhir import profiles
from tests.referral.conftest import READ, WRITE, send
from tests.support.builders import service_request
from tests.support.messages import (
    emis_patient,
    emis_service_request,
    message,
    rio_service_request,
    task,
)
from tests.support.rows import fetch_rows

PERSON = "9434765919"
LINK = profiles.LINKED_REFERRAL_EXTENSION


def new(request, timestamp):
    return message(request, reason_code="new", patient=emis_patient(PERSON), timestamp=timestamp)


LINK_WORKER = emis_service_request("EMIS-1", nhs_number=PERSON, authored="2026-10-01T09:00:00Z")
CONNECTOR = rio_service_request("RIO-1", nhs_number=PERSON, authored="2026-10-20T09:00:00Z")
# The link worker's and the connector's referrals, open at once, each showing the other.
LINKED_AT_ONCE = {
    "EMIS-1": [("RIO-1", "concurrent-other-role")],
    "RIO-1": [("EMIS-1", "concurrent-other-role")],
}


def care_navigator_referral(authored):
    """A referral of the same person to a care navigator, sent through the REST API."""
    return service_request(
        identifier="SCREEN-1", nhs_number=PERSON, role="care-navigator", authored=authored
    )


async def close_link_worker_referral(client, ended, closure_reason="needs-met"):
    """Close the link worker referral (accepted on 2 October) on `ended`, sent at noon."""
    closed = task(
        "t1",
        "completed",
        accepted="2026-10-02",
        ended=ended,
        reason=(profiles.REFERRAL_CLOSURE_REASON, closure_reason),
    )
    await send(client, message(LINK_WORKER, closed, timestamp=f"{ended}T12:00:00Z"))


async def links_by_identifier(client):
    bundle = (await client.get("/fhir/ServiceRequest", headers=READ)).json()
    by_id = {e["resource"]["id"]: e["resource"]["identifier"][0]["value"] for e in bundle["entry"]}
    result = {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        result[by_id[resource["id"]]] = sorted(
            (by_id[part[0]["valueReference"]["reference"].split("/")[1]], part[1]["valueCode"])
            for part in (e["extension"] for e in resource["extension"] if e["url"] == LINK)
        )
    return result


async def test_two_roles_at_once_show_the_link_on_both_referrals(client, referral_app):
    await send(client, new(LINK_WORKER, "2026-10-01T09:05:00Z"))
    await send(client, new(CONNECTOR, "2026-10-20T09:05:00Z"))

    assert await links_by_identifier(client) == LINKED_AT_ONCE
    found = (
        await client.get(
            "/fhir/ServiceRequest",
            params={"linkage": "concurrent-other-role", "patient.identifier": PERSON},
            headers=READ,
        )
    ).json()
    assert found["total"] == 2


async def test_links_are_the_same_whichever_referral_arrives_first(client, referral_app):
    await send(client, new(CONNECTOR, "2026-10-20T09:05:00Z"))
    await send(client, new(LINK_WORKER, "2026-10-01T09:05:00Z"))

    assert await links_by_identifier(client) == LINKED_AT_ONCE


async def test_referrals_further_apart_than_the_window_are_not_linked(client, referral_app):
    early = emis_service_request("EMIS-1", nhs_number=PERSON, authored="2026-06-01T09:00:00Z")
    late = rio_service_request("RIO-2", nhs_number=PERSON, authored="2026-10-20T09:00:00Z")
    await send(client, new(early, "2026-06-01T09:05:00Z"))
    await send(client, new(late, "2026-10-20T09:06:00Z"))

    assert await links_by_identifier(client) == {"EMIS-1": [], "RIO-2": []}
    assert (
        await client.get("/fhir/ServiceRequest", params={"linkage": "any"}, headers=READ)
    ).json()["total"] == 0


async def test_a_referral_closed_before_the_other_was_made_is_not_concurrent(client, referral_app):
    await send(client, new(LINK_WORKER, "2026-10-01T09:05:00Z"))
    await close_link_worker_referral(client, "2026-10-10")
    await send(client, new(CONNECTOR, "2026-10-20T09:05:00Z"))

    assert await links_by_identifier(client) == {"EMIS-1": [], "RIO-1": []}


async def test_closing_one_referral_later_keeps_the_link_made_while_both_were_open(
    client, referral_app
):
    await send(client, new(LINK_WORKER, "2026-10-01T09:05:00Z"))
    await send(client, new(CONNECTOR, "2026-10-20T09:05:00Z"))
    await close_link_worker_referral(client, "2026-10-25")

    assert (await links_by_identifier(client))["EMIS-1"] == [("RIO-1", "concurrent-other-role")]


async def test_a_re_referral_to_the_same_role_after_closure_is_marked(client, referral_app):
    await _closed_then_referred_again(client, "needs-partially-met")

    assert await links_by_identifier(client) == {
        "EMIS-1": [("EMIS-2", "re-referred-as")],
        "EMIS-2": [("EMIS-1", "re-referral-of")],
    }
    rows = await fetch_rows(referral_app, "SELECT link_type FROM referral_link ORDER BY link_type")
    assert rows == [{"link_type": "re-referral-of"}, {"link_type": "re-referred-as"}]
    found = (
        await client.get("/fhir/ServiceRequest", params={"linkage": "re-referral-of"}, headers=READ)
    ).json()
    assert [e["resource"]["identifier"][0]["value"] for e in found["entry"]] == ["EMIS-2"]


async def test_an_unknown_linkage_value_is_refused(client):
    response = await client.get(
        "/fhir/ServiceRequest", params={"linkage": "siblings"}, headers=READ
    )

    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["linkage"]


async def test_a_referral_created_through_the_rest_api_is_linked_too(client, referral_app):
    await send(client, new(LINK_WORKER, "2026-10-01T09:05:00Z"))
    screening = care_navigator_referral("2026-10-10T10:00:00Z")
    created = await client.post("/fhir/ServiceRequest", json=screening, headers=WRITE)

    assert created.status_code == 201
    assert created.json()["meta"]["versionId"] == "1"
    assert [
        e["extension"][1]["valueCode"] for e in created.json()["extension"] if e["url"] == LINK
    ] == ["concurrent-other-role"]
    found = (
        await client.get(
            "/fhir/ServiceRequest", params={"linkage": "concurrent-other-role"}, headers=READ
        )
    ).json()
    assert sorted(e["resource"]["identifier"][0]["value"] for e in found["entry"]) == [
        "EMIS-1",
        "SCREEN-1",
    ]
    # The message-fed referral shows the link from its next message.
    contact_update = message(
        LINK_WORKER, task("t1", "accepted", accepted="2026-10-11"), timestamp="2026-10-11T09:00:00Z"
    )
    assert (await send(client, contact_update)).status_code == 200
    assert (await links_by_identifier(client))["EMIS-1"] == [("SCREEN-1", "concurrent-other-role")]


async def test_moving_a_rest_referral_to_another_role_updates_the_links(client, referral_app):
    await send(client, new(LINK_WORKER, "2026-10-01T09:05:00Z"))
    body = care_navigator_referral("2026-10-10T10:00:00Z")
    created = (await client.post("/fhir/ServiceRequest", json=body, headers=WRITE)).json()
    same_role = {**created, "performerType": LINK_WORKER["performerType"]}
    updated = await client.put(
        f"/fhir/ServiceRequest/{created['id']}",
        json=same_role,
        headers={**WRITE, "If-Match": 'W/"1"'},
    )

    assert updated.status_code == 200
    assert await links_by_identifier(client) == {"EMIS-1": [], "SCREEN-1": []}
    assert await fetch_rows(referral_app, "SELECT * FROM referral_link") == []


@pytest.mark.parametrize(
    "change",
    [
        {"performerType": LINK_WORKER["performerType"]},  # to the other referral's role
        {"authoredOn": "2026-06-01T09:00:00Z"},  # to long before the other was made
    ],
)
async def test_a_message_moving_its_referral_to_another_role_or_date_updates_the_links(
    client, referral_app, change
):
    await send(client, new(LINK_WORKER, "2026-10-01T09:05:00Z"))
    navigator = emis_service_request(
        "EMIS-2", nhs_number=PERSON, role="care-navigator", authored="2026-10-10T10:00:00Z"
    )
    await send(client, new(navigator, "2026-10-10T10:05:00Z"))
    assert (await links_by_identifier(client))["EMIS-2"] == [("EMIS-1", "concurrent-other-role")]

    moved = await send(client, message({**navigator, **change}, timestamp="2026-10-11T09:00:00Z"))

    assert moved.status_code == 200
    assert await links_by_identifier(client) == {"EMIS-1": [], "EMIS-2": []}
    assert await fetch_rows(referral_app, "SELECT * FROM referral_link") == []


async def test_every_link_names_the_other_referrals_role_date_and_type(client, referral_app):
    await _closed_then_referred_again(client, "needs-met")
    navigator = care_navigator_referral("2026-11-20T10:00:00Z")
    created = await client.post("/fhir/ServiceRequest", json=navigator, headers=WRITE)
    assert created.status_code == 201

    bundle = (await client.get("/fhir/ServiceRequest", headers=READ)).json()
    referrals = {e["resource"]["id"]: e["resource"] for e in bundle["entry"]}
    shown = []
    for resource in [*referrals.values(), created.json()]:
        for link in (e for e in resource.get("extension", []) if e["url"] == LINK):
            parts = {part["url"]: part for part in link["extension"]}
            other = referrals[parts["referral"]["valueReference"]["reference"].split("/")[1]]
            assert parts["role"]["valueCoding"] == other["performerType"]["coding"][0]
            assert parts["authoredOn"]["valueDateTime"][:10] == other["authoredOn"][:10]
            shown.append(
                (
                    resource["identifier"][0]["value"],
                    parts["type"]["valueCode"],
                    other["identifier"][0]["value"],
                )
            )
    assert sorted(shown) == [
        ("EMIS-1", "re-referred-as", "EMIS-2"),
        ("EMIS-2", "concurrent-other-role", "SCREEN-1"),
        ("EMIS-2", "re-referral-of", "EMIS-1"),
        ("SCREEN-1", "concurrent-other-role", "EMIS-2"),
        ("SCREEN-1", "concurrent-other-role", "EMIS-2"),
    ]


async def _closed_then_referred_again(client, closure_reason: str) -> None:
    """EMIS-1 to the link worker, closed on 10 October with `closure_reason`; then EMIS-2, a
    new referral of the same person to the same role on 15 November."""
    await send(client, new(LINK_WORKER, "2026-10-01T09:05:00Z"))
    await close_link_worker_referral(client, "2026-10-10", closure_reason)
    again = emis_service_request("EMIS-2", nhs_number=PERSON, authored="2026-11-15T09:00:00Z")
    await send(client, new(again, "2026-11-15T09:05:00Z"))
