"""The code lists shipped as package data, and the rules from their README."""

import pytest

from signpost_schemas import codes, systems
from signpost_schemas.codes import Confidence

ALL_LISTS = [
    codes.referral_reasons,
    codes.personalised_care_roles,
    codes.sources_of_referral,
    codes.support_offered,
    codes.personal_health_budget,
    codes.shared_decision_making,
    codes.ethnic_categories,
    codes.genders,
    codes.consultation_mechanisms,
    codes.attendance,
    codes.referral_status_and_closure,
    codes.screening_answers,
    codes.wellbeing_instruments,
    codes.service_use,
]


@pytest.mark.parametrize("load", ALL_LISTS, ids=lambda f: f.__name__)
def test_every_concept_keeps_confidence_and_source(load):
    code_list = load()

    assert len(code_list) > 0
    for concept in code_list:
        assert isinstance(concept.confidence, Confidence)
        assert concept.source


@pytest.mark.parametrize("load", ALL_LISTS, ids=lambda f: f.__name__)
def test_local_codes_live_only_in_local_systems(load):
    for concept in load():
        if concept.confidence is Confidence.LOCAL:
            assert concept.system.startswith(systems.LOCAL_BASE), concept
        else:
            assert not concept.system.startswith(systems.LOCAL_BASE), concept


def test_system_and_code_pairs_are_unique_across_all_lists():
    pairs = [(c.system, c.code) for load in ALL_LISTS for c in load()]

    assert len(pairs) == len(set(pairs))


def test_the_six_personalised_care_roles():
    assert [c.code for c in codes.personalised_care_roles()] == [
        "social-prescribing-link-worker",
        "care-coordinator",
        "health-and-wellbeing-coach",
        "care-navigator",
        "community-connector",
        "community-neighbourhood-link-worker",
    ]


def test_reason_list_has_snomed_and_local_codes_and_an_explicit_not_recorded():
    reasons = codes.referral_reasons()

    assert reasons.get(systems.SNOMED, "32911000").display == "Homeless"
    assert reasons.get(systems.SNOMED, "32911000").confidence is Confidence.VERIFIED
    not_recorded = reasons.get(systems.REFERRAL_REASON, "reason-not-recorded")
    assert not_recorded.group == "not-recorded"
    assert not_recorded.is_local


def test_codes_are_matched_on_system_and_code_not_code_alone():
    genders = codes.genders()

    assert len(genders.find_code("1")) == 2
    assert genders.get(systems.SNOMED, "1") is None


def test_service_use_measures_are_local_codes():
    measures = codes.service_use()

    assert [c.code for c in measures] == [
        "gp-appointments",
        "ae-attendances",
        "emergency-admissions",
    ]
    assert all(c.confidence is Confidence.LOCAL for c in measures)
