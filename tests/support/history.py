"""Builders for history files to import: NDJSON of message Bundles and the CSV template."""

import csv
import io
from pathlib import Path
from typing import Any

import orjson

from referral_api.imports.csv_template import COLUMNS
from tests.support.builders import NHS_NUMBERS


def write_ndjson(path: Path, messages: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(m) + b"\n" for m in messages))
    return path


def template_row(number: int, **cells: str) -> dict[str, str]:
    """A complete, valid template row for referral CSV-<number> (synthetic person)."""
    row = {
        "referral_id": f"CSV-{number:05d}",
        "referral_date": "2026-09-01",
        "nhs_number": NHS_NUMBERS[number % len(NHS_NUMBERS)],
        "role": "social-prescribing-link-worker",
        "referrer_ods": "F84001",
        "source_of_referral": "gp-practice",
        "reasons": "105531004;160932005",
        "year_of_birth": "1970",
        "gender": "2",
        "ethnic_category": "A",
        "postcode": "E7 9NJ",
        "accepted_date": "2026-09-03",
        "contacts": "2026-09-05|02|3;2026-09-08|01|5",
        "support_offered": "housing-advice|referral|3f9a2c1e-8d4b-4e2a-9c61-5b7d0e2f4a18",
        "baseline_instrument": "swemwbs",
        "baseline_date": "2026-09-08",
        "baseline_score": "19.3",
        "followup_instrument": "swemwbs",
        "followup_date": "2026-10-20",
        "followup_score": "23.2",
        "closed_date": "2026-10-20",
        "closure_reason": "needs-met",
    }
    row.update(cells)
    return row


def write_template(path: Path, rows: list[dict[str, str]]) -> Path:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({c: row.get(c, "") for c in COLUMNS} for row in rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path
