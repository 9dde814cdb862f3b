"""Personal health budgets offered as support: a Task output of type personal-health-budget,
with its stage, type and amount band in Extension-Signpost-PersonalHealthBudget."""

from typing import Any

import pytest

from signpost_schemas.fhir import profiles
from tests.referral.conftest import READ, send
from tests.referral.messages.test_kept_with_gaps import warnings
from tests.support.messages import (
    new_referral,
    support,
    task,
)
from tests.support.rows import fetch_rows


def budget(
    stage: str | None = "agreed",
    kind: str | None = "direct-payment",
    band: str | None = "1000-4999",
) -> dict[str, Any]:
    output = support("personal-health-budget", "referral", offered="2026-10-05T10:00:00Z")
    parts = [
        {"url": url, "valueCoding": {"system": system, "code": code}}
        for url, system, code in (
            ("stage", profiles.PHB_STAGE, stage),
            ("type", profiles.PHB_TYPE, kind),
            ("amountBand", profiles.PHB_AMOUNT_BAND, band),
        )
        if code is not None
    ]
    output["extension"].append(
        {"url": profiles.PERSONAL_HEALTH_BUDGET_EXTENSION, "extension": parts}
    )
    return output


def referral_with(*outputs: dict[str, Any], timestamp: str = "2026-10-06T09:00:00Z") -> dict:
    return new_referral(
        task("t1", "in-progress", accepted="2026-10-02", outputs=list(outputs)),
        timestamp=timestamp,
    )


async def _budgets(app) -> list[dict[str, Any]]:
    return await fetch_rows(
        app,
        "SELECT support_code, support_group, kind, budget_stage, budget_type, budget_amount_band "
        "FROM support_offered ORDER BY position",
    )


async def test_a_budget_is_kept_as_support_with_its_stage_type_and_band(client, referral_app):
    response = await send(client, referral_with(budget(), support("debt-advice")))

    assert response.status_code == 200, response.text
    assert await _budgets(referral_app) == [
        {
            "support_code": "personal-health-budget",
            "support_group": "other",
            "kind": "referral",
            "budget_stage": "agreed",
            "budget_type": "direct-payment",
            "budget_amount_band": "1000-4999",
        },
        {
            "support_code": "debt-advice",
            "support_group": "finance",
            "kind": "signpost",
            "budget_stage": None,
            "budget_type": None,
            "budget_amount_band": None,
        },
    ]
    [entry] = (await client.get("/fhir/Task", headers=READ)).json()["entry"]
    served = entry["resource"]["output"][0]["extension"]
    assert any(e["url"] == profiles.PERSONAL_HEALTH_BUDGET_EXTENSION for e in served)


async def test_a_later_task_moves_the_budget_from_offered_to_in_place(client, referral_app):
    assert (await send(client, referral_with(budget("offered", None, None)))).status_code == 200
    later = referral_with(
        budget("in-place", "notional", "5000-19999"), timestamp="2026-11-06T09:00:00Z"
    )
    later["entry"][0]["resource"]["reason"]["coding"][0]["code"] = "update"
    assert (await send(client, later)).status_code == 200
    [row] = await _budgets(referral_app)
    assert (row["budget_stage"], row["budget_type"], row["budget_amount_band"]) == (
        "in-place",
        "notional",
        "5000-19999",
    )


async def test_a_budget_without_its_details_is_kept_with_a_warning(client, referral_app):
    bare = support("personal-health-budget")
    response = await send(client, referral_with(bare, budget("offered", "notional", None)))

    assert response.status_code == 200, response.text
    assert ("not-recorded", "Bundle.entry[3].resource.output.extension") in warnings(
        response.json()
    )
    rows = await _budgets(referral_app)
    assert [(r["budget_stage"], r["budget_type"]) for r in rows] == [
        (None, None),
        ("offered", "notional"),
    ]


@pytest.mark.parametrize(
    "output",
    [
        budget(stage=None),
        budget(stage="spent"),
        budget(kind="voucher"),
        budget(band="about-500"),
        {**support("debt-advice"), "extension": budget()["extension"]},
    ],
    ids=["no-stage", "unknown-stage", "unknown-type", "unknown-band", "not-a-budget"],
)
async def test_a_budget_that_cannot_be_read_is_refused_and_nothing_is_written(
    client, referral_app, output
):
    response = await send(client, referral_with(output))

    assert response.status_code == 422, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert any("output[0]" in e for i in outcome["issue"] for e in i.get("expression", []))
    assert await fetch_rows(referral_app, "SELECT id FROM referral") == []
