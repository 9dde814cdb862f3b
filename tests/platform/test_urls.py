"""The base URL of Location headers and Bundle links is the one the request came in on, as
Starlette reads it, whatever the host header, the server address and the root path."""

import pytest
from starlette.requests import Request

from referral_api.config import ReferralSettings
from signpost_platform.urls import _request_base, base_url


class _App:
    class state:
        settings = ReferralSettings(database_url="sqlite+aiosqlite://")


@pytest.mark.parametrize(
    ("scheme", "host", "server", "root_path"),
    [
        ("http", b"referral.example.nhs.uk", ("10.0.0.1", 80), ""),
        ("https", b"referral.example.nhs.uk:8443", None, "/signpost"),
        ("http", None, ["::1", 8001], ""),
        ("http", b"not a host:99999", ("10.0.0.1", 8001), "/behind/"),
        ("https", None, ("10.0.0.2", 443), ""),
    ],
)
def test_the_base_url_is_starlettes_for_the_request(scheme, host, server, root_path):
    scope = {
        "type": "http",
        "app": _App,
        "scheme": scheme,
        "server": server,
        "path": "/fhir/ServiceRequest",
        "root_path": root_path,
        "query_string": b"status=active",
        "headers": [(b"accept", b"application/fhir+json")]
        + ([] if host is None else [(b"host", host)]),
    }
    request = Request(scope)

    assert base_url(request) == str(request.base_url).rstrip("/")
    assert base_url(request) == base_url(Request(dict(scope)))  # and again, from what it kept


def test_a_host_header_too_long_for_a_host_name_is_answered_but_not_kept():
    host = b"h" * 4096
    scope = {
        "type": "http",
        "app": _App,
        "scheme": "http",
        "server": ("10.0.0.1", 80),
        "path": "/fhir/ServiceRequest",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", host)],
    }
    kept = _request_base.cache_info().currsize

    assert base_url(Request(scope)) == str(Request(scope).base_url).rstrip("/")
    assert _request_base.cache_info().currsize == kept
