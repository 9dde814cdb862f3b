"""Object-level authorisation: an organisation sees and changes only the referrals it sent or
received; every other referral answers 404 and is left out of searches."""

from typing import Any

import httpx
import pytest

from signpost_schemas import systems
from tests.referral.conftest import READ, WRITE
from tests.support.builders import service_request
from tests.support.clients import bearer
from tests.support.messages import emis_service_request, message, task

GP = "F84001"  # a practice that refers
OTHER_GP = "F84002"
LINK_WORKERS = "Y02001"  # the organisation that employs the link workers: the receiver
OUTSIDER = "Y09999"


def organisation(ods: str) -> dict[str, str]:
    return bearer("referral:read", "referral:write", ods=ods)


def performer(ods: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "Organization",
            "identifier": {"system": systems.ODS_ORGANIZATION, "value": ods},
        }
    ]


@pytest.fixture
async def referrals(client: httpx.AsyncClient) -> dict[str, str]:
    """Three referrals: GP→link workers, other GP→link workers, other GP→no named receiver."""
    bodies = {
        "gp_to_link_workers": service_request(
            identifier="A-1", requester=GP, performer=performer(LINK_WORKERS)
        ),
        "other_gp_to_link_workers": service_request(
            identifier="B-1", requester=OTHER_GP, performer=performer(LINK_WORKERS)
        ),
        "other_gp_only": service_request(identifier="C-1", requester=OTHER_GP),
    }
    ids = {}
    for name, body in bodies.items():
        response = await client.post("/fhir/ServiceRequest", json=body, headers=WRITE)
        assert response.status_code == 201, response.text
        ids[name] = response.json()["id"]
    return ids


async def _found(client: httpx.AsyncClient, headers: dict[str, str], **params: str) -> set[str]:
    response = await client.get("/fhir/ServiceRequest", params=params, headers=headers)
    assert response.status_code == 200, response.text
    bundle = response.json()
    assert bundle["total"] == len(bundle.get("entry", []))
    return {entry["resource"]["id"] for entry in bundle.get("entry", [])}


async def test_search_returns_only_what_the_organisation_sent_or_received(client, referrals):
    assert await _found(client, organisation(GP)) == {referrals["gp_to_link_workers"]}
    assert await _found(client, organisation(LINK_WORKERS)) == {
        referrals["gp_to_link_workers"],
        referrals["other_gp_to_link_workers"],
    }
    assert await _found(client, organisation(OTHER_GP)) == {
        referrals["other_gp_to_link_workers"],
        referrals["other_gp_only"],
    }
    assert await _found(client, organisation(OUTSIDER)) == set()
    assert await _found(client, READ) == set(referrals.values())


async def test_the_organisation_claim_narrows_every_search_parameter(client, referrals):
    # Another organisation's referral matches the identifier, and still is not returned.
    assert await _found(client, organisation(GP), identifier="B-1") == set()
    assert await _found(client, organisation(OTHER_GP), identifier="B-1") == {
        referrals["other_gp_to_link_workers"]
    }
    assert await _found(client, READ, performer=LINK_WORKERS) == {
        referrals["gp_to_link_workers"],
        referrals["other_gp_to_link_workers"],
    }
    assert await _found(client, organisation(OTHER_GP), performer=LINK_WORKERS) == {
        referrals["other_gp_to_link_workers"]
    }


async def test_another_organisations_referral_reads_as_not_found(client, referrals):
    target = referrals["gp_to_link_workers"]

    for ods in (GP, LINK_WORKERS):
        assert (
            await client.get(f"/fhir/ServiceRequest/{target}", headers=organisation(ods))
        ).status_code == 200
    hidden = await client.get(f"/fhir/ServiceRequest/{target}", headers=organisation(OUTSIDER))
    absent = await client.get("/fhir/ServiceRequest/no-such-id", headers=organisation(OUTSIDER))

    assert hidden.status_code == absent.status_code == 404
    assert hidden.json()["issue"][0]["code"] == absent.json()["issue"][0]["code"] == "not-found"
    assert target not in hidden.text.replace(f"id {target}", "")  # only the id it was asked for


