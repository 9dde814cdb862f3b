"""Bad query input: a 4xx problem+json that names the parameter."""

import pytest

UNKNOWN = "5c1b2f7e-0a0a-4b4b-8c8c-9d9d9d9d9d9d"  # a well-formed id no record has
BAD_QUERIES = {
    "malformed postcode": ("/services?postcode=NOT1&proximity=1000", 400, "postcode"),
    "postcode not in the lookup": ("/services?postcode=ZE2+9ZZ&proximity=1000", 400, "postcode"),
    "negative proximity": ("/services?postcode=E15+1DA&proximity=-5", 400, "proximity"),
    "proximity over the cap": ("/services?postcode=E15+1DA&proximity=900000", 400, "proximity"),
    "proximity without a place": ("/service_at_locations?proximity=500", 400, "proximity"),
    "unknown taxonomy term": (f"/services?taxonomy_term_id={UNKNOWN}", 400, "taxonomy_term_id"),
    "unknown taxonomy": (f"/services?taxonomy_id={UNKNOWN}", 400, "taxonomy_id"),
    "taxonomy term not a uuid": ("/services?taxonomy_term_id=housing", 400, "taxonomy_term_id"),
    "unknown need": ("/services?need=no-such-need", 400, "need"),
    "page 0": ("/services?page=0", 400, "page"),
    "per_page over the cap": ("/services?per_page=201", 400, "per_page"),
    "per_page not a number": ("/services?per_page=ten", 400, "per_page"),
    "unknown parameter": ("/services?colour=blue", 400, "colour"),
    "bad day": ("/services?day=funday", 400, "day"),
    "time without day": ("/services?start_time=09:00", 400, "day"),
    "bad time": ("/services?day=MO&start_time=25:00", 400, "start_time"),
    "bad modified_after": ("/services?modified_after=last+tuesday", 400, "modified_after"),
    "bad boolean": ("/services?free=maybe", 400, "free"),
    "bad delivery mode": ("/services?delivery_mode=carrier-pigeon", 400, "delivery_mode"),
    "lat without lon": ("/services?lat=51.5", 400, "lat"),
    "bad format": ("/services?format=xml", 400, "format"),
    "invalid uuid in path": ("/services/not-a-uuid", 400, "id"),
    **{
        f"unknown {record}": (f"{path}/{UNKNOWN}", 404, "id")
        for record, path in (
            ("service", "/services"),
            ("organisation", "/organizations"),
            ("term", "/taxonomy_terms"),
            ("taxonomy by id", "/taxonomies"),
            ("service at location", "/service_at_locations"),
        )
    },
    "feed cursor not a number": ("/changes?afterChangeNumber=abc", 400, "afterChangeNumber"),
    "feed cursor doubly negative": ("/changes?afterChangeNumber=--5", 400, "afterChangeNumber"),
    "page in superscript digits": ("/services?page=%C2%B2", 400, "page"),
    "proximity not a number": ("/services?postcode=E15+1DA&proximity=nan", 400, "proximity"),
    "modified_after out of range in UTC": (
        "/services?modified_after=9999-12-31T23:59:59-23:59",
        400,
        "modified_after",
    ),
    "NUL in a search": ("/services?search=a%00b", 400, "search"),
    "ndjson where only json is offered": ("/organizations?format=ndjson", 400, "format"),
}


@pytest.mark.parametrize("case", BAD_QUERIES, ids=list(BAD_QUERIES))
async def test_bad_query_is_a_problem_naming_the_parameter(seeded_client, case):
    url, status, parameter = BAD_QUERIES[case]

    response = await seeded_client.get(url)

    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == status
    assert problem["errors"][0]["parameter"] == parameter
    assert problem["detail"]
