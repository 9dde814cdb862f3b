"""referral-api settings: environment variables prefixed `REFERRAL_`."""

from pydantic_settings import SettingsConfigDict

from signpost_platform.settings import ServiceSettings


class ReferralSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REFERRAL_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./var/referral.db"
