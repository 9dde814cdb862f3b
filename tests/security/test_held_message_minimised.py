"""An update held for a referral not received yet is stored minimised to the dataset: no names,
telecoms, address lines or `subject.display`, and no resource types Signpost does not keep."""

import uuid

from sqlalchemy import text

from tests.security.bodies import REFERRAL_WRITE, new_referral
from tests.support.builders import fresh_nhs_number
from tests.support.messages import emis_patient, message


async def test_a_held_update_keeps_nothing_outside_the_dataset(referral_service):
    app, client = referral_service
    nhs_number = fresh_nhs_number()
    resource = new_referral(nhs_number=nhs_number)
    resource["subject"]["display"] = "Synthetic Person"
    bundle = message(
        resource,
        reason_code="update",
        timestamp="2026-10-02T10:00:00Z",
        bundle_id=str(uuid.uuid4()),
        patient=emis_patient(nhs_number),
    )
    bundle["entry"].append(
        {
            "fullUrl": f"urn:uuid:{uuid.uuid4()}",
            "resource": {
                "resourceType": "Condition",
                "id": "cond-1",
                "subject": {"reference": "Patient/x", "display": "Synthetic Person"},
                "code": {"text": "Synthetic diagnosis"},
            },
        }
    )

    response = await client.post("/fhir/$process-message", json=bundle, headers=REFERRAL_WRITE)

    assert response.status_code == 202, response.text
    async with app.state.database.sessionmaker() as session:
        held = (
            await session.execute(
                text("SELECT body FROM held_message WHERE bundle_id = :id"), {"id": bundle["id"]}
            )
        ).scalar_one()
    for personal in ("Synthetic Person", "Synthetic Street", "07700900000", "Synthetic diagnosis"):
        assert personal not in held
    assert '"Condition"' not in held
