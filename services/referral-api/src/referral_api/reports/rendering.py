"""A published report as JSON or CSV.

JSON: the report's name, title, parameters, disclosure note, columns (with their kind), rows
and totals; a suppressed value is null and named in its row's `suppressed` list.
CSV (RFC 4180, UTF-8, CRLF): one header row (`row_type` then the column names), the rows
(`row_type` = row), then the totals (`row_type` = total); a suppressed value is `*`, an empty
cell a value that does not apply (a rate with no denominator) or was not recorded
(`signpost_platform.csv_output.report_cells`, as every CSV report).
"""

import io
from typing import Any

from referral_api.reports.query import ReportQuery
from referral_api.reports.tables import Report, Row
from signpost_platform.csv_output import CsvWriter, report_cells


def as_json(report: Report, query: ReportQuery) -> dict[str, Any]:
    return {
        "report": report.name,
        "title": report.title,
        "description": report.description,
        "parameters": query.describe(),
        "disclosure": {
            "controlled": query.controlled,
            "rule": report.notes[-1],
        },
        "notes": report.notes[:-1],
        "columns": [{"name": c.name, "label": c.label, "kind": c.kind} for c in report.columns],
        "rows": report.rows,
        "totals": report.totals,
    }


def as_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = CsvWriter(buffer, lineterminator="\r\n")
    names = [column.name for column in report.columns]
    writer.writerow(["row_type", *names])
    for row in report.rows:
        writer.writerow(["row", *_cells(row, names)])
    for row in report.totals:
        writer.writerow(["total", *_cells(row, names)])
    return buffer.getvalue()


def _cells(row: Row, names: list[str]) -> list[Any]:
    return report_cells(row, names, set(row.get("suppressed", ())))
