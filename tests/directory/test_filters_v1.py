"""The ORUK v1 validator's functional filter tests: age, postcode + proximity, day/time,
taxonomy and text, each checked against the data (results match, non-matches are left out)."""

import pytest

from directory_api.services.schemas import WEEKDAYS, byday_weekdays, clock_minutes
from tests.directory.helpers import all_items, distances_from, postcode_point


@pytest.fixture
async def everything(seeded_client):
    return await all_items(seeded_client, "/services?full=true")


async def test_age_filter_returns_services_for_that_age_range(seeded_client, everything):
    target = next(s for s in everything if "maximum_age" in s and "minimum_age" in s)

    found = await all_items(
        seeded_client,
        f"/services?minimum_age={target['minimum_age']}&maximum_age={target['maximum_age']}",
    )

    assert target["id"] in {s["id"] for s in found}
    for service in found:
        assert service.get("minimum_age", 0) >= target["minimum_age"]
        assert service["maximum_age"] <= target["maximum_age"]


async def test_postcode_and_proximity_returns_only_services_within_the_distance(
    seeded_client, everything
):
    point = postcode_point("E6 1HR")

    found = await all_items(seeded_client, "/services?postcode=E6%201HR&proximity=1000")

    found_ids = {s["id"] for s in found}
    for service in everything:
        near = any(d <= 1000 for d in distances_from(point, service))
        assert (service["id"] in found_ids) == near, service["name"]
    assert "Debt advice drop-in" in [s["name"] for s in found]


async def test_service_at_locations_postcode_proximity_returns_locations_within_distance(
    seeded_client,
):
    point = postcode_point("E15 1DA")

    found = await all_items(seeded_client, "/service_at_locations?postcode=E15+1DA&proximity=2000")

    assert found
    for item in found:
        metres = point.metres_to(item["location"]["latitude"], item["location"]["longitude"])
        assert metres <= 2000
        assert item["distance"] == pytest.approx(metres, abs=15)
    assert [i["distance"] for i in found] == sorted(i["distance"] for i in found)


async def test_day_and_time_returns_services_open_then(seeded_client, everything):
    found = await all_items(seeded_client, "/services?day=SA&start_time=10:00&end_time=11:00")

    def open_then(service):
        schedules = list(service.get("schedules", []))
        for link in service.get("service_at_locations", []):
            schedules += link.get("schedules", [])
        return any(
            WEEKDAYS.index("SA") in byday_weekdays(s["byday"])
            and clock_minutes(s["opens_at"]) <= 600
            and clock_minutes(s["closes_at"]) >= 660
            for s in schedules
            if "byday" in s and "opens_at" in s
        )

    assert {s["id"] for s in found} == {s["id"] for s in everything if open_then(s)}
    assert {"Lloyd Park health walk", "Whitechapel community pantry"} <= {s["name"] for s in found}


async def test_taxonomy_filters_return_services_tagged_with_the_term(seeded_client, everything):
    tagged = next(s for s in everything if s["name"] == "Bow food bank")
    term = tagged["attributes"][0]["taxonomy_term"]

    by_term = await all_items(seeded_client, f"/services?taxonomy_term_id={term['id']}")
    by_taxonomy = await all_items(
        seeded_client, f"/services?taxonomy_id={term['taxonomy_id']}&taxonomy_term_id={term['id']}"
    )

    expected = {
        s["id"]
        for s in everything
        if term["id"] in {a["taxonomy_term_id"] for a in s.get("attributes", [])}
    }
    assert {s["id"] for s in by_term} == expected == {s["id"] for s in by_taxonomy}
    assert len(expected) == 2  # the food bank and the pantry


@pytest.mark.parametrize("parameter", ["search", "text"])
async def test_text_search_matches_name_and_description(seeded_client, everything, parameter):
    found = await all_items(seeded_client, f"/services?{parameter}=befriending")

    expected = {
        s["id"]
        for s in everything
        if "befriending"
        in f"{s['name']} {s.get('description', '')} {s['organization']['name']}".lower()
    }
    assert {s["id"] for s in found} == expected
    assert "Telephone befriending" in [s["name"] for s in found]


async def test_filters_combine_with_and(seeded_client):
    both = await all_items(seeded_client, "/services?search=advice&language=bn")

    assert [s["name"] for s in both] == ["Debt advice drop-in"]
