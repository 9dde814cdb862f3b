"""referral-api settings: environment variables prefixed `REFERRAL_`."""

import re
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from signpost_platform.settings import ServiceSettings, key_value_pairs, planner_settings
from signpost_schemas.disclosure import DEV_DISCLOSURE_KEY
from signpost_schemas.fhir.service_request import ODS_CODE_PATTERN

# Keys person pseudonyms in development and tests only; production refuses it.
DEV_PSEUDONYM_KEY = "signpost-development-only-pseudonym-key-never-use-in-production"


class ReferralSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REFERRAL_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./var/referral.db"

    # Two referrals of one person are linked when the later falls within this many days of the
    # earlier (concurrent, other role) or of the earlier one's end (re-referral, same role).
    linkage_window_days: int = 90

    # An `update` for a referral not received yet is held, then expired (not applied) once it
    # has been held this many days (`python -m referral_api.messages.expire`, run daily).
    # Integrations reorder within seconds to hours and a sender's outage or backlog is cleared
    # within days; a month covers that with room to spare, while an update whose referral has
    # not come in a month points at a sender's error to correct, not a delay to wait out. It is
    # also the longest Signpost keeps anything about a person it has no referral for.
    held_message_retention_days: int = Field(default=30, ge=1)

    # Bulk export ($export, docs/referral-api.md): the background worker (off leaves the jobs to
    # another replica), how often it looks for jobs when not woken, how many resources each
    # part of a file holds (one transaction each; memory holds one part), after how long
    # without a part written a running job has stopped and is taken over, and how long a
    # finished job's files are kept (then the worker deletes the job).
    export_worker_enabled: bool = True
    export_poll_seconds: float = Field(default=5.0, gt=0)
    export_batch_size: int = Field(default=1000, ge=1, le=50_000)
    export_stale_seconds: int = Field(default=300, ge=1)
    export_retention_hours: int = Field(default=72, ge=1)

    # The secret that keys the pseudonyms reports count people by (HMAC-SHA256 of the NHS
    # number). Rotating it is described in docs/reports.md.
    pseudonym_key: SecretStr = SecretStr(DEV_PSEUDONYM_KEY)

    # The secret that gives each referral and person its record key for disclosure control
    # (the cell key method), and the perturbation table (a CSV path; empty: the shipped
    # table). Both are described, with their rotation, in docs/reports.md.
    disclosure_key: SecretStr = SecretStr(DEV_DISCLOSURE_KEY)
    disclosure_ptable: str = ""

    # Messages back to the GP and referrer (docs/referral-api.md): where each referring
    # organisation receives them, by the requester's ODS code: "F84001=https://...,Y02001=..."
    # or a JSON object; and/or a CSV file (columns `ods_code`, `endpoint`) read at startup.
    # A referrer with no endpoint has its messages kept as undeliverable (listed, retried).
    gp_message_endpoints: Annotated[dict[str, str], NoDecode] = {}
    gp_message_endpoints_file: str = ""
    # The outbox worker that delivers them; its schedule is read by these names
    # (`signpost_platform.outbox.worker.Schedule.from_settings`).
    gp_message_worker_enabled: bool = True
    gp_message_poll_seconds: float = 5.0
    gp_message_batch_size: int = 20
    gp_message_timeout_seconds: float = 5.0
    gp_message_backoff_base_seconds: float = 5.0
    gp_message_backoff_max_seconds: float = 3600.0
    # A claimed message is left alone by other replicas for this long (longer than any call).
    gp_message_lease_seconds: float = 60.0
    # A delivered message's Bundle (it names the person) is cleared this many days after it was
    # sent; the row stays, so the same event is still never sent again.
    gp_message_sent_retention_days: int = Field(default=30, ge=1)

    @field_validator("gp_message_endpoints", mode="before")
    @classmethod
    def _parse_endpoints(cls, value: Any) -> Any:
        """`ODS=URL,ODS=URL` or a JSON object; ODS codes are upper-cased, URLs http(s)."""
        value = key_value_pairs(value, "ODS=URL")
        if not isinstance(value, dict):
            return value
        return {ods: url for ods, url in (endpoint_entry(k, v) for k, v in value.items())}

    # The report facts refresh worker (`reports.refresher`): a report request only reads the
    # facts, so the worker brings them up to date, `report_refresh_linger_seconds` after the
    # service commits a write (writes arriving together share one refresh) and at least every
    # `report_refresh_poll_seconds` (writes by imports and other processes). Several replicas
    # may each run one: refreshes take turns.
    report_refresh_worker_enabled: bool = True
    report_refresh_poll_seconds: float = Field(default=10.0, gt=0)
    report_refresh_linger_seconds: float = Field(default=0.5, ge=0)

    # PostgreSQL planner settings for a report's read-only transaction alone
    # (`signpost_platform.db.snapshot_session`), as `NAME=VALUE,...` or a JSON object. A report
    # is a few scans and sorts of the whole fact tables: with room to sort in memory and
    # parallel workers that the planner is told cost nothing to start or to feed, `referrals`
    # and `service-use` at 1,000,000 referrals answered 7-30% sooner, `workers` 5-12% slower
    # (docs/deploy.md). Other transactions keep the server's settings.
    report_planner_settings: Annotated[dict[str, str], NoDecode] = {
        "work_mem": "32MB",
        "parallel_setup_cost": "0",
        "parallel_tuple_cost": "0",
    }

    @field_validator("report_planner_settings", mode="before")
    @classmethod
    def _parse_planner_settings(cls, value: Any) -> Any:
        return planner_settings(value)

    @model_validator(mode="after")
    def _no_development_keys_in_production(self) -> "ReferralSettings":
        self.require_secret("pseudonym_key", DEV_PSEUDONYM_KEY)
        self.require_secret("disclosure_key", DEV_DISCLOSURE_KEY)
        return self


def endpoint_entry(ods_code: object, url: object) -> tuple[str, str]:
    """An (ODS code, endpoint URL) pair, checked: an ODS code and an http(s) URL."""
    code, address = str(ods_code).strip().upper(), str(url).strip()
    if not re.match(ODS_CODE_PATTERN, code):
        raise ValueError(f"{code!r} is not an ODS code (3 to 10 letters and digits)")
    if not re.match(r"^https?://[^\s]+$", address):
        raise ValueError(f"the endpoint of {code} is not an http(s) URL")
    return code, address
