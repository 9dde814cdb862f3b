"""Searching referrals: every supported parameter, paging, sorting and totals."""

import pytest
from fhir.resources.R4B.bundle import Bundle

from referral_api.referrals.access import Reach
from referral_api.referrals.repository import referral_shape
from referral_api.referrals.search import ReferralFilter
from signpost_platform.binds import Binds
from signpost_platform.fhir.search import Token
from signpost_schemas import systems
from tests.referral.conftest import READ, WRITE
from tests.support.builders import NHS_NUMBERS, SNOMED_REASONS, reason, service_request


@pytest.fixture
async def referrals(client):
    """Five referrals that differ in one dimension each, created in this order."""
    bodies = {
        "a": service_request(identifier="A", authored="2026-01-15T09:00:00Z"),
        "b": service_request(
            identifier="B",
            nhs_number=NHS_NUMBERS[1],
            authored="2026-02-10T09:00:00Z",
            role="care-navigator",
        ),
        "c": service_request(
            identifier="C",
            requester="Y01234",
            authored="2026-03-05T09:00:00Z",
            reasons=[reason(SNOMED_REASONS["food"])],
        ),
        "d": service_request(
            identifier="D",
            status="completed",
            authored="2026-03-31T23:30:00Z",
            reasons=[reason(SNOMED_REASONS["unemployed"]), reason(SNOMED_REASONS["food"])],
        ),
        "e": service_request(
            identifier="E",
            nhs_number=NHS_NUMBERS[1],
            authored="2026-04-01T00:30:00Z",
            role="community-connector",
        ),
    }
    ids = {}
    for key, body in bodies.items():
        response = await client.post("/fhir/ServiceRequest", json=body, headers=WRITE)
        assert response.status_code == 201
        ids[key] = response.json()["id"]
    return ids


async def search(client, query):
    response = await client.get(f"/fhir/ServiceRequest?{query}", headers=READ)
    assert response.status_code == 200, response.text
    return response.json()


def found(bundle, ids):
    by_id = {v: k for k, v in ids.items()}
    return sorted(
        by_id[e["resource"]["id"]]
        for e in bundle.get("entry", [])
        if e["search"]["mode"] == "match"
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("identifier=https://emis.example/referral-id|C", ["c"]),
        ("identifier=D", ["d"]),
        (f"patient.identifier=https://fhir.nhs.uk/Id/nhs-number|{NHS_NUMBERS[1]}", ["b", "e"]),
        (f"patient.identifier={NHS_NUMBERS[0]}", ["a", "c", "d"]),
        ("status=completed", ["d"]),
        ("status=active,completed", ["a", "b", "c", "d", "e"]),
        ("authored=ge2026-03-01", ["c", "d", "e"]),
        ("authored=ge2026-02-01&authored=le2026-03-31", ["b", "c", "d"]),
        ("authored=lt2026-02-10", ["a"]),
        ("authored=2026-03", ["c", "d"]),
        ("authored=gt2026-03-31", ["e"]),
        ("performer-type=care-navigator", ["b"]),
        (
            "performer-type=https://signpost.nhs.example/CodeSystem/personalised-care-role|"
            "community-connector",
            ["e"],
        ),
        ("performer-type=care-navigator,community-connector", ["b", "e"]),
        ("requester=Y01234", ["c"]),
        ("requester=https://fhir.nhs.uk/Id/ods-organization-code|y01234", ["c"]),
        # Any reason counts, not only the first: food is d's second reason.
        ("reason-code=733423003", ["c", "d"]),
        ("reason-code=http://snomed.info/sct|422650009", ["a", "b", "e"]),
        ("reason-code=733423003,73438004", ["c", "d"]),
        ("reason-code=733423003&reason-code=73438004", ["d"]),
        ("reason-code=https://signpost.nhs.example/CodeSystem/referral-reason|733423003", []),
        (f"patient.identifier={NHS_NUMBERS[1]}&performer-type=community-connector", ["e"]),
        # The chained and :identifier forms of the person mean the same.
        (f"subject:identifier={NHS_NUMBERS[1]}", ["b", "e"]),
        (f"patient:identifier=https://fhir.nhs.uk/Id/nhs-number|{NHS_NUMBERS[1]}", ["b", "e"]),
        # The chain on subject, as fhirpy writes subject__identifier, with and without the type.
        (f"subject.identifier=https://fhir.nhs.uk/Id/nhs-number|{NHS_NUMBERS[1]}", ["b", "e"]),
        (f"subject:Patient.identifier={NHS_NUMBERS[1]}", ["b", "e"]),
        # requester and performer as references, and requester:identifier.
        ("requester=Organization/Y01234", ["c"]),
        ("requester=https://signpost.nhs.example/fhir/Organization/Y01234", ["c"]),
        ("requester:identifier=https://fhir.nhs.uk/Id/ods-organization-code|Y01234", ["c"]),
        ("performer=Organization/NOPE1", []),
        # |code is the code with no system: every stored reason here has one.
        ("reason-code=|733423003", []),
        ("_lastUpdated=lt2000-01-01", []),
        ("_lastUpdated=ge2000-01-01&status=completed", ["d"]),
    ],
)
async def test_search_parameter_selects_the_matching_referrals(client, referrals, query, expected):
    bundle = await search(client, query)

    assert found(bundle, referrals) == expected
    assert bundle["total"] == len(expected)


