"""The general QuestionnaireResponse validator (signpost_schemas.questionnaire), on synthetic
questionnaires: every enableWhen operator, enableBehavior, groups, repeats and the que-* rules."""

from typing import Any

import pytest

from signpost_schemas.questionnaire import (
    Questionnaire,
    QuestionnaireResponse,
    enabled_link_ids,
    questionnaire_issues,
    validate_response,
)


def questionnaire(*items: dict[str, Any]) -> Questionnaire:
    return Questionnaire.model_validate(
        {
            "resourceType": "Questionnaire",
            "status": "active",
            "url": "urn:test",
            "version": "1",
            "item": list(items),
        }
    )


def response(*items: dict[str, Any], status: str = "completed") -> QuestionnaireResponse:
    return QuestionnaireResponse.model_validate(
        {
            "resourceType": "QuestionnaireResponse",
            "status": status,
            "item": list(items),
        }
    )


def answer(link_id: str, **value: Any) -> dict[str, Any]:
    return {"linkId": link_id, "answer": [value]}


def when(question: str, operator: str = "=", **expected: Any) -> dict[str, Any]:
    """An enableWhen condition on the answer to `question`."""
    return {"question": question, "operator": operator, **expected}


def shown_when(
    link_id: str, item_type: str, *conditions: dict[str, Any], **more: Any
) -> dict[str, Any]:
    """An item of `item_type` enabled by `conditions` (enableWhen), with `more` of its elements."""
    return {"linkId": link_id, "type": item_type, "enableWhen": list(conditions), **more}


def conditional(operator: str, **expected: Any) -> dict[str, Any]:
    return shown_when("follow-up", "string", when("q", operator, **expected), required=True)


@pytest.mark.parametrize(
    ("question_type", "operator", "expected", "given", "enabled"),
    [
        ("integer", "=", {"answerInteger": 3}, {"valueInteger": 3}, True),
        ("integer", "=", {"answerInteger": 3}, {"valueInteger": 4}, False),
        ("integer", "!=", {"answerInteger": 3}, {"valueInteger": 4}, True),
        ("integer", "!=", {"answerInteger": 3}, {"valueInteger": 3}, False),
        ("integer", ">", {"answerInteger": 3}, {"valueInteger": 4}, True),
        ("integer", ">", {"answerInteger": 3}, {"valueInteger": 3}, False),
        ("integer", ">=", {"answerInteger": 3}, {"valueInteger": 3}, True),
        ("integer", "<", {"answerInteger": 3}, {"valueInteger": 2}, True),
        ("integer", "<=", {"answerInteger": 3}, {"valueInteger": 4}, False),
        ("decimal", ">", {"answerDecimal": 37.5}, {"valueDecimal": 38.1}, True),
        ("date", "<", {"answerDate": "2026-01-01"}, {"valueDate": "2025-12-31"}, True),
        ("date", ">=", {"answerDate": "2026-01-01"}, {"valueDate": "2025-12-31"}, False),
        (
            "dateTime",
            ">",
            {"answerDateTime": "2026-01-01T00:00:00Z"},
            {"valueDateTime": "2026-01-01T01:00:00+00:00"},
            True,
        ),
        ("string", "=", {"answerString": "yes"}, {"valueString": "yes"}, True),
        ("boolean", "=", {"answerBoolean": True}, {"valueBoolean": False}, False),
        ("integer", "exists", {"answerBoolean": True}, {"valueInteger": 1}, True),
        ("integer", "exists", {"answerBoolean": False}, {"valueInteger": 1}, False),
    ],
)
def test_enable_when_operators(question_type, operator, expected, given, enabled):
    form = questionnaire({"linkId": "q", "type": question_type}, conditional(operator, **expected))

    result = enabled_link_ids(form, response(answer("q", **given)))

    assert ("follow-up" in result) is enabled


def test_unanswered_question_enables_only_exists_false():
    form = questionnaire(
        {"linkId": "q", "type": "integer"}, conditional("exists", answerBoolean=False)
    )
    assert "follow-up" in enabled_link_ids(form, response())

    form = questionnaire({"linkId": "q", "type": "integer"}, conditional("!=", answerInteger=1))
    assert "follow-up" not in enabled_link_ids(form, response())


def test_coding_equality_ignores_a_missing_system_and_display():
    form = questionnaire(
        {
            "linkId": "q",
            "type": "choice",
            "answerOption": [{"valueCoding": {"system": "urn:s", "code": "a"}}],
        },
        conditional("=", answerCoding={"code": "a"}),
    )
    given = answer("q", valueCoding={"system": "urn:s", "code": "a", "display": "A"})
    assert "follow-up" in enabled_link_ids(form, response(given))


@pytest.mark.parametrize(
    ("behavior", "answers", "enabled"),
    [
        ("all", (1, 1), True),
        ("all", (1, 0), False),
        ("any", (0, 1), True),
        ("any", (0, 0), False),
    ],
)
def test_enable_behavior_all_and_any(behavior, answers, enabled):
    form = questionnaire(
        {"linkId": "a", "type": "integer"},
        {"linkId": "b", "type": "integer"},
        shown_when(
            "c",
            "string",
            when("a", answerInteger=1),
            when("b", answerInteger=1),
            enableBehavior=behavior,
        ),
    )
    given = response(answer("a", valueInteger=answers[0]), answer("b", valueInteger=answers[1]))

    assert ("c" in enabled_link_ids(form, given)) is enabled