async def test_another_organisation_cannot_update_and_nothing_changes(client, referrals):
    target = referrals["gp_to_link_workers"]
    current = (await client.get(f"/fhir/ServiceRequest/{target}", headers=READ)).json()
    takeover = {
        **current,
        "requester": {"identifier": {"system": systems.ODS_ORGANIZATION, "value": OUTSIDER}},
    }

    response = await client.put(
        f"/fhir/ServiceRequest/{target}",
        json=takeover,
        headers={**organisation(OUTSIDER), "If-Match": 'W/"1"'},
    )

    assert response.status_code == 404
    after = (await client.get(f"/fhir/ServiceRequest/{target}", headers=READ)).json()
    assert after["meta"]["versionId"] == "1"
    assert after["requester"]["identifier"]["value"] == GP


async def test_the_receiver_updates_but_cannot_write_itself_out(client, referrals):
    target = referrals["other_gp_to_link_workers"]
    headers = {**organisation(LINK_WORKERS), "If-Match": 'W/"1"'}
    current = (await client.get(f"/fhir/ServiceRequest/{target}", headers=READ)).json()

    on_hold = await client.put(
        f"/fhir/ServiceRequest/{target}", json={**current, "status": "on-hold"}, headers=headers
    )
    assert on_hold.status_code == 200, on_hold.text

    unnamed = {k: v for k, v in on_hold.json().items() if k != "performer"}
    refused = await client.put(
        f"/fhir/ServiceRequest/{target}",
        json=unnamed,
        headers={**organisation(LINK_WORKERS), "If-Match": 'W/"2"'},
    )

    assert refused.status_code == 403
    assert refused.json()["issue"][0]["expression"] == ["ServiceRequest.requester"]
    after = (await client.get(f"/fhir/ServiceRequest/{target}", headers=READ)).json()
    assert after["meta"]["versionId"] == "2"
    assert after["performer"][0]["identifier"]["value"] == LINK_WORKERS


async def test_a_referral_is_created_only_in_the_callers_own_name(client):
    someone_elses = service_request(identifier="D-1", requester=OTHER_GP)
    refused = await client.post(
        "/fhir/ServiceRequest", json=someone_elses, headers=organisation(GP)
    )
    own = await client.post(
        "/fhir/ServiceRequest",
        json=service_request(identifier="D-2", requester=GP),
        headers=organisation(GP),
    )
    received = await client.post(
        "/fhir/ServiceRequest",
        json=service_request(
            identifier="D-3", requester=OTHER_GP, performer=performer(LINK_WORKERS)
        ),
        headers=organisation(LINK_WORKERS),
    )

    assert refused.status_code == 403
    assert refused.json()["issue"][0]["expression"] == ["ServiceRequest.requester"]
    assert own.status_code == 201
    assert received.status_code == 201
    assert await _found(client, READ) == {own.json()["id"], received.json()["id"]}


async def test_a_conditional_create_does_not_reveal_another_organisations_referral(
    client, referrals
):
    target = referrals["gp_to_link_workers"]
    clash = service_request(identifier="A-1", requester=OUTSIDER)

    conditional = await client.post(
        "/fhir/ServiceRequest",
        json=clash,
        headers={
            **organisation(OUTSIDER),
            "If-None-Exist": "identifier=https://emis.example/referral-id|A-1",
        },
    )
    plain = await client.post("/fhir/ServiceRequest", json=clash, headers=organisation(OUTSIDER))
    own = await client.post(
        "/fhir/ServiceRequest",
        json=service_request(identifier="A-1", requester=GP),
        headers={
            **organisation(GP),
            "If-None-Exist": "identifier=https://emis.example/referral-id|A-1",
        },
    )

    for response in (conditional, plain):
        assert response.status_code == 409
        assert target not in response.text
        assert "did not send or receive" in response.json()["issue"][0]["diagnostics"]
    assert own.status_code == 200
    assert own.json()["id"] == target
    assert len(await _found(client, READ)) == 3


