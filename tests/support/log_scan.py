"""Every log line a test run writes, kept and searched for personal data when the run ends.

Services log to stdout as JSON (captured per test by pytest); this also sends every record to
a file for the whole run. At the end the file is searched for anything that looks like an NHS
number (10 digits passing Modulus 11), for the synthetic local patient numbers the tests use
(`RIO-` and six digits: a person's identifier in the sender's own system) and for the postcodes
of the sample lookup the tests use.
A hit fails the run and prints the offending lines.

The identifiers the services make, standing alone, are taken out of a line before it is
searched: UUIDs as Python writes them (correlation ids, resource ids) and trace ids (32
lowercase hex digits). About one random UUID in 1,900, and one random trace id in 430, holds a
run of exactly ten digits that passes Modulus 11 (`...-7b7275676125`), which is not an NHS
number. A number or a postcode inside a longer token, or written beside one, is still found.
"""

import logging
import re
from pathlib import Path

import nhs_number

from signpost_platform.logging import JsonFormatter
from signpost_schemas.geography import sample_postcode_lookup

_TEN_DIGITS = re.compile(r"(?<![\d.])\d{10}(?![\d.])")
_LOCAL_PATIENT_NUMBER = re.compile(r"RIO-\d{6}(?!\d)")
# A UUID or a trace id standing alone (not part of a longer run of letters, digits or hyphens).
_SERVICE_IDENTIFIER = re.compile(
    r"(?<![0-9A-Za-z-])"
    r"(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})"
    r"(?![0-9A-Za-z-])"
)


def install(path: Path) -> logging.Handler:
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(JsonFormatter("test-run"))
    handler.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    return handler


def personal_data_in(path: Path) -> list[str]:
    """Log lines that carry an NHS number, a local patient number or a known postcode."""
    postcodes = set(sample_postcode_lookup())
    compact = {p.replace(" ", "") for p in postcodes}
    offending = []
    for kept in path.read_text(encoding="utf-8").splitlines():
        line = _SERVICE_IDENTIFIER.sub("-", kept)
        numbers = [n for n in _TEN_DIGITS.findall(line) if nhs_number.is_valid(n)]
        upper = line.upper()
        places = [p for p in postcodes if p in upper] + [p for p in compact if p in upper]
        local = _LOCAL_PATIENT_NUMBER.search(line)
        if numbers or places or local:
            offending.append(kept[:500])
    return offending
