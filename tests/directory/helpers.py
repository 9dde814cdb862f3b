"""Reading whole result sets and facts about them, for the filter tests."""

from typing import Any

import httpx

from directory_api.services.search import Point
from signpost_schemas.geography import sample_postcode_lookup


async def all_items(client: httpx.AsyncClient, url: str) -> list[dict[str, Any]]:
    """Every item of a paginated ORUK list (following pages)."""
    joiner = "&" if "?" in url else "?"
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        response = await client.get(f"{url}{joiner}page={page}&per_page=200")
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["contents"]
        if body["last_page"] or not body["contents"]:
            return items
        page += 1


async def names(client: httpx.AsyncClient, url: str) -> list[str]:
    return [item["name"] for item in await all_items(client, url)]


def postcode_point(postcode: str) -> Point:
    area = sample_postcode_lookup()[postcode]
    return Point(area.latitude, area.longitude)


def distances_from(point: Point, service: dict[str, Any]) -> list[float]:
    """Metres from `point` to each located place of a fully nested service."""
    return [
        point.metres_to(link["location"]["latitude"], link["location"]["longitude"])
        for link in service.get("service_at_locations", [])
        if "latitude" in link["location"]
    ]
