"""screening-api settings: environment variables prefixed `SCREENING_`."""

from pydantic_settings import SettingsConfigDict

from signpost_platform.settings import ServiceSettings


class ScreeningSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SCREENING_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./var/screening.db"
