"""Reading back everything a referral's messages produced, for comparing final states."""

from typing import Any

import httpx
from fastapi import FastAPI

from tests.referral.conftest import READ
from tests.support.messages import LIFECYCLE_TYPES, lifecycle_served, without_server_ids
from tests.support.rows import fetch_rows


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
        state["referrals"].append(without_server_ids(served, ids))
    for table, order in (
        ("referral_lifecycle", "status"),
        ("referral_person", "nhs_number"),
        ("support_offered", "position"),
        ("contact", "contact_at"),
        ("assessment", "assessed_at"),
        ("referral_link", "link_type"),
    ):
        rows = await fetch_rows(app, f"SELECT * FROM {table} ORDER BY {order}")  # noqa: S608
        state[table] = without_server_ids(
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
