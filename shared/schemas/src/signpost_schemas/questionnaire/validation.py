"""Validating a QuestionnaireResponse against its Questionnaire (SDC "Validation", FHIR R4).

`validate_response` checks, for any questionnaire:
- structure: every linkId exists at that place in the questionnaire; an item appears once unless
  it repeats; display items carry no answers; groups carry items, not answers;
- `item.text`, when sent, is the questionnaire's text;
- answers: exactly one value each, of the item's type; coded answers come from `answerOption`;
  one answer unless the item repeats; `maxLength` on text;
- enablement (completed/amended only): no answer to a disabled item (`enableWhen`);
- required (completed/amended only): every enabled required item is answered.

An `in-progress` draft is held to structure, types and answer options only: a half-filled form may
be saved and completed later. Issues carry a FHIRPath `expression` naming the offending element;
an item that is missing altogether is named as `...item.where(linkId='x')`.

`questionnaire_issues` checks a Questionnaire's own R4 invariants (que-0 to que-13) so a form that
breaks them is never served.
"""

import re
from collections import Counter
from dataclasses import dataclass
from typing import cast

from signpost_schemas.fhir.datatypes import Coding
from signpost_schemas.questionnaire.enablement import (
    coding_equal,
    enabled_link_ids,
    walk_definitions,
)
from signpost_schemas.questionnaire.model import (
    AnswerOption,
    Questionnaire,
    QuestionnaireItem,
    QuestionnaireResponse,
    ResponseAnswer,
    ResponseItem,
)

STRICT_STATUSES = frozenset({"completed", "amended"})

# The value[x] each item type accepts.
ANSWER_TYPES: dict[str, frozenset[str]] = {
    "boolean": frozenset({"Boolean"}),
    "decimal": frozenset({"Decimal", "Integer"}),
    "integer": frozenset({"Integer"}),
    "date": frozenset({"Date"}),
    "dateTime": frozenset({"DateTime"}),
    "time": frozenset({"Time"}),
    "string": frozenset({"String"}),
    "text": frozenset({"String"}),
    "url": frozenset({"Uri"}),
    "choice": frozenset({"Coding", "Integer", "Date", "Time", "String", "Reference"}),
    "open-choice": frozenset({"Coding", "Integer", "Date", "Time", "String", "Reference"}),
    "attachment": frozenset({"Attachment"}),
    "reference": frozenset({"Reference"}),
    "quantity": frozenset({"Quantity"}),
}


@dataclass(frozen=True, slots=True)
class ResponseIssue:
    """One way a response breaks its questionnaire; `code` is a FHIR issue-type code."""

    code: str
    diagnostics: str
    expression: str


def validate_response(
    questionnaire: Questionnaire, response: QuestionnaireResponse
) -> list[ResponseIssue]:
    """Every issue with `response` as an answer to `questionnaire` (empty when valid)."""
    checker = _ResponseChecker(questionnaire, response)
    checker.check_items(questionnaire.item or [], response.item or [], "QuestionnaireResponse")
    return checker.issues


