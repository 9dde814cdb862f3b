"""Every CSV the services produce neutralises cells a spreadsheet would run as a formula: a
cell starting with =, +, -, @, a tab or a carriage return gets a leading single quote."""

import csv
import io

import pytest

from referral_api.reports.rendering import as_csv
from referral_api.reports.tables import Column, Report
from signpost_platform.csv_output import CsvWriter, csv_cell, report_cells
from tests.screening.builders import screening_response
from tests.security.bodies import SCREENING_WRITE
from tests.support.clients import bearer

REPORTS = bearer("reports:read", "reports:unsuppressed")


@pytest.mark.parametrize(
    "text", ['=HYPERLINK("https://evil.example")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]
)
def test_formula_like_text_is_prefixed_with_a_quote(text):
    assert csv_cell(text) == "'" + text


def test_numbers_and_plain_text_are_left_alone():
    assert [csv_cell(v) for v in (-3, -1.5, 0, "cardiology", None)] == [
        "-3",
        "-1.5",
        "0",
        "cardiology",
        "",
    ]


def test_a_suppressed_report_cell_is_a_star_and_a_value_that_does_not_apply_is_empty():
    row = {"referrals": None, "rate": None, "people": 10}
    cells = report_cells(row, ["referrals", "rate", "people"], {"referrals"})
    assert [csv_cell(c) for c in cells] == ["*", "", "10"]


def test_the_writer_neutralises_every_cell():
    buffer = io.StringIO()
    CsvWriter(buffer).writerows([["=1+1", "ok"], [-1, "@x"]])

    assert list(csv.reader(io.StringIO(buffer.getvalue()))) == [["'=1+1", "ok"], ["-1", "'@x"]]


def test_a_referral_report_csv_neutralises_formula_like_cells():
    report = Report(
        name="referrals",
        title="Referrals",
        description="",
        columns=[Column("area", "Area", "dimension"), Column("change", "Change", "count")],
        rows=[{"area": "=cmd|' /C calc'!A0", "change": -2}],
        totals=[{"area": "@all", "change": -2}],
    )

    rows = list(csv.reader(io.StringIO(as_csv(report))))

    assert rows[1:] == [["row", "'=cmd|' /C calc'!A0", "-2"], ["total", "'@all", "-2"]]


async def test_the_screening_report_csv_goes_through_the_safe_writer(screening):
    created = await screening.post(
        "/fhir/QuestionnaireResponse",
        json=screening_response(clinic="RQX77"),
        headers=SCREENING_WRITE,
    )
    assert created.status_code == 201, created.text

    response = await screening.get("/reports/screening?format=csv&clinic=RQX77", headers=REPORTS)

    assert response.status_code == 200, response.text
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:3] == ["month", "clinic", "pathway"]
    assert all(not cell.startswith(("=", "+", "@")) for row in rows for cell in row)
