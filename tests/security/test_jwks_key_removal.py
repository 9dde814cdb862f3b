"""A signing key withdrawn from the JWKS stops being trusted: each fetch replaces the key set,
and a set that could not be refreshed for too long is not trusted at all.

Keys used to be cached per kid with no expiry: after a key was removed from the JWKS and the
JWKS fetched again, a token signed with the removed key still got 200.
"""

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import httpx
import pytest

from tests.security.jwks_server import SigningKey, TrustingApi, bearer, referral_api_trusting

SEARCH = "/fhir/ServiceRequest?_count=1"
JWKS_TIMINGS = {
    "jwks_refresh_seconds": 600,
    "jwks_max_age_seconds": 3600,
    "jwks_cooldown_seconds": 30,
}


async def searched(client: httpx.AsyncClient, token: str) -> httpx.Response:
    """A search sent with `token`."""
    return await client.get(SEARCH, headers=bearer(token))


@pytest.fixture
def trusting(
    security_referral_database: str,
) -> Callable[..., AbstractAsyncContextManager[TrustingApi]]:
    """referral-api trusting a JWKS that serves the keys given, refreshed on this module's
    timings."""

    def trusting_keys(*keys: SigningKey) -> AbstractAsyncContextManager[TrustingApi]:
        return referral_api_trusting(security_referral_database, keys, **JWKS_TIMINGS)

    return trusting_keys


@pytest.fixture(scope="module")
def keys() -> tuple[SigningKey, SigningKey, SigningKey]:
    return SigningKey("key-1"), SigningKey("key-2"), SigningKey("key-3")


async def test_a_key_removed_from_the_jwks_is_refused_after_the_scheduled_refresh(trusting, keys):
    first, second, _ = keys
    async with trusting(first, second) as (jwks, client, trusted, clock):
        token = second.token()
        before = await searched(client, token)
        jwks.keys = [first]  # the issuer withdraws key-2
        clock.advance(601)
        await searched(client, first.token())  # starts the refresh
        await trusted.settled()
        after = await searched(client, token)
        other_key = await searched(client, first.token())

    assert before.status_code == 200, before.text
    assert after.status_code == 401
    assert other_key.status_code == 200


async def test_a_fetch_for_a_new_key_replaces_the_set_rather_than_adding_to_it(trusting, keys):
    first, second, third = keys
    async with trusting(first, second) as (jwks, client, _, clock):
        withdrawn = second.token()
        before = await searched(client, withdrawn)
        jwks.keys = [first, third]  # key-2 rotated out, key-3 in
        clock.advance(31)
        rotated_in = await searched(client, third.token())
        rotated_out = await searched(client, withdrawn)

    assert before.status_code == 200, before.text
    assert rotated_in.status_code == 200, rotated_in.text
    assert rotated_out.status_code == 401


async def test_keys_that_could_not_be_refreshed_for_the_maximum_age_are_not_trusted(trusting, keys):
    first, _, _ = keys
    async with trusting(first) as (jwks, client, trusted, clock):
        token = first.token()
        fresh = await searched(client, token)
        jwks.status = 500  # every refresh fails from now on
        clock.advance(601)
        await searched(client, token)
        await trusted.settled()
        stale_but_within_age = await searched(client, token)
        clock.advance(3000)
        expired = await searched(client, token)
        jwks.status = 200
        clock.advance(31)
        recovered = await searched(client, token)

    assert fresh.status_code == 200, fresh.text
    assert stale_but_within_age.status_code == 200
    assert expired.status_code == 401
    assert recovered.status_code == 200, recovered.text
