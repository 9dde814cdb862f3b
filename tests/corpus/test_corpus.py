"""Every input of the sender corpus through the real apps, on SQLite and on PostgreSQL.

A kept input answers its status, is readable afterwards and carries each expected data-gap
warning; a refused one answers a 4xx OperationOutcome naming the element, and nothing is stored.
"""

from typing import Any

import nhs_number
import pytest

from signpost_schemas import systems
from signpost_schemas.snomed import is_concept_id
from tests.corpus.conftest import Stack
from tests.corpus.corpus import (
    GAP_CODES,
    Case,
    json_objects,
    load_cases,
    missing_warnings,
    readable,
    refusal_problems,
    send,
    status_matches,
    stored_count,
)

CASES = load_cases()


def _codings(document: object) -> list[dict[str, Any]]:
    return [found for found in json_objects(document) if "system" in found and "code" in found]


def _nhs_numbers(document: object) -> list[str]:
    return [
        str(found.get("value"))
        for found in json_objects(document)
        if systems.normalise_system(str(found.get("system"))) == systems.NHS_NUMBER
    ]


def test_the_corpus_covers_every_sender_and_outcome() -> None:
    assert len(CASES) >= 40
    assert {case.sender for case in CASES} == {"emis", "rio", "frontend", "api"}
    assert {case.expect["outcome"] for case in CASES} == {"kept", "refused"}
    expected_codes = {w["code"] for case in CASES for w in case.expect.get("warnings") or []}
    assert expected_codes == GAP_CODES


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_corpus_input_is_well_formed(case: Case) -> None:
    """Synthetic and consistent: kept inputs carry only well-formed SNOMED CT ids and valid
    NHS numbers; refused ones say where they are refused."""
    assert case.sender in ("emis", "rio", "frontend", "api")
    assert case.service in ("referral", "screening")
    assert case.expect["outcome"] in ("kept", "refused")
    for warning in case.expect.get("warnings") or []:
        assert warning["code"] in GAP_CODES
        assert "[" not in warning["expression"]
    if not case.kept:
        assert "refused_at" in case.expect
        return
    for coding in _codings(case.body):
        if coding["system"] == systems.SNOMED:
            assert is_concept_id(str(coding["code"])), coding
    for number in _nhs_numbers(case.body):
        assert nhs_number.is_valid(number), number


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_corpus_input(stack: Stack, case: Case) -> None:
    response = await send(stack, case)

    expected = case.expect["status"]
    assert status_matches(expected, response.status_code), (
        f"{case.name}: expected {expected}, got {response.status_code}: {response.text[:600]}"
    )
    if case.kept:
        assert await readable(stack, case, response) is None
        missing = missing_warnings(case, response)
        assert not missing, f"{case.name}: warnings missing {missing}: {response.text[:600]}"
    else:
        assert refusal_problems(case, response) == []
        assert await stored_count(stack, case.service) == 0
        if case.service == "screening":
            assert await stored_count(stack, "referral") == 0


async def test_no_kept_input_is_lost(stack: Stack) -> None:
    """All the inputs expected kept, sent one after another to one database: every one of them
    is stored and readable at the end."""
    kept = [case for case in CASES if case.kept]
    answers = {case.name: await send(stack, case) for case in kept}

    lost = {}
    for case in kept:
        response = answers[case.name]
        problem = (
            None if 200 <= response.status_code < 300 else f"answered {response.status_code}"
        ) or await readable(stack, case, response)
        if problem:
            lost[case.name] = problem
    assert lost == {}, f"{len(lost)} of {len(kept)} inputs expected kept were lost"