async def test_a_token_without_an_organisation_is_refused(client, referrals):
    no_organisation = bearer("referral:read", "referral:write")
    target = referrals["gp_to_link_workers"]

    search = await client.get("/fhir/ServiceRequest", headers=no_organisation)
    read = await client.get(f"/fhir/ServiceRequest/{target}", headers=no_organisation)
    create = await client.post(
        "/fhir/ServiceRequest", json=service_request(identifier="E-1"), headers=no_organisation
    )

    assert [search.status_code, read.status_code, create.status_code] == [403, 403, 403]
    assert "organisation" in search.json()["issue"][0]["diagnostics"]
    assert len(await _found(client, READ)) == 3


async def test_the_organisation_claim_is_case_insensitive(client, referrals):
    assert await _found(client, organisation(GP.lower())) == {referrals["gp_to_link_workers"]}


async def test_performer_names_at_most_one_receiving_organisation(client):
    two = service_request(
        identifier="F-1", performer=[*performer(LINK_WORKERS), *performer(OUTSIDER)]
    )
    malformed = service_request(identifier="F-2", performer=performer("not an ods code"))

    for body, where in (
        (two, "ServiceRequest.performer[1]"),
        (malformed, "ServiceRequest.performer[0].identifier.value"),
    ):
        response = await client.post("/fhir/ServiceRequest", json=body, headers=WRITE)
        assert response.status_code == 422, response.text
        assert response.json()["issue"][0]["expression"] == [where]
    assert await _found(client, READ) == set()


# Messages and the lifecycle resources they carry.


def _emis(identifier: str, *, requester: str = GP, receiver: str | None = LINK_WORKERS) -> dict:
    body = emis_service_request(identifier)
    body["requester"]["identifier"]["value"] = requester
    if receiver:
        body["performer"] = performer(receiver)
    return body


def _new(identifier: str) -> dict:
    """The referral `identifier`, from the GP to the link workers, sent as new."""
    return message(_emis(identifier), reason_code="new", timestamp="2026-10-01T09:05:00Z")


def _accepted(request: dict) -> dict:
    """An update accepting `request` (its first Task)."""
    return message(
        request,
        task("t1", "accepted", accepted="2026-10-02T09:00:00Z"),
        timestamp="2026-10-02T09:05:00Z",
    )


async def _send(client, body: dict, headers: dict[str, str]) -> httpx.Response:
    return await client.post("/fhir/$process-message", json=body, headers=headers)


async def test_a_message_must_come_from_the_requester_or_the_receiver(client):
    new = _new("M-1")

    refused = await _send(client, new, organisation(OUTSIDER))
    accepted = await _send(client, new, organisation(LINK_WORKERS))

    assert refused.status_code == 403
    assert refused.json()["issue"][0]["expression"] == ["Bundle.entry[1].resource.requester"]
    assert accepted.status_code == 200
    assert len(await _found(client, READ)) == 1


async def test_a_resend_by_an_organisation_outside_the_referral_is_a_conflict_not_its_answer(
    client,
):
    new = _new("M-9")
    accepted = await _send(client, new, organisation(LINK_WORKERS))

    # Its message names neither the sender as requester nor as performer (which alone is 403),
    # but a Bundle.id already used is answered first: 409, and nothing of the referral.
    resent = await _send(client, new, organisation(OUTSIDER))

    assert accepted.status_code == 200
    assert resent.status_code == 409
    assert "did not send or receive" in resent.json()["issue"][0]["diagnostics"]
    assert resent.json()["issue"][0]["expression"] == ["Bundle.id"]
    assert "ServiceRequest/" not in resent.text