async def test_search_result_is_a_valid_fhir_searchset(client, referrals):
    bundle = await search(client, "_count=2")

    parsed = Bundle.model_validate(bundle)
    assert parsed.type == "searchset"
    assert all(e.search.mode == "match" for e in parsed.entry)
    assert bundle["entry"][0]["fullUrl"] == (
        f"http://referral.test/fhir/ServiceRequest/{bundle['entry'][0]['resource']['id']}"
    )


async def test_paging_walks_every_referral_once_with_next_links(client, referrals):
    seen, url = [], "/fhir/ServiceRequest?_count=2&_sort=authored"
    pages = 0
    while url:
        bundle = (await client.get(url, headers=READ)).json()
        assert bundle["total"] == 5
        seen += [e["resource"]["id"] for e in bundle["entry"]]
        next_link = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
        url = next_link[0].removeprefix("http://referral.test") if next_link else None
        pages += 1

    assert pages == 3
    assert seen == [referrals[k] for k in "abcde"]


async def test_sort_by_authored_descending(client, referrals):
    bundle = await search(client, "_sort=-authored")

    assert [e["resource"]["id"] for e in bundle["entry"]] == [referrals[k] for k in "edcba"]


async def test_default_sort_is_most_recently_updated_first(client, referrals):
    bundle = await search(client, "")

    updated = [e["resource"]["meta"]["lastUpdated"] for e in bundle["entry"]]
    assert len(updated) == 5
    assert updated == sorted(updated, reverse=True)
    # e was written last; b, linked to e (same person, another role), keeps its own version.
    assert bundle["entry"][0]["resource"]["id"] == referrals["e"]


async def test_total_can_be_skipped(client, referrals):
    bundle = await search(client, "_total=none&_count=2")

    assert "total" not in bundle
    assert any(link["relation"] == "next" for link in bundle["link"])


async def test_unknown_sort_key_is_refused(client):
    response = await client.get("/fhir/ServiceRequest?_sort=colour", headers=READ)

    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["_sort"]


async def test_malformed_date_is_refused(client):
    response = await client.get("/fhir/ServiceRequest?authored=ge2026-13-45", headers=READ)

    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["authored"]


async def test_priority_finds_the_urgent_referrals(client):
    ids = {}
    for key, extra in {
        "urgent": {"priority": "urgent"},
        "routine": {"priority": "routine"},
    }.items():
        body = service_request(identifier=key, **extra)
        response = await client.post("/fhir/ServiceRequest", json=body, headers=WRITE)
        assert response.status_code == 201, response.text
        ids[key] = response.json()["id"]
    unstated = await client.post(
        "/fhir/ServiceRequest", json=service_request(identifier="unstated"), headers=WRITE
    )
    ids["unstated"] = unstated.json()["id"]

    assert found(await search(client, "priority=urgent"), ids) == ["urgent"]
    assert found(
        await search(client, "priority=http://hl7.org/fhir/request-priority|urgent,routine"), ids
    ) == ["routine", "urgent"]


