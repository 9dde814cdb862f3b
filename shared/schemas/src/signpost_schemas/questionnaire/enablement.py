"""Which items of a Questionnaire are enabled by the answers in a response (R4 `enableWhen`).

General over every R4 operator (`exists`, `=`, `!=`, `>`, `<`, `>=`, `<=`), `enableBehavior`
`all`/`any`, and every answer type. An item is enabled when its parent is enabled and its
conditions hold. Answers given to a disabled item do not count when other items' conditions are
evaluated (SDC), so enablement is computed to a fixed point.

Simplification, documented: a condition's `question` is looked up among all answers to that
linkId in the response, not only within the same instance of a repeating group.
"""

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from signpost_schemas.fhir.datatypes import Coding, Reference
from signpost_schemas.questionnaire.model import (
    EnableWhen,
    Quantity,
    Questionnaire,
    QuestionnaireItem,
    QuestionnaireResponse,
    ResponseAnswer,
    ResponseItem,
)

Answers = dict[str, list[ResponseAnswer]]


def walk_definitions(
    items: list[QuestionnaireItem] | None, parent: QuestionnaireItem | None = None
) -> Iterator[tuple[QuestionnaireItem, QuestionnaireItem | None]]:
    """Every item of a Questionnaire, depth first, with its parent."""
    for item in items or []:
        yield item, parent
        yield from walk_definitions(item.item, item)


def walk_response(items: list[ResponseItem] | None) -> Iterator[ResponseItem]:
    """Every item of a response, depth first, including items nested under answers."""
    for item in items or []:
        yield item
        for answer in item.answer or []:
            yield from walk_response(answer.item)
        yield from walk_response(item.item)


def answers_by_link_id(response: QuestionnaireResponse) -> Answers:
    """Every answer in the response, grouped by the linkId of its item."""
    answers: Answers = {}
    for item in walk_response(response.item):
        answers.setdefault(item.linkId, []).extend(item.answer or [])
    return answers


def enabled_link_ids(questionnaire: Questionnaire, response: QuestionnaireResponse) -> set[str]:
    """The linkIds of the items that are enabled given the response's answers."""
    all_answers = answers_by_link_id(response)
    definitions = list(walk_definitions(questionnaire.item))
    enabled = {item.linkId for item, _ in definitions}
    # Each pass can only disable items whose conditions depended on answers just discounted, so
    # the number of passes is bounded by the number of items.
    for _ in range(len(definitions) + 1):
        counted = {link_id: a for link_id, a in all_answers.items() if link_id in enabled}
        now_enabled: set[str] = set()
        for item, parent in definitions:
            if parent is not None and parent.linkId not in now_enabled:
                continue
            if is_enabled(item, counted):
                now_enabled.add(item.linkId)
        if now_enabled == enabled:
            break
        enabled = now_enabled
    return enabled


def is_enabled(item: QuestionnaireItem, answers: Answers) -> bool:
    """Whether `item`'s own conditions hold (its parent's are not considered)."""
    conditions = item.enableWhen or []
    if not conditions:
        return True
    results = (
        condition_holds(condition, answers.get(condition.question, [])) for condition in conditions
    )
    return any(results) if item.enableBehavior == "any" else all(results)


def condition_holds(condition: EnableWhen, answers: list[ResponseAnswer]) -> bool:
    """One `enableWhen` against the answers given to its question."""
    kind, expected = condition.answer
    if condition.operator == "exists":
        return bool(answers) == bool(expected)
    values = [value for answer in answers for value in answer.choices("value")]
    if not values:
        return False  # R4: with no answer only `exists` can be true
    match condition.operator:
        case "=":
            return any(_equal(kind, expected, suffix, value) for suffix, value in values)
        case "!=":
            return any(not _equal(kind, expected, suffix, value) for suffix, value in values)
        case operator:
            return any(
                _ordered(operator, kind, expected, suffix, value) for suffix, value in values
            )


def _equal(kind: str, expected: Any, suffix: str, value: Any) -> bool:
    if kind == "Coding":
        return suffix == "Coding" and coding_equal(expected, value)
    if kind == "Quantity":
        return suffix == "Quantity" and _quantity_key(expected) == _quantity_key(value)
    if kind == "Reference":
        return suffix == "Reference" and _reference_key(expected) == _reference_key(value)
    left, right = _comparable(kind, expected), _comparable(suffix, value)
    return left is not None and right is not None and type(left) is type(right) and left == right


def _ordered(operator: str, kind: str, expected: Any, suffix: str, value: Any) -> bool:
    if kind == "Quantity":
        if suffix != "Quantity" or _unit(expected) != _unit(value):
            return False
        left, right = value.value, expected.value
    else:
        left, right = _comparable(suffix, value), _comparable(kind, expected)
    if left is None or right is None or type(left) is not type(right):
        return False
    match operator:
        case ">":
            return bool(left > right)
        case "<":
            return bool(left < right)
        case ">=":
            return bool(left >= right)
        case _:
            return bool(left <= right)


def _comparable(kind: str, value: Any) -> Any:
    """A Python value that compares the way FHIR compares values of this type."""
    match kind:
        case "Boolean":
            return bool(value)
        case "Decimal" | "Integer":
            return float(value)
        case "Date":
            return _date(value)
        case "DateTime":
            return _datetime(value)
        case "Time" | "String" | "Uri":
            return str(value)
        case _:
            return None


def _date(value: str) -> date | str:
    # Partial dates (YYYY, YYYY-MM) compare as text, which orders them correctly among themselves.
    return date.fromisoformat(value) if len(value) == 10 else value


def _datetime(value: str) -> datetime | str:
    if "T" not in value:
        return value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def coding_equal(expected: Coding, given: Coding) -> bool:
    """Same code, and same system when both name one."""
    if expected.code != given.code:
        return False
    return not (expected.system and given.system and expected.system != given.system)


def _unit(quantity: Quantity) -> tuple[str | None, str | None]:
    return (quantity.system, quantity.code or quantity.unit)


def _quantity_key(quantity: Quantity) -> tuple[Any, ...]:
    return (quantity.value, *_unit(quantity))


def _reference_key(reference: Reference) -> str | None:
    return reference.reference
