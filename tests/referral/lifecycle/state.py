"""Reading back everything a referral's messages produced, for comparing final states."""

from typing import Any

import httpx
from fastapi import FastAPI

from tests.referral.conftest import READ
from tests.support.messages import LIFECYCLE_TYPES, lifecycle_served
from tests.support.rows import fetch_rows

_VOLATILE = {"id", "meta"}


def _strip(document: Any, referral_ids: dict[str, str]) -> Any:
    """Drop server ids and meta; name referrals by their position, not their random id."""
    if isinstance(document, dict):
        return {k: _strip(v, referral_ids) for k, v in document.items() if k not in _VOLATILE}
    if isinstance(document, list):
        return [_strip(v, referral_ids) for v in document]
    if isinstance(document, str):
        for referral_id, name in referral_ids.items():
            document = document.replace(referral_id, name)
    return document


async def snapshot(client: httpx.AsyncClient, app: FastAPI) -> dict[str, Any]:
    """Every referral, its Tasks, contacts and assessments as served, and its report rows."""
    referrals = (
        (
            await client.get(
                "/fhir/ServiceRequest", params={"_sort": "authored", "_count": 100}, headers=READ
            )
        )
        .json()
        .get("entry", [])
    )
    ids = {e["resource"]["id"]: f"referral-{i}" for i, e in enumerate(referrals)}
    state: dict[str, Any] = {"referrals": []}
    for entry in referrals:
        referral_id = entry["resource"]["id"]
        served = {"ServiceRequest": entry["resource"]}
        for resource_type in LIFECYCLE_TYPES:
            served[resource_type] = await lifecycle_served(
                client, resource_type, referral_id, headers=READ
            )
        state["referrals"].append(_strip(served, ids))
    for table, order in (
        ("referral_lifecycle", "status"),
        ("referral_person", "nhs_number"),
        ("support_offered", "position"),
        ("contact", "contact_at"),
        ("assessment", "assessed_at"),
        ("referral_link", "link_type"),
    ):
        rows = await fetch_rows(app, f"SELECT * FROM {table} ORDER BY {order}")  # noqa: S608
        state[table] = _strip(
            [
                {
                    k: v
                    for k, v in row.items()
                    if k not in ("id", "task_id", "version", "last_updated_at", "resource")
                }
                for row in rows
            ],
            ids,
        )
    return state
