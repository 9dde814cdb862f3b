"""Text searches take `%`, `_` and `\\` literally: they are characters, not LIKE wildcards."""

import uuid
from urllib.parse import quote

import pytest

from signpost_platform.text_match import escape_like
from tests.directory.builders import location, new_id, organization, service
from tests.directory.conftest import WRITE
from tests.directory.helpers import all_items


def token() -> str:
    """A word no other record holds, so each test sees only its own records."""
    return f"w{uuid.uuid4().hex[:10]}"


def test_escape_like_escapes_the_wildcards_and_the_escape_character():
    assert escape_like("50%_a\\b") == "50\\%\\_a\\\\b"
    assert escape_like("plain words") == "plain words"


async def create(client, path, body):
    response = await client.post(path, json=body, headers=WRITE)
    assert response.status_code == 201, response.text
    return body


async def org_names(client, search):
    return {item["name"] for item in await all_items(client, f"/organizations?search={search}")}


async def test_organization_search_takes_percent_and_underscore_literally(client):
    word = token()
    percent = await create(client, "/organizations", organization(name=f"{word} 100% trust"))
    digits = await create(client, "/organizations", organization(name=f"{word} 1000 trust"))
    snake = await create(client, "/organizations", organization(name=f"{word} snake_case club"))
    other = await create(client, "/organizations", organization(name=f"{word} snakeXcase club"))
    slash = await create(client, "/organizations", organization(name=f"{word} back\\slash hub"))
    plain = await create(client, "/organizations", organization(name=f"{word} backslash hub"))

    every_percent = await org_names(client, quote("%"))

    assert percent["name"] in every_percent
    assert all("%" in name for name in every_percent)
    assert await org_names(client, quote(f"{word} 100%")) == {percent["name"]}
    assert await org_names(client, quote(f"{word} snake_case")) == {snake["name"]}
    assert await org_names(client, quote(f"{word} back\\slash")) == {slash["name"]}
    assert {digits["name"], other["name"], plain["name"]} <= await org_names(client, word)


async def test_fhir_organization_name_takes_wildcards_literally(client):
    word = token()
    underscore = await create(client, "/organizations", organization(name=f"{word}_one"))
    await create(client, "/organizations", organization(name=f"{word}X one"))

    bundle = (await client.get(f"/fhir/Organization?name={quote(word + '_')}")).json()
    everything = (await client.get("/fhir/Organization?name=%25&_count=100")).json()

    assert [e["resource"]["name"] for e in bundle.get("entry", [])] == [underscore["name"]]
    assert all("%" in e["resource"]["name"] for e in everything.get("entry", []))


def _named(name: str, kind: str) -> dict[str, str]:
    """A taxonomy or taxonomy term body with a fresh id and the given name."""
    return {"id": new_id(), "name": name, "description": f"Synthetic {kind}"}


async def test_taxonomy_and_term_searches_take_wildcards_literally(client):
    word = token()
    taxonomy = await create(client, "/taxonomies", _named(f"{word} 100% list", "taxonomy"))
    await create(client, "/taxonomies", _named(f"{word} 1000 list", "taxonomy"))
    term = await create(client, "/taxonomy_terms", _named(f"{word} snake_case", "term"))
    await create(client, "/taxonomy_terms", _named(f"{word} snakeXcase", "term"))

    taxonomies = await all_items(client, f"/taxonomies?search={quote(f'{word} 100%')}")
    every_percent = await all_items(client, f"/taxonomies?search={quote('%')}")
    terms = await all_items(client, f"/taxonomy_terms?search={quote(f'{word} snake_case')}")

    assert [t["name"] for t in taxonomies] == [taxonomy["name"]]
    assert all("%" in t["name"] for t in every_percent)
    assert [t["name"] for t in terms] == [term["name"]]


@pytest.mark.parametrize("path", ["/services?search=", "/fhir/HealthcareService?name:contains="])
async def test_service_searches_take_wildcards_literally(client, path):
    word = token()
    org = await create(client, "/organizations", organization())
    place = await create(client, "/locations", location())
    wanted = await create(
        client, "/services", service(org["id"], [place["id"]], name=f"{word}_% advice")
    )
    await create(client, "/services", service(org["id"], [place["id"]], name=f"{word}xx advice"))

    response = await client.get(path + quote(f"{word}_%"))

    body = response.json()
    found = [i["name"] for i in body.get("contents", [])] or [
        e["resource"]["name"] for e in body.get("entry", [])
    ]
    assert found == [wanted["name"]]