async def test_a_message_cannot_take_over_another_organisations_referral(client):
    sent = await _send(
        client,
        _new("M-2"),
        organisation(GP),
    )
    assert sent.status_code == 200
    hijack = _accepted(_emis("M-2", requester=OUTSIDER, receiver=None))

    response = await _send(client, hijack, organisation(OUTSIDER))

    assert response.status_code == 409
    [referral] = (await client.get("/fhir/ServiceRequest", headers=READ)).json()["entry"]
    assert referral["resource"]["requester"]["identifier"]["value"] == GP
    assert referral["resource"]["meta"]["versionId"] == "1"
    tasks = (await client.get("/fhir/Task", headers=READ)).json()
    assert tasks["total"] == 0


async def test_an_update_held_from_another_organisation_is_not_applied(client):
    early = _accepted(_emis("M-3", requester=OUTSIDER, receiver=None))
    held = await _send(client, early, organisation(OUTSIDER))
    assert held.status_code == 202

    new = _new("M-3")
    assert (await _send(client, new, organisation(GP))).status_code == 200

    resend = await _send(client, early, organisation(OUTSIDER))
    assert resend.status_code == 409
    [referral] = (await client.get("/fhir/ServiceRequest", headers=READ)).json()["entry"]
    assert referral["resource"]["requester"]["identifier"]["value"] == GP
    assert (await client.get("/fhir/Task", headers=READ)).json()["total"] == 0


async def test_tasks_follow_the_access_of_their_referral(client):
    journey = [
        _new("M-4"),
        _accepted(_emis("M-4")),
    ]
    for item in journey:
        assert (await _send(client, item, organisation(LINK_WORKERS))).status_code == 200
    [entry] = (await client.get("/fhir/Task", headers=READ)).json()["entry"]
    task_id, referral_id = entry["resource"]["id"], entry["resource"]["focus"]["reference"]

    for ods, status, total in ((LINK_WORKERS, 200, 1), (GP, 200, 1), (OUTSIDER, 404, 0)):
        headers = organisation(ods)
        read = await client.get(f"/fhir/Task/{task_id}", headers=headers)
        by_referral = await client.get("/fhir/Task", params={"focus": referral_id}, headers=headers)
        every = await client.get("/fhir/Task", headers=headers)
        assert read.status_code == status, ods
        assert by_referral.json()["total"] == every.json()["total"] == total, ods


async def test_a_resend_answers_only_the_organisations_of_its_referral(client):
    new = _new("M-5")
    first = await _send(client, new, organisation(GP))
    [referral] = (await client.get("/fhir/ServiceRequest", headers=READ)).json()["entry"]
    referral_id = referral["resource"]["id"]
    assert referral_id in first.text

    own = await _send(client, new, organisation(LINK_WORKERS))
    outsider = await _send(client, new, organisation(OUTSIDER))

    assert own.status_code == 200
    assert own.json() == first.json()
    assert outsider.status_code == 409
    assert referral_id not in outsider.text


async def test_an_early_update_naming_the_requester_cannot_take_the_referral(client):
    # The outsider names the GP as requester and itself as performer, before the referral exists.
    early = _accepted(_emis("M-6", receiver=OUTSIDER))
    assert (await _send(client, early, organisation(OUTSIDER))).status_code == 202
    new = _new("M-6")
    assert (await _send(client, new, organisation(GP))).status_code == 200

    [referral] = (await client.get("/fhir/ServiceRequest", headers=READ)).json()["entry"]
    referral_id = referral["resource"]["id"]
    assert referral["resource"]["performer"][0]["identifier"]["value"] == LINK_WORKERS
    for ods, status in ((LINK_WORKERS, 200), (OUTSIDER, 404)):
        read = await client.get(f"/fhir/ServiceRequest/{referral_id}", headers=organisation(ods))
        assert read.status_code == status, ods
    assert (await client.get("/fhir/Task", headers=READ)).json()["total"] == 0
    assert (await _send(client, early, organisation(OUTSIDER))).status_code == 409


