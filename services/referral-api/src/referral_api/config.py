"""referral-api settings: environment variables prefixed `REFERRAL_`."""

from pydantic_settings import SettingsConfigDict

from signpost_platform.settings import ServiceSettings


class ReferralSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REFERRAL_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./var/referral.db"

    # Two referrals of one person are linked when the later falls within this many days of the
    # earlier (concurrent, other role) or of the earlier one's end (re-referral, same role).
    linkage_window_days: int = 90
