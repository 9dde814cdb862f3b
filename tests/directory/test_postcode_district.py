"""A valid postcode missing from the lookup, or a postcode district given alone, is placed by
the district, and the response says so.

The sample lookup knows E15 1DA and E15 4HT (district E15); E15 9ZZ is a valid postcode it does
not hold, so it stands at the centroid of those two, as does E15 given alone. No postcode of
district ZE2 is known.
"""

from statistics import fmean

import pytest

from directory_api.services.search import Point
from tests.directory.helpers import all_items, distances_from, names, postcode_point
from tests.directory.oruk_validator import schema_errors

E15_CENTROID = Point(
    fmean(postcode_point(p).latitude for p in ("E15 1DA", "E15 4HT")),
    fmean(postcode_point(p).longitude for p in ("E15 1DA", "E15 4HT")),
)


def assert_distances_from(point, items):
    assert items, "expected services within the radius"
    distances = [item["distance"] for item in items]
    assert distances == sorted(distances)
    for item in items:
        # Distances are computed on a local flat projection: within metres of the great circle.
        assert item["distance"] == pytest.approx(min(distances_from(point, item)), abs=15)


def district_notes(detail: str) -> list[dict[str, str]]:
    """The `notes` of a postcode search placed by its district, saying `detail`."""
    return [{"parameter": "postcode", "code": "postcode-district", "detail": detail}]


async def test_a_known_postcode_is_exact_and_says_nothing(seeded_client):
    response = await seeded_client.get("/services?postcode=E15%201DA&proximity=3000&full=true")

    assert response.status_code == 200, response.text
    body = response.json()
    assert "notes" not in body and "warning" not in response.headers
    assert_distances_from(postcode_point("E15 1DA"), body["contents"])


async def test_a_missing_postcode_is_measured_from_its_district_centroid(seeded_client):
    response = await seeded_client.get("/services?postcode=E15%209ZZ&proximity=3000&full=true")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["notes"] == district_notes(
        "E15 9ZZ is not in the postcode lookup: distances are measured from the centroid of its "
        "district E15 (2 known postcodes)"
    )
    assert "299" in response.headers["warning"] and "E15" in response.headers["warning"]
    assert_distances_from(E15_CENTROID, body["contents"])
    exact = (
        await seeded_client.get("/services?postcode=E15%201DA&proximity=3000&full=true")
    ).json()
    # The district centroid is not E15 1DA: the same services lie at other distances.
    assert [i["distance"] for i in body["contents"]] != [i["distance"] for i in exact["contents"]]


async def test_the_district_list_still_conforms_to_the_oruk_schema(seeded_client):
    body = (await seeded_client.get("/services?postcode=E15%209ZZ&proximity=5000")).json()

    assert body["notes"] and body["contents"]
    assert schema_errors("service_list.json", body) == []


async def test_service_at_locations_and_ndjson_carry_the_approximation(seeded_client):
    links = await seeded_client.get("/service_at_locations?postcode=E15+9ZZ&proximity=3000")
    streamed = await seeded_client.get("/services?postcode=E15+9ZZ&proximity=3000&format=ndjson")

    assert links.status_code == 200 and links.json()["notes"][0]["parameter"] == "postcode"
    for item in links.json()["contents"]:
        location = item["location"]
        assert item["distance"] == pytest.approx(
            E15_CENTROID.metres_to(location["latitude"], location["longitude"]), abs=15
        )
    assert streamed.status_code == 200
    assert "E15 9ZZ is not in the postcode lookup" in streamed.headers["warning"]


async def test_a_missing_postcode_alone_covers_its_districts_authorities(seeded_client):
    response = await seeded_client.get("/services?postcode=E6%209ZZ")

    assert response.status_code == 200, response.text
    note = response.json()["notes"][0]
    assert note["parameter"] == "postcode" and "E09000025" in note["detail"]
    assert set(await names(seeded_client, "/services?postcode=E6%209ZZ")) == set(
        await names(seeded_client, "/services?coverage=E6%201HR")
    )
    coverage = await seeded_client.get("/services?coverage=E6+9ZZ")
    assert coverage.json()["notes"][0]["parameter"] == "coverage"


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("ZE2%209ZZ", "neither ZE2 9ZZ nor its postcode district ZE2 is in the postcode lookup"),
        ("ZE2", "ZE2 is not a postcode district the postcode lookup knows"),
    ],
)
@pytest.mark.parametrize("parameter", ["postcode", "coverage"])
async def test_an_unknown_district_is_refused_naming_the_remedy(
    seeded_client, parameter, given, says
):
    proximity = "&proximity=1000" if parameter == "postcode" else ""
    response = await seeded_client.get(f"/services?{parameter}={given}{proximity}")

    assert response.status_code == 400
    problem = response.json()
    assert problem["errors"][0]["parameter"] == parameter
    assert says in problem["detail"]
    assert "make load-directory-postcodes FILE=" in problem["detail"]
    assert "python -m directory_api.geography load" in problem["detail"]


async def test_an_invalid_postcode_is_refused(seeded_client):
    response = await seeded_client.get("/services?postcode=E15%20ZZZ&proximity=1000")

    assert response.status_code == 400
    assert "is neither a full UK postcode nor a postcode district" in response.json()["detail"]


async def test_every_match_of_the_district_search_is_within_the_radius(seeded_client):
    items = await all_items(seeded_client, "/services?postcode=E15%209ZZ&proximity=2000&full=true")

    assert items
    assert all(min(distances_from(E15_CENTROID, item)) <= 2000 + 1 for item in items)


@pytest.mark.parametrize("given", ["E15", "e15", " E15 "])
async def test_a_district_alone_is_measured_from_its_centroid_and_says_so(seeded_client, given):
    response = await seeded_client.get(
        "/services", params={"postcode": given, "proximity": "3000", "full": "true"}
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["notes"] == district_notes(
        "E15 is a postcode district, not a full postcode: distances are measured from the "
        "centroid of its 2 known postcodes"
    )
    assert "299" in response.headers["warning"]
    assert_distances_from(E15_CENTROID, body["contents"])
    missing = await seeded_client.get("/services?postcode=E15%209ZZ&proximity=3000&full=true")
    assert [i["id"] for i in body["contents"]] == [i["id"] for i in missing.json()["contents"]]
    assert schema_errors("service_list.json", body) == []


async def test_a_district_alone_covers_its_postcodes_authorities(seeded_client):
    response = await seeded_client.get("/services?coverage=E6")

    assert response.status_code == 200, response.text
    [note] = response.json()["notes"]
    assert note["parameter"] == "coverage"
    assert note["detail"].startswith(
        "E6 is a postcode district, not a full postcode: services covering any local authority "
        "its 2 known postcodes lie in (E09000025) are included"
    )
    assert set(await names(seeded_client, "/services?postcode=E6")) == set(
        await names(seeded_client, "/services?coverage=E6%201HR")
    )


@pytest.mark.parametrize("given", ["E", "E15 1", "15", "EE15X"])
async def test_neither_a_postcode_nor_a_district_is_refused(seeded_client, given):
    response = await seeded_client.get("/services", params={"postcode": given})

    assert response.status_code == 400
    assert "is neither a full UK postcode nor a postcode district" in response.json()["detail"]
