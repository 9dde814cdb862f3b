"""Process metrics at /reports/screening: the funnel, by domain, item declines, disclosure."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from screening_api.config import ScreeningSettings
from signpost_schemas.disclosure import (
    DEV_DISCLOSURE_KEY,
    KEY_SPACE,
    SUPPRESS_UP_TO,
    PerturbationTable,
    publish_unkeyed,
    ratio,
    shipped_table,
)
from tests.screening.builders import barts_answers, invitation, screening_response
from tests.screening.conftest import READ, REPORTS, WRITE
from tests.support.clients import bearer

UNSUPPRESSED = bearer("reports:read", "reports:unsuppressed")
TABLE = shipped_table()
# The rule before the cell key method: suppress 1-7, round to 5, no adjustment.
NO_ADJUSTMENT = PerturbationTable(SUPPRESS_UP_TO + 1, ((0,) * KEY_SPACE,))
MEASURES = (
    "invited",
    "completed",
    "positive",
    "wants_help",
    "declined_help",
    "referred",
    "referral_pending",
    "referral_accepted",
    "referral_closed",
)


def _allows(true: int, published: int | None) -> bool:
    """Whether the disclosure rule can publish a true count as `published` (the adjustment
    depends on the records' keys, so a test knows only the range)."""
    if true == 0:
        return published == 0
    low, high = TABLE.bounds(published)
    if published is None:
        return low <= true <= (high or true)
    return published % 5 == 0 and low <= true <= (high or true)


def _last_month(day: int, hour: int) -> datetime:
    """A moment in the month before this one: always past, whatever today's date."""
    first_of_this_month = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0)
    return (first_of_this_month - timedelta(days=1)).replace(day=day, hour=hour, microsecond=0)


# Invitations are dated by Task.authoredOn and screens by `authored`: both in the same month.
INVITED_AT = _last_month(9, 9)
SCREENED_AT = _last_month(10, 14)
MONTH = SCREENED_AT.strftime("%Y-%m")


