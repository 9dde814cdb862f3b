"""Reasons outside the shipped groups in reports: filterable, counted, never matched."""

from tests.referral.conftest import WRITE
from tests.reports.conftest import UNSUPPRESSED
from tests.support.builders import reason, service_request


async def _create(client, identifier: str, reasons: list) -> None:
    body = service_request(identifier=identifier, reasons=reasons)
    response = await client.post("/fhir/ServiceRequest", json=body, headers=WRITE)
    assert response.status_code == 201, response.text


async def test_unmapped_and_uncoded_reasons_are_groups_of_their_own(client, lookups, report):
    await _create(client, "R-1", [reason("366979004"), {"text": "Feels stuck at home"}])
    await _create(client, "R-2", [reason("366979004"), reason("105531004")])
    await _create(client, "R-3", [{"text": "Money worries"}])

    groups = await report("reasons", unsuppressed=True, level="reason-group")
    assert {r["reason_group"]: r["referrals"] for r in groups["rows"]} == {
        "housing": 1,
        "unmapped": 2,
        "uncoded": 2,
    }
    by_code = await report("reasons", unsuppressed=True, reason="366979004")
    assert {r["reason"]: r["referrals"] for r in by_code["rows"]} == {
        "366979004": 2,
        "105531004": 1,
        "uncoded": 1,
    }
    labels = {r["reason"]: r["reason_label"] for r in by_code["rows"]}
    assert labels["uncoded"] == "Reason given as text only"
    uncoded = await report("referrals", unsuppressed=True, **{"reason-group": "uncoded"})
    assert uncoded["totals"][0]["referrals"] == 2


async def test_only_a_matchable_need_enters_the_match_rate_and_text_is_not_coded(
    client, lookups, report
):
    await _create(client, "R-1", [reason("366979004")])
    await _create(client, "R-2", [{"text": "Money worries"}])
    await _create(client, "R-3", [reason("105531004")])

    match = await report("support-match", unsuppressed=True)
    assert match["totals"][0]["referrals"] == 1  # only the housing need
    completeness = await report("completeness", unsuppressed=True)
    reason_total = next(t for t in completeness["totals"] if t["field"] == "reason")
    assert (reason_total["complete"], reason_total["applicable"]) == (2, 3)


async def test_a_malformed_snomed_filter_value_is_refused(client, lookups):
    response = await client.get("/reports/reasons?reason=366979005", headers=UNSUPPRESSED)

    assert response.status_code == 400
    assert response.json()["errors"][0]["parameter"] == "reason"
