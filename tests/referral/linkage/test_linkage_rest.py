"""Both referrals show a link as soon as it exists, also when written through the REST API."""

from signpost_schemas.fhir import profiles
from tests.referral.conftest import READ, WRITE
from tests.support.builders import NHS_NUMBERS, service_request


def linked_ids(resource):
    return [
        part["valueReference"]["reference"].removeprefix("ServiceRequest/")
        for extension in resource.get("extension", [])
        if extension["url"] == profiles.LINKED_REFERRAL_EXTENSION
        for part in extension["extension"]
        if part["url"] == "referral"
    ]


async def test_a_second_role_for_one_person_shows_the_link_on_both_referrals(client):
    first = (
        await client.post(
            "/fhir/ServiceRequest",
            json=service_request(identifier="R1", role="care-navigator"),
            headers=WRITE,
        )
    ).json()
    second = (
        await client.post(
            "/fhir/ServiceRequest",
            json=service_request(
                identifier="R2", role="community-connector", authored="2026-10-20T10:00:00Z"
            ),
            headers=WRITE,
        )
    ).json()

    first_now = (await client.get(f"/fhir/ServiceRequest/{first['id']}", headers=READ)).json()

    assert linked_ids(second) == [first["id"]]
    assert linked_ids(first_now) == [second["id"]]
    # The link is shown when the referral is served: its own content did not change, so
    # neither did its version (an If-Match its sender holds still applies).
    assert first_now["meta"]["versionId"] == "1"


async def test_a_search_serves_each_referral_with_its_own_links_in_the_page_order(client):
    """A page is served as each referral is read: its links, and only its own."""
    first, second = [
        (
            await client.post(
                "/fhir/ServiceRequest",
                json=service_request(identifier=name, role=role, authored=authored),
                headers=WRITE,
            )
        ).json()
        for name, role, authored in [
            ("S1", "care-navigator", "2026-10-01T10:00:00Z"),
            ("S2", "community-connector", "2026-10-20T10:00:00Z"),
        ]
    ]
    other_person = (
        await client.post(
            "/fhir/ServiceRequest",
            json=service_request(identifier="S3", nhs_number=NHS_NUMBERS[1]),
            headers=WRITE,
        )
    ).json()

    for sort in ("authored", "-authored"):
        page = await client.get(f"/fhir/ServiceRequest?_sort={sort}&_count=3", headers=READ)
        served = {e["resource"]["id"]: e["resource"] for e in page.json()["entry"]}
        order = [e["resource"]["id"] for e in page.json()["entry"]]

        expected = (
            [first["id"], second["id"]] if sort == "authored" else [second["id"], first["id"]]
        )
        assert [i for i in order if i != other_person["id"]] == expected
        assert linked_ids(served[first["id"]]) == [second["id"]]
        assert linked_ids(served[second["id"]]) == [first["id"]]
        assert linked_ids(served[other_person["id"]]) == []