async def test_unknown_priority_is_refused(client):
    response = await client.get("/fhir/ServiceRequest?priority=whenever", headers=READ)

    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["priority"]


async def test_id_selects_the_named_referrals(client, referrals):
    bundle = await search(client, f"_id={referrals['a']},{referrals['c']}")

    assert found(bundle, referrals) == ["a", "c"]


async def test_unknown_parameter_is_ignored_with_a_warning_entry_and_left_out_of_links(
    client, referrals
):
    bundle = await search(client, "colour=blue&status=completed")

    assert found(bundle, referrals) == ["d"]
    assert bundle["total"] == 1
    outcome = bundle["entry"][-1]
    assert outcome["search"] == {"mode": "outcome"}
    assert outcome["resource"]["resourceType"] == "OperationOutcome"
    issue = outcome["resource"]["issue"][0]
    assert issue["severity"] == "warning"
    assert issue["expression"] == ["colour"]
    assert "colour" in issue["diagnostics"]
    assert all("colour" not in link["url"] for link in bundle["link"])
    assert "status=completed" in bundle["link"][0]["url"]
    Bundle.model_validate(bundle)


async def test_empty_parameter_is_ignored_with_a_warning_entry(client, referrals):
    bundle = await search(client, "status=")

    assert found(bundle, referrals) == ["a", "b", "c", "d", "e"]
    assert bundle["entry"][-1]["resource"]["issue"][0]["expression"] == ["status"]
    assert "status" not in bundle["link"][0]["url"]


@pytest.mark.parametrize("query", ["colour=blue", "status="])
async def test_strict_handling_refuses_unknown_and_empty_parameters(client, query):
    response = await client.get(
        f"/fhir/ServiceRequest?{query}", headers={**READ, "Prefer": "handling=strict"}
    )

    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == [query.split("=")[0]]


@pytest.mark.parametrize("prefer", [None, "handling=strict", "handling=lenient"])
@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("_count=abc", "_count"),
        ("authored=notadate", "authored"),
        ("_lastUpdated=yesterday", "_lastUpdated"),
        ("status:exact=active", "status:exact"),
        ("_summary=text", "_summary"),
        ("requester=Patient/X1", "requester"),
    ],
)
async def test_bad_values_and_unsupported_modifiers_are_refused_in_both_modes(
    client, query, parameter, prefer
):
    headers = {**READ, **({"Prefer": prefer} if prefer else {})}
    response = await client.get(f"/fhir/ServiceRequest?{query}", headers=headers)

    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == [parameter]


async def test_summary_count_gives_the_total_and_no_entries(client, referrals):
    bundle = await search(client, "_summary=count&status=active")

    assert bundle["total"] == 4
    assert "entry" not in bundle  # FHIR JSON has no empty arrays


async def test_count_zero_gives_the_total_alone_as_fhir_clients_ask_for_it(client, referrals):
    bundle = await search(client, "_count=0&status=active")

    assert bundle["total"] == 4
    assert "entry" not in bundle  # FHIR JSON has no empty arrays


async def test_elements_keeps_only_the_listed_elements_and_tags_subsetted(client, referrals):
    bundle = await search(client, "_elements=status,authoredOn&_count=2")

    assert len(bundle["entry"]) == 2
    for entry in bundle["entry"]:
        resource = entry["resource"]
        # intent and subject are kept unasked: FHIR R4 requires them of every ServiceRequest.
        assert set(resource) == {
            "resourceType",
            "id",
            "meta",
            "status",
            "authoredOn",
            "intent",
            "subject",
        }
        assert {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
            "code": "SUBSETTED",
            "display": "subsetted",
        } in resource["meta"]["tag"]


@pytest.mark.parametrize(
    "query", ["_summary=data", "_summary=true", "_pretty=true", "_format=json", "_=1764000000000"]
)
async def test_common_result_parameters_are_accepted_without_warnings(client, referrals, query):
    bundle = await search(client, query)

    assert found(bundle, referrals) == ["a", "b", "c", "d", "e"]
    assert all(e["search"]["mode"] == "match" for e in bundle["entry"])


