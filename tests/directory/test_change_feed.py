"""The change feed lets a consumer rebuild an identical copy of the directory, retirements too."""

from tests.directory.builders import location, organization, service
from tests.directory.conftest import WRITE
from tests.directory.helpers import all_items


async def consume(client, url, copy):
    """Apply every page of the feed from `url` to `copy`; returns the `next` to poll later."""
    while True:
        body = (await client.get(url)).json()
        for item in body["items"]:
            key = (item["kind"], item["id"])
            if item["state"] == "deleted":
                copy.pop(key, None)
            else:
                copy[key] = item["data"]
        if not body["items"]:
            return body["next"]
        url = body["next"]


async def published(client):
    """What the ORUK API publishes now: every listed service, fully nested, and taxonomy terms."""
    services = await all_items(client, "/services?full=true")
    terms = await all_items(client, "/taxonomy_terms")
    return ({s["id"]: s for s in services}, {t["id"]: t for t in terms})


def services_of(copy):
    return {record_id: data for (kind, record_id), data in copy.items() if kind == "service"}


def terms_of(copy):
    return {record_id: data for (kind, record_id), data in copy.items() if kind == "taxonomy_term"}


async def test_a_consumer_from_zero_rebuilds_an_identical_copy(seeded_client):
    copy = {}

    await consume(seeded_client, "/changes?afterChangeNumber=0&limit=7", copy)

    services, terms = await published(seeded_client)
    assert services_of(copy) == services
    assert terms_of(copy) == terms
    assert len(services) == 19


async def test_updates_and_retirements_reach_a_consumer_that_keeps_polling(client):
    copy = {}
    next_url = await consume(client, "/changes?afterChangeNumber=0", copy)
    org, place = organization(), location()
    await client.post("/organizations", json=org, headers=WRITE)
    await client.post("/locations", json=place, headers=WRITE)
    kept = service(org["id"], [place["id"]])
    dropped = service(org["id"], [place["id"]], name="Short-lived clinic")
    await client.post("/services", json=kept, headers=WRITE)
    await client.post("/services", json=dropped, headers=WRITE)
    next_url = await consume(client, next_url, copy)
    assert dropped["id"] in services_of(copy)

    await client.put(
        f"/organizations/{org['id']}", json={**org, "name": "Renamed trust"}, headers=WRITE
    )
    await client.post(f"/services/{dropped['id']}/retire", headers=WRITE)
    await consume(client, next_url, copy)

    services, _ = await published(client)
    assert services_of(copy) == services
    assert dropped["id"] not in services_of(copy)
    assert services_of(copy)[kept["id"]]["organization"]["name"] == "Renamed trust"


async def test_a_retirement_is_a_tombstone_and_each_record_appears_once(client):
    org, place = organization(), location()
    await client.post("/organizations", json=org, headers=WRITE)
    await client.post("/locations", json=place, headers=WRITE)
    body = service(org["id"], [place["id"]])
    await client.post("/services", json=body, headers=WRITE)
    start = (await client.get("/changes?afterChangeNumber=0&limit=500")).json()
    await client.post(f"/services/{body['id']}/retire", headers=WRITE)

    feed = (await client.get(start["next"])).json()

    mine = [item for item in feed["items"] if item["id"] == body["id"]]
    assert mine == [
        {
            "id": body["id"],
            "kind": "service",
            "state": "deleted",
            "modified": mine[0]["modified"],
            "changed_at": mine[0]["changed_at"],
        }
    ]
    numbers = [item["modified"] for item in feed["items"]]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)


async def test_kind_filter_and_bad_kind(client):
    feed = (await client.get("/changes?kind=taxonomy&limit=500")).json()
    bad = await client.get("/changes?kind=people")

    assert {item["kind"] for item in feed["items"]} == {"taxonomy"}
    assert bad.status_code == 400 and bad.json()["errors"][0]["parameter"] == "kind"
