"""Every report as JSON, CSV (read back with csv.reader) and an SVG chart (parsed as XML)."""

import csv
import io
import xml.etree.ElementTree as ET

import pytest

from referral_api.reports.dimensions import catalogue
from referral_api.reports.service import REPORTS as CATALOGUE
from tests.reports.conftest import REPORTS, UNSUPPRESSED
from tests.support.reports import Dataset, Person

SVG = "{http://www.w3.org/2000/svg}"


def _dataset() -> Dataset:
    d = Dataset()
    for _ in range(9):
        a = d.referral(
            details=Person(),
            status="closed",
            first_contact_days=3,
            ended_days=30,
            closure_reason="needs-met",
            reasons=("105531004", "160932005"),
        )
        d.support(a, "housing-advice")
        d.contacts(a, "attended", workers=(("https://emis.example/Id/staff|LW-1", None),))
        d.assessment(a, "wemwbs", "baseline", 1, total=40)
        d.assessment(a, "wemwbs", "follow-up", 20, total=45)
        d.service_use(a, "gp-appointments", before=6, after=4)
    d.referral(role="care-navigator", details=Person(), reasons=("reason-not-recorded",))
    return d


async def test_csv_reads_back_with_the_same_figures_as_json(load, client):
    await load(_dataset())
    params = {"group_by": "role"}
    as_json = (await client.get("/reports/referrals", params=params, headers=REPORTS)).json()
    response = await client.get(
        "/reports/referrals", params={**params, "format": "csv"}, headers=REPORTS
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="referrals.csv"'
    assert response.text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["row_type", "role", "role_label", "referrals", "people"]

    def shown(value: object) -> str:
        return "*" if value is None else str(value)

    assert rows[1:] == [
        *(
            ["row", r["role"], r["role_label"], shown(r["referrals"]), shown(r["people"])]
            for r in as_json["rows"]
        ),
        *(["total", "", "", shown(t["referrals"]), shown(t["people"])] for t in as_json["totals"]),
    ]
    assert [r["role"] for r in as_json["rows"]] == [
        "social-prescribing-link-worker",
        "care-navigator",
    ]
    assert [r["referrals"] for r in as_json["rows"]][1] is None


async def test_accept_header_chooses_csv_or_svg_and_format_wins(load, client):
    await load(_dataset())
    csv_response = await client.get("/reports/reasons", headers={**REPORTS, "Accept": "text/csv"})
    assert csv_response.headers["content-type"].startswith("text/csv")
    svg_response = await client.get(
        "/reports/reasons", headers={**REPORTS, "Accept": "image/svg+xml"}
    )
    assert svg_response.headers["content-type"] == "image/svg+xml; charset=utf-8"
    forced = await client.get(
        "/reports/reasons", params={"format": "json"}, headers={**REPORTS, "Accept": "text/csv"}
    )
    assert forced.headers["content-type"] == "application/json"


async def test_the_chart_is_an_svg_with_one_labelled_bar_per_row(load, client):
    dataset = _dataset()
    for _ in range(11):  # 20 link worker referrals: shown as 15, 20 or 25 (adjusted, rounded)
        dataset.referral(details=Person())
    await load(dataset)
    response = await client.get(
        "/reports/referrals", params={"group_by": "role", "format": "svg"}, headers=REPORTS
    )
    root = ET.fromstring(response.content)  # noqa: S314
    assert root.tag == f"{SVG}svg"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Referrals and people" in texts
    bars = [r for r in root.iter(f"{SVG}rect") if "bar" in (r.get("class") or "")]
    assert len(bars) == 2
    shown, suppressed = bars
    assert shown.get("data-value") in ("15", "20", "25") and float(shown.get("width")) > 0
    assert suppressed.get("class") == "bar suppressed"
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "label"]
    assert labels == ["Social prescribing link worker", "Care navigator"]
    values = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "value"]
    assert values == [shown.get("data-value"), "suppressed"]


@pytest.mark.parametrize("name", sorted(CATALOGUE))
async def test_every_report_opens_as_json_csv_and_svg(load, lookups, client, name):
    await load(_dataset())
    spec = CATALOGUE[name]
    # By month, or by the report's own first dimension where it has no month (workers).
    group_by = "month" if "month" in (spec.dimensions or catalogue()) else spec.default_group_by[0]
    for output in ("json", "csv", "svg"):
        response = await client.get(
            f"/reports/{name}",
            params={"format": output, "group_by": group_by},
            headers=UNSUPPRESSED,
        )
        assert response.status_code == 200, response.text
        if output == "json":
            body = response.json()
            assert body["report"] == name and body["rows"] and body["columns"]
        elif output == "csv":
            rows = list(csv.reader(io.StringIO(response.text)))
            assert rows[0][0] == "row_type" and group_by in rows[0]
            assert all(len(row) == len(rows[0]) for row in rows)
        else:
            root = ET.fromstring(response.content)  # noqa: S314
            assert any(r.get("class", "").startswith("bar") for r in root.iter(f"{SVG}rect"))


async def test_the_catalogue_lists_reports_dimensions_and_the_rule(referral_app, client):
    body = (await client.get("/reports", headers=REPORTS)).json()
    assert {r["name"] for r in body["reports"]} == set(CATALOGUE)
    dimensions = {d["name"]: d for d in body["dimensions"]}
    assert len(dimensions["ethnic-category"]["values"]) == 18
    assert dimensions["month"]["filter"] is False
    assert "rounded to the nearest 5" in body["disclosure"]
