"""Process metrics at /reports/screening: the funnel, by domain, item declines, disclosure."""

import csv
import io
from datetime import UTC, datetime, timedelta

from signpost_schemas.disclosure import publish_unkeyed, ratio
from tests.screening.builders import barts_answers, invitation, screening_response
from tests.screening.conftest import READ, REPORTS, WRITE
from tests.support.clients import bearer


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

    assert response.status_code == 200
    report = response.json()
    [group] = report["groups"]
    assert (group["clinic"], group["pathway"]) == ("R1H12", "cardiology-outpatient")
    # Invitations and the screens they led to fall in the month they were given.
    assert group["month"] == MONTH
    assert {
        k: group[k]
        for k in (
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
    } == {
        "invited": 20,
        "completed": 20,
        "positive": 10,
        "wants_help": 10,
        "declined_help": None,
        "referred": 10,
        "referral_pending": 0,
        "referral_accepted": 0,
        "referral_closed": 0,
    }
    # 12 rounds to 10; 9 to 10; 2 is suppressed.
    assert group["positive_by_domain"] == {"financial-insecurity": 10, "food-insecurity": 10}
    # Rates come from the published counts: 10 of 20.
    assert group["positive_rate"] == 50.0
    assert group["suppressed"] == ["declined_help"]
    assert report["total"]["completed"] == 20


async def test_item_level_dont_want_to_answer_rates(client, worker):
    await _funnel(client, worker)

    items = (await client.get("/reports/screening", headers=REPORTS)).json()["items"]

    by_item = {item["link_id"]: item for item in items}
    assert by_item["5"]["answered"] == 20
    assert by_item["5"]["declined_to_answer"] == 10
    assert by_item["5"]["declined_to_answer_rate"] == 50.0
    assert by_item["1"]["declined_to_answer"] == 0
    assert by_item["7"]["answered"] == 10  # 12 answered: rounded


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
    assert [row["month"] == "all" for row in rows] == [False, True]
    assert rows[1]["completed"] == "20"
    assert rows[1]["declined_help"] == ""
    assert rows[1]["positive_food-insecurity"] == "10"


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
