"""MSK-HQ, SF-12 and the Friends and Family Test: accepted within their ranges, refused outside.

MSK-HQ has a total (0-56, whole); SF-12 sends its physical and mental component summaries
(0-100, decimals allowed) and has no total; a Friends and Family Test response is 1-6.
"""

import pytest

from tests.referral.conftest import READ, send
from tests.support.messages import (
    assessment,
    emis_service_request,
    new_referral,
)
from tests.support.outcomes import has_issue
from tests.support.rows import count_rows

REQUEST = emis_service_request()


def _new_with(*resources):
    return new_referral(
        *resources, request=REQUEST, timestamp="2026-10-06T09:05:00Z", bundle_id="instruments-1"
    )


async def test_the_new_instruments_are_kept_with_their_scores(client, referral_app):
    response = await send(
        client,
        _new_with(
            assessment("m1", "msk-hq", "baseline", "2026-10-02", total=31),
            assessment(
                "s1", "sf-12", "baseline", "2026-10-02", items={"sf-12-pcs": 42, "sf-12-mcs": 51}
            ),
            assessment("f1", "fft", "discharge", "2026-10-05", items={"fft-response": 2}),
        ),
    )

    assert response.status_code == 200, response.text
    assert await count_rows(referral_app, "assessment") == 3
    found = await client.get("/fhir/Observation", params={"_count": 10}, headers=READ)
    codes = {
        e["resource"]["code"]["coding"][0]["code"]: e["resource"] for e in found.json()["entry"]
    }
    assert set(codes) == {"msk-hq", "sf-12", "fft"}
    assert codes["msk-hq"]["valueQuantity"]["value"] == 31
    assert {
        c["code"]["coding"][0]["code"]: c["valueInteger"] for c in codes["sf-12"]["component"]
    } == {
        "sf-12-pcs": 42,
        "sf-12-mcs": 51,
    }


async def test_sf12_summaries_may_have_decimals(client, referral_app):
    sf12 = assessment("s1", "sf-12", "follow-up", "2026-10-03")
    sf12["component"] = [
        {
            "code": {"coding": [{"system": sf12["code"]["coding"][0]["system"], "code": code}]},
            "valueQuantity": {"value": value},
        }
        for code, value in (("sf-12-pcs", 38.62), ("sf-12-mcs", 55.1))
    ]

    response = await send(client, _new_with(sf12))

    assert response.status_code == 200, response.text
    assert await count_rows(referral_app, "assessment_score") == 2


OUT_OF_RANGE = {
    "MSK-HQ total above 56": (
        assessment("m1", "msk-hq", "baseline", "2026-10-02", total=57),
        "value",
        "Bundle.entry[3].resource.valueQuantity.value",
    ),
    "MSK-HQ total not whole": (
        assessment("m1", "msk-hq", "baseline", "2026-10-02", total=30.5),
        "value",
        "Bundle.entry[3].resource.valueQuantity.value",
    ),
    "SF-12 has no total": (
        assessment("s1", "sf-12", "baseline", "2026-10-02", total=50),
        "business-rule",
        "Bundle.entry[3].resource.valueQuantity",
    ),
    "SF-12 summary above 100": (
        assessment("s1", "sf-12", "baseline", "2026-10-02", items={"sf-12-mcs": 101}),
        "value",
        "Bundle.entry[3].resource.component[0].valueInteger",
    ),
    "Friends and Family Test response 7": (
        assessment("f1", "fft", "discharge", "2026-10-05", items={"fft-response": 7}),
        "value",
        "Bundle.entry[3].resource.component[0].valueInteger",
    ),
    "Friends and Family Test response 0": (
        assessment("f1", "fft", "discharge", "2026-10-05", items={"fft-response": 0}),
        "value",
        "Bundle.entry[3].resource.component[0].valueInteger",
    ),
    "an SF-12 item on an MSK-HQ assessment": (
        assessment("m1", "msk-hq", "baseline", "2026-10-02", items={"sf-12-pcs": 40}),
        "code-invalid",
        "Bundle.entry[3].resource.component[0].code",
    ),
}


@pytest.mark.parametrize("case", OUT_OF_RANGE)
async def test_a_score_outside_its_instrument_is_refused(client, referral_app, case):
    resource, code, expression = OUT_OF_RANGE[case]

    response = await send(client, _new_with(resource))

    assert response.status_code == 422, response.text
    outcome = response.json()
    assert has_issue(outcome, code, expression), outcome
    assert await count_rows(referral_app, "referral") == 0
