"""An analyst filters a report on the dashboard, reads the chart and the table, and downloads
the CSV: every figure is the API's, disclosure control included."""

import csv
import io
from pathlib import Path

import httpx

from tests.pages.conftest import Services, axe_summary, drive, pytestmark  # noqa: F401
from tests.support.clients import bearer

REPORTS = bearer("reports:read")


async def test_an_analyst_filters_a_report_and_the_csv_is_the_apis(
    page_services: Services, tmp_path: Path, screenshots: Path
) -> None:
    scenario = {
        "base": page_services.referral,
        "report": "reasons",
        "groupBy": ["role"],
        "filters": {"source-system": "emis"},
        "from": "2026-01-01",
        "to": "2026-03-31",
        "badFilter": ["practice", "not an ODS code"],
        "screenshot": str(screenshots / "pages-dashboard.png"),
    }

    result = await drive("dashboard", scenario, tmp_path)

    steps = result["steps"]
    query = "group_by=role&from=2026-01-01&to=2026-03-31&level=reason&source-system=emis"
    assert steps["request"] == f"reasons?{query}"
    async with httpx.AsyncClient(base_url=page_services.referral, headers=REPORTS) as client:
        as_json = (await client.get(f"/reports/reasons?{query}")).json()
        as_csv = (await client.get(f"/reports/reasons?{query}&format=csv")).text
    # The download is the API's CSV, byte for byte.
    assert steps["csvName"] == "reasons.csv"
    assert steps["csv"] == as_csv
    # The table shows the API's published figures, row by row.
    header, *rows = steps["table"]
    columns = as_json["columns"]
    assert header == ["Row"] + [column["label"] for column in columns]
    expected = [
        ["Total" if kind == "total" else ""]
        + [
            "suppressed" if column["name"] in row["suppressed"] else row[column["name"]]
            for column in columns
        ]
        for kind, part in (("row", as_json["rows"]), ("total", as_json["totals"]))
        for row in part
    ]
    assert len(rows) == len(expected)
    for shown, published in zip(rows, expected, strict=True):
        assert [_shows(cell, value) for cell, value in zip(shown, published, strict=True)] == [
            True
        ] * len(published), (shown, published)
    counted = [row for row in csv.DictReader(io.StringIO(as_csv)) if row["row_type"] == "row"]
    assert len(counted) == len(as_json["rows"]) > 0
    assert {row["role"] for row in counted} <= {
        "social-prescribing-link-worker",
        "care-coordinator",
        "health-and-wellbeing-coach",
    }
    # A bad filter: the API's problem in words; the form keeps what was typed.
    assert "practice" in steps["refused"] and "Traceback" not in steps["refused"]
    assert steps["kept"] == "not an ODS code"
    assert len(axe_summary(result)) == 2


def _shows(cell: str, value: object) -> bool:
    """Whether a table cell shows the API's value (numbers as numbers: 50 shows 50.0)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return cell == ("" if value is None else str(value))
    return float(cell) == value
