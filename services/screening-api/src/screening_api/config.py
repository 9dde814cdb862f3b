"""screening-api settings: environment variables prefixed `SCREENING_`."""

import re
from typing import Annotated, Any

from pydantic import SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from signpost_platform.settings import ServiceSettings, key_value_pairs
from signpost_schemas.disclosure import DEV_DISCLOSURE_KEY
from signpost_schemas.fhir.service_request import ODS_CODE_PATTERN


class ScreeningSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SCREENING_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./var/screening.db"

    # referral-api, where positive screens are handed off.
    referral_api_url: str = "http://127.0.0.1:8001"
    # Every call to referral-api gives up after this long (connect, read and write each).
    referral_api_timeout_seconds: float = 5.0
    # How screening-api authenticates to referral-api outside development mode: either a fixed
    # bearer token, or OAuth2 client credentials exchanged at `referral_token_url`.
    referral_api_token: SecretStr | None = None
    referral_token_url: str | None = None
    referral_client_id: str | None = None
    referral_client_secret: SecretStr | None = None
    referral_token_scope: str = "referral:write referral:read referral:all-organisations"  # noqa: S105

    # Where each clinic's positive screens are referred: clinic ODS code -> the ODS code of its
    # social-prescribing team, which becomes the referral's performer (the receiving
    # organisation, whose queue referral-api shows it). "R1H12=F84001,RQX01=F84002" or a JSON
    # object. A clinic without a route is referred with no receiving organisation.
    referral_routes: Annotated[dict[str, str], NoDecode] = {}

    # The outbox worker; its schedule is read by these names
    # (`signpost_platform.outbox.worker.Schedule.from_settings`).
    handoff_worker_enabled: bool = True
    handoff_poll_seconds: float = 2.0
    handoff_batch_size: int = 20
    # After a submission wakes the worker, it waits this long so close arrivals share a batch.
    handoff_linger_seconds: float = 0.05
    handoff_backoff_base_seconds: float = 2.0
    handoff_backoff_max_seconds: float = 300.0
    # A claimed row is left alone by other replicas for this long (longer than any one call).
    handoff_lease_seconds: float = 60.0
    # How often the status of a delivered referral is read back from referral-api.
    referral_status_refresh_seconds: float = 900.0

    # The secret that gives each screening response and invitation its record key for report
    # disclosure control (the cell key method), and the perturbation table (a CSV path; empty:
    # the shipped table). Both are described in docs/reports.md, rotation in docs/deploy.md.
    disclosure_key: SecretStr = SecretStr(DEV_DISCLOSURE_KEY)
    disclosure_ptable: str = ""

    @model_validator(mode="after")
    def _no_development_disclosure_key_in_production(self) -> "ScreeningSettings":
        self.require_secret("disclosure_key", DEV_DISCLOSURE_KEY)
        return self

    @field_validator("referral_routes", mode="before")
    @classmethod
    def _parse_routes(cls, value: Any) -> Any:
        """`CLINIC=TEAM,CLINIC=TEAM` or a JSON object; ODS codes are upper-cased."""
        value = key_value_pairs(value, "CLINIC=TEAM")
        if not isinstance(value, dict):
            return value
        routes = {}
        for clinic, team in value.items():
            clinic_code, team_code = str(clinic).strip().upper(), str(team).strip().upper()
            for code in (clinic_code, team_code):
                if not re.match(ODS_CODE_PATTERN, code):
                    raise ValueError(f"{code!r} is not an ODS code (3 to 10 letters and digits)")
            routes[clinic_code] = team_code
        return routes
