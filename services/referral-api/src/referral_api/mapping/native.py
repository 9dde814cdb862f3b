"""Normalising what EMIS and Rio send about a person: gender and ethnic category.

EMIS sends SNOMED CT ethnicity concepts and FHIR administrative gender; Rio sends ETHNIC CATEGORY
letters and GENDER IDENTITY CODE. Each is normalised to the national code and its report
roll-up, and what the sender sent is returned beside it to be stored as the native code.
"""

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

from signpost_schemas import codes
from signpost_schemas.fhir import profiles
from signpost_schemas.fhir.datatypes import CodeableConcept, Coding


@dataclass(frozen=True, slots=True)
class NativeCode:
    system: str
    code: str


@dataclass(frozen=True, slots=True)
class Ethnicity:
    """The ETHNIC CATEGORY letter and 5-group roll-up (None when the sender's code is unmapped)."""

    category: str | None
    group: str | None
    native: NativeCode


@dataclass(frozen=True, slots=True)
class Gender:
    """Normalised gender: the roll-up, the PERSON STATED GENDER and GENDER IDENTITY codes."""

    group: str | None
    stated_gender_code: str | None
    gender_identity_code: str | None
    native: NativeCode


@cache
def _table(name: str, target: str) -> dict[tuple[str, str], str]:
    text = resources.files("referral_api.mapping").joinpath("data", name).read_text("utf-8")
    return {
        (row["native_system"], row["native_code"]): row[target]
        for row in csv.DictReader(io.StringIO(text, newline=""))
    }


def ethnicity(concept: CodeableConcept | None) -> Ethnicity | None:
    """The ethnic category of an UK Core ethnic-category extension value, or None if absent."""
    codings = [c for c in (concept.coding or []) if c.system and c.code] if concept else []
    if not codings:
        return None
    categories = codes.ethnic_categories()
    snomed_map = _table("ethnicity-snomed.csv", "ethnic_category")
    for coding in codings:
        assert coding.system and coding.code
        letter = None
        if categories.get(coding.system, coding.code):
            letter = coding.code
        elif (coding.system, coding.code) in snomed_map:
            letter = snomed_map[(coding.system, coding.code)]
        if letter is not None:
            found = categories.get(profiles.ETHNIC_CATEGORY_ENGLAND, letter)
            assert found is not None, f"mapping names an unknown ethnic category {letter}"
            return Ethnicity(letter, found.group, NativeCode(coding.system, coding.code))
    first = codings[0]
    assert first.system and first.code
    return Ethnicity(None, None, NativeCode(first.system, first.code))


def gender(administrative: str | None, identity: CodeableConcept | None) -> Gender | None:
    """Gender from GENDER IDENTITY CODE (preferred, Rio) or FHIR administrative gender (EMIS)."""
    genders = codes.genders()
    for coding in _codings(identity):
        found = genders.get(coding.system or "", coding.code or "")
        if found is None:
            continue
        native = NativeCode(found.system, found.code)
        if found.system == profiles.GENDER_IDENTITY:
            return Gender(found.group, None, found.code, native)
        return Gender(found.group, found.code, None, native)
    if administrative is None:
        return None
    stated = _table("administrative-gender.csv", "stated_gender_code").get(
        (profiles.ADMINISTRATIVE_GENDER, administrative)
    )
    concept = genders.get(profiles.PERSON_STATED_GENDER, stated) if stated else None
    return Gender(
        concept.group if concept else None,
        stated,
        None,
        NativeCode(profiles.ADMINISTRATIVE_GENDER, administrative),
    )


def _codings(concept: CodeableConcept | None) -> list[Coding]:
    return [c for c in (concept.coding or []) if c.system and c.code] if concept else []


AGE_BANDS = [(0, 17), (18, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 74), (75, 84)]


def age_band(birth_year: int | None, referral_year: int) -> str | None:
    """The age band at the referral from the year of birth (the age may be a year high)."""
    if birth_year is None:
        return None
    age = referral_year - birth_year
    if age < 0:
        return None
    for low, high in AGE_BANDS:
        if low <= age <= high:
            return f"{low}-{high}"
    return "85+"
