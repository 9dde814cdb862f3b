"""An unknown key id cannot freeze a service: JWKS fetches are asynchronous, bounded, shared
and cooled down after a failure.

The JWKS fetch used to run synchronously inside the request: with a JWKS endpoint answering in
40 s, a token with an unknown kid waited 30 s, and so did every other request of the process.
"""

import asyncio
import time

import pytest

from tests.security.jwks_server import SigningKey, bearer, referral_api_trusting

SEARCH = "/fhir/ServiceRequest?_count=1"
JWKS_TIMINGS = {"jwks_timeout_seconds": 0.5, "jwks_cooldown_seconds": 30}


@pytest.fixture(scope="module")
def known_key() -> SigningKey:
    return SigningKey("key-1")


@pytest.fixture(scope="module")
def unknown_key() -> SigningKey:
    return SigningKey("key-unknown")


async def test_a_slow_jwks_answers_401_within_the_timeout_and_never_holds_up_other_requests(
    security_referral_database, known_key, unknown_key
):
    trusting = referral_api_trusting(security_referral_database, [known_key], **JWKS_TIMINGS)
    async with trusting as (jwks, client, _, clock):
        clock.advance(31)  # past the cooldown of the startup fetch
        jwks.hold()  # the identity provider stops answering
        done: dict[str, float] = {}
        started = time.perf_counter()

        async def timed(name: str, path: str, headers: dict[str, str]):
            response = await client.get(path, headers=headers)
            done[name] = time.perf_counter() - started
            return response

        refused, ping = await asyncio.wait_for(
            asyncio.gather(
                timed("unknown kid", SEARCH, bearer(unknown_key.token())),
                timed("ping", "/_ping", {}),
            ),
            timeout=5,
        )

    assert refused.status_code == 401
    assert ping.status_code == 200
    assert done["unknown kid"] < 2, done
    assert done["ping"] < done["unknown kid"], done


async def test_after_a_failed_fetch_unknown_kids_are_refused_at_once_for_the_cooldown(
    security_referral_database, known_key, unknown_key
):
    trusting = referral_api_trusting(security_referral_database, [known_key], **JWKS_TIMINGS)
    async with trusting as (jwks, client, _, clock):
        clock.advance(31)
        jwks.status = 503
        failed = await client.get(SEARCH, headers=bearer(unknown_key.token()))
        fetches = jwks.requests
        clock.advance(10)  # within the cooldown
        during_cooldown = [
            await client.get(SEARCH, headers=bearer(unknown_key.token())) for _ in range(5)
        ]
        still_known = await client.get(SEARCH, headers=bearer(known_key.token()))
        fetches_during_cooldown = jwks.requests - fetches
        clock.advance(21)  # the cooldown is over: an unknown kid may fetch again
        jwks.status = 200
        jwks.keys = [known_key, unknown_key]
        rotated_in = await client.get(SEARCH, headers=bearer(unknown_key.token()))

    assert failed.status_code == 401
    assert [r.status_code for r in during_cooldown] == [401] * 5
    assert fetches_during_cooldown == 0
    assert still_known.status_code == 200
    assert rotated_in.status_code == 200, rotated_in.text


async def test_concurrent_requests_share_one_fetch(
    security_referral_database, known_key, unknown_key
):
    trusting = referral_api_trusting(security_referral_database, [known_key], **JWKS_TIMINGS)
    async with trusting as (jwks, client, _, clock):
        clock.advance(31)
        before = jwks.requests
        jwks.hold()
        requests = [
            asyncio.create_task(client.get(SEARCH, headers=bearer(unknown_key.token())))
            for _ in range(8)
        ]
        await asyncio.sleep(0.1)
        jwks.keys = [known_key, unknown_key]
        jwks.release()
        responses = await asyncio.wait_for(asyncio.gather(*requests), timeout=5)

    assert [r.status_code for r in responses] == [200] * 8
    assert jwks.requests - before == 1
