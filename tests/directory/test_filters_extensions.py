"""Signpost's documented extensions: what link workers filter by."""

import pytest

from directory_api.seed.loader import role_service_id
from signpost_schemas import codes
from tests.directory.builders import service_type, service_type_group
from tests.directory.helpers import all_items, names

SOCIAL_ISOLATION = "422650009"  # SNOMED CT, in the shared referral-reasons list
FINANCIAL_PROBLEM = "160932005"


async def test_roles_are_findable_by_need_and_postcode_nearest_first(seeded_client):
    found = await all_items(
        seeded_client, f"/services?need={SOCIAL_ISOLATION}&postcode=E15%201DA&proximity=5000"
    )

    ids = [s["id"] for s in found]
    for role in (
        "social-prescribing-link-worker",
        "community-neighbourhood-link-worker",
        "community-connector",
    ):
        assert role_service_id(role) in ids, role
    assert found[0]["name"] == "Community neighbourhood link worker"
    assert found[0]["distance"] == 0
    assert [s["distance"] for s in found] == sorted(s["distance"] for s in found)
    assert all(s["distance"] <= 5000 for s in found)


async def test_the_six_roles_are_services_with_how_to_refer(seeded_client):
    roles = [concept.code for concept in codes.personalised_care_roles()]
    assert len(roles) == 6
    for role in roles:
        service = (await seeded_client.get(f"/services/{role_service_id(role)}")).json()
        assert service["application_process"], role
        assert service["eligibility_description"], role
        assert service["service_at_locations"][0]["location"]["addresses"], role
        assert "accepts_self_referral" in service
    roles_term = (await seeded_client.get("/taxonomy_terms?search=link+worker")).json()
    assert {t["name"] for t in roles_term["contents"]} >= {"Social prescribing link worker"}


async def test_only_the_neighbourhood_link_worker_role_takes_self_referrals(seeded_client):
    found = await names(seeded_client, "/services?accepts_self_referral=true&search=worker")

    assert found == ["Community neighbourhood link worker"]


async def test_need_expands_to_its_service_types_and_their_child_terms(seeded_client):
    found = set(await names(seeded_client, f"/services?need={FINANCIAL_PROBLEM}"))

    assert {"Debt advice drop-in", "Welfare benefits advice line"} <= found
    assert "Bow food bank" not in found


async def test_service_type_group_includes_child_terms(seeded_client):
    by_group = set(
        await names(seeded_client, f"/services?service_type={service_type_group('finance')}")
    )
    by_code = set(await names(seeded_client, "/services?service_type=group:finance"))
    by_child = set(
        await names(seeded_client, f"/services?service_type={service_type('debt-advice')}")
    )

    assert by_group == by_code
    assert by_child < by_group
    assert "Debt advice drop-in" in by_child


async def test_lat_lon_sorts_by_distance_without_a_radius(seeded_client):
    found = await all_items(seeded_client, "/services?lat=51.5416&lon=0.0024")

    with_distance = [s["distance"] for s in found if "distance" in s]
    assert len(found) == 19
    assert with_distance == sorted(with_distance)
    # Services delivered only online or by phone have no place: they come last, undistanced.
    assert {s["name"] for s in found[len(with_distance) :]} == {
        "Welfare benefits advice line",
        "Domestic abuse helpline and advocacy",
    }


async def test_coverage_keeps_services_whose_area_contains_the_postcode(seeded_client):
    newham = set(await names(seeded_client, "/services?coverage=E6%201HR"))
    by_postcode = {
        item["service"]["name"]
        for item in await all_items(seeded_client, "/service_at_locations?postcode=E6+1HR")
    }

    assert "Debt advice drop-in" in newham
    assert "Social prescribing link worker" in newham
    assert "Telephone befriending" not in newham  # Hackney only
    assert by_postcode == newham


@pytest.mark.parametrize(
    ("query", "included", "excluded"),
    [
        ("age=70", "Telephone befriending", "Job club and CV help"),
        ("age=20", "Job club and CV help", "Telephone befriending"),
        ("free=true", "Bow food bank", "Whitechapel community pantry"),
        ("free=false", "Whitechapel community pantry", "Bow food bank"),
        ("delivery_mode=online", "Talking therapies for anxiety and depression", "Bow food bank"),
        ("delivery_mode=phone", "Domestic abuse helpline and advocacy", "Lloyd Park health walk"),
        (
            "delivery_mode=in_person",
            "Lloyd Park health walk",
            "Domestic abuse helpline and advocacy",
        ),
        ("language=ur", "Welfare benefits advice line", "Debt advice drop-in"),
        ("language=bn,tr", "Telephone befriending", "Welfare benefits advice line"),
        ("exclude_temporarily_closed=true", "Bow food bank", "Arts on prescription"),
        ("accepts_self_referral=false", "Bow food bank", "Lloyd Park health walk"),
        ("day=sunday", "Domestic abuse helpline and advocacy", "Bow food bank"),
    ],
)
async def test_extension_filter(seeded_client, query, included, excluded):
    found = set(await names(seeded_client, f"/services?{query}"))

    assert included in found
    assert excluded not in found


async def test_temporarily_closed_services_are_listed_by_default(seeded_client):
    found = await all_items(seeded_client, "/services?search=prescription")

    assert [(s["name"], s["status"]) for s in found] == [
        ("Arts on prescription", "temporarily closed")
    ]


async def test_ndjson_streams_every_match_one_object_a_line(seeded_client):
    response = await seeded_client.get("/services?format=ndjson&full=true")

    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = response.text.strip().split("\n")
    assert len(lines) == 19
    assert all('"service_at_locations"' in line or '"organization"' in line for line in lines)


async def test_minimal_lists_every_id_with_last_modified(seeded_client):
    body = (await seeded_client.get("/services?minimal=true")).json()

    assert body["total_items"] == 19 == len(body["contents"])
    assert all(set(item) == {"id", "last_modified"} for item in body["contents"])


async def test_modified_after_in_the_future_returns_nothing(seeded_client):
    body = (await seeded_client.get("/services?modified_after=2999-01-01T00:00:00Z")).json()

    assert body["total_items"] == 0 and body["empty"] is True


async def test_organisation_lists_its_services(seeded_client):
    services = await all_items(seeded_client, "/services?search=advice+drop-in")
    organization_id = services[0]["organization_id"]

    organization = (await seeded_client.get(f"/organizations/{organization_id}")).json()
    by_org = await names(seeded_client, f"/services?organization_id={organization_id}")

    assert sorted(s["name"] for s in organization["services"]) == sorted(by_org)
    assert sorted(by_org) == ["Debt advice drop-in", "Welfare benefits advice line"]
