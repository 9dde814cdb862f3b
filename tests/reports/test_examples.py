"""The reports' OpenAPI examples are what the reports answer today, on both backends."""

import json

from referral_api.referrals.models import Referral, ReferralReason
from signpost_schemas import systems
from tests.support.clients import bearer
from tests.support.messages import EMIS_REFERRAL_ID
from tests.support.report_examples import EXAMPLES_FILE, capture, example_dataset, render

READ = bearer("referral:read", "referral:all-organisations")


async def test_the_committed_report_examples_match_the_reports(load, client):
    await load(example_dataset())

    captured = render(await capture(client))

    committed = EXAMPLES_FILE.read_text(encoding="utf-8")
    assert json.loads(captured).keys() == json.loads(committed).keys()
    assert captured == committed, (
        "a report's output changed: run `python -m tests.support.report_examples`, then "
        "`make openapi`, and commit both"
    )


async def test_the_sample_referrals_are_served_as_whole_service_requests(load, client):
    """`make run` loads this dataset: a search or read of its referrals serves each as its
    sender sent it (subject, requester, role, reasons, date), found by its identifier too."""
    dataset = example_dataset()
    await load(dataset)
    rows = {row["id"]: row for row in dataset.rows(Referral)}
    reasons: dict[str, list[str]] = {}
    for row in dataset.rows(ReferralReason):
        if row["reason_system"] == systems.SNOMED:
            reasons.setdefault(row["referral_id"], []).append(row["reason_code"])

    pages = [
        (await client.get(f"/fhir/ServiceRequest?_count=100&_offset={offset}", headers=READ)).json()
        for offset in (0, 100)
    ]
    served = [entry["resource"] for page in pages for entry in page["entry"]]
    first = served[0]
    by_identifier = await client.get(
        "/fhir/ServiceRequest",
        params={"identifier": f"{EMIS_REFERRAL_ID}|{first['identifier'][0]['value']}"},
        headers=READ,
    )

    assert pages[0]["total"] == len(rows) == len({r["id"] for r in served}) == 120
    for resource in served:
        row = rows[resource["id"]]
        assert resource["resourceType"] == "ServiceRequest"
        assert resource["subject"]["identifier"]["value"] == row["nhs_number"]
        assert resource["requester"]["identifier"]["value"] == row["requester_ods"]
        assert resource["performerType"]["coding"][0]["code"] == row["received_by_role"]
        assert resource["authoredOn"].startswith(row["authored_at"].date().isoformat())
        assert [c["coding"][0]["code"] for c in resource.get("reasonCode", [])] == reasons.get(
            resource["id"], []
        )
    assert [e["resource"]["id"] for e in by_identifier.json()["entry"]] == [first["id"]]
