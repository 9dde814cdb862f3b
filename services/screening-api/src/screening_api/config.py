"""screening-api settings: environment variables prefixed `SCREENING_`."""

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from signpost_platform.settings import ServiceSettings


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

    # The outbox worker.
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
