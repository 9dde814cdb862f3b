"""CSV the services produce, safe to open in a spreadsheet.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read by spreadsheet
programs as a formula (CSV or formula injection: a pathway named `=HYPERLINK(...)` would become
a live link in a commissioner's spreadsheet). Such cells are prefixed with a single quote, which
spreadsheets show as text. Numbers the service itself computed (int and float values) are left
as they are, so a negative change stays a number.

Published reports (referral-api's and screening-api's) write their rows with `report_cells`: a
value disclosure control suppressed is `*`, an empty cell a value that does not apply (a rate
with no denominator) or was not recorded, in every CSV report alike.
"""

import csv
from collections.abc import Collection, Iterable, Mapping
from typing import IO, Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
SUPPRESSED_MARK = "*"


def csv_cell(value: Any) -> str:
    """`value` as a CSV cell: empty for None, numbers as they are, formula-like text quoted."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def report_cells(
    row: Mapping[str, Any], names: Iterable[str], suppressed: Collection[str]
) -> list[Any]:
    """The cells of one row of a published report, in the order of `names`: `SUPPRESSED_MARK`
    for a value named in `suppressed`, else the value (None is an empty cell)."""
    return [SUPPRESSED_MARK if name in suppressed else row.get(name) for name in names]


class CsvWriter:
    """`csv.writer` whose every cell goes through `csv_cell`."""

    def __init__(self, handle: IO[str], **options: Any) -> None:
        self._writer = csv.writer(handle, **options)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