async def test_search_by_post_takes_form_encoded_parameters(client, referrals):
    response = await client.post(
        "/fhir/ServiceRequest/_search",
        content=f"status=completed&patient.identifier={NHS_NUMBERS[0]}",
        headers={**READ, "Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 200, response.text
    assert found(response.json(), referrals) == ["d"]


async def test_search_by_post_refuses_a_body_that_is_not_a_form(client):
    response = await client.post(
        "/fhir/ServiceRequest/_search",
        json={"status": "completed"},
        headers=READ,
    )

    assert response.status_code == 415


async def test_strict_handling_still_serves_count_over_the_cap_as_the_cap(client, referrals):
    response = await client.get(
        "/fhir/ServiceRequest?_count=5000",
        headers={**READ, "Prefer": "return=minimal, handling=strict"},
    )

    assert response.status_code == 200
    assert "_count=100" in response.json()["link"][0]["url"].split("?")[1].split("&")


async def test_repeated_parameters_stay_capped_in_a_post_search_body(client):
    body = "&".join(["status=active"] * 11)
    response = await client.post(
        "/fhir/ServiceRequest/_search",
        content=body,
        headers={**READ, "Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 400
    assert response.json()["issue"][0]["code"] == "too-costly"
    assert response.json()["issue"][0]["expression"] == ["status"]


async def test_repeated_parameters_stay_capped_in_lenient_mode(client):
    query = "&".join(["colour=blue"] * 11)
    response = await client.get(f"/fhir/ServiceRequest?{query}", headers=READ)

    assert response.status_code == 400
    assert response.json()["issue"][0]["code"] == "too-costly"


async def test_searches_of_one_shape_each_find_what_their_own_values_select(client, referrals):
    """A search's statement is built once per shape and reused: searches that differ only in
    their values, one after another in one service, each find their own referrals; a token's
    form (system|code, |code, code) and a date's prefix change the shape."""
    sequence = [
        ("identifier=https://emis.example/referral-id|C", ["c"]),
        ("identifier=https://emis.example/referral-id|D", ["d"]),
        ("identifier=|D", []),
        ("identifier=D", ["d"]),
        ("identifier=A", ["a"]),
        (f"patient.identifier={NHS_NUMBERS[1]}", ["b", "e"]),
        (f"patient.identifier={NHS_NUMBERS[0]}", ["a", "c", "d"]),
        ("status=completed", ["d"]),
        ("status=active", ["a", "b", "c", "e"]),
        ("authored=ge2026-03-01", ["c", "d", "e"]),
        ("authored=ge2026-04-01", ["e"]),
        ("authored=le2026-02-01", ["a"]),
        (f"reason-code={SNOMED_REASONS['food']}", ["c", "d"]),
        (f"reason-code={SNOMED_REASONS['unemployed']}", ["d"]),
        (f"reason-code={SNOMED_REASONS['food']}&status=active", ["c"]),
        (f"reason-code={SNOMED_REASONS['food']}&status=completed", ["d"]),
    ]

    answered = [(query, found(await search(client, query), referrals)) for query, _ in sequence]

    assert answered == sequence


def test_a_search_shape_keeps_its_forms_and_holds_its_values_out():
    def shape(**parameters):
        binds = Binds()
        return referral_shape(ReferralFilter(**parameters), binds, Reach("F84001")), binds.values

    first, first_values = shape(identifiers=[[Token("https://emis.example/referral-id", "C")]])
    second, second_values = shape(identifiers=[[Token("https://emis.example/referral-id", "D")]])
    no_system, _ = shape(identifiers=[[Token("", "D")]])
    any_system, _ = shape(identifiers=[[Token(None, "D")]])
    by_nhs_number, _ = shape(patients=[[(systems.NHS_NUMBER, NHS_NUMBERS[0])]])
    by_local_id, _ = shape(patients=[[("https://rio.example/patient-id", "RIO-1")]])

    assert first == second
    assert first_values == {"p0": "https://emis.example/referral-id", "p1": "C", "p2": "F84001"}
    assert second_values == {"p0": "https://emis.example/referral-id", "p1": "D", "p2": "F84001"}
    assert len({first, no_system, any_system}) == 3
    assert by_nhs_number != by_local_id
