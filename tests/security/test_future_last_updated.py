"""A sender's `meta.lastUpdated` orders versions of a record, so it is bounded like
`Bundle.timestamp`: more than a day ahead of the receiving clock is 422 naming the element, and a
later message still changes the referral (a far-future one used to freeze it)."""

import uuid
from datetime import UTC, datetime, timedelta

from tests.security.bodies import REFERRAL_WRITE, named, new_referral
from tests.support.builders import fresh_nhs_number
from tests.support.messages import message


async def _send(referral, resource, reason, timestamp):
    """Posts `resource` in a message of its own (a fresh bundle id) with the given reason."""
    return await referral.post(
        "/fhir/$process-message",
        json=message(
            resource, reason_code=reason, timestamp=timestamp, bundle_id=str(uuid.uuid4())
        ),
        headers=REFERRAL_WRITE,
    )


async def test_a_future_last_updated_is_422_and_a_later_revoke_applies(referral):
    resource = new_referral(nhs_number=fresh_nhs_number())
    created = await _send(referral, resource, "new", "2026-10-01T10:00:00Z")
    assert created.status_code == 200, created.text

    frozen = {**resource, "status": "on-hold", "meta": {"lastUpdated": "9999-12-31T00:00:00Z"}}
    response = await _send(referral, frozen, "update", "2026-10-02T10:00:00Z")

    assert response.status_code == 422, response.text
    assert named(response) == "Bundle.entry[1].resource.meta.lastUpdated"

    within_skew = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    ok = {**resource, "status": "on-hold", "meta": {"lastUpdated": within_skew}}
    accepted = await _send(referral, ok, "update", "2026-10-02T10:00:00Z")
    assert accepted.status_code == 200, accepted.text
    later = (datetime.now(UTC) + timedelta(hours=2)).isoformat().replace("+00:00", "Z")
    revoked = {**resource, "status": "revoked", "meta": {"lastUpdated": later}}
    revoke = await _send(referral, revoked, "update", "2026-10-03T10:00:00Z")
    assert revoke.status_code == 200, revoke.text
    identifier = resource["identifier"][0]
    found = await referral.get(
        "/fhir/ServiceRequest",
        params={"identifier": f"{identifier['system']}|{identifier['value']}"},
        headers=REFERRAL_WRITE,
    )
    assert found.json()["entry"][0]["resource"]["status"] == "revoked"
