"""Loading and querying the CSV code lists."""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources

from signpost_schemas import systems


class Confidence(StrEnum):
    """How sure we are of a code (see `data/README.md`)."""

    VERIFIED = "verified"
    TWO_SOURCES = "two-sources"
    UNVERIFIED = "unverified"
    LOCAL = "local"


@dataclass(frozen=True, slots=True)
class Concept:
    """One row of a code list."""

    system: str
    code: str
    display: str
    group: str
    confidence: Confidence
    source: str
    notes: str

    @property
    def is_local(self) -> bool:
        return self.system.startswith(systems.LOCAL_BASE)

    def coding(self) -> dict[str, str]:
        """The concept as a FHIR Coding (system, code and display)."""
        return {"system": self.system, "code": self.code, "display": self.display}


class CodeList:
    """The concepts of one CSV file: a value set that may span several code systems."""

    def __init__(self, name: str, concepts: list[Concept]) -> None:
        self.name = name
        self._concepts = concepts
        self._by_key = {(c.system, c.code): c for c in concepts}
        if len(self._by_key) != len(concepts):
            raise ValueError(f"code list {name} repeats a (system, code) pair")

    def __iter__(self) -> Iterator[Concept]:
        return iter(self._concepts)

    def __len__(self) -> int:
        return len(self._concepts)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def get(self, system: str, code: str) -> Concept | None:
        """The concept for `(system, code)`, or None when it is not in this list."""
        return self._by_key.get((system, code))

    def in_system(self, system: str) -> list[Concept]:
        """The concepts of one code system, in file order."""
        return [c for c in self._concepts if c.system == system]

    @property
    def systems(self) -> list[str]:
        """The code systems this list draws on, in file order."""
        return list(dict.fromkeys(c.system for c in self._concepts))

    def find_code(self, code: str) -> list[Concept]:
        """Every concept with this code in any system (codes alone are not unique)."""
        return [c for c in self._concepts if c.code == code]


@cache
def code_list(name: str) -> CodeList:
    """Load `data/<name>.csv` (cached)."""
    text = (
        resources.files("signpost_schemas.codes")
        .joinpath("data", f"{name}.csv")
        .read_text(encoding="utf-8")
    )
    rows = csv.DictReader(io.StringIO(text, newline=""))
    concepts = [
        Concept(
            system=row["system"],
            code=row["code"],
            display=row["display"],
            group=row["group"],
            confidence=Confidence(row["confidence"]),
            source=row["source"],
            notes=row["notes"],
        )
        for row in rows
    ]
    return CodeList(name, concepts)


def referral_reasons() -> CodeList:
    return code_list("referral-reasons")


def personalised_care_roles() -> CodeList:
    return code_list("personalised-care-roles")


def sources_of_referral() -> CodeList:
    return code_list("source-of-referral")


def support_offered() -> CodeList:
    return code_list("support-offered")


def personal_health_budget() -> CodeList:
    """The stage, type and amount band of a personal health budget offered as support."""
    return code_list("personal-health-budget")


def shared_decision_making() -> CodeList:
    """Codes of a shared decision making conversation (Procedure.code)."""
    return code_list("shared-decision-making")


def ethnic_categories() -> CodeList:
    return code_list("ethnic-category")


def genders() -> CodeList:
    return code_list("gender")


def consultation_mechanisms() -> CodeList:
    return code_list("consultation-mechanism")


def attendance() -> CodeList:
    return code_list("attendance")


def referral_status_and_closure() -> CodeList:
    return code_list("referral-status-and-closure")


def screening_answers() -> CodeList:
    return code_list("screening-answers")


def wellbeing_instruments() -> CodeList:
    return code_list("wellbeing-instruments")


def service_use() -> CodeList:
    return code_list("service-use")
