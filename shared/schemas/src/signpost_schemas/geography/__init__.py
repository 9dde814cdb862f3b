"""UK postcodes and the small-area geography derived from them.

`normalise_postcode` validates and formats a full postcode; `postcode_district` gives the outward
code (E15) that may be kept where the full postcode may not. `sample_postcode_lookup` reads the
small lookup shipped for tests and `make run` (synthetic London entries in the ONS Postcode
Directory shape); services load the full ONS file into their own database with their loaders.
"""

import csv
import io
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

# The outward code (area + district) and inward code (sector + unit) of a full UK postcode.
_FULL_POSTCODE = re.compile(
    r"^(?P<outward>[A-Z]{1,2}[0-9][A-Z0-9]?)\s*(?P<inward>[0-9][ABD-HJLNP-UW-Z]{2})$"
)
_DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")


class InvalidPostcode(ValueError):
    """Not a full UK postcode."""


def normalise_postcode(value: str) -> str:
    """`e151da` → `E15 1DA`; raises `InvalidPostcode` for anything that is not a full postcode."""
    compact = re.sub(r"\s+", "", value).upper()
    match = _FULL_POSTCODE.match(compact)
    if not match:
        raise InvalidPostcode(f"{value!r} is not a full UK postcode")
    return f"{match['outward']} {match['inward']}"


def is_postcode_district(value: str) -> bool:
    """True for an outward code on its own (E15, SW1A)."""
    return bool(_DISTRICT.match(value.strip().upper()))


# What a postcode as sent is: a full postcode, a district alone (a partial postcode), or neither.
PostcodeShape = Literal["full", "district-only", "invalid-postcode"]


def postcode_shape(value: str) -> PostcodeShape:
    """Whether `value` (not blank) is a full postcode, an outward code alone, or neither: what
    decides whether an area can be derived from it, for the person kept and the sender's
    warning alike."""
    if is_postcode_district(value):
        return "district-only"
    try:
        normalise_postcode(value)
    except InvalidPostcode:
        return "invalid-postcode"
    return "full"


def postcode_district(postcode: str) -> str:
    """The outward code of a full postcode: `E15 1DA` → `E15`."""
    return normalise_postcode(postcode).split(" ")[0]


@dataclass(frozen=True, slots=True)
class PostcodeArea:
    """One row of a postcode lookup (ONS Postcode Directory shape)."""

    postcode: str
    lsoa_code: str
    lsoa_name: str
    local_authority_code: str
    local_authority_name: str
    latitude: float
    longitude: float


@cache
def sample_postcode_lookup() -> dict[str, PostcodeArea]:
    """The shipped sample lookup, keyed by normalised postcode."""
    text = (
        resources.files("signpost_schemas.geography")
        .joinpath("data", "postcode-lookup-sample.csv")
        .read_text(encoding="utf-8")
    )
    return {
        row["pcds"]: PostcodeArea(
            postcode=row["pcds"],
            lsoa_code=row["lsoa21cd"],
            lsoa_name=row["lsoa21nm"],
            local_authority_code=row["ladcd"],
            local_authority_name=row["ladnm"],
            latitude=float(row["lat"]),
            longitude=float(row["long"]),
        )
        for row in csv.DictReader(io.StringIO(text, newline=""))
    }