def _instant(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def _submit(client, answers, **options):
    options.setdefault("authored", _instant(SCREENED_AT))
    response = await client.post(
        "/fhir/QuestionnaireResponse", json=screening_response(answers, **options), headers=WRITE
    )
    assert response.status_code == 201, response.text


async def _funnel(client, worker):
    """20 invited; 20 completed: 12 positive (10 want help, 2 declined), 8 negative; every
    positive flags finance, 9 flag food; 10 people decline to answer item 5."""
    for _ in range(20):
        created = await client.post(
            "/fhir/Task", json=invitation(authored=_instant(INVITED_AT)), headers=WRITE
        )
        assert created.status_code == 201, created.text
    for n in range(10):
        await _submit(
            client,
            barts_answers(item_1="yes", item_2="yes" if n < 9 else "no", item_5="decline")
            | {"7": "yes"},
        )
    for _ in range(2):
        await _submit(client, barts_answers(item_1="yes") | {"7": "no"})
    for _ in range(8):
        await _submit(client, barts_answers())
    await worker.deliver_due()


async def test_funnel_per_clinic_pathway_and_month(client, worker):
    await _funnel(client, worker)

    response = await client.get("/reports/screening", headers=REPORTS)
    true = (
        await client.get("/reports/screening", params={"disclosure": "none"}, headers=UNSUPPRESSED)
    ).json()

    assert response.status_code == 200
    report = response.json()
    [group] = report["groups"]
    assert (group["clinic"], group["pathway"]) == ("R1H12", "cardiology-outpatient")
    # Invitations and the screens they led to fall in the month they were given.
    assert group["month"] == MONTH
    [true_group] = true["groups"]
    assert {k: true_group[k] for k in MEASURES} == {
        "invited": 20,
        "completed": 20,
        "positive": 12,
        "wants_help": 10,
        "declined_help": 2,
        "referred": 10,
        "referral_pending": 0,
        "referral_accepted": 0,
        "referral_closed": 0,
    }
    assert true_group["positive_by_domain"] == {"financial-insecurity": 12, "food-insecurity": 9}
    # Published: each count as the cell key method allows; 2 is suppressed, 0 stays 0.
    assert all(_allows(true_group[k], group[k]) for k in MEASURES), group
    assert group["declined_help"] is None and group["referral_pending"] == 0
    assert all(
        _allows(true_group["positive_by_domain"][d], group["positive_by_domain"][d])
        for d in true_group["positive_by_domain"]
    )
    # Rates come from the published counts.
    assert group["positive_rate"] == ratio(group["positive"], group["completed"])
    assert "declined_help" in group["suppressed"]
    assert _allows(20, report["total"]["completed"])
    # The same records publish the same value: one group, so the total is the group.
    assert all(report["total"][k] == group[k] for k in MEASURES)


async def test_item_level_dont_want_to_answer_rates(client, worker):
    await _funnel(client, worker)

    items = (await client.get("/reports/screening", headers=REPORTS)).json()["items"]
    true = (
        await client.get("/reports/screening", params={"disclosure": "none"}, headers=UNSUPPRESSED)
    ).json()["items"]

    by_item = {item["link_id"]: item for item in items}
    true_by_item = {item["link_id"]: item for item in true}
    assert (true_by_item["5"]["answered"], true_by_item["5"]["declined_to_answer"]) == (20, 10)
    assert true_by_item["5"]["declined_to_answer_rate"] == 50.0
    assert true_by_item["7"]["answered"] == 12
    assert _allows(20, by_item["5"]["answered"])
    assert _allows(10, by_item["5"]["declined_to_answer"])
    assert by_item["5"]["declined_to_answer_rate"] == ratio(
        by_item["5"]["declined_to_answer"], by_item["5"]["answered"]
    )
    assert by_item["1"]["declined_to_answer"] == 0
    assert _allows(12, by_item["7"]["answered"])


async def test_small_numbers_are_suppressed(client, worker):
    for _ in range(3):
        await _submit(client, barts_answers(item_1="yes") | {"7": "yes"})

    group = (await client.get("/reports/screening", headers=REPORTS)).json()["groups"][0]

    assert group["completed"] is None
    assert group["positive"] is None
    assert group["positive_rate"] is None
    assert group["invited"] == 0


async def test_filters_by_clinic_and_pathway(client, worker):
    await _submit(client, barts_answers(), clinic="RQX01", pathway="renal-dialysis")
    await _submit(client, barts_answers(), clinic="R1H12", pathway="cardiology-outpatient")

    report = (
        await client.get(
            "/reports/screening",
            params={"clinic": "rqx01", "pathway": "renal-dialysis"},
            headers=REPORTS,
        )
    ).json()

    assert [(g["clinic"], g["pathway"]) for g in report["groups"]] == [("RQX01", "renal-dialysis")]


async def test_date_range_excludes_other_periods(client, worker):
    await _submit(client, barts_answers())

    report = (
        await client.get(
            "/reports/screening", params={"from": "2001-01-01", "to": "2001-12-31"}, headers=REPORTS
        )
    ).json()

    assert report["groups"] == []
    assert (report["filters"]["from"], report["filters"]["to"]) == ("2001-01-01", "2001-12-31")


async def test_the_last_representable_day_is_an_open_end(client, worker):
    await _submit(client, barts_answers())

    response = await client.get(
        "/reports/screening", params={"from": "2001-01-01", "to": "9999-12-31"}, headers=REPORTS
    )

    assert response.status_code == 200
    assert response.json()["groups"][0]["completed"] is None  # one response: suppressed


async def test_csv_has_a_row_per_group_and_a_total(client, worker):
    await _funnel(client, worker)

    response = await client.get("/reports/screening", headers={**REPORTS, "Accept": "text/csv"})

    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    total = (await client.get("/reports/screening", headers=REPORTS)).json()["total"]
    assert [row["month"] == "all" for row in rows] == [False, True]
    assert rows[1]["completed"] == str(total["completed"])
    assert rows[1]["declined_help"] == "*"
    shown = total["positive_by_domain"]["food-insecurity"]
    assert rows[1]["positive_food-insecurity"] == ("*" if shown is None else str(shown))


async def test_csv_marks_suppressed_cells_with_a_star_as_the_referral_reports_do(
    client, worker, screening_app, tmp_path
):
    """A suppressed count is `*` (as in referral-api's CSV reports); an empty cell is a value
    that does not apply."""
    still = tmp_path / "ptable.csv"
    still.write_text(PerturbationTable(SUPPRESS_UP_TO + 1, ((0,) * KEY_SPACE,)).to_csv())
    configured = screening_app.state.settings
    screening_app.state.settings = configured.model_copy(update={"disclosure_ptable": str(still)})
    try:
        await _funnel(client, worker)
        response = await client.get("/reports/screening", params={"format": "csv"}, headers=REPORTS)
    finally:
        screening_app.state.settings = configured

    [group, total] = list(csv.DictReader(io.StringIO(response.text)))
    # 2 declined help: suppressed; 0 referrals pending: published as 0.
    assert (group["declined_help"], group["referral_pending"]) == ("*", "0")
    assert (total["declined_help"], total["referral_pending"]) == ("*", "0")
    assert group["positive_food-insecurity"] == "10"


async def test_reports_need_the_reports_scope(client):
    response = await client.get("/reports/screening", headers=READ)

    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_bad_parameters_are_named(client):
    response = await client.get("/reports/screening", params={"from": "yesterday"}, headers=REPORTS)

    assert response.status_code == 400
    assert response.json()["errors"][0]["parameter"] == "from"


def test_disclosure_rules():
    assert [publish_unkeyed(n) for n in (0, 1, 7, 8, 12, 13, 100)] == [
        0,
        None,
        None,
        10,
        10,
        15,
        100,
    ]
    assert ratio(None, 100) is None
    assert ratio(30, 0) is None
    assert ratio(30, 40) == 75.0


async def test_true_counts_need_the_unsuppressed_scope(client, worker):
    for _ in range(3):
        await _submit(client, barts_answers(item_1="yes") | {"7": "yes"})

    refused = await client.get("/reports/screening", params={"disclosure": "none"}, headers=REPORTS)
    allowed = await client.get(
        "/reports/screening",
        params={"disclosure": "none"},
        headers=bearer("reports:read", "reports:unsuppressed"),
    )

    assert refused.status_code == 403
    report = allowed.json()
    assert report["disclosure"] == "none"
    assert report["groups"][0]["completed"] == 3
    assert report["notes"][0].startswith("UNSUPPRESSED")


async def test_invitation_for_an_unknown_questionnaire_is_refused(client):
    response = await client.post(
        "/fhir/Task", json=invitation(questionnaire="urn:nothing|1"), headers=WRITE
    )

    assert response.status_code == 422
    assert response.json()["issue"][0]["expression"] == ["Task.input"]


async def test_the_period_is_when_screens_were_given_not_when_received(client, worker):
    await _submit(client, barts_answers())  # given last month, received now
    last_month = {"from": SCREENED_AT.strftime("%Y-%m-01"), "to": SCREENED_AT.date().isoformat()}
    this_month = {"from": datetime.now(UTC).strftime("%Y-%m-01")}

    then = (await client.get("/reports/screening", params=last_month, headers=REPORTS)).json()
    now = (await client.get("/reports/screening", params=this_month, headers=REPORTS)).json()

    assert [group["month"] for group in then["groups"]] == [MONTH]
    assert now["groups"] == []


def _possible(published: int | None, table: PerturbationTable) -> tuple[int, int]:
    """What a reader who knows the rule says of the true count behind a published value
    (`PerturbationTable.bounds`: the truth adjusted by at most the table's maximum and rounded
    to 5, and 8 or more; suppressed is 1 to the largest count the table can suppress)."""
    low, high = table.bounds(published)
    assert high is not None
    return low, high


def _pinned_values(
    rows: list[int | None], total: int | None, table: PerturbationTable = TABLE
) -> tuple[int, int]:
    """The values the last row can take given every row's interval and that the rows add up to
    the total."""
    low, high = _possible(rows[-1], table)
    total_low, total_high = _possible(total, table)
    others = [_possible(row, table) for row in rows[:-1]]
    return (
        max(low, total_low - sum(h for _, h in others)),
        min(high, total_high - sum(lo for lo, _ in others)),
    )


async def test_differencing_pathways_and_their_total_does_not_reveal_a_small_pathway(
    client, worker
):
    """Pathways of 8, 8 and 1 completed screens. Rounding alone published 10, 10, suppressed
    and a total of 15, which leave the small pathway exactly 1; with the cell key method the
    published figures leave it a range."""
    pathways = {"cardiology-outpatient": 8, "renal-dialysis": 8, "diabetes-clinic": 1}
    for pathway, screens in pathways.items():
        for _ in range(screens):
            await _submit(client, barts_answers(), pathway=pathway)

    by_pathway = [
        (await client.get("/reports/screening", params={"pathway": p}, headers=REPORTS)).json()[
            "total"
        ]["completed"]
        for p in pathways
    ]
    everything = (await client.get("/reports/screening", headers=REPORTS)).json()
    total = everything["total"]["completed"]

    # The attack worked on rounding alone.
    rounded = [publish_unkeyed(n) for n in pathways.values()]
    assert (rounded, publish_unkeyed(17)) == ([10, 10, None], 15)
    assert _pinned_values(rounded, 15, NO_ADJUSTMENT) == (1, 1)
    # Under the cell key method the small pathway is suppressed and not pinned down. (So are
    # the pathways of 8: a value shown is never below 15, whose range, 9 to 21, lies above 7.)
    assert by_pathway == [None, None, None]
    low, high = _pinned_values(by_pathway, total)
    assert low <= 1 <= high and low < high
    # The same records publish the same value, whichever query found them.
    in_groups = {g["pathway"]: g["completed"] for g in everything["groups"]}
    assert [in_groups[p] for p in pathways] == by_pathway
    assert all(_allows(n, shown) for n, shown in zip(pathways.values(), by_pathway, strict=True))
    assert _allows(17, total)


@pytest.mark.parametrize("key", [DEV_DISCLOSURE_KEY, "too-short"])
def test_production_refuses_a_public_or_short_disclosure_key(key):
    with pytest.raises(ValidationError, match="SCREENING_DISCLOSURE_KEY"):
        ScreeningSettings(
            environment="production",
            auth_mode="jwt",
            jwks_url="https://idp.example/jwks",
            disclosure_key=key,
        )

    accepted = ScreeningSettings(
        environment="production",
        auth_mode="jwt",
        jwks_url="https://idp.example/jwks",
        disclosure_key="a-production-disclosure-key-from-the-secret-store",
    )
    assert accepted.disclosure_ptable == ""


async def test_a_configured_perturbation_table_is_used(client, worker, screening_app, tmp_path):
    """SCREENING_DISCLOSURE_PTABLE replaces the shipped table: one that never adjusts leaves
    only the small-number rule and the rounding."""
    still = tmp_path / "ptable.csv"
    still.write_text(NO_ADJUSTMENT.to_csv())
    configured = screening_app.state.settings
    screening_app.state.settings = configured.model_copy(update={"disclosure_ptable": str(still)})
    try:
        await _funnel(client, worker)
        report = (await client.get("/reports/screening", headers=REPORTS)).json()
    finally:
        screening_app.state.settings = configured

    [group] = report["groups"]
    assert [group[k] for k in MEASURES] == [20, 20, 10, 10, None, 10, 0, 0, 0]
    assert group["positive_by_domain"] == {"financial-insecurity": 10, "food-insecurity": 10}
    assert "at most 0 either way" in report["notes"][0]
