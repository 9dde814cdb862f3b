"""A 401 says what is wrong with the token, never why the JWKS could not be fetched; that is
logged with the correlation id for the service desk.

The 401 body used to carry the JWKS fetch error (the identity provider's URL and its answer).
"""

import logging

import pytest

from signpost_platform.logging import correlation_id
from tests.security.jwks_server import SigningKey, referral_api_trusting


class _Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.entries: list[tuple[str | None, logging.LogRecord]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.entries.append((correlation_id.get(), record))


@pytest.fixture
def auth_log():
    recorder = _Recorder()
    logger = logging.getLogger("signpost.auth")
    logger.addHandler(recorder)
    yield recorder
    logger.removeHandler(recorder)


async def test_a_failed_jwks_fetch_is_logged_with_the_correlation_id_not_echoed(
    security_referral_database, auth_log
):
    key = SigningKey("key-1")
    async with referral_api_trusting(security_referral_database, [key]) as (jwks, client, _, clock):
        clock.advance(31)
        jwks.status = 500
        response = await client.get(
            "/fhir/ServiceRequest",
            headers={
                "Authorization": f"Bearer {SigningKey('key-new').token()}",
                "X-Correlation-Id": "jwks-failure-1",
            },
        )

    assert response.status_code == 401
    body = response.text
    for leaked in ("127.0.0.1", jwks.url, "500", "HTTPStatusError", "fetch", "url"):
        assert leaked not in body, body
    assert "signing key" in response.json()["issue"][0]["diagnostics"]
    failures = [
        (cid, record) for cid, record in auth_log.entries if "JWKS fetch failed" in record.msg
    ]
    assert failures
    assert failures[-1][0] == "jwks-failure-1"
    assert "500" in failures[-1][1].error