class _ResponseChecker:
    def __init__(self, questionnaire: Questionnaire, response: QuestionnaireResponse) -> None:
        self.strict = response.status in STRICT_STATUSES
        self.enabled = enabled_link_ids(questionnaire, response)
        self.issues: list[ResponseIssue] = []

    def fail(self, code: str, expression: str, diagnostics: str) -> None:
        self.issues.append(ResponseIssue(code, f"{expression}: {diagnostics}", expression))

    def check_items(
        self, definitions: list[QuestionnaireItem], items: list[ResponseItem], path: str
    ) -> None:
        by_link_id = {definition.linkId: definition for definition in definitions}
        occurrences = Counter(item.linkId for item in items)
        for index, item in enumerate(items):
            item_path = f"{path}.item[{index}]"
            definition = by_link_id.get(item.linkId)
            if definition is None:
                self.fail(
                    "structure",
                    f"{item_path}.linkId",
                    f"the questionnaire has no item with linkId {item.linkId!r} here",
                )
                continue
            if occurrences[item.linkId] > 1 and not definition.repeats:
                self.fail(
                    "structure",
                    item_path,
                    f"item {item.linkId!r} appears {occurrences[item.linkId]} times but does not "
                    "repeat: give one item with one answer",
                )
            self.check_item(definition, item, item_path)
        if self.strict:
            answered = {item.linkId for item in items if _has_answer(item)}
            for definition in definitions:
                if (
                    definition.required
                    and definition.linkId in self.enabled
                    and definition.linkId not in answered
                    and definition.type != "display"
                ):
                    self.fail(
                        "required",
                        f"{path}.item.where(linkId='{definition.linkId}')",
                        f"item {definition.linkId!r} is required and has no answer",
                    )

    def check_item(self, definition: QuestionnaireItem, item: ResponseItem, path: str) -> None:
        if item.text is not None and definition.text is not None and item.text != definition.text:
            self.fail(
                "value",
                f"{path}.text",
                f"the text of item {item.linkId!r} differs from the questionnaire's",
            )
        answers = item.answer or []
        if self.strict and answers and item.linkId not in self.enabled:
            self.fail(
                "business-rule",
                f"{path}.answer",
                f"item {item.linkId!r} is not enabled by the other answers (enableWhen), so it "
                "must not be answered",
            )
        if definition.type in ("group", "display"):
            if answers:
                self.fail(
                    "structure",
                    f"{path}.answer",
                    f"item {item.linkId!r} is a {definition.type} and takes no answer",
                )
            if definition.type == "display" and item.item:
                self.fail("structure", f"{path}.item", "a display item has no child items")
            self.check_items(definition.item or [], item.item or [], path)
            return
        if item.item:
            self.fail(
                "structure",
                f"{path}.item",
                "items nested under a question belong under its answer (qrs-1)",
            )
        if len(answers) > 1 and not definition.repeats:
            self.fail(
                "structure",
                f"{path}.answer[1]",
                f"item {item.linkId!r} takes one answer (got {len(answers)})",
            )
        for index, answer in enumerate(answers):
            answer_path = f"{path}.answer[{index}]"
            self.check_answer(definition, answer, answer_path)
            if answer.item:
                self.check_items(definition.item or [], answer.item, answer_path)

    def check_answer(
        self, definition: QuestionnaireItem, answer: ResponseAnswer, path: str
    ) -> None:
        values = answer.choices("value")
        if len(values) != 1:
            self.fail(
                "structure", path, f"an answer carries exactly one value[x] (got {len(values)})"
            )
            return
        suffix, value = values[0]
        allowed = ANSWER_TYPES[definition.type]
        if definition.answerOption and definition.type in ("choice", "open-choice"):
            # The options fix the answer type (an open choice may also take free text).
            allowed = frozenset(s for o in definition.answerOption for s, _ in o.choices("value"))
            if definition.type == "open-choice":
                allowed |= {"String"}
        if suffix not in allowed:
            self.fail(
                "value",
                f"{path}.value{suffix}",
                f"item {definition.linkId!r} is of type {definition.type} and takes "
                f"{' or '.join('value' + s for s in sorted(allowed))}",
            )
            return
        if (
            definition.maxLength is not None
            and suffix == "String"
            and len(value) > definition.maxLength
        ):
            self.fail(
                "too-long",
                f"{path}.valueString",
                f"the answer is longer than {definition.maxLength} characters",
            )
        if definition.type in ("choice", "open-choice") and definition.answerOption:
            if definition.type == "open-choice" and suffix == "String":
                return
            if not any(
                _option_matches(option, suffix, value) for option in definition.answerOption
            ):
                self.fail(
                    "code-invalid",
                    f"{path}.value{suffix}",
                    f"{_describe(suffix, value)} is not one of the answers item "
                    f"{definition.linkId!r} offers",
                )


def _has_answer(item: ResponseItem) -> bool:
    if item.answer:
        return True
    return any(_has_answer(child) for child in item.item or [])


