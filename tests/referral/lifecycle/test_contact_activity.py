"""A new contact sent alone (the usual update message) moves the referral's summary on: its
contact count, did-not-attend count and first contact are what the contacts' rows give, after
each message, and the served ServiceRequest shows them."""

from tests.referral.conftest import READ, send
from tests.referral.lifecycle.test_journeys import lifecycle_of
from tests.support.messages import contact, emis_service_request, message, new_referral
from tests.support.rows import fetch_rows

# Each sent alone, in this order: (sender id, start, attendance code, status).
CONTACTS = [
    ("c1", "2026-10-20T10:00:00Z", "5", "finished"),  # attended: the first contact
    # attended earlier: the first now (sent in summer time: the summary keeps it in UTC)
    ("c2", "2026-10-10T11:00:00+01:00", "5", "finished"),
    ("c3", "2026-10-30T10:00:00Z", "5", "finished"),  # attended later: the first stays
    ("c4", "2026-10-08T10:00:00Z", "3", "finished"),  # did not attend: not a first contact
    ("c5", "2026-10-05T10:00:00Z", "5", "entered-in-error"),  # not counted at all
]

SUMMARY = "SELECT contact_count, dna_count, first_contact_at FROM referral_lifecycle"
FROM_ROWS = """
SELECT count(*) AS contact_count,
       coalesce(sum(CASE WHEN attendance_outcome = 'dna' THEN 1 ELSE 0 END), 0) AS dna_count,
       min(CASE WHEN attendance_outcome = 'attended' THEN contact_at END) AS first_contact_at
FROM contact WHERE status <> 'entered-in-error'
"""


async def test_each_contact_sent_alone_moves_the_summary_as_its_rows_do(client, referral_app):
    created = await send(client, new_referral(timestamp="2026-10-01T09:00:00Z"))
    assert created.status_code == 200, created.text
    for day, (contact_id, start, attendance, status) in enumerate(CONTACTS, start=1):
        sent = contact(contact_id, start, attendance=attendance, status=status)
        body = message(emis_service_request(), sent, timestamp=f"2026-11-0{day}T09:00:00Z")
        response = await send(client, body)
        assert response.status_code == 200, response.text
        assert await fetch_rows(referral_app, SUMMARY) == await fetch_rows(
            referral_app, FROM_ROWS
        ), contact_id
        [served] = (await client.get("/fhir/ServiceRequest", headers=READ)).json()["entry"]
        assert lifecycle_of(served["resource"])["firstContact"].endswith("Z"), contact_id

    [referral] = (await client.get("/fhir/ServiceRequest", headers=READ)).json()["entry"]
    served = lifecycle_of(referral["resource"])
    assert (served["contacts"], served["didNotAttend"]) == (4, 1)  # the missed contact is a contact
    assert served["firstContact"] == "2026-10-10T10:00:00.000Z"
    # The ServiceRequest sent again later changes nothing it shows: no new version.
    version = referral["resource"]["meta"]["versionId"]
    later = message(emis_service_request(), timestamp="2026-11-09T09:00:00Z")
    assert (await send(client, later)).status_code == 200
    again = await client.get(f"/fhir/ServiceRequest/{referral['resource']['id']}", headers=READ)
    assert again.json()["meta"]["versionId"] == version
    [row] = await fetch_rows(referral_app, "SELECT count(*) AS n FROM contact")
    assert row["n"] == 5  # the contact entered in error is kept, not counted
