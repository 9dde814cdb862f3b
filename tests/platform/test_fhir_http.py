"""HTTP as FHIR clients expect it, on a real service: HEAD, Allow on 405, 406 for formats not
served, conditional reads (304) and gzip."""

import gzip
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from signpost_platform.fhir.responses import http_date
from tests.referral.conftest import READ, WRITE
from tests.support.builders import service_request


async def _created(client):
    response = await client.post("/fhir/ServiceRequest", json=service_request(), headers=WRITE)
    assert response.status_code == 201
    return response


@pytest.mark.parametrize("path", ["/_ping", "/fhir/metadata"])
async def test_head_is_served_wherever_get_is(client, path):
    get = await client.get(path)
    head = await client.head(path)

    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == get.headers["content-length"]


async def test_head_of_a_referral_carries_its_etag(client):
    created = await _created(client)
    referral_id = created.json()["id"]

    head = await client.head(f"/fhir/ServiceRequest/{referral_id}", headers=READ)

    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == created.headers["etag"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/fhir/ServiceRequest", "GET, HEAD, POST"),
        ("PATCH", "/fhir/ServiceRequest/x", "GET, HEAD, PUT"),
        ("POST", "/_ping", "GET, HEAD"),
        ("DELETE", "/fhir/ServiceRequest/_search", "GET, HEAD, POST, PUT"),
    ],
)
async def test_405_lists_every_method_the_path_serves(client, method, path, allowed):
    response = await client.request(method, path, headers=WRITE)

    assert response.status_code == 405
    assert response.headers["allow"] == allowed


async def test_405_names_all_methods_of_a_path_served_by_several_routes(client):
    response = await client.request("DELETE", "/fhir/ServiceRequest", headers=WRITE)

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, POST"
    assert response.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize(
    "accept", ["application/fhir+xml", "application/xml", "text/html", "application/json;q=0"]
)
async def test_a_format_not_served_is_406_with_an_operation_outcome(client, accept):
    response = await client.get("/fhir/metadata", headers={"Accept": accept})

    assert response.status_code == 406
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "not-supported"


@pytest.mark.parametrize(
    "accept",
    [
        "application/fhir+json",
        "application/json",
        "*/*",
        "application/fhir+xml;q=1, application/fhir+json;q=0.5",
        "application/fhir+json; fhirVersion=4.0",
    ],
)
async def test_json_or_anything_is_served(client, accept):
    response = await client.get("/fhir/metadata", headers={"Accept": accept})

    assert response.status_code == 200


async def test_format_json_overrides_accept(client):
    response = await client.get(
        "/fhir/ServiceRequest?_format=json", headers={**READ, "Accept": "application/fhir+xml"}
    )

    assert response.status_code == 200


async def test_if_none_match_with_the_current_etag_is_304(client):
    created = await _created(client)
    url = f"/fhir/ServiceRequest/{created.json()['id']}"
    etag = created.headers["etag"]

    same = await client.get(url, headers={**READ, "If-None-Match": etag})
    unweakened = await client.get(url, headers={**READ, "If-None-Match": etag.removeprefix("W/")})
    other = await client.get(url, headers={**READ, "If-None-Match": 'W/"99"'})

    assert same.status_code == 304
    assert same.content == b""
    assert same.headers["etag"] == etag
    assert unweakened.status_code == 304
    assert other.status_code == 200
    assert other.json()["id"] == created.json()["id"]


async def test_if_modified_since_is_304_unless_changed_after(client):
    created = await _created(client)
    url = f"/fhir/ServiceRequest/{created.json()['id']}"
    last_modified = created.headers["last-modified"]

    unchanged = await client.get(url, headers={**READ, "If-Modified-Since": last_modified})
    earlier = await client.get(
        url, headers={**READ, "If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}
    )
    garbage = await client.get(url, headers={**READ, "If-Modified-Since": "yesterday"})

    assert unchanged.status_code == 304
    assert earlier.status_code == 200
    assert garbage.status_code == 200


async def test_large_answers_are_gzipped_small_ones_are_not(client):
    for index in range(8):
        body = service_request(identifier=f"GZ-{index}")
        assert (await client.post("/fhir/ServiceRequest", json=body, headers=WRITE)).is_success

    large = await client.get("/fhir/ServiceRequest", headers={**READ, "Accept-Encoding": "gzip"})
    small = await client.get("/_ping", headers={"Accept-Encoding": "gzip"})

    assert large.headers["content-encoding"] == "gzip"
    assert large.json()["total"] == 8  # httpx decompresses
    assert "content-encoding" not in small.headers
    raw = await client.send(
        client.build_request(
            "GET", "/fhir/ServiceRequest", headers={**READ, "Accept-Encoding": "gzip"}
        ),
        stream=True,
    )
    compressed = b"".join([chunk async for chunk in raw.aiter_raw()])
    await raw.aclose()
    assert gzip.decompress(compressed).startswith(b'{"resourceType":"Bundle"')


async def test_answers_say_their_encoding_depends_on_accept_encoding(client):
    """Shared caches must not hand a gzipped answer to a client that cannot read it: a gzipped
    answer says so, and so does every answer to a client that does not accept gzip (small
    ones included)."""
    for index in range(8):
        body = service_request(identifier=f"VARY-{index}")
        assert (await client.post("/fhir/ServiceRequest", json=body, headers=WRITE)).is_success

    compressed = await client.get(
        "/fhir/ServiceRequest", headers={**READ, "Accept-Encoding": "gzip"}
    )
    plain = await client.get("/fhir/ServiceRequest", headers={**READ, "Accept-Encoding": "br"})
    small = await client.get("/_ping", headers={"Accept-Encoding": "identity"})

    assert compressed.headers["content-encoding"] == "gzip"
    assert compressed.headers["vary"] == "Accept-Encoding"
    assert "content-encoding" not in plain.headers
    assert plain.headers["vary"] == "Accept-Encoding"
    assert plain.json()["total"] == 8
    assert small.headers["vary"] == "Accept-Encoding"


def test_vary_names_accept_encoding_once():
    from signpost_platform.middleware import _vary_on_encoding

    def vary(*headers):
        message = {"type": "http.response.start", "status": 200, "headers": list(headers)}
        _vary_on_encoding(message)
        return [value for key, value in message["headers"] if key.lower() == b"vary"]

    assert vary() == [b"Accept-Encoding"]
    assert vary((b"vary", b"Origin")) == [b"Origin, Accept-Encoding"]
    assert vary((b"Vary", b"origin, accept-encoding")) == [b"origin, accept-encoding"]
    assert vary((b"vary", b"*")) == [b"*"]


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 12, 7, 2, 36, 35, 999_999, tzinfo=UTC),
        datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC),  # a leap day
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 0, 0, 0, tzinfo=timezone(timedelta(0))),
        *(datetime(2026, 1, 5, tzinfo=UTC) + timedelta(days=day, hours=day) for day in range(14)),
    ],
)
def test_an_http_date_is_written_as_the_standard_library_writes_it(moment):
    assert http_date(moment) == format_datetime(moment, usegmt=True)


@pytest.mark.parametrize(
    "moment", [datetime(2026, 12, 7), datetime(2026, 12, 7, tzinfo=timezone(timedelta(hours=1)))]
)
def test_an_http_date_is_only_of_a_utc_moment(moment):
    with pytest.raises(ValueError):
        http_date(moment)
    with pytest.raises(ValueError):
        format_datetime(moment, usegmt=True)