def _option_matches(option: AnswerOption, suffix: str, value: object) -> bool:
    offered = option.choices("value")
    if len(offered) != 1 or offered[0][0] != suffix:
        return False
    if suffix == "Coding":
        return coding_equal(offered[0][1], cast(Coding, value))
    if suffix == "Reference":
        return bool(offered[0][1].reference == value.reference)  # type: ignore[attr-defined]
    return bool(offered[0][1] == value)


def _describe(suffix: str, value: object) -> str:
    if suffix == "Coding":
        return f"the code {value.system or ''}|{value.code or ''}"  # type: ignore[attr-defined]
    return f"the value {value!r}"


# Questionnaire invariants ---------------------------------------------------------------------

# que-0 (a warning in R4, held as a rule here): the name is usable by machine processing.
_COMPUTABLE_NAME = re.compile(r"[A-Z]([A-Za-z0-9_]){0,254}")
_SIMPLE_TYPES = frozenset({"boolean", "decimal", "integer", "string", "text", "url", "open-choice"})
_OPTION_TYPES = frozenset(
    {
        "choice",
        "open-choice",
        "decimal",
        "integer",
        "date",
        "dateTime",
        "time",
        "string",
        "quantity",
    }
)


def questionnaire_issues(questionnaire: Questionnaire) -> list[ResponseIssue]:
    """Breaches of the R4 Questionnaire invariants que-0 to que-13, and dangling enableWhen."""
    issues: list[ResponseIssue] = []
    if questionnaire.name is not None and not _COMPUTABLE_NAME.fullmatch(questionnaire.name):
        issues.append(
            ResponseIssue(
                "invariant",
                f"Questionnaire.name: que-0: {questionnaire.name!r} is not a computable name "
                "(a capital letter, then letters, digits and _, at most 255 characters)",
                "Questionnaire.name",
            )
        )
    link_ids = Counter(item.linkId for item, _ in walk_definitions(questionnaire.item))
    for item, _parent in walk_definitions(questionnaire.item):
        where = f"Questionnaire.item.descendants().where(linkId='{item.linkId}')"

        def fail(rule: str, message: str, where: str = where) -> None:
            issues.append(ResponseIssue("invariant", f"{where}: {rule}: {message}", where))

        if link_ids[item.linkId] > 1:
            fail("que-2", "linkIds must be unique")
        if item.type == "group" and not item.item:
            fail("que-1", "a group must have child items")
        if item.type == "display" and item.item:
            fail("que-1", "a display item has no child items")
        if item.type == "display" and item.code:
            fail("que-3", "a display item has no code")
        if item.answerOption and item.answerValueSet:
            fail("que-4", "answerOption and answerValueSet are exclusive")
        if item.answerValueSet and item.type not in ("choice", "open-choice"):
            fail("que-5", "only choice and open-choice items have an answerValueSet")
        if item.answerOption and item.type not in _OPTION_TYPES:
            fail("que-5", f"a {item.type} item has no answerOption")
        if item.type == "display" and (item.required or item.repeats):
            fail("que-6", "a display item is neither required nor repeating")
        for condition in item.enableWhen or []:
            if condition.operator == "exists" and condition.answerBoolean is None:
                fail("que-7", "the exists operator takes answerBoolean")
            if len(condition.choices("answer")) != 1:
                fail("que-7", "enableWhen needs exactly one answer[x]")
            if condition.question not in link_ids:
                fail("enableWhen", f"no item has linkId {condition.question!r}")
        if item.initial and item.type in ("group", "display"):
            fail("que-8", "group and display items have no initial value")
        if item.readOnly and item.type == "display":
            fail("que-9", "a display item cannot be read-only")
        if item.maxLength is not None and item.type not in _SIMPLE_TYPES:
            fail("que-10", "maxLength applies to simple types only")
        if item.initial and item.answerOption:
            fail("que-11", "use answerOption.initialSelected instead of initial")
        # R4's machine expression says `count() > 2`; the text and R5 say more than one.
        if len(item.enableWhen or []) > 1 and item.enableBehavior is None:
            fail("que-12", "more than one enableWhen needs enableBehavior")
        if item.initial and len(item.initial) > 1 and not item.repeats:
            fail("que-13", "several initial values need repeats")
    return issues