async def test_a_new_message_from_another_organisation_does_not_collect_held_updates(client):
    held = _accepted(_emis("M-7"))
    assert (await _send(client, held, organisation(GP))).status_code == 202
    squatter = message(
        _emis("M-7", requester=OUTSIDER, receiver=GP),
        reason_code="new",
        timestamp="2026-10-03T09:05:00Z",
    )
    assert (await _send(client, squatter, organisation(OUTSIDER))).status_code == 200

    assert (await client.get("/fhir/Task", headers=organisation(OUTSIDER))).json()["total"] == 0
    assert (await client.get("/fhir/Task", headers=READ)).json()["total"] == 0


async def test_a_clash_with_several_hidden_referrals_names_none_of_them(client):
    ids = []
    for identifier in ("X-1", "X-2"):
        sent = await _send(
            client,
            _new(identifier),
            organisation(GP),
        )
        assert sent.status_code == 200
    ids = {
        e["resource"]["id"]
        for e in (await client.get("/fhir/ServiceRequest", headers=READ)).json()["entry"]
    }
    both = _emis("X-1", requester=OUTSIDER, receiver=None)
    both["identifier"].append({**both["identifier"][0], "value": "X-2"})

    response = await _send(
        client,
        message(both, reason_code="new", timestamp="2026-10-01T09:05:00Z"),
        organisation(OUTSIDER),
    )

    assert response.status_code == 409
    assert not any(referral_id in response.text for referral_id in ids)


async def test_neither_party_can_write_the_other_out(client, referrals):
    target = referrals["gp_to_link_workers"]

    async def put(ods: str, version: int, **changes: Any) -> httpx.Response:
        current = (await client.get(f"/fhir/ServiceRequest/{target}", headers=READ)).json()
        return await client.put(
            f"/fhir/ServiceRequest/{target}",
            json={**current, **changes},
            headers={**organisation(ods), "If-Match": f'W/"{version}"'},
        )

    other_requester = {"identifier": {"system": systems.ODS_ORGANIZATION, "value": OUTSIDER}}
    handed_on = await put(LINK_WORKERS, 1, requester=other_requester)
    receiver_changed = await put(LINK_WORKERS, 1, performer=performer(OUTSIDER))
    assert (handed_on.status_code, receiver_changed.status_code) == (403, 403)
    assert handed_on.json()["issue"][0]["expression"] == ["ServiceRequest.requester"]

    redirected = await put(GP, 1, performer=performer(OTHER_GP))
    assert redirected.status_code == 200  # the requester may send it elsewhere
    assert (
        await client.get(f"/fhir/ServiceRequest/{target}", headers=organisation(LINK_WORKERS))
    ).status_code == 404


async def test_an_update_message_cannot_change_the_requester(client):
    new = _new("M-8")
    assert (await _send(client, new, organisation(GP))).status_code == 200
    takeover = message(
        _emis("M-8", requester=OUTSIDER),
        timestamp="2026-10-02T09:05:00Z",
    )

    response = await _send(client, takeover, organisation(LINK_WORKERS))

    assert response.status_code == 403
    assert response.json()["issue"][0]["expression"] == ["Bundle.entry[1].resource.requester"]
    [referral] = (await client.get("/fhir/ServiceRequest", headers=READ)).json()["entry"]
    assert referral["resource"]["requester"]["identifier"]["value"] == GP


@pytest.mark.parametrize("claim", ["F84001 Y09999", "\u017f\u017f\u017f", "F8", ""])
async def test_an_organisation_claim_that_is_not_an_ods_code_names_no_organisation(
    client, referrals, claim
):
    response = await client.get("/fhir/ServiceRequest", headers=organisation(claim))

    assert response.status_code == 403


async def test_only_the_screening_hand_off_issues_screening_identifiers(client):
    body = service_request(
        identifier="a-screening-response-id",
        identifier_system="https://signpost.nhs.example/Id/screening-response",
        requester=GP,
    )

    squatted = await client.post("/fhir/ServiceRequest", json=body, headers=organisation(GP))
    handed_off = await client.post("/fhir/ServiceRequest", json=body, headers=WRITE)

    assert squatted.status_code == 403
    assert squatted.json()["issue"][0]["expression"] == ["ServiceRequest.identifier[0]"]
    assert handed_off.status_code == 201
