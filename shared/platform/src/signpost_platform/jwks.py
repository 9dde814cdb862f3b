"""The signing keys of a JWKS URL, fetched without ever holding up the event loop.

* Fetches are asynchronous, with a short timeout, and one at a time: requests that need keys
  while a fetch is under way wait for it and share its result.
* Each successful fetch *replaces* the key set, so a key the issuer withdrew stops being trusted
  at the next fetch.
* The set is refreshed in the background once it is `refresh_seconds` old; a set older than
  `max_age_seconds` (every refresh since failed) is no longer trusted and tokens are refused
  until a fetch succeeds.
* A token naming a key we do not hold triggers a fetch (the issuer may have rotated its keys),
  but at most one fetch per `cooldown_seconds`: during the cooldown unknown keys are refused at
  once, so tokens with made-up key ids cannot make us hammer the issuer or queue behind it.

The clock is injectable (monotonic seconds) so that tests can move time on.
"""

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt

logger = logging.getLogger("signpost.auth")


class SigningKeyUnavailable(Exception):
    """No trusted key with the token's key id (unknown, withdrawn, or the JWKS unreachable)."""


class JwksKeys:
    """The current signing keys of one JWKS URL, by key id."""

    def __init__(
        self,
        url: str,
        *,
        timeout_seconds: float = 3,
        refresh_seconds: float = 600,
        max_age_seconds: float = 3600,
        cooldown_seconds: float = 30,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        self.refresh_seconds = refresh_seconds
        self.max_age_seconds = max_age_seconds
        self.cooldown_seconds = cooldown_seconds
        self.clock = clock
        # Bumped whenever the trusted key set changes, so verified-token caches can be dropped.
        self.generation = 0
        self._client = httpx.AsyncClient(timeout=timeout_seconds, transport=transport)
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._completed = 0
        self._lock = asyncio.Lock()
        self._background: asyncio.Task[None] | None = None

    async def key(self, kid: str) -> Any:
        """The public key for `kid`; raises `SigningKeyUnavailable` if none is trusted."""
        await self.maintain()
        key = self._keys.get(kid)
        if key is None:
            await self._fetch_or_wait()
            key = self._keys.get(kid)
        if key is None:
            raise SigningKeyUnavailable(kid)
        return key

    async def maintain(self) -> None:
        """Keep the set within its age: refresh in the background past `refresh_seconds`, and
        past `max_age_seconds` stop trusting it and fetch before answering."""
        if self._fetched_at is None:
            await self._fetch_or_wait()
            return
        age = self.clock() - self._fetched_at
        if age >= self.max_age_seconds:
            if self._keys:
                logger.warning("JWKS keys expired: every refresh failed for too long")
                self._replace({})
            await self._fetch_or_wait()
        elif age >= self.refresh_seconds and self._background is None and self._may_fetch():
            self._background = asyncio.create_task(self._refresh_in_background())

    async def refresh(self) -> None:
        """Fetch the JWKS now (unless a concurrent fetch just did) and replace the key set."""
        completed_before = self._completed
        async with self._lock:
            if self._completed != completed_before:
                return  # another request fetched while this one waited: share its result
            self._attempted_at = self.clock()
            try:
                keys = await self._fetch()
            except Exception as error:
                logger.warning(
                    "JWKS fetch failed; unknown key ids are refused for the cooldown",
                    extra={"error": f"{type(error).__name__}: {error}"[:500]},
                )
                return
            else:
                self._fetched_at = self.clock()
                self._replace(keys)
            finally:
                self._completed += 1

    async def settled(self) -> None:
        """Wait for a background refresh, if one is running."""
        if self._background is not None:
            await asyncio.shield(self._background)

    async def close(self) -> None:
        if self._background is not None:
            self._background.cancel()
        await self._client.aclose()

    async def _fetch_or_wait(self) -> None:
        """Join the fetch under way, else fetch unless within the cooldown of the last one."""
        if self._lock.locked():
            async with self._lock:
                return
        if self._may_fetch():
            await self.refresh()

    def _may_fetch(self) -> bool:
        return (
            self._attempted_at is None or self.clock() - self._attempted_at >= self.cooldown_seconds
        )

    async def _refresh_in_background(self) -> None:
        try:
            await self.refresh()
        finally:
            self._background = None

    async def _fetch(self) -> dict[str, Any]:
        response = await self._client.get(self.url, headers={"Accept": "application/json"})
        response.raise_for_status()
        document = response.json()
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise ValueError("not a JWK Set: no keys list")
        keys: dict[str, Any] = {}
        for entry in document["keys"]:
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                continue
            kid = entry.get("kid")
            if not isinstance(kid, str) or not kid:
                continue
            try:
                keys[kid] = jwt.PyJWK(entry).key
            except jwt.PyJWTError:
                continue  # a key type or algorithm we do not use
        return keys

    def _replace(self, keys: dict[str, Any]) -> None:
        if _public_numbers(keys) != _public_numbers(self._keys):
            self.generation += 1
        self._keys = keys


def _public_numbers(keys: dict[str, Any]) -> dict[str, Any]:
    """Comparable values of a key set (key objects do not compare by value)."""
    return {
        kid: key.public_numbers() if hasattr(key, "public_numbers") else repr(key)
        for kid, key in keys.items()
    }