def test_answers_to_a_disabled_item_do_not_enable_others():
    form = questionnaire(
        {"linkId": "a", "type": "boolean"},
        shown_when("b", "boolean", when("a", answerBoolean=True)),
        shown_when("c", "string", when("b", answerBoolean=True)),
    )
    given = response(answer("a", valueBoolean=False), answer("b", valueBoolean=True))

    assert enabled_link_ids(form, given) == {"a"}


def test_children_of_a_disabled_group_are_disabled():
    form = questionnaire(
        {"linkId": "a", "type": "boolean"},
        shown_when(
            "g",
            "group",
            when("a", answerBoolean=True),
            item=[{"linkId": "g1", "type": "string", "required": True}],
        ),
    )

    assert enabled_link_ids(form, response(answer("a", valueBoolean=False))) == {"a"}
    issues = validate_response(
        form,
        response(
            answer("a", valueBoolean=False),
            {"linkId": "g", "item": [answer("g1", valueString="x")]},
        ),
    )
    assert [i.expression for i in issues] == ["QuestionnaireResponse.item[1].item[0].answer"]


def test_nested_groups_are_checked_with_nested_paths():
    form = questionnaire(
        {
            "linkId": "g",
            "type": "group",
            "required": True,
            "item": [
                {"linkId": "g1", "type": "integer", "required": True},
                {"linkId": "g2", "type": "string", "maxLength": 3},
            ],
        }
    )
    given = response({"linkId": "g", "item": [answer("g2", valueString="toolong")]})

    issues = validate_response(form, given)

    assert [(i.code, i.expression) for i in issues] == [
        ("too-long", "QuestionnaireResponse.item[0].item[0].answer[0].valueString"),
        ("required", "QuestionnaireResponse.item[0].item.where(linkId='g1')"),
    ]


def test_repeating_items_take_several_answers():
    form = questionnaire({"linkId": "r", "type": "string", "repeats": True})

    assert (
        validate_response(
            form, response({"linkId": "r", "answer": [{"valueString": "a"}, {"valueString": "b"}]})
        )
        == []
    )


def test_groups_take_no_answers_and_display_items_none_either():
    form = questionnaire(
        {"linkId": "d", "type": "display", "text": "Read me"},
        {"linkId": "g", "type": "group", "item": [{"linkId": "x", "type": "string"}]},
    )
    issues = validate_response(
        form, response(answer("d", valueString="x"), answer("g", valueString="y"))
    )

    assert [i.expression for i in issues] == [
        "QuestionnaireResponse.item[0].answer",
        "QuestionnaireResponse.item[1].answer",
    ]


def test_an_answer_must_carry_exactly_one_value():
    form = questionnaire({"linkId": "q", "type": "string"})
    issues = validate_response(
        form, response({"linkId": "q", "answer": [{"valueString": "a", "valueInteger": 1}]})
    )

    assert [(i.code, i.expression) for i in issues] == [
        ("structure", "QuestionnaireResponse.item[0].answer[0]")
    ]


def test_open_choice_accepts_free_text_and_listed_codes():
    form = questionnaire(
        {
            "linkId": "q",
            "type": "open-choice",
            "answerOption": [{"valueCoding": {"system": "urn:s", "code": "a"}}],
        }
    )

    assert validate_response(form, response(answer("q", valueString="other"))) == []
    assert (
        validate_response(form, response(answer("q", valueCoding={"system": "urn:s", "code": "a"})))
        == []
    )
    assert len(validate_response(form, response(answer("q", valueCoding={"code": "b"})))) == 1


def test_in_progress_responses_skip_required_and_enablement_rules():
    form = questionnaire(
        {"linkId": "a", "type": "boolean", "required": True},
        shown_when("b", "string", when("a", answerBoolean=True), required=True),
    )
    draft = response(answer("b", valueString="early"), status="in-progress")

    assert validate_response(form, draft) == []


@pytest.mark.parametrize(
    "name, computable",
    [
        ("barts-social-welfare-screening", False),
        ("bartsScreening", False),
        ("Barts Screening", False),
        ("B" * 256, False),
        ("BartsSocialWelfareScreening", True),
        ("Barts_2023", True),
    ],
)
def test_a_name_that_is_not_computable_breaks_que_0(name, computable):
    form = questionnaire({"linkId": "a", "type": "string"}).model_copy(update={"name": name})

    issues = questionnaire_issues(form)

    assert [i.expression for i in issues] == ([] if computable else ["Questionnaire.name"])
    assert all("que-0" in i.diagnostics for i in issues)


def test_questionnaire_invariants_are_reported():
    form = questionnaire(
        {"linkId": "a", "type": "group"},
        {"linkId": "a", "type": "display", "required": True, "code": [{"code": "x"}]},
        {
            "linkId": "c",
            "type": "string",
            "answerValueSet": "urn:vs",
            "enableWhen": [
                when("zz", "exists", answerBoolean=True),
                when("a", "exists", answerBoolean=True),
            ],
        },
        {
            "linkId": "d",
            "type": "choice",
            "answerOption": [{"valueCoding": {"code": "x"}}],
            "initial": [{"valueCoding": {"code": "x"}}],
        },
    )

    rules = sorted({i.diagnostics.split(": ")[1] for i in questionnaire_issues(form)})

    assert rules == [
        "enableWhen",
        "que-1",
        "que-11",
        "que-12",
        "que-2",
        "que-3",
        "que-5",
        "que-6",
    ]
